import Decomposition
import Foundation
import TensorCore
import ToyModels

/// Everything an APD run on a residual MLP measured.
public struct ResidualAPDMetrics: Codable, Equatable, Sendable {
    public var experiment: String
    public var features: Int
    public var embeddingWidth: Int
    public var neurons: [Int]
    public var components: Int
    public var rank: Int
    public var evaluation: ResidualMLPEvaluation
    /// Mean of each per-batch loss list of `evaluation`.
    public var meanScrubbedLoss: Double
    public var meanAntiScrubbedLoss: Double
    public var meanRandomMaskLoss: Double
    public var meanZeroMaskLoss: Double
    public var meanFullLoss: Double
    /// The target's loss against the labels, and the paper's baselines (against the labels):
    /// the monosemantic model (one exact neuron per feature for as many features as neurons) and
    /// the identity (y' = x).
    public var targetLoss: Double
    public var monosemanticBaselineLoss: Double
    public var identityBaselineLoss: Double
    public var relativeParameterError: [Double]
    public var finalTerms: APDLossTerms
    public var history: APDHistory
    public var targetTrainingSeconds: Double
    public var decompositionSeconds: Double
    public var stepsPerSecond: Double
}

/// APD on the residual MLP of compressed computation: train (or read) the target, decompose it,
/// evaluate the components, write the run folder.
public enum ResidualAPDExperiment {
    public static func target(_ spec: APDConfig.ResidualMLPTarget, progress: (@Sendable (TrainingProgress) -> Void)?) throws
        -> (ResidualMLP, Double) {
        if let file = spec.file {
            let model = try ResidualMLPCheckpoint.load(from: URL(fileURLWithPath: file))
            guard model.inputCount == spec.task.featureCount, model.outputCount == spec.task.featureCount else {
                throw ExperimentError("\(file): the model has \(model.inputCount) inputs and \(model.outputCount) outputs; the task has \(spec.task.featureCount) features")
            }
            return (model, 0)
        }
        let start = Date()
        let result = ResidualMLPTrainer.train(spec.configuration, task: spec.task, settings: spec.training, progress: progress)
        return (result.model, Date().timeIntervalSince(start))
    }

    public static func run(_ config: APDConfig, under root: URL, targetProgress: (@Sendable (TrainingProgress) -> Void)?,
                           progress: (@Sendable (TrainingProgress) -> Void)?) throws -> APDExperiment.Outcome {
        guard let spec = config.residualMLP else { throw ExperimentError("a residualMLP config needs a 'residualMLP' target") }
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (model, targetSeconds) = try target(spec, progress: targetProgress)
            let target = ResidualMLPTarget(model: model, distribution: spec.task.distribution)
            let result = try APDExperiment.decompose(target, settings: config.decomposition, progress: progress)
            let parameters = result.instance(0)
            let evaluation = ResidualMLPEvaluation(target: target, task: spec.task, parameters: parameters, layout: result.layout,
                                                   settings: config.decomposition, batches: spec.evaluationBatches, seed: config.decomposition.seed)
            let errors = result.relativeParameterErrors(of: target, instance: 0)
            func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
            let metrics = ResidualAPDMetrics(
                experiment: config.name, features: model.inputCount, embeddingWidth: model.embeddingWidth, neurons: model.layers.map(\.width),
                components: config.decomposition.components, rank: config.decomposition.rank, evaluation: evaluation,
                meanScrubbedLoss: mean(evaluation.scrubbedLoss), meanAntiScrubbedLoss: mean(evaluation.antiScrubbedLoss),
                meanRandomMaskLoss: mean(evaluation.randomMaskLoss), meanZeroMaskLoss: mean(evaluation.zeroMaskLoss),
                meanFullLoss: mean(evaluation.fullLoss), targetLoss: mean(evaluation.targetLoss),
                monosemanticBaselineLoss: spec.task.monosemanticBaselineLoss(neurons: model.layers.map(\.width).reduce(0, +)),
                identityBaselineLoss: spec.task.identityBaselineLoss, relativeParameterError: errors, finalTerms: result.finalTerms[0],
                history: result.history, targetTrainingSeconds: targetSeconds, decompositionSeconds: result.seconds,
                stepsPerSecond: Double(config.decomposition.steps) / max(result.seconds, 1e-9))
            try folder.write(config: config, metrics: metrics) {
                try SafeTensors.write(ResidualMLPCheckpoint.tensors(of: model).merging(result.componentTensors(instance: 0)) { target, _ in target },
                                      metadata: ["format": "superposition.apd-residual-mlp.v1",
                                                 "layout": "target: ResidualMLPCheckpoint names; components.<layer>.A: [C, d_in, rank], components.<layer>.B: [C, rank, d_out] with W ≈ Σ_c A_c B_c in the row convention (pre · W)"],
                                      to: $0)
            }
            let report = try ResidualAPDReport(config: config, metrics: metrics).write(to: folder)
            // The outcome's TMS-shaped metrics stay empty for this kind; the report and metrics.json hold the numbers.
            return APDExperiment.Outcome(folder: folder, metrics: nil, residualMetrics: metrics, gatedMetrics: nil, report: report)
        }
    }
}
