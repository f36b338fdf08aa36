import Foundation
import CKernels
import TensorCore

/// How present features take their values.
public enum FeatureValues: Codable, Equatable, Sendable {
    /// Uniform on [low, high): the Toy Models default is [0, 1); the absolute-value model uses [−1, 1).
    case uniform(low: Float, high: Float)
    /// Always the same value (e.g. binary features, value 1).
    case constant(Float)
    /// One of a few values, each equally likely (e.g. 1, 2 or 3).
    case discrete([Float])

    public static let unitInterval = FeatureValues.uniform(low: 0, high: 1)

    /// A one-line error when the law cannot be sampled, nil when it is valid.
    public var problem: String? {
        switch self {
        case let .uniform(low, high):
            return low.isFinite && high.isFinite && low <= high ? nil : "feature values: uniform needs finite low <= high, got [\(low), \(high))"
        case let .constant(value):
            return value.isFinite ? nil : "feature values: constant must be finite"
        case let .discrete(values):
            return !values.isEmpty && values.allSatisfy(\.isFinite) ? nil : "feature values: discrete needs at least one finite value"
        }
    }
}

/// How the presence of features depends on each other (Toy Models, "Correlated and anticorrelated features").
public enum FeatureCorrelation: String, Codable, CaseIterable, Sendable {
    /// Each feature present independently.
    case independent
    /// Features 2k and 2k + 1 are present together or not at all, each pair with the first feature's probability.
    case correlatedPairs
    /// Features 2k and 2k + 1 are never present together; each is present with its own probability p
    /// (the pair is active with probability 2p, then one of the two at random).
    case anticorrelatedPairs
    /// Two sets, features [0, n/2) and [n/2, n), never present together: each sample picks one set at
    /// random, then round(p · n) distinct features of it (A Toy Model of Interference Weights, Appendix 3).
    case exclusiveSets
}

/// The synthetic data of the Toy Models: each feature is present with its own probability, and
/// takes a value from `values` when present.
///
/// `probabilities: [instance, n]` — one row per model instance, so a sweep over sparsity trains
/// every density at once.
public struct FeatureDistribution: Equatable, Sendable {
    public var probabilities: Tensor
    public var values: FeatureValues
    public var correlation: FeatureCorrelation = .independent

    public var instanceCount: Int { probabilities.shape[0] }
    public var featureCount: Int { probabilities.shape[1] }

    /// - Parameter probabilities: `[instance, n]`, each in [0, 1].
    public init(probabilities: Tensor, values: FeatureValues = .unitInterval, correlation: FeatureCorrelation = .independent) {
        precondition(probabilities.rank == 2, "probabilities must be [instance, n], got \(probabilities.shape)")
        self.probabilities = probabilities
        self.values = values
        self.correlation = correlation
    }

    /// One probability per instance, shared by all `featureCount` features of that instance.
    public init(instanceProbabilities: [Float], featureCount: Int, values: FeatureValues = .unitInterval,
                correlation: FeatureCorrelation = .independent) {
        let rows = instanceProbabilities.flatMap { Array(repeating: $0, count: featureCount) }
        self.init(probabilities: Tensor(shape: [instanceProbabilities.count, featureCount], scalars: rows),
                  values: values, correlation: correlation)
    }

    /// A one-line error when this distribution cannot be sampled, nil when it can.
    public var problem: String? {
        if let problem = values.problem { return problem }
        guard correlation != .independent else { return nil }
        if correlation == .exclusiveSets, featureCount % 2 == 0, let problem = exclusiveSetProblem { return problem }
        if featureCount % 2 != 0 { return "\(correlation.rawValue) needs an even number of features, got \(featureCount)" }
        if case .discrete = values { return "\(correlation.rawValue) supports uniform or constant feature values, not discrete" }
        return nil
    }

    /// Draws a batch for every instance: `x: [instance, batch, n]`. Instance i draws from its own
    /// lanes (`lanes[i]`), so results do not depend on how instances are scheduled.
    public func sample(batchSize: Int, lanes: inout [RandomLanes]) -> Tensor {
        precondition(lanes.count == instanceCount, "need one set of lanes per instance")
        var x = Tensor(zeros: [instanceCount, batchSize, featureCount])
        x.scalars.withUnsafeMutableBufferPointer { buffer in
            for instance in 0..<instanceCount {
                sample(instance: instance, batchSize: batchSize, lanes: &lanes[instance],
                       into: buffer.baseAddress! + instance * batchSize * featureCount)
            }
        }
        return x
    }

    /// Fills `x: [batch, n]` with one instance's batch.
    ///
    /// Absent features are decided too, but cheaply: eight vectorised streams give 64 presence tests
    /// per step (8-bit, with the rare ties decided by 24 more bits, so exactly p at 32-bit resolution),
    /// and only present features draw a value (see `ck_sample_features`),
    /// which is cheaper than skipping ahead with a logarithm per present feature unless p is below
    /// a few percent, and leaves a dense batch the step multiplies with packed kernels.
    public func sample(instance: Int, batchSize: Int, lanes: inout RandomLanes, into x: UnsafeMutablePointer<Float>) {
        let n = featureCount
        // Present iff 32 random bits < p · 2^32; p = 1 gives 2^32, always present.
        let thresholds = (0..<n).map { i in
            UInt64((Double(max(0, min(1, probabilities.scalars[instance * n + i]))) * 4_294_967_296).rounded())
        }
        let (low, scale, table): (Float, Float, [Float]) = switch values {
        case let .uniform(low, high): (low, high - low, [])
        case let .constant(value): (value, 0, [])
        case let .discrete(list): (0, 0, list)
        }
        if correlation == .exclusiveSets {
            sampleExclusiveSets(instance: instance, batchSize: batchSize, lanes: &lanes, low: low, scale: scale, into: x)
            return
        }
        if correlation != .independent {
            samplePairs(thresholds: thresholds, batchSize: batchSize, lanes: &lanes, low: low, scale: scale, into: x)
            return
        }
        lanes.withState { state in
            thresholds.withUnsafeBufferPointer { thresholds in
                table.withUnsafeBufferPointer { table in
                    ck_sample_features(state, batchSize, n, thresholds.baseAddress!, low, scale,
                                       table.baseAddress, table.count, x)
                }
            }
        }
    }

    /// Pairs (2k, 2k + 1) drawn together: pair k uses feature 2k's probability, doubled when the
    /// pair is anticorrelated so that each feature keeps probability p.
    func samplePairs(thresholds: [UInt64], batchSize: Int, lanes: inout RandomLanes, low: Float, scale: Float,
                     into x: UnsafeMutablePointer<Float>) {
        precondition(problem == nil, problem ?? "")
        let anticorrelated = correlation == .anticorrelatedPairs
        let pairThresholds = stride(from: 0, to: featureCount, by: 2).map { i in
            anticorrelated ? min(2 * thresholds[i], 1 << 32) : thresholds[i]
        }
        lanes.withState { state in
            ck_sample_feature_pairs(state, batchSize, featureCount / 2, pairThresholds,
                                    anticorrelated ? 1 : 0, low, scale, x)
        }
    }
}
