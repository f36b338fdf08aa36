import Foundation

/// The Toy Models of Superposition experiments of EXPERIMENTS.md, at the reference notebook's settings.
public enum TMSPreset: String, CaseIterable, Codable, Sendable {
    /// n = 5, m = 2, 10 instances, I_i = 0.9^i, p from 1 to 0.05: the intro figure.
    case t1 = "T1"
    /// n = 20, m = 5, same schedule: WᵀW and ‖W_i‖ coloured by superposition.
    case t2 = "T2"
    /// n = 100, m = 20, 20 instances, I_i = 100^(−i/99), p = 20^(−linspace(0, 1, 20)).
    case t3 = "T3"
    /// n = 200, m = 20, importance 1, 20 instances: feature geometry and dimensionality.
    case t4 = "T4"
    /// n = 4, m = 2 as two correlated pairs (each pair present together): features of a pair
    /// should avoid interfering, i.e. sit orthogonally rather than antipodally.
    case t6Correlated = "T6-correlated"
    /// n = 4, m = 2 as two anticorrelated pairs (never present together): a pair should share a
    /// dimension antipodally, since its features never interfere.
    case t6Anticorrelated = "T6-anticorrelated"

    public var config: TMSConfig {
        var config: TMSConfig
        switch self {
        case .t1:
            config = TMSConfig(name: rawValue, features: 5, hidden: 2, instances: 10)
            config.importance = .geometric(ratio: 0.9)
        case .t2:
            config = TMSConfig(name: rawValue, features: 20, hidden: 5, instances: 10)
            config.importance = .geometric(ratio: 0.9)
        case .t3:
            config = TMSConfig(name: rawValue, features: 100, hidden: 20, instances: 20)
            config.importance = .geometric(ratio: pow(100, -1.0 / 99))
        case .t4:
            config = TMSConfig(name: rawValue, features: 200, hidden: 20, instances: 20)
            config.importance = .uniform
            config.notes.append("Feature probabilities for T4 are not stated in EXPERIMENTS.md; chosen as the notebook's other sweeps, 20^(−linspace(0, 1, 20)), i.e. 1/(1−S) from 1 to 20.")
        case .t6Correlated, .t6Anticorrelated:
            config = TMSConfig(name: rawValue, features: 4, hidden: 2, instances: 10)
            config.importance = .uniform
            config.correlation = self == .t6Correlated ? .correlatedPairs : .anticorrelatedPairs
            config.notes.append("T6 sizes are not stated in EXPERIMENTS.md; chosen n = 4 features as two pairs in m = 2 dimensions, importance 1, p from 1 to 0.05 as in T1, so each pair's geometry can be read off the arrow plot.")
        }
        config.featureProbability = .logSpaced(densest: 1, sparsest: 0.05)
        config.training.seed = 0
        return config
    }

    /// The preset named `name` (case-insensitive), or a one-line error listing the presets.
    public static func named(_ name: String) throws -> TMSPreset {
        guard let preset = allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            throw ExperimentError("unknown preset '\(name)'; choose one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return preset
    }
}
