import CKernels
import XCTest
import TensorCore
import ToyModels

final class FeatureDistributionTests: XCTestCase {
    /// Presence is Bernoulli(p) and present values are U[0, 1), for every density.
    func testPresenceFrequencyAndValuesMatchTheLaw() {
        let probabilities: [Float] = [1, 0.5, 0.2, 0.05, 0.01, 0]
        let n = 50, batchSize = 4000
        let distribution = FeatureDistribution(instanceProbabilities: probabilities, featureCount: n)
        var lanes = probabilities.indices.map { RandomLanes(seed: 3, stream: UInt64($0)) }
        let x = distribution.sample(batchSize: batchSize, lanes: &lanes)
        XCTAssertEqual(x.shape, [probabilities.count, batchSize, n])
        for (i, p) in probabilities.enumerated() {
            let entries = x.slice(i).scalars
            let present = entries.filter { $0 != 0 }
            let trials = Double(entries.count)
            let sigma = (Double(p) * (1 - Double(p)) / trials).squareRoot()
            XCTAssertEqual(Double(present.count) / trials, Double(p), accuracy: 6 * sigma + 1e-12, "p = \(p)")
            XCTAssertTrue(entries.allSatisfy { $0 >= 0 && $0 < 1 })
            if present.count > 1000 {
                let mean = present.map(Double.init).reduce(0, +) / Double(present.count)
                XCTAssertEqual(mean, 0.5, accuracy: 6 * (1.0 / 12 / Double(present.count)).squareRoot(), "p = \(p)")
            }
        }
    }

    /// Presence of each feature is independent of its position in the row and of the lane that drew it.
    func testPresenceIsUniformAcrossFeatures() {
        let n = 13, batchSize = 20_000  // 13 is coprime to the 8 lanes
        let distribution = FeatureDistribution(instanceProbabilities: [0.05], featureCount: n)
        var lanes = [RandomLanes(seed: 9, stream: 0)]
        let x = distribution.sample(batchSize: batchSize, lanes: &lanes)
        var counts = [Int](repeating: 0, count: n)
        for b in 0..<batchSize { for i in 0..<n where x.scalars[b * n + i] != 0 { counts[i] += 1 } }
        let expected = 0.05 * Double(batchSize)
        for count in counts { XCTAssertEqual(Double(count), expected, accuracy: 6 * (expected * 0.95).squareRoot()) }
    }

    /// The vectorised and the portable sampler draw the same batch from the same lanes, including a
    /// partial last block of rows; so a run does not depend on the CPU's vector unit.
    func testVectorisedAndPortableSamplersAgree() {
        for (rows, n) in [(1024, 5), (37, 20), (9, 3), (16, 100)] {
            let thresholds = (0..<n).map { UInt64(Double($0 + 1) / Double(n + 1) * 4_294_967_296) }
            var fast = RandomLanes(seed: 4, stream: 1), portable = fast
            var a = [Float](repeating: -1, count: rows * n), b = a
            fast.withState { state in ck_sample_features(state, rows, n, thresholds, -1, 2, nil, 0, &a) }
            portable.withState { state in ck_sample_features_portable(state, rows, n, thresholds, -1, 2, nil, 0, &b) }
            XCTAssertEqual(a, b, "rows \(rows), n \(n)")
            // The lanes advanced identically too.
            fast.withState { state in ck_sample_features(state, 8, n, thresholds, 0, 1, nil, 0, &a) }
            portable.withState { state in ck_sample_features_portable(state, 8, n, thresholds, 0, 1, nil, 0, &b) }
            XCTAssertEqual(Array(a[0..<8 * n]), Array(b[0..<8 * n]))
        }
    }

    func testOtherValueLaws() {
        var lanes = [RandomLanes(seed: 1, stream: 0)]
        let constant = FeatureDistribution(instanceProbabilities: [0.5], featureCount: 4, values: .constant(1))
        XCTAssertEqual(Set(constant.sample(batchSize: 64, lanes: &lanes).scalars), [0, 1])
        let discrete = FeatureDistribution(instanceProbabilities: [1], featureCount: 4, values: .discrete([1, 2, 3]))
        let drawn = discrete.sample(batchSize: 3000, lanes: &lanes).scalars
        XCTAssertEqual(Set(drawn), [1, 2, 3])
        for value in [Float(1), 2, 3] {
            XCTAssertEqual(Double(drawn.filter { $0 == value }.count) / 12_000, 1.0 / 3, accuracy: 0.03)
        }
        let symmetric = FeatureDistribution(instanceProbabilities: [1], featureCount: 4, values: .uniform(low: -1, high: 1))
        let values = symmetric.sample(batchSize: 3000, lanes: &lanes).scalars
        XCTAssertTrue(values.allSatisfy { $0 >= -1 && $0 < 1 })
        XCTAssertEqual(values.map(Double.init).reduce(0, +) / 12_000, 0, accuracy: 0.03)
        XCTAssertNotNil(FeatureValues.uniform(low: 1, high: 0).problem)
        XCTAssertNotNil(FeatureValues.discrete([]).problem)
    }
}
