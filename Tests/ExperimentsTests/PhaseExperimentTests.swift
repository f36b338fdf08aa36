import Foundation
import XCTest
import Analysis
import TensorCore
import ToyModels
@testable import Experiments

/// Trained phase diagrams: the config's grid, a reduced n=2, m=1 run with the paper's qualitative
/// result, and the run folder.
final class PhaseExperimentTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("phase-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// 3 × 3 cells: density 1, 0.14, 0.02; relative importance 0.3, 1, 3.3.
    func reducedConfig() -> PhaseConfig {
        var config = PhasePreset.twoInOne.config
        config.grid = 3
        config.sparsest = 0.02
        config.importanceLow = 0.3
        config.importanceHigh = 1 / 0.3
        config.training.steps = 1500
        config.training.seed = 7
        return config
    }

    func testGridAxesAndPerInstanceTensors() throws {
        var config = PhasePreset.threeInTwo.config
        config.grid = 4
        config.restarts = 2
        XCTAssertEqual(config.densities.first, 1)
        XCTAssertEqual(config.densities.last, 0.01)
        XCTAssertEqual(config.importances.first, 0.1)
        XCTAssertEqual(config.importances.last, 10)
        XCTAssertEqual(config.densities[1] / config.densities[0], config.densities[2] / config.densities[1], accuracy: 1e-9)
        XCTAssertEqual(config.instances, 32)
        let importance = config.importanceTensor(), probabilities = config.distribution().probabilities
        XCTAssertEqual(importance.shape, [32, 3])
        XCTAssertEqual(probabilities.shape, [32, 3])
        // Instance restart·16 + row·4 + column: importance (1, 1, r(row)), density d(column) for all features.
        let instance = 16 + config.cell(row: 3, column: 1)
        XCTAssertEqual(Array(importance.scalars[instance * 3 ..< instance * 3 + 3]), [1, 1, 10])
        XCTAssertEqual(Array(probabilities.scalars[instance * 3 ..< instance * 3 + 3]),
                       Array(repeating: Float(config.densities[1]), count: 3))
    }

    func testInvalidSettingsGiveOneLineErrors() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        var config = PhasePreset.twoInOne.config
        config.grid = 1
        XCTAssertTrue(message { try config.validate() }.contains("grid must be at least 2"))
        config = PhasePreset.twoInOne.config
        config.sparsest = 0
        XCTAssertTrue(message { try config.validate() }.contains("density"))
        config = PhasePreset.twoInOne.config
        config.restarts = 0
        XCTAssertTrue(message { try config.validate() }.contains("restarts"))
        let unknown = message { _ = try PhasePreset.named("4-2") }
        XCTAssertTrue(unknown.contains("unknown preset '4-2'") && unknown.contains("2-1") && !unknown.contains("\n"), unknown)
        XCTAssertNoThrow(try PhasePreset.twoInOne.config.validate())
        XCTAssertNoThrow(try PhasePreset.threeInTwo.config.validate())
    }

    func testReducedTwoInOneRunShowsThePapersPhases() throws {
        let config = reducedConfig()
        let outcome = try PhaseExperiment.run(config, under: scratch)
        let metrics = outcome.metrics
        XCTAssertEqual(metrics.cells.count, 9)
        XCTAssertEqual(outcome.model.weights.shape, [9, 1, 2])

        // Sparse (density 0.02), equal importance: an antipodal pair, W_0 ≈ −W_1, both represented.
        let sparseEqual = metrics.cells[config.cell(row: 1, column: 2)]
        XCTAssertEqual(sparseEqual.density, 0.02, accuracy: 1e-12)
        XCTAssertEqual(sparseEqual.importance, 1, accuracy: 1e-9)
        XCTAssertEqual(sparseEqual.phase, .superposition, "\(sparseEqual)")
        let w = outcome.model.weights.scalars
        let (w0, w1) = (w[sparseEqual.index * 2], w[sparseEqual.index * 2 + 1])
        XCTAssertGreaterThan(abs(w0), 0.5)
        XCTAssertGreaterThan(abs(w1), 0.5)
        XCTAssertLessThan(w0 * w1, 0, "antipodal: opposite signs, got \(w0), \(w1)")
        XCTAssertEqual(abs(w0) / abs(w1), 1, accuracy: 0.25)

        // Dense (density 1): the less important feature (0.3) is dropped, the more important one (3.3) takes the dimension.
        let denseLow = metrics.cells[config.cell(row: 0, column: 0)]
        XCTAssertEqual(denseLow.density, 1)
        XCTAssertEqual(denseLow.phase, .notRepresented, "\(denseLow)")
        XCTAssertGreaterThan(denseLow.featureNorms[0], 0.5)
        XCTAssertEqual(metrics.cells[config.cell(row: 2, column: 0)].phase, .dedicatedDimension)

        // The run folder: every file, every SVG well-formed, the report rebuilt from the folder identical.
        let folder = outcome.folder
        for url in [folder.configURL, folder.modelURL, folder.metricsURL, folder.reportURL] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.lastPathComponent)
        }
        XCTAssertEqual(try JSONCoding.decode(PhaseConfig.self, from: folder.configURL), config)
        XCTAssertEqual(try JSONCoding.decode(PhaseMetrics.self, from: folder.metricsURL), metrics)
        XCTAssertEqual(try ToyModelCheckpoint.load(from: folder.modelURL), outcome.model)
        let svgs = try FileManager.default.contentsOfDirectory(atPath: folder.figuresURL.path).filter { $0.hasSuffix(".svg") }
        XCTAssertEqual(Set(svgs), ["phase-diagram.svg", "norm.svg", "overlap.svg"])
        for name in svgs {
            let check = MarkupCheck(try String(contentsOf: folder.figuresURL.appendingPathComponent(name), encoding: .utf8))
            XCTAssertTrue(check.isWellFormed, "\(name): \(String(describing: check.error))")
        }
        let html = try String(contentsOf: folder.reportURL, encoding: .utf8)
        XCTAssertTrue(MarkupCheck(html).isWellFormed)
        XCTAssertTrue(html.contains("dedicated dimension") && html.contains("not represented") && html.contains("superposition"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertEqual(try PhaseReport(contentsOf: folder).page().html, html)
    }

    func testTrainingIsDeterministic() throws {
        var config = reducedConfig()
        config.grid = 2
        config.restarts = 1
        config.training.steps = 200
        let (first, a) = try PhaseExperiment.train(config)
        config.training.threads = 1
        let (second, b) = try PhaseExperiment.train(config)
        XCTAssertEqual(first, second)
        XCTAssertEqual(a.cells, b.cells)
    }
}
