/// A learning-rate schedule: the multiplier of the base rate at each step, with optional linear warmup.
///
/// The decay shapes follow the reference code of the papers: linear `1 − t/T`, cosine
/// `cos(π/2 · t/(T−1))` (a quarter period, reaching 0 at the last step), constant 1.
/// With warmup, the first `warmupFraction · steps` steps ramp linearly from 0, and the decay
/// runs over the remaining steps.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Shape: String, Codable, CaseIterable, Sendable {
        case constant, linear, cosine
    }

    public var shape: Shape
    /// The fraction of all steps spent warming up, in [0, 1).
    public var warmupFraction: Double

    public init(_ shape: Shape = .constant, warmupFraction: Double = 0) {
        self.shape = shape
        self.warmupFraction = warmupFraction
    }

    public static let constant = LearningRateSchedule(.constant)

    /// The multiplier of the base learning rate at `step` (0-based) of `steps`.
    public func multiplier(step: Int, of steps: Int) -> Double {
        // Rounded down, but with a little slack so that e.g. 0.29 · 100 = 28.999999999999996 gives 29.
        let warmupSteps = Int((Double(steps) * warmupFraction * (1 + 1e-12)).rounded(.down))
        if step < warmupSteps { return Double(step) / Double(warmupSteps) }
        let t = Double(step - warmupSteps)
        let total = Double(steps - warmupSteps)
        switch shape {
        case .constant: return 1
        case .linear: return 1 - t / total
        case .cosine: return total <= 1 ? 1 : cos(0.5 * Double.pi * t / (total - 1))
        }
    }
}

import Foundation
