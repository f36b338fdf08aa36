import XCTest
import TensorCore
import ToyModels

final class FeatureDistributionTests: XCTestCase {
    /// Both sampling paths (dense draws for p >= 0.2, geometric skips below) give Bernoulli(p)
    /// presence and U[0, 1) values.
    func testPresenceFrequencyAndValuesMatchTheLaw() {
        let probabilities: [Float] = [1, 0.5, 0.2, 0.05, 0.01, 0]
        let n = 50, batchSize = 4000
        let distribution = FeatureDistribution(instanceProbabilities: probabilities, featureCount: n)
        var generators = probabilities.indices.map { RandomGenerator(seed: 3, stream: UInt64($0)) }
        let batch = distribution.sample(batchSize: batchSize, generators: &generators)
        for (i, p) in probabilities.enumerated() {
            let rows = batch.instances[i]
            XCTAssertEqual(rows.rowStart.count, batchSize + 1)
            let trials = Double(n * batchSize)
            let frequency = Double(rows.entryCount) / trials
            let sigma = (Double(p) * (1 - Double(p)) / trials).squareRoot()
            XCTAssertEqual(frequency, Double(p), accuracy: 6 * sigma + 1e-12, "p = \(p)")
            if rows.entryCount > 1000 {
                let mean = rows.value.map(Double.init).reduce(0, +) / Double(rows.entryCount)
                XCTAssertEqual(mean, 0.5, accuracy: 6 * (1.0 / 12 / Double(rows.entryCount)).squareRoot(), "p = \(p)")
            }
            // Features are ascending within each row, and every position is a valid feature.
            for b in 0..<batchSize {
                let slice = rows.feature[Int(rows.rowStart[b])..<Int(rows.rowStart[b + 1])]
                XCTAssertEqual(Array(slice), slice.sorted())
                XCTAssertTrue(slice.allSatisfy { $0 >= 0 && $0 < n })
                if Set(slice).count != slice.count { XCTFail("duplicate feature in a row"); break }
            }
        }
    }

    /// Presence of each feature is independent of position: the geometric path must not favour early features.
    func testGeometricPathIsUniformAcrossFeatures() {
        let n = 20, batchSize = 20_000
        let distribution = FeatureDistribution(instanceProbabilities: [0.05], featureCount: n)
        var generators = [RandomGenerator(seed: 9)]
        let rows = distribution.sample(batchSize: batchSize, generators: &generators).instances[0]
        var counts = [Int](repeating: 0, count: n)
        for f in rows.feature { counts[Int(f)] += 1 }
        let expected = 0.05 * Double(batchSize)
        for count in counts { XCTAssertEqual(Double(count), expected, accuracy: 6 * (expected * 0.95).squareRoot()) }
    }

    func testDenseRoundTrip() {
        let distribution = FeatureDistribution(instanceProbabilities: [0.3, 0.05], featureCount: 9)
        var generators = [RandomGenerator(seed: 1), RandomGenerator(seed: 2)]
        let batch = distribution.sample(batchSize: 40, generators: &generators)
        let dense = batch.dense()
        XCTAssertEqual(dense.shape, [2, 40, 9])
        XCTAssertEqual(SparseBatch(dense: dense).dense(), dense)
    }

    func testOtherValueLaws() {
        XCTAssertEqual(FeatureValues.constant(1).value(fromUniform: 0.3), 1)
        XCTAssertEqual(FeatureValues.uniform(low: -1, high: 1).value(fromUniform: 0.25), -0.5)
        XCTAssertEqual(FeatureValues.discrete([1, 2, 3]).value(fromUniform: 0.999), 3)
        XCTAssertEqual(FeatureValues.discrete([1, 2, 3]).value(fromUniform: 0), 1)
        XCTAssertNotNil(FeatureValues.uniform(low: 1, high: 0).problem)
        XCTAssertNotNil(FeatureValues.discrete([]).problem)
    }
}
