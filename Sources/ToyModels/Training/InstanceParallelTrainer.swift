import Foundation
import TensorCore

/// Trains an `InstanceParallelModel` with AdamW on synthetic features.
///
/// Instances never interact (the loss is a sum over instances and AdamW acts elementwise), so
/// groups of instances train on separate threads without synchronising; each instance draws from
/// its own random streams, so the result is bit-identical for any thread count.
public enum InstanceParallelTrainer {
    /// Trains `model` from its current parameters.
    /// - Parameter importance: `[instance, n]` weight of each feature in the loss.
    public static func train<Model: InstanceParallelModel>(
        _ model: Model, distribution: FeatureDistribution, importance: Tensor, settings: TrainingSettings,
        progress: (@Sendable (TrainingProgress) -> Void)? = nil
    ) -> TrainingResult<Model> {
        precondition(settings.problem == nil, settings.problem ?? "")
        precondition(distribution.instanceCount == model.instanceCount && distribution.featureCount == model.featureCount,
                     "distribution is [\(distribution.instanceCount), \(distribution.featureCount)], model has \(model.instanceCount) instances of \(model.featureCount) features")
        precondition(importance.shape == [model.instanceCount, model.featureCount], "importance must be [instance, n]")

        let count = model.instanceCount
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threadCount = max(1, min(settings.threads == 0 ? cores : settings.threads, count))
        let groups = instanceGroups(model, threads: threadCount, distribution: distribution, importance: importance, settings: settings)
        let records = recordSteps(settings)
        let shared = SharedTrainingState(model: model, recordCount: records.count)
        DispatchQueue.concurrentPerform(iterations: groups.count) { index in
            let group = GroupTrainer(model: model, instances: groups[index], distribution: distribution,
                                     importance: importance, settings: settings)
            group.run(shared: shared, records: records, progress: progress)
            shared.store(group)
        }
        return shared.result(records: records)
    }

    /// Contiguous groups of instances, one per thread, of about equal cost. The cost of an instance's
    /// step can differ several-fold between instances (a dense batch takes the fused dense pass, a
    /// sparse one the cheaper sparse path), so the groups are cut by each instance's measured step
    /// time rather than by count: at T3's densities (1 down to 0.05) an even split left one thread
    /// with 63 % of the work. The split changes how fast a run is, never its result.
    static func instanceGroups<Model: InstanceParallelModel>(
        _ model: Model, threads: Int, distribution: FeatureDistribution, importance: Tensor, settings: TrainingSettings
    ) -> [Range<Int>] {
        let count = model.instanceCount
        // A short run is not worth the probe (three steps of every instance).
        guard threads > 1 && count > threads && settings.steps >= 100 else { return ContiguousPartition.even(count: count, parts: threads) }
        let probe = GroupTrainer(model: model, instances: 0..<count, distribution: distribution, importance: importance, settings: settings)
        return ContiguousPartition.balanced(weights: probe.stepSeconds(rounds: 3), parts: threads).filter { !$0.isEmpty }
    }

    /// The steps after which losses are recorded: every `historyInterval`, and the last.
    public static func recordSteps(_ settings: TrainingSettings) -> [Int] {
        var steps = Array(stride(from: settings.historyInterval, through: settings.steps, by: settings.historyInterval))
        if steps.last != settings.steps { steps.append(settings.steps) }
        return steps
    }
}

/// The rows `range` of the leading (instance) axis of `tensor`.
func instanceSlice(_ tensor: Tensor, _ range: Range<Int>) -> Tensor {
    let size = tensor.count / tensor.shape[0]
    return Tensor(shape: [range.count] + tensor.shape.dropFirst(),
                  scalars: Array(tensor.scalars[range.lowerBound * size ..< range.upperBound * size]))
}

/// State the instance groups write into, guarded by a lock.
final class SharedTrainingState<Model: InstanceParallelModel>: @unchecked Sendable {
    private let lock = NSLock()
    private var model: Model
    private var latestLoss: [Float]
    private var history: [[Float]]
    private var evaluation: [Float]
    private var finalTraining: [Float]
    private var completedSteps: [Int]

    init(model: Model, recordCount: Int) {
        self.model = model
        latestLoss = Array(repeating: 0, count: model.instanceCount)
        history = Array(repeating: latestLoss, count: recordCount)
        evaluation = latestLoss
        finalTraining = latestLoss
        completedSteps = Array(repeating: 0, count: model.instanceCount)
    }

    /// Records a group's latest losses after `step` steps; returns the latest loss summed over all
    /// instances and the step the slowest group has completed.
    func update(losses: [Float], firstInstance: Int, record: Int?, step: Int) -> (total: Float, slowest: Int) {
        lock.lock(); defer { lock.unlock() }
        for (offset, loss) in losses.enumerated() {
            latestLoss[firstInstance + offset] = loss
            completedSteps[firstInstance + offset] = step
            if let record { history[record][firstInstance + offset] = loss }
        }
        return (latestLoss.reduce(0, +), completedSteps.min() ?? step)
    }

    func store(_ group: GroupTrainer<Model>) {
        lock.lock(); defer { lock.unlock() }
        let range = group.instances
        guard !range.isEmpty else { return }
        var parameters = model.parameters
        for (k, trained) in group.parameters.enumerated() {
            let size = parameters[k].count / parameters[k].shape[0]
            parameters[k].scalars.replaceSubrange(range.lowerBound * size ..< range.upperBound * size, with: trained.scalars)
        }
        model.parameters = parameters
        for (offset, instance) in range.enumerated() {
            evaluation[instance] = group.evaluationLoss[offset]
            finalTraining[instance] = group.lastLoss[offset]
        }
    }

    func result(records: [Int]) -> TrainingResult<Model> {
        lock.lock(); defer { lock.unlock() }
        return TrainingResult(model: model, history: TrainingHistory(steps: records, loss: history),
                              evaluationLoss: evaluation, finalTrainingLoss: finalTraining)
    }
}

/// Trains a contiguous range of instances for the whole run.
///
/// The group's slices of all parameter tensors live in one flat store (and their gradients in
/// another), so a step hands out plain pointers and AdamW, being elementwise, updates them in one call.
final class GroupTrainer<Model: InstanceParallelModel> {
    let instances: Range<Int>
    let n: Int
    let distribution: FeatureDistribution  // this group's rows
    let importance: [Float]                // [group instance, n]
    let settings: TrainingSettings
    let step: any InstanceStep
    let shapes: [[Int]]                    // each parameter's group slice shape, [group instance, ...]
    let offsets: [Int]                     // where each parameter's slice starts in the store
    let sliceSizes: [Int]                  // scalars per instance of each parameter
    var store: Tensor                      // all of the group's parameters, flat
    var lastLoss: [Float] = []
    var evaluationLoss: [Float] = []

    init(model: Model, instances: Range<Int>, distribution: FeatureDistribution, importance: Tensor, settings: TrainingSettings) {
        self.instances = instances
        n = model.featureCount
        self.distribution = FeatureDistribution(probabilities: instanceSlice(distribution.probabilities, instances),
                                                values: distribution.values, correlation: distribution.correlation)
        self.importance = instanceSlice(importance, instances).scalars
        self.settings = settings
        step = model.makeStep(batchSize: settings.batchSize)
        let slices = model.parameters.map { instanceSlice($0, instances) }
        shapes = slices.map(\.shape)
        sliceSizes = slices.map { $0.count / max(instances.count, 1) }
        offsets = slices.reduce(into: [0]) { $0.append($0.last! + $1.count) }.dropLast()
        store = Tensor(slices.flatMap(\.scalars))
    }

    /// The group's trained slices, in `parameters` order.
    var parameters: [Tensor] {
        zip(shapes, offsets).map { shape, offset in
            Tensor(shape: shape, scalars: Array(store.scalars[offset ..< offset + shape.product]))
        }
    }

    /// Trains the group for the whole run. Every group reports `progress`, with the step of the
    /// slowest group, so that the bar ends when all do.
    func run(shared: SharedTrainingState<Model>, records: [Int], progress: (@Sendable (TrainingProgress) -> Void)?) {
        var lanes = instances.map { RandomLanes(seed: settings.seed, stream: RandomStreams.trainingData(instance: $0)) }
        var optimizer = Adam.adamW(weightDecay: Float(settings.weightDecay))
        var gradients = Tensor(zeros: store.shape)
        var batch = [Float](repeating: 0, count: settings.batchSize * n)
        var losses = [Float](repeating: 0, count: instances.count)
        var nextRecord = 0
        for stepIndex in 0..<settings.steps {
            computeLosses(batch: &batch, lanes: &lanes, gradients: &gradients, losses: &losses)
            let rate = settings.learningRate * settings.schedule.multiplier(step: stepIndex, of: settings.steps)
            var parameters = [store]
            store = Tensor(zeros: [0])  // hand the storage to the optimizer without a copy
            optimizer.update(&parameters, gradients: [gradients], learningRate: Float(rate))
            store = parameters[0]
            let isRecord = nextRecord < records.count && records[nextRecord] == stepIndex + 1
            if isRecord || progress != nil {
                let (total, slowest) = shared.update(losses: losses, firstInstance: instances.lowerBound,
                                                     record: isRecord ? nextRecord : nil, step: stepIndex + 1)
                progress?(TrainingProgress(step: slowest, steps: settings.steps, loss: total))
            }
            if isRecord { nextRecord += 1 }
        }
        lastLoss = losses
        var evaluationLanes = instances.map { RandomLanes(seed: settings.seed, stream: RandomStreams.evaluationData(instance: $0)) }
        var totals = [Double](repeating: 0, count: instances.count)
        for _ in 0..<settings.evaluationBatches {
            computeLosses(batch: &batch, lanes: &evaluationLanes, gradients: &gradients, losses: &losses)
            for i in totals.indices { totals[i] += Double(losses[i]) }
        }
        evaluationLoss = totals.map { Float($0 / Double(settings.evaluationBatches)) }
    }

    /// One fused forward/backward pass per instance on a fresh batch; fills `gradients` (laid out
    /// like the store) and `losses`. Each instance's batch is drawn just before its step into the
    /// one `batch: [batch, n]`, so it is still in cache when the step reads it (a batch for every
    /// instance at once outgrows L2 at 100→20); the draws are the same, each instance having its own lanes.
    func computeLosses(batch: inout [Float], lanes: inout [RandomLanes], gradients: inout Tensor, losses: inout [Float]) {
        withBuffers(batch: &batch, gradients: &gradients) { buffers in
            for local in 0..<instances.count { losses[local] = instanceStep(local, buffers, lanes: &lanes[local]) }
        }
    }

    /// The batch, importance, parameter and gradient buffers of a step.
    private struct StepBuffers {
        let x, gradients: UnsafeMutablePointer<Float>
        let importance, parameters: UnsafePointer<Float>
    }

    private func withBuffers<Result>(batch: inout [Float], gradients: inout Tensor, _ body: (StepBuffers) -> Result) -> Result {
        batch.withUnsafeMutableBufferPointer { x in
        importance.withUnsafeBufferPointer { imp in
        store.scalars.withUnsafeBufferPointer { p in
        gradients.scalars.withUnsafeMutableBufferPointer { g in
            body(StepBuffers(x: x.baseAddress!, gradients: g.baseAddress!, importance: imp.baseAddress!, parameters: p.baseAddress!))
        }}}}
    }

    /// Instance `local`'s batch drawn into `buffers.x` and its step, gradients into its slice; returns its loss.
    private func instanceStep(_ local: Int, _ buffers: StepBuffers, lanes: inout RandomLanes) -> Float {
        distribution.sample(instance: local, batchSize: settings.batchSize, lanes: &lanes, into: buffers.x)
        return step.lossAndGradients(
            input: buffers.x, importance: buffers.importance + local * n,
            parameters: zip(offsets, sliceSizes).map { buffers.parameters + $0.0 + local * $0.1 },
            gradients: zip(offsets, sliceSizes).map { buffers.gradients + $0.0 + local * $0.1 })
    }

    /// Seconds of one step (sampling included) for each of the group's instances: the least of
    /// `rounds` tries, taken instance after instance in turn, so that a busy moment of the machine
    /// weighs on all of them alike. The batches come from streams training never reads, and the
    /// parameters do not change.
    func stepSeconds(rounds: Int) -> [Double] {
        var lanes = instances.map { RandomLanes(seed: settings.seed, stream: RandomStreams.costProbe(instance: $0)) }
        var gradients = Tensor(zeros: store.shape)
        var batch = [Float](repeating: 0, count: settings.batchSize * n)
        var seconds = [Double](repeating: .infinity, count: instances.count)
        withBuffers(batch: &batch, gradients: &gradients) { buffers in
            for _ in 0..<rounds {
                for local in 0..<instances.count {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = instanceStep(local, buffers, lanes: &lanes[local])
                    seconds[local] = min(seconds[local], Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
                }
            }
        }
        return seconds
    }
}
