import Analysis
import Foundation
import TensorCore
import ToyModels

/// An experiment of A Toy Model of Interference Weights (seed 000) on the tied toy model: train it
/// with several seeds at one or more training lengths, lift it to U = WᵀW, compute the exact ΔL of
/// every virtual weight, the heuristic scores and their ranking curves, and compare seeds.
public struct InterferenceConfig: Codable, Equatable, Sendable {
    /// One training length, e.g. undertrained or converged.
    public struct Variant: Codable, Equatable, Sendable {
        public var name: String
        public var steps: Int
        /// Untied circuit models only: W_down frozen as a random unit-norm projection (nil: learned).
        public var frozenDown: Bool?
        public init(name: String, steps: Int, frozenDown: Bool? = nil) { self.name = name; self.steps = steps; self.frozenDown = frozenDown }
    }

    public var name: String
    public var features: Int
    public var hidden: Int
    public var featureProbability: Float
    public var importance: Float
    /// Importance decaying over the features, I_i = importance · ratio^i; nil: every feature weighs
    /// `importance`. With equal importance the features are exchangeable, so which feature a seed
    /// happens to favour is noise and the seeds' diagonal weights cannot correlate.
    public var importanceRatio: Double?
    /// One model per seed (initialisation and training data); the first two are compared.
    public var seeds: [UInt64]
    public var variants: [Variant]
    /// Batch, learning rate, weight decay, schedule (steps and seed come from `variants` and `seeds`).
    public var training: TrainingSettings
    /// Samples in the evaluation set on which ΔL and the heuristics are measured (shared by all models).
    public var evaluationSamples: Int
    public var evaluationSeed: UInt64
    /// Definition 2's ε: a weight is real iff ΔL > ε.
    public var epsilon: Double
    public var reduction: LiftedModel.Reduction
    /// Settings the note leaves unstated and the values chosen, shown in the report.
    public var notes: [String]
    /// The learned mask and integrated gradients (I4) beside the heuristics; nil skips them.
    public var learnedScores: LearnedScoreSettings?
    /// The untied block-circuit model (I2) in place of the tied toy model; nil: tied.
    public var circuit: CircuitSettings?
    /// A saved model file to analyse instead of training (see `SavedModels` for the tensor names);
    /// its sizes replace `features` and `hidden`, and its groups the variants.
    public var modelPath: String?

    public init(name: String, features: Int, hidden: Int, featureProbability: Float) {
        self.name = name
        self.features = features
        self.hidden = hidden
        self.featureProbability = featureProbability
        importance = 1
        seeds = [1, 2]
        variants = []
        training = TrainingSettings()
        evaluationSamples = 100_000
        evaluationSeed = 0
        epsilon = InterferenceAnalysis.defaultEpsilon
        reduction = .sumOverFeatures
        notes = []
    }

    public func validate() throws {
        if features < 2 || features > 2048 { throw ExperimentError("features must be in 2...2048, got \(features)") }
        if hidden < 1 || hidden > features { throw ExperimentError("hidden must be in 1...\(features), got \(hidden)") }
        if !(featureProbability > 0 && featureProbability <= 1) { throw ExperimentError("feature probability must be in (0, 1], got \(featureProbability)") }
        if !(importance > 0) || !importance.isFinite { throw ExperimentError("importance must be positive, got \(importance)") }
        if let importanceRatio { _ = try ImportanceLaw.geometric(ratio: importanceRatio).resolve(featureCount: features) }
        if seeds.count < 2 || Set(seeds).count != seeds.count { throw ExperimentError("need at least two distinct seeds, got \(seeds)") }
        if variants.isEmpty && modelPath == nil { throw ExperimentError("need at least one training variant") }
        for v in variants where v.steps < 1 || v.steps > 10_000_000 { throw ExperimentError("steps of '\(v.name)' must be in 1...10000000, got \(v.steps)") }
        if Set(variants.map(\.name)).count != variants.count { throw ExperimentError("variant names must be distinct") }
        if evaluationSamples < 1 || evaluationSamples > 10_000_000 { throw ExperimentError("evaluation samples must be in 1...10000000, got \(evaluationSamples)") }
        if !(epsilon >= 0) || !epsilon.isFinite { throw ExperimentError("epsilon must be a non-negative number, got \(epsilon)") }
        if let problem = learnedScores?.problem { throw ExperimentError(problem) }
        if let problem = circuit?.problem(features: features) { throw ExperimentError(problem) }
        if circuit == nil, variants.contains(where: { $0.frozenDown == true }) { throw ExperimentError("a frozen W_down needs the untied circuit model (circuit)") }
        var probe = training
        probe.steps = 1
        if let problem = probe.problem { throw ExperimentError(problem) }
    }

    func distribution() -> FeatureDistribution {
        FeatureDistribution(instanceProbabilities: [featureProbability], featureCount: features)
    }

    /// `[n]` importances (validated by `validate()`).
    func importanceVector() -> [Float] {
        let law = importanceRatio.map { ImportanceLaw.geometric(ratio: $0) } ?? .uniform
        return ((try? law.resolve(featureCount: features)) ?? []).map { importance * $0 }
    }

    func settings(variant: Variant, seed: UInt64) -> TrainingSettings {
        var s = training
        s.steps = variant.steps
        s.seed = seed
        s.historyInterval = max(1, variant.steps / 100)
        return s
    }
}

public enum InterferencePreset: String, CaseIterable, Sendable {
    /// The note's first toy model: n = 100, m = 20, density 0.02, undertrained and converged, two seeds.
    case i1 = "I1"
    /// The untied block circuit y = ReLU(A x + v): 128 features in 16 dimensions, W_down learned and frozen.
    case i2 = "I2"

    public static func named(_ name: String) throws -> InterferencePreset {
        guard let preset = allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            // The appendix presets are experiments of their own (UniformSuperposition, CorrelatedSets, WeightSharing).
            throw ExperimentError("unknown preset '\(name)'; choose \((allCases.map(\.rawValue) + ["I5", "I6", "I7"]).joined(separator: ", "))")
        }
        return preset
    }

    public var config: InterferenceConfig {
        switch self {
        case .i1:
            var c = InterferenceConfig(name: "I1", features: 100, hidden: 20, featureProbability: 0.02)
            c.variants = [.init(name: "undertrained", steps: 500), .init(name: "converged", steps: 10_000)]
            c.seeds = [1, 2]
            c.importanceRatio = 0.99
            c.learnedScores = LearnedScoreSettings()
            c.notes = [
                "Model and data as the note states: tied ReLU-output toy model, n = 100 features, m = 20 hidden dimensions, feature density 0.02, values U[0, 1].",
                "The note calls it a 'standard toy model' and does not state the importance. Chosen: I_i = 0.99^i (1 down to 0.37), the gentlest of the decays tried. With equal importance the features are exchangeable, so the seeds' diagonal weights agree in size (RMS difference 0.035 at a mean of 1.1) but their spread is seed-specific noise: Pearson r = −0.02 undertrained, −0.08 converged (seeds 1, 2). With 0.99^i the decay orders the features the same way in every seed: r = 0.92–0.94 undertrained and 0.92–0.95 converged over seed pairs (1, 2), (3, 4), (5, 6), (7, 8), with every diagonal weight real. Steeper decays drop features: 0.98^i leaves 94–96 diagonal weights real, 0.97^i 77–79. --importance-ratio 1 gives the equal-importance model.",
                "The note does not state how long 'undertrained' is. Chosen: 500 steps (batch 1024, AdamW lr 1e-3, weight decay 0.01, constant rate, as the Toy Models notebook), against 10,000 steps for the converged model. Measured (seed 1): evaluation loss 0.00140 at 250 steps, 0.00094 at 500, 0.00082 at 1,000, 0.00079 at 2,000 and 0.00074 at 10,000, so by 1,000 steps the model is within 11 % of converged; at 500 it is 27 % above, with mean U_ii ≈ 1.07 against 1.34 converged.",
                "The note does not state the evaluation set or ΔL's normalisation. Chosen: 100,000 fresh samples (one set shared by all models), and ΔL per sample summed over the n features, i.e. n × the training loss's units (mean over features). With the training loss's units every ΔL is 100 times smaller and a diagonal weight's ΔL (about p·E[x²]/n ≈ 7e-5) falls below ε = 1e-4.",
                "Seeds 1 and 2: a seed sets both the weight initialisation and the training data, as in the note.",
                LearnedScoreSettings.note,
            ]
            return c
        case .i2:
            return CircuitSettings.i2Config()
        }
    }
}
