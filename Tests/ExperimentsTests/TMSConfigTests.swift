import Foundation
import XCTest
import Experiments

final class TMSConfigTests: XCTestCase {
    func testPresetsMatchTheReferenceSettings() throws {
        let t1 = TMSPreset.t1.config
        XCTAssertEqual([t1.features, t1.hidden, t1.instances], [5, 2, 10])
        XCTAssertEqual(t1.training.steps, 10_000)
        XCTAssertEqual(t1.training.batchSize, 1024)
        XCTAssertEqual(t1.training.learningRate, 1e-3)
        XCTAssertEqual(t1.training.weightDecay, 0.01)
        let p = try t1.featureProbability.resolve(instanceCount: 10)
        XCTAssertEqual(p.first!, 1, accuracy: 1e-6)
        XCTAssertEqual(p.last!, 0.05, accuracy: 1e-6)
        XCTAssertEqual(p[1], Float(pow(20.0, -1.0 / 9)), accuracy: 1e-6)
        let importance = try t1.importance.resolve(featureCount: 5)
        XCTAssertEqual(importance[4], Float(pow(0.9, 4)), accuracy: 1e-6)
        let t3 = try TMSPreset.t3.config.importance.resolve(featureCount: 100)
        XCTAssertEqual(t3[99], 0.01, accuracy: 1e-6)
        for preset in TMSPreset.allCases { XCTAssertNoThrow(try preset.config.validate(), preset.rawValue) }
    }

    func testConfigRoundTripsThroughJSON() throws {
        var config = TMSPreset.t2.config
        config.featureProbability = .explicit([1, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01])
        config.importance = .explicit((0..<20).map { Float($0) / 20 })
        config.featureValues = .discrete([1, 2, 3])
        config.training.seed = 123
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try JSONCoding.encode(config).write(to: url)
        XCTAssertEqual(try JSONCoding.decode(TMSConfig.self, from: url), config)
    }

    func testInvalidConfigsGiveOneLineErrors() {
        var config = TMSPreset.t1.config
        config.hidden = 0
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual("\($0)", "m (hidden dimensions) must be at least 1, got 0") }
        config = TMSPreset.t1.config
        config.importance = .explicit([1, 2])
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual("\($0)", "importance lists 2 values for 5 features") }
        XCTAssertThrowsError(try TMSPreset.named("T7")) { XCTAssertTrue("\($0)".contains("T1, T2, T3, T4, T6-correlated, T6-anticorrelated")) }
        XCTAssertEqual(try TMSPreset.named("t2"), .t2)
    }
}
