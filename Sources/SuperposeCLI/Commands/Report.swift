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

    @Argument(help: "A run folder written by `superpose tms` or the showcase.") var runFolder: String
    @Flag(help: "Also write each figure as a PNG image beside its SVG.") var png = false
    @Flag(help: "Print nothing but errors.") var quiet = false

    func run() throws {
        let folder = RunFolder(url: URL(fileURLWithPath: runFolder))
        let report = try TMSReport(contentsOf: folder)
        let page = try report.write(to: folder, includingPNG: png)
        if !quiet {
            print("\(report.config.name) report: \(page.path)")
        }
    }
}
