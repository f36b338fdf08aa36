import CKernels
import Dispatch

/// Single-thread throughput of `GEMM.multiply`, and the core's FMA peak to compare it with.
///
/// These are measurements, not tests: results depend on the machine and on whatever else runs.
public enum GEMMBenchmark {
    /// GFLOP/s of `GEMM.multiply` for `C[m, n] = A[m, k] * B[k, n]` (row-major, no transposes,
    /// `alpha = 1`, `beta = 0`) on random inputs, counting `2 * m * n * k` flops per call.
    ///
    /// After a short warm-up (a tenth of `minimumSeconds`, at least one call), calls are repeated
    /// until `minimumSeconds` of monotonic time have passed; the result is
    /// `2 * m * n * k * calls / seconds / 1e9`.
    public static func gflops(m: Int, k: Int, n: Int, minimumSeconds: Double = 0.3) -> Double {
        gflops(m: m, k: k, n: n, transposeA: false, transposeB: false, minimumSeconds: minimumSeconds)
    }

    /// Like `gflops(m:k:n:minimumSeconds:)` with `op(A)[m, k]` and `op(B)[k, n]`: with `transposeA`,
    /// A is stored `[k, m]`; with `transposeB`, B is stored `[n, k]` (both densely packed).
    public static func gflops(
        m: Int, k: Int, n: Int, transposeA: Bool, transposeB: Bool, minimumSeconds: Double = 0.3
    ) -> Double {
        precondition(m > 0 && k > 0 && n > 0, "GEMMBenchmark needs positive sizes, got m=\(m) k=\(k) n=\(n)")
        var generator = RandomGenerator(seed: 0x5EED_6E33)
        let a = Tensor.uniform([m * k], low: -1, high: 1, using: &generator).scalars
        let b = Tensor.uniform([k * n], low: -1, high: 1, using: &generator).scalars
        var c = [Float](repeating: 0, count: m * n)
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let flopsPerCall = 2 * Double(m) * Double(n) * Double(k)
        // Read the clock after every ~2 MFLOP of work rather than after every tiny call.
        let callsPerCheck = max(1, Int(2e6 / flopsPerCall))

        var calls = 0
        let seconds: Double = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let (aBase, bBase, cBase) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                    func run() {
                        GEMM.multiply(m: m, n: n, k: k,
                                      a: aBase, lda: lda, transposeA: transposeA,
                                      b: bBase, ldb: ldb, transposeB: transposeB,
                                      c: cBase, ldc: n)
                    }
                    // Warm-up: scratch buffers, caches, clock frequency.
                    let warmUpStart = monotonicSeconds()
                    repeat { run() } while monotonicSeconds() - warmUpStart < minimumSeconds / 10
                    let start = monotonicSeconds()
                    var elapsed = 0.0
                    repeat {
                        for _ in 0..<callsPerCheck { run() }
                        calls += callsPerCheck
                        elapsed = monotonicSeconds() - start
                    } while elapsed < minimumSeconds
                    return elapsed
                }
            }
        }
        return flopsPerCall * Double(calls) / seconds / 1e9
    }

    /// The single-core peak in GFLOP/s, measured by the C routine `ck_fma_chains`: 12 independent
    /// chains of 8-wide FMA instructions (enough to cover the FMA latency on both FMA pipes), or
    /// 4-wide multiply-adds on CPUs without AVX2/FMA. Runs for at least `minimumSeconds`.
    public static func fmaPeakGFLOPS(minimumSeconds: Double = 0.3) -> Double {
        let iterationsPerCall = 1 << 20 // ~200 MFLOP, a few milliseconds
        _ = ck_fma_chains(iterationsPerCall) // warm-up
        var flops = 0.0
        let start = monotonicSeconds()
        var elapsed = 0.0
        repeat {
            flops += ck_fma_chains(iterationsPerCall)
            elapsed = monotonicSeconds() - start
        } while elapsed < minimumSeconds
        return flops / elapsed / 1e9
    }

    /// Seconds on a monotonic clock (CLOCK_MONOTONIC on Linux, mach_absolute_time on Darwin).
    private static func monotonicSeconds() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
    }
}
