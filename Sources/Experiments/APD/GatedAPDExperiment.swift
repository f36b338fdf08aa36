import Decomposition
import Figures
import Foundation
import TensorCore
import ToyModels

/// Everything an APD run on the gated-function network measured.
public struct GatedAPDMetrics: Codable, Equatable, Sendable {
    public var experiment: String
    public var functions: Int
    public var components: Int
    public var evaluation: GatedFunctionEvaluation
    /// ‖W − ΣAB‖ / ‖W‖ per decomposed matrix.
    public var relativeParameterError: [Double]
    public var finalTerms: APDLossTerms
    public var history: APDHistory
    public var decompositionSeconds: Double
}

/// APD on the hand-coded gated-function network (the paper's Appendix B.1): build it, decompose
/// it, measure how cleanly components split by function, write the run folder.
public enum GatedAPDExperiment {
    public static func run(_ config: APDConfig, under root: URL, progress: (@Sendable (TrainingProgress) -> Void)?) throws -> APDExperiment.Outcome {
        guard let spec = config.gatedFunctions else { throw ExperimentError("a gatedFunctions config needs a 'gatedFunctions' target") }
        let gated = GatedFunctionModel(functionCount: spec.functions, neuronsPerFunction: spec.neuronsPerFunction, layerCount: spec.layers, seed: spec.seed)
        let target = GatedFunctionTarget(gated: gated, data: GatedFunctionData(controlProbability: spec.controlProbability))
        return try RunFolder.create(under: root, experiment: config.name) { folder in
            let result = try APDExperiment.decompose(target, settings: config.decomposition, progress: progress)
            let metrics = GatedAPDMetrics(
                experiment: config.name, functions: gated.functionCount, components: config.decomposition.components,
                evaluation: GatedFunctionEvaluation(target: target, parameters: result.instance(0), layout: result.layout),
                relativeParameterError: result.relativeParameterErrors(of: target, instance: 0), finalTerms: result.finalTerms[0],
                history: result.history, decompositionSeconds: result.seconds)
            let tensors = ResidualMLPCheckpoint.tensors(of: gated.model).merging(result.componentTensors(instance: 0)) { target, _ in target }
            try folder.write(config: config, metrics: metrics) {
                try SafeTensors.write(tensors, metadata: ["format": "superposition.apd-gated.v1"], to: $0)
            }
            let report = try GatedAPDReport(config: config, metrics: metrics).write(to: folder)
            return APDExperiment.Outcome(folder: folder, metrics: nil, residualMetrics: nil, gatedMetrics: metrics, report: report)
        }
    }
}

/// The figures and report.html of an APD run on the gated-function network.
public struct GatedAPDReport: RunReport, Sendable {
    public var config: APDConfig
    public var metrics: GatedAPDMetrics

    public init(config: APDConfig, metrics: GatedAPDMetrics) {
        self.config = config
        self.metrics = metrics
    }

    public func figures() -> [ReportFigure] {
        let e = metrics.evaluation
        var heatmap = Heatmap(title: "\(metrics.experiment): each component's mass by function", values: e.functionShare,
                              rowLabels: e.componentMass.indices.map { "c\($0) (\(ReportFormat.number(e.componentMass[$0], digits: 2)))" },
                              columnLabels: (0..<metrics.functions).map { "f\($0)" }, xLabel: "function", yLabel: "component (mass)",
                              colorLabel: "share of the component's mass", scale: .sequential(.viridis, domain: 0...1), showsValues: true)
        heatmap.squareCells = false
        let steps = metrics.history.steps.map(Double.init)
        func series(_ name: String, _ value: (APDLossTerms) -> Double) -> LineSeries {
            LineSeries(name: name, x: steps, y: metrics.history.terms.map { value($0[0]) })
        }
        return [
            ReportFigure(name: "function-shares", heading: "Which component holds which function",
                         description: "For each component (rows, with its total squared weight mass), the share of its mass on each function's neurons. The paper: APD splits the network's weights by function, one component per function. Purity of each function's best component: \(e.bestComponentPurity.map { ReportFormat.number($0, digits: 2) }.joined(separator: ", ")); coverage: \(e.bestComponentCoverage.map { ReportFormat.number($0, digits: 2) }.joined(separator: ", ")).",
                         caption: "metrics.json: evaluation.functionShare, componentMass, bestComponent, bestComponentPurity, bestComponentCoverage",
                         figure: heatmap.figure()),
            ReportFigure(name: "loss-curves", heading: "Training curves of each loss term",
                         description: "Each APD loss term before its coefficient, on the training batches.", caption: "metrics.json: history",
                         figure: LinePlot(title: "\(metrics.experiment): loss terms", xLabel: "step", yLabel: "loss term",
                                          series: APDReport.lossSeries(config.decomposition, series), yScale: .log10).figure()),
        ]
    }

    public func page(figures: [ReportFigure]) -> ReportPage {
        let d = config.decomposition, e = metrics.evaluation
        var page = ReportPage(title: "Attribution-based Parameter Decomposition: \(config.name)",
                              subtitle: "The hand-coded gated-function network (Appendix B.1): \(metrics.functions) functions; C = \(d.components) components of rank \(d.rank)")
        page.add(.section("Settings the paper leaves unstated, and choices"))
        for note in config.notes { page.add(.note(note)) }
        if let note = APDReport.variantNote(d) { page.add(.note(note)) }
        page.add(.section("Summary"))
        page.add(.keyValues([
            ("best component per function", e.bestComponent.map { "c\($0)" }.joined(separator: ", ")),
            ("purity / coverage", zip(e.bestComponentPurity, e.bestComponentCoverage).map { "\(ReportFormat.number($0, digits: 2)) / \(ReportFormat.number($1, digits: 2))" }.joined(separator: "; ")),
            ("‖W − ΣAB‖/‖W‖ per matrix", metrics.relativeParameterError.map { ReportFormat.number($0) }.joined(separator: ", ")),
            ("minimality", APDReport.minimality(config.decomposition)),
            ("final loss terms", APDReport.finalTerms(metrics.finalTerms, config.decomposition)),
            ("time", String(format: "APD %.1f s", metrics.decompositionSeconds)),
        ]))
        for item in figures { page.addSection(for: item) }
        return page
    }
}
