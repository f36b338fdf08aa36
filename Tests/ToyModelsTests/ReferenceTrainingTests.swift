import XCTest
import TensorCore
import ToyModels

/// The Toy Models reference settings reproduced at full size (n = 5, m = 2, 10 instances, 10,000 steps).
final class ReferenceTrainingTests: XCTestCase {
    /// p_k = 20^(−k/9) and I_i = 0.9^i, as in the notebook's intro figure.
    static func t1Distribution() -> (FeatureDistribution, Tensor) {
        let probabilities = (0..<10).map { Float(pow(20.0, -Double($0) / 9)) }
        let importance = (0..<10).flatMap { _ in (0..<5).map { Float(pow(0.9, Double($0))) } }
        return (FeatureDistribution(instanceProbabilities: probabilities, featureCount: 5),
                Tensor(shape: [10, 5], scalars: importance))
    }

    func testT1MatchesReferenceLossAndGeometry() {
        let (distribution, importance) = Self.t1Distribution()
        var settings = TrainingSettings()
        settings.seed = 1
        let result = ToyModelTrainer.train(kind: .reluOutput, hidden: 2, distribution: distribution,
                                           importance: importance, settings: settings)
        // The reference notebook's final losses (10,000 steps) average 0.0220.
        let mean = result.evaluationLoss.reduce(0, +) / 10
        print("T1 evaluation loss per instance:", result.evaluationLoss)
        XCTAssertEqual(mean, 0.0220, accuracy: 0.0022)
        let norms = (0..<10).map { instance in
            (0..<5).map { i in
                (0..<2).map { k in pow(result.model.weights[instance, k, i], 2) }.reduce(0, +).squareRoot()
            }
        }
        print("T1 norms:", norms)
        XCTAssertEqual(norms[0].filter { $0 > 0.5 }.count, 2, "the densest instance keeps the two most important features")
        XCTAssertGreaterThan(norms[0][0], 0.5)
        XCTAssertGreaterThan(norms[0][1], 0.5)
        XCTAssertEqual(norms[9].filter { $0 > 0.5 }.count, 5, "the sparsest instance represents all five")
    }
}
