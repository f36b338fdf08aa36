import Foundation
import Testing
@testable import Figures

@Suite struct RobustnessTests {
    @Test(arguments: SampleCharts.degenerate.map(\.name))
    func degenerateDataStillRenders(name: String) throws {
        let chart = try #require(SampleCharts.degenerate.first { $0.name == name }?.chart)
        let figure = chart.figure()
        let xml = XMLCheck(figure.svg)
        #expect(xml.isWellFormed, "\(name): \(String(describing: xml.error))")
        #expect(!figure.svg.contains("nan") && !figure.svg.contains("inf"))
        let png = try PNGReader(figure.pngData(scale: 1))
        #expect(png.width == Int(figure.size.width.rounded(.up)))
    }

    @Test func emptyPlotsSayWhy() {
        let svg = LinePlot(title: "t", series: [LineSeries(x: [Double.nan], y: [1.0])]).figure().svg
        #expect(XMLCheck(svg).text.contains("No finite data to plot"))
        #expect(XMLCheck(svg).text.contains("1 point not shown"))
    }

    @Test func skippedValuesAreCounted() {
        let svg = ScatterPlot(title: "t", x: [1.0, 2, .nan, 4], y: [1.0, .infinity, 3, 4]).figure().svg
        #expect(XMLCheck(svg).text.contains("2 points not shown"))
        let log = LinePlot(title: "t", series: [LineSeries(x: [1.0, 2, 3], y: [1.0, 0, 2])], yScale: .log10).figure().svg
        #expect(XMLCheck(log).text.contains("≤ 0 on a log axis"))
    }

    @Test func nonFiniteGeometryIsIgnoredByRenderers() throws {
        let scene = Scene(size: Size(width: 20, height: 20), primitives: [
            .line(from: Point(.nan, 0), to: Point(10, .infinity), stroke: Stroke(.black)),
            .polyline([Point(0, 0), Point(.nan, .nan), Point(10, 10)], stroke: Stroke(.black)),
            .rect(Rect(x: .nan, y: 0, width: 5, height: 5), fill: .black),
            .circle(center: Point(5, 5), radius: .infinity, fill: .black),
            .polygon([Point(0, 0), Point(.infinity, 0), Point(0, 5)], fill: .black),
            .arrow(from: Point(0, 0), to: Point(0, 0), stroke: Stroke(.black)),
            .text("", at: Point(1, 1), style: TextStyle()),
            .text("?", at: Point(.nan, 1), style: TextStyle()),
        ])
        let figure = Figure(scene: scene)
        #expect(XMLCheck(figure.svg).isWellFormed)
        _ = try PNGReader(figure.pngData())
    }

    @Test func hugeAndTinyFiguresDoNotCrash() throws {
        let chart = LinePlot(title: "Tiny", series: [LineSeries(y: [1.0, 2, 3])])
        _ = try PNGReader(chart.figure(width: 30, height: 20).pngData(scale: 1))
        _ = try PNGReader(chart.figure(width: 0, height: 0).pngData(scale: 1))
        let many = (0..<20_000).map { sin(Double($0) / 100) }
        let dense = LinePlot(title: "Dense", series: [LineSeries(y: many)]).figure()
        #expect(XMLCheck(dense.svg).isWellFormed)
        _ = try PNGReader(dense.pngData(scale: 2))
    }

    @Test func unknownCharactersFallBackToQuestionMark() {
        #expect(StrokeFont.glyph(for: "ж").strokes.count == StrokeFont.glyph(for: "?").strokes.count)
        for character in "−·‖²≈—αλσ⁻³ᵢ" {
            #expect(StrokeFont.hasGlyph(for: character), "missing glyph \(character)")
        }
        for scalar in 32...126 {
            #expect(StrokeFont.hasGlyph(for: Character(Unicode.Scalar(scalar)!)))
        }
    }
}
