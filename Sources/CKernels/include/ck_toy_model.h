#ifndef CK_TOY_MODEL_H
#define CK_TOY_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "ck_random.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Draws a dense batch of sparse features, `x: [rows, n]` row-major: feature i is present with
/// probability `threshold[i] / 2^32` (`threshold[i]` ≤ 2^32) and then takes `low + scale * u` (u uniform on a 2^-24 grid in
/// [0, 1)), or `table[floor(u * table_count)]` when `table_count > 0`; absent features are 0.
/// Each eight-lane step gives 64 bytes: one step decides the presence of 64 entries (byte < the
/// threshold's top 8 bits; the one in 256 that ties takes a 24-bit word, so the test is exactly the
/// 32-bit one), and only present entries take a value (24 bits of a word) from later steps; groups of 64
/// entries whose features all have p = 0 or 1 draw nothing for presence (the stream is described in feature_sampler.c). The
/// result depends only on the lanes' states, not on the CPU.
void ck_sample_features(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                        float low, float scale, const float *table, ptrdiff_t table_count, float *x);

/// Draws a dense batch of feature pairs, `x: [rows, 2 · pairs]` (features 2k and 2k + 1 form pair k),
/// from lane 0 of `lanes`. Correlated (`anticorrelated == 0`): both features of a pair are present
/// together with probability `threshold[k] / 2^32`. Anticorrelated: the pair is active with that
/// probability and then exactly one of its features, each equally likely, is present (pass twice the
/// per-feature probability to keep each feature's own rate). Values are `low + scale · u` as above.
void ck_sample_feature_pairs(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t pairs, const uint64_t *threshold,
                             int anticorrelated, float low, float scale, float *x);

/// `ck_sample_features` on the portable path, for checking that all paths draw the same batch.
void ck_sample_features_portable(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                                 float low, float scale, const float *table, ptrdiff_t table_count, float *x);

/// `ck_sample_features` on a chosen path, for tests: 0 the best this CPU has, 1 portable, 2 AVX2,
/// 3 AVX-512 (an unsupported choice falls back to the next one down). All draw the same batch.
void ck_sample_features_path(int path, ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                             float low, float scale, const float *table, ptrdiff_t table_count, float *x);

/// Scratch floats `ck_toy_model_step` needs for a batch of `rows` with `m` hidden and `n` features.
ptrdiff_t ck_toy_model_scratch_count(ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n);

/// One instance of the Toy Models autoencoder, forward and backward in one pass:
///
///     h = x Wᵀ,  x' = act(h W + b),  L = Σ_{b,i} I_i (x'_bi − x_bi)² / (rows · n)
///
/// with act = ReLU when `relu` is non-zero, the identity otherwise.
/// x: [rows, n]; w: [m, n]; bias, importance: [n]. Writes dL/dW into `dw: [m, n]` and dL/db into
/// `db: [n]`, and returns L. `scratch` holds `ck_toy_model_scratch_count(rows, m, n)` floats.
/// Sparse batches take a path through U = WᵀW where the CPU has AVX2 or AVX-512 (chosen from the
/// batch's nonzero count, or that of its first 64 rows when they are clearly dense, so the same
/// inputs always take the same path), and dense ones of mid-sized models a fused pass; the numbers
/// agree to float rounding.
double ck_toy_model_step(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                         const float *x, const float *w, const float *bias, const float *importance,
                         float *dw, float *db, float *scratch);

/// `ck_toy_model_step` on a chosen path, for tests: 0 chooses as `ck_toy_model_step` does, 1 the dense
/// path (five matrix products), 2 the sparse path (through U = WᵀW, see toy_model_avx512.c) adding S
/// the cheaper way, 3 adding S row by row, 4 adding S by blocks of rows, 5 the fused dense pass (for
/// 13 ≤ m ≤ 20 and 32 ≤ n ≤ 128; on AVX2 n up to 512, and also m ≤ 8 with n ≤ 64). `widest` caps the
/// vectors: 0 the widest this CPU has, 8 AVX2 even where it has AVX-512. Paths 2 to 5 run where the
/// CPU has them and they apply, the dense one elsewhere. All give the same numbers up to float rounding.
double ck_toy_model_step_path(int path, int widest, int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                              const float *x, const float *w, const float *bias, const float *importance,
                              float *dw, float *db, float *scratch);

/// 1 when this CPU runs the sparse path of `ck_toy_model_step` (AVX2 or AVX-512), 0 otherwise.
int ck_toy_model_has_sparse_path(void);

#ifdef __cplusplus
}
#endif

#endif
