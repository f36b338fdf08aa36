import Decomposition
import Figures
import Foundation

/// The figures and report.html of an APD run.
public struct APDReport: RunReport, Sendable {
    public var config: APDConfig
    public var metrics: APDMetrics
    /// Instances drawn in the per-instance figures (all numbers stay in the tables and metrics.json).
    static let drawnInstances = 4

    public init(config: APDConfig, metrics: APDMetrics) {
        self.config = config
        self.metrics = metrics
    }

    public func figures() -> [ReportFigure] {
        var out: [ReportFigure] = []
        let shown = Array(metrics.instances.prefix(Self.drawnInstances))
        let (n, c) = (metrics.features, metrics.components)
        if metrics.hidden == 2 {
            var panels: [any Chart] = []
            // One colour per feature in every panel (numbered at the tips), so no legend is needed.
            let colors = Coloring.perItem((0..<n).map { Palette.tab10[$0 % Palette.tab10.count] })
            for instance in shown {
                let tag = "inst. \(instance.index)"
                panels.append(ArrowPlot(title: "\(tag): target", x: instance.targetRows.map { $0[0] }, y: instance.targetRows.map { $0[1] },
                                        labels: (0..<n).map(String.init), color: colors))
                for (k, rows) in instance.componentRows.enumerated() {
                    panels.append(ArrowPlot(title: "\(tag): component \(k)", x: rows.map { $0[0] }, y: rows.map { $0[1] },
                                            labels: (0..<n).map(String.init), color: colors,
                                            limit: instance.targetRows.map { Double(($0[0] * $0[0] + $0[1] * $0[1]).squareRoot()) }.max().map { max($0, 1) * 1.1 }))
                }
            }
            out.append(ReportFigure(
                name: "feature-directions", heading: "Target columns and component columns",
                description: "Each row of panels is one instance: first the target's feature directions (the columns W_i of the toy model, in its 2-D hidden space), then the same columns of each component A_c B_c. The paper: each component holds one feature's column and (almost) nothing else, so that the components are the model's mechanisms; a component holding parts of two features is a merge.",
                caption: "Instances \(shown.map { String($0.index) }.joined(separator: ", ")). metrics.json: instances[].targetRows, componentRows",
                figure: SmallMultiples(title: "\(metrics.experiment): target and components", panels: panels, columns: c + 1,
                                       panelSize: Size(width: 170, height: 180)).figure()))
        }
        var shares: [any Chart] = []
        for instance in shown {
            shares.append(Heatmap(title: "instance \(instance.index)" + (instance.alignment.separatesFeatures ? "" : " (\(instance.alignment.verdict))"),
                                  values: instance.rowShare, rowLabels: (0..<c).map { "c\($0)" },
                                  columnLabels: (0..<n).map(String.init), xLabel: "feature", yLabel: "component",
                                  colorLabel: "‖(A_c B_c)_f‖ / ‖W_f‖", scale: .sequential(.viridis, domain: 0...1),
                                  showsValues: n * c <= 60))
        }
        out.append(ReportFigure(
            name: "component-feature-shares", heading: "Which component holds which feature",
            description: "For each component c and feature f, the norm of the component's column for f relative to the target's: a permutation-like pattern (one bright cell per column) is one component per feature. Shrinkage shows as cells below 1 (the paper's ML2R of about 0.9 for TMS 5-2).",
            caption: "metrics.json: instances[].rowShare",
            figure: SmallMultiples(title: "\(metrics.experiment): component shares of each feature", panels: shares,
                                   columns: min(2, shares.count), panelSize: Size(width: max(320, 24 * Double(n) + 160), height: max(260, 14 * Double(c) + 120))).figure()))
        let steps = metrics.history.steps.map(Double.init)
        func series(_ name: String, _ value: (APDLossTerms) -> Double) -> LineSeries {
            LineSeries(name: name, x: steps, y: metrics.history.terms.map { value($0[0]) })
        }
        let curves = Self.lossSeries(config.decomposition, series) + [series("total (weighted)", \.total)]
        out.append(ReportFigure(
            name: "loss-curves", heading: "Training curves of each loss term",
            description: "Each APD loss term before its coefficient, averaged over instances, on the training batches. Faithfulness (parameter match) falls fast; the top-k reconstruction and the Schatten penalty trade off for the rest of training.",
            caption: "metrics.json: history.steps, history.terms",
            figure: LinePlot(title: "\(metrics.experiment): loss terms", xLabel: "step", yLabel: "loss term", series: curves, yScale: .log10).figure()))
        return out
    }

    public func page(figures: [ReportFigure]) -> ReportPage {
        let d = config.decomposition
        let spec = config.target ?? APDPreset.tms52.config.target!
        var page = ReportPage(title: "Attribution-based Parameter Decomposition: \(config.name)",
                              subtitle: "Target: ReLU-output toy model \(metrics.features)→\(metrics.hidden), \(metrics.instances.count) instances; C = \(d.components) components of rank \(d.rank)")
        page.add(.section("Setup"))
        page.add(.keyValues([
            ("target", spec.file.map { "read from \($0)" } ?? "trained here: \(spec.training.steps) steps, batch \(spec.training.batchSize), lr \(spec.training.learningRate) (\(spec.training.schedule.shape.rawValue))"),
            ("feature probability", ReportFormat.number(spec.featureProbability)),
            ("minimality", Self.minimality(d)),
            ("attributions from", d.attributionSource.rawValue),
            ("coefficients", Self.coefficients(d)),
            ("optimiser", "Adam lr \(d.learningRate), \(d.schedule.shape.rawValue) after \(ReportFormat.number(d.schedule.warmupFraction * 100)) % warmup, \(ReportFormat.integer(d.steps)) steps of batch \(d.batchSize)"),
            ("seed", "\(d.seed)"),
            ("time", String(format: "target %.1f s, APD %.1f s (%.0f steps/s, %d threads)", metrics.targetTrainingSeconds, metrics.decompositionSeconds, metrics.stepsPerSecond, metrics.threads)),
        ]))
        if !config.notes.isEmpty {
            page.add(.subheading("Settings the paper leaves unstated, and choices"))
            for note in config.notes { page.add(.note(note)) }
        }
        if let note = Self.variantNote(d) { page.add(.note(note)) }
        page.add(.section("Summary"))
        let s = metrics.summary
        func pm(_ mean: Double?, _ sd: Double?) -> String { mean.map { "\(ReportFormat.number($0, digits: 4)) ± \(ReportFormat.number(sd ?? 0, digits: 2))" } ?? "–" }
        page.add(.keyValues([
            ("MMCS, instances that separate features", pm(s.meanMMCSSeparating, s.standardDeviationMMCSSeparating) + " (paper, TMS 5-2: 0.998 ± 0.000; 40-10: 0.996 ± 0.003)"),
            ("ML2R, instances that separate features", pm(s.meanML2RSeparating, s.standardDeviationML2RSeparating) + " (paper, TMS 5-2: 0.893 ± 0.004; 40-10: 0.935 ± 0.001)"),
            ("instances that separate features", "\(s.separatingInstances.count) of \(metrics.instances.count): \(ReportFormat.ranges(s.separatingInstances))"),
            ("MMCS / ML2R, all instances", "\(ReportFormat.number(s.meanMMCS, digits: 4)) / \(ReportFormat.number(s.meanML2R, digits: 4))"),
        ]))
        let terms = Self.trainedTerms(d)
        page.add(.table(headers: ["instance", "MMCS", "ML2R", "separates", "‖W − ΣAB‖/‖W‖", "target loss"] + terms.map(\.short),
                        rows: metrics.instances.map { i in
                            [String(i.index), ReportFormat.number(i.alignment.meanMaxCosineSimilarity, digits: 4), ReportFormat.number(i.alignment.meanL2Ratio, digits: 4),
                             i.alignment.separatesFeatures ? "yes" : "no", ReportFormat.number(i.relativeParameterError), i.targetLoss.map { ReportFormat.number($0) } ?? "– (read from a file)"]
                                + terms.map { ReportFormat.number(i.finalTerms[keyPath: $0.value]) }
                        },
                        caption: "Loss terms of the last training batch, before their coefficients. metrics.json: instances[]"))
        for item in figures { page.addSection(for: item) }
        return page
    }
}
