import Foundation
import XCTest
import Analysis
import Experiments
import TensorCore
import ToyModels

/// I7, non-linear weight sharing (A Toy Model of Interference Weights, Appendix 1).
final class WeightSharingTests: XCTestCase {
    /// The training step's loss equals the reference loss, and its gradients equal central differences of it.
    func testStepGradientsMatchFiniteDifferences() {
        let (n, m, batch) = (3, 2, 64)
        let arrangement = WeightSharingConfig.Arrangement.regular(name: "triangle", features: n)
        var generator = RandomGenerator(seed: 11)
        var model = WeightSharingModel(embedding: arrangement.embedding, middle: .normal([1, m, m], standardDeviation: 1, using: &generator),
                                       bias: .normal([1, n], standardDeviation: 0.2, using: &generator),
                                       circuit: BlockCircuit(multipliers: [2, 2, 2]))
        var lanes = [RandomLanes(seed: 12, stream: 0)]
        let drawn = FeatureDistribution(instanceProbabilities: [0.6], featureCount: n).sample(batchSize: batch, lanes: &lanes).scalars
        // Only samples whose pre-activations all lie at least 0.02 from the ReLU kink: a step of h in one
        // parameter moves a pre-activation by at most h · Σ_j x_j ≤ 3h (unit-norm embedding, x ≤ 1), so
        // no central difference below crosses a kink, whatever the data stream draws.
        let u = model.virtualWeights(instance: 0)
        let rows = (0..<batch).map { Array(drawn[($0 * n)..<(($0 + 1) * n)]) }.filter { row in
            (0..<n).allSatisfy { i in abs(model.bias.scalars[i] + (0..<n).reduce(Float(0)) { $0 + u[i * n + $1] * row[$1] }) > 0.02 }
        }
        XCTAssertGreaterThan(rows.count, batch / 2)
        let x = Tensor(shape: [1, rows.count, n], scalars: Array(rows.joined()))
        let importance = Tensor([1, 0.5, 2]).reshaped([1, n])
        let step = model.makeStep(batchSize: rows.count)
        var middleGradient = [Float](repeating: 0, count: m * m), biasGradient = [Float](repeating: 0, count: n)
        let parameters = model.parameters.map(\.scalars)
        let loss = x.scalars.withUnsafeBufferPointer { xs in
            importance.scalars.withUnsafeBufferPointer { imp in
                parameters[0].withUnsafeBufferPointer { p0 in
                    parameters[1].withUnsafeBufferPointer { p1 in
                        middleGradient.withUnsafeMutableBufferPointer { g0 in
                            biasGradient.withUnsafeMutableBufferPointer { g1 in
                                step.lossAndGradients(input: xs.baseAddress!, importance: imp.baseAddress!,
                                                      parameters: [p0.baseAddress!, p1.baseAddress!],
                                                      gradients: [g0.baseAddress!, g1.baseAddress!])
                            }
                        }
                    }
                }
            }
        }
        let gradients = [middleGradient, biasGradient]
        XCTAssertEqual(loss, model.lossPerInstance(x, importance: importance)[0], accuracy: 1e-5 * max(1, loss))
        let h: Float = 1e-3
        for k in 0..<2 {
            for index in 0..<parameters[k].count {
                var plus = model, minus = model
                plus.parameters[k].scalars[index] += h
                minus.parameters[k].scalars[index] -= h
                let numeric = (plus.lossPerInstance(x, importance: importance)[0] - minus.lossPerInstance(x, importance: importance)[0]) / (2 * h)
                XCTAssertEqual(gradients[k][index], numeric, accuracy: 2e-3 * max(1, abs(numeric)), "parameter \(k), entry \(index)")
            }
        }
        model.parameters[0].scalars[0] += 1  // the reference really depends on M
        XCTAssertNotEqual(model.lossPerInstance(x, importance: importance)[0], loss)
    }

    /// The loss-optimal isotropic shared weight M = c·I when every feature is multiplied by 2, features are
    /// present with probability p (values U[0, 1]) and b = 0: output 1 reads d = x_1 + cos θ Σ x_j over the
    /// other present features j, so c = 2 E[x_1 d; d > 0] / E[d²; d > 0] over samples with x_1 present.
    /// Computed by midpoint integration; for the antipodal pair it is (8 − 5p) / (4 − 3p).
    func optimalSharedScale(others: Int, cosine: Double, p: Double, grid: Int = 120) -> Double {
        var numerator = 0.0, denominator = 0.0
        for present in 0...others {
            var ways = 1.0
            for i in 0..<present { ways *= Double(others - i) / Double(i + 1) }
            let probability = ways * pow(p, Double(present)) * pow(1 - p, Double(others - present))
            var product = 0.0, square = 0.0
            let cells = Int(pow(Double(grid), Double(present + 1)))
            for cell in 0..<cells {
                var rest = cell, values: [Double] = []
                for _ in 0...present { values.append((Double(rest % grid) + 0.5) / Double(grid)); rest /= grid }
                let d = values[0] + cosine * values.dropFirst().reduce(0, +)
                if d > 0 { product += values[0] * d; square += d * d }
            }
            numerator += probability * product / Double(cells)
            denominator += probability * square / Double(cells)
        }
        return 2 * numerator / denominator
    }

    func testTheSharedWeightIsTheMaximumNotTheSum() throws {
        var config = WeightSharingPreset.i7
        config.training.threads = 1
        config.evaluationSamples = 50_000
        let (_, metrics) = try WeightSharingExperiment.train(config)
        let p = Double(config.featureProbability)
        XCTAssertEqual(optimalSharedScale(others: 1, cosine: -1, p: p), (8 - 5 * p) / (4 - 3 * p), accuracy: 1e-4)
        for (a, cosine) in [("antipodal", -1.0), ("triangle", -0.5)] {
            let arrangement = try XCTUnwrap(metrics.arrangement(a))
            let n = arrangement.features, m = arrangement.hidden
            // Each feature alone wants ×2 on its own weight.
            for k in 0..<n { XCTAssertEqual(arrangement.ownWeights[k], 2, accuracy: 0.005, "\(a): feature \(k + 1) alone") }
            // Trained on all features, M is the loss-optimal c·I: c is 2 plus a correction of order p for the
            // samples where two features overlap, while the sum of the parts (parameter linearity) is E A Eᵀ =
            // 2·(n/m)·I: 4 for the pair, 3 for the triangle. Tolerance 0.01: AdamW at a constant lr 1e-3 leaves
            // M within a few 1e-3 of its optimum, and b stays near 0 (checked below). M's antisymmetric part
            // (a rotation, which leaves every U_kk alone and moves only interference weights below the ReLU
            // threshold) is constrained by overlapping samples alone, so it only has to stay small.
            let c = optimalSharedScale(others: n - 1, cosine: cosine, p: p)
            let middle = arrangement.shared.middle.map(Double.init)
            for r in 0..<m {
                for s in 0..<m {
                    let symmetric = (middle[r * m + s] + middle[s * m + r]) / 2
                    XCTAssertEqual(symmetric, r == s ? c : 0, accuracy: 0.01, "\(a): M[\(r), \(s)], c = \(c)")
                    XCTAssertLessThan(abs(middle[r * m + s] - symmetric), 0.05, "\(a): M[\(r), \(s)]")
                    XCTAssertEqual(Double(arrangement.partSum[r * m + s]), r == s ? 2 * Double(n) / Double(m) : 0, accuracy: 0.01)
                }
            }
            for b in arrangement.shared.bias { XCTAssertEqual(b, 0, accuracy: 0.01) }
            // So M is ½ (pair) or ⅔ (triangle) of the sum, up to the overlap correction c / 2.
            XCTAssertEqual(arrangement.ratioToSum, c / 2 * Double(m) / Double(n), accuracy: 0.005, a)
            XCTAssertLessThan(arrangement.residualToSum, 0.02, a)
            // Entry by entry on the virtual weights: the pointwise maximum of the parts (in magnitude), not their sum.
            XCTAssertLessThan(arrangement.deviationFromMax, 0.05, a)
            XCTAssertGreaterThan(arrangement.deviationFromSum, 0.9, a)
            // ΔL and Definition 1: the diagonal weights are real; every off-diagonal weight is interference by both
            // definitions (U − A = 2 cos θ, and removing it lowers the loss: it only spoils outputs when features overlap).
            for i in 0..<n {
                for j in 0..<n {
                    let index = i * n + j
                    if i == j {
                        XCTAssertTrue(arrangement.real[index], "\(a): U\(i + 1)\(j + 1)")
                        XCTAssertEqual(Double(arrangement.interference[index]), c - 2, accuracy: 0.01)
                    } else {
                        XCTAssertFalse(arrangement.real[index], "\(a): U\(i + 1)\(j + 1)")
                        XCTAssertLessThan(arrangement.deltaLoss[index], 0, "\(a): U\(i + 1)\(j + 1)")
                        XCTAssertEqual(Double(arrangement.interference[index]), c * cosine, accuracy: 0.02)
                    }
                }
            }
        }
    }

    func testConfigRoundTripsAndReportRenders() throws {
        var config = WeightSharingPreset.i7
        config.training.steps = 300
        config.training.threads = 1
        config.evaluationSamples = 2_000
        let data = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(WeightSharingConfig.self, from: data), config)
        let (_, metrics) = try WeightSharingExperiment.train(config)
        let metricsData = try JSONEncoder().encode(metrics)
        XCTAssertEqual(try JSONDecoder().decode(WeightSharingMetrics.self, from: metricsData), metrics)
        let report = WeightSharingReport(config: config, metrics: metrics)
        XCTAssertEqual(report.figures().map(\.name), ["shared-against-sum-and-max", "where-each-feature-goes"])
        let html = report.page().html
        for fragment in ["Settings the note leaves unstated", "The note gives no model or settings", "What ΔL and Definition 1 say"] {
            XCTAssertTrue(html.contains(fragment), fragment)
        }
    }

    func testBadConfigsGetOneLine() {
        var config = WeightSharingPreset.i7
        config.arrangements[1].directions[0] = [2, 0]
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("unit vectors"), "\($0)") }
        config = WeightSharingPreset.i7
        config.arrangements[0].directions[1] = [1, 0]
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("every direction needs 1 entries"), "\($0)") }
        config = WeightSharingPreset.i7
        config.featureProbability = 0
        XCTAssertThrowsError(try config.validate())
        config = WeightSharingPreset.i7
        config.arrangements = []
        XCTAssertThrowsError(try config.validate())
    }
}
