/*
 * toy_model.c - the hot path of Toy Models training: the fused step (the data: feature_sampler.c).
 *
 * This file holds the dense path (five matrix products around an elementwise pass), the cost
 * model that picks a path for each batch, and the dispatch. The sparse path through U = WᵀW and
 * the fused dense pass are in toy_model_avx512.c and toy_model_avx2.c.
 *
 * The elementwise pass comes twice: an AVX2/FMA version written with intrinsics, chosen at run
 * time, and a portable version for other CPUs. It walks blocks of eight rows whose per-feature
 * constants are tiled eight times, so a block is one contiguous run regardless of n.
 */

#include "ck_toy_model.h"
#include "CKernels.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "cpu_dispatch.h"
#include "toy_model_paths.h"

/* ------------------------------------------------------------------------------------------ */
/* The fused step                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* Scratch of the dense path: h, dh: [rows, m]; g: [rows, n]; tiled bias, importance, bias sums: [8, n]. */
static ptrdiff_t dense_scratch_count(ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n) {
    return 2 * rows * m + rows * n + 4 * 8 * n;
}

/* Scratch of the sparse path (sparse_arrays in toy_model_paths.h), in floats: U and S: [n, np]; padded
 * bias, importance and bias sums: [np]; a block's g: [64, np]; its row masks: n uint64; W padded: [m, np]; the row lists:
 * rows · n + 16 indices and rows + 1 starts, stored as int32 in float-sized slots; 32 more to start U
 * and padded W on cache lines. */
static ptrdiff_t sparse_scratch_count(ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n) {
    const ptrdiff_t np = padded16(n);
    return 2 * n * np + 3 * np + sparse_block * np + 2 * n + m * np + (rows * n + 16) + (rows + 1) + 32;
}

/* Scratch of the fused path in floats (fused_arrays in toy_model_paths.h): W, dW: [20, np]; xᵀ, gᵀ,
 * per-lane bias sums: [np, 16]; g: [16, np]; hᵀ, dhᵀ: [20, 16]; bias, importance: [np]; 16 to align. */
static ptrdiff_t fused_scratch_count(ptrdiff_t n) {
    const ptrdiff_t np = padded16(n);
    return 2 * 20 * np + 4 * 16 * np + 2 * 20 * 16 + 2 * np + 16;
}

/* Scratch of the small-model pass on AVX2: the fused arrays, then per-lane dW: [8, np, 16]. */
static ptrdiff_t small_scratch_count(ptrdiff_t n) {
    const ptrdiff_t np = padded16(n);
    return fused_scratch_count(n) + 8 * np * fused_tile_rows;
}

ptrdiff_t ck_toy_model_scratch_count(ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n) {
    const ptrdiff_t dense = dense_scratch_count(rows, m, n), sparse = sparse_scratch_count(rows, m, n);
    const ptrdiff_t larger = dense > sparse ? dense : sparse, fused = small_scratch_count(n);
    return larger > fused ? larger : fused;
}

/* The elementwise tail of the step. g holds pre-activations h W on entry; on exit
 * dL/d(pre) = 2 I (x' − x) / (rows n) where the output is active. Returns Σ I (x' − x)² and
 * writes Σ_rows g into db. Bias and importance are tiled over 8 rows so a block of 8 rows is one
 * contiguous run; per-block sums go to bias_sums ([8, n]) and are folded at the end. */
typedef double (*pass_function)(int, ptrdiff_t, ptrdiff_t, float, const float *, const float *, const float *,
                                float *, float *, float *, float *, float *);

static void tile_constants(const float *bias, const float *importance, ptrdiff_t n,
                           float *tiled_bias, float *tiled_importance, float *bias_sums) {
    for (ptrdiff_t e = 0; e < 8 * n; ++e) {
        tiled_bias[e] = bias[e % n];
        tiled_importance[e] = importance[e % n];
        bias_sums[e] = 0;
    }
}

static void fold_bias_sums(const float *bias_sums, ptrdiff_t n, float *db) {
    for (ptrdiff_t i = 0; i < n; ++i) {
        float sum = 0;
        for (int r = 0; r < 8; ++r) sum += bias_sums[r * n + i];
        db[i] = sum;
    }
}

/* Entries [from, count) of one block, one at a time; returns their share of the loss. */
static inline float pass_entries(int relu, float scale, ptrdiff_t from, ptrdiff_t count, const float *xb, float *gb,
                                 const float *tiled_bias, const float *tiled_importance, float *bias_sums) {
    float total = 0;
    for (ptrdiff_t e = from; e < count; ++e) {
        const float pre = gb[e] + tiled_bias[e];
        const float out = relu && pre < 0 ? 0.0f : pre;
        const float residual = out - xb[e];
        const float weighted = tiled_importance[e] * residual;
        total += weighted * residual;
        const float grad = relu && pre <= 0 ? 0.0f : scale * weighted;
        gb[e] = grad;
        bias_sums[e] += grad;
    }
    return total;
}

static double pass_portable(int relu, ptrdiff_t rows, ptrdiff_t n, float scale, const float *x, const float *bias,
                            const float *importance, float *g, float *db, float *tiled_bias,
                            float *tiled_importance, float *bias_sums) {
    tile_constants(bias, importance, n, tiled_bias, tiled_importance, bias_sums);
    double total = 0;
    for (ptrdiff_t row = 0; row < rows; row += 8) {
        const ptrdiff_t count = (rows - row >= 8 ? 8 : rows - row) * n;
        total += pass_entries(relu, scale, 0, count, x + row * n, g + row * n, tiled_bias, tiled_importance, bias_sums);
    }
    fold_bias_sums(bias_sums, n, db);
    return total;
}

#if CK_HAS_DISPATCH
CK_TARGET_AVX2
static double pass_avx2(int relu, ptrdiff_t rows, ptrdiff_t n, float scale, const float *x, const float *bias,
                        const float *importance, float *g, float *db, float *tiled_bias,
                        float *tiled_importance, float *bias_sums) {
    tile_constants(bias, importance, n, tiled_bias, tiled_importance, bias_sums);
    const __m256 zero = _mm256_setzero_ps(), vscale = _mm256_set1_ps(scale);
    double total = 0;
    for (ptrdiff_t row = 0; row < rows; row += 8) {
        const ptrdiff_t count = (rows - row >= 8 ? 8 : rows - row) * n;
        float *gb = g + row * n;
        const float *xb = x + row * n;
        __m256 accumulator = zero;
        ptrdiff_t e = 0;
        for (; e + 8 <= count; e += 8) {
            const __m256 pre = _mm256_add_ps(_mm256_loadu_ps(gb + e), _mm256_loadu_ps(tiled_bias + e));
            const __m256 out = relu ? _mm256_max_ps(pre, zero) : pre;
            const __m256 residual = _mm256_sub_ps(out, _mm256_loadu_ps(xb + e));
            const __m256 weighted = _mm256_mul_ps(_mm256_loadu_ps(tiled_importance + e), residual);
            accumulator = _mm256_fmadd_ps(weighted, residual, accumulator);
            __m256 grad = _mm256_mul_ps(vscale, weighted);
            if (relu) grad = _mm256_and_ps(grad, _mm256_cmp_ps(pre, zero, _CMP_GT_OQ));
            _mm256_storeu_ps(gb + e, grad);
            _mm256_storeu_ps(bias_sums + e, _mm256_add_ps(_mm256_loadu_ps(bias_sums + e), grad));
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, accumulator);
        double block_total = pass_entries(relu, scale, e, count, xb, gb, tiled_bias, tiled_importance, bias_sums);
        for (int l = 0; l < 8; ++l) block_total += lanes[l];
        total += block_total;
    }
    fold_bias_sums(bias_sums, n, db);
    return total;
}
#endif


static double dense_step(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                         const float *x, const float *w, const float *bias, const float *importance,
                         float *dw, float *db, float *scratch) {
    float *h = scratch;                 /* [rows, m] */
    float *dh = h + rows * m;           /* [rows, m] */
    float *g = dh + rows * m;           /* [rows, n] */
    float *tiled_bias = g + rows * n;   /* [8, n] each */
    float *tiled_importance = tiled_bias + 8 * n;
    float *bias_sums = tiled_importance + 8 * n;

    ck_sgemm(0, 1, rows, m, n, 1.0f, x, n, w, n, 0.0f, h, m);          /* h = x Wᵀ */
    ck_sgemm(0, 0, rows, n, m, 1.0f, h, m, w, n, 0.0f, g, n);          /* pre = h W */
    const float scale = 2.0f / (float)(rows * n);
#if CK_HAS_DISPATCH
    pass_function pass = ck_cpu_has_avx2() ? pass_avx2 : pass_portable;
#else
    pass_function pass = pass_portable;
#endif
    const double total = pass(relu, rows, n, scale, x, bias, importance, g, db, tiled_bias, tiled_importance,
                              bias_sums);
    ck_sgemm(1, 0, m, n, rows, 1.0f, h, m, g, n, 0.0f, dw, n);         /* dW  = hᵀ g   (decoder use) */
    ck_sgemm(0, 1, rows, m, n, 1.0f, g, n, w, n, 0.0f, dh, m);         /* dh  = g Wᵀ */
    ck_sgemm(1, 0, m, n, rows, 1.0f, dh, m, x, n, 1.0f, dw, n);        /* dW += dhᵀ x  (encoder use) */
    return total / (double)(rows * n);
}

#if CK_HAS_DISPATCH
/* Where the fused dense path runs (and is faster than the packed products). On AVX2 also for small
 * models, whose packed products run far below the FMA peak there, and up to 512 features (its dW goes
 * in chunks of any width: 200→20 batches took 521 against 643 µs on Zen 3). */
static int fused_applies(int avx512, ptrdiff_t m, ptrdiff_t n) {
    return (m >= 13 && m <= 20 && n >= 32 && n <= (avx512 ? 128 : 512)) || (!avx512 && m <= 8 && n <= 64);
}

/* The cost of each path in cycles per batch, fitted to timings of each path with a fresh batch every
 * call (5→2, 20→5, 40→10, 100→20 and 200→20 at densities 0.02 to 1): the AVX-512 paths on Zen 4, the
 * AVX2 ones on Zen 3 (the minimum of several hundred calls each, which the machine's neighbours
 * disturb least; the small-model pass on 5→2 to 64→8). V is the number of the path's vectors in a
 * row (16 lanes or 8), k the batch's nonzeros. Adding S by blocks costs less per nonzero and more per
 * row than adding it row by row, and pays from about 8 nonzeros a row. */
typedef struct path_model {
    int lanes, min_features;                                   /* fewer features: the sparse path is never chosen */
    double dense_mn, dense_n, dense_row, fused_factor;         /* dense: rows (a m n + b n + c), times the factor where fused */
    double small_mn, small_n;                                  /* the fused pass for m ≤ 8 (AVX2): rows (a m n + b n) */
    double row_wise_k, row_wise_k0, row_wise_row, row_wise_row_v;   /* row by row: k (a V + a0) + rows (b + c V) */
    double blocked_k, blocked_k0, blocked_row, blocked_row_v, blocked_row_vn; /* by blocks: k (a V + a0) + rows (b + c V + d V n) */
    double shared_mnn;                                         /* both sparse ways: U and W (S + Sᵀ), a m n² per batch */
} path_model;

static const path_model avx512_model = {
    .lanes = 16, .min_features = 0, .dense_mn = 0.39, .dense_n = 1.7, .dense_row = 23, .fused_factor = 0.85,
    .row_wise_k = 4.4, .row_wise_row = 20, .row_wise_row_v = 28,
    .blocked_k = 2.8, .blocked_row = 40, .blocked_row_v = 20, .blocked_row_vn = 1.0 / 8,
    .shared_mnn = 0.1,
};

/* On AVX2 below 16 features the whole row is one or two vectors and the sparse path does not pay: at
 * 5→2 over T1's densities (1 to 0.05) it was 7 % slower in all than the packed products, 25 % faster
 * only at the sparsest, and the small fused pass beats it there too (4.8 against 7 µs a batch). */
static const path_model avx2_model = {
    .lanes = 8, .min_features = 16, .dense_mn = 0.42, .dense_n = 1.6, .dense_row = 25, .fused_factor = 0.85,
    .small_mn = 0.27, .small_n = 1.7,
    .row_wise_k = 2.5, .row_wise_k0 = 3, .row_wise_row = 14, .row_wise_row_v = 6.8,
    .blocked_k = 1.7, .blocked_k0 = 4.4, .blocked_row = 24, .blocked_row_v = 6.2, .blocked_row_vn = 0.093,
    .shared_mnn = 0.1,
};

typedef struct path_costs { double dense, row_wise_per_nonzero, row_wise, blocked_per_nonzero, blocked; } path_costs;

static path_costs costs(const path_model *model, int fused, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n) {
    const double vectors = (double)((n + model->lanes - 1) / model->lanes), r = (double)rows;
    const double shared = model->shared_mnn * m * n * n;
    const double dense = fused && m <= 8 ? model->small_mn * m * n + model->small_n * n
                                         : (model->dense_mn * m * n + model->dense_n * n + model->dense_row) * (fused ? model->fused_factor : 1);
    return (path_costs){
        .dense = r * dense,
        .row_wise_per_nonzero = model->row_wise_k * vectors + model->row_wise_k0,
        .row_wise = r * (model->row_wise_row + model->row_wise_row_v * vectors) + shared,
        .blocked_per_nonzero = model->blocked_k * vectors + model->blocked_k0,
        .blocked = r * (model->blocked_row + model->blocked_row_v * vectors + model->blocked_row_vn * vectors * n) + shared,
    };
}

/* The cheapest path for a batch with this many nonzeros: 1 dense (fused where it applies), 3 sparse
 * with S added row by row, 4 sparse with S added by blocks. */
static int cheapest_path(path_costs c, ptrdiff_t rows, ptrdiff_t nonzeros) {
    const double k = (double)nonzeros;
    const double row_wise = c.row_wise + c.row_wise_per_nonzero * k, blocked = c.blocked + c.blocked_per_nonzero * k;
    if (k >= 8 * (double)rows && blocked < row_wise) return blocked < c.dense ? 4 : 1;
    return row_wise < c.dense ? 3 : 1;
}

/* Above this many nonzeros both sparse ways cost more than the dense one. */
static ptrdiff_t sparse_limit(path_costs c, ptrdiff_t rows, ptrdiff_t n) {
    const double row_wise = (c.dense - c.row_wise) / c.row_wise_per_nonzero, blocked = (c.dense - c.blocked) / c.blocked_per_nonzero;
    const double limit = row_wise > blocked ? row_wise : blocked;
    return limit < 0 ? 0 : limit > (double)(rows * n) ? rows * n : (ptrdiff_t)limit + 1;
}
#endif

double ck_toy_model_step_path(int path, int widest, int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                              const float *x, const float *w, const float *bias, const float *importance,
                              float *dw, float *db, float *scratch) {
#if CK_HAS_DISPATCH
    const int avx512 = widest != 8 && ck_cpu_has_avx512();
    if (avx512 || ck_cpu_has_avx2()) {
        const int fused = fused_applies(avx512, m, n);
        const path_model *model = avx512 ? &avx512_model : &avx2_model;
        const path_costs c = costs(model, fused, rows, m, n);
        /* Compacting costs little, but is skipped where even an empty batch would not take the sparse path. */
        if (path != 1 && path != 5 && rows < INT32_MAX / (n + 1) &&
            (path >= 2 || (n >= model->min_features && cheapest_path(c, rows, 0) != 1))) {
            /* The row lists go at the end of the scratch, after the sparse step's own arrays. */
            int32_t *list = (int32_t *)(void *)(scratch + sparse_scratch_count(rows, m, n) - (rows * n + 16) - (rows + 1));
            int32_t *starts = list + rows * n + 16;
            const ptrdiff_t limit = path >= 2 ? rows * n : sparse_limit(c, rows, n);
            const ptrdiff_t nonzeros = avx512 ? ck_toy_compact_rows_avx512(rows, n, x, limit, list, starts)
                                              : ck_toy_compact_rows_avx2(rows, n, x, limit, list, starts);
            int chosen = nonzeros < 0 ? 1 : path >= 3 ? path : cheapest_path(c, rows, nonzeros);
            if (path == 2 && chosen == 1) chosen = 3;
            if (chosen == 3 || chosen == 4)
                return (avx512 ? ck_toy_sparse_step_avx512 : ck_toy_sparse_step_avx2)(relu, chosen == 3, rows, m, n, x, w, bias,
                                                                                      importance, dw, db, scratch, list, starts);
        }
        if ((path == 0 || path == 5) && fused)
            return (avx512 ? ck_toy_fused_step_avx512 : ck_toy_fused_step_avx2)(relu, rows, m, n, x, w, bias, importance, dw, db, scratch);
    }
#else
    (void)widest;
#endif
    return dense_step(relu, rows, m, n, x, w, bias, importance, dw, db, scratch);
}

double ck_toy_model_step(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                         const float *x, const float *w, const float *bias, const float *importance,
                         float *dw, float *db, float *scratch) {
    return ck_toy_model_step_path(0, 0, relu, rows, m, n, x, w, bias, importance, dw, db, scratch);
}

int ck_toy_model_has_sparse_path(void) {
#if CK_HAS_DISPATCH
    return ck_cpu_has_avx2();
#else
    return 0;
#endif
}
