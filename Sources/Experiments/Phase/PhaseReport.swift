import Analysis
import Figures
import Foundation
import TensorCore
import ToyModels

/// The report of a phase-diagram run: `figures/*.svg` and one self-contained `report.html`,
/// built from the run's config and metrics (every number shown is in metrics.json).
public struct PhaseReport: RunReport, Sendable {
    public var config: PhaseConfig
    public var metrics: PhaseMetrics

    public init(config: PhaseConfig, metrics: PhaseMetrics) throws {
        guard metrics.grid == config.grid, metrics.cells.count == config.cellCount else {
            throw ExperimentError("metrics.json describes a \(metrics.grid)×\(metrics.grid) grid with \(metrics.cells.count) cells but config.json has grid \(config.grid)")
        }
        self.config = config
        self.metrics = metrics
    }

    /// Reads config.json and metrics.json from a run folder.
    public init(contentsOf folder: RunFolder) throws {
        try self.init(config: JSONCoding.decode(PhaseConfig.self, from: folder.configURL),
                      metrics: JSONCoding.decode(PhaseMetrics.self, from: folder.metricsURL))
    }

    /// The colour of each phase: grey for a dropped feature, blue for a dedicated dimension,
    /// orange-red for superposition.
    public static func color(of phase: FeaturePhase) -> Color {
        switch phase {
        case .notRepresented: return Color(hex: 0xCFCFCF)
        case .dedicatedDimension: return Color(hex: 0x3A78C2)
        case .superposition: return Color(hex: 0xE4572E)
        }
    }

    var densityLabels: [String] { metrics.densities.map { ReportFormat.number($0, digits: 2) } }
    var importanceLabels: [String] { metrics.importances.map { ReportFormat.number($0, digits: 2) } }
    var xLabel: String { "feature density 1 − S (log scale; sparser to the right)" }
    var yLabel: String { "relative importance of feature \(metrics.variedFeature) (log)" }

    /// Every figure of the report, in page order.
    public func figures() -> [ReportFigure] {
        let phases = FeaturePhase.allCases
        let grid = CategoricalGrid(
            title: "n = \(metrics.features), m = \(metrics.hidden): how feature \(metrics.variedFeature) is stored",
            categories: phases.map(\.title),
            cells: metrics.phaseGrid.map { $0.map { phases.firstIndex(of: $0)! } },
            columnLabels: densityLabels, rowLabels: importanceLabels, xLabel: xLabel, yLabel: yLabel,
            colors: phases.map(Self.color(of:)), legendTitle: "feature \(metrics.variedFeature)", squareCells: true)
        let top = { (values: [[Double]]) in Array(values.reversed()) }  // heatmaps draw row 0 at the top
        let g = metrics.grid
        let norms = (0..<g).map { row in (0..<g).map { Double(metrics.cells[row * g + $0].norm) } }
        let overlaps = (0..<g).map { row in (0..<g).map { Double(metrics.cells[row * g + $0].maxOverlap) } }
        let normMap = Heatmap(title: "‖W_\(metrics.variedFeature)‖", values: top(norms), rowLabels: importanceLabels.reversed(),
                              columnLabels: densityLabels, xLabel: "feature density 1 − S", yLabel: "relative importance",
                              colorLabel: "norm", scale: .sequential(.viridis, domain: 0...max(1.2, norms.joined().max() ?? 1)))
        let overlapMap = Heatmap(title: "max |cos| with another represented feature", values: top(overlaps),
                                 rowLabels: importanceLabels.reversed(), columnLabels: densityLabels,
                                 xLabel: "feature density 1 − S", yLabel: "relative importance", colorLabel: "|cos|",
                                 scale: .sequential(.viridis, domain: 0...1))
        return [
            ReportFigure(name: "phase-diagram", heading: "Phase diagram",
                         description: diagramDescription, caption: diagramCaption, figure: grid.figure(width: 640, height: 520)),
            ReportFigure(name: "norm", heading: "Norm of the varied feature",
                         description: "‖W_\(metrics.variedFeature)‖ per cell: the first input of the classifier. Cells below \(ReportFormat.number(metrics.classifier.normThreshold)) are not represented.",
                         caption: "metrics.json: cells[].norm.", figure: normMap.figure(width: 560, height: 480)),
            ReportFigure(name: "overlap", heading: "Overlap with the other features",
                         description: "max_j |Ŵ_\(metrics.variedFeature) · Ŵ_j| over the other represented features: 1 for an antipodal pair, 0.5 for a triangle, 0 for orthogonal features (and for cells where no other feature is represented). At or above \(ReportFormat.number(metrics.classifier.overlapThreshold)) a represented feature is in superposition.",
                         caption: "metrics.json: cells[].maxOverlap.", figure: overlapMap.figure(width: 560, height: 480)),
        ]
    }

    var diagramDescription: String {
        "Each cell is one model trained at that feature density (x) and relative importance of feature \(metrics.variedFeature) (y); "
            + "the other features have importance 1. The paper's figure: with dense features the less important feature is dropped "
            + "(not represented, bottom left) and the more important one takes a dimension of its own (dedicated, top left); "
            + "as features get sparser a superposition region opens to the right, widest around relative importance 1."
    }

    var diagramCaption: String {
        "Classes from metrics.json (cells[].phase): not represented ‖W‖ < \(ReportFormat.number(metrics.classifier.normThreshold)); "
            + "superposition max |cos| ≥ \(ReportFormat.number(metrics.classifier.overlapThreshold)); dedicated otherwise."
    }

    public func page(figures: [ReportFigure]) -> ReportPage {
        var page = ReportPage(
            title: "\(config.name): phase diagram of n = \(config.features) features in m = \(config.hidden) dimension\(config.hidden == 1 ? "" : "s")",
            subtitle: "ReLU-output toy models x′ = ReLU(WᵀWx + b), one per cell of a \(config.grid) × \(config.grid) grid, "
                + "\(config.instances) instances trained side by side for \(ReportFormat.integer(config.training.steps)) steps (seed \(config.training.seed)).",
            footer: "Written by superpose phase from config.json and metrics.json. Reference: Elhage et al., Toy Models of Superposition (Anthropic, 2022), section \"Phase changes\".")
        page.add(.section("Summary"))
        page.add(.paragraph(summary))
        page.add(.keyValues(files, caption: "The run folder"))
        page.add(.section("Configuration"))
        page.add(.keyValues(configurationRows, caption: "config.json: the resolved configuration, seed included."))
        if !config.notes.isEmpty {
            page.add(.note("Settings the paper leaves unstated, chosen for this run:\n\n" + config.notes.joined(separator: "\n\n")))
        }
        page.add(.section("Phase diagram"))
        for figure in figures {
            page.add(.subheading(figure.heading))
            page.add(.paragraph(figure.description))
            page.add(.figure(figure.figure, caption: figure.caption + " File: figures/\(figure.name).svg."))
        }
        page.add(.section("Cells"))
        page.add(.table(headers: ["cell", "density", "importance", "phase", "‖W_last‖", "max |cos|", "all ‖W_j‖", "eval loss"],
                        rows: metrics.cells.map { cell in
                            [String(cell.index), ReportFormat.number(cell.density), ReportFormat.number(cell.importance),
                             cell.phase.title, ReportFormat.number(cell.norm), ReportFormat.number(cell.maxOverlap),
                             cell.featureNorms.map { ReportFormat.number($0) }.joined(separator: ", "),
                             ReportFormat.number(cell.evaluationLoss, digits: 4)]
                        },
                        caption: "Every cell, bottom row first (metrics.json, cells)."))
        return page
    }

    var summary: String {
        let counts = FeaturePhase.allCases.map { "\(metrics.phaseCounts[$0.rawValue] ?? 0) \($0.title)" }.joined(separator: ", ")
        return "\(metrics.cells.count) cells: \(counts). Trained in \(ReportFormat.number(metrics.timing.trainingSeconds, digits: 3)) s "
            + "(\(ReportFormat.integer(Int(metrics.timing.stepsPerSecond.rounded()))) steps/s for all instances together, on "
            + "\(metrics.timing.threads) thread\(metrics.timing.threads == 1 ? "" : "s"))."
    }

    var files: [(String, String)] {
        [("config.json", "the resolved configuration, seed included"),
         ("model.safetensors", "W: [cell, m, n] = [\(config.cellCount), \(config.hidden), \(config.features)] and b_final: [cell, n]; cell = row · \(config.grid) + column"),
         ("metrics.json", "every cell's density, importance, phase, norm, max overlap and loss"),
         ("figures/", "each figure as SVG")]
    }

    var configurationRows: [(String, String)] {
        let t = config.training
        return [
            ("experiment", config.name),
            ("features n, hidden m", "\(config.features), \(config.hidden)"),
            ("grid", "\(config.grid) × \(config.grid)"),
            ("feature density (x)", "log-spaced \(ReportFormat.number(config.densest)) to \(ReportFormat.number(config.sparsest)), the same for every feature"),
            ("importance (y)", "feature \(config.variedFeature): log-spaced \(ReportFormat.number(config.importanceLow)) to \(ReportFormat.number(config.importanceHigh)); others 1"),
            ("restarts per cell", config.restarts == 1 ? "1" : "\(config.restarts), the lowest evaluation loss kept"),
            ("steps", ReportFormat.integer(t.steps)),
            ("batch size", ReportFormat.integer(t.batchSize)),
            ("optimizer", "AdamW, learning rate \(ReportFormat.number(t.learningRate)), weight decay \(ReportFormat.number(t.weightDecay)), \(t.schedule.shape.rawValue) schedule"),
            ("seed", "\(t.seed)"),
            ("thresholds", "norm \(ReportFormat.number(config.classifier.normThreshold)), overlap \(ReportFormat.number(config.classifier.overlapThreshold))"),
        ]
    }
}
