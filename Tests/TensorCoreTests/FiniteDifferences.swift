import TensorCore
import XCTest

/// Compares the reverse-mode gradients of a `Tape` with central finite differences.
///
/// The loss is a closure that builds a scalar from input `Variable`s on the tape it is given;
/// it is run once on a fresh tape for the analytic gradients (`tape.gradients`) and twice more
/// per input scalar, with that scalar moved by ±h, for the numeric ones.
///
/// Precision: `Tensor` only holds Float, so the forward pass runs in Float. Everything around it
/// is Double: the perturbed inputs are exact Float values and the quotient
/// `(f(x + h) − f(x − h)) / ((x + h) − (x − h))` divides by the step actually taken, so the only
/// errors are the O(h²) truncation error and the Float rounding of the two losses divided by 2h.
/// With inputs of order 1 and h = 1e-2 both stay below ~1e-4, while a wrong formula (a sign
/// error, a missing factor 2, a transposition) is off by the size of the gradient itself.
/// An entry passes when `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance · max(|analytic|, |numeric|)`.
struct FiniteDifferenceChecker {
    /// Half-width of the central difference.
    var step: Float = 1e-2
    var absoluteTolerance: Double = 2e-3
    var relativeTolerance: Double = 1e-2

    struct Mismatch: CustomStringConvertible {
        var input: Int
        var index: Int
        var analytic: Double
        var numeric: Double
        var description: String {
            "input \(input) scalar \(index): tape gives \(analytic), finite differences \(numeric)"
        }
    }

    struct Report {
        /// The tape's gradient of each input.
        var gradients: [Tensor]
        /// The central-difference gradient of each input, as Double.
        var numericGradients: [[Double]]
        /// Entries outside the tolerance, and gradients of the wrong shape.
        var mismatches: [Mismatch] = []
        var shapeErrors: [String] = []
        /// The largest `|analytic − numeric| / (atol + rtol · max(|analytic|, |numeric|))`; ≤ 1 passes.
        var worstRatio: Double = 0
        /// The largest gradient entry seen, to show the check was not vacuous.
        var largestGradient: Double = 0
        var passed: Bool { mismatches.isEmpty && shapeErrors.isEmpty }
    }

    typealias Loss = (Tape, [Variable]) -> Variable

    /// The loss as a Double, from a fresh tape.
    func evaluate(_ inputs: [Tensor], _ loss: Loss) -> Double {
        let tape = Tape()
        let output = loss(tape, inputs.map { tape.variable($0) })
        return Double(output.value.scalar)
    }

    /// Compares the tape's gradients with central differences for every scalar of every input.
    func compare(_ inputs: [Tensor], loss: Loss) -> Report {
        let tape = Tape()
        let variables = inputs.map { tape.variable($0) }
        let output = loss(tape, variables)
        precondition(output.value.count == 1, "the loss must be a scalar, shape is \(output.value.shape)")
        let gradients = tape.gradients(of: output, withRespectTo: variables)

        var report = Report(gradients: gradients, numericGradients: [])
        for (i, input) in inputs.enumerated() {
            var numeric = [Double](repeating: 0, count: input.count)
            guard gradients[i].shape == input.shape else {
                report.shapeErrors.append("input \(i): gradient shape \(gradients[i].shape), input shape \(input.shape)")
                report.numericGradients.append(numeric)
                continue
            }
            for j in 0..<input.count {
                let x = input.scalars[j]
                let (up, down) = (x + step, x - step)
                var moved = inputs
                moved[i].scalars[j] = up
                let fUp = evaluate(moved, loss)
                moved[i].scalars[j] = down
                let fDown = evaluate(moved, loss)
                numeric[j] = (fUp - fDown) / (Double(up) - Double(down))

                let analytic = Double(gradients[i].scalars[j])
                let scale = max(Swift.abs(analytic), Swift.abs(numeric[j]))
                let ratio = Swift.abs(analytic - numeric[j]) / (absoluteTolerance + relativeTolerance * scale)
                report.worstRatio = max(report.worstRatio, ratio.isNaN ? .infinity : ratio)
                report.largestGradient = max(report.largestGradient, scale)
                if !(ratio <= 1) {
                    report.mismatches.append(Mismatch(input: i, index: j, analytic: analytic, numeric: numeric[j]))
                }
            }
            report.numericGradients.append(numeric)
        }
        return report
    }

    /// Asserts that the tape's gradients match central differences, and that they are not all
    /// (near) zero, which would make the comparison meaningless.
    @discardableResult
    func check(_ inputs: [Tensor], _ name: String = "",
               file: StaticString = #filePath, line: UInt = #line, loss: Loss) -> Report {
        let report = compare(inputs, loss: loss)
        for error in report.shapeErrors {
            XCTFail("\(name): \(error)", file: file, line: line)
        }
        if !report.mismatches.isEmpty {
            let shown = report.mismatches.prefix(6).map(\.description).joined(separator: "\n  ")
            XCTFail("\(name): \(report.mismatches.count) gradient entries differ from finite differences "
                    + "(worst ratio \(report.worstRatio)):\n  \(shown)", file: file, line: line)
        }
        XCTAssertGreaterThan(report.largestGradient, 10 * absoluteTolerance,
                             "\(name): every gradient is tiny, so the check proves nothing", file: file, line: line)
        return report
    }
}

// MARK: - Inputs and scalar losses

enum FDInputs {
    /// Standard normal scalars from a fixed seed.
    static func normal(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.normal(shape, standardDeviation: scale, using: &generator)
    }

    /// Uniform scalars in [low, high) from a fixed seed.
    static func uniform(_ shape: [Int], seed: UInt64, low: Float, high: Float) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.uniform(shape, low: low, high: high, using: &generator)
    }

    /// Scalars of random sign whose magnitude lies in [low, high): away from 0, for kinks
    /// (relu, abs) and denominators.
    static func awayFromZero(_ shape: [Int], seed: UInt64, low: Float = 0.2, high: Float = 1.5) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.product).map { _ in
            let magnitude = generator.nextUniform(in: low, high)
            return generator.nextBernoulli(0.5) ? magnitude : -magnitude
        })
    }
}

extension Variable {
    /// `sum(self ⊙ weights)`: a scalar whose gradient with respect to `self` is `weights`, so every
    /// output entry of an operation reaches the loss with its own, fixed weight.
    func contracted(with weights: Tensor) -> Variable {
        (self * tape.constant(weights)).sum()
    }
}

extension FiniteDifferenceChecker {
    /// Checks a non-scalar operation through `sum(op(inputs) ⊙ R)` with a fixed random `R` of the
    /// output's shape (R is drawn once and reused by every evaluation).
    @discardableResult
    func checkOperation(_ inputs: [Tensor], _ name: String = "", weightsSeed: UInt64 = 9_001,
                        file: StaticString = #filePath, line: UInt = #line,
                        _ operation: @escaping ([Variable]) -> Variable) -> Report {
        let probe = Tape()
        let outputShape = operation(inputs.map { probe.variable($0) }).shape
        let weights = FDInputs.normal(outputShape, seed: weightsSeed)
        return check(inputs, name, file: file, line: line) { _, variables in
            operation(variables).contracted(with: weights)
        }
    }
}
