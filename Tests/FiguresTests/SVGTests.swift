import Foundation
import Testing
@testable import Figures

@Suite struct SVGTests {
    @Test(arguments: SampleCharts.all.map(\.name))
    func everyChartIsValidStandaloneSVG(name: String) throws {
        let chart = try #require(SampleCharts.all.first { $0.name == name }?.chart)
        let figure = chart.figure()
        let svg = figure.svg
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        let xml = XMLCheck(svg)
        #expect(xml.isWellFormed, "\(name): \(String(describing: xml.error))")
        let root = try #require(xml.root)
        #expect(root.name == "svg")
        #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(root.attributes["version"] == "1.1")
        #expect(root.attributes["viewBox"] == "0 0 \(Markup.number(figure.size.width)) \(Markup.number(figure.size.height))")
        #expect(root.attributes["width"] == Markup.number(figure.size.width))
        #expect(root.attributes["font-family"]?.contains("sans-serif") == true)
        #expect(xml.text.contains(chart.title))
    }

    @Test func outputIsDeterministic() {
        for (_, chart) in SampleCharts.all {
            #expect(chart.figure().svg == chart.figure().svg)
        }
    }

    @Test func textIsEscaped() throws {
        let title = "a < b & c > \"d\" 'e'"
        let chart = LinePlot(title: title, xLabel: "x & y", series: [LineSeries(name: "<series>", x: [1.0, 2], y: [1.0, 2]),
                                                                       LineSeries(name: "q\"uote", x: [1.0, 2], y: [2.0, 1])])
        let svg = chart.figure().svg
        #expect(svg.contains("a &lt; b &amp; c &gt; &quot;d&quot; &#39;e&#39;"))
        #expect(!svg.contains("<series>"))
        let xml = XMLCheck(svg)
        #expect(xml.isWellFormed)
        #expect(xml.text.contains(title))
        #expect(xml.text.contains("<series>"))
        #expect(xml.text.contains("x & y"))
    }

    @Test func controlCharactersAreDropped() {
        #expect(Markup.escape("a\u{1}b\u{7}c\nd") == "abc\nd")
        let scene = Scene(size: Size(width: 10, height: 10), title: "bad\u{0}title",
                          primitives: [.text("x\u{8}y", at: Point(1, 1), style: TextStyle())])
        #expect(XMLCheck(Figure(scene: scene).svg).isWellFormed)
    }

    @Test func numbersAreCompact() {
        #expect(Markup.number(0) == "0")
        #expect(Markup.number(-0.0001) == "0")
        #expect(Markup.number(12) == "12")
        #expect(Markup.number(12.5) == "12.5")
        #expect(Markup.number(-3.25) == "-3.25")
        #expect(Markup.number(1.005) == "1.01" || Markup.number(1.005) == "1")
        #expect(Markup.number(0.07) == "0.07")
        #expect(Markup.number(2.999) == "3")
        #expect(Markup.number(.nan) == "0")
        #expect(Markup.number(1e12) == "1000000000000")
    }

    @Test func primitivesMapToSVGElements() throws {
        let scene = Scene(size: Size(width: 100, height: 80), primitives: [
            .line(from: Point(0, 0), to: Point(10, 10), stroke: Stroke(.black, width: 2, dash: [3, 2])),
            .polyline([Point(0, 0), Point(5, 5), Point(10, 0)], stroke: Stroke(.black)),
            .rect(Rect(x: 1, y: 2, width: 3, height: 4), fill: Color(hex: 0xFF0000, alpha: 0.5)),
            .circle(center: Point(50, 40), radius: 5, fill: nil, stroke: Stroke(.black)),
            .polygon([Point(0, 0), Point(5, 0), Point(0, 5)], fill: .white),
            .arrow(from: Point(0, 0), to: Point(50, 0), stroke: Stroke(.black)),
            .text("rotated", at: Point(5, 5), style: TextStyle(size: 9, weight: .bold, anchor: .end, rotation: -90)),
            .group([.rect(Rect(x: 0, y: 0, width: 200, height: 200), fill: .black)], clip: Rect(x: 0, y: 0, width: 50, height: 50)),
        ])
        let svg = Figure(scene: scene).svg
        let xml = XMLCheck(svg)
        #expect(xml.isWellFormed)
        #expect(xml.elements(named: "line").count == 2)  // the line and the arrow's shaft
        #expect(xml.elements(named: "polygon").count == 2)  // the triangle and the arrow's head
        #expect(xml.elements(named: "circle").count == 1)
        #expect(xml.elements(named: "clipPath").count == 1)
        #expect(svg.contains("stroke-dasharray=\"3 2\""))
        #expect(svg.contains("fill=\"#ff0000\" fill-opacity=\"0.5\""))
        #expect(svg.contains("font-weight=\"bold\""))
        #expect(svg.contains("text-anchor=\"end\""))
        #expect(svg.contains("transform=\"rotate(-90 5 5)\""))
        let clipID = try #require(xml.elements(named: "clipPath").first?.attributes["id"])
        #expect(clipID.hasSuffix("-clip1"))
        #expect(svg.contains("clip-path=\"url(#\(clipID))\""))
        // Different drawings get different ids, so standalone SVGs can share an HTML page.
        let other = Scene(size: Size(width: 10, height: 10), primitives: [.group([], clip: Rect(x: 1, y: 1, width: 2, height: 2))])
        let otherID = try #require(XMLCheck(Figure(scene: other).svg).elements(named: "clipPath").first?.attributes["id"])
        #expect(otherID != clipID)
        let inline = Figure(scene: scene).inlineSVG(idPrefix: "f7")
        #expect(!inline.contains("<?xml"))
        #expect(inline.contains("id=\"f7-clip1\""))
    }
}
