import Foundation
import TensorCore

/// How Attribution-based Parameter Decomposition runs: the components, the losses and their
/// coefficients, and the optimiser. Defaults are the reference's TMS 5-2 settings; every key of
/// the JSON form is optional.
///
/// The loss per instance is
///
///     parameterMatch · ‖W − Σ_c A_c B_c‖² / n_params
///   + topKReconstruction · mean_b,o (out_topk − out_target)²
///   + activationReconstruction · mean_b Σ_l ‖post-ReLU_topk − post-ReLU_target‖² / Σ_l d_l   (MLPs)
///   + schatten · Σ_l Σ_b Σ_c Σ_k (mask[b,c] S_A[c,k] S_B[c,k] + 1e-16)^(p/2) / (n_params · batch)
///
/// with S_A[c,k] = Σ_i A[c,i,k]², S_B[c,k] = Σ_j B[c,k,j]² (`SchattenPenalty`), and mask the batch
/// top-k of the attributions (`BatchTopK`).
public struct APDSettings: Codable, Equatable, Sendable {
    /// Which minimality loss selects the active components.
    public enum Minimality: String, Codable, CaseIterable, Sendable {
        /// The paper's main method: the top-k most attributed components over the batch run a sparse forward pass.
        case batchTopK
        /// Appendix A.2.3: an L_p penalty on the attributions themselves; the Schatten mask is the penalty per component.
        case lpAttributions
    }

    /// Whose gradients the attributions use.
    public enum AttributionSource: String, Codable, CaseIterable, Sendable {
        /// The target model's (the paper's default).
        case target
        /// The summed components' (the paper's adjustment for TMS 5-2's two-dimensional hidden space).
        case decomposition
    }

    /// C: components, shared by every decomposed weight matrix.
    public var components: Int = 5
    /// Inner rank of each component in each layer (A_c: [d_in, rank], B_c: [rank, d_out]).
    public var rank: Int = 3
    public var minimality: Minimality = .batchTopK
    /// Batch top-k: this fraction of the batch size is the number of (sample, component) pairs kept.
    public var topK: Double = 0.211
    public var attributionSource: AttributionSource = .target
    public var parameterMatchCoefficient: Double = 1
    public var topKReconstructionCoefficient: Double = 1
    /// Post-ReLU activations of the sparse forward pass against the target's (residual MLPs); 0 turns it off.
    public var activationReconstructionCoefficient: Double = 0
    public var schattenCoefficient: Double = 0.7
    public var schattenP: Double = 1
    /// The L_p attribution penalty of `lpAttributions` (its coefficient and p).
    public var lpSparsityCoefficient: Double = 1
    public var lpSparsityP: Double = 1
    /// Normalise each A_c column to unit norm over d_in before every step, projecting the
    /// gradient's radial part out (the reference's `unit_norm_matrices`).
    public var unitNormA: Bool = false
    /// How A and B start (see `APDTrainer.initialParameters`), times `initialisationGain`.
    public var initialisation: Initialisation = .kaimingUniform
    public var initialisationGain: Double = 1
    public var steps: Int = 20_000
    public var batchSize: Int = 2048
    public var learningRate: Double = 3e-2
    /// AdamW's decoupled weight decay: each step, parameters shrink by lr · weightDecay. The
    /// reference runs AdamW with 0 (plain Adam).
    public var weightDecay: Double = 0
    public var schedule: LearningRateSchedule = .init(.constant, warmupFraction: 0.05)
    public var seed: UInt64 = 0
    /// Decompositions per instance, with seeds seed, seed + 1, …; each instance keeps the one with
    /// the lowest mean loss over the last tenth of its steps. 1 is the paper's single run.
    public var restarts: Int = 1
    /// Loss terms are recorded every this many steps (and at the last).
    public var historyInterval: Int = 100
    public var threads: Int = 0

    /// The initial distribution of A and B.
    public enum Initialisation: String, Codable, CaseIterable, Sendable {
        case kaimingUniform, xavierNormal
    }

    public init() {}

    /// The number of (sample, component) pairs batch top-k keeps: ⌊topK · batch⌋, as the reference.
    public var keptPairs: Int { Int((topK * Double(batchSize)).rounded(.down)) }

    /// A one-line description of the first invalid setting, nil when all are valid.
    public var problem: String? {
        if components < 1 { return "components (C) must be at least 1, got \(components)" }
        if components > 10_000 { return "components (C) must be at most 10000, got \(components)" }
        if rank < 1 || rank > 10_000 { return "component rank must be in 1...10000, got \(rank)" }
        if minimality == .batchTopK && !(topK > 0 && topK.isFinite) { return "topk must be positive, got \(topK)" }
        if minimality == .batchTopK && keptPairs < 1 { return "topk × batch must keep at least one (sample, component) pair; got topk \(topK) with batch \(batchSize)" }
        if minimality == .batchTopK && Double(keptPairs) > Double(components) * Double(batchSize) { return "topk \(topK) keeps more pairs than batch × C = \(batchSize * components)" }
        for (name, value) in [("parameter-match", parameterMatchCoefficient), ("top-k reconstruction", topKReconstructionCoefficient),
                              ("activation reconstruction", activationReconstructionCoefficient), ("Schatten", schattenCoefficient),
                              ("Lp sparsity", lpSparsityCoefficient)] where !(value >= 0 && value.isFinite) {
            return "the \(name) coefficient must be a non-negative number, got \(value)"
        }
        if !(schattenP > 0 && schattenP <= 2) { return "Schatten p must be in (0, 2], got \(schattenP)" }
        if !(lpSparsityP > 0 && lpSparsityP <= 2) { return "Lp sparsity p must be in (0, 2], got \(lpSparsityP)" }
        if !(initialisationGain > 0 && initialisationGain.isFinite) { return "initialisation gain must be positive, got \(initialisationGain)" }
        if steps < 1 || steps > 100_000_000 { return "steps must be in 1...100000000, got \(steps)" }
        if batchSize < 1 || batchSize > 1_000_000 { return "batch size must be in 1...1000000, got \(batchSize)" }
        if !(learningRate > 0 && learningRate.isFinite) { return "learning rate must be a positive number, got \(learningRate)" }
        if !(weightDecay >= 0 && weightDecay.isFinite) { return "weight decay must be a non-negative number, got \(weightDecay)" }
        if !(schedule.warmupFraction >= 0 && schedule.warmupFraction < 1) { return "warmup fraction must be in [0, 1), got \(schedule.warmupFraction)" }
        if historyInterval < 1 { return "history interval must be at least 1, got \(historyInterval)" }
        if restarts < 1 || restarts > 100 { return "restarts must be in 1...100, got \(restarts)" }
        if threads < 0 { return "threads must be >= 0, got \(threads)" }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case components, rank, minimality, topK, attributionSource, parameterMatchCoefficient, topKReconstructionCoefficient,
             activationReconstructionCoefficient, schattenCoefficient, schattenP, lpSparsityCoefficient, lpSparsityP,
             unitNormA, initialisation, initialisationGain, steps, batchSize, learningRate, weightDecay, schedule, seed, restarts,
             historyInterval, threads
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        components = try value(.components, components)
        rank = try value(.rank, rank)
        minimality = try value(.minimality, minimality)
        topK = try value(.topK, topK)
        attributionSource = try value(.attributionSource, attributionSource)
        parameterMatchCoefficient = try value(.parameterMatchCoefficient, parameterMatchCoefficient)
        topKReconstructionCoefficient = try value(.topKReconstructionCoefficient, topKReconstructionCoefficient)
        activationReconstructionCoefficient = try value(.activationReconstructionCoefficient, activationReconstructionCoefficient)
        schattenCoefficient = try value(.schattenCoefficient, schattenCoefficient)
        schattenP = try value(.schattenP, schattenP)
        lpSparsityCoefficient = try value(.lpSparsityCoefficient, lpSparsityCoefficient)
        lpSparsityP = try value(.lpSparsityP, lpSparsityP)
        unitNormA = try value(.unitNormA, unitNormA)
        initialisation = try value(.initialisation, initialisation)
        initialisationGain = try value(.initialisationGain, initialisationGain)
        steps = try value(.steps, steps)
        batchSize = try value(.batchSize, batchSize)
        learningRate = try value(.learningRate, learningRate)
        weightDecay = try value(.weightDecay, weightDecay)
        schedule = try value(.schedule, schedule)
        seed = try value(.seed, seed)
        restarts = try value(.restarts, restarts)
        historyInterval = try value(.historyInterval, historyInterval)
        threads = try value(.threads, threads)
    }
}

extension APDSettings {
    /// The reference's APD settings for the residual MLP of compressed computation (one layer:
    /// C = 130, rank 50; two layers: C = 200, rank 25): batch top-k 1.28, coefficients param-match 1,
    /// top-k reconstruction 1 (2 for two layers), activation reconstruction 1, Schatten 10 (7) with
    /// p = 0.9; Adam lr 1e-3, cosine after 1 % warmup; 10,000 steps of batch 256; unit-norm A for one
    /// layer; initialisation gain 2.
    public static func residualMLP(layers: Int) -> APDSettings {
        var settings = APDSettings()
        settings.components = layers == 1 ? 130 : 200
        settings.rank = layers == 1 ? 50 : 25
        settings.topK = 1.28
        settings.batchSize = 256
        settings.steps = 10_000
        settings.topKReconstructionCoefficient = layers == 1 ? 1 : 2
        settings.activationReconstructionCoefficient = 1
        settings.schattenCoefficient = layers == 1 ? 10 : 7
        settings.schattenP = 0.9
        settings.learningRate = 1e-3
        settings.schedule = LearningRateSchedule(.cosine, warmupFraction: 0.01)
        settings.unitNormA = layers == 1
        settings.initialisationGain = 2
        return settings
    }
}
