import CKernels
import TensorCore
import XCTest

/// `ck_apd_tied_sparse_pass`, the TMS decomposition's sparse pass: its AVX2 and portable paths give
/// the same bits, and both equal the pass written as plain loops in the documented order.
final class TiedSparsePassKernelTests: XCTestCase {
    /// Shapes of TMS 5-2 and 40-10 and one with a rank past a vector; samples that keep no component,
    /// one, or several; features present at about 0.3.
    func testPathsAgreeWithThePlainLoops() {
        var generator = RandomGenerator(seed: 5)
        for (batch, n, m, rank, components) in [(64, 5, 2, 3, 5), (37, 40, 10, 11, 6), (20, 12, 4, 20, 3)] {
            let x = (0..<(batch * n)).map { _ in generator.nextUniform(in: 0, 1) < 0.3 ? generator.nextUniform(in: 0, 1) : 0 }
            let target = (0..<(batch * n)).map { _ in max(0, generator.nextNormal()) }
            let mask = (0..<(components * batch)).map { _ -> Float in generator.nextUniform(in: 0, 1) < 0.25 ? 1 : 0 }
            let bias = (0..<n).map { _ in 0.3 * generator.nextNormal() }
            let a = (0..<(components * n * rank)).map { _ in generator.nextNormal() }
            let b = (0..<(components * rank * m)).map { _ in generator.nextNormal() }
            let initialA = (0..<a.count).map { _ in generator.nextNormal() }, initialB = (0..<b.count).map { _ in generator.nextNormal() }
            let scale: Float = 0.37
            let (expectedLoss, expectedA, expectedB) = plainLoops(batch: batch, n: n, m: m, k: rank, C: components, x: x, target: target,
                                                                  mask: mask, bias: bias, a: a, b: b, scale: scale,
                                                                  ga: initialA, gb: initialB)
            XCTAssertNotEqual(expectedA, initialA, "the check needs gradients")
            for path: Int32 in [0, 1] {
                var ga = initialA, gb = initialB
                var scratch = [Float](repeating: .nan, count: ck_apd_tied_sparse_scratch_count(batch, n, m, rank, components))
                let loss = ck_apd_tied_sparse_pass_path(path, batch, n, m, rank, components, x, target, mask, bias, a, b, scale,
                                                        &ga, &gb, &scratch)
                let shape = "batch \(batch), n \(n), m \(m), rank \(rank), path \(path)"
                XCTAssertEqual(loss.bitPattern, expectedLoss.bitPattern, "loss \(loss) against \(expectedLoss), " + shape)
                XCTAssertNil(firstBitDifference(ga, expectedA), "grad A, " + shape)
                XCTAssertNil(firstBitDifference(gb, expectedB), "grad B, " + shape)
            }
        }
    }

    /// The pass sample by sample, kept components in increasing order, every sum in index order.
    private func plainLoops(batch: Int, n: Int, m: Int, k: Int, C: Int, x: [Float], target: [Float], mask: [Float],
                            bias: [Float], a: [Float], b: [Float], scale: Float,
                            ga: [Float], gb: [Float]) -> (Double, [Float], [Float]) {
        var (ga, gb, loss) = (ga, gb, 0.0)
        for t in 0..<batch {
            let kept = (0..<C).filter { mask[$0 * batch + t] != 0 }
            let present = (0..<n).filter { x[t * n + $0] != 0 }
            var p = [Float](repeating: 0, count: kept.count * k), inner = p, dInner = p
            var hidden = [Float](repeating: 0, count: m), dHidden = hidden, dz = [Float](repeating: 0, count: n)
            for (slot, c) in kept.enumerated() { for r in 0..<k {
                for i in present { p[slot * k + r] += a[(c * n + i) * k + r] * x[t * n + i] }
            } }
            for (slot, c) in kept.enumerated() { for r in 0..<k { for j in 0..<m { hidden[j] += p[slot * k + r] * b[(c * k + r) * m + j] } } }
            for (slot, c) in kept.enumerated() { for r in 0..<k { for j in 0..<m { inner[slot * k + r] += b[(c * k + r) * m + j] * hidden[j] } } }
            for o in 0..<n {
                var z = bias[o]
                for (slot, c) in kept.enumerated() { for r in 0..<k { z += a[(c * n + o) * k + r] * inner[slot * k + r] } }
                let e = max(z, 0) - target[t * n + o]
                loss += Double(e * e)
                dz[o] = z > 0 ? scale * e : 0
            }
            for o in 0..<n where dz[o] != 0 {
                for (slot, c) in kept.enumerated() { for r in 0..<k {
                    ga[(c * n + o) * k + r] += dz[o] * inner[slot * k + r]
                    dInner[slot * k + r] += a[(c * n + o) * k + r] * dz[o]
                } }
            }
            for (slot, c) in kept.enumerated() { for r in 0..<k { for j in 0..<m {
                gb[(c * k + r) * m + j] += dInner[slot * k + r] * hidden[j]
                dHidden[j] += b[(c * k + r) * m + j] * dInner[slot * k + r]
            } } }
            for (slot, c) in kept.enumerated() { for r in 0..<k {
                var d: Float = 0
                for j in 0..<m { gb[(c * k + r) * m + j] += p[slot * k + r] * dHidden[j]; d += b[(c * k + r) * m + j] * dHidden[j] }
                for i in present { ga[(c * n + i) * k + r] += x[t * n + i] * d }
            } }
        }
        return (loss, ga, gb)
    }
}
