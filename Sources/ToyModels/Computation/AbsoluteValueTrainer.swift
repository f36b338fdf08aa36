import Foundation
import TensorCore

/// The result of training an `AbsoluteValueModel`.
public struct AbsoluteValueTrainingResult: Sendable {
    public var model: AbsoluteValueModel
    public var history: TrainingHistory
    /// Per-instance loss on fresh evaluation batches after training.
    public var evaluationLoss: [Float]
    /// Per-instance loss of the last training batch.
    public var finalTrainingLoss: [Float]
}

/// Trains `AbsoluteValueModel`s with AdamW on sparse features x_i ∈ U[−1, 1] (the distribution's
/// values), target |x|, using the fused `AbsoluteValueKernel`.
///
/// Instances are independent and each draws from its own random stream, so groups of instances
/// train on separate threads and the result is bit-identical for any thread count.
public enum AbsoluteValueTrainer {
    /// Trains a freshly initialised model (weights from the seed's initialisation stream).
    /// - Parameter importance: `[instance, n]`.
    public static func train(neurons m: Int, distribution: FeatureDistribution, importance: Tensor,
                             settings: TrainingSettings,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) -> AbsoluteValueTrainingResult {
        var generator = RandomGenerator(seed: settings.seed, stream: RandomStreams.initialization)
        let model = AbsoluteValueModel(instances: distribution.instanceCount, features: distribution.featureCount,
                                       neurons: m, generator: &generator)
        return train(model, distribution: distribution, importance: importance, settings: settings, progress: progress)
    }

    /// Continues training `model`.
    public static func train(_ model: AbsoluteValueModel, distribution: FeatureDistribution, importance: Tensor,
                             settings: TrainingSettings,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) -> AbsoluteValueTrainingResult {
        precondition(settings.problem == nil, settings.problem ?? "")
        precondition(distribution.instanceCount == model.instanceCount && distribution.featureCount == model.featureCount,
                     "distribution is [\(distribution.instanceCount), \(distribution.featureCount)], model has \(model.instanceCount) instances of \(model.featureCount) features")
        precondition(importance.shape == [model.instanceCount, model.featureCount], "importance must be [instance, n]")
        let count = model.instanceCount
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = max(1, min(settings.threads == 0 ? cores : settings.threads, count))
        let groups = (0..<threads).map { t in (count * t / threads)..<(count * (t + 1) / threads) }
        let records = ToyModelTrainer.recordSteps(settings)
        let state = AbsoluteValueSharedState(model: model, records: records.count)
        DispatchQueue.concurrentPerform(iterations: groups.count) { g in
            let trainer = AbsoluteValueGroupTrainer(model: model, instances: groups[g], distribution: distribution,
                                                    importance: importance, settings: settings)
            trainer.run(state: state, records: records, progress: g == 0 ? progress : nil)
            state.store(trainer)
        }
        return state.result(settings: settings, records: records)
    }
}

final class AbsoluteValueSharedState: @unchecked Sendable {
    private let lock = NSLock()
    private var model: AbsoluteValueModel
    private var latest: [Float]
    private var history: [[Float]]
    private var evaluation: [Float]
    private var finalTraining: [Float]

    init(model: AbsoluteValueModel, records: Int) {
        self.model = model
        latest = Array(repeating: 0, count: model.instanceCount)
        history = Array(repeating: latest, count: records)
        evaluation = latest
        finalTraining = latest
    }

    func update(losses: [Float], first: Int, record: Int?) -> Float {
        lock.lock(); defer { lock.unlock() }
        for (offset, loss) in losses.enumerated() {
            latest[first + offset] = loss
            if let record { history[record][first + offset] = loss }
        }
        return latest.reduce(0, +)
    }

    func store(_ group: AbsoluteValueGroupTrainer) {
        lock.lock(); defer { lock.unlock() }
        let (m, n) = (model.neuronCount, model.featureCount)
        let range = group.instances
        guard !range.isEmpty else { return }
        model.inputWeights.scalars.replaceSubrange(range.lowerBound * m * n ..< range.upperBound * m * n, with: group.parameters[0].scalars)
        model.outputWeights.scalars.replaceSubrange(range.lowerBound * m * n ..< range.upperBound * m * n, with: group.parameters[1].scalars)
        model.bias.scalars.replaceSubrange(range.lowerBound * n ..< range.upperBound * n, with: group.parameters[2].scalars)
        for (offset, instance) in range.enumerated() {
            evaluation[instance] = group.evaluationLoss[offset]
            finalTraining[instance] = group.lastLoss[offset]
        }
    }

    func result(settings: TrainingSettings, records: [Int]) -> AbsoluteValueTrainingResult {
        lock.lock(); defer { lock.unlock() }
        return AbsoluteValueTrainingResult(model: model, history: TrainingHistory(steps: records, loss: history),
                                           evaluationLoss: evaluation, finalTrainingLoss: finalTraining)
    }
}

/// Trains a contiguous range of instances for the whole run.
final class AbsoluteValueGroupTrainer {
    let instances: Range<Int>
    let m: Int, n: Int
    let distribution: FeatureDistribution
    let importance: [Float]          // [group instance, n]
    let settings: TrainingSettings
    var parameters: [Tensor]         // W1 [g, m, n], W2 [g, n, m], b [g, n]
    var lastLoss: [Float] = []
    var evaluationLoss: [Float] = []

    init(model: AbsoluteValueModel, instances: Range<Int>, distribution: FeatureDistribution, importance: Tensor,
         settings: TrainingSettings) {
        self.instances = instances
        m = model.neuronCount; n = model.featureCount
        let (lo, hi, g) = (instances.lowerBound, instances.upperBound, instances.count)
        self.distribution = FeatureDistribution(
            probabilities: Tensor(shape: [g, n], scalars: Array(distribution.probabilities.scalars[lo * n ..< hi * n])),
            values: distribution.values)
        self.importance = Array(importance.scalars[lo * n ..< hi * n])
        self.settings = settings
        parameters = [
            Tensor(shape: [g, m, n], scalars: Array(model.inputWeights.scalars[lo * m * n ..< hi * m * n])),
            Tensor(shape: [g, n, m], scalars: Array(model.outputWeights.scalars[lo * m * n ..< hi * m * n])),
            Tensor(shape: [g, n], scalars: Array(model.bias.scalars[lo * n ..< hi * n])),
        ]
    }

    func run(state: AbsoluteValueSharedState, records: [Int], progress: (@Sendable (TrainingProgress) -> Void)?) {
        let kernel = AbsoluteValueKernel(neuronCount: m, featureCount: n, batchSize: settings.batchSize)
        var lanes = instances.map { RandomLanes(seed: settings.seed, stream: RandomStreams.trainingData(instance: $0)) }
        var optimizer = Adam.adamW(weightDecay: Float(settings.weightDecay))
        var gradients = parameters.map { Tensor(zeros: $0.shape) }
        var batch = [Float](repeating: 0, count: instances.count * settings.batchSize * n)
        var losses = [Float](repeating: 0, count: instances.count)
        var nextRecord = 0
        for step in 0..<settings.steps {
            sample(into: &batch, lanes: &lanes)
            computeLosses(kernel: kernel, batch: batch, gradients: &gradients, losses: &losses)
            let rate = settings.learningRate * settings.schedule.multiplier(step: step, of: settings.steps)
            optimizer.update(&parameters, gradients: gradients, learningRate: Float(rate))
            let isRecord = nextRecord < records.count && records[nextRecord] == step + 1
            if isRecord || progress != nil {
                let total = state.update(losses: losses, first: instances.lowerBound, record: isRecord ? nextRecord : nil)
                progress?(TrainingProgress(step: step + 1, steps: settings.steps, loss: total))
            }
            if isRecord { nextRecord += 1 }
        }
        lastLoss = losses
        var evaluationLanes = instances.map { RandomLanes(seed: settings.seed, stream: RandomStreams.evaluationData(instance: $0)) }
        var totals = [Double](repeating: 0, count: instances.count)
        for _ in 0..<settings.evaluationBatches {
            sample(into: &batch, lanes: &evaluationLanes)
            computeLosses(kernel: kernel, batch: batch, gradients: &gradients, losses: &losses)
            for i in totals.indices { totals[i] += Double(losses[i]) }
        }
        evaluationLoss = totals.map { Float($0 / Double(settings.evaluationBatches)) }
    }

    func sample(into batch: inout [Float], lanes: inout [RandomLanes]) {
        let size = settings.batchSize * n
        batch.withUnsafeMutableBufferPointer { x in
            for local in 0..<instances.count {
                distribution.sample(instance: local, batchSize: settings.batchSize, lanes: &lanes[local],
                                    into: x.baseAddress! + local * size)
            }
        }
    }

    func computeLosses(kernel: AbsoluteValueKernel, batch: [Float], gradients: inout [Tensor], losses: inout [Float]) {
        var (g1, g2, g3) = (gradients[0], gradients[1], gradients[2])
        gradients = []
        computeLosses(kernel: kernel, batch: batch, dw1: &g1, dw2: &g2, db: &g3, losses: &losses)
        gradients = [g1, g2, g3]
    }

    func computeLosses(kernel: AbsoluteValueKernel, batch: [Float], dw1 g1: inout Tensor, dw2 g2: inout Tensor, db g3: inout Tensor,
                       losses: inout [Float]) {
        let (mn, n) = (m * self.n, self.n)
        let size = settings.batchSize * n
        batch.withUnsafeBufferPointer { x in
        parameters[0].scalars.withUnsafeBufferPointer { w1 in
        parameters[1].scalars.withUnsafeBufferPointer { w2 in
        parameters[2].scalars.withUnsafeBufferPointer { b in
        importance.withUnsafeBufferPointer { imp in
        g1.scalars.withUnsafeMutableBufferPointer { dw1 in
        g2.scalars.withUnsafeMutableBufferPointer { dw2 in
        g3.scalars.withUnsafeMutableBufferPointer { db in
            for local in 0..<instances.count {
                losses[local] = kernel.lossAndGradients(
                    input: x.baseAddress! + local * size,
                    inputWeights: w1.baseAddress! + local * mn, outputWeights: w2.baseAddress! + local * mn,
                    bias: b.baseAddress! + local * n, importance: imp.baseAddress! + local * n,
                    inputWeightGradient: dw1.baseAddress! + local * mn, outputWeightGradient: dw2.baseAddress! + local * mn,
                    biasGradient: db.baseAddress! + local * n)
            }
        }}}}}}}}
    }
}
