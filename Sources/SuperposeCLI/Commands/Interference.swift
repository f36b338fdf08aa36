import ArgumentParser
import Experiments
import Foundation

/// `superpose interference`: A Toy Model of Interference Weights (seed 000).
struct Interference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interference",
        abstract: "Separate real from interference weights in a trained toy model (A Toy Model of Interference Weights).",
        discussion: """
        Trains a toy model with two seeds, lifts it to its virtual weights U (WᵀW tied, W_up W_down \
        untied), computes the exact ΔL of every weight in one pass, labels real weights (ΔL > ε), \
        scores the heuristics (|U|, ERA, TWERA, frequency, and on I1 a learned mask and integrated gradients) with precision-recall and \
        precision-against-loss-gain curves, and compares seeds. Presets: I1 (tied, undertrained and \
        converged), I2 (untied block circuit y = ReLU(A x + v), W_down learned and frozen), and the \
        appendix presets I5 (converged uniform superposition: pentagons at density 0.25, the bound on \
        interference weights at 0.001), I6 (two exclusive sets of correlated features, the set-level \
        component pulled out and ablated) and I7 (non-linear weight sharing: one shared weight multiplies \
        antipodal and 120° features by 2, compared with the sum and the maximum of what each feature alone \
        wants). --config re-runs a run's config.json; --model analyses a saved \
        model.safetensors without training (TMS: W [instance, m, n], b_final; interference runs: \
        W.<variant>, b_final.<variant>; untied: W_down [m, n], W_up [n, m], b [n], optional circuit \
        A [n, n] and v [n]; I2 runs: W_down.<variant>, W_up.<variant>, b.<variant>, A, v), with the \
        preset's (or --density's) evaluation distribution. Writes a run folder with config.json, \
        model.safetensors, metrics.json, figures/*.svg and report.html.
        """)

    @Option(help: "Preset: I1, I2, or an appendix preset; with --model, the analysis settings to use.") var preset: String = "I1"
    @Option(help: "A JSON config to re-run (a run's config.json); the options below override it.") var config: String?
    @Option(help: "A saved model.safetensors to analyse instead of training.") var model: String?
    @Option(parsing: .unconditional, help: "Feature density of the training and evaluation data.") var density: Float?
    @Option(parsing: .unconditional, help: "Importance I_i = R^i over the features (I1's preset: 0.99); 1 makes every feature weigh the same.") var importanceRatio: Double?
    @Option(parsing: .unconditional, help: "I2: probability that an entry inside a block of A is nonzero (the note: 0.1; its text also says 0.5).") var blockDensity: Float?
    @Flag(help: "I2: train only with W_down frozen as a random unit-norm projection.") var frozenDown = false
    @Option(parsing: .unconditional, help: "Training steps of the first variant (I1: undertrained; I2: every variant).") var steps: Int?
    @Option(parsing: .unconditional, help: "Training steps of the converged model (the second variant).") var convergedSteps: Int?
    @Option(parsing: .unconditional, help: "Seed of the first model; the second uses seed + 1.") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Evaluation samples for ΔL and the heuristics.") var evaluationSamples: Int?
    @Option(parsing: .unconditional, help: "Definition 2's threshold ε: a weight is real iff ΔL > ε.") var epsilon: Double?
    @Option(parsing: .unconditional, help: "Learned mask: λ in L(U ⊙ M) + λ Σ M (default 1e-4). Any mask or IG option also turns both scores on where the preset skips them.") var maskPenalty: Double?
    @Option(parsing: .unconditional, help: "Learned mask: Adam steps (default 600).") var maskSteps: Int?
    @Option(parsing: .unconditional, help: "Integrated gradients: trapezoid intervals from U = 0 to U (default 32).") var igSteps: Int?
    @Option(name: .shortAndLong, help: "Folder to put the run folder in.") var output: String = "runs"
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        if try runAppendixPreset() { return }
        let config = try resolvedConfig()
        let quiet = self.quiet
        let outcome = try InterferenceExperiment.run(config, under: URL(fileURLWithPath: output),
                                                     progress: { ProgressReporter.make(title: $0, quiet: quiet) })
        if !quiet {
            let ideal = outcome.metrics.idealWeights
            let support = ideal.map { $0.filter { $0 != 0 }.count } ?? outcome.metrics.features
            for v in outcome.metrics.variants {
                let rates = v.models.map { String(format: "%.2f%%", $0.realBaseRate * 100) }.joined(separator: " ")
                let diagonal = v.models.map { "\($0.realDiagonalCount)/\(support)" }.joined(separator: " ")
                var line = String(format: "  %-13@ real %@  real %@ %@", v.name as NSString, rates as NSString,
                                  (ideal == nil ? "diagonal" : "in A's support") as NSString, diagonal as NSString)
                if v.models.count > 1 {
                    line += String(format: "  seed correlation: %@ %.3f, rest %.3f, real %.3f, interference %.3f",
                                   (ideal == nil ? "diagonal" : "A's support") as NSString, v.diagonalCorrelation,
                                   v.offDiagonalCorrelation, v.realCorrelation ?? 0, v.interferenceCorrelation ?? 0)
                }
                if let models = v.models.first?.idealSlope, ideal != nil { line += String(format: "  slope U on A %.3f", models) }
                print(line)
            }
            if let rate = outcome.metrics.idealBaseRate { print(String(format: "  nnz(A)/n² = %.2f%%", rate * 100), terminator: "") }
            if let rate = outcome.metrics.circuitRealBaseRate { print(String(format: "; real in the circuit itself (U = A): %.2f%%", rate * 100), terminator: "") }
            if outcome.metrics.idealBaseRate != nil { print() }
        }
        print(outcome.report.path)
    }

    func resolvedConfig() throws -> InterferenceConfig {
        var config = try InterferencePreset.named(preset).config
        if let path = self.config { config = try JSONCoding.decode(InterferenceConfig.self, from: URL(fileURLWithPath: path)) }
        if let model {
            config.modelPath = URL(fileURLWithPath: model).standardizedFileURL.path
            config.name = config.name + "-model"
            config.variants = []
            config.circuit = nil
            config.learnedScores = nil
            // A saved model does not record its importances: weigh every output the same unless told.
            config.importanceRatio = nil
            guard steps == nil, convergedSteps == nil, seed == nil, blockDensity == nil, !frozenDown else {
                throw ValidationError("--model analyses a saved model: --steps, --converged-steps, --seed, --block-density and --frozen-down do not apply")
            }
        }
        if let density { config.featureProbability = density }
        if let importanceRatio { config.importanceRatio = importanceRatio == 1 ? nil : importanceRatio }
        if let blockDensity {
            guard config.circuit != nil else { throw ValidationError("--block-density applies to the circuit preset I2 only") }
            config.circuit?.blockDensity = blockDensity
        }
        if frozenDown {
            guard config.circuit != nil else { throw ValidationError("--frozen-down applies to the circuit preset I2 only") }
            config.variants = config.variants.filter { $0.frozenDown == true }
            guard !config.variants.isEmpty else { throw ValidationError("this config has no frozen-W_down variant") }
        }
        if let steps, !config.variants.isEmpty {
            if config.circuit != nil { for k in config.variants.indices { config.variants[k].steps = steps } } else { config.variants[0].steps = steps }
        }
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
        if maskPenalty != nil || maskSteps != nil || igSteps != nil {
            var learned = config.learnedScores ?? LearnedScoreSettings()
            if let maskPenalty { learned.mask.penalty = maskPenalty }
            if let maskSteps { learned.mask.steps = maskSteps }
            if let igSteps { learned.integratedGradientSteps = igSteps }
            config.learnedScores = learned
        }
        try config.validate()
        return config
    }
}
