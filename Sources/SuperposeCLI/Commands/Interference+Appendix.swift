import ArgumentParser
import Experiments
import Foundation

/// The presets of `superpose interference` that are experiments of their own rather than the
/// two-seed ΔL analysis: I5 (converged uniform superposition) and I6 (correlated sets).
extension Interference {
    /// Runs `--preset I5` or `I6` and returns true; returns false for every other preset.
    func runAppendixPreset() throws -> Bool {
        switch preset.uppercased() {
        case "I5":
            try rejectOptions(["--converged-steps": convergedSteps != nil, "--evaluation-samples": evaluationSamples != nil,
                               "--epsilon": epsilon != nil], preset: "I5")
            var config = UniformSuperpositionPreset.i5
            if let steps { config.training.steps = steps }
            if let seed { config.training.seed = seed }
            try config.validate()
            let outcome = try UniformSuperpositionExperiment.run(config, under: URL(fileURLWithPath: output),
                                                                 progress: ProgressReporter.make(title: config.name, quiet: quiet))
            if !quiet {
                for i in outcome.metrics.instances {
                    print(String(format: "  density %-6g loss %.5f  %@  pentagon weights %@ / %@  largest U_ij %.3f (mean −b %.3f)",
                                 Double(i.density), Double(i.evaluationLoss), i.geometry.pentagons == 0 ? "no pentagons" : "\(i.geometry.pentagons) pentagons",
                                 i.pentagons.neighbourMean.map { String(format: "%.3f", $0) } ?? "–",
                                 i.pentagons.oppositeMean.map { String(format: "%.3f", $0) } ?? "–",
                                 Double(i.largestInterferenceWeight), Double(i.meanThreshold)))
                }
            }
            print(outcome.report.path)
            return true
        case "I6":
            try rejectOptions(["--converged-steps": convergedSteps != nil, "--epsilon": epsilon != nil], preset: "I6")
            var config = CorrelatedSetsPreset.i6
            if let steps { config.training.steps = steps }
            if let seed { config.training.seed = seed }
            if let evaluationSamples { config.evaluationSamples = evaluationSamples }
            try config.validate()
            let outcome = try CorrelatedSetsExperiment.run(config, under: URL(fileURLWithPath: output),
                                                           progress: ProgressReporter.make(title: config.name, quiet: quiet))
            if !quiet {
                let m = outcome.metrics
                print(String(format: "  intra-set U_ij %.4f ± %.4f  inter-set %.4f ± %.4f  component carries %.1f%%",
                             m.intraSetMean, m.intraSetStandardDeviation, m.interSetMean, m.interSetStandardDeviation, m.explainedFraction * 100))
                for a in m.ablations { print(String(format: "  loss, %-10@ ablated: %.6f", a.ablation.rawValue as NSString, a.loss)) }
            }
            print(outcome.report.path)
            return true
        case "I7":
            try runWeightSharingPreset()
            return true
        default:
            return false
        }
    }

    private func rejectOptions(_ given: [String: Bool], preset: String) throws {
        let shared = ["--config": config != nil, "--model": model != nil, "--density": density != nil,
                      "--block-density": blockDensity != nil, "--frozen-down": frozenDown, "--importance-ratio": importanceRatio != nil, "--mask-penalty": maskPenalty != nil,
                      "--mask-steps": maskSteps != nil, "--ig-steps": igSteps != nil]
        if let name = given.merging(shared, uniquingKeysWith: { $0 || $1 }).filter(\.value).keys.sorted().first {
            throw ValidationError("\(name) does not apply to preset \(preset)")
        }
    }
}
