import Foundation
import TensorCore
import ToyModels

/// Runs an `AbsoluteValueConfig`: trains, analyses each neuron, and writes the run folder.
///
/// model.safetensors holds `W1: [instance, m, n]` (row k = neuron k's input weights),
/// `W2: [instance, n, m]` (column k = neuron k's output weights) and `b: [instance, n]`, Float32.
public enum AbsoluteValueExperiment {
    public static let inputWeightsName = "W1"
    public static let outputWeightsName = "W2"
    public static let biasName = "b"

    public struct Outcome: Sendable {
        public var folder: RunFolder
        public var model: AbsoluteValueModel
        public var metrics: AbsoluteValueMetrics
        public var report: URL
    }

    /// Trains and measures without writing anything.
    public static func train(_ config: AbsoluteValueConfig,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> (AbsoluteValueModel, AbsoluteValueMetrics) {
        try config.validate()
        let start = Date()
        let result = AbsoluteValueTrainer.train(neurons: config.neurons, distribution: try config.distribution(),
                                                importance: try config.importanceTensor(), settings: config.training,
                                                progress: progress)
        let seconds = Date().timeIntervalSince(start)
        guard result.model.parameters.allSatisfy({ $0.scalars.allSatisfy(\.isFinite) }), result.evaluationLoss.allSatisfy(\.isFinite) else {
            throw ExperimentError("training diverged: weights or loss became NaN or infinite; lower the learning rate (\(config.training.learningRate)) or the importances")
        }
        let probabilities = try config.featureProbability.resolve(instanceCount: config.instances)
        let instances = (0..<config.instances).map { i in
            let s = AbsoluteValueAnalysis.analyse(result.model, instance: i)
            return AbsoluteValueMetrics.Instance(
                index: i, featureProbability: probabilities[i], evaluationLoss: result.evaluationLoss[i],
                finalTrainingLoss: result.finalTrainingLoss[i], monosemanticNeurons: s.monosemanticNeurons,
                polysemanticNeurons: s.polysemanticNeurons, deadNeurons: s.deadNeurons,
                representedFeatureCount: s.representedFeatures.count, representedFeatures: s.representedFeatures,
                motifCount: s.motifs.count, motifNeurons: s.motifNeurons, motifNeuronCount: s.motifNeurons.count,
                motifs: s.motifs, neurons: s.neurons)
        }
        let metrics = AbsoluteValueMetrics(
            experiment: config.name, features: config.features, neurons: config.neurons,
            importance: try config.importance.resolve(featureCount: config.features), instances: instances,
            lossHistory: result.history,
            timing: .init(trainingSeconds: seconds, stepsPerSecond: Double(config.training.steps) / max(seconds, 1e-9)),
            criteria: AbsoluteValueAnalysis.criteria)
        return (result.model, metrics)
    }

    /// Trains and writes config.json, model.safetensors, metrics.json, figures/*.svg and report.html.
    public static func run(_ config: AbsoluteValueConfig, under root: URL,
                           progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> Outcome {
        try config.validate()
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let (model, metrics) = try train(config, progress: progress)
            try folder.write(config: config, metrics: metrics) { try save(model, to: $0) }
            let report = try AbsoluteValueReport(config: config, metrics: metrics, model: model).write(to: folder)
            return Outcome(folder: folder, model: model, metrics: metrics, report: report)
        }
    }

    public static func save(_ model: AbsoluteValueModel, to url: URL) throws {
        try SafeTensors.write([inputWeightsName: model.inputWeights, outputWeightsName: model.outputWeights, biasName: model.bias],
                              metadata: ["format": "superposition.absolute-value.v1",
                                         "layout": "W1: [instance, m, n], W2: [instance, n, m], b: [instance, n]; h = ReLU(W1 x), y = ReLU(W2 h + b)"],
                              to: url)
    }

    /// Reads a model written by `save`; a one-line error if a tensor is missing or misshapen.
    public static func loadModel(from url: URL) throws -> AbsoluteValueModel {
        let file = try SafeTensors.read(from: url)
        let name = url.lastPathComponent
        guard let w1 = file.tensors[inputWeightsName], let w2 = file.tensors[outputWeightsName], let b = file.tensors[biasName] else {
            throw ExperimentError("\(name): an absolute-value model needs tensors W1, W2 and b; found \(file.tensors.keys.sorted())")
        }
        guard w1.rank == 3, w1.shape.allSatisfy({ $0 > 0 }), w2.shape == [w1.shape[0], w1.shape[2], w1.shape[1]], b.shape == [w1.shape[0], w1.shape[2]] else {
            throw ExperimentError("\(name): expected W1 [instance, m, n], W2 [instance, n, m], b [instance, n]; got \(w1.shape), \(w2.shape), \(b.shape)")
        }
        return AbsoluteValueModel(inputWeights: w1, outputWeights: w2, bias: b)
    }
}
