import Foundation
import XCTest
@testable import Experiments

final class APDExperimentTests: XCTestCase {
    /// The gated preset (2.5 s): APD splits the hand-coded network by function — every function
    /// has its own best component, holding a majority of that component's mass; the run folder
    /// reads back and re-renders.
    func testGatedPresetSplitsTheNetworkByFunction() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("apd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let outcome = try APDExperiment.run(APDPreset.gatedFunctions.config, under: root)
        let e = try XCTUnwrap(outcome.gatedMetrics).evaluation
        XCTAssertEqual(Set(e.bestComponent).count, e.bestComponent.count, "one component per function: \(e.bestComponent)")
        for (f, purity) in e.bestComponentPurity.enumerated() { XCTAssertGreaterThan(purity, 0.5, "function \(f)") }
        let config = try JSONCoding.decode(APDConfig.self, from: outcome.folder.configURL)
        XCTAssertEqual(config, APDPreset.gatedFunctions.config)
        let metrics = try JSONCoding.decode(GatedAPDMetrics.self, from: outcome.folder.metricsURL)
        XCTAssertFalse(GatedAPDReport(config: config, metrics: metrics).page().html.isEmpty)
    }
}
