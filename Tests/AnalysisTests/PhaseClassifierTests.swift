import XCTest
import TensorCore
import ToyModels
@testable import Analysis

/// The phase classifier on weights whose answer is known in closed form.
final class PhaseClassifierTests: XCTestCase {
    let classifier = PhaseClassifier()

    func weights(_ rows: [[Float]]) -> Tensor {
        Tensor(shape: [rows.count, rows[0].count], scalars: Array(rows.joined()))
    }

    func testAntipodalPairInOneDimensionIsSuperposition() {
        let result = classifier.classify(weights: weights([[1, -1]]), feature: 1)
        XCTAssertEqual(result.phase, .superposition)
        XCTAssertEqual(result.maxOverlap, 1, accuracy: 1e-6)
        XCTAssertEqual(result.overlapFeature, 0)
        XCTAssertEqual(result.norm, 1, accuracy: 1e-6)
        XCTAssertEqual(result.featureNorms, [1, 1])
    }

    func testOrthogonalUnitVectorsAreDedicated() {
        let result = classifier.classify(weights: weights([[1, 0], [0, 1]]), feature: 1)
        XCTAssertEqual(result.phase, .dedicatedDimension)
        XCTAssertEqual(result.maxOverlap, 0, accuracy: 1e-6)
        // n = 3 in m = 3: the standard basis, every feature dedicated.
        let identity = weights([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        for k in 0..<3 { XCTAssertEqual(classifier.classify(weights: identity, feature: k).phase, .dedicatedDimension) }
    }

    func testZeroColumnIsNotRepresented() {
        let result = classifier.classify(weights: weights([[1, 0]]), feature: 1)
        XCTAssertEqual(result.phase, .notRepresented)
        XCTAssertEqual(result.norm, 0)
        XCTAssertEqual(result.maxOverlap, 0)
        XCTAssertEqual(classifier.classify(weights: weights([[1, 0.2]]), feature: 1).phase, .notRepresented)
    }

    func testADroppedFeatureDoesNotShareADimension() {
        // m = 1: feature 1 holds the only dimension, feature 0 is (nearly) dropped: dedicated, as in the paper's n=2, m=1 diagram.
        let result = classifier.classify(weights: weights([[0.05, 1.1]]), feature: 1)
        XCTAssertEqual(result.phase, .dedicatedDimension)
        XCTAssertNil(result.overlapFeature)
    }

    func testTriangleAndAntipodalPairWithAnOrthogonalFeature() {
        let c = Float(3).squareRoot() / 2
        let triangle = weights([[1, -0.5, -0.5], [0, c, -c]])
        let result = classifier.classify(weights: triangle, feature: 2)
        XCTAssertEqual(result.phase, .superposition)
        XCTAssertEqual(result.maxOverlap, 0.5, accuracy: 1e-5)
        // Features 0 and 1 antipodal in dimension 0, feature 2 alone in dimension 1.
        let pairPlusOne = weights([[1, -1, 0], [0, 0, 1]])
        XCTAssertEqual(classifier.classify(weights: pairPlusOne, feature: 2).phase, .dedicatedDimension)
        XCTAssertEqual(classifier.classify(weights: pairPlusOne, feature: 1).phase, .superposition)
    }

    func testThresholdsAreValidatedAndEveryInstanceIsClassified() {
        XCTAssertNil(PhaseClassifier().problem)
        XCTAssertNotNil(PhaseClassifier(normThreshold: 0).problem)
        XCTAssertNotNil(PhaseClassifier(overlapThreshold: 1).problem)
        let model = ToyModel(kind: .reluOutput, weights: Tensor(shape: [3, 1, 2], scalars: [1, -1, 0, 1, 1, 0]),
                             bias: Tensor(zeros: [3, 2]))
        XCTAssertEqual(classifier.classify(model, feature: 1).map(\.phase), [.superposition, .dedicatedDimension, .notRepresented])
    }
}
