import Foundation
import TensorCore
import XCTest

/// Forward tensor math against hand-computed results and closed forms.
final class TensorMathTests: XCTestCase {
    /// `0, 1, 2, …` in the given shape: entry `[i, j, k]` of `[2, 3, 4]` is `12i + 4j + k`.
    private func arange(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.product).map(Float.init))
    }

    /// A `[rows, columns]` matrix with entry `[i, j] = entry(i, j)`.
    private func matrix(_ rows: Int, _ columns: Int, _ entry: (Int, Int) -> Int) -> Tensor {
        var scalars: [Float] = []
        for i in 0..<rows { for j in 0..<columns { scalars.append(Float(entry(i, j))) } }
        return Tensor(shape: [rows, columns], scalars: scalars)
    }

    // MARK: - Broadcasting

    func testBroadcastShapesOfCompatibleShapes() {
        XCTAssertEqual(Broadcasting.shape([3, 4], [3, 4]), [3, 4])
        XCTAssertEqual(Broadcasting.shape([3, 4], [4]), [3, 4])
        XCTAssertEqual(Broadcasting.shape([4], [3, 4]), [3, 4])
        XCTAssertEqual(Broadcasting.shape([2, 1, 4], [3, 1]), [2, 3, 4])
        XCTAssertEqual(Broadcasting.shape([3, 1], [1, 4]), [3, 4])
        XCTAssertEqual(Broadcasting.shape([], [2, 3]), [2, 3])
        XCTAssertEqual(Broadcasting.shape([2, 3], []), [2, 3])
        XCTAssertEqual(Broadcasting.shape([1, 1], [5]), [1, 5])
        XCTAssertEqual(Broadcasting.shape([0, 3], [1, 3]), [0, 3])
    }

    func testBroadcastShapesOfIncompatibleShapes() {
        XCTAssertNil(Broadcasting.shape([3], [4]))
        XCTAssertNil(Broadcasting.shape([2, 3], [3, 2]))
        XCTAssertNil(Broadcasting.shape([2, 3, 4], [3, 3]))
        XCTAssertNil(Broadcasting.shape([0], [2]))
    }

    func testZipWithBroadcasting() {
        let matrix = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(matrix + Tensor([10, 20, 30]), Tensor(shape: [2, 3], scalars: [11, 22, 33, 14, 25, 36]))
        XCTAssertEqual(Tensor([10, 20, 30]) - matrix, Tensor(shape: [2, 3], scalars: [9, 18, 27, 6, 15, 24]))
        XCTAssertEqual(matrix * Tensor(shape: [2, 1], scalars: [2, 3]), Tensor(shape: [2, 3], scalars: [2, 4, 6, 12, 15, 18]))
        XCTAssertEqual(matrix / Tensor(scalar: 2), Tensor(shape: [2, 3], scalars: [0.5, 1, 1.5, 2, 2.5, 3]))
        XCTAssertEqual(Tensor(scalar: 12) / matrix, Tensor(shape: [2, 3], scalars: [12, 6, 4, 3, 2.4, 2]))
        // Both operands stretch: an outer sum.
        let column = Tensor(shape: [3, 1], scalars: [0, 10, 20])
        let row = Tensor(shape: [1, 2], scalars: [1, 2])
        XCTAssertEqual(column + row, Tensor(shape: [3, 2], scalars: [1, 2, 11, 12, 21, 22]))
        // A one-element operand of higher rank raises the rank.
        XCTAssertEqual(Tensor([1, 2]) * Tensor(shape: [1, 1, 1], scalars: [3]), Tensor(shape: [1, 1, 2], scalars: [3, 6]))
        // The closure sees (a, b) in order.
        XCTAssertEqual(Tensor.zip(Tensor([1, 2]), Tensor(shape: [2, 1], scalars: [10, 20])) { a, b in a - 2 * b },
                       Tensor(shape: [2, 2], scalars: [-19, -18, -39, -38]))
    }

    func testBroadcastTo() {
        XCTAssertEqual(Tensor([1, 2, 3]).broadcast(to: [2, 3]), Tensor(shape: [2, 3], scalars: [1, 2, 3, 1, 2, 3]))
        XCTAssertEqual(Tensor(shape: [2, 1], scalars: [1, 2]).broadcast(to: [2, 3]), Tensor(shape: [2, 3], scalars: [1, 1, 1, 2, 2, 2]))
        XCTAssertEqual(Tensor(scalar: 5).broadcast(to: [2, 2]), Tensor(repeating: 5, shape: [2, 2]))
        let x = arange([2, 1, 3])
        let y = x.broadcast(to: [2, 4, 3])
        for i in 0..<2 { for j in 0..<4 { for k in 0..<3 { XCTAssertEqual(y[i, j, k], x[i, 0, k]) } } }
    }

    func testUnbroadcastSumsTheStretchedAxes() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(x.unbroadcast(to: [3]), Tensor([5, 7, 9]))
        XCTAssertEqual(x.unbroadcast(to: [1, 3]), Tensor(shape: [1, 3], scalars: [5, 7, 9]))
        XCTAssertEqual(x.unbroadcast(to: [2, 1]), Tensor(shape: [2, 1], scalars: [6, 15]))
        XCTAssertEqual(x.unbroadcast(to: []), Tensor(scalar: 21))
        XCTAssertEqual(x.unbroadcast(to: [2, 3]), x)
        // [2, 3, 4] -> [3, 1]: entry j is Σ_i Σ_k (12i + 4j + k) = 8·(12·½ + 4j) + 2·6 = 32j + 60.
        XCTAssertEqual(arange([2, 3, 4]).unbroadcast(to: [3, 1]), Tensor(shape: [3, 1], scalars: [60, 92, 124]))
    }

    /// `unbroadcast` is the adjoint of `broadcast`: ⟨broadcast(a), b⟩ = ⟨a, unbroadcast(b)⟩.
    func testUnbroadcastIsAdjointOfBroadcast() {
        var generator = RandomGenerator(seed: 5)
        for (small, large) in [([4], [3, 4]), ([2, 1, 4], [2, 3, 4]), ([], [2, 3]), ([3, 1], [2, 3, 5])] {
            let a = Tensor.normal(small, using: &generator)
            let b = Tensor.normal(large, using: &generator)
            let left = (a.broadcast(to: large) * b).sum()
            let right = (a * b.unbroadcast(to: small)).sum()
            XCTAssertEqual(left, right, accuracy: 1e-4, "\(small) -> \(large)")
        }
    }

    // MARK: - Reductions

    func testSumAndMeanOfAll() {
        let x = arange([2, 3, 4])
        XCTAssertEqual(x.sum(), 276)             // 23·24/2
        XCTAssertEqual(x.mean(alongAxes: [0, 1, 2]), Tensor(scalar: 11.5))
        XCTAssertEqual(Tensor(shape: [0], scalars: []).sum(), 0)
    }

    func testSumAlongAxes() {
        let x = arange([2, 3, 4])
        // Σ_i (12i + 4j + k) = 12 + 2(4j + k)
        XCTAssertEqual(x.sum(alongAxes: [0]), Tensor(shape: [3, 4], scalars: (0..<12).map { Float(12 + 2 * $0) }))
        // Σ_j = 36i + 3k + 12
        XCTAssertEqual(x.sum(alongAxes: [1]), matrix(2, 4) { i, k in 36 * i + 3 * k + 12 })
        // Σ_k = 48i + 16j + 6
        let lastAxis = matrix(2, 3) { i, j in 48 * i + 16 * j + 6 }
        XCTAssertEqual(x.sum(alongAxes: [2]), lastAxis)
        XCTAssertEqual(x.sum(alongAxes: [-1]), lastAxis)
        XCTAssertEqual(x.sum(alongAxes: [2], keepingDims: true), lastAxis.reshaped([2, 3, 1]))
        // Σ_i Σ_k = 32j + 60, in either order of the axes
        XCTAssertEqual(x.sum(alongAxes: [0, 2]), Tensor([60, 92, 124]))
        XCTAssertEqual(x.sum(alongAxes: [2, 0], keepingDims: true), Tensor(shape: [1, 3, 1], scalars: [60, 92, 124]))
        XCTAssertEqual(x.sum(alongAxes: [0, 1, 2]), Tensor(scalar: 276))
        XCTAssertEqual(x.sum(alongAxes: []), x)
    }

    func testMeanAlongAxes() {
        let x = arange([2, 3, 4])
        // (32j + 60) / 8 = 4j + 7.5
        XCTAssertEqual(x.mean(alongAxes: [0, 2]), Tensor([7.5, 11.5, 15.5]))
        XCTAssertEqual(x.mean(alongAxes: [-3, -1], keepingDims: true), Tensor(shape: [1, 3, 1], scalars: [7.5, 11.5, 15.5]))
        // (48i + 16j + 6) / 4 = 12i + 4j + 1.5
        XCTAssertEqual(x.mean(alongAxes: [2]), Tensor(shape: [2, 3], scalars: [1.5, 5.5, 9.5, 13.5, 17.5, 21.5]))
        XCTAssertEqual(x.mean(alongAxes: [1]).shape, [2, 4])
        XCTAssertEqual(x.mean(alongAxes: [1])[1, 3], 12 + 4 + 3)
    }

    // MARK: - Permutations

    func testTransposedByHand() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(x.transposed, Tensor(shape: [3, 2], scalars: [1, 4, 2, 5, 3, 6]))
        XCTAssertEqual(x.transposed.transposed, x)
        // Rank 3: the last two axes swap in every batch entry.
        let y = arange([2, 3, 4]).transposed
        XCTAssertEqual(y.shape, [2, 4, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { XCTAssertEqual(y[i, k, j], Float(12 * i + 4 * j + k)) } } }
    }

    func testPermutedByHand() {
        let x = arange([2, 3, 4])
        // Result axis n is input axis axes[n].
        let y = x.permuted([2, 0, 1])
        XCTAssertEqual(y.shape, [4, 2, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { XCTAssertEqual(y[k, i, j], x[i, j, k]) } } }
        let z = x.permuted([1, 2, 0])
        XCTAssertEqual(z.shape, [3, 4, 2])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { XCTAssertEqual(z[j, k, i], x[i, j, k]) } } }
        // The two three-cycles are inverse to each other; the identity changes nothing.
        XCTAssertEqual(y.permuted([1, 2, 0]), x)
        XCTAssertEqual(x.permuted([0, 1, 2]), x)
        XCTAssertEqual(Tensor(shape: [2, 2, 2], scalars: [0, 1, 2, 3, 4, 5, 6, 7]).permuted([2, 1, 0]).scalars,
                       [0, 4, 2, 6, 1, 5, 3, 7])
    }

    // MARK: - Matrix products

    /// The textbook triple loop, in Double, on stored operands with the transpose flags.
    private func referenceMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let n = transposeB ? br : bc
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batchShape = batchA.isEmpty ? batchB : batchA
        var out: [Float] = []
        for index in 0..<batchShape.product {
            let aBase = batchA.isEmpty ? 0 : index * ar * ac
            let bBase = batchB.isEmpty ? 0 : index * br * bc
            for i in 0..<m {
                for j in 0..<n {
                    var total = 0.0
                    for p in 0..<k {
                        let av = a.scalars[aBase + (transposeA ? p * ac + i : i * ac + p)]
                        let bv = b.scalars[bBase + (transposeB ? j * bc + p : p * bc + j)]
                        total += Double(av) * Double(bv)
                    }
                    out.append(Float(total))
                }
            }
        }
        return Tensor(shape: batchShape + [m, n], scalars: out)
    }

    func testMatmulByHand() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2], scalars: [5, 6, 7, 8])
        XCTAssertEqual(a.matmul(b), Tensor(shape: [2, 2], scalars: [19, 22, 43, 50]))
        XCTAssertEqual(a.matmul(b, transposeSelf: true), Tensor(shape: [2, 2], scalars: [26, 30, 38, 44]))
        XCTAssertEqual(a.matmul(b, transposeOther: true), Tensor(shape: [2, 2], scalars: [17, 23, 39, 53]))
        XCTAssertEqual(a.matmul(b, transposeSelf: true, transposeOther: true), Tensor(shape: [2, 2], scalars: [23, 31, 34, 46]))
        // A row times a column and a column times a row.
        let row = Tensor(shape: [1, 3], scalars: [1, 2, 3])
        XCTAssertEqual(row.matmul(row, transposeOther: true), Tensor(shape: [1, 1], scalars: [14]))
        XCTAssertEqual(row.matmul(row, transposeSelf: true), Tensor(shape: [3, 3], scalars: [1, 2, 3, 2, 4, 6, 3, 6, 9]))
    }

    /// Shapes that are not multiples of any tile size, so kernel edge handling is exercised.
    private let matmulSizes: [(m: Int, k: Int, n: Int)] = [(1, 1, 1), (3, 4, 5), (7, 1, 9), (17, 33, 6), (40, 19, 71), (64, 64, 64)]

    private func checkMatmul(batchA: [Int], batchB: [Int], line: UInt = #line) {
        var generator = RandomGenerator(seed: 21)
        for (m, k, n) in matmulSizes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let a = Tensor.normal(batchA + (transposeA ? [k, m] : [m, k]), using: &generator)
                    let b = Tensor.normal(batchB + (transposeB ? [n, k] : [k, n]), using: &generator)
                    let product = a.matmul(b, transposeSelf: transposeA, transposeOther: transposeB)
                    let expected = referenceMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
                    // Float accumulation of k products of standard normals: error ≲ k·ε·√k.
                    let tolerance = 1e-6 * Float(k) * Float(k).squareRoot() + 1e-6
                    XCTAssertEqual(product.shape, expected.shape, line: line)
                    let worst = zip(product.scalars, expected.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, tolerance,
                                             "m \(m) k \(k) n \(n) transposes \(transposeA) \(transposeB), batch \(batchA) \(batchB)",
                                             line: line)
                }
            }
        }
    }

    func testMatmulRank2AgainstLoop() { checkMatmul(batchA: [], batchB: []) }
    func testMatmulBatchedAgainstLoop() { checkMatmul(batchA: [3], batchB: [3]) }
    func testMatmulBatchedRank4AgainstLoop() { checkMatmul(batchA: [2, 2], batchB: [2, 2]) }
    func testMatmulBroadcastAgainstLoop() {
        checkMatmul(batchA: [3], batchB: [])
        checkMatmul(batchA: [], batchB: [3])
    }

    /// Many small shapes around typical register-tile and vector widths (m up to 19, n across
    /// 8/16/32/64), so remainder rows and columns of a blocked kernel are all reached.
    func testMatmulShapeSweepAgainstLoop() {
        var generator = RandomGenerator(seed: 24)
        var failures: [String] = []
        for m in [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 19] {
            for n in [1, 7, 8, 15, 16, 17, 31, 32, 33, 40, 65] {
                for k in [1, 3, 17] {
                    for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                        let a = Tensor.normal(transposeA ? [k, m] : [m, k], using: &generator)
                        let b = Tensor.normal(transposeB ? [n, k] : [k, n], using: &generator)
                        let product = a.matmul(b, transposeSelf: transposeA, transposeOther: transposeB)
                        let expected = referenceMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
                        let tolerance = 1e-6 * Float(k) * Float(k).squareRoot() + 1e-6
                        if let i = (0..<expected.count).first(where: { !(Swift.abs(product.scalars[$0] - expected.scalars[$0]) <= tolerance) }) {
                            failures.append("m \(m) n \(n) k \(k) transposes \(transposeA) \(transposeB): "
                                            + "C[\(i / n), \(i % n)] = \(product.scalars[i]), expected \(expected.scalars[i])")
                        }
                    }
                }
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) shapes wrong, e.g.\n" + failures.prefix(8).joined(separator: "\n"))
    }

    /// A batch times a shared matrix is the same as multiplying each batch entry separately.
    func testMatmulBroadcastEqualsPerBatchProducts() {
        var generator = RandomGenerator(seed: 22)
        let x = Tensor.normal([4, 3, 5], using: &generator)
        let w = Tensor.normal([5, 2], using: &generator)
        let product = x.matmul(w)
        XCTAssertEqual(product.shape, [4, 3, 2])
        for b in 0..<4 { XCTAssertEqual(product.slice(b), x.slice(b).matmul(w)) }
    }

    // MARK: - Softmax

    func testSoftmaxRowsSumToOne() {
        var generator = RandomGenerator(seed: 23)
        let x = Tensor.normal([5, 7, 9], standardDeviation: 4, using: &generator)
        let p = x.softmax()
        XCTAssertEqual(p.shape, x.shape)
        XCTAssertTrue(p.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        let rowSums = p.sum(alongAxes: [-1])
        for s in rowSums.scalars { XCTAssertEqual(s, 1, accuracy: 1e-6) }
    }

    func testSoftmaxClosedForms() {
        // softmax(0, ln 2, ln 3) = (1, 2, 3) / 6
        let p = Tensor([0, Foundation.log(2), Foundation.log(3)]).softmax()
        for (value, expected) in zip(p.scalars, [1.0, 2.0, 3.0].map { Float($0 / 6) }) {
            XCTAssertEqual(value, expected, accuracy: 1e-6)
        }
        XCTAssertEqual(Tensor(repeating: 3, shape: [2, 4]).softmax(), Tensor(repeating: 0.25, shape: [2, 4]))
        // −∞ entries (fully masked) get probability exactly 0.
        let masked = Tensor([1, -.infinity, 1]).softmax()
        XCTAssertEqual(masked.scalars[1], 0)
        XCTAssertEqual(masked.scalars[0], 0.5, accuracy: 1e-7)
        // logSoftmax(a, b) = (−softplus(b − a), −softplus(a − b)).
        let l = Tensor([0.5, -1.0]).logSoftmax()
        XCTAssertEqual(l.scalars[0], -Float(Foundation.log(1 + Foundation.exp(-1.5))), accuracy: 1e-6)
        XCTAssertEqual(l.scalars[1], -Float(Foundation.log(1 + Foundation.exp(1.5))), accuracy: 1e-6)
    }

    /// With scores around 1e4, `exp` overflows unless the maximum is subtracted, and the result
    /// must stay as accurate as for small scores (softmax is invariant under a shift).
    func testLogSoftmaxIsStableForLargeInputs() {
        let small = Tensor(shape: [2, 3], scalars: [0, 1, 2, -3, 0.5, 0])
        let shifted = small + Tensor(scalar: 10_000)   // exactly representable in Float
        let reference = small.logSoftmax()
        let large = shifted.logSoftmax()
        XCTAssertTrue(large.scalars.allSatisfy(\.isFinite))
        for (a, b) in zip(large.scalars, reference.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        for (a, b) in zip(shifted.softmax().scalars, small.softmax().scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let negative = (small + Tensor(scalar: -10_000)).logSoftmax()
        for (a, b) in zip(negative.scalars, reference.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }

        // Widely separated scores: the largest takes all the mass, the others are exact differences.
        let spread = Tensor([10_000, 0, -10_000]).logSoftmax()
        XCTAssertEqual(spread.scalars, [0, -10_000, -20_000])
        XCTAssertEqual(Tensor([10_000, 0, -10_000]).softmax().scalars, [1, 0, 0])
    }

    // MARK: - Elementwise and structure

    func testElementwiseArithmeticAndMap() {
        let x = Tensor([1, -2, 4])
        XCTAssertEqual(x * 2, Tensor([2, -4, 8]))
        XCTAssertEqual(0.5 * x, Tensor([0.5, -1, 2]))
        XCTAssertEqual(x + 1, Tensor([2, -1, 5]))
        XCTAssertEqual(-x, Tensor([-1, 2, -4]))
        XCTAssertEqual(x.map { $0 * $0 }, Tensor([1, 4, 16]))
        var y = x
        y += Tensor([1, 1, 1])
        XCTAssertEqual(y, Tensor([2, -1, 5]))
    }

    func testTensorBasics() {
        var x = arange([2, 3])
        XCTAssertEqual(x[1, 2], 5)
        XCTAssertEqual(x.offset([1, 0]), 3)
        XCTAssertEqual(x.strides, [3, 1])
        XCTAssertEqual(Tensor.strides(of: [2, 3, 4]), [12, 4, 1])
        x[0, 1] = -1
        XCTAssertEqual(x.scalars, [0, -1, 2, 3, 4, 5])
        XCTAssertEqual(x.reshaped([3, 2])[2, 1], 5)
        XCTAssertEqual(x.slice(1), Tensor([3, 4, 5]))
        XCTAssertEqual(Tensor.stacked([Tensor([1, 2]), Tensor([3, 4])]), Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        XCTAssertEqual(Tensor(scalar: 3).rank, 0)
        XCTAssertEqual(Tensor(scalar: 3).scalar, 3)
    }
}
