import Foundation
import TensorCore

/// How important each feature is in the loss.
public enum ImportanceLaw: Codable, Equatable, Sendable {
    /// Every feature weighs 1.
    case uniform
    /// I_i = ratio^i, i = 0 ..< n (the notebook's 0.9^i; T3's 100^(−i/99) has ratio 100^(−1/99)).
    case geometric(ratio: Double)
    /// One importance per feature.
    case explicit([Float])

    /// `[n]` importances, or a one-line problem.
    public func resolve(featureCount n: Int) throws -> [Float] {
        switch self {
        case .uniform: return Array(repeating: 1, count: n)
        case let .geometric(ratio):
            guard ratio > 0, ratio.isFinite else { throw ExperimentError("importance ratio must be a positive number, got \(ratio)") }
            let values = (0..<n).map { Float(pow(ratio, Double($0))) }
            guard values.allSatisfy({ $0.isFinite }) else {
                throw ExperimentError("importance ratio \(ratio) overflows: \(ratio)^\(n - 1) is not a finite Float")
            }
            return values
        case let .explicit(values):
            guard values.count == n else { throw ExperimentError("importance lists \(values.count) values for \(n) features") }
            guard values.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw ExperimentError("importances must be finite and >= 0") }
            return values
        }
    }
}

/// The probability that a feature is present, one value per instance (sparsity S = 1 − p).
public enum FeatureProbabilityLaw: Codable, Equatable, Sendable {
    /// Every instance uses p.
    case constant(Double)
    /// p from `densest` down to `sparsest`, evenly spaced in log: the notebook's 20^(−linspace(0, 1, instances))
    /// is densest 1, sparsest 0.05.
    case logSpaced(densest: Double, sparsest: Double)
    /// One probability per instance.
    case explicit([Double])

    /// `[instance]` probabilities, or a one-line problem.
    public func resolve(instanceCount count: Int) throws -> [Float] {
        let values: [Double]
        switch self {
        case let .constant(p): values = Array(repeating: p, count: count)
        case let .logSpaced(densest, sparsest):
            guard densest > 0, sparsest > 0 else { throw ExperimentError("log-spaced feature probabilities must be > 0, got \(densest) and \(sparsest)") }
            values = (0..<count).map { k in
                count == 1 ? densest : densest * pow(sparsest / densest, Double(k) / Double(count - 1))
            }
        case let .explicit(list):
            guard list.count == count else { throw ExperimentError("feature probabilities list \(list.count) values for \(count) instances") }
            values = list
        }
        guard values.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw ExperimentError("feature probabilities must be in [0, 1], got \(values.first { !($0 >= 0 && $0 <= 1) }!)")
        }
        return values.map(Float.init)
    }
}

/// A user-facing experiment error: one line saying what was wrong and what is accepted.
public struct ExperimentError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
