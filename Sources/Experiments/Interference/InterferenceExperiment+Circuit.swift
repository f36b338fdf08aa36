import Analysis
import Foundation
import TensorCore
import ToyModels

extension InterferenceExperiment {
    /// I2: trains the untied model on the circuit's targets, every seed of a variant at once (one
    /// thread each: seeds never interact, and each is bit-identical to training it alone), lifts each
    /// to U = W_up W_down, and measures ΔL against the targets with A as Definition 1's ideal.
    static func trainCircuit(_ config: InterferenceConfig, circuit settings: CircuitSettings,
                             progress: (String) -> (@Sendable (TrainingProgress) -> Void)?)
        -> (tensors: [String: Tensor], layout: String, metrics: InterferenceMetrics) {
        let n = config.features
        let circuit = settings.circuit(features: n)
        let evaluation = evaluationSet(config)
        let targets = circuit.targets(evaluation)
        var tensors: [String: Tensor] = ["A": Tensor(shape: [n, n], scalars: circuit.matrix), "v": Tensor(circuit.bias)]
        var variants: [InterferenceMetrics.Variant] = []
        for variant in config.variants {
            let trainsDown = variant.frozenDown != true
            let report = progress("\(config.name) \(variant.name) seeds \(config.seeds.map(String.init).joined(separator: ", "))")
            let results = TrainedSeeds(count: config.seeds.count)
            let start = Date()
            DispatchQueue.concurrentPerform(iterations: config.seeds.count) { index in
                var settings = config.settings(variant: variant, seed: config.seeds[index])
                settings.threads = 1
                results.store(UntiedToyModelTrainer.train(hidden: config.hidden, circuit: circuit, trainsDown: trainsDown,
                                                           distribution: config.distribution(),
                                                           importance: Tensor(shape: [1, n], scalars: config.importanceVector()),
                                                           settings: settings, progress: index == 0 ? report : nil), at: index)
            }
            let trainingSeconds = Date().timeIntervalSince(start)
            let trained = results.all
            let measured = zip(config.seeds, trained).map { seed, result in
                analyse(LiftedModel(untied: result.model, instance: 0, importance: config.importanceVector()), targets: targets,
                        ideal: circuit.matrix, seed: seed, evaluationLoss: result.evaluationLoss[0], evaluation: evaluation, config: config)
            }
            variants.append(compare(variant, models: measured, ideal: circuit.matrix, epsilon: config.epsilon, trainingSeconds: trainingSeconds))
            tensors["W_down.\(variant.name)"] = Tensor.stacked(trained.map { $0.model.downWeights.slice(0) })
            tensors["W_up.\(variant.name)"] = Tensor.stacked(trained.map { $0.model.upWeights.slice(0) })
            tensors["b.\(variant.name)"] = Tensor.stacked(trained.map { $0.model.bias.slice(0) })
        }
        var metrics = InterferenceMetrics(experiment: config.name, features: n, hidden: config.hidden,
                                          featureProbability: config.featureProbability, epsilon: config.epsilon,
                                          reduction: config.reduction, evaluationSamples: config.evaluationSamples, variants: variants)
        metrics.recordCircuit(circuit, evaluation: evaluation, targets: targets)
        let layout = "W_down.<variant>: [seed, m, n], W_up.<variant>: [seed, n, m], b.<variant>: [seed, n]; U = W_up W_down; target ReLU(A x + v) with A: [n, n] (row i = output i), v: [n]; seeds as in config.json"
        return (tensors, layout, metrics)
    }
}

/// Training results written by concurrent seeds, each into its own slot.
private final class TrainedSeeds: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [TrainingResult<UntiedToyModel>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func store(_ result: TrainingResult<UntiedToyModel>, at index: Int) {
        lock.lock(); defer { lock.unlock() }
        results[index] = result
    }

    var all: [TrainingResult<UntiedToyModel>] {
        lock.lock(); defer { lock.unlock() }
        return results.map { $0! }
    }
}
