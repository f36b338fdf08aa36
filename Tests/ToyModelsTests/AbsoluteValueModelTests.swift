import XCTest
import TensorCore
@testable import ToyModels

final class AbsoluteValueModelTests: XCTestCase {
    /// The fused kernel's loss and gradients equal the tape composition's.
    func testFusedGradientsMatchTape() {
        var generator = RandomGenerator(seed: 3)
        let (instances, n, m, batch) = (2, 7, 5, 33)
        let model = AbsoluteValueModel(instances: instances, features: n, neurons: m, generator: &generator)
        var lanes = (0..<instances).map { RandomLanes(seed: 1, stream: UInt64($0)) }
        let distribution = FeatureDistribution(instanceProbabilities: [1, 0.5], featureCount: n, values: .uniform(low: -1, high: 1))
        let x = distribution.sample(batchSize: batch, lanes: &lanes)
        let importance = Tensor(shape: [instances, n], scalars: (0..<(instances * n)).map { Float(pow(0.9, Double($0 % n))) })

        let tape = Tape()
        let (w1, w2, b) = (tape.variable(model.inputWeights), tape.variable(model.outputWeights), tape.variable(model.bias))
        let loss = model.loss(tape: tape, inputWeights: w1, outputWeights: w2, bias: b, input: x, importance: importance)
        let reference = tape.gradients(of: loss, withRespectTo: [w1, w2, b])

        let kernel = AbsoluteValueKernel(neuronCount: m, featureCount: n, batchSize: batch)
        var (d1, d2, db) = ([Float](repeating: 0, count: instances * m * n), [Float](repeating: 0, count: instances * m * n), [Float](repeating: 0, count: instances * n))
        var total: Float = 0
        for i in 0..<instances {
            total += x.scalars.withUnsafeBufferPointer { xp in
                model.inputWeights.scalars.withUnsafeBufferPointer { p1 in
                model.outputWeights.scalars.withUnsafeBufferPointer { p2 in
                model.bias.scalars.withUnsafeBufferPointer { pb in
                importance.scalars.withUnsafeBufferPointer { pi in
                d1.withUnsafeMutableBufferPointer { g1 in
                d2.withUnsafeMutableBufferPointer { g2 in
                db.withUnsafeMutableBufferPointer { gb in
                    kernel.lossAndGradients(input: xp.baseAddress! + i * batch * n, inputWeights: p1.baseAddress! + i * m * n,
                                            outputWeights: p2.baseAddress! + i * m * n, bias: pb.baseAddress! + i * n,
                                            importance: pi.baseAddress! + i * n,
                                            inputWeightGradient: g1.baseAddress! + i * m * n,
                                            outputWeightGradient: g2.baseAddress! + i * m * n, biasGradient: gb.baseAddress! + i * n)
                }}}}}}}
            }
        }
        XCTAssertEqual(total, loss.value.scalar, accuracy: 1e-5 * max(1, abs(total)))
        for (fused, tapeGradient) in [(d1, reference[0]), (d2, reference[1]), (db, reference[2])] {
            let scale = tapeGradient.scalars.map(abs).max() ?? 1
            XCTAssertGreaterThan(scale, 0)
            for (a, e) in zip(fused, tapeGradient.scalars) { XCTAssertEqual(a, e, accuracy: 1e-4 * scale) }
        }
    }

    /// The tape's gradient matches central finite differences (in Double-sensitive directions).
    func testTapeGradientMatchesFiniteDifferences() {
        var generator = RandomGenerator(seed: 11)
        let (n, m, batch) = (4, 3, 16)
        var model = AbsoluteValueModel(instances: 1, features: n, neurons: m, generator: &generator)
        model.bias = Tensor(repeating: 0.1, shape: [1, n])
        var lanes = [RandomLanes(seed: 2, stream: 0)]
        let x = FeatureDistribution(instanceProbabilities: [1], featureCount: n, values: .uniform(low: -1, high: 1))
            .sample(batchSize: batch, lanes: &lanes)
        let importance = Tensor(repeating: 1, shape: [1, n])
        let tape = Tape()
        let (w1, w2, b) = (tape.variable(model.inputWeights), tape.variable(model.outputWeights), tape.variable(model.bias))
        let gradients = tape.gradients(of: model.loss(tape: tape, inputWeights: w1, outputWeights: w2, bias: b, input: x, importance: importance),
                                       withRespectTo: [w1, w2, b])
        let h: Float = 1e-3
        for index in [0, 5, 11] {
            var plus = model, minus = model
            plus.inputWeights.scalars[index] += h; minus.inputWeights.scalars[index] -= h
            let numeric = (plus.lossPerInstance(x, importance: importance)[0] - minus.lossPerInstance(x, importance: importance)[0]) / (2 * h)
            XCTAssertEqual(gradients[0].scalars[index], numeric, accuracy: 2e-3)
            plus = model; minus = model
            plus.outputWeights.scalars[index] += h; minus.outputWeights.scalars[index] -= h
            let numeric2 = (plus.lossPerInstance(x, importance: importance)[0] - minus.lossPerInstance(x, importance: importance)[0]) / (2 * h)
            XCTAssertEqual(gradients[1].scalars[index], numeric2, accuracy: 2e-3)
        }
    }

    /// Closed form: with m = 2n, W1 = [I; −I], W2 = [I, I], b = 0 computes |x| exactly (loss 0);
    /// training from random weights on dense features with m = 2n gets close to 0 too.
    func testDenseModelWithTwoNeuronsPerFeatureComputesAbsoluteValue() {
        let n = 3, m = 6
        var w1 = [Float](repeating: 0, count: m * n), w2 = [Float](repeating: 0, count: n * m)
        for i in 0..<n { w1[i * n + i] = 1; w1[(n + i) * n + i] = -1; w2[i * m + i] = 1; w2[i * m + n + i] = 1 }
        let exact = AbsoluteValueModel(inputWeights: Tensor(shape: [1, m, n], scalars: w1), outputWeights: Tensor(shape: [1, n, m], scalars: w2),
                                       bias: Tensor(zeros: [1, n]))
        var lanes = [RandomLanes(seed: 9, stream: 0)]
        let distribution = FeatureDistribution(instanceProbabilities: [1], featureCount: n, values: .uniform(low: -1, high: 1))
        let x = distribution.sample(batchSize: 256, lanes: &lanes)
        XCTAssertEqual(exact.lossPerInstance(x, importance: Tensor(repeating: 1, shape: [1, n]))[0], 0, accuracy: 1e-10)

        var settings = TrainingSettings()
        settings.steps = 3000
        settings.batchSize = 256
        settings.learningRate = 1e-2
        settings.weightDecay = 0
        settings.seed = 4
        let result = AbsoluteValueTrainer.train(neurons: m, distribution: distribution,
                                                importance: Tensor(repeating: 1, shape: [1, n]), settings: settings)
        // The loss of predicting the mean E|x| = 1/2 is Var|x| = 1/12 ≈ 0.083; the trained model is far below.
        XCTAssertLessThan(result.evaluationLoss[0], 2e-3)
    }

    /// Same seed, any thread count: identical weights.
    func testTrainingIsDeterministicAcrossThreadCounts() {
        let distribution = FeatureDistribution(instanceProbabilities: [1, 0.3, 0.1], featureCount: 5, values: .uniform(low: -1, high: 1))
        let importance = Tensor(repeating: 1, shape: [3, 5])
        var settings = TrainingSettings()
        settings.steps = 50
        settings.batchSize = 64
        settings.threads = 1
        let one = AbsoluteValueTrainer.train(neurons: 3, distribution: distribution, importance: importance, settings: settings)
        settings.threads = 3
        let three = AbsoluteValueTrainer.train(neurons: 3, distribution: distribution, importance: importance, settings: settings)
        XCTAssertEqual(one.model, three.model)
        XCTAssertEqual(one.evaluationLoss, three.evaluationLoss)
    }
}
