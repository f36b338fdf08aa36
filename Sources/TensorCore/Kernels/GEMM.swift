import CKernels

/// Single-precision general matrix multiply on row-major matrices.
///
/// `C = alpha * op(A) * op(B) + beta * C`, where `op(A)` is `[m, k]` and `op(B)` is `[k, n]`.
/// With `transposeA`, `A` is stored `[k, m]` with leading dimension `lda`; likewise for `B`.
///
/// The work is done by `ck_sgemm` in `CKernels`: cache-blocked AVX2/FMA kernels with 6x16 register
/// tiles over packed panels for general shapes, and unpacked kernels for skinny outputs (`n <= 24`),
/// chosen at run time; CPUs without AVX2/FMA get a portable loop. It runs on the calling thread
/// only (callers decide about parallelism) and keeps per-thread packing buffers (up to ~4 MB).
public enum GEMM {
    /// Multiplies row-major matrices: `c[m, n] = alpha * op(a)[m, k] * op(b)[k, n] + beta * c`.
    ///
    /// Shapes as stored:
    /// - `a`: `[m, k]`, or `[k, m]` when `transposeA`; row `r` starts at `a + r * lda`.
    /// - `b`: `[k, n]`, or `[n, k]` when `transposeB`; row `r` starts at `b + r * ldb`.
    /// - `c`: `[m, n]`; row `r` starts at `c + r * ldc`. Only the `m x n` block is touched, so the
    ///   leading dimensions may exceed the widths (sub-matrix views).
    ///
    /// When `beta == 0`, `c` is overwritten without being read (it may hold NaN or garbage).
    /// When `k == 0` (or `alpha == 0`), the result is `beta * c`. `c` must not overlap `a` or `b`.
    /// - Parameters:
    ///   - lda, ldb, ldc: the distance in scalars between consecutive rows as stored; at least the
    ///     stored width whenever there is more than one stored row.
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM sizes must be non-negative, got m=\(m) n=\(n) k=\(k)")
        let (aRows, aColumns) = transposeA ? (k, m) : (m, k)
        let (bRows, bColumns) = transposeB ? (n, k) : (k, n)
        precondition(aRows <= 1 || lda >= aColumns, "GEMM lda=\(lda) is smaller than the width \(aColumns) of A")
        precondition(bRows <= 1 || ldb >= bColumns, "GEMM ldb=\(ldb) is smaller than the width \(bColumns) of B")
        precondition(m <= 1 || ldc >= n, "GEMM ldc=\(ldc) is smaller than the width \(n) of C")
        ck_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// Whether the AVX2/FMA kernels are in use on this CPU (`false` means the portable fallback).
    public static var usesAVX2FMA: Bool { ck_sgemm_uses_avx2_fma() != 0 }
}
