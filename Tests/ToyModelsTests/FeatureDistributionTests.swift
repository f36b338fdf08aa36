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

    /// The AVX-512, AVX2 and portable samplers draw the same batch from the same lanes, including a
    /// partial last block of rows and features with p = 0 and p = 1 (which draw nothing for
    /// presence); so a run does not depend on the CPU's vector unit.
    func testVectorisedAndPortableSamplersAgree() {
        for (rows, n) in [(1024, 5), (37, 20), (9, 3), (16, 100), (40, 16), (130, 7)] {
            var thresholds = (0..<n).map { UInt64(Double($0 + 1) / Double(n + 1) * 4_294_967_296) }
            if n > 3 { thresholds[0] = 0; thresholds[n - 1] = 1 << 32 }
            for table in [[Float](), [1, 2, 3]] {
                var results: [[Float]] = []
                var states: [[Float]] = []
                for path: Int32 in [3, 2, 1] {
                    var lanes = RandomLanes(seed: 4, stream: 1)
                    var x = [Float](repeating: -1, count: rows * n)
                    lanes.withState { state in ck_sample_features_path(path, state, rows, n, thresholds, -1, 2, table, table.count, &x) }
                    results.append(x)
                    // The lanes advanced identically too: the next batch agrees.
                    var next = [Float](repeating: -1, count: 8 * n)
                    lanes.withState { state in ck_sample_features_path(path, state, 8, n, thresholds, 0, 1, nil, 0, &next) }
                    states.append(next)
                }
                XCTAssertEqual(results[0], results[2], "rows \(rows), n \(n), AVX-512 vs portable")
                XCTAssertEqual(results[1], results[2], "rows \(rows), n \(n), AVX2 vs portable")
                XCTAssertEqual(states[0], states[2])
                XCTAssertEqual(states[1], states[2])
                XCTAssertTrue(results[2].allSatisfy { $0 != -1 }, "every entry written")
                if n > 3 {
                    XCTAssertTrue((0..<rows).allSatisfy { results[2][$0 * n] == 0 }, "p = 0 never present")
                    XCTAssertTrue((0..<rows).allSatisfy { results[2][$0 * n + n - 1] != 0 || table.isEmpty }, "p = 1 always present")
                }
            }
        }
    }

    /// A batch where every feature has p = 1 (the AVX-512 sampler then writes values in place) is the
    /// same on every path, in full blocks of 64 rows and a partial one, and every entry holds a value.
    func testAllPresentBatchesAgreeAcrossSamplers() {
        let rows = 130, n = 7
        let thresholds = [UInt64](repeating: 1 << 32, count: n)
        var results: [[Float]] = []
        for path: Int32 in [3, 2, 1] {
            var lanes = RandomLanes(seed: 8, stream: 3)
            var x = [Float](repeating: -1, count: rows * n)
            lanes.withState { state in ck_sample_features_path(path, state, rows, n, thresholds, 0, 1, nil, 0, &x) }
            results.append(x)
        }
        XCTAssertEqual(results[0], results[2], "AVX-512 vs portable")
        XCTAssertEqual(results[1], results[2], "AVX2 vs portable")
        XCTAssertTrue(results[2].allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertGreaterThan(Set(results[2]).count, rows * n - 10, "values are drawn, not repeated")
    }

    /// Presence is tested on 8 bits and the one entry in 256 whose byte ties the threshold's top byte
    /// takes 24 more bits: probabilities decided partly or only by ties keep their exact rate (a tie
    /// always absent or always present would be 20 or 11 standard deviations off here).
    func testPresenceDecidedByTiesKeepsItsRate() {
        let probabilities: [Double] = [0.5 / 256, 1.5 / 256, 1.0 / 256, 0.3]
        let n = probabilities.count, rows = 200_000
        let thresholds = probabilities.map { UInt64(($0 * 4_294_967_296).rounded()) }
        for path: Int32 in [3, 2, 1] {
            var lanes = RandomLanes(seed: 6, stream: 2)
            var x = [Float](repeating: -1, count: rows * n)
            lanes.withState { state in ck_sample_features_path(path, state, rows, n, thresholds, 0, 1, nil, 0, &x) }
            for (i, p) in probabilities.enumerated() {
                let present = Double((0..<rows).filter { x[$0 * n + i] != 0 }.count)
                let sigma = (Double(rows) * p * (1 - p)).squareRoot()
                XCTAssertEqual(present, Double(rows) * p, accuracy: 6 * sigma, "path \(path), p = \(p)")
            }
        }
    }

    /// Groups made only of p = 0 and p = 1 features draw no presence words, and the others still
    /// see their own probability: a row mixing p = 1 with p = 0.3 keeps both rates.
    func testMixedCertainAndRandomFeaturesKeepTheirRates() {
        let n = 24, batchSize = 20_000
        var probabilities = [Float](repeating: 1, count: n)
        for i in 16..<n { probabilities[i] = 0.3 }
        let distribution = FeatureDistribution(probabilities: Tensor(shape: [1, n], scalars: probabilities))
        var lanes = [RandomLanes(seed: 5, stream: 0)]
        let x = distribution.sample(batchSize: batchSize, lanes: &lanes).scalars
        for i in 0..<n {
            let present = (0..<batchSize).filter { x[$0 * n + i] != 0 }.count
            let p = Double(probabilities[i])
            XCTAssertEqual(Double(present) / Double(batchSize), p, accuracy: 6 * (p * (1 - p) / Double(batchSize)).squareRoot() + 1e-4,
                           "feature \(i)")
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
