import Foundation
import XCTest
import Analysis
@testable import Experiments

/// The run report: every figure is valid SVG, the page is self-contained, and the figures and the
/// geometry summary reflect a really trained model.
final class TMSReportTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// T1 at a fifth of the reference steps: about a second, and already past the first reorganisations.
    func shortT1() -> TMSConfig {
        var config = TMSPreset.t1.config
        config.training.steps = 2_000
        return config
    }

    /// No scripts and no fetched resources; the SVG namespace is an identifier, not a reference.
    func assertSelfContained(_ html: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(html.lowercased().contains("<script"), file: file, line: line)
        let withoutNamespaces = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        XCTAssertFalse(withoutNamespaces.contains("http://"), file: file, line: line)
        XCTAssertFalse(withoutNamespaces.contains("https://"), file: file, line: line)
        XCTAssertFalse(html.contains("<link") || html.contains("src="), file: file, line: line)
    }

    func figureNames(in folder: RunFolder) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.figuresURL.path).sorted()
    }

    func testRunWritesValidFiguresAndASelfContainedReport() throws {
        let outcome = try TMSExperiment.run(shortT1(), under: scratch)
        let folder = outcome.folder
        XCTAssertEqual(outcome.report, folder.reportURL)
        let names = try figureNames(in: folder)
        XCTAssertEqual(names, ["dimensions-per-feature.svg", "feature-arrows.svg", "feature-dimensionality.svg",
                               "gram-and-norms.svg", "loss-curves.svg"])
        for name in names {
            let svg = try String(contentsOf: folder.figuresURL.appendingPathComponent(name), encoding: .utf8)
            let check = MarkupCheck(svg)
            XCTAssertTrue(check.isWellFormed, "\(name): \(String(describing: check.error))")
            XCTAssertEqual(check.elementNames.first, "svg", name)
        }
        let html = try String(contentsOf: folder.reportURL, encoding: .utf8)
        let page = MarkupCheck(html)
        XCTAssertTrue(page.isWellFormed, "\(String(describing: page.error))")
        XCTAssertEqual(page.count(of: "svg"), names.count)
        assertSelfContained(html)
        for heading in ["Configuration", "Results per instance", "Features in the hidden plane", "Geometry summary"] {
            XCTAssertTrue(page.text.contains(heading), heading)
        }
    }

    func testArrowPanelsAndGeometrySummaryOfATrainedModel() throws {
        let (model, metrics) = try TMSExperiment.train(shortT1())
        let report = try TMSReport(config: shortT1(), metrics: metrics, model: model)
        XCTAssertFalse(report.completedMetrics)
        let arrows = MarkupCheck(try XCTUnwrap(report.featureArrows()).figure.svg)
        XCTAssertTrue(arrows.isWellFormed)
        // One panel per instance, titled with p and S, captioned with its shapes.
        XCTAssertEqual(arrows.text.components(separatedBy: " · S = ").count - 1, 10)
        XCTAssertTrue(arrows.text.contains("p = 1 · S = 0") && arrows.text.contains("p = 0.05 · S = 0.95"), arrows.text)
        for instance in metrics.instances {
            let shapes = try XCTUnwrap(instance.featureGeometry, "instance \(instance.index)")
            XCTAssertTrue(arrows.text.contains(shapes.countSummary), shapes.countSummary)
            let grouped = shapes.groups.flatMap(\.features) + shapes.unrepresented
            XCTAssertEqual(grouped.sorted(), Array(0..<5), "every feature in exactly one place")
        }
        let page = MarkupCheck(report.page().html)
        XCTAssertTrue(page.isWellFormed)
        for instance in metrics.instances {
            XCTAssertTrue(page.text.contains(instance.featureGeometry!.summary), instance.featureGeometry!.summary)
        }
    }

    /// The paper's intro figure at the reference settings (10,000 steps, seed 0).
    func testReferenceT1DensestIsOrthogonalAndSparsestIsInSuperposition() throws {
        let (_, metrics) = try TMSExperiment.train(TMSPreset.t1.config)
        let densest = try XCTUnwrap(metrics.instances.first?.featureGeometry)
        XCTAssertEqual(densest.counts, FeatureGeometry.Counts(dedicated: 2), densest.summary)
        XCTAssertEqual(densest.groups.map(\.features), [[0], [1]], "the two most important features")
        let sparsest = try XCTUnwrap(metrics.instances.last?.featureGeometry)
        XCTAssertTrue(sparsest.counts == FeatureGeometry.Counts(pentagons: 1)
                      || sparsest.counts == FeatureGeometry.Counts(antipodalPairs: 2), sparsest.summary)
    }

    func testReportRebuiltFromTheFolderIsIdentical() throws {
        let outcome = try TMSExperiment.run(shortT1(), under: scratch)
        let folder = outcome.folder
        let original = try Data(contentsOf: folder.reportURL)
        let originalArrows = try Data(contentsOf: folder.figuresURL.appendingPathComponent("feature-arrows.svg"))
        try FileManager.default.removeItem(at: folder.figuresURL)
        try FileManager.default.removeItem(at: folder.reportURL)
        let report = try TMSReport(contentsOf: folder)
        XCTAssertEqual(try report.write(to: folder, includingPNG: true), folder.reportURL)
        XCTAssertEqual(try Data(contentsOf: folder.reportURL), original)
        XCTAssertEqual(try Data(contentsOf: folder.figuresURL.appendingPathComponent("feature-arrows.svg")), originalArrows)
        let png = try Data(contentsOf: folder.figuresURL.appendingPathComponent("feature-arrows.png"))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // Atomic writes leave no temporary files behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path) + figureNames(in: folder)
        XCTAssertTrue(leftovers.allSatisfy { !$0.hasPrefix(".") }, "\(leftovers)")
    }

    func testMetricsWithoutGeometryAreCompletedFromTheModel() throws {
        let outcome = try TMSExperiment.run(shortT1(), under: scratch)
        let folder = outcome.folder
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.metricsURL)) as? [String: Any])
        json["instances"] = (json["instances"] as! [[String: Any]]).map { instance in
            var copy = instance
            copy["featureGeometry"] = nil
            return copy
        }
        try JSONSerialization.data(withJSONObject: json).write(to: folder.metricsURL)
        let report = try TMSReport(contentsOf: folder)
        XCTAssertTrue(report.completedMetrics)
        try report.write(to: folder)
        let restored = try JSONCoding.decode(TMSMetrics.self, from: folder.metricsURL)
        XCTAssertEqual(restored.instances.map(\.featureGeometry), outcome.metrics.instances.map(\.featureGeometry))
    }

    func testUnreadableRunFoldersGiveOneLineErrors() throws {
        func message(_ url: URL) -> String {
            do {
                _ = try TMSReport(contentsOf: RunFolder(url: url))
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message(scratch.appendingPathComponent("absent")).hasSuffix("absent: no such run folder"))
        let file = scratch.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        XCTAssertTrue(message(file).contains("is a file"))

        let folder = try TMSExperiment.run(shortT1(), under: scratch).folder
        let metrics = try Data(contentsOf: folder.metricsURL)
        try Data("{ \"experiment\": ".utf8).write(to: folder.metricsURL)
        XCTAssertEqual(message(folder.url), "metrics.json: not valid JSON (malformed or truncated)")
        try FileManager.default.removeItem(at: folder.metricsURL)
        XCTAssertTrue(message(folder.url).hasSuffix("metrics.json: cannot read the file (no such file)"), message(folder.url))
        try metrics.write(to: folder.metricsURL)

        let model = try Data(contentsOf: folder.modelURL)
        try FileManager.default.removeItem(at: folder.modelURL)
        XCTAssertTrue(message(folder.url).hasSuffix("model.safetensors: cannot read the file (no such file)"), message(folder.url))
        try Data([1, 2, 3]).write(to: folder.modelURL)
        XCTAssertTrue(message(folder.url).contains("model.safetensors"), message(folder.url))
        try model.write(to: folder.modelURL)

        let config = try String(contentsOf: folder.configURL, encoding: .utf8)
        try config.replacingOccurrences(of: "\"hidden\" : 2", with: "\"hidden\" : 3").write(to: folder.configURL, atomically: true, encoding: .utf8)
        XCTAssertTrue(message(folder.url).contains("config.json describes [instance, m, n] = [10, 3, 5]"), message(folder.url))
        for text in [message(folder.url)] { XCTAssertFalse(text.contains("\n")) }
    }

    func testManyInstancesAndFeaturesAreThinned() throws {
        var config = TMSConfig(name: "wide", features: 50, hidden: 3, instances: 13)
        config.featureProbability = .logSpaced(densest: 1, sparsest: 0.02)
        config.training.steps = 30
        let (model, metrics) = try TMSExperiment.train(config)
        let report = try TMSReport(config: config, metrics: metrics, model: model)
        XCTAssertNil(report.featureArrows())
        XCTAssertEqual(report.figures().map(\.name),
                       ["loss-curves", "gram-and-norms", "dimensions-per-feature", "feature-dimensionality"])
        let gram = report.gramAndNorms()
        XCTAssertTrue(gram.caption.contains("first 40 of 50 features"))
        XCTAssertEqual(MarkupCheck(gram.figure.svg).text.components(separatedBy: " · S = ").count - 1, 10)
        for figure in report.figures() {
            XCTAssertTrue(MarkupCheck(figure.figure.svg).isWellFormed, figure.name)
        }
        let html = report.page().html
        XCTAssertTrue(MarkupCheck(html).isWellFormed)
        assertSelfContained(html)
    }

    func testASingleInstanceReportIsWellFormed() throws {
        var config = TMSConfig(name: "one", features: 3, hidden: 2, instances: 1)
        config.training.steps = 20
        let (model, metrics) = try TMSExperiment.train(config)
        let report = try TMSReport(config: config, metrics: metrics, model: model)
        for figure in report.figures() {
            XCTAssertTrue(MarkupCheck(figure.figure.svg).isWellFormed, figure.name)
        }
        XCTAssertTrue(MarkupCheck(report.page().html).isWellFormed)
    }

    func testEvenlySpacedInstancesKeepBothEnds() {
        XCTAssertEqual(InstanceSelection.evenlySpaced(count: 5, limit: 10), [0, 1, 2, 3, 4])
        XCTAssertEqual(InstanceSelection.evenlySpaced(count: 20, limit: 10), [0, 2, 4, 6, 8, 11, 13, 15, 17, 19])
        XCTAssertEqual(InstanceSelection.evenlySpaced(count: 20, limit: 1), [0])
    }
}
