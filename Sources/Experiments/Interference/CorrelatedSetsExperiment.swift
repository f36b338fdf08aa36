import Analysis
import Foundation
import TensorCore
import ToyModels

/// Everything an I6 run measured; every number a figure shows is here.
public struct CorrelatedSetsMetrics: Codable, Equatable, Sendable {
    public struct Ablation: Codable, Equatable, Sendable {
        public var ablation: SetLevelComponent.Ablation
        /// The lifted model's loss, mean over samples and features.
        public var loss: Double
    }

    public var experiment: String
    public var features: Int
    public var hidden: Int
    public var evaluationLoss: Float
    /// Off-diagonal U_ij with i and j in the same set, and in different sets (i ≠ j, row-major order).
    public var intraSetWeights: [Float]
    public var interSetWeights: [Float]
    public var intraSetMean: Double
    public var intraSetStandardDeviation: Double
    public var interSetMean: Double
    public var interSetStandardDeviation: Double
    public var diagonalMean: Double
    /// `[set, set]` block means of the off-diagonal weights (the component's values).
    public var blockMeans: [[Double]]
    public var explainedFraction: Double
    /// U, row-major [n, n], and b (L is `blockMeans` off the diagonal).
    public var virtualWeights: [Float]
    public var bias: [Float]
    public var ablations: [Ablation]
    public var trainingSeconds: Double

    public func loss(_ ablation: SetLevelComponent.Ablation) -> Double? { ablations.first { $0.ablation == ablation }?.loss }
}

/// Trains and measures I6 (see `CorrelatedSetsConfig`).
public enum CorrelatedSetsExperiment {
    public struct Outcome: Sendable {
        public var folder: RunFolder
        public var metrics: CorrelatedSetsMetrics
        public var report: URL
    }

    static func meanAndDeviation(_ values: [Float]) -> (Double, Double) {
        guard !values.isEmpty else { return (0, 0) }
        let mean = values.map(Double.init).reduce(0, +) / Double(values.count)
        let variance = values.map { pow(Double($0) - mean, 2) }.reduce(0, +) / Double(values.count)
        return (mean, variance.squareRoot())
    }

    /// Measures a trained one-instance tied model on `evaluation` (`[samples, n]`).
    public static func analyse(_ model: ToyModel, evaluationLoss: Float, evaluation: [Float], config: CorrelatedSetsConfig,
                               trainingSeconds: Double) -> CorrelatedSetsMetrics {
        let n = config.features, sets = config.sets
        let lifted = LiftedModel(tied: model, instance: 0)
        let u = lifted.virtualWeights
        var intra: [Float] = [], inter: [Float] = []
        for i in 0..<n {
            for j in 0..<n where j != i {
                if sets[i] == sets[j] { intra.append(u[i * n + j]) } else { inter.append(u[i * n + j]) }
            }
        }
        let component = SetLevelComponent(virtualWeights: u, sets: sets)
        let ablations = SetLevelComponent.Ablation.allCases.map { ablation in
            CorrelatedSetsMetrics.Ablation(ablation: ablation,
                                           loss: component.ablated(lifted, ablation).lossAndGradient(evaluation, reduction: .meanOverFeatures).loss)
        }
        let (intraMean, intraDeviation) = meanAndDeviation(intra), (interMean, interDeviation) = meanAndDeviation(inter)
        return .init(experiment: config.name, features: n, hidden: config.hidden, evaluationLoss: evaluationLoss,
                     intraSetWeights: intra, interSetWeights: inter, intraSetMean: intraMean, intraSetStandardDeviation: intraDeviation,
                     interSetMean: interMean, interSetStandardDeviation: interDeviation,
                     diagonalMean: (0..<n).map { Double(u[$0 * n + $0]) }.reduce(0, +) / Double(n),
                     blockMeans: component.blockMeans, explainedFraction: component.explainedFraction,
                     virtualWeights: u, bias: lifted.bias, ablations: ablations,
                     trainingSeconds: trainingSeconds)
    }

    /// Trains the model and measures it, without writing anything.
    public static func train(_ config: CorrelatedSetsConfig,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> (model: ToyModel, metrics: CorrelatedSetsMetrics) {
        try config.validate()
        let start = Date()
        let result = ToyModelTrainer.train(kind: .reluOutput, hidden: config.hidden, distribution: config.distribution(),
                                           importance: Tensor(repeating: 1, shape: [1, config.features]),
                                           settings: config.training, progress: progress)
        let seconds = Date().timeIntervalSince(start)
        var lanes = [RandomLanes(seed: config.evaluationSeed, stream: 3_000_000)]
        let evaluation = config.distribution().sample(batchSize: config.evaluationSamples, lanes: &lanes).scalars
        return (result.model, analyse(result.model, evaluationLoss: result.evaluationLoss[0], evaluation: evaluation,
                                      config: config, trainingSeconds: seconds))
    }

    /// Trains, measures, and writes config.json, model.safetensors (W: [1, m, n], b_final: [1, n]),
    /// metrics.json, figures/*.svg and report.html.
    public static func run(_ config: CorrelatedSetsConfig, under root: URL,
                           progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> Outcome {
        try config.validate()
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (model, metrics) = try train(config, progress: progress)
            try folder.write(config: config, metrics: metrics) {
                try ToyModelCheckpoint.save(model, to: $0, format: "superposition.interference.sets.v1",
                                            layout: "W: [1, m, n], b_final: [1, n]; features [0, setSize) are set 0, the rest set 1; U = WᵀW")
            }
            let report = try CorrelatedSetsReport(config: config, metrics: metrics).write(to: folder)
            return Outcome(folder: folder, metrics: metrics, report: report)
        }
    }
}
