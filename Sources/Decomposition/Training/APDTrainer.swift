import Foundation
import TensorCore
import ToyModels

/// Loss terms recorded during a decomposition.
public struct APDHistory: Codable, Equatable, Sendable {
    /// Steps after which terms were recorded (1-based).
    public var steps: [Int] = []
    /// `[record][instance]`.
    public var terms: [[APDLossTerms]] = []

    public init(steps: [Int] = [], terms: [[APDLossTerms]] = []) {
        self.steps = steps
        self.terms = terms
    }
}

/// A finished decomposition: the components of every instance and how training went.
public struct APDResult: Sendable {
    public var layout: ComponentLayout
    /// `[instance, layout.count]`: A_0, B_0, A_1, B_1, ... of each instance.
    public var parameters: Tensor
    public var history: APDHistory
    /// Terms of the last training batch, per instance.
    public var finalTerms: [APDLossTerms]
    public var seconds: Double
    /// Per instance, the decomposition seed of the kept run (`APDSettings.restarts`).
    public var seeds: [UInt64] = []

    /// One instance's flat parameters.
    public func instance(_ i: Int) -> [Float] {
        Array(parameters.scalars[(i * layout.count)..<((i + 1) * layout.count)])
    }
}

/// Runs APD: AdamW (weight decay 0 by default, as the reference) with warmup and a schedule, instances
/// split across threads. Each instance draws its own data stream, so results are bit-identical for
/// any thread count.
public enum APDTrainer {
    /// Decomposes every instance of `target`; with `settings.restarts` > 1, once per seed and keeps,
    /// per instance, the run with the lowest mean loss over its last tenth of steps (`bestPerInstance`).
    public static func decompose<Target: DecomposableTarget>(_ target: Target, settings: APDSettings,
                                                             progress: (@Sendable (TrainingProgress) -> Void)? = nil) throws -> APDResult {
        if let problem = settings.problem { throw DecompositionError(problem) }
        var runs: [APDResult] = []
        for restart in 0..<settings.restarts {
            var single = settings
            single.seed = settings.seed &+ UInt64(restart)
            let offset = restart * settings.steps, total = settings.restarts * settings.steps
            var report: (@Sendable (TrainingProgress) -> Void)? = nil
            if let progress {
                report = { @Sendable p in progress(TrainingProgress(step: offset + p.step, steps: total, loss: p.loss)) }
            }
            runs.append(try decomposeOnce(target, settings: single, progress: report))
        }
        return bestPerInstance(of: runs)
    }

    static func decomposeOnce<Target: DecomposableTarget>(_ target: Target, settings: APDSettings,
                                                          progress: (@Sendable (TrainingProgress) -> Void)?) throws -> APDResult {
        let layout = ComponentLayout(layers: target.layers, components: settings.components, rank: settings.rank)
        let count = target.instanceCount
        var parameters = initialParameters(layout: layout, instances: count, settings: settings)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = max(1, min(settings.threads == 0 ? cores : settings.threads, count))
        let groups = ContiguousPartition.even(count: count, parts: threads)
        let records = recordSteps(settings)
        let shared = SharedState(instances: count, records: records.count)
        let start = Date()
        let initial = InitialParameters(parameters)
        parameters = Tensor(zeros: [0])
        DispatchQueue.concurrentPerform(iterations: groups.count) { g in
            let range = groups[g]
            // A single group (one instance, like the residual MLP's tens of megabytes) takes the
            // initial parameters over instead of copying them.
            var store = groups.count == 1 ? initial.take()
                : Tensor(Array(initial.tensor.scalars[(range.lowerBound * layout.count)..<(range.upperBound * layout.count)]))
            let history = runGroup(target, range: range, layout: layout, settings: settings, store: &store, records: records,
                                   shared: shared, progress: progress)
            shared.finish(range: range, store: store.scalars, layout: layout, lastTerms: history)
        }
        parameters = Tensor(shape: [count, layout.count], scalars: shared.parameters(count: count, layout: layout))
        guard parameters.scalars.allSatisfy(\.isFinite) else {
            throw DecompositionError("APD diverged: components became NaN or infinite; lower the learning rate (\(settings.learningRate)) or the coefficients")
        }
        return APDResult(layout: layout, parameters: parameters, history: APDHistory(steps: records, terms: shared.history),
                         finalTerms: shared.lastTerms, seconds: Date().timeIntervalSince(start),
                         seeds: Array(repeating: settings.seed, count: count))
    }

    /// Initial A and B, times `initialisationGain`, drawn instance by instance, layer by layer, with
    /// PyTorch's fans for the reference's `[instance, C, d_in, rank]` and `[instance, C, rank, d_out]`
    /// tensors (fan-in C·d·rank, fan-out instances·d·rank):
    /// - `kaimingUniform` (the reference's residual MLP): U(±√2 · √(3 / fan-in));
    /// - `xavierNormal` (the reference's TMS): N(0, 2 / (fan-in + fan-out)).
    public static func initialParameters(layout: ComponentLayout, instances: Int, settings: APDSettings) -> Tensor {
        var generator = RandomGenerator(seed: settings.seed, stream: 0)
        var scalars: [Float] = []
        scalars.reserveCapacity(instances * layout.count)
        let (c, k, gain) = (layout.components, layout.rank, settings.initialisationGain)
        for _ in 0..<instances {
            for layer in layout.layers {
                for d in [layer.inputs, layer.outputs] {
                    let (fanIn, fanOut) = (Double(c * d * k), Double(instances * d * k))
                    let size = c * d * k
                    switch settings.initialisation {
                    case .kaimingUniform:
                        let bound = Float(gain * 2.0.squareRoot() * (3.0 / fanIn).squareRoot())
                        for _ in 0..<size { scalars.append(generator.nextUniform(in: -bound, bound)) }
                    case .xavierNormal:
                        let deviation = Float(gain * (2.0 / (fanIn + fanOut)).squareRoot())
                        for _ in 0..<size { scalars.append(deviation * generator.nextNormal()) }
                    }
                }
            }
        }
        return Tensor(shape: [instances, layout.count], scalars: scalars)
    }

    /// The steps after which loss terms are recorded: every `historyInterval`, and the last.
    public static func recordSteps(_ settings: APDSettings) -> [Int] {
        var steps = Array(stride(from: settings.historyInterval, through: settings.steps, by: settings.historyInterval))
        if steps.last != settings.steps { steps.append(settings.steps) }
        return steps
    }

    /// Trains instances `range` for the whole run; returns their last terms.
    static func runGroup<Target: DecomposableTarget>(_ target: Target, range: Range<Int>, layout: ComponentLayout,
                                                     settings: APDSettings, store: inout Tensor, records: [Int],
                                                     shared: SharedState, progress: (@Sendable (TrainingProgress) -> Void)?) -> [APDLossTerms] {
        let steps = range.map { target.makeStep(instance: $0, settings: settings) }
        var samplers = range.map { target.makeInputSampler(instance: $0, seed: settings.seed) }
        var optimizer = Adam.adamW(weightDecay: Float(settings.weightDecay))
        let size = layout.count
        // The store and its gradients are each one tensor, updated in place: no per-step copies of
        // what can be tens of megabytes (the residual MLP has 13.6 M parameters).
        var gradients = Tensor(zeros: store.shape)
        var batch = [Float](repeating: 0, count: settings.batchSize * target.inputCount)
        var terms = [APDLossTerms](repeating: APDLossTerms(), count: range.count)
        var nextRecord = 0
        // The reference normalises A at the start of every step; here the first time, and after that
        // inside each update (`UnitNormColumns.update`), which gives the same parameters.
        if settings.unitNormA { UnitNormColumns.normalise(&store, layout: layout, instances: range.count) }
        for step in 0..<settings.steps {
            for local in range.indices.map({ $0 - range.lowerBound }) {
                batch.withUnsafeMutableBufferPointer { samplers[local].sample(batchSize: settings.batchSize, into: $0.baseAddress!) }
                terms[local] = batch.withUnsafeBufferPointer { x in
                    store.scalars.withUnsafeBufferPointer { p in
                        gradients.scalars.withUnsafeMutableBufferPointer { g in
                            steps[local].lossAndGradients(input: x.baseAddress!, parameters: p.baseAddress! + local * size,
                                                          gradients: g.baseAddress! + local * size)
                        }
                    }
                }
            }
            let rate = Float(settings.learningRate * settings.schedule.multiplier(step: step, of: settings.steps))
            if settings.unitNormA {
                UnitNormColumns.update(&store, gradients: &gradients, optimizer: &optimizer, learningRate: rate, layout: layout,
                                       instances: range.count, normalising: step + 1 < settings.steps)
            } else {
                optimizer.update(&store, gradients: &gradients, learningRate: rate) { $0.applyAll() }
            }
            let isRecord = nextRecord < records.count && records[nextRecord] == step + 1
            if isRecord || progress != nil {
                let (total, slowest) = shared.update(terms: terms, first: range.lowerBound, record: isRecord ? nextRecord : nil, step: step + 1)
                // Every group reports; the step shown is the slowest group's, so the bar ends when all do.
                progress?(TrainingProgress(step: slowest, steps: settings.steps, loss: Float(total)))  // loss: Σ over instances of the weighted total
            }
            if isRecord { nextRecord += 1 }
        }
        return terms
    }
}

/// The initial parameters, handed to the groups.
final class InitialParameters: @unchecked Sendable {
    private(set) var tensor: Tensor
    init(_ tensor: Tensor) { self.tensor = tensor }

    /// Moves the tensor out (leaving it empty), so that its storage is not shared and is not
    /// copied on the first write. Only for a single reader.
    func take() -> Tensor {
        defer { tensor = Tensor(zeros: [0]) }
        return tensor
    }
}

/// What the groups write into, behind a lock.
final class SharedState: @unchecked Sendable {
    private let lock = NSLock()
    private var latest: [Double]
    private var completedSteps: [Int]
    private(set) var history: [[APDLossTerms]]
    private(set) var lastTerms: [APDLossTerms]
    private var stores: [Int: [Float]] = [:]

    init(instances: Int, records: Int) {
        latest = Array(repeating: 0, count: instances)
        completedSteps = Array(repeating: 0, count: instances)
        history = Array(repeating: Array(repeating: APDLossTerms(), count: instances), count: records)
        lastTerms = Array(repeating: APDLossTerms(), count: instances)
    }

    /// Records a group's latest terms (instances from `first`) after `step` steps; returns the
    /// total loss over all instances and the number of steps every group has completed.
    func update(terms: [APDLossTerms], first: Int, record: Int?, step: Int) -> (total: Double, slowest: Int) {
        lock.lock(); defer { lock.unlock() }
        for (offset, t) in terms.enumerated() {
            latest[first + offset] = t.total
            completedSteps[first + offset] = step
            if let record { history[record][first + offset] = t }
        }
        return (latest.reduce(0, +), completedSteps.min() ?? step)
    }

    func finish(range: Range<Int>, store: [Float], layout: ComponentLayout, lastTerms terms: [APDLossTerms]) {
        lock.lock(); defer { lock.unlock() }
        stores[range.lowerBound] = store
        for (offset, t) in terms.enumerated() { lastTerms[range.lowerBound + offset] = t }
    }

    func parameters(count: Int, layout: ComponentLayout) -> [Float] {
        lock.lock(); defer { lock.unlock() }
        if stores.count == 1 { return stores.values.first! }  // no copy of a single group's store
        return stores.keys.sorted().flatMap { stores[$0]! }
    }
}

/// A user-facing problem with a decomposition's settings or target, as one line.
public struct DecompositionError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
