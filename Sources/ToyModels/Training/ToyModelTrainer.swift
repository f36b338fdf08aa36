import Foundation
import TensorCore

/// What a training run reports as it goes.
public struct TrainingProgress: Sendable {
    public var step: Int
    public var steps: Int
    /// The latest training loss summed over instances.
    public var loss: Float
}

/// Per-instance training losses recorded during training.
public struct TrainingHistory: Codable, Equatable, Sendable {
    /// The steps at which losses were recorded (1-based: after that many updates).
    public var steps: [Int] = []
    /// `[record][instance]` training loss of the batch at that step.
    public var loss: [[Float]] = []
}

/// The result of training: the model, its loss curves and its final losses.
public struct TrainingResult: Sendable {
    public var model: ToyModel
    public var history: TrainingHistory
    /// Per-instance loss on fresh evaluation batches after training.
    public var evaluationLoss: [Float]
    /// Per-instance loss of the last training batch.
    public var finalTrainingLoss: [Float]
}

/// Trains `ToyModel`s with AdamW on sparse synthetic features.
///
/// Instances never interact (the loss is a sum over instances and AdamW acts elementwise), so
/// groups of instances train on separate threads without synchronising; each instance draws from
/// its own random stream, so the result is bit-identical for any thread count.
public enum ToyModelTrainer {
    /// Trains a freshly initialised model.
    /// - Parameters:
    ///   - importance: `[instance, n]` weight of each feature in the loss.
    public static func train(kind: ToyModel.Kind, hidden m: Int, distribution: FeatureDistribution,
                             importance: Tensor, settings: TrainingSettings,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) -> TrainingResult {
        var generator = RandomGenerator(seed: settings.seed, stream: RandomStreams.initialization)
        let model = ToyModel(kind: kind, instances: distribution.instanceCount, features: distribution.featureCount,
                             hidden: m, generator: &generator)
        return train(model, distribution: distribution, importance: importance, settings: settings, progress: progress)
    }

    /// Continues training `model` (its weights are the starting point).
    public static func train(_ model: ToyModel, distribution: FeatureDistribution, importance: Tensor,
                             settings: TrainingSettings,
                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) -> TrainingResult {
        precondition(settings.problem == nil, settings.problem ?? "")
        precondition(distribution.instanceCount == model.instanceCount && distribution.featureCount == model.featureCount,
                     "distribution is [\(distribution.instanceCount), \(distribution.featureCount)], model has \(model.instanceCount) instances of \(model.featureCount) features")
        precondition(importance.shape == [model.instanceCount, model.featureCount], "importance must be [instance, n]")

        let instanceCount = model.instanceCount
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threadCount = max(1, min(settings.threads == 0 ? cores : settings.threads, instanceCount))
        let groups = (0..<threadCount).map { t in (instanceCount * t / threadCount)..<(instanceCount * (t + 1) / threadCount) }
        let shared = SharedTrainingState(instanceCount: instanceCount, recordCount: recordSteps(settings).count)

        DispatchQueue.concurrentPerform(iterations: groups.count) { groupIndex in
            let group = GroupTrainer(model: model, instances: groups[groupIndex], distribution: distribution,
                                     importance: importance, settings: settings)
            group.run(shared: shared, reportsProgress: groupIndex == 0 ? progress : nil)
            shared.store(group: group)
        }
        return shared.result(model: model, settings: settings, groups: groups)
    }

    static func recordSteps(_ settings: TrainingSettings) -> [Int] {
        var steps = Array(stride(from: settings.historyInterval, through: settings.steps, by: settings.historyInterval))
        if steps.last != settings.steps { steps.append(settings.steps) }
        return steps
    }
}

/// State the instance groups write into, guarded by a lock.
final class SharedTrainingState: @unchecked Sendable {
    private let lock = NSLock()
    private var latestLoss: [Float]
    private var history: [[Float]]
    private var weights: [Int: Tensor] = [:]
    private var biases: [Int: Tensor] = [:]
    private var evaluation: [Float]
    private var finalTraining: [Float]

    init(instanceCount: Int, recordCount: Int) {
        latestLoss = Array(repeating: 0, count: instanceCount)
        history = Array(repeating: Array(repeating: 0, count: instanceCount), count: recordCount)
        evaluation = latestLoss
        finalTraining = latestLoss
    }

    func update(losses: [Float], firstInstance: Int, record: Int?) -> Float {
        lock.lock(); defer { lock.unlock() }
        for (offset, loss) in losses.enumerated() {
            latestLoss[firstInstance + offset] = loss
            if let record { history[record][firstInstance + offset] = loss }
        }
        return latestLoss.reduce(0, +)
    }

    func store(group: GroupTrainer) {
        lock.lock(); defer { lock.unlock() }
        weights[group.instances.lowerBound] = group.parameters[0]
        biases[group.instances.lowerBound] = group.parameters[1]
        for (offset, instance) in group.instances.enumerated() {
            evaluation[instance] = group.evaluationLoss[offset]
            finalTraining[instance] = group.lastLoss[offset]
        }
    }

    func result(model: ToyModel, settings: TrainingSettings, groups: [Range<Int>]) -> TrainingResult {
        lock.lock(); defer { lock.unlock() }
        var trained = model
        let perInstanceW = model.hiddenCount * model.featureCount
        for group in groups where !group.isEmpty {
            let start = group.lowerBound
            trained.weights.scalars.replaceSubrange(start * perInstanceW ..< group.upperBound * perInstanceW, with: weights[start]!.scalars)
            trained.bias.scalars.replaceSubrange(start * model.featureCount ..< group.upperBound * model.featureCount, with: biases[start]!.scalars)
        }
        let history = TrainingHistory(steps: ToyModelTrainer.recordSteps(settings), loss: self.history)
        return TrainingResult(model: trained, history: history, evaluationLoss: evaluation, finalTrainingLoss: finalTraining)
    }
}

/// Trains a contiguous range of instances for the whole run.
final class GroupTrainer {
    let instances: Range<Int>
    let kind: ToyModel.Kind
    let m: Int, n: Int
    let distribution: FeatureDistribution
    let importance: [Float]          // [group instance, n]
    let settings: TrainingSettings
    var parameters: [Tensor]         // W [group, m, n], b [group, n]
    var lastLoss: [Float] = []
    var evaluationLoss: [Float] = []

    init(model: ToyModel, instances: Range<Int>, distribution: FeatureDistribution, importance: Tensor, settings: TrainingSettings) {
        self.instances = instances
        kind = model.kind
        m = model.hiddenCount; n = model.featureCount
        self.distribution = FeatureDistribution(
            probabilities: Tensor(shape: [instances.count, n], scalars: Array(distribution.probabilities.scalars[instances.lowerBound * n ..< instances.upperBound * n])),
            values: distribution.values, correlation: distribution.correlation)
        self.importance = Array(importance.scalars[instances.lowerBound * n ..< instances.upperBound * n])
        self.settings = settings
        parameters = [
            Tensor(shape: [instances.count, m, n], scalars: Array(model.weights.scalars[instances.lowerBound * m * n ..< instances.upperBound * m * n])),
            Tensor(shape: [instances.count, n], scalars: Array(model.bias.scalars[instances.lowerBound * n ..< instances.upperBound * n])),
        ]
    }

    func run(shared: SharedTrainingState, reportsProgress progress: (@Sendable (TrainingProgress) -> Void)?) {
        let kernel = ToyModelKernel(hiddenCount: m, featureCount: n, batchSize: settings.batchSize)
        var lanes = instances.map { RandomLanes(seed: settings.seed, stream: RandomStreams.trainingData(instance: $0)) }
        var optimizer = Adam.adamW(weightDecay: Float(settings.weightDecay))
        var weightGradient = Tensor(zeros: parameters[0].shape)
        var biasGradient = Tensor(zeros: parameters[1].shape)
        var batch = [Float](repeating: 0, count: instances.count * settings.batchSize * n)
        let recordSteps = ToyModelTrainer.recordSteps(settings)
        var nextRecord = 0
        var losses = [Float](repeating: 0, count: instances.count)
        for step in 0..<settings.steps {
            sample(into: &batch, lanes: &lanes)
            computeLosses(kernel: kernel, batch: batch, weightGradient: &weightGradient, biasGradient: &biasGradient, losses: &losses)
            let rate = settings.learningRate * settings.schedule.multiplier(step: step, of: settings.steps)
            optimizer.update(&parameters, gradients: [weightGradient, biasGradient], learningRate: Float(rate))
            let isRecord = nextRecord < recordSteps.count && recordSteps[nextRecord] == step + 1
            if isRecord || progress != nil {
                let total = shared.update(losses: losses, firstInstance: instances.lowerBound, record: isRecord ? nextRecord : nil)
                progress?(TrainingProgress(step: step + 1, steps: settings.steps, loss: total))
            }
            if isRecord { nextRecord += 1 }
        }
        lastLoss = losses
        evaluationLoss = evaluate(kernel: kernel, weightGradient: &weightGradient, biasGradient: &biasGradient)
    }

    /// Draws a batch `[group instance, batch, n]` for every instance of the group.
    func sample(into batch: inout [Float], lanes: inout [RandomLanes]) {
        let size = settings.batchSize * n
        batch.withUnsafeMutableBufferPointer { x in
            for local in 0..<instances.count {
                distribution.sample(instance: local, batchSize: settings.batchSize, lanes: &lanes[local],
                                    into: x.baseAddress! + local * size)
            }
        }
    }

    /// One fused forward/backward pass per instance; fills the gradients and `losses`.
    func computeLosses(kernel: ToyModelKernel, batch: [Float], weightGradient: inout Tensor, biasGradient: inout Tensor,
                       losses: inout [Float]) {
        let (mn, n) = (m * self.n, self.n)
        let size = settings.batchSize * n
        batch.withUnsafeBufferPointer { x in
        parameters[0].scalars.withUnsafeBufferPointer { w in
        parameters[1].scalars.withUnsafeBufferPointer { b in
        importance.withUnsafeBufferPointer { imp in
        weightGradient.scalars.withUnsafeMutableBufferPointer { dw in
        biasGradient.scalars.withUnsafeMutableBufferPointer { db in
            for local in 0..<instances.count {
                losses[local] = kernel.lossAndGradients(
                    kind: kind, input: x.baseAddress! + local * size,
                    weights: w.baseAddress! + local * mn, bias: b.baseAddress! + local * n,
                    importance: imp.baseAddress! + local * n,
                    weightGradient: dw.baseAddress! + local * mn, biasGradient: db.baseAddress! + local * n)
            }
        }}}}}}
    }

    func evaluate(kernel: ToyModelKernel, weightGradient: inout Tensor, biasGradient: inout Tensor) -> [Float] {
        var lanes = instances.map { RandomLanes(seed: settings.seed, stream: RandomStreams.evaluationData(instance: $0)) }
        var batch = [Float](repeating: 0, count: instances.count * settings.batchSize * n)
        var losses = [Float](repeating: 0, count: instances.count)
        var totals = [Double](repeating: 0, count: instances.count)
        for _ in 0..<settings.evaluationBatches {
            sample(into: &batch, lanes: &lanes)
            computeLosses(kernel: kernel, batch: batch, weightGradient: &weightGradient, biasGradient: &biasGradient, losses: &losses)
            for i in totals.indices { totals[i] += Double(losses[i]) }
        }
        return totals.map { Float($0 / Double(settings.evaluationBatches)) }
    }
}
