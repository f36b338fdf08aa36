import Foundation
import Testing
@testable import Figures

@Suite struct ReportTests {
    struct Config: Encodable {
        var features = 5
        var name = "a <b> & c"
    }

    func samplePage() -> ReportPage {
        var page = ReportPage(title: "Run <1> & \"friends\"", subtitle: "Intro paragraph.\n\nSecond paragraph.",
                              footer: "superpose 0.1")
        page.add(.paragraph("Before any section."))
        page.add(.section("Setup"))
        page.add(.keyValues([("features", "5"), ("note", "x < y")], caption: "Hyperparameters"))
        page.add(.numericTable(headers: ["S", "loss"], rows: [[0.9, 0.0123], [0.99, .nan]], caption: "Losses"))
        page.add(.table(headers: ["name", "value"], rows: [["a", "1"], ["b & c", "−2.5"]]))
        page.add(.json("{\"a\": \"<b>\"}", caption: "config.json"))
        page.add(.json(encoding: Config()))
        page.add(.note("Careful: <not> a tag."))
        page.add(.section("Figures"))
        page.add(.subheading("Losses"))
        for (_, chart) in SampleCharts.all.prefix(3) {
            page.add(.figure(chart.figure(), caption: "Caption with <angle> & ampersand."))
        }
        page.add(.figures([SampleCharts.all[0].chart.figure(), SampleCharts.all[1].chart.figure()], caption: "Side by side"))
        return page
    }

    @Test func reportIsWellFormedAndSelfContained() throws {
        let html = samplePage().html
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        let xml = XMLCheck(html)
        #expect(xml.isWellFormed, "\(String(describing: xml.error))")
        #expect(xml.root?.name == "html")
        #expect(xml.elements(named: "svg").count == 5)
        #expect(xml.elements(named: "figure").count == 6)  // 4 charts + 2 JSON blocks
        #expect(xml.elements(named: "style").count == 1)
        #expect(xml.elements(named: "script").isEmpty)
        #expect(!html.contains("<?xml"))
        #expect(!html.contains("<link"))
        #expect(!html.contains("src="))
        // The only URL is the SVG namespace, which is an identifier, not a fetch.
        let urls = html.components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        #expect(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg") })
    }

    @Test func textIsEscapedEverywhere() {
        let page = samplePage()
        let html = page.html
        #expect(html.contains("<title>Run &lt;1&gt; &amp; &quot;friends&quot;</title>"))
        #expect(html.contains("Careful: &lt;not&gt; a tag."))
        #expect(html.contains("{&quot;a&quot;: &quot;&lt;b&gt;&quot;}"))
        #expect(html.contains("&quot;name&quot; : &quot;a &lt;b&gt; &amp; c&quot;"))
        let xml = XMLCheck(html)
        #expect(xml.text.contains("Caption with <angle> & ampersand."))
    }

    @Test func figureIdsAreUniqueAcrossThePage() {
        let xml = XMLCheck(samplePage().html)
        let ids = xml.elements.compactMap { $0.attributes["id"] }
        #expect(Set(ids).count == ids.count)
        #expect(ids.contains("figure-1") && ids.contains("section-2"))
    }

    @Test func structure() {
        let xml = XMLCheck(samplePage().html)
        #expect(xml.elements(named: "nav").count == 1)
        #expect(xml.elements(named: "section").count == 3)  // the untitled opening plus two sections
        #expect(xml.elements(named: "h2").count == 2)
        #expect(xml.elements(named: "p").count >= 3)
        #expect(xml.elements(named: "aside").count == 1)
        #expect(xml.elements(named: "footer").count == 1)
        let numericCells = xml.elements(named: "td").filter { $0.attributes["class"] == "num" }
        #expect(numericCells.count == 6)
        #expect(XMLCheck(ReportPage(title: "Empty").html).isWellFormed)
    }

    @Test func numericLooking() {
        #expect(ReportPage.looksNumeric("−1.25"))
        #expect(ReportPage.looksNumeric("2×10⁻⁵"))
        #expect(ReportPage.looksNumeric("NaN"))
        #expect(!ReportPage.looksNumeric("abc"))
        #expect(!ReportPage.looksNumeric("1 apple"))
    }
}
