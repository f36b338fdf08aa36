import Decomposition
import Foundation
import ToyModels
import XCTest
@testable import Experiments

/// The L_p attribution variant on the residual-MLP kinds: a run writes its folder, and the report
/// shows the terms it trained (L_p sparsity), not batch top-k's, and says it replaced batch top-k.
final class APDLpReportTests: XCTestCase {
    func testResidualAndGatedLpRunsReportTheirOwnTerms() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("apd-lp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var gated = APDPreset.gatedFunctions.config
        gated.decomposition.steps = 300
        var residual = APDPreset.residualMLP1.config
        var training = TrainingSettings.residualMLP
        training.steps = 200
        training.batchSize = 256
        residual.residualMLP = APDConfig.ResidualMLPTarget(
            configuration: ResidualMLPConfiguration(featureCount: 20, embeddingWidth: 40, mlpWidth: 10), task: ResidualMLPTask(featureCount: 20),
            training: training, file: nil)
        residual.residualMLP?.evaluationBatches = 2
        residual.decomposition.components = 25
        residual.decomposition.rank = 10
        residual.decomposition.steps = 50
        residual.decomposition.batchSize = 64
        for var config in [gated, residual] {
            config.decomposition.minimality = .lpAttributions
            try config.validate()
            let outcome = try APDExperiment.run(config, under: root)
            let terms = try XCTUnwrap(outcome.gatedMetrics?.finalTerms ?? outcome.residualMetrics?.finalTerms)
            XCTAssertGreaterThan(terms.lpSparsity, 0, config.name)
            XCTAssertGreaterThan(terms.schatten, 0, config.name)
            XCTAssertEqual(terms.topKReconstruction, 0, config.name)
            XCTAssertEqual(terms.activationReconstruction, 0, "\(config.name): not a term of the L_p variant")
            let curves = try String(contentsOf: outcome.folder.figuresURL.appendingPathComponent("loss-curves.svg"), encoding: .utf8)
            XCTAssertTrue(curves.contains("Lp sparsity"), config.name)
            XCTAssertFalse(curves.contains("top-k reconstruction"), config.name)
            XCTAssertFalse(curves.contains("activation reconstruction"), config.name)
            let page = try String(contentsOf: outcome.folder.reportURL, encoding: .utf8)
            XCTAssertTrue(page.contains("in place of batch top-k"), config.name)
            XCTAssertFalse(page.contains("top-k recon "), "\(config.name): no top-k term among the final loss terms")
        }
    }

    /// Batch top-k runs keep their terms and get no variant note.
    func testBatchTopKTermsAreUnchanged() {
        let settings = APDPreset.residualMLP1.config.decomposition
        XCTAssertEqual(APDReport.trainedTerms(settings).map(\.name), ["param match", "top-k reconstruction", "activation reconstruction", "Schatten"])
        XCTAssertNil(APDReport.variantNote(settings))
        var lp = settings
        lp.minimality = .lpAttributions
        XCTAssertEqual(APDReport.trainedTerms(lp).map(\.name), ["param match", "Lp sparsity", "Schatten"])
    }
}
