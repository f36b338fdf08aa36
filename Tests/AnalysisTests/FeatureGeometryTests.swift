import Foundation
import XCTest
import TensorCore
import Analysis

/// Constructed weights whose geometry has a closed form: regular k-gons in a plane have
/// D_i = 2/k, a regular tetrahedron 3/4, and shapes in orthogonal subspaces do not interact.
final class FeatureGeometryTests: XCTestCase {
    /// `[m, n]` weights whose columns are `vectors`.
    func columns(_ vectors: [[Float]]) -> Tensor {
        let m = vectors[0].count
        return Tensor(shape: [m, vectors.count], scalars: (0..<m).flatMap { k in vectors.map { $0[k] } })
    }

    /// `count` vectors of length `radius` evenly spaced around a circle in dimensions `axes` of `m`.
    func polygon(_ count: Int, radius: Float = 1, in m: Int = 2, axes: (Int, Int) = (0, 1), phase: Double = 0.3) -> [[Float]] {
        (0..<count).map { k in
            let angle = phase + 2 * Double.pi * Double(k) / Double(count)
            var v = [Float](repeating: 0, count: m)
            v[axes.0] = radius * Float(cos(angle))
            v[axes.1] = radius * Float(sin(angle))
            return v
        }
    }

    func testOrthogonalFeaturesAreDedicated() {
        let geometry = FeatureGeometry(weights: columns([[1, 0], [0, 1.1], [0.01, 0.02]]))
        XCTAssertEqual(geometry.counts.dedicated, 2)
        XCTAssertEqual(geometry.groups.map(\.features), [[0], [1]])
        XCTAssertEqual(geometry.unrepresented, [2])
        for group in geometry.groups { XCTAssertEqual(group.dimensions, 1, accuracy: 1e-3) }
        XCTAssertEqual(geometry.countSummary, "2 dedicated")
        XCTAssertEqual(geometry.kindOfFeature, [.dedicated, .dedicated, nil])
    }

    func testTwoAntipodalPairsInAPlane() {
        // A square is two antipodal pairs on orthogonal axes, not one four-feature shape.
        let geometry = FeatureGeometry(weights: columns([[1, 0], [0, 1], [-1, 0], [0, -0.9]]))
        XCTAssertEqual(geometry.counts.antipodalPairs, 2)
        XCTAssertEqual(geometry.groups.map(\.features), [[0, 2], [1, 3]])
        for group in geometry.groups { XCTAssertEqual(group.dimensions, 1, accuracy: 1e-5) }
        XCTAssertEqual(geometry.summary, "2 antipodal pairs {0 2} {1 3}")
        XCTAssertEqual(SuperpositionMetrics(weights: columns([[1, 0], [0, 1], [-1, 0], [0, -1]])).dimensionsPerFeature!, 0.5, accuracy: 1e-6)
    }

    func testTriangle() {
        let geometry = FeatureGeometry(weights: columns(polygon(3, radius: 0.8)))
        XCTAssertEqual(geometry.counts, FeatureGeometry.Counts(triangles: 1))
        XCTAssertEqual(geometry.groups[0].dimensions, 2, accuracy: 1e-5)  // 3 × 2/3
    }

    func testTetrahedron() {
        let s = Float(1 / 3.0.squareRoot())
        let vertices: [[Float]] = [[s, s, s], [s, -s, -s], [-s, s, -s], [-s, -s, s]]
        let geometry = FeatureGeometry(weights: columns(vertices))
        XCTAssertEqual(geometry.counts, FeatureGeometry.Counts(tetrahedra: 1))
        XCTAssertEqual(geometry.groups[0].features, [0, 1, 2, 3])
        XCTAssertEqual(geometry.groups[0].dimensions, 3, accuracy: 1e-5)  // 4 × 3/4
        for d in SuperpositionMetrics(weights: columns(vertices)).featureDimensionality { XCTAssertEqual(d, 0.75, accuracy: 1e-5) }
    }

    func testPentagon() {
        // Shuffled around the circle, so neighbours in the plane are not neighbours by index.
        let vertices = polygon(5, radius: 1.1)
        let geometry = FeatureGeometry(weights: columns([vertices[0], vertices[2], vertices[4], vertices[1], vertices[3]]))
        XCTAssertEqual(geometry.counts, FeatureGeometry.Counts(pentagons: 1))
        XCTAssertEqual(geometry.groups[0].features, [0, 1, 2, 3, 4])
        XCTAssertEqual(geometry.groups[0].dimensions, 2, accuracy: 1e-5)  // 5 × 2/5
        XCTAssertEqual(geometry.summary, "1 pentagon {0 1 2 3 4}")
    }

    func testSlightlyIrregularPentagonStillCounts() {
        var vertices = polygon(5)
        vertices[2] = polygon(5, radius: 1.05, phase: 0.3 + 0.05)[2]  // about 3° off and 5% longer
        XCTAssertEqual(FeatureGeometry(weights: columns(vertices)).counts.pentagons, 1)
    }

    func testFiveFeaturesThatAreNotAPentagonAreOther() {
        // Five features in a plane at uneven angles: all coupled, but not a regular pentagon.
        let angles = [0.0, 0.9, 2.0, 3.5, 4.6]
        let geometry = FeatureGeometry(weights: columns(angles.map { [Float(cos($0)), Float(sin($0))] }))
        XCTAssertEqual(geometry.counts, FeatureGeometry.Counts(other: 1))
    }

    func testHexagonIsAnOtherPolytopeWithItsDimensions() {
        let geometry = FeatureGeometry(weights: columns(polygon(6)))
        XCTAssertEqual(geometry.counts, FeatureGeometry.Counts(other: 1))
        XCTAssertEqual(geometry.groups[0].features.count, 6)
        XCTAssertEqual(geometry.groups[0].dimensions, 2, accuracy: 1e-5)  // 6 × 1/3
    }

    /// A tegum product: each shape in its own subspace of m = 6, plus a dropped feature.
    func testMixedShapesInOrthogonalSubspaces() {
        var vectors: [[Float]] = []
        vectors.append([1, 0, 0, 0, 0, 0])                                   // 0: dedicated
        vectors.append([0, 1, 0, 0, 0, 0]); vectors.append([0, -1, 0, 0, 0, 0]) // 1, 2: antipodal pair
        vectors += polygon(3, in: 6, axes: (2, 3))                            // 3, 4, 5: triangle
        vectors += polygon(5, in: 6, axes: (4, 5))                            // 6…10: pentagon
        vectors.append([0.05, 0, 0, 0.1, 0, 0])                               // 11: not represented
        // Interleave so that group members are not contiguous indices.
        let order = [6, 0, 3, 1, 7, 4, 8, 11, 2, 9, 5, 10]
        let geometry = FeatureGeometry(weights: columns(order.map { vectors[$0] }))
        XCTAssertEqual(geometry.counts, FeatureGeometry.Counts(dedicated: 1, antipodalPairs: 1, triangles: 1, pentagons: 1))
        XCTAssertEqual(geometry.groups.map(\.kind), [.dedicated, .antipodalPair, .triangle, .pentagon])
        XCTAssertEqual(geometry.groups.map(\.features), [[1], [3, 8], [2, 5, 10], [0, 4, 6, 9, 11]])
        XCTAssertEqual(geometry.unrepresented, [7])
        XCTAssertEqual(geometry.countSummary, "1 dedicated · 1 antipodal pair · 1 triangle · 1 pentagon")
        XCTAssertEqual(geometry.groups.map(\.dimensions).reduce(0, +), 6, accuracy: 0.01)
    }

    func testNothingRepresented() {
        let geometry = FeatureGeometry(weights: Tensor(zeros: [2, 4]))
        XCTAssertTrue(geometry.groups.isEmpty)
        XCTAssertEqual(geometry.unrepresented, [0, 1, 2, 3])
        XCTAssertEqual(geometry.summary, "none represented")
    }

    func testRoundTripsThroughJSON() throws {
        let geometry = FeatureGeometry(weights: columns(polygon(5)))
        let data = try JSONEncoder().encode(geometry)
        XCTAssertEqual(try JSONDecoder().decode(FeatureGeometry.self, from: data), geometry)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"pentagons\":1") && text.contains("\"pentagon\""), text)
    }
}
