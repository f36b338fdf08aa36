import TensorCore
import ToyModels
import XCTest
@testable import Decomposition

/// The reference's TMS objective is the mean over instances of each instance's weighted loss
/// (`loss + coeff · term.mean()` in its run_spd.py), so one instance's gradient is its own over the
/// instance count. Adam undoes the scale except through ε = 1e-8, and late in a TMS 40-10 run most
/// gradients are below ε (median RMS per parameter ~2e-9), so the reduction changes the optimisation.
final class InstanceMeanTests: XCTestCase {
    /// Three instances with their own weights and biases, and one set of components per instance.
    struct ThreeInstances {
        let n = 4, m = 2, instances = 3
        var settings = APDSettings()
        let target: TiedToyModelTarget
        let x: [Float]
        let parameters: [[Float]]

        init() {
            settings.components = 3
            settings.rank = 2
            settings.batchSize = 16
            settings.topK = 0.5
            settings.schattenP = 0.9
            var generator = RandomGenerator(seed: 11)
            let model = ToyModel(kind: .reluOutput, weights: .normal([instances, m, n], standardDeviation: 0.8, using: &generator),
                                 bias: .normal([instances, n], standardDeviation: 0.2, using: &generator))
            target = TiedToyModelTarget(model: model,
                                        distribution: FeatureDistribution(instanceProbabilities: [0.5, 0.5, 0.5], featureCount: n))
            x = (0..<(settings.batchSize * n)).map { _ in generator.nextUniform(in: 0, 1) }
            let count = ComponentLayout(layers: target.layers, components: settings.components, rank: settings.rank).count
            parameters = (0..<instances).map { _ in (0..<count).map { _ in 0.5 * generator.nextNormal() } }
        }

        /// Instance `i`'s terms and gradient at parameters `p`, from a step of this 3-instance target.
        func evaluate(_ i: Int, _ p: [Float]) -> (terms: APDLossTerms, gradient: [Float]) {
            target.makeStep(instance: i, settings: settings).lossAndGradient(input: x, parameters: p)
        }

        /// The reference's objective: the mean over instances of each instance's total.
        func objective(_ p: [[Float]]) -> Double {
            (0..<instances).map { evaluate($0, p[$0]).terms.total }.reduce(0, +) / Double(instances)
        }
    }

    /// Each instance's gradient is the central difference of the mean over instances, not of the
    /// sum (which would be 3× larger).
    func testGradientIsThatOfTheMeanOverInstances() {
        let problem = ThreeInstances()
        let h: Float = 2e-3
        var worst: Float = 0, checked = 0
        for i in 0..<problem.instances {
            let analytic = problem.evaluate(i, problem.parameters[i]).gradient
            for index in stride(from: i, to: analytic.count, by: 3) {
                var plus = problem.parameters, minus = problem.parameters
                plus[i][index] += h; minus[i][index] -= h
                // A nudge that flips the top-k mask has no derivative; those are skipped.
                let step = problem.target.makeStep(instance: i, settings: problem.settings) as! TiedToyModelStep
                let mask = { (p: [Float]) -> [Float] in
                    let scores = problem.x.withUnsafeBufferPointer { xs in p.withUnsafeBufferPointer { step.attributions(input: xs.baseAddress!, parameters: $0.baseAddress!) } }
                    var topK = BatchTopK()
                    return topK.mask(scores: scores, keep: problem.settings.keptPairs)
                }
                if mask(plus[i]) != mask(minus[i]) { continue }
                let numeric = Float((problem.objective(plus) - problem.objective(minus)) / Double(2 * h))
                worst = max(worst, abs(numeric - analytic[index]) / max(0.02, abs(numeric)))
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 30)
        XCTAssertLessThan(worst, 0.03, "worst relative error against the mean over instances")
    }

    /// The loss terms stay per instance (unscaled): only the gradient carries 1/instances. The same
    /// weights decomposed as a one-instance target give the same terms and three times the gradient.
    func testTermsArePerInstanceAndGradientIsOneThird() {
        let problem = ThreeInstances()
        let (n, m) = (problem.n, problem.m)
        let single = ToyModel(kind: .reluOutput,
                              weights: Tensor(shape: [1, m, n], scalars: Array(problem.target.model.weights.scalars[(m * n)..<(2 * m * n)])),
                              bias: Tensor(shape: [1, n], scalars: Array(problem.target.model.bias.scalars[n..<(2 * n)])))
        let alone = TiedToyModelTarget(model: single, distribution: FeatureDistribution(instanceProbabilities: [0.5], featureCount: n))
        let p = problem.parameters[1]
        let (terms, g) = alone.makeStep(instance: 0, settings: problem.settings).lossAndGradient(input: problem.x, parameters: p)
        let shared = problem.evaluate(1, p)
        XCTAssertEqual(shared.terms, terms)
        XCTAssertGreaterThan(g.map(abs).max()!, 1e-3)
        for (a, b) in zip(shared.gradient, g) { XCTAssertEqual(a * 3, b, accuracy: 1e-6 + 1e-5 * abs(b)) }
    }
}
