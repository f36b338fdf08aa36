import ArgumentParser
import Experiments
import Foundation

/// `superpose report RUN_FOLDER`: re-renders figures/ and report.html from a run folder, without retraining.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-render a run folder's figures/ and report.html from its config, metrics and model.",
        discussion: """
        Reads config.json, metrics.json and model.safetensors from RUN_FOLDER and writes figures/*.svg \
        (and figures/*.png with --png) and report.html there, replacing earlier ones atomically.
        """)

    @Argument(help: "A run folder written by `superpose tms`, `phase`, `abs`, `interference`, `apd` or the showcase.") var runFolder: String
    @Flag(help: "Also write each figure as a PNG image beside its SVG.") var png = false
    @Flag(help: "Print nothing but errors.") var quiet = false

    func run() throws {
        let folder = RunFolder(url: URL(fileURLWithPath: runFolder))
        // Each experiment's config has a key the others lack (abs: "neurons", phase: "grid",
        // interference: "variants", I5: "densities", I6: "activeFeatures", I7: "arrangements",
        // apd: "decomposition").
        let keys = (try? Data(contentsOf: folder.configURL))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }.map { Set($0.keys) } ?? []
        let name: String, page: URL
        if keys.contains("neurons") {
            let config = try JSONCoding.decode(AbsoluteValueConfig.self, from: folder.configURL)
            let metrics = try JSONCoding.decode(AbsoluteValueMetrics.self, from: folder.metricsURL)
            let model = try AbsoluteValueExperiment.loadModel(from: folder.modelURL)
            (name, page) = (config.name, try AbsoluteValueReport(config: config, metrics: metrics, model: model)
                .write(to: folder, includingPNG: png))
        } else if keys.contains("variants") {
            let config = try JSONCoding.decode(InterferenceConfig.self, from: folder.configURL)
            let metrics = try JSONCoding.decode(InterferenceMetrics.self, from: folder.metricsURL)
            (name, page) = (config.name, try InterferenceReport(config: config, metrics: metrics)
                .write(to: folder, includingPNG: png))
        } else if keys.contains("decomposition") {
            let config = try JSONCoding.decode(APDConfig.self, from: folder.configURL)
            if config.kind == .gatedFunctions {
                let metrics = try JSONCoding.decode(GatedAPDMetrics.self, from: folder.metricsURL)
                (name, page) = (config.name, try GatedAPDReport(config: config, metrics: metrics).write(to: folder, includingPNG: png))
            } else if config.kind == .residualMLP {
                let metrics = try JSONCoding.decode(ResidualAPDMetrics.self, from: folder.metricsURL)
                (name, page) = (config.name, try ResidualAPDReport(config: config, metrics: metrics).write(to: folder, includingPNG: png))
            } else {
                let metrics = try JSONCoding.decode(APDMetrics.self, from: folder.metricsURL)
                (name, page) = (config.name, try APDReport(config: config, metrics: metrics).write(to: folder, includingPNG: png))
            }
        } else if keys.contains("densities") {
            let config = try JSONCoding.decode(UniformSuperpositionConfig.self, from: folder.configURL)
            let metrics = try JSONCoding.decode(UniformSuperpositionMetrics.self, from: folder.metricsURL)
            (name, page) = (config.name, try UniformSuperpositionReport(config: config, metrics: metrics).write(to: folder, includingPNG: png))
        } else if keys.contains("arrangements") {
            let config = try JSONCoding.decode(WeightSharingConfig.self, from: folder.configURL)
            let metrics = try JSONCoding.decode(WeightSharingMetrics.self, from: folder.metricsURL)
            (name, page) = (config.name, try WeightSharingReport(config: config, metrics: metrics).write(to: folder, includingPNG: png))
        } else if keys.contains("activeFeatures") {
            let config = try JSONCoding.decode(CorrelatedSetsConfig.self, from: folder.configURL)
            let metrics = try JSONCoding.decode(CorrelatedSetsMetrics.self, from: folder.metricsURL)
            (name, page) = (config.name, try CorrelatedSetsReport(config: config, metrics: metrics).write(to: folder, includingPNG: png))
        } else if keys.contains("grid") {
            let config = try JSONCoding.decode(PhaseConfig.self, from: folder.configURL)
            (name, page) = (config.name, try PhaseReport(contentsOf: folder).write(to: folder))
        } else {
            let report = try TMSReport(contentsOf: folder)
            (name, page) = (report.config.name, try report.write(to: folder, includingPNG: png))
        }
        if !quiet {
            print("\(name) report: \(page.path)")
        }
    }
}
