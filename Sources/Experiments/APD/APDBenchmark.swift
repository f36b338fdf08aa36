import Decomposition
import Foundation
import TensorCore
import ToyModels

/// Timings of APD at the reference settings, for `superpose bench`. TMS targets are trained as
/// their presets train them; residual MLPs are decomposed from their initial weights (the cost of
/// their step does not depend on them). A run's total time is its one-time setup plus the full
/// number of steps at the rate measured between a short and a long run.
public enum APDBenchmark {
    public struct Measurement: Sendable {
        /// Steps of the longer of the two timed runs, and its wall and CPU seconds.
        public var steps: Int
        public var seconds: Double
        public var cpuSeconds: Double
        /// Wall seconds per step, from the difference of the two runs (setup cancels out).
        public var secondsPerStep: Double
        /// What a run pays once, whatever its length: initial parameters, scratch, the first touch of memory.
        public var setupSeconds: Double
        /// Seconds for the reference's full number of steps: the setup once, then every step at the measured rate.
        public var projectedSeconds: Double
    }

    /// TMS 5-2: 12 instances, batch 2048, C = 5, rank 3; the reference runs 20,000 steps.
    public static func tms52(minimumSeconds: Double) throws -> Measurement {
        try tms(.tms52, minimumSeconds: minimumSeconds)
    }

    /// TMS 40-10 as its preset: 3 instances, batch 2048, C = 50, rank 11, 20,000 steps.
    public static func tms4010(minimumSeconds: Double) throws -> Measurement {
        try tms(.tms4010, minimumSeconds: minimumSeconds)
    }

    /// The preset's target is trained first (not timed): the TMS step skips inactive outputs, so its
    /// cost depends on the target's weights.
    static func tms(_ preset: APDPreset, minimumSeconds: Double) throws -> Measurement {
        var config = preset.config
        let spec = config.target!
        let model = try APDExperiment.target(config).model
        let target = TiedToyModelTarget(model: model, distribution: FeatureDistribution(
            instanceProbabilities: Array(repeating: spec.featureProbability, count: spec.instances), featureCount: spec.features))
        return try measure(fullSteps: config.decomposition.steps, minimumSeconds: minimumSeconds) { steps in
            config.decomposition.steps = steps
            _ = try APDTrainer.decompose(target, settings: config.decomposition)
        }
    }

    /// The residual MLP (one or two layers) at the reference's APD settings; 10,000 steps of batch 256.
    public static func residualMLP(layers: Int, minimumSeconds: Double) throws -> Measurement {
        var config = (layers == 1 ? APDPreset.residualMLP1 : APDPreset.residualMLP2).config
        let spec = config.residualMLP!
        var generator = RandomGenerator(seed: 0)
        let model = ResidualMLP(spec.configuration, generator: &generator)
        let target = ResidualMLPTarget(model: model, distribution: spec.task.distribution)
        return try measure(fullSteps: config.decomposition.steps, minimumSeconds: minimumSeconds) { steps in
            config.decomposition.steps = steps
            _ = try APDTrainer.decompose(target, settings: config.decomposition)
        }
    }

    /// Times `body(steps)` for a few steps and again for enough steps to fill `minimumSeconds`; the
    /// difference gives the rate per step without the one-time setup, which a full run pays only once.
    static func measure(fullSteps: Int, minimumSeconds: Double, _ body: (Int) throws -> Void) throws -> Measurement {
        let short = 2
        let (shortWall, _) = try timed { try body(short) }
        var long = 2 * short
        var (wall, cpu) = try timed { try body(long) }
        while wall < minimumSeconds && long < fullSteps {
            long = min(fullSteps, Int(Double(long) * min(max(minimumSeconds / max(wall, 1e-6), 2), 100)))
            (wall, cpu) = try timed { try body(long) }
        }
        let perStep = max(wall - shortWall, 0) / Double(long - short)
        let setup = max(shortWall - Double(short) * perStep, 0)
        return Measurement(steps: long, seconds: wall, cpuSeconds: cpu, secondsPerStep: perStep, setupSeconds: setup,
                           projectedSeconds: setup + perStep * Double(fullSteps))
    }

    static func timed(_ body: () throws -> Void) rethrows -> (Double, Double) {
        let cpuStart = clock(), start = Date()
        try body()
        return (Date().timeIntervalSince(start), Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC))
    }
}
