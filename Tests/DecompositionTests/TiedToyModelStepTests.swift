import TensorCore
import ToyModels
import XCTest
@testable import Decomposition

/// A small TMS target with random weights and components, shared by the step's checks.
struct SmallTiedProblem {
    let n = 4, m = 2
    var settings = APDSettings()
    let model: ToyModel
    let target: TiedToyModelTarget
    let x: [Float]            // [batch, n]
    var parameters: [Float]   // A then B

    init(minimality: APDSettings.Minimality = .batchTopK, source: APDSettings.AttributionSource = .target, seed: UInt64 = 7) {
        settings.components = 3
        settings.rank = 2
        settings.batchSize = 16
        settings.topK = 0.5
        settings.minimality = minimality
        settings.attributionSource = source
        settings.activationReconstructionCoefficient = 0
        settings.schattenCoefficient = 0.7
        settings.schattenP = 0.9
        settings.lpSparsityP = 0.9
        var generator = RandomGenerator(seed: seed)
        model = ToyModel(kind: .reluOutput, weights: .normal([1, m, n], standardDeviation: 0.8, using: &generator),
                         bias: .normal([1, n], standardDeviation: 0.2, using: &generator))
        target = TiedToyModelTarget(model: model, distribution: FeatureDistribution(instanceProbabilities: [0.5], featureCount: n))
        // Dense positive inputs so that every output sees gradient.
        x = (0..<(settings.batchSize * n)).map { _ in generator.nextUniform(in: 0, 1) }
        let layout = ComponentLayout(layers: target.layers, components: settings.components, rank: settings.rank)
        parameters = (0..<layout.count).map { _ in 0.5 * generator.nextNormal() }
    }

    func step() -> TiedToyModelStep { target.makeStep(instance: 0, settings: settings) as! TiedToyModelStep }

    func loss(_ p: [Float]) -> APDLossTerms { step().lossAndGradient(input: x, parameters: p).terms }

    /// The batch top-k mask at parameters `p`.
    func mask(_ p: [Float]) -> [Float] {
        let scores = x.withUnsafeBufferPointer { xs in p.withUnsafeBufferPointer { step().attributions(input: xs.baseAddress!, parameters: $0.baseAddress!) } }
        var topK = BatchTopK()
        return topK.mask(scores: scores, keep: settings.keptPairs)
    }

    func gradient(_ p: [Float]) -> [Float] { step().lossAndGradient(input: x, parameters: p).gradient }
}

final class TiedToyModelStepTests: XCTestCase {
    /// The closed form equals the reference's recipe: one backward pass per output dimension of the
    /// target, gradients at each layer's output times each component's output there, summed over
    /// layers, squared, summed over outputs.
    func testClosedFormAttributionsEqualOneBackwardPassPerOutput() {
        let problem = SmallTiedProblem()
        let (n, m, C, k, batch) = (problem.n, problem.m, problem.settings.components, problem.settings.rank, problem.settings.batchSize)
        let closed = problem.x.withUnsafeBufferPointer { xs in
            problem.parameters.withUnsafeBufferPointer { problem.step().attributions(input: xs.baseAddress!, parameters: $0.baseAddress!) }
        }
        let w = problem.target.targetWeight(layer: 0, instance: 0)  // [n, m]
        let tape = Tape()
        let x = tape.constant(Tensor(shape: [batch, n], scalars: problem.x))
        let weight = tape.variable(Tensor(shape: [n, m], scalars: w))  // a variable, so the intermediate layers carry gradients
        let hidden = x.matmul(weight)                                   // layer 1's output
        let second = hidden.matmul(weight, transposeOther: true)        // layer 2's output (before the bias)
        let out = (second + tape.constant(Tensor(shape: [1, n], scalars: problem.model.bias.scalars))).relu()
        let layout = ComponentLayout(layers: problem.target.layers, components: C, rank: k)
        let components = problem.parameters.withUnsafeBufferPointer { p in (0..<C).map { layout.componentWeight(layer: 0, component: $0, parameters: p.baseAddress!) } }
        var reference = [Float](repeating: 0, count: C * batch)
        for o in 0..<n {
            var selector = Tensor(zeros: [batch, n])
            for b in 0..<batch { selector.scalars[b * n + o] = 1 }
            let grads = tape.gradients(of: (out * tape.constant(selector)).sum(), withRespectTo: [hidden, second])
            for c in 0..<C {
                let wc = components[c]  // [n, m]
                for b in 0..<batch {
                    var s: Float = 0
                    for j in 0..<m {      // layer 1 component output: (x A_c B_c)_j
                        var act: Float = 0
                        for i in 0..<n { act += problem.x[b * n + i] * wc[i * m + j] }
                        s += grads[0].scalars[b * m + j] * act
                    }
                    for i in 0..<n {      // layer 2 component output: (h (A_c B_c)ᵀ)_i
                        var act: Float = 0
                        for j in 0..<m { act += hidden.value.scalars[b * m + j] * wc[i * m + j] }
                        s += grads[1].scalars[b * n + i] * act
                    }
                    reference[c * batch + b] += s * s
                }
            }
        }
        for i in 0..<(C * batch) {
            XCTAssertEqual(closed[i], reference[i], accuracy: 1e-4 * max(1, abs(reference[i])), "attribution \(i)")
        }
        XCTAssertGreaterThan(reference.max()!, 0.01, "the check needs non-trivial attributions")
    }

    /// Every loss term's gradient against central differences, for batch top-k and the L_p variant.
    /// The top-k mask is piecewise constant; a parameter whose nudge flips it is skipped (and counted).
    func testGradientsMatchFiniteDifferences() {
        for (minimality, source) in [(APDSettings.Minimality.batchTopK, APDSettings.AttributionSource.target),
                                     (.batchTopK, .decomposition), (.lpAttributions, .target)] {
            let problem = SmallTiedProblem(minimality: minimality, source: source)
            let analytic = problem.gradient(problem.parameters)
            let h: Float = 2e-3
            var worst: Float = 0, skipped = 0
            for index in problem.parameters.indices {
                var plus = problem.parameters, minus = problem.parameters
                plus[index] += h; minus[index] -= h
                if minimality == .batchTopK && problem.mask(plus) != problem.mask(minus) { skipped += 1; continue }
                let numeric = Float((problem.loss(plus).total - problem.loss(minus).total) / Double(2 * h))
                worst = max(worst, abs(numeric - analytic[index]) / max(0.05, abs(numeric)))
            }
            XCTAssertLessThan(worst, 0.03, "\(minimality) with \(source) attributions: worst relative gradient error")
            XCTAssertLessThan(skipped, problem.parameters.count / 5, "too many parameters flip the mask to check")
        }
    }

    /// The factorised Schatten penalty equals Σ σ^p of the components' matrices when each is rank one.
    func testFactorisedSchattenEqualsSingularValuesForRankOne() {
        var generator = RandomGenerator(seed: 3)
        let (C, dIn, dOut, p): (Int, Int, Int, Float) = (4, 6, 5, 0.9)
        let a = (0..<(C * dIn)).map { _ in generator.nextNormal() }, b = (0..<(C * dOut)).map { _ in generator.nextNormal() }
        let mask = [Float](repeating: 1, count: C)  // one sample using every component
        let penalty = SchattenPenalty.accumulate(a: a, b: b, components: C, inputs: dIn, rank: 1, outputs: dOut, mask: mask,
                                                 batchSize: 1, binary: true, p: p, scale: 1, gradientA: nil, gradientB: nil)
        var fromSingularValues = 0.0
        for c in 0..<C {
            // The largest singular value of a bᵀ by power iteration; a rank-one matrix has no other.
            let w = (0..<dIn).flatMap { i in (0..<dOut).map { j in Double(a[c * dIn + i] * b[c * dOut + j]) } }
            var v = [Double](repeating: 1, count: dOut), sigma = 0.0
            for _ in 0..<50 {
                let u = (0..<dIn).map { i in (0..<dOut).reduce(0.0) { $0 + w[i * dOut + $1] * v[$1] } }
                let back = (0..<dOut).map { j in (0..<dIn).reduce(0.0) { $0 + w[$1 * dOut + j] * u[$1] } }
                let norm = back.map { $0 * $0 }.reduce(0, +).squareRoot()
                v = back.map { $0 / norm }
                sigma = u.map { $0 * $0 }.reduce(0, +).squareRoot()
            }
            let frobenius2 = w.map { $0 * $0 }.reduce(0, +)
            XCTAssertEqual(frobenius2, sigma * sigma, accuracy: 1e-6 * frobenius2, "component \(c) is rank one")
            fromSingularValues += pow(sigma, Double(p))
        }
        XCTAssertEqual(penalty, fromSingularValues, accuracy: 1e-4 * fromSingularValues)
    }

    func testBatchTopKKeepsTheLargestWithDeterministicTies() {
        var topK = BatchTopK()
        let scores: [Float] = [0.1, 5, 0, 0, 3, 5, 0.2, 0, 9, 1]
        var mask = [Float](repeating: -1, count: scores.count)
        topK.select(scores: scores, count: scores.count, keep: 3, mask: &mask)
        XCTAssertEqual(mask, [0, 1, 0, 0, 0, 1, 0, 0, 1, 0])
        topK.select(scores: scores, count: scores.count, keep: 8, mask: &mask)
        XCTAssertEqual(mask, [1, 1, 1, 0, 1, 1, 1, 0, 1, 1], "ties at 0 are taken by position")
        var generator = RandomGenerator(seed: 1)
        let many = (0..<5000).map { _ in generator.nextUniform(in: 0, 1) }
        var big = [Float](repeating: 0, count: many.count)
        topK.select(scores: many, count: many.count, keep: 1055, mask: &big)
        let threshold = many.sorted(by: >)[1054]
        XCTAssertEqual(big.reduce(0, +), 1055)
        for i in many.indices { XCTAssertEqual(big[i], many[i] >= threshold ? 1 : 0) }
    }

    /// The radix selection against a sort: negative values, ±0, many duplicates, values that share
    /// their top bits, and every rank of a small set.
    func testKthLargestMatchesSorting() {
        var topK = BatchTopK()
        var generator = RandomGenerator(seed: 5)
        let sets: [[Float]] = [
            (0..<3000).map { _ in generator.nextNormal() },
            (0..<3000).map { _ in Float(Int(generator.nextUniform(in: 0, 6))) - 2 },           // duplicates, and 0
            (0..<3000).map { _ in 1 + generator.nextUniform(in: 0, 1e-4) },                      // shared top bits
            (0..<3000).map { _ in generator.nextUniform(in: 0, 1) < 0.9 ? 0 : generator.nextUniform(in: 0, 1e-30) },
            [0, -0.0, 1, -1, .infinity, -.infinity, 3, 3, -0.0, 0],
        ]
        for values in sets {
            let sorted = values.sorted(by: >)
            for k in Set([1, 2, values.count / 3, values.count / 2, values.count - 1, values.count] + (values.count <= 10 ? Array(1...values.count) : [])) {
                let found = values.withUnsafeBufferPointer { topK.kthLargest($0.baseAddress!, values.count, k) }
                XCTAssertEqual(found, sorted[k - 1], "k \(k) of \(values.count)")
            }
        }
    }

    func testBadSettingsGiveClearErrors() {
        var settings = APDSettings()
        settings.topK = 0
        XCTAssertEqual(settings.problem, "topk must be positive, got 0.0")
        settings.topK = -1
        XCTAssertNotNil(settings.problem)
        settings = APDSettings(); settings.components = 0
        XCTAssertEqual(settings.problem, "components (C) must be at least 1, got 0")
        settings = APDSettings(); settings.topK = 0.0001; settings.batchSize = 10
        XCTAssertTrue(settings.problem?.contains("at least one") ?? false)
    }
}
