import Foundation
import TensorCore
import XCTest

/// `Adam` against PyTorch's documented algorithm, and `LearningRateSchedule` at specific steps.
final class OptimizerTests: XCTestCase {
    /// `torch.optim.Adam` / `torch.optim.AdamW` as written in their documentation, in Double:
    ///
    ///     AdamW: θ ← θ − γλθ                        Adam: g ← g + λθ
    ///     m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
    ///     m̂ ← m / (1 − β₁ᵗ),     v̂ ← v / (1 − β₂ᵗ)
    ///     θ ← θ − γ m̂ / (√v̂ + ε)
    private struct ReferenceAdam {
        var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.0
        var decoupled = false
        var m: [[Double]] = [], v: [[Double]] = []
        var t = 0

        mutating func step(_ parameters: inout [[Double]], _ gradients: [[Double]], lr: Double) {
            if m.isEmpty {
                m = parameters.map { [Double](repeating: 0, count: $0.count) }
                v = m
            }
            t += 1
            for k in parameters.indices {
                for i in parameters[k].indices {
                    var g = gradients[k][i]
                    if decoupled {
                        parameters[k][i] -= lr * weightDecay * parameters[k][i]
                    } else {
                        g += weightDecay * parameters[k][i]
                    }
                    m[k][i] = beta1 * m[k][i] + (1 - beta1) * g
                    v[k][i] = beta2 * v[k][i] + (1 - beta2) * g * g
                    let mHat = m[k][i] / (1 - pow(beta1, Double(t)))
                    let vHat = v[k][i] / (1 - pow(beta2, Double(t)))
                    parameters[k][i] -= lr * mHat / (vHat.squareRoot() + epsilon)
                }
            }
        }
    }

    /// Initial parameters: a `[2, 2]` matrix and a `[3]` vector.
    private let initial = [Tensor(shape: [2, 2], scalars: [1, -2, 0.5, 0]), Tensor([0.25, -0.75, 3])]

    /// A fixed gradient sequence with varied signs and magnitudes, and an exact zero.
    private func gradients(step: Int, scale: Float) -> [Tensor] {
        initial.enumerated().map { k, p in
            Tensor(shape: p.shape, scalars: (0..<p.count).map { i in
                if k == 1 && i == 0 && step % 2 == 0 { return 0 }
                return Float(Foundation.sin(Double(3 * i + 7 * step + 5 * k))) * scale * (i % 2 == 0 ? 1 : 0.1)
            })
        }
    }

    /// Runs `steps` steps of both implementations on the same gradients and compares after each.
    private func compareWithReference(_ adam: Adam, _ reference: ReferenceAdam, lr: Float, steps: Int = 6,
                                      gradientScale: Float = 1, line: UInt = #line) {
        var (adam, reference) = (adam, reference)
        var parameters = initial
        var expected = initial.map { $0.scalars.map(Double.init) }
        for step in 0..<steps {
            let g = gradients(step: step, scale: gradientScale)
            adam.update(&parameters, gradients: g, learningRate: lr)
            reference.step(&expected, g.map { $0.scalars.map(Double.init) }, lr: Double(lr))
            XCTAssertEqual(adam.step, step + 1, line: line)
            for (tensor, values) in zip(parameters, expected) {
                for (actual, wanted) in zip(tensor.scalars, values) {
                    XCTAssertEqual(Double(actual), wanted, accuracy: 2e-6, "step \(step + 1)", line: line)
                }
            }
        }
        // The parameters did move, by more than the tolerance.
        XCTAssertGreaterThan(zip(parameters[0].scalars, initial[0].scalars).map { Swift.abs($0 - $1) }.max()!, 0.05, line: line)
    }

    func testAdamMatchesPyTorchAlgorithm() {
        compareWithReference(Adam(), ReferenceAdam(), lr: 0.1)
    }

    func testAdamWithL2WeightDecayMatchesPyTorchAlgorithm() {
        compareWithReference(Adam(weightDecay: 0.1), ReferenceAdam(weightDecay: 0.1), lr: 0.1)
    }

    func testAdamWMatchesPyTorchAlgorithm() {
        compareWithReference(Adam.adamW(weightDecay: 0.1), ReferenceAdam(weightDecay: 0.1, decoupled: true), lr: 0.1)
        // The default weight decay of torch.optim.AdamW is 0.01.
        XCTAssertEqual(Adam.adamW().weightDecay, 0.01)
        XCTAssertTrue(Adam.adamW().decoupledWeightDecay)
    }

    /// Custom betas, and an ε comparable to √v̂ so that where ε is added matters.
    func testCustomHyperparametersMatchPyTorchAlgorithm() {
        compareWithReference(Adam(beta1: 0.8, beta2: 0.95, epsilon: 1e-3),
                             ReferenceAdam(beta1: 0.8, beta2: 0.95, epsilon: 1e-3),
                             lr: 0.5, gradientScale: 2e-3)
        compareWithReference(Adam.adamW(weightDecay: 0.3, beta1: 0.5, beta2: 0.9, epsilon: 1e-3),
                             ReferenceAdam(beta1: 0.5, beta2: 0.9, epsilon: 1e-3, weightDecay: 0.3, decoupled: true),
                             lr: 0.5, gradientScale: 2e-3)
    }

    /// Closed form of the first step: m̂ = g and v̂ = g², so each parameter moves by
    /// `lr · g / (|g| + ε)`, i.e. `lr` against the sign of its gradient.
    func testFirstAdamStepMovesByLearningRate() {
        var adam = Adam()
        var parameters = [Tensor([1, 1, 1, 1])]
        adam.update(&parameters, gradients: [Tensor([0.5, -3, 1e-3, 0])], learningRate: 0.01)
        XCTAssertEqual(parameters[0].scalars[0], 0.99, accuracy: 1e-6)
        XCTAssertEqual(parameters[0].scalars[1], 1.01, accuracy: 1e-6)
        XCTAssertEqual(parameters[0].scalars[2], 0.99, accuracy: 1e-6)
        XCTAssertEqual(parameters[0].scalars[3], 1, "a zero gradient does not move the parameter")

        // AdamW with a zero gradient only decays: p(1 − lr·λ).
        var adamW = Adam.adamW(weightDecay: 0.5)
        var decayed = [Tensor([2, -4])]
        adamW.update(&decayed, gradients: [Tensor([0, 0])], learningRate: 0.1)
        XCTAssertEqual(decayed[0].scalars[0], 2 * 0.95, accuracy: 1e-6)
        XCTAssertEqual(decayed[0].scalars[1], -4 * 0.95, accuracy: 1e-6)
    }

    /// Adam with a decaying rate finds the minimum of an ill-conditioned quadratic
    /// `Σ aᵢ (pᵢ − cᵢ)²`, with gradients from the tape.
    func testAdamMinimisesQuadratic() {
        let curvature = Tensor([0.1, 1, 10, 100])
        let target = Tensor([1.5, -2, 0.25, 3])
        func lossAndGradient(_ p: Tensor) -> (Float, Tensor) {
            let tape = Tape()
            let variable = tape.variable(p)
            let loss = (tape.constant(curvature) * (variable - tape.constant(target)).squared()).sum()
            return (loss.value.scalar, tape.gradients(of: loss, withRespectTo: [variable])[0])
        }
        var adam = Adam()
        var parameters = [Tensor(zeros: [4])]
        let initialLoss = lossAndGradient(parameters[0]).0
        let (steps, schedule) = (3000, LearningRateSchedule(.linear))
        for step in 0..<steps {
            let (_, gradient) = lossAndGradient(parameters[0])
            adam.update(&parameters, gradients: [gradient], learningRate: 0.05 * Float(schedule.multiplier(step: step, of: steps)))
        }
        let finalLoss = lossAndGradient(parameters[0]).0
        XCTAssertLessThan(finalLoss, initialLoss * 1e-6)
        for (p, c) in zip(parameters[0].scalars, target.scalars) { XCTAssertEqual(p, c, accuracy: 1e-3) }
    }

    // MARK: - Learning-rate schedules

    /// The scheduled update, applied in uneven slices out of order and from several threads, gives
    /// the bits of the plain update, step after step (moments included).
    func testScheduledUpdateInSlicesMatchesPlainUpdateBitForBit() {
        let count = 1_000
        var plain = Adam.adamW(weightDecay: 0.01), sliced = plain
        var expected = Tensor(shape: [count], scalars: (0..<count).map { Float(Foundation.sin(Double($0))) })
        var parameters = expected
        let slices = [700..<1_000, 0..<3, 3..<350, 350..<700]
        for step in 0..<4 {
            var gradient = Tensor(shape: [count], scalars: (0..<count).map { Float(Foundation.cos(Double($0 * (step + 2)))) * 0.1 })
            var list = [expected]
            plain.update(&list, gradients: [gradient], learningRate: 0.01)
            expected = list[0]
            sliced.update(&parameters, gradients: &gradient, learningRate: 0.01) { update in
                XCTAssertEqual(update.count, count)
                DispatchQueue.concurrentPerform(iterations: slices.count) { update.apply(slices[$0]) }
            }
            XCTAssertEqual(parameters.scalars, expected.scalars, "step \(step)")
        }
    }

    func testConstantSchedule() {
        for step in [0, 1, 50, 99] { XCTAssertEqual(LearningRateSchedule.constant.multiplier(step: step, of: 100), 1) }
    }

    func testLinearSchedule() {
        let schedule = LearningRateSchedule(.linear)
        XCTAssertEqual(schedule.multiplier(step: 0, of: 100), 1, accuracy: 1e-12)
        XCTAssertEqual(schedule.multiplier(step: 25, of: 100), 0.75, accuracy: 1e-12)
        XCTAssertEqual(schedule.multiplier(step: 50, of: 100), 0.5, accuracy: 1e-12)
        XCTAssertEqual(schedule.multiplier(step: 99, of: 100), 0.01, accuracy: 1e-12)
    }

    func testCosineScheduleReachesZeroAtLastStep() {
        let schedule = LearningRateSchedule(.cosine)
        XCTAssertEqual(schedule.multiplier(step: 0, of: 101), 1, accuracy: 1e-12)
        XCTAssertEqual(schedule.multiplier(step: 50, of: 101), 0.5.squareRoot(), accuracy: 1e-12)   // cos(π/4)
        XCTAssertEqual(schedule.multiplier(step: 100, of: 101), 0, accuracy: 1e-12)
        XCTAssertEqual(schedule.multiplier(step: 25, of: 76), Foundation.cos(Double.pi / 6), accuracy: 1e-12)
        XCTAssertEqual(schedule.multiplier(step: 99, of: 100), 0, accuracy: 1e-12)
        XCTAssertEqual(schedule.multiplier(step: 0, of: 1), 1, "a single step keeps the full rate")
    }

    func testWarmupRampsThenDecaysOverRemainingSteps() {
        // 10 warmup steps of 100, then linear decay over the other 90.
        let linear = LearningRateSchedule(.linear, warmupFraction: 0.1)
        XCTAssertEqual(linear.multiplier(step: 0, of: 100), 0, accuracy: 1e-12)
        XCTAssertEqual(linear.multiplier(step: 5, of: 100), 0.5, accuracy: 1e-12)
        XCTAssertEqual(linear.multiplier(step: 9, of: 100), 0.9, accuracy: 1e-12)
        XCTAssertEqual(linear.multiplier(step: 10, of: 100), 1, accuracy: 1e-12)
        XCTAssertEqual(linear.multiplier(step: 55, of: 100), 0.5, accuracy: 1e-12)
        XCTAssertEqual(linear.multiplier(step: 99, of: 100), 1.0 / 90, accuracy: 1e-12)

        // 10 warmup steps of 50, then a cosine over the other 40 reaching 0 at step 49.
        let cosine = LearningRateSchedule(.cosine, warmupFraction: 0.2)
        XCTAssertEqual(cosine.multiplier(step: 4, of: 50), 0.4, accuracy: 1e-12)
        XCTAssertEqual(cosine.multiplier(step: 10, of: 50), 1, accuracy: 1e-12)
        XCTAssertEqual(cosine.multiplier(step: 23, of: 50), Foundation.cos(Double.pi / 6), accuracy: 1e-12)   // π/2 · 13/39
        XCTAssertEqual(cosine.multiplier(step: 49, of: 50), 0, accuracy: 1e-12)

        let constant = LearningRateSchedule(.constant, warmupFraction: 0.25)
        XCTAssertEqual((0..<8).map { constant.multiplier(step: $0, of: 8) }, [0, 0.5, 1, 1, 1, 1, 1, 1])
    }

    /// `warmupFraction · steps` warmup steps even when the product is not exact in binary
    /// floating point (0.29 · 100 = 28.999999999999996).
    func testWarmupLengthIsExactForDecimalFractions() {
        for (fraction, steps, warmup) in [(0.29, 100, 29), (0.57, 100, 57), (0.1, 30, 3), (0.7, 10, 7), (0.05, 1000, 50)] {
            let schedule = LearningRateSchedule(.linear, warmupFraction: fraction)
            XCTAssertEqual(schedule.multiplier(step: warmup - 1, of: steps), Double(warmup - 1) / Double(warmup), accuracy: 1e-12,
                           "last warmup step for \(fraction) of \(steps)")
            XCTAssertEqual(schedule.multiplier(step: warmup, of: steps), 1, accuracy: 1e-12,
                           "first decay step for \(fraction) of \(steps)")
        }
        // A fraction that does not give a whole number of steps rounds down.
        XCTAssertEqual(LearningRateSchedule(.constant, warmupFraction: 0.15).multiplier(step: 1, of: 10), 1)
    }

    func testDecayingSchedulesAreMonotoneAndBounded() {
        for shape in [LearningRateSchedule.Shape.linear, .cosine] {
            let schedule = LearningRateSchedule(shape, warmupFraction: 0.1)
            let values = (0..<200).map { schedule.multiplier(step: $0, of: 200) }
            XCTAssertTrue(values.allSatisfy { $0 >= -1e-12 && $0 <= 1 }, "\(shape)")
            XCTAssertTrue(zip(values.dropFirst(20), values.dropFirst(21)).allSatisfy { $0 >= $1 }, "\(shape) decays")
            XCTAssertTrue(zip(values.prefix(20), values.dropFirst().prefix(20)).allSatisfy { $0 < $1 }, "\(shape) warms up")
        }
    }

    func testScheduleRoundTripsThroughJSON() throws {
        let schedule = LearningRateSchedule(.cosine, warmupFraction: 0.05)
        let decoded = try JSONDecoder().decode(LearningRateSchedule.self, from: JSONEncoder().encode(schedule))
        XCTAssertEqual(decoded, schedule)
    }
}
