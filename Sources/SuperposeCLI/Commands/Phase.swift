import ArgumentParser
import Experiments
import Foundation

/// `superpose phase`: train a phase diagram of Toy Models of Superposition.
struct Phase: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phase",
        abstract: "Train a phase diagram (Toy Models of Superposition, \"Phase changes\"): n=2, m=1 or n=3, m=2.",
        discussion: """
        Each cell of a grid × grid diagram is one model, all trained at once: feature density on the x axis \
        (log-spaced, 1 to 0.01), the last feature's relative importance on the y axis (log-spaced, 0.1 to 10; \
        the other features have importance 1). Each cell's last feature is classified as not represented, \
        dedicated dimension or superposition. Writes a run folder with config.json, model.safetensors, \
        metrics.json, figures/*.svg and report.html.
        """)

    @Option(help: "Preset: 2-1 (n=2, m=1) or 3-2 (n=3, m=2).") var preset: String = "2-1"
    @Option(parsing: .unconditional, help: "Cells per axis (at least 2).") var grid: Int?
    @Option(parsing: .unconditional, help: "Training steps.") var steps: Int?
    @Option(parsing: .unconditional, help: "Independently initialised models per cell; the lowest evaluation loss is kept.") var restarts: Int?
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Threads (0: one per core). Results do not depend on it.") var threads: Int?
    @Option(name: .shortAndLong, help: "Folder to put the run folder in.") var output: String = "runs"
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let config = try resolvedConfig()
        let outcome = try PhaseExperiment.run(config, under: URL(fileURLWithPath: output),
                                              progress: ProgressReporter.make(title: config.name, quiet: quiet))
        let metrics = outcome.metrics
        var lines: [String] = []
        if !quiet {
            let counts = metrics.phaseCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            lines.append(String(format: "%@: %d×%d cells trained in %.2fs (%@)", metrics.experiment, metrics.grid, metrics.grid,
                                metrics.timing.trainingSeconds, counts))
        }
        lines.append("\(metrics.experiment) run folder: \(outcome.folder.url.path)")
        lines.append("\(metrics.experiment) report: \(outcome.report.path)")
        print(lines.joined(separator: "\n"))
    }

    func resolvedConfig() throws -> PhaseConfig {
        var config = try PhasePreset.named(preset).config
        if let grid { config.grid = grid }
        if let steps { config.training.steps = steps }
        if let restarts { config.restarts = restarts }
        if let seed { config.training.seed = seed }
        if let threads { config.training.threads = threads }
        try config.validate()
        return config
    }
}
