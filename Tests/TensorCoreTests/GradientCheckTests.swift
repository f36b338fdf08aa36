import Foundation
import TensorCore
import XCTest

/// Every differentiable operation of the tape, checked against central finite differences
/// (see `FiniteDifferenceChecker`). Non-scalar outputs are contracted with a fixed random tensor.
final class GradientCheckTests: XCTestCase {
    let checker = FiniteDifferenceChecker()

    // MARK: - The checker itself

    /// A gradient check is only worth something if it fails on wrong pullbacks: a missing
    /// factor 2, a sign error and a transposed matrix gradient must all be reported.
    func testCheckerCatchesWrongPullbacks() {
        let x = FDInputs.normal([3, 4], seed: 1)
        let a = FDInputs.normal([3, 3], seed: 2)

        func square(wrongBy factor: Float) -> ([Variable]) -> Variable {
            { v in
                let value = v[0].value
                return v[0].tape.record(value * value, inputs: [v[0]]) { g in [g * value * factor] }
            }
        }
        XCTAssertTrue(checker.checkOperation([x], "x² with the true pullback", square(wrongBy: 2)).passed)
        XCTAssertFalse(checker.compare([x], loss: lossOf(square(wrongBy: 1), [x])).passed, "missing factor 2 not caught")
        XCTAssertFalse(checker.compare([x], loss: lossOf(square(wrongBy: -2), [x])).passed, "sign error not caught")

        func matrixSquare(transposing: Bool) -> ([Variable]) -> Variable {
            { v in
                let m = v[0].value
                return v[0].tape.record(m.matmul(m), inputs: [v[0]]) { g in
                    // d(M·M) = G Mᵀ + Mᵀ G; the wrong version forgets the transposes.
                    [g.matmul(m, transposeOther: transposing) + m.matmul(g, transposeSelf: transposing)]
                }
            }
        }
        XCTAssertTrue(checker.checkOperation([a], "M² with the true pullback", matrixSquare(transposing: true)).passed)
        XCTAssertFalse(checker.compare([a], loss: lossOf(matrixSquare(transposing: false), [a])).passed, "transposition not caught")
    }

    private func lossOf(_ operation: @escaping ([Variable]) -> Variable, _ inputs: [Tensor]) -> FiniteDifferenceChecker.Loss {
        let probe = Tape()
        let weights = FDInputs.normal(operation(inputs.map { probe.variable($0) }).shape, seed: 77)
        return { _, v in operation(v).contracted(with: weights) }
    }

    // MARK: - Arithmetic with broadcasting

    /// Shape pairs for binary operations: equal shapes, broadcasting either way, scalar-shaped
    /// operands and a mutual broadcast where both operands stretch.
    private let binaryShapes: [([Int], [Int])] = [
        ([3, 4], [3, 4]),
        ([3, 4], [4]), ([4], [3, 4]),
        ([2, 3, 4], [2, 1, 4]), ([2, 1, 4], [2, 3, 4]),
        ([], [3, 4]), ([3, 4], []),
        ([1], [2, 3]),
        ([3, 1], [1, 4]),
    ]

    private func checkBinary(_ name: String, positiveDenominator: Bool = false,
                             line: UInt = #line, _ op: @escaping (Variable, Variable) -> Variable) {
        for (n, (sa, sb)) in binaryShapes.enumerated() {
            let a = FDInputs.normal(sa, seed: 10 + UInt64(n))
            let b = positiveDenominator ? FDInputs.awayFromZero(sb, seed: 30 + UInt64(n), low: 0.5, high: 2)
                                        : FDInputs.normal(sb, seed: 30 + UInt64(n))
            checker.checkOperation([a, b], "\(sa) \(name) \(sb)", line: line) { v in op(v[0], v[1]) }
        }
    }

    func testAddition() { checkBinary("+") { $0 + $1 } }
    func testSubtraction() { checkBinary("-") { $0 - $1 } }
    func testMultiplication() { checkBinary("*") { $0 * $1 } }
    func testDivision() { checkBinary("/", positiveDenominator: true) { $0 / $1 } }

    func testScalarMultiplyAddAndNegate() {
        let x = FDInputs.normal([3, 4], seed: 3)
        checker.checkOperation([x], "x * 2.5") { $0[0] * 2.5 }
        checker.checkOperation([x], "-1.5 * x") { -1.5 * $0[0] }
        checker.checkOperation([x], "x + 1.5") { $0[0] + 1.5 }
        checker.checkOperation([x], "-x") { -$0[0] }
    }

    // MARK: - Matrix products

    /// Stored shapes of `a: [m, k]` and `b: [k, n]` under the transpose flags.
    private func matmulOperands(batchA: [Int], batchB: [Int], transposeA: Bool, transposeB: Bool,
                                seed: UInt64) -> (Tensor, Tensor) {
        let (m, k, n) = (3, 4, 5)
        let a = FDInputs.normal(batchA + (transposeA ? [k, m] : [m, k]), seed: seed)
        let b = FDInputs.normal(batchB + (transposeB ? [n, k] : [k, n]), seed: seed + 1)
        return (a, b)
    }

    private func checkMatmul(batchA: [Int], batchB: [Int], line: UInt = #line) {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let (a, b) = matmulOperands(batchA: batchA, batchB: batchB,
                                            transposeA: transposeA, transposeB: transposeB, seed: 40)
                checker.checkOperation([a, b], "matmul \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")",
                                       line: line) { v in
                    v[0].matmul(v[1], transposeSelf: transposeA, transposeOther: transposeB)
                }
            }
        }
    }

    func testMatmulRank2AllTransposes() { checkMatmul(batchA: [], batchB: []) }
    func testMatmulBatchedAllTransposes() { checkMatmul(batchA: [2], batchB: [2]) }

    /// A batch of matrices times one shared matrix (and the reverse): the shared matrix's
    /// gradient is the sum of its gradients over the batch.
    func testMatmulBroadcastSharedMatrixAllTransposes() {
        checkMatmul(batchA: [2], batchB: [])
        checkMatmul(batchA: [], batchB: [2])
        checkMatmul(batchA: [2, 2], batchB: [])
    }

    /// The same fact stated directly: the gradient of a shared weight in `x[b] · W` equals the sum
    /// of the gradients of the per-batch products.
    func testMatmulSharedMatrixGradientIsSummedOverBatch() {
        let x = FDInputs.normal([3, 2, 4], seed: 50)
        let w = FDInputs.normal([4, 5], seed: 51)
        let r = FDInputs.normal([3, 2, 5], seed: 52)
        let tape = Tape()
        let (vx, vw) = (tape.variable(x), tape.variable(w))
        let shared = tape.gradients(of: vx.matmul(vw).contracted(with: r), withRespectTo: [vw])[0]

        var summed = Tensor(zeros: [4, 5])
        for b in 0..<3 {
            let t = Tape()
            let (xb, wb) = (t.variable(x.slice(b)), t.variable(w))
            summed += t.gradients(of: xb.matmul(wb).contracted(with: r.slice(b)), withRespectTo: [wb])[0]
        }
        assertClose(shared, summed, tolerance: 1e-5)
    }

    // MARK: - Shape changes

    func testTransposed() {
        checker.checkOperation([FDInputs.normal([3, 4], seed: 60)], "rank-2 transposed") { $0[0].transposed }
        checker.checkOperation([FDInputs.normal([2, 3, 4], seed: 61)], "rank-3 transposed") { $0[0].transposed }
    }

    func testPermuted() {
        // Three-cycles are not their own inverse, so a pullback that applied the forward
        // permutation instead of its inverse would be caught (and would fail on shape too).
        for axes in [[2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0]] {
            checker.checkOperation([FDInputs.normal([2, 3, 4], seed: 62)], "permuted \(axes)") { $0[0].permuted(axes) }
        }
        checker.checkOperation([FDInputs.normal([2, 3, 2, 4], seed: 63)], "permuted [0, 2, 1, 3]") {
            $0[0].permuted([0, 2, 1, 3])
        }
    }

    func testReshaped() {
        let x = FDInputs.normal([2, 3, 4], seed: 64)
        checker.checkOperation([x], "reshaped [6, 4]") { $0[0].reshaped([6, 4]) }
        checker.checkOperation([x], "reshaped [24]") { $0[0].reshaped([24]) }
        checker.checkOperation([x], "reshaped [4, 3, 2] then transposed") { $0[0].reshaped([4, 3, 2]).transposed }
    }

    // MARK: - Elementwise functions

    func testRelu() {
        checker.checkOperation([FDInputs.awayFromZero([3, 5], seed: 70)], "relu") { $0[0].relu() }
    }

    func testGelu() {
        checker.checkOperation([FDInputs.normal([3, 5], seed: 71, scale: 2)], "gelu") { $0[0].gelu() }
    }

    func testSigmoid() {
        checker.checkOperation([FDInputs.normal([3, 5], seed: 72, scale: 2)], "sigmoid") { $0[0].sigmoid() }
    }

    func testSquared() {
        checker.checkOperation([FDInputs.normal([3, 5], seed: 73)], "squared") { $0[0].squared() }
    }

    func testExp() {
        checker.checkOperation([FDInputs.normal([3, 5], seed: 74)], "exp") { $0[0].exp() }
    }

    func testLog() {
        checker.checkOperation([FDInputs.uniform([3, 5], seed: 75, low: 0.5, high: 3)], "log") { $0[0].log() }
    }

    func testAbs() {
        checker.checkOperation([FDInputs.awayFromZero([3, 5], seed: 76)], "abs") { $0[0].abs() }
    }

    func testPower() {
        let x = FDInputs.uniform([3, 5], seed: 77, low: 0.5, high: 2)
        checker.checkOperation([x], "power 0.7") { $0[0].power(0.7) }
        checker.checkOperation([x], "power 2.5") { $0[0].power(2.5) }
    }

    /// A causal mask `[seq, seq]` broadcast over a batch of score matrices.
    func testMaskedCausal() {
        let seq = 4
        let causal = Tensor(shape: [seq, seq], scalars: (0..<seq * seq).map { $0 % seq <= $0 / seq ? 1 : 0 })
        let scores = FDInputs.normal([2, seq, seq], seed: 78)
        checker.checkOperation([scores], "masked, fill 0.25") { $0[0].masked(by: causal, fill: 0.25) }
        // As in attention: masked entries at −1e9 vanish in the softmax.
        let report = checker.checkOperation([scores], "masked then softmax") {
            $0[0].masked(by: causal, fill: -1e9).softmax()
        }
        // Entries above the diagonal get exactly no gradient.
        for b in 0..<2 {
            for i in 0..<seq {
                for j in (i + 1)..<seq { XCTAssertEqual(report.gradients[0][b, i, j], 0) }
            }
        }
    }

    // MARK: - Reductions

    func testSumAndMean() {
        let x = FDInputs.normal([2, 3, 4], seed: 80)
        checker.check([x], "sum") { _, v in v[0].sum() * 0.5 }
        checker.check([x], "mean") { _, v in v[0].mean() * 7 }
        checker.checkOperation([x], "(x ⊙ R).sum()") { $0[0] * 1 }
    }

    private let axisCases: [[Int]] = [[0], [1], [2], [-1], [0, 2], [1, 2], [0, 1, 2]]

    func testSumAlongAxes() {
        let x = FDInputs.normal([2, 3, 4], seed: 81)
        for axes in axisCases {
            for keep in [false, true] {
                checker.checkOperation([x], "sum along \(axes) keepingDims \(keep)") {
                    $0[0].sum(alongAxes: axes, keepingDims: keep)
                }
            }
        }
    }

    func testMeanAlongAxes() {
        let x = FDInputs.normal([2, 3, 4], seed: 82)
        for axes in axisCases {
            for keep in [false, true] {
                checker.checkOperation([x], "mean along \(axes) keepingDims \(keep)") {
                    $0[0].mean(alongAxes: axes, keepingDims: keep)
                }
            }
        }
    }

    // MARK: - Softmax family

    func testSoftmax() {
        checker.checkOperation([FDInputs.normal([3, 5], seed: 90, scale: 2)], "softmax rank 2") { $0[0].softmax() }
        checker.checkOperation([FDInputs.normal([2, 3, 4], seed: 91, scale: 2)], "softmax rank 3") { $0[0].softmax() }
    }

    func testLogSoftmax() {
        checker.checkOperation([FDInputs.normal([3, 5], seed: 92, scale: 2)], "logSoftmax rank 2") { $0[0].logSoftmax() }
        checker.checkOperation([FDInputs.normal([2, 3, 4], seed: 93, scale: 2)], "logSoftmax rank 3") { $0[0].logSoftmax() }
    }

    func testCrossEntropy() {
        let logits = FDInputs.normal([4, 5], seed: 94, scale: 2)
        let labels = [0, 3, 3, 4]
        let report = checker.check([logits], "crossEntropy") { _, v in v[0].crossEntropy(labels: labels) }
        // Closed form: (softmax − onehot) / rows.
        let p = logits.softmax()
        var expected = p
        for (r, label) in labels.enumerated() { expected[r, label] -= 1 }
        assertClose(report.gradients[0], expected * 0.25, tolerance: 1e-6)
    }

    // MARK: - Indexing

    /// Repeated indices make the pullback a scatter-add: row 2 is read three times, row 1 never.
    func testGatheringRows() {
        let table = FDInputs.normal([5, 3], seed: 100)
        let indices = [0, 2, 2, 4, 0, 2]
        let report = checker.checkOperation([table], "gatheringRows") { $0[0].gatheringRows(indices) }
        XCTAssertEqual(report.gradients[0][1, 0], 0)
        XCTAssertEqual(report.gradients[0][3, 2], 0)
    }

    func testSelectingAlongLastAxis() {
        let x = FDInputs.normal([2, 3, 4], seed: 101)
        checker.checkOperation([x], "selectingAlongLastAxis") { $0[0].selectingAlongLastAxis([0, 3, 3, 1, 2, 0]) }
    }

    // MARK: - Custom operations and graphs

    /// A fused op recorded by hand: `softplus(x) ⊙ y` with two inputs and a hand-written pullback.
    func testUserDefinedFusedOperation() {
        func softplusTimes(_ x: Variable, _ y: Variable) -> Variable {
            let (vx, vy) = (x.value, y.value)
            let softplus = vx.map { Foundation.log(1 + Foundation.exp($0)) }
            let sigmoid = vx.map { 1 / (1 + Foundation.exp(-$0)) }
            return x.tape.record(softplus * vy, inputs: [x, y]) { g in
                [g * sigmoid * vy, (g * softplus).unbroadcast(to: vy.shape)]
            }
        }
        let x = FDInputs.normal([3, 4], seed: 110)
        checker.checkOperation([x, FDInputs.normal([3, 4], seed: 111)], "fused softplus(x)·y") { softplusTimes($0[0], $0[1]) }
        checker.checkOperation([x, FDInputs.normal([4], seed: 112)], "fused softplus(x)·y, y broadcast") { softplusTimes($0[0], $0[1]) }
    }

    /// A user-defined elementwise function through `elementwise(_:derivative:)`, whose derivative
    /// uses both the input and the output: d/dx x·eˣ = eˣ + y.
    func testUserDefinedElementwise() {
        let x = FDInputs.normal([3, 5], seed: 113)
        checker.checkOperation([x], "sin") { $0[0].elementwise({ Foundation.sin($0) }, derivative: { x, _ in Foundation.cos(x) }) }
        checker.checkOperation([x], "x·eˣ") {
            $0[0].elementwise({ $0 * Foundation.exp($0) }, derivative: { x, y in Foundation.exp(x) + y })
        }
    }

    /// One variable feeding many paths: its gradient is the sum over all of them.
    func testCompositeGraphAccumulatesGradients() {
        let x = FDInputs.normal([3, 4], seed: 120)
        let w = FDInputs.normal([4, 4], seed: 121, scale: 0.5)
        let r = FDInputs.normal([3, 3], seed: 122)
        checker.check([x, w], "composite") { tape, v in
            let (x, w) = (v[0], v[1])
            let h = x.matmul(w).gelu() + x                       // x twice
            let gram = h.matmul(h, transposeOther: true)         // h twice
            let energy = (x * x).mean() + x.squared().sum(alongAxes: [1]).mean()
            let tied = w.matmul(w.transposed).sum() * 0.1        // w in both operands
            return gram.contracted(with: r) + energy + tied + (w * x.mean(alongAxes: [0])).sum()
        }
    }

    /// One attention head: projections, causal mask, softmax, weighted sum of values.
    func testAttentionHeadComposite() {
        let (seq, width, head) = (4, 6, 3)
        let causal = Tensor(shape: [seq, seq], scalars: (0..<seq * seq).map { $0 % seq <= $0 / seq ? 1 : 0 })
        let x = FDInputs.normal([2, seq, width], seed: 130)
        let wq = FDInputs.normal([width, head], seed: 131, scale: 0.5)
        let wk = FDInputs.normal([width, head], seed: 132, scale: 0.5)
        let wv = FDInputs.normal([width, head], seed: 133, scale: 0.5)
        let weights = FDInputs.normal([2, seq, head], seed: 134)
        checker.check([x, wq, wk, wv], "attention head") { _, v in
            let (q, k, values) = (v[0].matmul(v[1]), v[0].matmul(v[2]), v[0].matmul(v[3]))
            let scores = (q.matmul(k, transposeOther: true) * (1 / Float(head).squareRoot()))
                .masked(by: causal, fill: -1e9)
            return scores.softmax().matmul(values).contracted(with: weights)
        }
    }

    // MARK: - Constants and unreached variables

    func testConstantGetsNoGradient() {
        let tape = Tape()
        let x = tape.variable(FDInputs.normal([3, 4], seed: 140))
        let c = tape.constant(FDInputs.normal([3, 4], seed: 141))
        let loss = (x * c + c.squared()).sum()
        let gradients = tape.gradients(of: loss, withRespectTo: [x, c])
        XCTAssertEqual(gradients[0], c.value, "d/dx sum(x·c + c²) = c")
        XCTAssertEqual(gradients[1], Tensor(zeros: [3, 4]), "a constant gets no gradient")

        // A graph built from constants only has nothing to differentiate.
        let onlyConstants = (c * c).sum()
        XCTAssertEqual(tape.gradients(of: onlyConstants, withRespectTo: [x, c]), [Tensor(zeros: [3, 4]), Tensor(zeros: [3, 4])])
    }

    func testUnreachedVariableGetsZeros() {
        let tape = Tape()
        let x = tape.variable(FDInputs.normal([3, 4], seed: 150))
        let unused = tape.variable(FDInputs.normal([2, 5], seed: 151))
        let loss = x.squared().sum()
        let later = tape.variable(FDInputs.normal([7], seed: 152))   // recorded after the loss
        let gradients = tape.gradients(of: loss, withRespectTo: [x, unused, later])
        assertClose(gradients[0], x.value * 2, tolerance: 0)
        XCTAssertEqual(gradients[1], Tensor(zeros: [2, 5]))
        XCTAssertEqual(gradients[2], Tensor(zeros: [7]))
    }

    /// The same tape differentiated twice, and the output with respect to itself.
    func testGradientsAreRepeatableAndSelfGradientIsOne() {
        let tape = Tape()
        let x = tape.variable(FDInputs.normal([3], seed: 160))
        let loss = (x * x * x).sum()
        let first = tape.gradients(of: loss, withRespectTo: [x, loss])
        let second = tape.gradients(of: loss, withRespectTo: [x, loss])
        XCTAssertEqual(first, second)
        XCTAssertEqual(first[1], Tensor(scalar: 1))
    }
}

/// Asserts equal shapes and scalars within `tolerance`.
private func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "shapes differ", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    for i in 0..<actual.count where !(Swift.abs(actual.scalars[i] - expected.scalars[i]) <= tolerance) {
        XCTFail("scalar \(i): \(actual.scalars[i]) vs expected \(expected.scalars[i]) (tolerance \(tolerance))",
                file: file, line: line)
        return
    }
}
