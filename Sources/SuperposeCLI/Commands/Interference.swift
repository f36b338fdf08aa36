import ArgumentParser
import Experiments
import Foundation

/// `superpose interference`: A Toy Model of Interference Weights (seed 000).
struct Interference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interference",
        abstract: "Separate real from interference weights in a trained toy model (A Toy Model of Interference Weights).",
        discussion: """
        Trains the tied toy model with two seeds (undertrained and converged), lifts it to the virtual \
        weights U = WᵀW, computes the exact ΔL of every weight in one pass, labels real weights \
        (ΔL > ε), scores the heuristics (|U|, ERA, TWERA, frequency) with precision-recall and \
        precision-against-loss-gain curves, and compares seeds. Preset: I1 (I2 to I7 are not built yet). \
        Writes a run folder with config.json, model.safetensors, metrics.json, figures/*.svg and report.html.
        """)

    @Option(help: "Preset: I1.") var preset: String = "I1"
    @Option(help: "Training steps of the undertrained model (the first variant).") var steps: Int?
    @Option(help: "Training steps of the converged model (the second variant).") var convergedSteps: Int?
    @Option(help: "Seed of the first model; the second uses seed + 1.") var seed: UInt64?
    @Option(help: "Evaluation samples for ΔL and the heuristics.") var evaluationSamples: Int?
    @Option(help: "Definition 2's threshold ε: a weight is real iff ΔL > ε.") var epsilon: Double?
    @Option(name: .shortAndLong, help: "Folder to put the run folder in.") var output: String = "runs"
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let config = try resolvedConfig()
        let quiet = self.quiet
        let outcome = try InterferenceExperiment.run(config, under: URL(fileURLWithPath: output),
                                                     progress: { ProgressReporter.make(title: $0, quiet: quiet) })
        if !quiet {
            for v in outcome.metrics.variants {
                let rates = v.models.map { String(format: "%.2f%%", $0.realBaseRate * 100) }.joined(separator: " ")
                let diagonal = v.models.map { "\($0.realDiagonalCount)/\(outcome.metrics.features)" }.joined(separator: " ")
                print(String(format: "  %-13@ real %@  real diagonal %@  seed correlation: diagonal %.3f, off-diagonal %.3f",
                             v.name as NSString, rates as NSString, diagonal as NSString, v.diagonalCorrelation, v.offDiagonalCorrelation))
            }
        }
        print(outcome.report.path)
    }

    func resolvedConfig() throws -> InterferenceConfig {
        var config = try InterferencePreset.named(preset).config
        if let steps { config.variants[0].steps = steps }
        if let convergedSteps {
            guard config.variants.count > 1 else { throw ValidationError("this preset has no converged variant") }
            config.variants[1].steps = convergedSteps
        }
        if let seed {
            guard seed < UInt64.max else { throw ValidationError("seed must be below \(UInt64.max)") }
            config.seeds = [seed, seed + 1]
        }
        if let evaluationSamples { config.evaluationSamples = evaluationSamples }
        if let epsilon { config.epsilon = epsilon }
        try config.validate()
        return config
    }
}
