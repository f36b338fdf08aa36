import TensorCore
import ToyModels
import XCTest
@testable import Decomposition

/// A small two-layer residual MLP with biases, random components, and dense inputs.
struct SmallResidualProblem {
    var settings = APDSettings()
    let model: ResidualMLP
    let target: ResidualMLPTarget
    let x: [Float]
    var parameters: [Float]
    let inputs = 4

    init(seed: UInt64 = 5) {
        settings.components = 3
        settings.rank = 2
        settings.batchSize = 8
        settings.topK = 1
        settings.activationReconstructionCoefficient = 0.5
        settings.schattenCoefficient = 0.3
        settings.schattenP = 0.9
        settings.threads = 2
        var generator = RandomGenerator(seed: seed)
        model = .random(inputs: inputs, embedding: 6, widths: [3, 3], using: &generator)
        target = ResidualMLPTarget(model: model, distribution: FeatureDistribution(instanceProbabilities: [1], featureCount: inputs))
        x = (0..<(settings.batchSize * inputs)).map { _ in generator.nextUniform(in: -1, 1) }
        let layout = ComponentLayout(layers: target.layers, components: settings.components, rank: settings.rank)
        parameters = (0..<layout.count).map { _ in 0.5 * generator.nextNormal() }
    }

    func step() -> ResidualMLPStep { target.makeStep(instance: 0, settings: settings) as! ResidualMLPStep }

    func run(_ p: [Float]) -> (APDLossTerms, [Float]) { step().lossAndGradient(input: x, parameters: p) }

    func mask(_ p: [Float]) -> [Float] {
        let scores = x.withUnsafeBufferPointer { xs in p.withUnsafeBufferPointer { step().attributions(input: xs.baseAddress!, parameters: $0.baseAddress!) } }
        var topK = BatchTopK()
        return topK.mask(scores: scores, keep: settings.keptPairs)
    }
}

final class ResidualMLPStepTests: XCTestCase {
    /// The forward-propagated closed form equals one backward pass per output dimension of the target.
    func testClosedFormAttributionsEqualOneBackwardPassPerOutput() {
        let problem = SmallResidualProblem()
        let (C, batch, n) = (problem.settings.components, problem.settings.batchSize, problem.inputs)
        let closed = problem.x.withUnsafeBufferPointer { xs in
            problem.parameters.withUnsafeBufferPointer { problem.step().attributions(input: xs.baseAddress!, parameters: $0.baseAddress!) }
        }
        // The target on a tape, with every decomposed matrix's input and output kept.
        let tape = Tape()
        let model = problem.model
        var residual = tape.constant(Tensor(shape: [batch, n], scalars: problem.x)).matmul(tape.variable(model.embedding))
        var matrixInputs: [Variable] = [], matrixOutputs: [Variable] = []
        for layer in model.layers {
            matrixInputs.append(residual)
            let pre = residual.matmul(tape.variable(layer.inWeight))
            matrixOutputs.append(pre)
            let post = (pre + tape.constant(layer.inBias!.reshaped([1, layer.width]))).relu()
            matrixInputs.append(post)
            let written = post.matmul(tape.variable(layer.outWeight))
            matrixOutputs.append(written)
            residual = residual + written + tape.constant(layer.outBias!.reshaped([1, layer.embeddingWidth]))
        }
        let out = residual.matmul(tape.variable(model.unembedding))
        let layout = ComponentLayout(layers: problem.target.layers, components: C, rank: problem.settings.rank)
        var reference = [Float](repeating: 0, count: C * batch)
        for o in 0..<n {
            var selector = Tensor(zeros: [batch, n])
            for b in 0..<batch { selector.scalars[b * n + o] = 1 }
            let grads = tape.gradients(of: (out * tape.constant(selector)).sum(), withRespectTo: matrixOutputs)
            for c in 0..<C {
                var t = [Float](repeating: 0, count: batch)
                for (s, layer) in layout.layers.enumerated() {
                    let w = problem.parameters.withUnsafeBufferPointer { layout.componentWeight(layer: s, component: c, parameters: $0.baseAddress!) }
                    let componentOutput = matrixInputs[s].value.matmul(Tensor(shape: [layer.inputs, layer.outputs], scalars: w))
                    for b in 0..<batch {
                        for j in 0..<layer.outputs { t[b] += grads[s].scalars[b * layer.outputs + j] * componentOutput.scalars[b * layer.outputs + j] }
                    }
                }
                for b in 0..<batch { reference[c * batch + b] += t[b] * t[b] }
            }
        }
        for i in 0..<(C * batch) {
            XCTAssertEqual(closed[i], reference[i], accuracy: 2e-4 * max(1, abs(reference[i])), "attribution \(i)")
        }
        XCTAssertGreaterThan(reference.max()!, 0.01)
    }

    /// Every loss term's gradient against central differences (mask-flipping nudges skipped).
    func testGradientsMatchFiniteDifferences() {
        let problem = SmallResidualProblem()
        let analytic = problem.run(problem.parameters).1
        let h: Float = 2e-3
        var worst: Float = 0, skipped = 0
        for index in problem.parameters.indices {
            var plus = problem.parameters, minus = problem.parameters
            plus[index] += h; minus[index] -= h
            if problem.mask(plus) != problem.mask(minus) { skipped += 1; continue }
            let numeric = Float((problem.run(plus).0.total - problem.run(minus).0.total) / Double(2 * h))
            worst = max(worst, abs(numeric - analytic[index]) / max(0.05, abs(numeric)))
        }
        XCTAssertLessThan(worst, 0.03, "worst relative gradient error")
        XCTAssertLessThan(skipped, problem.parameters.count / 5)
        let terms = problem.run(problem.parameters).0
        XCTAssertGreaterThan(terms.activationReconstruction, 0)
        XCTAssertGreaterThan(terms.topKReconstruction, 0)
    }
}

extension ResidualMLPStepTests {
    /// One thread or two, the same components: per-component work is partitioned, and sums run in
    /// a fixed order.
    func testDecompositionIsDeterministicAcrossThreadCounts() throws {
        var problem = SmallResidualProblem()
        problem.settings.steps = 30
        problem.settings.threads = 1
        let one = try APDTrainer.decompose(problem.target, settings: problem.settings)
        problem.settings.threads = 2
        let two = try APDTrainer.decompose(problem.target, settings: problem.settings)
        XCTAssertEqual(one.parameters, two.parameters)
    }
}
