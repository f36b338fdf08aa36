import ArgumentParser
import Experiments
import Foundation
import TensorCore
import ToyModels

/// `superpose abs`: the absolute-value model of Toy Models of Superposition, section 8.
struct AbsoluteValue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abs",
        abstract: "Train the absolute-value model (computation in superposition, Toy Models section 8).",
        discussion: """
        h = ReLU(W1 x), y = ReLU(W2 h + b), target |x|, x_i uniform on [-1, 1] when present. Start \
        from a preset (paper: 100 features, 40 neurons, a sweep over sparsity; asymmetric: the \
        asymmetric superposition motif; small: 4 features, 2 neurons), a JSON config written by an \
        earlier run (its config.json), or --n and --m; any option given overrides it. Without any \
        of these, the paper preset. Writes a run folder with config.json, model.safetensors (W1, W2, \
        b), metrics.json, figures/*.svg and report.html.
        """)

    @Option(help: "Preset to start from: \(AbsoluteValuePreset.allCases.map(\.rawValue).joined(separator: ", ")).") var preset: String?
    @Option(help: "JSON config file to start from (e.g. a run's config.json).") var config: String?
    @Option(name: .customLong("n"), parsing: .unconditional, help: "Number of features n.") var features: Int?
    @Option(name: .customLong("m"), parsing: .unconditional, help: "Number of hidden ReLU neurons m.") var neurons: Int?
    @Option(parsing: .unconditional, help: "Number of instances trained side by side.") var instances: Int?
    @OptionGroup var training: TrainingOptions
    @Option(help: "Importance law: 'uniform', 'geometric:R' (I_i = R^i) or a comma-separated list.") var importance: String?
    @Option(help: "Feature probabilities: 'P' for all instances, 'log:DENSEST:SPARSEST', or a comma-separated list per instance (sets --instances).")
    var featureProbability: String?
    @Option(name: .shortAndLong, help: "Folder to put the run folder in.") var output: String = "runs"
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let config = try resolvedConfig()
        let outcome = try AbsoluteValueExperiment.run(config, under: URL(fileURLWithPath: output),
                                                      progress: ProgressReporter.make(title: config.name, quiet: quiet))
        if !quiet {
            for i in outcome.metrics.instances {
                let motifs = i.motifs.map { "n\($0.neuron):\($0.strongFeature)/\($0.weakFeature)" }.joined(separator: " ")
                print(String(format: "  p=%-8.4g loss %.5f  neurons: %d mono, %d poly, %d dead  features %d  motifs %d %@",
                             Double(i.featureProbability), Double(i.evaluationLoss), i.monosemanticNeurons, i.polysemanticNeurons,
                             i.deadNeurons, i.representedFeatureCount, i.motifCount, motifs as NSString))
            }
        }
        print(outcome.report.path)
    }

    /// The preset, config file or --n/--m, with every given option applied.
    func resolvedConfig() throws -> AbsoluteValueConfig {
        var config: AbsoluteValueConfig
        switch (preset, self.config) {
        case (.some, .some): throw ExperimentError("give either --preset or --config, not both")
        case let (.some(name), nil): config = try AbsoluteValuePreset.named(name).config
        case let (nil, .some(path)): config = try JSONCoding.decode(AbsoluteValueConfig.self, from: URL(fileURLWithPath: path))
        case (nil, nil):
            switch (features, neurons) {
            case (nil, nil): config = AbsoluteValuePreset.paper.config
            case let (n?, m?): config = AbsoluteValueConfig(name: "abs-\(n)-\(m)", features: n, neurons: m, instances: 1)
            default: throw ExperimentError("give both --n and --m (or a --preset or --config to start from)")
            }
        }
        if let features { config.features = features }
        if let neurons { config.neurons = neurons }
        if let instances { config.instances = instances }
        try training.apply(to: &config.training)
        if let importance { config.importance = try OptionParsing.importance(importance) }
        if let featureProbability {
            let law = try OptionParsing.featureProbability(featureProbability)
            if case let .explicit(list) = law {
                if let instances, instances != list.count {
                    throw ExperimentError("--feature-probability lists \(list.count) values but --instances is \(instances)")
                }
                config.instances = list.count
            }
            config.featureProbability = law
        }
        try config.validate()
        return config
    }
}
