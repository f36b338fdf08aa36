/*
 * toy_model_avx512.c - the AVX-512 paths of the toy-model step (the dispatch, the dense path and the
 * cost model that chooses: toy_model.c): the sparse path through U = WᵀW and the fused dense pass.
 */

#include "cpu_dispatch.h"
#include "toy_model_paths.h"

/* ------------------------------------------------------------------------------------------ */
/* The sparse path                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* The model depends on W only through U = WᵀW ([n, n], symmetric):
 *
 *     pre_b = U x_b + b,   dL/dU = S = Gᵀ X  (G = dL/dpre),   dL/dW = W (S + Sᵀ).
 *
 * With k nonzeros per row of x, the forward costs 2 k n per row and S another 2 k n, against
 * about 4 m n + 4 m k for the dense path's five products; U (half of it: U is symmetric) and
 * W (S + Sᵀ) add about 3 m n² per step, shared by all rows. So sparse batches take this path: each
 * row of x is compacted to the list of its nonzero features (AVX-512 compress) and pre_b is a sum of
 * k rows of U held in registers.
 * S is added one of two ways, whichever `cheapest_path` expects to cost less. Row by row: while
 * g_b is in registers, x_bj g_b goes into each of the k rows of S the row touches, a load and a
 * store of an S row per nonzero. By blocks of 64 rows whose g stay in L1: for each feature j, S's
 * row j is held in registers while the block's rows with x_bj ≠ 0 (a bit mask per feature) add
 * x_bj g_b, so a nonzero costs loads and FMAs but no stores, for some bookkeeping per row and
 * feature. Blocks pay from about 8 nonzeros a row, and are a third faster at densities 0.2 to 0.4
 * of 100→20, where stores limit Zen 4. */

#if CK_HAS_DISPATCH
/* Lanes of vector v (16 floats) that lie inside a row of n. */
CK_TARGET_AVX512 static inline __mmask16 row_mask(ptrdiff_t v, ptrdiff_t n) {
    const ptrdiff_t left = n - 16 * v;
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

/* Forward, loss and g of one row for the vectors [v0, v0 + width); width ≤ 8 is a constant after
 * inlining, so the accumulators live in registers. Writes g into `g` ([np]), or when `row_wise` adds
 * it into the bias sums and x_bj g_b into the k rows of S the row touches while g_b is in registers.
 * With `half` (a constant too) the last vector holds at most 8 features and its products over the
 * nonzeros run on 256 bits: half the FMA throughput on Zen 4, whose 512-bit unit is two halves. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) __m512
row_chunk(int relu, const int width, const int half, int row_wise, ptrdiff_t v0, ptrdiff_t n, ptrdiff_t np, float scale,
          const float *xb, const int32_t *list, ptrdiff_t count, const float *u,
          const float *bias, const float *importance, float *g, float *s, float *bias_sums, __m512 loss) {
    const int full = half ? width - 1 : width;
    __m512 acc[8];
    __m256 last = _mm256_setzero_ps();
    for (int v = 0; v < full; ++v) acc[v] = _mm512_loadu_ps(bias + 16 * (v0 + v));
    if (half) last = _mm256_loadu_ps(bias + 16 * (v0 + full));
    for (ptrdiff_t t = 0; t < count; ++t) {
        const __m512 value = _mm512_set1_ps(xb[list[t]]);
        const float *row = u + (ptrdiff_t)list[t] * np + 16 * v0;
        for (int v = 0; v < full; ++v) acc[v] = _mm512_fmadd_ps(value, _mm512_loadu_ps(row + 16 * v), acc[v]);
        if (half) last = _mm256_fmadd_ps(_mm512_castps512_ps256(value), _mm256_loadu_ps(row + 16 * full), last);
    }
    if (half) acc[full] = _mm512_zextps256_ps512(last);
    const __m512 zero = _mm512_setzero_ps(), vscale = _mm512_set1_ps(scale);
    for (int v = 0; v < width; ++v) {
        const ptrdiff_t at = 16 * (v0 + v);
        const __m512 target = _mm512_maskz_loadu_ps(row_mask(v0 + v, n), xb + at);
        const __m512 out = relu ? _mm512_max_ps(acc[v], zero) : acc[v];
        const __m512 residual = _mm512_sub_ps(out, target);
        const __m512 weighted = _mm512_mul_ps(_mm512_loadu_ps(importance + at), residual);
        loss = _mm512_fmadd_ps(weighted, residual, loss);
        __m512 grad = _mm512_mul_ps(vscale, weighted);
        if (relu) grad = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc[v], zero, _CMP_GT_OQ), grad);
        if (row_wise) _mm512_storeu_ps(bias_sums + at, _mm512_add_ps(_mm512_loadu_ps(bias_sums + at), grad));
        else _mm512_storeu_ps(g + at, grad);
        acc[v] = grad;
    }
    if (row_wise) {
        for (ptrdiff_t t = 0; t < count; ++t) {
            const __m512 value = _mm512_set1_ps(xb[list[t]]);
            float *row = s + (ptrdiff_t)list[t] * np + 16 * v0;
            for (int v = 0; v < full; ++v)
                _mm512_storeu_ps(row + 16 * v, _mm512_fmadd_ps(value, acc[v], _mm512_loadu_ps(row + 16 * v)));
            if (half)
                _mm256_storeu_ps(row + 16 * full, _mm256_fmadd_ps(_mm512_castps512_ps256(value), _mm512_castps512_ps256(acc[full]),
                                                                  _mm256_loadu_ps(row + 16 * full)));
        }
    }
    return loss;
}

/* S[:, j] += Σ_b x_bj g_b over the block's rows b with x_bj ≠ 0 (bit b of rows_of[j]), for the
 * vectors [v0, v0 + width): S's row j stays in registers while the block's g rows come from L1,
 * so S costs one load and one store per feature and block instead of per nonzero (`half` as in
 * row_chunk; the upper 8 lanes of S's last vector stay zero). */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
add_block_to_s(const int width, const int half, ptrdiff_t v0, ptrdiff_t n, ptrdiff_t np, const float *x, const float *g,
               const uint64_t *rows_of, float *s) {
    const int full = half ? width - 1 : width;
    for (ptrdiff_t j = 0; j < n; ++j) {
        uint64_t rows = rows_of[j];
        if (rows == 0) continue;
        float *srow = s + j * np + 16 * v0;
        __m512 acc[8];
        __m256 last = _mm256_setzero_ps();
        for (int v = 0; v < full; ++v) acc[v] = _mm512_loadu_ps(srow + 16 * v);
        if (half) last = _mm256_loadu_ps(srow + 16 * full);
        do {
            const ptrdiff_t b = __builtin_ctzll(rows);
            rows &= rows - 1;
            const __m512 value = _mm512_set1_ps(x[b * n + j]);
            const float *gb = g + b * np + 16 * v0;
            for (int v = 0; v < full; ++v) acc[v] = _mm512_fmadd_ps(value, _mm512_loadu_ps(gb + 16 * v), acc[v]);
            if (half) last = _mm256_fmadd_ps(_mm512_castps512_ps256(value), _mm256_loadu_ps(gb + 16 * full), last);
        } while (rows);
        for (int v = 0; v < full; ++v) _mm512_storeu_ps(srow + 16 * v, acc[v]);
        if (half) _mm256_storeu_ps(srow + 16 * full, last);
    }
}

/* ck_toy_compact_rows (toy_model_paths.h) with AVX-512 compress: dense batches stop after 64 rows
 * instead of 300 to 800 at 100→20. */
CK_TARGET_AVX512 ptrdiff_t ck_toy_compact_rows_avx512(ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t limit,
                                                int32_t *list, int32_t *starts) {
    /* Full vectors unmasked, the partial one with its mask and indices made once: a fifth faster. */
    const ptrdiff_t full = n / 16;
    const __mmask16 tail = (__mmask16)((1u << (n % 16)) - 1);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), sixteen = _mm512_set1_epi32(16);
    const __m512i last = _mm512_add_epi32(iota, _mm512_set1_epi32((int)(16 * full)));
    const __m512 zero = _mm512_setzero_ps();
    ptrdiff_t count = 0;
    for (ptrdiff_t b = 0; b < rows; ++b) {
        starts[b] = (int32_t)count;
        const float *xb = x + b * n;
        __m512i indices = iota;
        for (ptrdiff_t v = 0; v < full; ++v) {
            const __mmask16 present = _mm512_cmp_ps_mask(_mm512_loadu_ps(xb + 16 * v), zero, _CMP_NEQ_UQ);
            _mm512_storeu_si512(list + count, _mm512_maskz_compress_epi32(present, indices));
            count += __builtin_popcount((unsigned)present);
            indices = _mm512_add_epi32(indices, sixteen);
        }
        if (tail) {
            const __mmask16 present = _mm512_mask_cmp_ps_mask(tail, _mm512_maskz_loadu_ps(tail, xb + 16 * full), zero, _CMP_NEQ_UQ);
            _mm512_storeu_si512(list + count, _mm512_maskz_compress_epi32(present, last));
            count += __builtin_popcount((unsigned)present);
        }
        if (count > limit || (b == 63 && rows > 64 && (double)count > 1.25 * (double)limit * 64 / (double)rows)) return -1;
    }
    starts[rows] = (int32_t)count;
    return count;
}

CK_TARGET_AVX512 static inline void transpose16(__m512 r[16]);

/* U's row i over the vectors [v0, v0 + width): Σ_j W[j, i] W[j, :], from W padded to np (`wp`). */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
gram_chunk(const int width, ptrdiff_t v0, ptrdiff_t i, ptrdiff_t m, ptrdiff_t np, const float *wp, float *u) {
    __m512 acc[8];
    for (int v = 0; v < width; ++v) acc[v] = _mm512_setzero_ps();
    for (ptrdiff_t j = 0; j < m; ++j) {
        const __m512 wji = _mm512_set1_ps(wp[j * np + i]);
        for (int v = 0; v < width; ++v) acc[v] = _mm512_fmadd_ps(wji, _mm512_loadu_ps(wp + j * np + 16 * (v0 + v)), acc[v]);
    }
    for (int v = 0; v < width; ++v) _mm512_storeu_ps(u + i * np + 16 * (v0 + v), acc[v]);
}

/* U = WᵀW ([n, np], zero beyond column n since wp is): U is symmetric, so only the 16×16 blocks on
 * and above the diagonal are multiplied (about half the work of a general product) and the others
 * are their transposes. */
CK_TARGET_AVX512 static void gram(ptrdiff_t m, ptrdiff_t n, ptrdiff_t np, const float *wp, float *u) {
    const ptrdiff_t vectors = np / 16;
    for (ptrdiff_t i = 0; i < n; ++i)
        for (ptrdiff_t v0 = i / 16; v0 < vectors; v0 += 8) {
            const ptrdiff_t width = vectors - v0;
#define CK_GRAM(W) gram_chunk(W, v0, i, m, np, wp, u)
            CK_WIDTH_SWITCH(width, CK_GRAM)
#undef CK_GRAM
        }
    for (ptrdiff_t I = 0; I < vectors; ++I)
        for (ptrdiff_t J = I + 1; J < vectors; ++J) {
            __m512 r[16];
            for (int k = 0; k < 16; ++k)
                r[k] = 16 * I + k < n ? _mm512_loadu_ps(u + (16 * I + k) * np + 16 * J) : _mm512_setzero_ps();
            transpose16(r);
            for (int k = 0; k < 16 && 16 * J + k < n; ++k) _mm512_storeu_ps(u + (16 * J + k) * np + 16 * I, r[k]);
        }
}

/* s ← s + sᵀ in place ([n, np]; rows beyond n count as zero), by pairs of 16×16 blocks. */
CK_TARGET_AVX512 static void symmetrize(ptrdiff_t n, ptrdiff_t np, float *s) {
    const ptrdiff_t vectors = np / 16;
    for (ptrdiff_t I = 0; I < vectors; ++I)
        for (ptrdiff_t J = I; J < vectors; ++J) {
            __m512 upper[16], lower[16];
            for (int k = 0; k < 16; ++k) {
                upper[k] = 16 * I + k < n ? _mm512_loadu_ps(s + (16 * I + k) * np + 16 * J) : _mm512_setzero_ps();
                lower[k] = 16 * J + k < n ? _mm512_loadu_ps(s + (16 * J + k) * np + 16 * I) : _mm512_setzero_ps();
            }
            transpose16(upper);
            for (int k = 0; k < 16; ++k) lower[k] = _mm512_add_ps(lower[k], upper[k]);
            for (int k = 0; k < 16 && 16 * J + k < n; ++k) _mm512_storeu_ps(s + (16 * J + k) * np + 16 * I, lower[k]);
            if (I == J) continue;
            transpose16(lower);
            for (int k = 0; k < 16 && 16 * I + k < n; ++k) _mm512_storeu_ps(s + (16 * I + k) * np + 16 * J, lower[k]);
        }
}

/* dW's rows [j0, j0 + JB) over the vectors [v0, v0 + width): Σ_i W[j, i] A[i, :] with A: [n, np]. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
weight_gradient_chunk(const int JB, const int width, ptrdiff_t j0, ptrdiff_t v0, ptrdiff_t n, ptrdiff_t np,
                      const float *w, const float *a, float *dw) {
    __m512 acc[2][8];
    for (int jj = 0; jj < JB; ++jj)
        for (int v = 0; v < width; ++v) acc[jj][v] = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < n; ++i) {
        __m512 row[8];
        for (int v = 0; v < width; ++v) row[v] = _mm512_loadu_ps(a + i * np + 16 * (v0 + v));
        for (int jj = 0; jj < JB; ++jj) {
            const __m512 wji = _mm512_set1_ps(w[(j0 + jj) * n + i]);
            for (int v = 0; v < width; ++v) acc[jj][v] = _mm512_fmadd_ps(wji, row[v], acc[jj][v]);
        }
    }
    for (int jj = 0; jj < JB; ++jj)
        for (int v = 0; v < width; ++v)
            _mm512_mask_storeu_ps(dw + (j0 + jj) * n + 16 * (v0 + v), row_mask(v0 + v, n), acc[jj][v]);
}

/* dW = W A ([m, n]) for A: [n, np], two rows of dW at a time. */
CK_TARGET_AVX512 static void weight_gradient(ptrdiff_t m, ptrdiff_t n, ptrdiff_t np, const float *w, const float *a, float *dw) {
    const ptrdiff_t vectors = np / 16;
    for (ptrdiff_t j0 = 0; j0 < m; j0 += 2)
        for (ptrdiff_t v0 = 0; v0 < vectors; v0 += 8) {
            const ptrdiff_t width = vectors - v0;
            if (m - j0 >= 2) {
#define CK_PAIR(W) weight_gradient_chunk(2, W, j0, v0, n, np, w, a, dw)
                CK_WIDTH_SWITCH(width, CK_PAIR)
#undef CK_PAIR
            } else {
#define CK_SINGLE(W) weight_gradient_chunk(1, W, j0, v0, n, np, w, a, dw)
                CK_WIDTH_SWITCH(width, CK_SINGLE)
#undef CK_SINGLE
            }
        }
}

CK_TARGET_AVX512 static inline __attribute__((always_inline))
double sparse_step_avx512(int relu, const int row_wise, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                                 const float *x, const float *w, const float *bias, const float *importance,
                                 float *dw, float *db, float *scratch, const int32_t *list, const int32_t *starts) {
    const ptrdiff_t np = padded16(n), vectors = np / 16;
    const sparse_arrays arrays = sparse_arrays_prepare(scratch, m, n, np, w, bias, importance);
    float *u = arrays.u, *s = arrays.s, *padded_bias = arrays.bias, *padded_importance = arrays.importance;
    float *bias_sums = arrays.bias_sums, *g = arrays.g;
    uint64_t *rows_of = arrays.rows_of;
    gram(m, n, np, arrays.w, u);                                     /* U = WᵀW */

    const float scale = 2.0f / (float)(rows * n);
    const int half = n % 16 != 0 && n % 16 <= 8; /* the last vector runs on 256 bits (see row_chunk) */
    double total = 0;
    for (ptrdiff_t first = 0; first < rows; first += sparse_block) {
        const ptrdiff_t block = rows - first < sparse_block ? rows - first : sparse_block;
        const float *xblock = x + first * n;
        if (!row_wise) memset(rows_of, 0, sizeof(uint64_t) * (size_t)n);
        __m512 loss = _mm512_setzero_ps();
        for (ptrdiff_t r = 0; r < block; ++r) {
            const int32_t *row_list = list + starts[first + r];
            const ptrdiff_t count = starts[first + r + 1] - starts[first + r];
            for (ptrdiff_t v0 = 0; v0 < vectors; v0 += 8) {
                const ptrdiff_t width = vectors - v0;
#define CK_ROW_HALF(W, H) loss = row_chunk(relu, W, H, row_wise, v0, n, np, scale, xblock + r * n, row_list, count, u, \
                                           padded_bias, padded_importance, g + r * np, s, bias_sums, loss)
#define CK_ROW(W) if (half && width <= 8) CK_ROW_HALF(W, 1); else CK_ROW_HALF(W, 0)
                CK_WIDTH_SWITCH(width, CK_ROW)
#undef CK_ROW
#undef CK_ROW_HALF
            }
            if (!row_wise)
                for (ptrdiff_t t = 0; t < count; ++t) rows_of[row_list[t]] |= 1ull << r;
        }
        total += (double)_mm512_reduce_add_ps(loss);
        for (ptrdiff_t v = 0; v < vectors && !row_wise; ++v) {
            __m512 sum = _mm512_loadu_ps(bias_sums + 16 * v);
            for (ptrdiff_t r = 0; r < block; ++r) sum = _mm512_add_ps(sum, _mm512_loadu_ps(g + r * np + 16 * v));
            _mm512_storeu_ps(bias_sums + 16 * v, sum);
        }
        for (ptrdiff_t v0 = 0; v0 < vectors && !row_wise; v0 += 8) {
            const ptrdiff_t width = vectors - v0;
#define CK_ADD(W) if (half && width <= 8) add_block_to_s(W, 1, v0, n, np, xblock, g, rows_of, s); \
                  else add_block_to_s(W, 0, v0, n, np, xblock, g, rows_of, s)
            CK_WIDTH_SWITCH(width, CK_ADD)
#undef CK_ADD
        }
    }
    for (ptrdiff_t i = 0; i < n; ++i) db[i] = bias_sums[i];

    /* s row j holds S[:, j]; make it S + Sᵀ in place, then dW = W (S + Sᵀ). */
    symmetrize(n, np, s);
    weight_gradient(m, n, np, w, s, dw);
    return total / (double)(rows * n);
}

/* ------------------------------------------------------------------------------------------ */
/* The fused dense path                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* Dense batches with 13 ≤ m ≤ 20 and 32 ≤ n ≤ 128 go through one pass over tiles of 16 rows that keeps
 * everything in L1 and the five products register-blocked:
 *
 *     xᵀ (transposed tile) → hᵀ = W xᵀ → preᵀ = Wᵀ hᵀ + b → gᵀ (the tail) → g → dhᵀ = W gᵀ
 *     dW += h-weighted g + dh-weighted x
 *
 * The products h, pre and dh run with rows in the 16 lanes and W broadcast from memory, so they
 * waste nothing on padding (pre keeps hᵀ in registers: with features in the lanes instead, each row
 * reloads all of W and is bound by loads); dW runs with features in the lanes. m is rounded up to 16
 * or 20 with zero rows of W, a constant after inlining, so the accumulators of a product stay in
 * registers. About three quarters of the time of the five packed products at 100→20 (205 against
 * 270 µs per batch of 1024 on Zen 4); no faster for m = 24 or n = 20, which keep the products. */

enum { fused_tile = fused_tile_rows };


/* Sixteen rows of 16 floats, transposed in registers (unpack pairs, then quads, then 128-bit lanes). */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    CK_UNROLL
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    CK_UNROLL
    for (int i = 0; i < 4; ++i) {
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    CK_UNROLL
    for (int c = 0; c < 4; ++c) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}

/* dst[i][r] = src[r][i] for the tile's `valid` rows (zero for the others and for i ≥ n): [np][16]. */
CK_TARGET_AVX512 static inline void transpose_tile(const float *src, ptrdiff_t stride, ptrdiff_t valid, ptrdiff_t n,
                                                   ptrdiff_t vectors, float *dst) {
    for (ptrdiff_t v = 0; v < vectors; ++v) {
        const __mmask16 inside = row_mask(v, n);
        __m512 r[16];
        CK_UNROLL
        for (int k = 0; k < 16; ++k)
            r[k] = k < valid ? _mm512_maskz_loadu_ps(inside, src + k * stride + 16 * v) : _mm512_setzero_ps();
        transpose16(r);
        CK_UNROLL
        for (int k = 0; k < 16; ++k) _mm512_storeu_ps(dst + (16 * v + k) * 16, r[k]);
    }
}

/* outᵀ[j] = Σ_{i<n} W[j, i] inᵀ[i] for j < MM: rows in the lanes, W broadcast. w: [MM][np]. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
times_w_transposed(const int MM, ptrdiff_t n, ptrdiff_t np, const float *w, const float *in, float *out) {
    __m512 acc[20];
    CK_UNROLL
    for (int j = 0; j < MM; ++j) acc[j] = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < n; ++i) {
        const __m512 column = _mm512_loadu_ps(in + i * 16);
        CK_UNROLL
        for (int j = 0; j < MM; ++j) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(w[j * np + i]), column, acc[j]);
    }
    CK_UNROLL
    for (int j = 0; j < MM; ++j) _mm512_storeu_ps(out + j * 16, acc[j]);
}

/* preᵀ = (h W)ᵀ + b for the tile, rows in the lanes: hᵀ stays in MM registers and W is broadcast, four
 * features at a time (four chains of FMAs in flight), for features [0, n rounded up to 4), zero past n
 * since W, bias and xᵀ are. Then the tail, gᵀ into gt ([np, 16]), and each lane's running sum of g into
 * lane_sums ([np, 16]); lanes past `valid` stay zero. Returns the loss accumulator. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) __m512
fused_pre_transposed(int relu, const int MM, ptrdiff_t valid, ptrdiff_t n, ptrdiff_t np, float scale, const float *xt,
                     const float *ht, const float *w, const float *bias, const float *importance, float *gt,
                     float *lane_sums, __m512 loss) {
    __m512 h[20];
    CK_UNROLL
    for (int j = 0; j < MM; ++j) h[j] = _mm512_loadu_ps(ht + 16 * j);
    const __mmask16 inside = valid >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid) - 1);
    const __m512 zero = _mm512_setzero_ps(), vscale = _mm512_set1_ps(scale);
    for (ptrdiff_t i0 = 0; i0 < n; i0 += 4) {
        __m512 acc[4];
        CK_UNROLL
        for (int q = 0; q < 4; ++q) acc[q] = _mm512_set1_ps(bias[i0 + q]);
        CK_UNROLL
        for (int j = 0; j < MM; ++j) {
            CK_UNROLL
            for (int q = 0; q < 4; ++q) acc[q] = _mm512_fmadd_ps(_mm512_set1_ps(w[j * np + i0 + q]), h[j], acc[q]);
        }
        CK_UNROLL
        for (int q = 0; q < 4; ++q) {
            const ptrdiff_t i = i0 + q;
            const __m512 out = relu ? _mm512_max_ps(acc[q], zero) : acc[q];
            const __m512 residual = _mm512_maskz_sub_ps(inside, out, _mm512_loadu_ps(xt + 16 * i));
            const __m512 weighted = _mm512_mul_ps(_mm512_set1_ps(importance[i]), residual);
            loss = _mm512_fmadd_ps(weighted, residual, loss);
            __m512 grad = _mm512_mul_ps(vscale, weighted);
            if (relu) grad = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc[q], zero, _CMP_GT_OQ), grad);
            _mm512_storeu_ps(gt + 16 * i, grad);
            _mm512_storeu_ps(lane_sums + 16 * i, _mm512_add_ps(_mm512_loadu_ps(lane_sums + 16 * i), grad));
        }
    }
    return loss;
}

/* g[r][i] = gᵀ[i][r] ([16, np] from [np, 16]), 16×16 blocks in registers. */
CK_TARGET_AVX512 static inline void untranspose_tile(const float *gt, ptrdiff_t np, ptrdiff_t vectors, float *g) {
    for (ptrdiff_t v = 0; v < vectors; ++v) {
        __m512 r[16];
        CK_UNROLL
        for (int k = 0; k < 16; ++k) r[k] = _mm512_loadu_ps(gt + (16 * v + k) * 16);
        transpose16(r);
        CK_UNROLL
        for (int k = 0; k < 16; ++k) _mm512_storeu_ps(g + k * np + 16 * v, r[k]);
    }
}

/* dW[j, :] += Σ_b h[b, j] g_b + dh[b, j] x_b over the tile, two rows of dW at a time in registers
 * (with `half`, the last of the V vectors holds at most 8 features and runs on 256 bits, which cost Zen 4
 * half the FMA throughput of 512 since its 512-bit unit is two 256-bit halves; its upper 8 lanes of dW stay zero). */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
fused_weight_gradient(const int MM, const int V, const int half, ptrdiff_t valid, ptrdiff_t n, ptrdiff_t np,
                      const float *x, const float *ht, const float *dht, const float *g, float *dw) {
    enum { JB = 2 };
    const int full = half ? V - 1 : V;
    const __mmask8 inside_last = half ? (__mmask8)row_mask(full, n) : 0; /* row_mask(V, n) would shift by a negative count */
    for (int j0 = 0; j0 < MM; j0 += JB) {
        __m512 acc[JB][8];
        __m256 last[JB];
        CK_UNROLL
        for (int jj = 0; jj < JB; ++jj) {
            CK_UNROLL
            for (int v = 0; v < full; ++v) acc[jj][v] = _mm512_loadu_ps(dw + (j0 + jj) * np + 16 * v);
            last[jj] = half ? _mm256_loadu_ps(dw + (j0 + jj) * np + 16 * full) : _mm256_setzero_ps();
        }
        for (ptrdiff_t b = 0; b < valid; ++b) {
            __m512 gb[8], xb[8];
            __m256 g_last = _mm256_setzero_ps(), x_last = _mm256_setzero_ps();
            CK_UNROLL
            for (int v = 0; v < full; ++v) {
                gb[v] = _mm512_loadu_ps(g + b * np + 16 * v);
                xb[v] = _mm512_maskz_loadu_ps(row_mask(v, n), x + b * n + 16 * v);
            }
            if (half) {
                g_last = _mm256_loadu_ps(g + b * np + 16 * full);
                x_last = _mm256_maskz_loadu_ps(inside_last, x + b * n + 16 * full);
            }
            CK_UNROLL
            for (int jj = 0; jj < JB; ++jj) {
                const __m512 h = _mm512_set1_ps(ht[(j0 + jj) * 16 + b]), dh = _mm512_set1_ps(dht[(j0 + jj) * 16 + b]);
                CK_UNROLL
                for (int v = 0; v < full; ++v)
                    acc[jj][v] = _mm512_fmadd_ps(dh, xb[v], _mm512_fmadd_ps(h, gb[v], acc[jj][v]));
                if (half)
                    last[jj] = _mm256_fmadd_ps(_mm512_castps512_ps256(dh), x_last,
                                               _mm256_fmadd_ps(_mm512_castps512_ps256(h), g_last, last[jj]));
            }
        }
        CK_UNROLL
        for (int jj = 0; jj < JB; ++jj) {
            CK_UNROLL
            for (int v = 0; v < full; ++v) _mm512_storeu_ps(dw + (j0 + jj) * np + 16 * v, acc[jj][v]);
            if (half) _mm256_storeu_ps(dw + (j0 + jj) * np + 16 * full, last[jj]);
        }
    }
}

CK_TARGET_AVX512 static inline __attribute__((always_inline)) double
fused_step_body(int relu, const int MM, const int V, const int half, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                const float *x, const float *w, const float *bias, const float *importance,
                float *dw, float *db, float *scratch) {
    const ptrdiff_t np = 16 * V;
    /* gᵀ's rows from n rounded up to 4 on are never written and must be zero when g is transposed back. */
    const fused_arrays arrays = fused_arrays_prepare(scratch, MM, m, n, np, w, bias, importance);
    float *wp = arrays.w, *dwp = arrays.dw, *xt = arrays.xt, *gt = arrays.gt, *lane_sums = arrays.lane_sums, *g = arrays.g;
    float *ht = arrays.ht, *dht = arrays.dht;
    const float scale = 2.0f / (float)(rows * n);
    double total = 0;
    for (ptrdiff_t first = 0; first < rows; first += fused_tile) {
        const ptrdiff_t valid = rows - first < fused_tile ? rows - first : fused_tile;
        const float *xtile = x + first * n;
        transpose_tile(xtile, n, valid, n, V, xt);
        times_w_transposed(MM, n, np, wp, xt, ht);                  /* hᵀ = W xᵀ */
        const __m512 loss = fused_pre_transposed(relu, MM, valid, n, np, scale, xt, ht, wp, arrays.bias, arrays.importance,
                                                 gt, lane_sums, _mm512_setzero_ps());
        total += (double)_mm512_reduce_add_ps(loss);
        untranspose_tile(gt, np, V, g);
        times_w_transposed(MM, n, np, wp, gt, dht);                 /* dhᵀ = W gᵀ */
        fused_weight_gradient(MM, V, half, valid, n, np, xtile, ht, dht, g, dwp);
    }
    fused_arrays_finish(&arrays, m, n, np, dw, db);
    return total / (double)(rows * n);
}

#define CK_FUSED(MM, V) return half ? fused_step_body(relu, MM, V, 1, rows, m, n, x, w, bias, importance, dw, db, scratch) \
                                   : fused_step_body(relu, MM, V, 0, rows, m, n, x, w, bias, importance, dw, db, scratch)
#define CK_FUSED_V(MM) \
    switch (vectors) { \
    case 1: CK_FUSED(MM, 1); case 2: CK_FUSED(MM, 2); case 3: CK_FUSED(MM, 3); case 4: CK_FUSED(MM, 4); \
    case 5: CK_FUSED(MM, 5); case 6: CK_FUSED(MM, 6); case 7: CK_FUSED(MM, 7); default: CK_FUSED(MM, 8); }

/* The fused dense step where `fused_applies`. */
CK_TARGET_AVX512
double ck_toy_fused_step_avx512(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                                const float *x, const float *w, const float *bias, const float *importance,
                                float *dw, float *db, float *scratch) {
    const ptrdiff_t vectors = padded16(n) / 16;
    const int half = n % 16 != 0 && n % 16 <= 8;
    if (m <= 16) { CK_FUSED_V(16) }
    CK_FUSED_V(20)
}
#undef CK_FUSED_V
#undef CK_FUSED


/* The two ways of adding S, each compiled on its own (row_wise a constant). */
CK_TARGET_AVX512
static double sparse_step_row_wise(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x, const float *w,
                                   const float *bias, const float *importance, float *dw, float *db, float *scratch,
                                   const int32_t *list, const int32_t *starts) {
    return sparse_step_avx512(relu, 1, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts);
}

CK_TARGET_AVX512
static double sparse_step_blocked(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x, const float *w,
                                  const float *bias, const float *importance, float *dw, float *db, float *scratch,
                                  const int32_t *list, const int32_t *starts) {
    return sparse_step_avx512(relu, 0, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts);
}

double ck_toy_sparse_step_avx512(int relu, int row_wise, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x,
                                 const float *w, const float *bias, const float *importance, float *dw, float *db,
                                 float *scratch, const int32_t *list, const int32_t *starts) {
    return row_wise ? sparse_step_row_wise(relu, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts)
                    : sparse_step_blocked(relu, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts);
}
#endif

