#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/* The umbrella header of the module: Swift sees what it includes. */
#include "ck_random.h"
#include "ck_toy_model.h"
#include "ck_adam.h"
#include "ck_vectors.h"
#include "ck_apd.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Single-precision GEMM on row-major matrices, single-threaded:
///
///     C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C[m, n]
///
/// `op(A)` is `A` stored `[m, k]` (row stride `lda`) or, when `transpose_a != 0`, `A` stored
/// `[k, m]` (row stride `lda`); likewise `op(B)` is `B` stored `[k, n]` or `[n, k]`.
/// `beta == 0` overwrites `C` without reading it; `k == 0` or `alpha == 0` gives `beta * C`.
/// Uses an AVX2/FMA kernel when the CPU supports it (checked at run time), a portable loop otherwise.
void ck_sgemm(int transpose_a, int transpose_b,
              ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
              float alpha,
              const float *a, ptrdiff_t lda,
              const float *b, ptrdiff_t ldb,
              float beta,
              float *c, ptrdiff_t ldc);

/// `ck_sgemm` forced onto the portable (non-AVX) path, so tests can check it on any CPU.
void ck_sgemm_portable(int transpose_a, int transpose_b,
                       ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                       float alpha,
                       const float *a, ptrdiff_t lda,
                       const float *b, ptrdiff_t ldb,
                       float beta,
                       float *c, ptrdiff_t ldc);

/// 1 when the AVX2+FMA kernels are used on this CPU, 0 when the portable fallback is used.
int ck_sgemm_uses_avx2_fma(void);

/// Runs `iterations` rounds of 12 independent 8-wide FMA dependency chains (4-wide multiply-add
/// on CPUs without AVX2/FMA) and returns the number of floating-point operations performed.
/// Time it to measure the single-core peak FLOP rate.
double ck_fma_chains(ptrdiff_t iterations);

#ifdef __cplusplus
}
#endif

#endif
