import CKernels
import TensorCore
import XCTest

/// `ck_apd_tied_attributions`, the TMS decomposition's hot loop: its AVX-512, AVX2 and portable paths
/// give the same bits, and both equal the formula summed in the documented order.
final class TiedAttributionKernelTests: XCTestCase {
    /// Sparse x and active outputs (as at feature probability 0.05, so that whole vectors of
    /// samples are skipped), a batch that is not a multiple of 16, and ranks inside and outside the
    /// per-rank copies (11, 20) and past the vector paths' limit (33).
    func testPathsAgreeWithTheFormula() {
        var generator = RandomGenerator(seed: 3)
        for (batch, n, m, rank, components) in [(37, 40, 10, 11, 3), (64, 5, 2, 3, 5), (20, 12, 4, 20, 2), (17, 6, 3, 33, 2)] {
            let x = (0..<(n * batch)).map { _ in generator.nextUniform(in: 0, 1) < 0.1 ? generator.nextUniform(in: 0, 1) : 0 }
            let hidden = (0..<(m * batch)).map { _ in generator.nextNormal() }
            let active = (0..<(n * batch)).map { _ -> Float in generator.nextUniform(in: 0, 1) < 0.1 ? 1 : 0 }
            let a = (0..<(components * n * rank)).map { _ in generator.nextNormal() }
            let b = (0..<(components * rank * m)).map { _ in generator.nextNormal() }
            let projected = (0..<(components * rank * n)).map { _ in generator.nextNormal() }

            // The formula, in the order the kernel documents: i, j and r ascending, multiply then add.
            var expectedP = [Float](repeating: 0, count: components * rank * batch), expectedQ = expectedP
            var expected = [Float](repeating: 0, count: components * batch)
            for c in 0..<components { for t in 0..<batch {
                for r in 0..<rank {
                    var pr: Float = 0, qr: Float = 0
                    for i in 0..<n { pr += a[(c * n + i) * rank + r] * x[i * batch + t] }
                    for j in 0..<m { qr += b[(c * rank + r) * m + j] * hidden[j * batch + t] }
                    expectedP[(c * rank + r) * batch + t] = pr; expectedQ[(c * rank + r) * batch + t] = qr
                }
                var sum: Float = 0
                for o in 0..<n {
                    var row: Float = 0
                    for r in 0..<rank {
                        row += projected[(c * rank + r) * n + o] * expectedP[(c * rank + r) * batch + t]
                        row += a[(c * n + o) * rank + r] * expectedQ[(c * rank + r) * batch + t]
                    }
                    sum += active[o * batch + t] * row * row
                }
                expected[c * batch + t] = sum
            } }
            XCTAssertGreaterThan(expected.filter { $0 > 0 }.count, components * batch / 10, "the check needs nonzero attributions")

            for path: Int32 in [1, 2, 3] {
                var p = [Float](repeating: .nan, count: components * rank * batch), q = p
                var attribution = [Float](repeating: .nan, count: components * batch)
                ck_apd_tied_attributions_path(path, batch, n, m, rank, components, x, hidden, active, a, b, projected,
                                              &p, &q, &attribution)
                let shape = "batch \(batch), n \(n), m \(m), rank \(rank), path \(path)"
                XCTAssertNil(firstBitDifference(attribution, expected), "attributions, " + shape)
                XCTAssertNil(firstBitDifference(p, expectedP), "P, " + shape)
                XCTAssertNil(firstBitDifference(q, expectedQ), "Q, " + shape)
                // Without P and Q the attributions are the same.
                var alone = [Float](repeating: .nan, count: components * batch)
                ck_apd_tied_attributions_path(path, batch, n, m, rank, components, x, hidden, active, a, b, projected, nil, nil, &alone)
                XCTAssertNil(firstBitDifference(alone, expected), "without P and Q, " + shape)
            }
        }
    }
}
