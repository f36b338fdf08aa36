import TensorCore

/// How a toy model is optimised. Defaults are the Toy Models reference notebook's:
/// AdamW (lr 1e-3, weight decay 0.01), constant rate, 10,000 steps of batch 1024.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public var steps: Int = 10_000
    public var batchSize: Int = 1024
    public var learningRate: Double = 1e-3
    public var weightDecay: Double = 0.01
    public var schedule: LearningRateSchedule = .constant
    /// Seeds the initial weights and every batch; recorded in the run's config.json.
    public var seed: UInt64 = 0
    /// The training loss is recorded every this many steps (and at the last step).
    public var historyInterval: Int = 100
    /// Fresh batches averaged for the final evaluation loss.
    public var evaluationBatches: Int = 10
    /// Threads to train instances on; instances are independent, so the result is the same for any count.
    public var threads: Int = 0  // 0: one per core, capped by the instance count

    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps, batchSize, learningRate, weightDecay, schedule, seed, historyInterval, evaluationBatches, threads
    }

    /// Decodes settings; every key is optional and defaults as above.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? steps
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? learningRate
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? weightDecay
        schedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? schedule
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        historyInterval = try c.decodeIfPresent(Int.self, forKey: .historyInterval) ?? historyInterval
        evaluationBatches = try c.decodeIfPresent(Int.self, forKey: .evaluationBatches) ?? evaluationBatches
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? threads
    }

    /// A one-line error for the first invalid setting, nil when all are valid.
    public var problem: String? {
        if steps < 1 { return "steps must be at least 1, got \(steps)" }
        if batchSize < 1 { return "batch size must be at least 1, got \(batchSize)" }
        if !(learningRate > 0 && learningRate.isFinite) { return "learning rate must be a positive number, got \(learningRate)" }
        if !(weightDecay >= 0 && weightDecay.isFinite) { return "weight decay must be >= 0, got \(weightDecay)" }
        if !(schedule.warmupFraction >= 0 && schedule.warmupFraction < 1) { return "warmup fraction must be in [0, 1), got \(schedule.warmupFraction)" }
        if historyInterval < 1 { return "history interval must be at least 1, got \(historyInterval)" }
        if evaluationBatches < 1 { return "evaluation batches must be at least 1, got \(evaluationBatches)" }
        if threads < 0 { return "threads must be >= 0, got \(threads)" }
        return nil
    }
}

/// The random streams of a training run, derived from its seed so each use is independent.
enum RandomStreams {
    static let initialization: UInt64 = 0
    static func trainingData(instance: Int) -> UInt64 { 1_000_000 + UInt64(instance) }
    static func evaluationData(instance: Int) -> UInt64 { 2_000_000 + UInt64(instance) }
    static func costProbe(instance: Int) -> UInt64 { 9_000_000 + UInt64(instance) }
}
