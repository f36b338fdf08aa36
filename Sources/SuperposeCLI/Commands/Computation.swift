import ArgumentParser
import Experiments
import Foundation

/// `superpose abs`: the absolute-value model of Toy Models of Superposition, section 8.
struct AbsoluteValue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abs",
        abstract: "Train the absolute-value model (computation in superposition, Toy Models section 8).",
        discussion: """
        h = ReLU(W1 x), y = ReLU(W2 h + b), target |x|, x_i uniform on [-1, 1] when present. Presets:
        paper (100 features, 40 neurons, a sweep over sparsity) and small (4 features, 2 neurons).
        Writes a run folder with config.json, model.safetensors (W1, W2, b), metrics.json,
        figures/*.svg and report.html.
        """)

    @Option(help: "Preset: paper or small.") var preset: String = "paper"
    @Option(help: "Training steps.") var steps: Int?
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: "Feature probabilities: 'P' for all instances, 'log:DENSEST:SPARSEST', or a comma-separated list per instance.")
    var featureProbability: String?
    @Option(name: .shortAndLong, help: "Folder to put the run folder in.") var output: String = "runs"
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let config = try resolvedConfig()
        let outcome = try AbsoluteValueExperiment.run(config, under: URL(fileURLWithPath: output),
                                                      progress: ProgressReporter.make(title: config.name, quiet: quiet))
        if !quiet {
            for i in outcome.metrics.instances {
                print(String(format: "  p=%-8.4g loss %.5f  neurons: %d mono, %d poly, %d dead  features %d  motifs %d",
                             Double(i.featureProbability), Double(i.evaluationLoss), i.monosemanticNeurons, i.polysemanticNeurons,
                             i.deadNeurons, i.representedFeatureCount, i.motifCount))
            }
        }
        print(outcome.report.path)
    }

    func resolvedConfig() throws -> AbsoluteValueConfig {
        var config = try AbsoluteValuePreset.named(preset).config
        if let steps { config.training.steps = steps }
        if let seed { config.training.seed = seed }
        if let featureProbability {
            let law = try OptionParsing.featureProbability(featureProbability)
            if case let .explicit(list) = law { config.instances = list.count }
            config.featureProbability = law
        }
        try config.validate()
        return config
    }
}
