import Foundation
import XCTest
import Experiments
import TensorCore
import ToyModels

/// T6: correlated pairs are drawn together, anticorrelated pairs never; trained models put an
/// anticorrelated pair in one dimension antipodally and keep a correlated pair apart.
final class CorrelatedFeaturesTests: XCTestCase {
    func testPairSamplingRates() {
        let batch = 20_000
        for correlation in [FeatureCorrelation.correlatedPairs, .anticorrelatedPairs] {
            let distribution = FeatureDistribution(instanceProbabilities: [0.1], featureCount: 4, correlation: correlation)
            var lanes = [RandomLanes(seed: 2, stream: 0)]
            let x = distribution.sample(batchSize: batch, lanes: &lanes).scalars
            var present = [Int](repeating: 0, count: 4), together = 0
            for b in 0..<batch {
                for i in 0..<4 where x[b * 4 + i] != 0 { present[i] += 1 }
                if x[b * 4] != 0 && x[b * 4 + 1] != 0 { together += 1 }
            }
            let sigma = (0.1 * 0.9 * Double(batch)).squareRoot()
            for count in present { XCTAssertEqual(Double(count), 0.1 * Double(batch), accuracy: 6 * sigma, "\(correlation)") }
            if correlation == .correlatedPairs {
                XCTAssertEqual(together, present[0], "a correlated pair is present together or not at all")
            } else {
                XCTAssertEqual(together, 0, "an anticorrelated pair is never present together")
            }
        }
        var config = TMSPreset.t6Correlated.config
        config.features = 5
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("even number of features")) }
    }

    /// cos(W_0, W_1) of the sparsest instance: the two features of the first pair.
    func pairCosine(_ preset: TMSPreset) throws -> Float {
        var config = preset.config
        config.training.seed = 1
        let (model, _) = try TMSExperiment.train(config)
        let w = model.weights.slice(config.instances - 1)  // [m, n]
        let a = (0..<2).map { w[$0, 0] }, b = (0..<2).map { w[$0, 1] }
        let dot = a[0] * b[0] + a[1] * b[1]
        return dot / ((a[0] * a[0] + a[1] * a[1]).squareRoot() * (b[0] * b[0] + b[1] * b[1]).squareRoot())
    }

    func testAnticorrelatedPairsGoAntipodalAndCorrelatedPairsDoNot() throws {
        let anticorrelated = try pairCosine(.t6Anticorrelated)
        let correlated = try pairCosine(.t6Correlated)
        print("T6 sparsest instance, cos between the features of a pair: anticorrelated \(anticorrelated), correlated \(correlated)")
        XCTAssertLessThan(anticorrelated, -0.9)
        XCTAssertGreaterThan(correlated, -0.5)
    }
}
