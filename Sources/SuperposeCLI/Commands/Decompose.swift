import ArgumentParser
import Experiments
import Foundation

/// `superpose apd`: Attribution-based Parameter Decomposition (seed 003).
struct Decompose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apd",
        abstract: "Decompose a model's parameters into mechanisms with Attribution-based Parameter Decomposition.",
        discussion: """
        Trains the target (or reads it with --target), decomposes its weights into C components \
        W = Σ_c A_c B_c with gradient attributions, batch top-k, parameter matching, top-k \
        reconstruction and the Schatten penalty, then measures how the components line up with the \
        target's features (MMCS, ML2R; scrubbing for residual MLPs). Presets: tms-5-2, tms-40-10, \
        resid-mlp-1 and resid-mlp-2 at the reference settings, and gated (the hand-coded network of Appendix B.1). \
        Writes a run folder with config.json, model.safetensors (target and components), metrics.json, \
        figures/*.svg and report.html.
        """)

    @Option(help: "Preset: tms-5-2, tms-40-10, resid-mlp-1, resid-mlp-2 or gated.") var preset: String = "tms-5-2"
    @Option(help: "A JSON config (e.g. a run's config.json) to run instead of a preset.") var config: String?
    @Option(help: "A model to decompose instead of training one: a TMS run's model.safetensors (W: [instance, m, n], b_final: [instance, n]) or a residual MLP with the reference's PyTorch names (W_E, W_U, layers.{i}.mlp_in.weight, ...).")
    var target: String?
    @Option(parsing: .unconditional, help: "Feature probability of the target's data (with --target).") var featureProbability: Float?
    @Option(parsing: .unconditional, help: "Instances of the target to train.") var instances: Int?
    @Option(parsing: .unconditional, help: "APD steps.") var steps: Int?
    @Option(parsing: .unconditional, help: "APD batch size.") var batch: Int?
    @Option(parsing: .unconditional, help: "Components C.") var components: Int?
    @Option(parsing: .unconditional, help: "Inner rank of each component.") var rank: Int?
    @Option(parsing: .unconditional, help: "Batch top-k, as a fraction of the batch size.") var topk: Double?
    @Option(parsing: .unconditional, help: "Coefficient of the Schatten (simplicity) penalty.") var schattenCoefficient: Double?
    @Option(parsing: .unconditional, help: "Coefficient of the top-k reconstruction loss.") var topkReconstructionCoefficient: Double?
    @Option(help: "Minimality: batchTopK or lpAttributions (the paper's Appendix A.2.3).") var minimality: String?
    @Option(parsing: .unconditional, help: "Coefficient of the L_p attribution penalty (with --minimality lpAttributions).") var lpCoefficient: Double?
    @Option(parsing: .unconditional, help: "p of the L_p attribution penalty, in (0, 2] (with --minimality lpAttributions).") var lpP: Double?
    @Option(help: "Initial components: kaimingUniform (the reference's residual MLP) or xavierNormal (the reference's TMS).") var initialisation: String?
    @Option(help: "Attributions from the target or from the decomposition.") var attributions: String?
    @Option(parsing: .unconditional, help: "APD learning rate.") var lr: Double?
    @Option(parsing: .unconditional, help: "AdamW weight decay of the components (the reference: 0).") var weightDecay: Double?
    @Option(parsing: .unconditional, help: "Seed of the decomposition (and of the target's training).") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Decompose each instance this many times (seeds seed, seed + 1, …) and keep the run with the lowest mean loss over its last tenth of steps (default 1, the paper's single run).") var restarts: Int?
    @Option(parsing: .unconditional, help: "Threads (0: one per core).") var threads: Int?
    @Option(name: .shortAndLong, help: "Folder to put the run folder in.") var output: String = "runs"
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let config = try resolvedConfig()
        let outcome = try APDExperiment.run(config, under: URL(fileURLWithPath: output),
                                            targetProgress: ProgressReporter.make(title: "\(config.name) target", quiet: quiet),
                                            progress: ProgressReporter.make(title: config.name, quiet: quiet))
        if !quiet, let residual = outcome.residualMetrics {
            let e = residual.evaluation
            print(String(format: "  scrubbed %.3g  anti-scrubbed %.3g  random half %.3g  all ablated %.3g  target %.3g  monosemantic %.3g",
                         residual.meanScrubbedLoss, residual.meanAntiScrubbedLoss, residual.meanRandomMaskLoss, residual.meanZeroMaskLoss,
                         residual.targetLoss, residual.monosemanticBaselineLoss))
            print("  components: \(e.deadComponents) dead, \(e.oneFeatureComponents) one-feature, \(e.twoFeatureComponents) two-feature, \(e.manyFeatureComponents) more; APD \(String(format: "%.1f", residual.decompositionSeconds)) s")
        }
        if !quiet, let gated = outcome.gatedMetrics {
            let e = gated.evaluation
            for f in e.bestComponent.indices {
                print(String(format: "  function %d: component %d, purity %.2f, coverage %.2f", f, e.bestComponent[f], e.bestComponentPurity[f], e.bestComponentCoverage[f]))
            }
        }
        if !quiet, let metrics = outcome.metrics {
            for i in metrics.instances {
                print(String(format: "  instance %2d  MMCS %.4f  ML2R %.4f  %@  ‖W − ΣAB‖/‖W‖ %.4f", i.index, i.alignment.meanMaxCosineSimilarity,
                             i.alignment.meanL2Ratio, i.alignment.verdict as NSString, i.relativeParameterError))
            }
            let s = metrics.summary
            let alignment = s.meanMMCSSeparating.map { mmcs in
                String(format: "MMCS %.4f, ML2R %.4f", mmcs, s.meanML2RSeparating ?? .nan)
            } ?? "no MMCS over separating instances"
            print("  separating instances: \(s.separatingInstances.count) of \(metrics.instances.count), \(alignment); APD "
                  + String(format: "%.1f s", metrics.decompositionSeconds))
        }
        print(outcome.report.path)
    }

    func resolvedConfig() throws -> APDConfig {
        var config = try self.config.map { try JSONCoding.decode(APDConfig.self, from: URL(fileURLWithPath: $0)) } ?? APDPreset.named(preset).config
        if let target {
            // A residual MLP file carries W_E; anything else is read as a toy model.
            if try SafeTensorsNames.read(target).contains("W_E") {
                if config.kind != .residualMLP { config = APDPreset.residualMLP1.config }
                config.residualMLP?.file = target
            } else {
                if config.kind != .toyModel { config = APDPreset.tms52.config }
                config.target?.file = target
            }
        }
        if let featureProbability {
            guard config.target != nil || config.residualMLP != nil else {
                throw ValidationError("--feature-probability applies to TMS and residual-MLP targets, not to \(config.name)")
            }
            config.target?.featureProbability = featureProbability
            config.residualMLP?.task.featureProbability = featureProbability
        }
        if let instances {
            guard config.target != nil else { throw ValidationError("--instances applies to TMS targets only, not to \(config.name)") }
            config.target?.instances = instances
        }
        if let steps { config.decomposition.steps = steps }
        if let batch { config.decomposition.batchSize = batch }
        if let components { config.decomposition.components = components }
        if let rank { config.decomposition.rank = rank }
        if let topk { config.decomposition.topK = topk }
        if let schattenCoefficient { config.decomposition.schattenCoefficient = schattenCoefficient }
        if let topkReconstructionCoefficient { config.decomposition.topKReconstructionCoefficient = topkReconstructionCoefficient }
        if let minimality {
            guard let value = APDSettingsMinimality(rawValue: minimality) else { throw ValidationError("minimality must be batchTopK or lpAttributions, got '\(minimality)'") }
            config.decomposition.minimality = value
        }
        if let lpCoefficient { config.decomposition.lpSparsityCoefficient = lpCoefficient }
        if let lpP { config.decomposition.lpSparsityP = lpP }
        if let initialisation {
            guard let value = APDSettingsInitialisation(rawValue: initialisation) else {
                throw ValidationError("initialisation must be kaimingUniform or xavierNormal, got '\(initialisation)'")
            }
            config.decomposition.initialisation = value
        }
        if let attributions {
            guard let value = APDSettingsAttributionSource(rawValue: attributions) else { throw ValidationError("attributions must be target or decomposition, got '\(attributions)'") }
            config.decomposition.attributionSource = value
        }
        if let lr { config.decomposition.learningRate = lr }
        if let weightDecay { config.decomposition.weightDecay = weightDecay }
        if let seed { config.decomposition.seed = seed; config.target?.training.seed = seed; config.residualMLP?.training.seed = seed }
        if let restarts { config.decomposition.restarts = restarts }
        if let threads { config.decomposition.threads = threads; config.target?.training.threads = threads; config.residualMLP?.training.threads = threads }
        try config.validate()
        return config
    }
}
