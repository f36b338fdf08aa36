import Foundation
import Testing
@testable import Figures

/// Writes one of each figure to `$FIGURES_DEMO` (e.g. /tmp/figures-demo) for a visual check.
/// Skipped unless that environment variable is set.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FIGURES_DEMO"] != nil))
struct DemoFigures {
    let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["FIGURES_DEMO"] ?? "/tmp/figures-demo")

    func save(_ figure: Figure, _ name: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try figure.writeSVG(to: folder.appendingPathComponent("\(name).svg"))
        try figure.writePNG(to: folder.appendingPathComponent("\(name).png"))
    }

    @Test func fontSample() throws {
        let lines = [
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "abcdefghijklmnopqrstuvwxyz 0123456789",
            "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
            "− · ‖W‖² ≈ — – × ± ° ≤ ≥ → 10⁻³ x₁ α β λ μ σ θ ε Δ Σ",
            "Feature importance ‖Wᵢ‖ vs sparsity (1 − S)",
        ]
        var scene = Scene(size: Size(width: 620, height: 300))
        for (index, line) in lines.enumerated() {
            scene.add(.text(line, at: Point(10, 30 + Double(index) * 34), style: TextStyle(size: 20)))
        }
        scene.add(.text("Bold Title 123", at: Point(10, 210), style: TextStyle(size: 16, weight: .bold)))
        scene.add(.text("rotated", at: Point(560, 280), style: TextStyle(size: 14, rotation: -90)))
        scene.add(.arrow(from: Point(300, 280), to: Point(400, 220), stroke: Stroke(.black, width: 1.5)))
        scene.add(.circle(center: Point(450, 250), radius: 20, fill: Palette.tab10[0], stroke: Stroke(.black, width: 1)))
        scene.add(.polyline([Point(200, 280), Point(230, 230), Point(260, 280)], stroke: Stroke(Palette.tab10[1], width: 3, dash: [6, 3])))
        try save(Figure(scene: scene), "font")
    }

    /// Deterministic pseudo-random numbers so the demo looks the same on every run.
    struct Noise {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        mutating func normal() -> Double {
            let u = max(1e-12, next()), v = next()
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
    }

    @Test func allCharts() throws {
        var noise = Noise()
        let steps = (0..<400).map { Double($0) * 25 }
        let series = (0..<3).map { run -> LineSeries in
            var y = steps.map { step in 0.5 * exp(-step / Double(1500 * (run + 1))) + 0.02 + 0.01 * noise.next() }
            if run == 1 { y[100] = .nan }
            return LineSeries(name: "n = \([20, 40, 80][run]), m = 5", x: steps, y: y)
        }
        try save(LinePlot(title: "Training loss", xLabel: "Step", yLabel: "Loss (MSE)", series: series,
                          yScale: .log10, referenceLines: [.horizontal(at: 0.03, label: "baseline"),
                                                           .vertical(at: 5000, label: "lr decay")]).figure(), "line")

        let importance = (0..<80).map { pow(0.9, Double($0)) }
        let norms = importance.map { min(1.2, max(0, 1 - 0.6 * log10(1 / $0) + 0.1 * noise.normal())) }
        let superposition = (0..<80).map { _ in noise.next() }
        try save(ScatterPlot(title: "Feature norm vs importance", x: importance, y: norms,
                             xLabel: "Importance Iᵢ", yLabel: "‖Wᵢ‖", color: .values(superposition, label: "Superposition"),
                             xScale: .log10, referenceLines: [.horizontal(at: 1, label: "‖Wᵢ‖ = 1")]).figure(), "scatter")

        let kinds = (0..<80).map { ["dedicated", "superposed", "ignored"][$0 % 3] }
        try save(ScatterPlot(title: "Prediction vs target", x: norms, y: norms.map { $0 + 0.1 * noise.normal() },
                             xLabel: "target", yLabel: "prediction", color: .categories(kinds, title: "Feature"),
                             showsDiagonal: true).figure(), "scatter-categories")

        let sample = (0..<600).map { _ in noise.normal() }
        try save(Histogram(title: "Distribution of biases", values: sample, xLabel: "bᵢ",
                           color: .values(sample.map { abs($0) }, label: "mean |bᵢ|")).figure(), "histogram")
        let groups = sample.map { $0 > 0.5 ? "positive" : ($0 < -0.5 ? "negative" : "near zero") }
        try save(Histogram(title: "Stacked by category", values: sample.map { $0 * 2 + 1 }, xLabel: "value",
                           color: .categories(groups)).figure(), "histogram-stacked")

        let heavy = (0..<2000).map { _ in exp(2 * noise.normal()) }
        try save(Histogram(title: "Heavy tail, log counts", values: heavy, xLabel: "activation", bins: 40,
                           yScale: .log10, referenceLines: [.vertical(at: 20, label: "cut-off")]).figure(), "histogram-log")
        let sweep = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]
        try save(LinePlot(title: "Dimensions per feature", xLabel: "1 − S", yLabel: "m / ‖W‖²_F",
                          series: [LineSeries(name: "measured", x: sweep.map { 1 - $0 }, y: sweep.map { 1 / (1 + 4 * $0 * $0) }, showsMarkers: true),
                                   LineSeries(name: "1/2", x: [0.001, 1], y: [0.5, 0.5], color: .gray, isDashed: true)],
                          xScale: .log10).figure(width: 460, height: 340), "line-markers")
        let n = 20
        let w = (0..<2).map { _ in (0..<n).map { _ in noise.normal() / 2 } }
        let gram = (0..<n).map { i in (0..<n).map { j in w[0][i] * w[0][j] + w[1][i] * w[1][j] } }
        try save(Heatmap(title: "WᵀW", values: gram, xLabel: "feature j", yLabel: "feature i", colorLabel: "(WᵀW)ᵢⱼ").figure(), "heatmap")
        let small = (0..<4).map { i in (0..<5).map { j in Double(i - j) / 3 } }
        try save(Heatmap(title: "Small matrix with values", values: small,
                         rowLabels: ["a", "b", "c", "d"], showsValues: true).figure(), "heatmap-values")

        let barValues = (0..<12).map { _ in abs(noise.normal()) }
        try save(BarChart(title: "Feature norms", labels: (0..<12).map { "feature \($0)" }, values: barValues,
                          valueLabel: "‖Wᵢ‖", color: .values(superposition.prefix(12), label: "Superposition"),
                          orientation: .horizontal).figure(), "bar-horizontal")
        try save(BarChart(title: "Bias per feature", values: (0..<30).map { _ in noise.normal() },
                          categoryLabel: "feature", valueLabel: "bias",
                          color: .values((0..<30).map { _ in noise.normal() }, label: "Δ", scale: .diverging()),
                          referenceLines: [.horizontal(at: 1, label: "threshold")]).figure(), "bar-vertical")

        try save(BarChart(title: "Long category names", labels: (0..<15).map { "model \($0) (S = 0.\($0 * 7 % 10))" },
                          values: (0..<15).map { Double($0 % 5) + 0.5 }, categoryLabel: "run", valueLabel: "loss",
                          color: .categories((0..<15).map { $0 % 2 == 0 ? "even" : "odd" })).figure(), "bar-rotated")
        let angles = (0..<5).map { 2 * Double.pi * Double($0) / 5 }
        try save(ArrowPlot(title: "Pentagon", x: angles.map(cos), y: angles.map(sin),
                           labels: (0..<5).map { "f\($0)" }, color: .values(importance.prefix(5), label: "Importance")).figure(), "arrows")

        let panels = (0..<10).map { index -> any Chart in
            let sparsity = [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999][index]
            let count = min(5, 2 + index / 2)
            let angles = (0..<5).map { 2 * Double.pi * Double($0) / Double(count) }
            let lengths = (0..<5).map { $0 < count ? 1.0 : 0.05 * Double($0) }
            return ArrowPlot(title: "1 − S = \(NumberFormat.compact(1 - sparsity))",
                             x: zip(angles, lengths).map { cos($0) * $1 }, y: zip(angles, lengths).map { sin($0) * $1 },
                             color: .perItem(Array(Palette.tab10.prefix(5))))
        }
        try save(SmallMultiples(title: "Feature directions as sparsity increases", panels: panels).figure(), "small-multiples")

        let mixed: [any Chart] = [
            LinePlot(title: "Loss", xLabel: "step", series: [LineSeries(name: "a", x: steps, y: series[0].y)], yScale: .log10),
            Histogram(title: "Biases", values: sample),
            Heatmap(title: "WᵀW", values: gram),
            ScatterPlot(title: "Norms", x: importance, y: norms, xScale: .log10),
        ]
        try save(SmallMultiples(title: "Mixed panels", panels: mixed, columns: 2).figure(), "small-multiples-mixed")

        let densities = (0..<20).map { NumberFormat.compact(pow(10, -2 + 2 * Double($0) / 19), significantDigits: 2) }
        let relative = (0..<20).map { NumberFormat.compact(pow(10, -1 + 2 * Double($0) / 19), significantDigits: 2) }
        let cells: [[Int]] = (0..<20).map { (row: Int) -> [Int] in
            (0..<20).map { (column: Int) -> Int in
                let c = Double(column), r = Double(row)
                if c - 10 > (r - 12) * 0.8 { return 2 }
                return r > 8 + c * 0.3 ? 1 : 0
            }
        }
        try save(CategoricalGrid(title: "Phase diagram", categories: ["not represented", "dedicated", "superposition"],
                                 cells: cells, columnLabels: relative, rowLabels: densities,
                                 xLabel: "Relative importance", yLabel: "Feature density (1 − S)",
                                 colors: [Color(hex: 0xD9D9D9), Color(hex: 0x4C72B0), Color(hex: 0xDD8452)],
                                 legendTitle: "Extra feature").figure(), "phase-diagram")

        try save(LinePlot(title: "Only NaN", series: [LineSeries(name: "x", x: [1.0, 2], y: [Double.nan, .infinity])]).figure(), "empty")
    }

    @Test func report() throws {
        var page = ReportPage(title: "Toy model: 5 features in 2 dimensions",
                              subtitle: "Sparsity sweep of the ReLU output model. Figures are inline SVG; this file is self-contained.",
                              footer: "Generated by superpose (demo).")
        page.add(.section("Setup"))
        page.add(.keyValues([("features (n)", "5"), ("hidden dimensions (m)", "2"), ("steps", "10 000"),
                             ("importance", "0.9ⁱ"), ("optimizer", "AdamW, lr = 10⁻³")], caption: "Hyperparameters"))
        page.add(.note("Loss for S = 0.999 is still decreasing at the end of training; longer runs may change the picture."))
        page.add(.section("Results"))
        page.add(.paragraph("As sparsity increases the model represents more features than it has dimensions, arranging them as a pentagon."))
        let angles = (0..<5).map { 2 * Double.pi * Double($0) / 5 }
        page.add(.figure(ArrowPlot(title: "Feature directions at S = 0.9", x: angles.map(cos), y: angles.map(sin),
                                   labels: (0..<5).map { "f\($0)" }).figure(), caption: "Columns of W as arrows."))
        page.add(.figures([
            Heatmap(title: "WᵀW", values: (0..<5).map { i in (0..<5).map { j in cos(angles[i] - angles[j]) } }).figure(width: 380, height: 330),
            BarChart(title: "‖Wᵢ‖", values: [1.0, 0.98, 0.97, 0.99, 1.01], categoryLabel: "feature").figure(width: 380, height: 330),
        ], caption: "Gram matrix and feature norms."))
        page.add(.numericTable(headers: ["1 − S", "loss", "features represented"], rows: [[1, 0.0123, 2], [0.1, 0.00456, 2], [0.01, 0.000789, 5]],
                               caption: "Final loss per sparsity"))
        page.add(.json("{\n  \"features\": 5,\n  \"note\": \"<escaped> & safe\"\n}", caption: "config.json"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try page.write(to: folder.appendingPathComponent("report.html"))
    }
}
