import TensorCore
import ToyModels
import XCTest
@testable import Decomposition

/// A small residual MLP with biases and random components for the L_p variant (Appendix A.2.3):
/// 6 features, d_embed 8, one layer of 5 neurons or two of 5 and 4, C = 4 of rank 2, batch 16.
struct SmallResidualLpProblem {
    var settings = APDSettings()
    let model: ResidualMLP
    let target: ResidualMLPTarget
    let x: [Float]
    let parameters: [Float]
    let inputs = 6

    /// - Parameter sparse: inputs with most features off (the step's sparse-input path), else dense.
    init(widths: [Int], sparse: Bool, seed: UInt64 = 11) {
        settings.minimality = .lpAttributions
        settings.components = 4
        settings.rank = 2
        settings.batchSize = 16
        settings.parameterMatchCoefficient = 1
        settings.lpSparsityCoefficient = 0.8
        settings.lpSparsityP = 0.9
        settings.schattenCoefficient = 0.5
        settings.schattenP = 0.9
        settings.activationReconstructionCoefficient = 1  // not a term of this variant: must stay out of the loss
        settings.threads = 2
        var generator = RandomGenerator(seed: seed)
        model = .random(inputs: inputs, embedding: 8, widths: widths, using: &generator)
        target = ResidualMLPTarget(model: model, distribution: FeatureDistribution(instanceProbabilities: [1], featureCount: inputs))
        x = (0..<(settings.batchSize * inputs)).map { _ in
            let value = generator.nextUniform(in: -1, 1)
            return !sparse || generator.nextUniform(in: 0, 1) < 0.15 ? value : 0
        }
        let layout = ComponentLayout(layers: target.layers, components: settings.components, rank: settings.rank)
        parameters = (0..<layout.count).map { _ in 0.5 * generator.nextNormal() }
    }

    var layout: ComponentLayout { ComponentLayout(layers: target.layers, components: settings.components, rank: settings.rank) }

    func step() -> ResidualMLPStep { target.makeStep(instance: 0, settings: settings) as! ResidualMLPStep }

    func run(_ p: [Float]) -> (terms: APDLossTerms, gradient: [Float]) { step().lossAndGradient(input: x, parameters: p) }

    func attributions(_ p: [Float]) -> [Float] {
        x.withUnsafeBufferPointer { xs in p.withUnsafeBufferPointer { step().attributions(input: xs.baseAddress!, parameters: $0.baseAddress!) } }
    }
}

final class ResidualMLPLpStepTests: XCTestCase {
    /// The gradient of the whole loss, and of each of its terms alone, against central differences over
    /// every parameter (each A and B of every decomposed matrix), for one and two layers and for the
    /// sparse- and dense-input paths.
    ///
    /// The bound: the loss is computed in Float32, so each evaluation carries a relative error of a few
    /// 1e-7 of a loss of order 1; over 2h = 4e-3 that is ~1e-4 in the difference quotient, and the
    /// truncation error h² f'''/6 is ~1e-6 f'''. Against a floor of 0.05 on the gradient's scale that
    /// is ~0.2 %; measured, the worst is 0.1 %, so 0.5 %. A wrong backward pass costs far more:
    /// dropping the Schatten term's path through the mask gave 3-7 % on the whole loss (200-480 % on
    /// the Schatten term alone), dropping B^out_1 W^in_2's gradient 130-270 % on two layers.
    func testGradientsMatchFiniteDifferences() {
        let coefficients: [(name: String, match: Double, lp: Double, schatten: Double)] = [
            ("all terms", 1, 0.8, 0.5), ("L_p penalty alone", 0, 0.8, 0),
            // The Schatten penalty is divided by n_params · batch: a larger coefficient lifts its gradient above the floor.
            ("Schatten penalty alone", 0, 0, 40)]
        for (widths, sparse) in [([5], true), ([5, 4], false), ([5, 4], true)] {
            for weights in coefficients {
                var problem = SmallResidualLpProblem(widths: widths, sparse: sparse)
                problem.settings.parameterMatchCoefficient = weights.match
                problem.settings.lpSparsityCoefficient = weights.lp
                problem.settings.schattenCoefficient = weights.schatten
                let analytic = problem.run(problem.parameters).gradient
                let h: Float = 2e-3
                var worst = 0.0, largest = 0.0
                for index in problem.parameters.indices {
                    var plus = problem.parameters, minus = problem.parameters
                    plus[index] += h; minus[index] -= h
                    let numeric = (problem.run(plus).terms.total - problem.run(minus).terms.total) / Double(2 * h)
                    worst = max(worst, abs(numeric - Double(analytic[index])) / max(0.05, abs(numeric)))
                    largest = max(largest, abs(numeric))
                }
                let label = "\(widths.count) layer(s), \(sparse ? "sparse" : "dense") inputs, \(weights.name)"
                XCTAssertLessThan(worst, 0.005, "\(label): worst relative gradient error")
                XCTAssertGreaterThan(largest, 0.1, "\(label): the check needs gradients well above the floor")
            }
        }
    }

    /// The step's terms equal the definitions computed here in Double from its attributions and
    /// parameters: L_p = Σ_c mean_b (Attr/n_out + ε)^(p/2), the Schatten penalty weighted by that mask,
    /// the parameter match; no top-k or activation reconstruction.
    func testLossTermsEqualDirectComputation() {
        for widths in [[5], [5, 4]] {
            let problem = SmallResidualLpProblem(widths: widths, sparse: false)
            let s = problem.settings
            let (C, batch, k, outputs) = (s.components, s.batchSize, s.rank, problem.inputs)
            let attributions = problem.attributions(problem.parameters)
            let terms = problem.run(problem.parameters).terms
            let mask = attributions.map { pow(Double($0) / Double(outputs) + 1e-16, s.lpSparsityP / 2) }
            let lp = mask.reduce(0, +) / Double(batch)
            let layout = problem.layout
            let nParameters = layout.layers.map { $0.inputs * $0.outputs }.reduce(0, +)
            var schatten = 0.0, match = 0.0
            for (m, layer) in layout.layers.enumerated() {
                let a = { (c: Int, i: Int, r: Int) in Double(problem.parameters[layout.aOffsets[m] + (c * layer.inputs + i) * k + r]) }
                let b = { (c: Int, r: Int, j: Int) in Double(problem.parameters[layout.bOffsets[m] + (c * k + r) * layer.outputs + j]) }
                for c in 0..<C {
                    for r in 0..<k {
                        let sa = (0..<layer.inputs).reduce(0.0) { $0 + a(c, $1, r) * a(c, $1, r) }
                        let sb = (0..<layer.outputs).reduce(0.0) { $0 + b(c, r, $1) * b(c, r, $1) }
                        for sample in 0..<batch { schatten += pow(mask[c * batch + sample] * sa * sb + 1e-16, s.schattenP / 2) }
                    }
                }
                let weight = problem.target.targetWeight(layer: m, instance: 0)
                for i in 0..<layer.inputs {
                    for j in 0..<layer.outputs {
                        let summed = (0..<C).reduce(0.0) { total, c in (0..<k).reduce(total) { $0 + a(c, i, $1) * b(c, $1, j) } }
                        match += (Double(weight[i * layer.outputs + j]) - summed) * (Double(weight[i * layer.outputs + j]) - summed)
                    }
                }
            }
            schatten /= Double(nParameters * batch)
            match /= Double(nParameters)
            XCTAssertEqual(terms.lpSparsity, lp, accuracy: 1e-5 * lp, "\(widths.count) layer(s): L_p penalty")
            XCTAssertEqual(terms.schatten, schatten, accuracy: 1e-5 * schatten, "\(widths.count) layer(s): Schatten penalty")
            XCTAssertEqual(terms.parameterMatch, match, accuracy: 1e-5 * match, "\(widths.count) layer(s): parameter match")
            XCTAssertEqual(terms.topKReconstruction, 0)
            XCTAssertEqual(terms.activationReconstruction, 0)
            let total = s.parameterMatchCoefficient * match + s.lpSparsityCoefficient * lp + s.schattenCoefficient * schatten
            XCTAssertEqual(terms.total, total, accuracy: 1e-5 * total)
            XCTAssertGreaterThan(lp, 0.1, "the check needs a non-trivial penalty")
        }
    }

    /// One thread or two: the same gradient, bit for bit, and the same components after 30 steps.
    func testThreadCountChangesNothing() throws {
        for widths in [[5], [5, 4]] {
            var problem = SmallResidualLpProblem(widths: widths, sparse: false)
            problem.settings.threads = 1
            let one = problem.run(problem.parameters)
            problem.settings.threads = 2
            let two = problem.run(problem.parameters)
            XCTAssertEqual(one.gradient, two.gradient, "\(widths.count) layer(s): gradient")
            XCTAssertEqual(one.terms, two.terms, "\(widths.count) layer(s): loss terms")
            problem.settings.steps = 30
            problem.settings.learningRate = 1e-2
            problem.settings.threads = 1
            let trainedOne = try APDTrainer.decompose(problem.target, settings: problem.settings)
            problem.settings.threads = 2
            let trainedTwo = try APDTrainer.decompose(problem.target, settings: problem.settings)
            XCTAssertEqual(trainedOne.parameters, trainedTwo.parameters, "\(widths.count) layer(s): 30 steps")
        }
    }

    /// Settings of the variant a user can get wrong are named in one line.
    func testBadLpSettingsAreRejected() {
        for p in [0, -1, 2.5, .nan] {
            var settings = APDSettings()
            settings.minimality = .lpAttributions
            settings.lpSparsityP = p
            XCTAssertEqual(settings.problem?.hasPrefix("Lp sparsity p must be in (0, 2]"), true, "p = \(p)")
        }
        var settings = APDSettings()
        settings.minimality = .lpAttributions
        settings.lpSparsityCoefficient = -1
        XCTAssertEqual(settings.problem, "the Lp sparsity coefficient must be a non-negative number, got -1.0")
        // Batch top-k's own setting does not apply to this variant.
        settings.lpSparsityCoefficient = 1
        settings.topK = 0
        XCTAssertNil(settings.problem)
    }
}
