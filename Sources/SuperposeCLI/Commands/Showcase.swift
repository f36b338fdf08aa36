import ArgumentParser
import Experiments
import Foundation

/// `superpose showcase` (the default): T1 and T2 at the reference settings, in a few seconds.
struct Showcase: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train T1 (5→2) and T2 (20→5) at the reference settings and write their run folders and reports.")

    @Option(name: .shortAndLong, help: "Folder to put the run folders in.") var output: String = "runs"
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        for preset in [TMSPreset.t1, .t2] {
            var config = preset.config
            config.training.seed = seed
            let outcome = try TMSExperiment.run(config, under: URL(fileURLWithPath: output),
                                                progress: ProgressReporter.make(title: config.name, quiet: quiet))
            RunSummary.print(outcome, quiet: quiet)
        }
    }
}
