/// Single-precision general matrix multiply on row-major matrices.
///
/// `C = alpha * op(A) * op(B) + beta * C`, where `op(A)` is `[m, k]` and `op(B)` is `[k, n]`.
/// With `transposeA`, `A` is stored `[k, m]` with leading dimension `lda`; likewise for `B`.
public enum GEMM {
    /// Multiplies row-major matrices: `c[m, n] = alpha * op(a)[m, k] * op(b)[k, n] + beta * c`.
    /// - Parameters:
    ///   - lda, ldb, ldc: the distance in scalars between consecutive rows as stored.
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        // Placeholder reference loop; replaced by the packed FMA kernel in CKernels.
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let av = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += av * bv
                }
                c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }
}
