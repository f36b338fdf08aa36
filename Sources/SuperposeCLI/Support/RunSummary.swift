import Experiments
import Foundation

/// Prints what a run produced: where its folder is and the numbers that matter at a glance.
enum RunSummary {
    static func print(_ outcome: TMSExperiment.Outcome, quiet: Bool) {
        let metrics = outcome.metrics
        var lines: [String] = []
        if !quiet {
            lines.append(String(format: "%@: %@ model, n=%d, m=%d, %d instances, trained in %.2fs (%.0f steps/s)",
                                metrics.experiment, metrics.kind.rawValue, metrics.features, metrics.hidden,
                                metrics.instances.count, metrics.timing.trainingSeconds, metrics.timing.stepsPerSecond))
            lines.append("  instance  p        loss      represented  dims/feature  geometry")
            for instance in metrics.instances {
                let dims = instance.geometry.dimensionsPerFeature.map { String(format: "%.3f", Double($0)) } ?? "-"
                lines.append(String(format: "  %8d  %-7.4f  %-8.5f  %4d of %-4d  ",
                                    instance.index, Double(instance.featureProbability), Double(instance.evaluationLoss),
                                    instance.geometry.representedFeatureCount, metrics.features)
                             + dims.padded(to: 12) + "  " + (instance.featureGeometry?.countSummary ?? "-"))
            }
        }
        lines.append("\(metrics.experiment) run folder: \(outcome.folder.url.path)")
        lines.append("\(metrics.experiment) report: \(outcome.report.path)")
        Swift.print(lines.joined(separator: "\n"))
    }
}
