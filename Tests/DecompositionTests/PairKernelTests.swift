import CKernels
import TensorCore
import XCTest

/// The matrix-vector kernels of the residual MLP's sparse pass against Double references, at the
/// widths where their code paths change (narrow sums kept in registers up to 64 columns, ragged
/// tails, wide rows), with zero factors that must be skipped.
final class PairKernelTests: XCTestCase {
    private let shapes = [(1, 1), (3, 7), (5, 8), (1000, 50), (40, 64), (9, 65), (50, 1000), (17, 25)]

    private func random(_ count: Int, _ generator: inout RandomGenerator, zeros: Bool = false) -> [Float] {
        (0..<count).map { i in zeros && i % 3 == 1 ? 0 : generator.nextUniform(in: -1, 1) }
    }

    func testVectorMatrixMatchesReference() {
        var generator = RandomGenerator(seed: 3)
        for (rows, cols) in shapes {
            let (x, a, y0) = (random(rows, &generator, zeros: true), random(rows * cols, &generator), random(cols, &generator))
            var y = y0
            ck_vector_matrix(x, a, rows, cols, &y)
            for j in 0..<cols {
                let expected = Double(y0[j]) + (0..<rows).reduce(0.0) { $0 + Double(x[$1]) * Double(a[$1 * cols + j]) }
                XCTAssertEqual(Double(y[j]), expected, accuracy: 1e-4 * Double(rows).squareRoot(), "\(rows)x\(cols) column \(j)")
            }
        }
    }

    /// Column slices that start on multiples of 8 give the full product's bits, whether a slice takes
    /// the narrow path (sums in registers, masked last vector) and the full product the wide one or not:
    /// the residual MLP's sparse pass splits its widest product this way across threads.
    func testStridedVectorMatrixSlicesGiveTheFullProductsBits() {
        var generator = RandomGenerator(seed: 6)
        for (rows, cols, cuts) in [(50, 1000, [0, 48, 504, 1000]), (1000, 50, [0, 24, 50]), (7, 131, [0, 64, 72, 131]), (9, 20, [0, 8, 20])] {
            let (x, a, y0) = (random(rows, &generator, zeros: true), random(rows * cols, &generator), random(cols, &generator))
            var full = y0
            ck_vector_matrix(x, a, rows, cols, &full)
            var sliced = y0
            for (start, end) in zip(cuts, cuts.dropFirst()) {
                sliced.withUnsafeMutableBufferPointer { y in
                    a.withUnsafeBufferPointer { a in
                        ck_vector_matrix_strided(x, a.baseAddress! + start, rows, end - start, cols, y.baseAddress! + start)
                    }
                }
            }
            XCTAssertEqual(sliced.map(\.bitPattern), full.map(\.bitPattern), "\(rows)x\(cols) cut at \(cuts)")
        }
    }

    func testMatrixVectorMatchesReference() {
        var generator = RandomGenerator(seed: 4)
        for (rows, cols) in shapes {
            let (a, x, y0) = (random(rows * cols, &generator), random(cols, &generator), random(rows, &generator))
            var y = y0
            ck_matrix_vector(a, x, rows, cols, &y)
            for i in 0..<rows {
                let expected = Double(y0[i]) + (0..<cols).reduce(0.0) { $0 + Double(a[i * cols + $1]) * Double(x[$1]) }
                XCTAssertEqual(Double(y[i]), expected, accuracy: 1e-4 * Double(cols).squareRoot(), "\(rows)x\(cols) row \(i)")
            }
        }
    }

    func testRankOneMatchesReference() {
        var generator = RandomGenerator(seed: 5)
        for (rows, cols) in shapes {
            let (x, y, a0) = (random(rows, &generator, zeros: true), random(cols, &generator), random(rows * cols, &generator))
            var a = a0
            ck_rank_one(x, y, rows, cols, &a)
            for i in 0..<rows {
                for j in 0..<cols {
                    XCTAssertEqual(a[i * cols + j], a0[i * cols + j] + x[i] * y[j], accuracy: 1e-6, "\(rows)x\(cols) [\(i), \(j)]")
                }
            }
        }
    }
}
