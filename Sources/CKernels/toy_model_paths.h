/*
 * toy_model_paths.h - what the toy-model step's dispatcher (toy_model.c) shares with its vector
 * paths: the sparse path through U = WᵀW and the fused dense pass, on AVX-512 (toy_model_avx512.c)
 * and on AVX2 (toy_model_avx2.c). Private to this target, like cpu_dispatch.h.
 */

#ifndef CK_TOY_MODEL_PATHS_H
#define CK_TOY_MODEL_PATHS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline ptrdiff_t padded16(ptrdiff_t n) { return (n + 15) / 16 * 16; }

/* Rows whose g stay in L1 until their share of S is added (a few percent faster than 32 on Zen 4);
 * also the width of the per-feature row masks (uint64_t). */
enum { sparse_block = 64 };

/* The sparse path's arrays, carved from the scratch for rows of np floats (n padded to the vector
 * width; the scratch is sized for np = padded16(n), the widest):
 * U and S: [n, np] (S's row j is S's column j); padded bias, importance and the bias sums: [np];
 * a block's g rows: [sparse_block, np]; per feature, the block's rows with x_bj ≠ 0: [n] bit masks;
 * W padded with zeros: [m, np]. U and padded W start on cache lines, so a vector load of a row never
 * straddles two. */
typedef struct sparse_arrays {
    float *u, *s, *bias, *importance, *bias_sums, *g, *w;
    uint64_t *rows_of;
} sparse_arrays;

static inline sparse_arrays sparse_arrays_prepare(float *scratch, ptrdiff_t m, ptrdiff_t n, ptrdiff_t np,
                                                  const float *w, const float *bias, const float *importance) {
    sparse_arrays a;
    a.u = scratch + ((64 - (uintptr_t)scratch % 64) % 64) / sizeof(float);
    a.s = a.u + n * np;
    a.bias = a.s + n * np;
    a.importance = a.bias + np;
    a.bias_sums = a.importance + np;
    a.g = a.bias_sums + np;
    a.rows_of = (uint64_t *)(void *)(a.g + sparse_block * np);
    a.w = (float *)(void *)(a.rows_of + n);
    a.w += ((64 - (uintptr_t)a.w % 64) % 64) / sizeof(float);

    memset(a.s, 0, sizeof(float) * (size_t)(n * np));
    for (ptrdiff_t i = 0; i < np; ++i) {
        a.bias[i] = i < n ? bias[i] : 0;
        a.importance[i] = i < n ? importance[i] : 0;
        a.bias_sums[i] = 0;
    }
    for (ptrdiff_t j = 0; j < m; ++j)
        for (ptrdiff_t i = 0; i < np; ++i) a.w[j * np + i] = i < n ? w[j * n + i] : 0;
    return a;
}

/* The fused dense pass's arrays, carved from the scratch (sized for np = padded16(n), the widest) for
 * rows of np floats and tiles of fused_tile_rows rows: W and dW padded with zeros: [MM ≤ 20, np]; xᵀ,
 * gᵀ and each lane's share of db: [np, 16]; g: [16, np]; hᵀ, dhᵀ: [MM, 16]; padded bias and
 * importance: [np]. gᵀ and the lane sums start at zero. */
enum { fused_tile_rows = 16 };

typedef struct fused_arrays {
    float *w, *dw, *xt, *gt, *lane_sums, *g, *ht, *dht, *bias, *importance;
} fused_arrays;

static inline fused_arrays fused_arrays_prepare(float *scratch, ptrdiff_t MM, ptrdiff_t m, ptrdiff_t n, ptrdiff_t np,
                                                const float *w, const float *bias, const float *importance) {
    fused_arrays a;
    a.w = scratch + ((64 - (uintptr_t)scratch % 64) % 64) / sizeof(float);
    a.dw = a.w + 20 * np;
    a.xt = a.dw + 20 * np;
    a.gt = a.xt + fused_tile_rows * np;
    a.lane_sums = a.gt + fused_tile_rows * np;
    a.g = a.lane_sums + fused_tile_rows * np;
    a.ht = a.g + fused_tile_rows * np;
    a.dht = a.ht + 20 * fused_tile_rows;
    a.bias = a.dht + 20 * fused_tile_rows;
    a.importance = a.bias + np;
    for (ptrdiff_t j = 0; j < MM; ++j)
        for (ptrdiff_t i = 0; i < np; ++i) {
            a.w[j * np + i] = j < m && i < n ? w[j * n + i] : 0;
            a.dw[j * np + i] = 0;
        }
    for (ptrdiff_t i = 0; i < np; ++i) {
        a.bias[i] = i < n ? bias[i] : 0;
        a.importance[i] = i < n ? importance[i] : 0;
    }
    memset(a.gt, 0, sizeof(float) * (size_t)(2 * fused_tile_rows * np));
    return a;
}

/* dW and db out of the fused pass's arrays: dW unpadded, db the sum of each feature's lane sums. */
static inline void fused_arrays_finish(const fused_arrays *a, ptrdiff_t m, ptrdiff_t n, ptrdiff_t np, float *dw, float *db) {
    for (ptrdiff_t j = 0; j < m; ++j)
        for (ptrdiff_t i = 0; i < n; ++i) dw[j * n + i] = a->dw[j * np + i];
    for (ptrdiff_t i = 0; i < n; ++i) {
        float sum = 0;
        for (int lane = 0; lane < fused_tile_rows; ++lane) sum += a->lane_sums[fused_tile_rows * i + lane];
        db[i] = sum;
    }
}

/* The small-model pass's per-lane dW ([m ≤ 8, np, 16], np ≤ 64), after the fused arrays. */
static inline float *ck_toy_small_lane_weights(const fused_arrays *a, ptrdiff_t np) {
    return a->importance + np;
}

/* Calls CALL(w) with w the constant 1...8 equal to `width` (8 for anything larger), so that a
 * chunk's accumulators, an array of w vectors, live in registers. */
#define CK_WIDTH_SWITCH(width, CALL) \
    switch (width) { \
    case 1: CALL(1); break; case 2: CALL(2); break; case 3: CALL(3); break; case 4: CALL(4); break; \
    case 5: CALL(5); break; case 6: CALL(6); break; case 7: CALL(7); break; default: CALL(8); break; }

/* The loops over m, vectors and tile rows have constant bounds: unrolled, their accumulators are registers. */
#define CK_UNROLL _Pragma("clang loop unroll(full)")

/* Compacts every row of x to the indices of its nonzero entries: list[starts[b] ..< starts[b + 1]].
 * Returns the number of nonzeros, or -1 as soon as there are more than `limit`, or when the first 64
 * rows of a longer batch are already a quarter denser than `limit` allows (the batch will go the
 * dense way: no need to finish). `list` has room for rows · n + 16. */
ptrdiff_t ck_toy_compact_rows_avx512(ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t limit,
                                     int32_t *list, int32_t *starts);
ptrdiff_t ck_toy_compact_rows_avx2(ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t limit,
                                   int32_t *list, int32_t *starts);

/* The sparse path, S added row by row (`row_wise`) or by blocks of rows; same arguments as
 * ck_toy_model_step plus the compacted rows. */
double ck_toy_sparse_step_avx512(int relu, int row_wise, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x,
                                 const float *w, const float *bias, const float *importance, float *dw, float *db,
                                 float *scratch, const int32_t *list, const int32_t *starts);
double ck_toy_sparse_step_avx2(int relu, int row_wise, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x,
                               const float *w, const float *bias, const float *importance, float *dw, float *db,
                               float *scratch, const int32_t *list, const int32_t *starts);

/* The fused dense pass where `fused_applies` (toy_model.c): 13 ≤ m ≤ 20 and 32 ≤ n ≤ 128 (on AVX2 up
 * to n = 512), and on AVX2 also m ≤ 8 and n ≤ 64. */
double ck_toy_fused_step_avx512(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x, const float *w,
                                const float *bias, const float *importance, float *dw, float *db, float *scratch);
double ck_toy_fused_step_avx2(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x, const float *w,
                              const float *bias, const float *importance, float *dw, float *db, float *scratch);

#endif
