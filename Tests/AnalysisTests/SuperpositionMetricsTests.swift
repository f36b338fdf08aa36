import Foundation
import XCTest
import TensorCore
import Analysis

/// Closed forms from Toy Models of Superposition: D_i is 1 for a dedicated dimension,
/// 1/2 in an antipodal pair, 2/5 in a pentagon, 2/3 in a triangle.
final class SuperpositionMetricsTests: XCTestCase {
    func columns(_ vectors: [[Float]]) -> Tensor {
        let m = vectors[0].count
        return Tensor(shape: [m, vectors.count], scalars: (0..<m).flatMap { k in vectors.map { $0[k] } })
    }

    func polygon(_ count: Int, radius: Float = 1) -> Tensor {
        columns((0..<count).map { k in
            let angle = 2 * Double.pi * Double(k) / Double(count)
            return [radius * Float(cos(angle)), radius * Float(sin(angle))]
        })
    }

    func testOrthogonalFeaturesHaveDimensionalityOne() {
        let metrics = SuperpositionMetrics(weights: columns([[1, 0], [0, 1], [0, 0]]))
        XCTAssertEqual(metrics.featureNorms, [1, 1, 0])
        XCTAssertEqual(metrics.superposition, [0, 0, 0])
        XCTAssertEqual(metrics.featureDimensionality, [1, 1, 0])
        XCTAssertEqual(metrics.dimensionsPerFeature!, 1, accuracy: 1e-6)
        XCTAssertEqual(metrics.representedFeatureCount, 2)
    }

    func testAntipodalPairHasHalfADimensionEach() {
        let metrics = SuperpositionMetrics(weights: columns([[1.2], [-1.2]]))
        for d in metrics.featureDimensionality { XCTAssertEqual(d, 0.5, accuracy: 1e-6) }
        for s in metrics.superposition { XCTAssertEqual(s, 1.44, accuracy: 1e-5) }
        XCTAssertEqual(metrics.dimensionsPerFeature!, 1 / 2.88, accuracy: 1e-6)
    }

    func testPentagonAndTriangle() {
        for d in SuperpositionMetrics(weights: polygon(5)).featureDimensionality { XCTAssertEqual(d, 0.4, accuracy: 1e-5) }
        for d in SuperpositionMetrics(weights: polygon(3, radius: 0.7)).featureDimensionality { XCTAssertEqual(d, 2.0 / 3, accuracy: 1e-5) }
        XCTAssertEqual(SuperpositionMetrics(weights: polygon(5)).dimensionsPerFeature!, 0.4, accuracy: 1e-5)
    }

    func testZeroWeightsHaveNoDimensionsPerFeature() {
        XCTAssertNil(SuperpositionMetrics(weights: Tensor(zeros: [2, 3])).dimensionsPerFeature)
    }
}
