import ArgumentParser
import Experiments
import Foundation

/// `superpose interference --preset I7`: non-linear weight sharing (the note's Appendix 1).
extension Interference {
    /// Runs I7 with the options that apply to it (--density, --steps, --seed, --evaluation-samples, --epsilon).
    func runWeightSharingPreset() throws {
        let given = ["--config": config != nil, "--model": model != nil, "--block-density": blockDensity != nil,
                     "--frozen-down": frozenDown, "--converged-steps": convergedSteps != nil,
                     "--importance-ratio": importanceRatio != nil, "--mask-penalty": maskPenalty != nil, "--mask-steps": maskSteps != nil,
                     "--ig-steps": igSteps != nil]
        if let name = given.filter(\.value).keys.sorted().first { throw ValidationError("\(name) does not apply to preset I7") }
        var config = WeightSharingPreset.i7
        if let density { config.featureProbability = density }
        if let steps { config.training.steps = steps }
        if let seed { config.training.seed = seed }
        if let evaluationSamples { config.evaluationSamples = evaluationSamples }
        if let epsilon { config.epsilon = epsilon }
        try config.validate()
        let outcome = try WeightSharingExperiment.run(config, under: URL(fileURLWithPath: output),
                                                      progress: ProgressReporter.make(title: config.name, quiet: quiet))
        if !quiet {
            for a in outcome.metrics.arrangements {
                let n = a.features
                let own = (0..<n).map { String(format: "%.3f", a.shared.virtualWeights[$0 * n + $0]) }.joined(separator: " ")
                let real = a.real.filter { $0 }.count
                print(String(format: "  %-10@ M / Σ parts %.3f  U_kk (all features) %@  |U − max of parts| %.3f, |U − sum| %.3f  real %d/%d",
                             a.name as NSString, a.ratioToSum, own as NSString, a.deviationFromMax, a.deviationFromSum, real, n * n))
            }
        }
        print(outcome.report.path)
    }
}
