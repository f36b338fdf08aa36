import Foundation
import Analysis
import TensorCore
import ToyModels

/// Runs a `TMSConfig`: trains, measures, and writes the run folder.
public enum TMSExperiment {
    /// The outcome of a run.
    public struct Outcome: Sendable {
        public var folder: RunFolder
        public var model: ToyModel
        public var metrics: TMSMetrics
        /// The run's report.html (its figures are in the folder's figures/).
        public var report: URL
    }

    /// Trains and measures without writing anything.
    public static func train(_ config: TMSConfig,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> (ToyModel, TMSMetrics) {
        try config.validate()
        let distribution = try config.distribution()
        let importance = try config.importanceTensor()
        let start = Date()
        let result = ToyModelTrainer.train(kind: config.kind, hidden: config.hidden, distribution: distribution,
                                           importance: importance, settings: config.training, progress: progress)
        let seconds = Date().timeIntervalSince(start)
        guard result.model.weights.scalars.allSatisfy(\.isFinite), result.evaluationLoss.allSatisfy(\.isFinite) else {
            throw ExperimentError("training diverged: weights or loss became NaN or infinite; lower the learning rate (\(config.training.learningRate)) or the importances")
        }
        let geometry = SuperpositionMetrics.perInstance(result.model)
        let shapes = FeatureGeometry.perInstance(result.model, metrics: geometry)
        let probabilities = try config.featureProbability.resolve(instanceCount: config.instances)
        let instances = (0..<config.instances).map { i in
            TMSMetrics.Instance(index: i, featureProbability: probabilities[i], sparsity: 1 - probabilities[i],
                                evaluationLoss: result.evaluationLoss[i], finalTrainingLoss: result.finalTrainingLoss[i],
                                geometry: geometry[i], featureGeometry: shapes[i])
        }
        let threads = config.training.threads == 0 ? min(ProcessInfo.processInfo.activeProcessorCount, config.instances) : min(config.training.threads, config.instances)
        let metrics = TMSMetrics(
            experiment: config.name, kind: config.kind, features: config.features, hidden: config.hidden,
            importance: try config.importance.resolve(featureCount: config.features),
            instances: instances,
            meanEvaluationLoss: result.evaluationLoss.reduce(0, +) / Float(config.instances),
            lossHistory: result.history,
            timing: .init(trainingSeconds: seconds, stepsPerSecond: Double(config.training.steps) / max(seconds, 1e-9), threads: threads))
        return (result.model, metrics)
    }

    /// Trains, measures and writes `config.json`, `model.safetensors`, `metrics.json`, `figures/*.svg`
    /// and `report.html` to a new run folder under `root`.
    public static func run(_ config: TMSConfig, under root: URL,
                           progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> Outcome {
        try config.validate()
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (model, metrics) = try train(config, progress: progress)
            try folder.write(config: config, metrics: metrics) { try ToyModelCheckpoint.save(model, to: $0) }
            let report = try TMSReport(config: config, metrics: metrics, model: model).write(to: folder)
            return Outcome(folder: folder, model: model, metrics: metrics, report: report)
        }
    }
}
