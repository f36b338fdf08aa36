import Analysis
import Foundation
import TensorCore
import ToyModels

/// Everything an I5 run measured; every number a figure shows is here.
public struct UniformSuperpositionMetrics: Codable, Equatable, Sendable {
    public struct Instance: Codable, Equatable, Sendable {
        public var density: Float
        public var evaluationLoss: Float
        public var dimensionsPerFeature: Float?
        public var representedCount: Int
        public var geometry: FeatureGeometry.Counts
        public var geometrySummary: String
        public var pentagons: PentagonWeights
        /// Normalised weights U_ij / √(U_ii U_jj) over pairs i < j of represented features, and the
        /// kind of each pair ("same pentagon", "same antipodal pair", "same other group", "different groups").
        public var normalisedWeights: [Float]
        public var pairKinds: [String]
        /// Off-diagonal U_ij (i ≠ j, both orders) among represented features.
        public var interferenceWeights: [Float]
        public var largestInterferenceWeight: Float
        public var largestNormalisedInterference: Float
        /// Mean and smallest of −b_i over represented features: the largest U_ij a lone input x_j ≤ 1 can have
        /// without making output i fire.
        public var meanThreshold: Float
        public var smallestThreshold: Float
        /// Off-diagonal U_ij above −b_i.
        public var weightsAboveThreshold: Int
        /// The largest U_ij / (−b_i) over off-diagonal weights of rows with b_i < 0.
        public var largestThresholdRatio: Float
    }

    public var experiment: String
    public var features: Int
    public var hidden: Int
    public var instances: [Instance]
    public var trainingSeconds: Double

    /// The instances at `density`.
    public func instances(at density: Float) -> [Instance] { instances.filter { $0.density == density } }
}

/// Trains and measures I5 (see `UniformSuperpositionConfig`).
public enum UniformSuperpositionExperiment {
    public struct Outcome: Sendable {
        public var folder: RunFolder
        public var metrics: UniformSuperpositionMetrics
        public var report: URL
    }

    public static func pairKind(_ i: Int, _ j: Int, groupOf: [Int: FeatureGeometry.Group]) -> String {
        guard let a = groupOf[i], let b = groupOf[j], a.features == b.features else { return "different groups" }
        switch a.kind {
        case .pentagon: return "same pentagon"
        case .antipodalPair: return "same antipodal pair"
        default: return "same other group"
        }
    }

    /// Measures one instance of a trained tied model.
    public static func analyse(_ model: ToyModel, instance: Int, density: Float, evaluationLoss: Float) -> UniformSuperpositionMetrics.Instance {
        let n = model.featureCount
        let w = model.weights.slice(instance)
        let metrics = SuperpositionMetrics(weights: w)
        let geometry = FeatureGeometry(weights: w, metrics: metrics)
        let lifted = LiftedModel(tied: model, instance: instance)
        let represented = (0..<n).filter { metrics.featureNorms[$0] > SuperpositionMetrics.representationThreshold }
        var groupOf: [Int: FeatureGeometry.Group] = [:]
        for group in geometry.groups { for feature in group.features { groupOf[feature] = group } }
        var normalised: [Float] = [], kinds: [String] = [], interference: [Float] = []
        for (a, i) in represented.enumerated() {
            for j in represented.dropFirst(a + 1) {
                normalised.append(lifted.normalisedWeight(i, j))
                kinds.append(pairKind(i, j, groupOf: groupOf))
                interference += [lifted.weight(i, j), lifted.weight(j, i)]
            }
        }
        let thresholds = represented.map { -lifted.bias[$0] }
        let above = represented.flatMap { i in represented.filter { $0 != i && lifted.weight(i, $0) > -lifted.bias[i] } }.count
        let ratios = represented.filter { lifted.bias[$0] < 0 }.flatMap { i in
            represented.filter { $0 != i }.map { lifted.weight(i, $0) / -lifted.bias[i] }
        }
        return .init(density: density, evaluationLoss: evaluationLoss, dimensionsPerFeature: metrics.dimensionsPerFeature,
                     representedCount: represented.count, geometry: geometry.counts, geometrySummary: geometry.summary,
                     pentagons: PentagonWeights(model: lifted, geometry: geometry),
                     normalisedWeights: normalised, pairKinds: kinds, interferenceWeights: interference,
                     largestInterferenceWeight: interference.max() ?? 0, largestNormalisedInterference: normalised.max() ?? 0,
                     meanThreshold: thresholds.isEmpty ? 0 : thresholds.reduce(0, +) / Float(thresholds.count),
                     smallestThreshold: thresholds.min() ?? 0, weightsAboveThreshold: above, largestThresholdRatio: ratios.max() ?? .nan)
    }

    /// Trains every instance and measures it, without writing anything.
    public static func train(_ config: UniformSuperpositionConfig,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> (model: ToyModel, metrics: UniformSuperpositionMetrics) {
        try config.validate()
        let start = Date()
        let result = ToyModelTrainer.train(kind: .reluOutput, hidden: config.hidden, distribution: config.distribution(),
                                           importance: Tensor(repeating: 1, shape: [config.densities.count, config.features]),
                                           settings: config.training, progress: progress)
        let seconds = Date().timeIntervalSince(start)
        let instances = config.densities.indices.map {
            analyse(result.model, instance: $0, density: config.densities[$0], evaluationLoss: result.evaluationLoss[$0])
        }
        return (result.model, .init(experiment: config.name, features: config.features, hidden: config.hidden,
                                    instances: instances, trainingSeconds: seconds))
    }

    /// Trains, measures, and writes config.json, model.safetensors (W: [instance, m, n], b_final: [instance, n]),
    /// metrics.json, figures/*.svg and report.html.
    public static func run(_ config: UniformSuperpositionConfig, under root: URL,
                           progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> Outcome {
        try config.validate()
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (model, metrics) = try train(config, progress: progress)
            try folder.write(config: config, metrics: metrics) {
                try ToyModelCheckpoint.save(model, to: $0, format: "superposition.interference.uniform.v1",
                                            layout: "W: [instance, m, n], b_final: [instance, n]; one instance per entry of densities in config.json; U = WᵀW")
            }
            let report = try UniformSuperpositionReport(config: config, metrics: metrics).write(to: folder)
            return Outcome(folder: folder, metrics: metrics, report: report)
        }
    }
}
