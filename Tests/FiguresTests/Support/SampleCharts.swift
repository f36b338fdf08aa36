import Foundation
@testable import Figures

/// One chart of every type (and some variants), with small deterministic data.
enum SampleCharts {
    static let x = (0..<30).map { Double($0) / 3 }
    static let y = x.map { sin($0) + 1.5 }

    static var all: [(name: String, chart: any Chart)] {
        [
            ("line", LinePlot(title: "Loss", xLabel: "step", yLabel: "loss",
                              series: [LineSeries(name: "train", x: x, y: y), LineSeries(name: "test", x: x, y: y.map { $0 * 1.1 }, showsMarkers: true, isDashed: true)],
                              referenceLines: [.horizontal(at: 1, label: "one"), .vertical(at: 5, label: "five")])),
            ("line-log", LinePlot(title: "Log", series: [LineSeries(y: y.map(Float.init))], xScale: .log10, yScale: .log10)),
            ("scatter-values", ScatterPlot(title: "Scatter", x: x, y: y, color: .values(y, label: "y"), showsDiagonal: true)),
            ("scatter-categories", ScatterPlot(title: "Categories", x: x, y: y,
                                               color: .categories(x.map { $0 < 5 ? "low" : "high" }), xScale: .log10)),
            ("histogram", Histogram(title: "Hist", values: y, color: .values(x, label: "mean x"))),
            ("histogram-stacked", Histogram(title: "Stacked", values: y, bins: 8, color: .categories(x.map { $0 < 5 ? "a" : "b" }))),
            ("histogram-log", Histogram(title: "Log counts", values: y, yScale: .log10)),
            ("heatmap", Heatmap(title: "WᵀW", values: [[1.0, -0.5, 0], [0.25, 2, -1]], rowLabels: ["r0", "r1"], showsValues: true)),
            ("heatmap-flat", Heatmap(title: "Flat", values: [Float](repeating: 0.5, count: 12), rows: 3, columns: 4, scale: .sequential())),
            ("bar", BarChart(title: "Bars", labels: ["a", "b", "c"], values: [1.0, -2, 3], color: .values([0.1, 0.5, 0.9], scale: .diverging()))),
            ("bar-horizontal", BarChart(title: "Horizontal", values: [3.0, 2, 1], color: .categories(["x", "y", "x"]), orientation: .horizontal)),
            ("arrows", ArrowPlot(title: "Arrows", x: [1.0, 0, -0.7], y: [0.0, 1, -0.7], labels: ["a", "b", "c"],
                                 color: .perItem([.black, Palette.tab10[1], Palette.tab10[2]]))),
            ("grid", CategoricalGrid(title: "Phase", categories: ["none", "some"], cells: [[0, 1], [1, 0]],
                                     columnLabels: ["0.1", "1"], rowLabels: ["a", "b"], xLabel: "x", yLabel: "y")),
            ("multiples", SmallMultiples(title: "Panels", panels: [
                ArrowPlot(title: "S = 0.9", x: [1.0], y: [0.0]),
                Heatmap(title: "H", values: [[1.0]]),
                LinePlot(title: "L", series: [LineSeries(y: [1.0, 2, 3])]),
            ])),
        ]
    }

    /// Every chart type fed only NaN, infinity or nothing at all.
    static var degenerate: [(name: String, chart: any Chart)] {
        let nan = [Double.nan, .infinity, -.infinity]
        let empty: [Double] = []
        return [
            ("line-nan", LinePlot(title: "NaN", series: [LineSeries(x: nan, y: nan)])),
            ("line-empty", LinePlot(title: "Empty", series: [])),
            ("line-log-nonpositive", LinePlot(title: "Log", series: [LineSeries(x: [1.0, 2], y: [0.0, -1])], yScale: .log10)),
            ("line-mismatched", LinePlot(title: "Mismatch", series: [LineSeries(x: [1.0, 2, 3], y: [1.0])])),
            ("line-constant", LinePlot(title: "Constant", series: [LineSeries(x: [1.0, 1, 1], y: [2.0, 2, 2])])),
            ("scatter-nan", ScatterPlot(title: "NaN", x: nan, y: nan, color: .values(nan))),
            ("scatter-empty", ScatterPlot(title: "Empty", x: empty, y: empty, color: .categories([]), showsDiagonal: true)),
            ("histogram-nan", Histogram(title: "NaN", values: nan, color: .values(nan))),
            ("histogram-empty", Histogram(title: "Empty", values: empty, yScale: .log10)),
            ("histogram-constant", Histogram(title: "Constant", values: [3.0, 3, 3])),
            ("heatmap-nan", Heatmap(title: "NaN", values: [nan, nan])),
            ("heatmap-empty", Heatmap(title: "Empty", values: [[Double]]())),
            ("heatmap-ragged", Heatmap(title: "Ragged", values: [[1.0], [1.0, 2, 3], []])),
            ("bar-nan", BarChart(title: "NaN", values: nan)),
            ("bar-empty", BarChart(title: "Empty", values: empty)),
            ("arrows-nan", ArrowPlot(title: "NaN", x: nan, y: nan)),
            ("arrows-empty", ArrowPlot(title: "Empty", x: empty, y: empty, showsUnitCircle: false)),
            ("arrows-zero", ArrowPlot(title: "Zero", x: [0.0], y: [0.0], labels: ["origin"])),
            ("grid-empty", CategoricalGrid(title: "Empty", categories: [], cells: [])),
            ("grid-out-of-range", CategoricalGrid(title: "Bad indices", categories: ["a"], cells: [[-1, 5, 0]])),
            ("multiples-empty", SmallMultiples(title: "None", panels: [])),
        ]
    }
}
