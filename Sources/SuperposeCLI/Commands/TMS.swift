import ArgumentParser
import Experiments
import Foundation
import ToyModels

/// `superpose tms`: train a Toy Models of Superposition experiment.
struct TMS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tms",
        abstract: "Train a Toy Models of Superposition experiment (a preset or your own settings).",
        discussion: """
        Start from a preset (T1: 5→2, T2: 20→5, T3: 100→20, T4: 200→20, T6-correlated and \
        T6-anticorrelated: two feature pairs in 2 dimensions) or a JSON config written by an \
        earlier run (its config.json); any option given overrides it. Writes a run folder with \
        config.json, model.safetensors, metrics.json, figures/*.svg and report.html.
        """)

    @Option(help: "Preset to start from: T1, T2, T3, T4, T6-correlated or T6-anticorrelated.") var preset: String?
    @Option(help: "JSON config file to start from (e.g. a run's config.json).") var config: String?
    @Option(name: .customLong("n"), parsing: .unconditional, help: "Number of features n.") var features: Int?
    @Option(name: .customLong("m"), parsing: .unconditional, help: "Number of hidden dimensions m.") var hidden: Int?
    @Option(parsing: .unconditional, help: "Number of instances trained side by side.") var instances: Int?
    @Option(help: "Model: reluOutput or linear.") var kind: String?
    @OptionGroup var training: TrainingOptions
    @Option(help: "Importance law: 'uniform', 'geometric:R' (I_i = R^i) or a comma-separated list.") var importance: String?
    @Option(help: "Feature probabilities: 'P' for all instances, 'log:DENSEST:SPARSEST', or a comma-separated list per instance.")
    var featureProbability: String?
    @Option(help: "Feature correlation: independent, correlatedPairs, anticorrelatedPairs or exclusiveSets.") var correlation: String?
    @Option(name: .shortAndLong, help: "Folder to put the run folder in.") var output: String = "runs"
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let config = try resolvedConfig()
        let outcome = try TMSExperiment.run(config, under: URL(fileURLWithPath: output),
                                            progress: ProgressReporter.make(title: config.name, quiet: quiet))
        RunSummary.print(outcome, quiet: quiet)
    }

    /// The preset or config file, with every given option applied.
    func resolvedConfig() throws -> TMSConfig {
        var config: TMSConfig
        switch (preset, self.config) {
        case (.some, .some): throw ExperimentError("give either --preset or --config, not both")
        case let (.some(name), nil): config = try TMSPreset.named(name).config
        case let (nil, .some(path)): config = try JSONCoding.decode(TMSConfig.self, from: URL(fileURLWithPath: path))
        case (nil, nil):
            guard let n = features, let m = hidden else {
                throw ExperimentError("give --preset, --config, or both --n and --m")
            }
            config = TMSConfig(name: "tms-\(n)-\(m)", features: n, hidden: m, instances: 1)
        }
        if let features { config.features = features }
        if let hidden { config.hidden = hidden }
        if let instances { config.instances = instances }
        if let kind {
            guard let value = ToyModel.Kind(rawValue: kind) else {
                throw ExperimentError("unknown kind '\(kind)'; choose \(ToyModel.Kind.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            config.kind = value
        }
        try training.apply(to: &config.training)
        if let correlation {
            guard let value = FeatureCorrelation(rawValue: correlation) else {
                throw ExperimentError("unknown correlation '\(correlation)'; choose \(FeatureCorrelation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.correlation = value
        }
        if let importance { config.importance = try OptionParsing.importance(importance) }
        if let featureProbability { config.featureProbability = try OptionParsing.featureProbability(featureProbability) }
        try config.validate()
        return config
    }
}

import TensorCore

/// Parses the compact option forms of `superpose tms`.
enum OptionParsing {
    static func importance(_ text: String) throws -> ImportanceLaw {
        if text == "uniform" { return .uniform }
        if text.hasPrefix("geometric:") {
            guard let ratio = Double(text.dropFirst("geometric:".count)) else {
                throw ExperimentError("--importance geometric:R needs a number R, got '\(text)'")
            }
            return .geometric(ratio: ratio)
        }
        return .explicit(try numbers(text, option: "--importance").map(Float.init))
    }

    static func featureProbability(_ text: String) throws -> FeatureProbabilityLaw {
        if text.hasPrefix("log:") {
            let parts = text.dropFirst(4).split(separator: ":").compactMap { Double($0) }
            guard parts.count == 2 else { throw ExperimentError("--feature-probability log:DENSEST:SPARSEST needs two numbers, got '\(text)'") }
            return .logSpaced(densest: parts[0], sparsest: parts[1])
        }
        let values = try numbers(text, option: "--feature-probability")
        return values.count == 1 ? .constant(values[0]) : .explicit(values)
    }

    static func numbers(_ text: String, option: String) throws -> [Double] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, values.count == parts.count, values.allSatisfy(\.isFinite) else {
            throw ExperimentError("\(option) needs comma-separated numbers, got '\(text)'")
        }
        return values
    }
}
