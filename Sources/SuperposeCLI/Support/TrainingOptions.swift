import ArgumentParser
import Experiments
import TensorCore
import ToyModels

/// The training options `tms` and `abs` share. Each one given overrides the preset's or config
/// file's setting; one left out keeps it.
struct TrainingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Training steps.") var steps: Int?
    @Option(parsing: .unconditional, help: "Batch size.") var batch: Int?
    @Option(parsing: .unconditional, help: "Learning rate.") var lr: Double?
    @Option(parsing: .unconditional, help: "AdamW weight decay.") var weightDecay: Double?
    @Option(help: "Learning-rate schedule: constant, linear or cosine.") var schedule: String?
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Threads (0: one per core). Results do not depend on it.") var threads: Int?

    func apply(to settings: inout TrainingSettings) throws {
        if let steps { settings.steps = steps }
        if let batch { settings.batchSize = batch }
        if let lr { settings.learningRate = lr }
        if let weightDecay { settings.weightDecay = weightDecay }
        if let schedule {
            guard let shape = LearningRateSchedule.Shape(rawValue: schedule) else {
                throw ExperimentError("unknown schedule '\(schedule)'; choose constant, linear or cosine")
            }
            settings.schedule.shape = shape
        }
        if let seed { settings.seed = seed }
        if let threads { settings.threads = threads }
    }
}
