import XCTest
import Analysis
import Experiments

/// T4 at reduced size: as sparsity rises from dense, features move onto the antipodal
/// plateau D_i = 1/2 (Toy Models of Superposition, "feature dimensionality").
final class FeatureDimensionalityTests: XCTestCase {
    func testFractionOfFeaturesAtOneHalfRisesWithSparsity() throws {
        var config = TMSPreset.t4.config
        config.features = 40
        config.hidden = 5
        config.instances = 3
        config.featureProbability = .explicit([1, 0.5, 0.3])
        config.training.steps = 4000
        config.training.seed = 2
        let (_, metrics) = try TMSExperiment.train(config)
        let fractions = metrics.instances.map { instance -> Double in
            let d = instance.geometry.featureDimensionality
            return Double(d.filter { abs($0 - 0.5) < 0.05 }.count) / Double(d.count)
        }
        print("T4 (reduced) fraction of features with D_i ≈ 1/2 at p = 1, 0.5, 0.3:", fractions)
        XCTAssertLessThan(fractions[0], fractions[1])
        XCTAssertLessThanOrEqual(fractions[1], fractions[2])
        XCTAssertGreaterThan(fractions[2], 0.1)
    }
}
