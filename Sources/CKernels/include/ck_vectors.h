#ifndef CK_VECTORS_H
#define CK_VECTORS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Matrix-vector kernels on row-major `a: [rows, cols]` (APD's sparse pass runs them per kept
/// (sample, component) pair). AVX2/FMA when the CPU has it (checked at run time). Rows whose
/// factor is exactly zero are skipped where noted: sparse activations cost nothing.

/// y[cols] += Σ_i x[i] · a[i, :], skipping x[i] == 0.
void ck_vector_matrix(const float *x, const float *a, ptrdiff_t rows, ptrdiff_t cols, float *y);

/// `ck_vector_matrix` on columns of a wider matrix: row i of `a` starts at a + i · lda. Each y[j]
/// gets the same operations in the same order as in the full product, so a product split into column
/// slices gives the same bits.
void ck_vector_matrix_strided(const float *x, const float *a, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t lda, float *y);

/// y[i] += a[i, :] · x for each of the `rows` rows (x: [cols]).
void ck_matrix_vector(const float *a, const float *x, ptrdiff_t rows, ptrdiff_t cols, float *y);

/// a[i, :] += x[i] · y for each row i (y: [cols]), skipping x[i] == 0.
void ck_rank_one(const float *x, const float *y, ptrdiff_t rows, ptrdiff_t cols, float *a);

#ifdef __cplusplus
}
#endif

#endif
