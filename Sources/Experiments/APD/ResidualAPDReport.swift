import Decomposition
import Figures
import Foundation

/// The figures and report.html of an APD run on a residual MLP.
public struct ResidualAPDReport: RunReport, Sendable {
    public var config: APDConfig
    public var metrics: ResidualAPDMetrics

    public init(config: APDConfig, metrics: ResidualAPDMetrics) {
        self.config = config
        self.metrics = metrics
    }

    public func figures() -> [ReportFigure] {
        let e = metrics.evaluation
        let n = metrics.features
        var out: [ReportFigure] = []
        let neuronCount = metrics.neurons.reduce(0, +)
        let meanTargetSingle = e.targetSingleFeatureLoss.reduce(0, +) / Double(max(n, 1))
        let limit = Double(e.targetNeuronContributions.flatMap { $0 }.map { abs($0) }.max() ?? 1)
        let panels: [any Chart] = [("target", e.targetNeuronContributions), ("each feature's component", e.componentNeuronContributions)].map {
            var heatmap = Heatmap(title: $0.0, values: $0.1, xLabel: "neuron", yLabel: "feature",
                                  colorLabel: "contribution", scale: .diverging(limit: limit))
            heatmap.squareCells = false  // 100 × 50 cells fill the panel
            return heatmap
        }
        out.append(ReportFigure(
            name: "neuron-contributions", heading: "Neuron contributions per feature: target and components",
            description: "For each feature f (rows) and neuron i (columns, all layers in order), the gain from f's input to f's output through neuron i: (W_E[f]·W_in[:, i])·(W_out[i, :]·W_U[:, f]). Left the target, right the component APD assigns to f alone. The paper: each component reproduces its feature's row of the target — the neurons that feature uses and their signs — and nothing else.",
            caption: "\(n) features × \(neuronCount) neurons. metrics.json: evaluation.targetNeuronContributions, componentNeuronContributions",
            figure: SmallMultiples(title: "\(metrics.experiment): neuron contributions", panels: panels, columns: 2,
                                   panelSize: Size(width: 520, height: 520)).figure()))
        // Samples with no feature on leave the output unchanged under any ablation: they would pile
        // up at zero loss, so the histogram leaves them out (the means include them).
        let floor = 1e-9
        let pairs = zip(e.scrubbedLoss, e.antiScrubbedLoss).filter { $0.0 > floor || $0.1 > floor }
        let values = pairs.map(\.0) + pairs.map(\.1)
        let kinds = Array(repeating: "scrubbed", count: pairs.count) + Array(repeating: "anti-scrubbed", count: pairs.count)
        let logValues = values.map { log10(max($0, floor)) }
        let leftOut = e.scrubbedLoss.count - pairs.count
        out.append(ReportFigure(
            name: "scrubbing", heading: "Scrubbed and anti-scrubbed losses",
            description: "Per evaluation sample, the mean squared difference from the target's outputs when a random half of the components is ablated while keeping the active features' components (scrubbed) or removing them (anti-scrubbed). The paper's Figure 8: scrubbed runs barely change the output, anti-scrubbed runs raise the loss a lot. Means: scrubbed \(ReportFormat.number(metrics.meanScrubbedLoss)), anti-scrubbed \(ReportFormat.number(metrics.meanAntiScrubbedLoss)), random half \(ReportFormat.number(metrics.meanRandomMaskLoss)), all components ablated \(ReportFormat.number(metrics.meanZeroMaskLoss)), none ablated \(ReportFormat.number(metrics.meanFullLoss)).",
            caption: "log10 of the per-sample loss; \(leftOut) of \(e.scrubbedLoss.count) samples with both losses below 1e-9 (no feature on) left out. metrics.json: evaluation.scrubbedLoss, antiScrubbedLoss",
            figure: Histogram(title: "\(metrics.experiment): scrubbing", values: logValues, xLabel: "log10 MSE from the target's output",
                              yLabel: "samples", bins: 60, color: .categories(kinds, title: "ablation")).figure()))
        out.append(ReportFigure(
            name: "single-component-loss", heading: "Each feature computed by its component alone",
            description: "For each feature f, on inputs where only f is on (x_f uniform in [−1, 1]), the squared error of output f against its label x_f + ReLU(x_f) with only f's component kept (the paper's Figure 16), against the target's own error on the same inputs (mean \(ReportFormat.number(meanTargetSingle))). Leaving the ReLU uncomputed would cost 1/6 ≈ 0.167. Features whose computation is spread over several components, or shared with another feature, stand out.",
            caption: "metrics.json: evaluation.singleComponentLoss, targetSingleFeatureLoss, featureComponent",
            figure: BarChart(title: "\(metrics.experiment): single-component loss per feature", labels: (0..<n).map(String.init),
                             values: e.singleComponentLoss, categoryLabel: "feature", valueLabel: "MSE of output f",
                             referenceLines: [.horizontal(at: meanTargetSingle, label: "target (mean)")]).figure()))
        let steps = metrics.history.steps.map(Double.init)
        func series(_ name: String, _ value: (APDLossTerms) -> Double) -> LineSeries {
            LineSeries(name: name, x: steps, y: metrics.history.terms.map { value($0[0]) })
        }
        out.append(ReportFigure(
            name: "loss-curves", heading: "Training curves of each loss term",
            description: "Each APD loss term before its coefficient, on the training batches.",
            caption: "metrics.json: history",
            figure: LinePlot(title: "\(metrics.experiment): loss terms", xLabel: "step", yLabel: "loss term",
                             series: APDReport.lossSeries(config.decomposition, series) + [series("total (weighted)", \.total)],
                             yScale: .log10).figure()))
        return out
    }

    public func page(figures: [ReportFigure]) -> ReportPage {
        let d = config.decomposition, e = metrics.evaluation
        var page = ReportPage(title: "Attribution-based Parameter Decomposition: \(config.name)",
                              subtitle: "Residual MLP: \(metrics.features) features, d_embed \(metrics.embeddingWidth), neurons per layer \(metrics.neurons.map(String.init).joined(separator: ", ")); C = \(d.components) components of rank \(d.rank)")
        page.add(.section("Setup"))
        page.add(.keyValues([
            ("target", config.residualMLP?.file.map { "read from \($0)" } ?? "trained here (\(ReportFormat.number(metrics.targetTrainingSeconds)) s)"),
            ("minimality", APDReport.minimality(d)),
            ("coefficients", APDReport.coefficients(d)),
            ("optimiser", "Adam lr \(d.learningRate), \(d.schedule.shape.rawValue) after \(ReportFormat.number(d.schedule.warmupFraction * 100)) % warmup, \(ReportFormat.integer(d.steps)) steps of batch \(d.batchSize); unit-norm A: \(d.unitNormA ? "yes" : "no"); init gain \(d.initialisationGain)"),
            ("time", String(format: "APD %.1f s (%.1f steps/s)", metrics.decompositionSeconds, metrics.stepsPerSecond)),
        ]))
        if !config.notes.isEmpty {
            page.add(.subheading("Settings the paper leaves unstated, and choices"))
            for note in config.notes { page.add(.note(note)) }
        }
        if let note = APDReport.variantNote(d) { page.add(.note(note)) }
        page.add(.section("Summary"))
        page.add(.keyValues([
            ("components: dead / one feature / two / more", "\(e.deadComponents) / \(e.oneFeatureComponents) / \(e.twoFeatureComponents) / \(e.manyFeatureComponents) (a component's features: those it is the top-attributed component of)"),
            ("scrubbed / anti-scrubbed loss", "\(ReportFormat.number(metrics.meanScrubbedLoss)) / \(ReportFormat.number(metrics.meanAntiScrubbedLoss)) (MSE from the target's outputs)"),
            ("random half / all ablated / none ablated", "\(ReportFormat.number(metrics.meanRandomMaskLoss)) / \(ReportFormat.number(metrics.meanZeroMaskLoss)) / \(ReportFormat.number(metrics.meanFullLoss))"),
            ("target loss / monosemantic baseline / y' = x", "\(ReportFormat.number(metrics.targetLoss)) / \(ReportFormat.number(metrics.monosemanticBaselineLoss)) / \(ReportFormat.number(metrics.identityBaselineLoss)) (against the labels)"),
            ("‖W − ΣAB‖/‖W‖ per matrix", metrics.relativeParameterError.map { ReportFormat.number($0) }.joined(separator: ", ")),
            ("final loss terms", APDReport.finalTerms(metrics.finalTerms, d)),
        ]))
        for item in figures { page.addSection(for: item) }
        return page
    }
}
