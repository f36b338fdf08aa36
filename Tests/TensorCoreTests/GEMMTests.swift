import CKernels
import XCTest
import TensorCore

/// Correctness of `GEMM.multiply` against a Double reference loop, over every kernel path:
/// the packed 6x16 path (with its 8-wide column edge and KC/MC/NC block boundaries), the direct
/// path for n <= 24, the column path for tiny n and k, and the portable fallback.
final class GEMMTests: XCTestCase {
    // MARK: - Harness

    /// One multiplication to check: sizes, layouts, padding of every leading dimension, scalars.
    struct Case: CustomStringConvertible {
        var m: Int, n: Int, k: Int
        var transposeA = false, transposeB = false
        var padA = 0, padB = 0, padC = 0
        var alpha: Float = 1, beta: Float = 0
        /// Fill C with NaN before the call (only meaningful with beta == 0).
        var nanC = false

        var description: String {
            "m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB) pads=(\(padA),\(padB),\(padC)) "
                + "alpha=\(alpha) beta=\(beta) nanC=\(nanC)"
        }
    }

    typealias Multiply = @Sendable (Case, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int) -> Void

    static let viaGEMM: Multiply = { t, a, lda, b, ldb, c, ldc in
        GEMM.multiply(m: t.m, n: t.n, k: t.k, a: a, lda: lda, transposeA: t.transposeA,
                      b: b, ldb: ldb, transposeB: t.transposeB, c: c, ldc: ldc, alpha: t.alpha, beta: t.beta)
    }

    static let viaPortable: Multiply = { t, a, lda, b, ldb, c, ldc in
        ck_sgemm_portable(t.transposeA ? 1 : 0, t.transposeB ? 1 : 0, t.m, t.n, t.k, t.alpha,
                          a, lda, b, ldb, t.beta, c, ldc)
    }

    /// Runs one case and compares every element of C (and the untouched padding) to the reference.
    func check(_ t: Case, using multiply: Multiply = GEMMTests.viaGEMM, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RandomGenerator(seed: UInt64(t.m &* 1_000_003 &+ t.n &* 10_007 &+ t.k &* 101 &+ t.padA &+ 7 &* t.padC))
        let (aRows, aCols) = t.transposeA ? (t.k, t.m) : (t.m, t.k)
        let (bRows, bCols) = t.transposeB ? (t.n, t.k) : (t.k, t.n)
        let lda = aCols + t.padA, ldb = bCols + t.padB, ldc = t.n + t.padC
        // One extra element after each matrix so reads or writes past the end would show.
        let a = (0..<(aRows * lda + 1)).map { _ in rng.nextUniform(in: -1, 1) }
        let b = (0..<(bRows * ldb + 1)).map { _ in rng.nextUniform(in: -1, 1) }
        let sentinel: Float = 12345
        var c = (0..<(t.m * ldc + 1)).map { _ in t.nanC ? Float.nan : rng.nextUniform(in: -1, 1) }
        c[c.count - 1] = sentinel
        let original = c

        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    multiply(t, pa.baseAddress!, lda, pb.baseAddress!, ldb, pc.baseAddress!, ldc)
                }
            }
        }

        var failures = 0
        for i in 0..<t.m {
            for j in 0..<ldc {
                let index = i * ldc + j
                if j >= t.n { // padding columns must be untouched (NaN stays NaN)
                    if !(c[index] == original[index] || (c[index].isNaN && original[index].isNaN)) {
                        failures += 1
                        if failures <= 3 { XCTFail("\(t): padding C[\(i), \(j)] changed", file: file, line: line) }
                    }
                    continue
                }
                var sum = 0.0, magnitude = 0.0
                for p in 0..<t.k {
                    let av = Double(t.transposeA ? a[p * lda + i] : a[i * lda + p])
                    let bv = Double(t.transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += av * bv
                    magnitude += abs(av * bv)
                }
                let old = Double(original[index])
                let expected = Double(t.alpha) * sum + (t.beta == 0 ? 0 : Double(t.beta) * old)
                let tolerance = 1e-5 * (abs(Double(t.alpha)) * magnitude + (t.beta == 0 ? 0 : abs(Double(t.beta) * old))) + 1e-6
                let got = Double(c[index])
                if !(abs(got - expected) <= tolerance) {
                    failures += 1
                    if failures <= 3 {
                        XCTFail("\(t): C[\(i), \(j)] = \(got), expected \(expected)", file: file, line: line)
                    }
                }
            }
        }
        XCTAssertEqual(c[c.count - 1], sentinel, "\(t): wrote past the end of C", file: file, line: line)
    }

    /// The case with every combination of transposes.
    func checkAllTransposes(_ base: Case, using multiply: Multiply = GEMMTests.viaGEMM, file: StaticString = #filePath, line: UInt = #line) {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                var t = base
                t.transposeA = transposeA
                t.transposeB = transposeB
                check(t, using: multiply, file: file, line: line)
            }
        }
    }

    // MARK: - Shapes

    /// Edge sizes from the spec (read as m x n x k, and also with the roles of the sizes swapped).
    static let edgeShapes: [(Int, Int, Int)] = [
        (1, 1, 1), (7, 13, 5), (13, 7, 5), (37, 1, 91), (1, 37, 91), (91, 37, 1),
        (6, 16, 1), (6, 16, 8), (6, 16, 256), (12, 8, 9), (1000, 3, 1), (1, 3, 1000), (3, 1000, 1),
        (5, 17, 3), (6, 9, 300), (11, 24, 64), (13, 25, 33), (19, 40, 7), (2, 2, 2),
    ]

    func testEdgeShapesAllTransposes() {
        for (m, n, k) in Self.edgeShapes {
            checkAllTransposes(Case(m: m, n: n, k: k))
        }
    }

    func testExactMicroTile() {
        // One full 6 x 16 tile, and many of them, with alpha/beta and no padding.
        checkAllTransposes(Case(m: 6, n: 16, k: 32))
        checkAllTransposes(Case(m: 6, n: 16, k: 32, alpha: 0.5, beta: 2))
        checkAllTransposes(Case(m: 48, n: 64, k: 40, alpha: -1, beta: 1))
    }

    func testAlphaBeta() {
        for (alpha, beta) in [(Float(2), Float(0)), (0.5, 1), (-1.5, -0.25), (1, 3)] {
            checkAllTransposes(Case(m: 23, n: 29, k: 31, alpha: alpha, beta: beta))
            checkAllTransposes(Case(m: 40, n: 5, k: 9, alpha: alpha, beta: beta))   // direct path
            checkAllTransposes(Case(m: 40, n: 3, k: 4, alpha: alpha, beta: beta))   // column path
        }
    }

    func testLeadingDimensionsLargerThanWidth() {
        for (m, n, k) in [(7, 13, 5), (37, 1, 91), (30, 20, 10), (50, 70, 300), (17, 2, 3)] {
            checkAllTransposes(Case(m: m, n: n, k: k, padA: 3, padB: 5, padC: 7, alpha: 1.25, beta: -0.5))
            checkAllTransposes(Case(m: m, n: n, k: k, padA: 1, padB: 0, padC: 2, nanC: true))
        }
    }

    func testZeroDepthGivesBetaTimesC() {
        for (m, n) in [(1, 1), (7, 13), (40, 3), (6, 16), (9, 100)] {
            checkAllTransposes(Case(m: m, n: n, k: 0, padC: 2, alpha: 2, beta: 0.5))
            checkAllTransposes(Case(m: m, n: n, k: 0, padC: 1, beta: 0, nanC: true))
        }
    }

    func testBetaZeroIgnoresNaNInC() {
        for (m, n, k) in [(1, 1, 1), (7, 13, 5), (64, 64, 64), (100, 5, 20), (1024, 2, 5), (9, 30, 300)] {
            checkAllTransposes(Case(m: m, n: n, k: k, nanC: true))
            checkAllTransposes(Case(m: m, n: n, k: k, alpha: 0, nanC: true))
        }
    }

    func testBlockBoundaries() {
        // m > MC (144), k > KC (256) with uneven k blocks, n over a 16 panel, over NC (4096), and
        // B blocks too big for the streaming path (so row-major A goes through packing too).
        checkAllTransposes(Case(m: 145, n: 300, k: 513, padC: 1, beta: 1))
        checkAllTransposes(Case(m: 290, n: 33, k: 257))
        checkAllTransposes(Case(m: 7, n: 4100, k: 3, alpha: 2, beta: 0.5))
        checkAllTransposes(Case(m: 7, n: 4200, k: 40, padA: 1, padC: 3))
        checkAllTransposes(Case(m: 13, n: 1100, k: 300, beta: -1))
        checkAllTransposes(Case(m: 20, n: 40, k: 2100, padA: 1, alpha: 0.5, beta: 1)) // 3 deep k blocks
        checkAllTransposes(Case(m: 150, n: 56, k: 260, padA: 2, padB: 3, padC: 4))
    }

    func testTrainingShapes() {
        // The skinny products of the toy models, forward and backward.
        for (m, k, n) in [(1024, 20, 5), (1024, 5, 20), (2048, 40, 10), (1024, 5, 2), (1024, 2, 5), (256, 100, 50)] {
            checkAllTransposes(Case(m: m, n: n, k: k))
        }
        check(Case(m: 5, n: 20, k: 1024, transposeA: true))
        check(Case(m: 1024, n: 5, k: 20, transposeB: true))
        check(Case(m: 20, n: 5, k: 1024, transposeA: true, beta: 1))
    }

    func testRandomSmallShapes() {
        var rng = RandomGenerator(seed: 42)
        for _ in 0..<300 {
            let t = Case(m: 1 + Int(rng.next() % 70), n: 1 + Int(rng.next() % 70), k: Int(rng.next() % 70),
                         transposeA: rng.next() % 2 == 0, transposeB: rng.next() % 2 == 0,
                         padA: Int(rng.next() % 3), padB: Int(rng.next() % 3), padC: Int(rng.next() % 3),
                         alpha: rng.nextUniform(in: -1, 1), beta: rng.next() % 3 == 0 ? 0 : rng.nextUniform(in: -1, 1),
                         nanC: false)
            check(t)
        }
    }

    func testPortableFallback() {
        for (m, n, k) in [(1, 1, 1), (7, 13, 5), (37, 1, 91), (30, 20, 10), (64, 70, 80)] {
            checkAllTransposes(Case(m: m, n: n, k: k, padA: 1, padB: 2, padC: 3, alpha: 0.5, beta: -1), using: Self.viaPortable)
            checkAllTransposes(Case(m: m, n: n, k: k, nanC: true), using: Self.viaPortable)
        }
        checkAllTransposes(Case(m: 5, n: 6, k: 0, beta: 0, nanC: true), using: Self.viaPortable)
    }

    func testEmptyOutputsAreNoOps() {
        var c: [Float] = [7]
        let a: [Float] = [1], b: [Float] = [1]
        GEMM.multiply(m: 0, n: 1, k: 1, a: a, lda: 1, b: b, ldb: 1, c: &c, ldc: 1)
        GEMM.multiply(m: 1, n: 0, k: 1, a: a, lda: 1, b: b, ldb: 1, c: &c, ldc: 1)
        XCTAssertEqual(c, [7])
    }

    func testBenchmarkHelpersReturnPositiveRates() {
        XCTAssertGreaterThan(GEMMBenchmark.gflops(m: 16, k: 16, n: 16, minimumSeconds: 0.001), 0)
        XCTAssertGreaterThan(GEMMBenchmark.fmaPeakGFLOPS(minimumSeconds: 0.001), 0)
    }
}
