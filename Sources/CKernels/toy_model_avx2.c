/*
 * toy_model_avx2.c - the sparse path of the toy-model step through U = WᵀW (the method:
 * toy_model_avx512.c) on 8-lane AVX2 vectors, for CPUs without AVX-512 (Zen 3 among them).
 *
 * Rows of U, S, g and padded W hold np = n rounded up to 8 floats. A row is handled in chunks of at
 * most 8 vectors (64 features), so that its accumulators take 8 of the 16 registers. Without a
 * compress instruction, rows are compacted through a table of permutations.
 */

#include "cpu_dispatch.h"
#include "toy_model_paths.h"

#if CK_HAS_DISPATCH

static inline ptrdiff_t padded8(ptrdiff_t n) { return (n + 7) / 8 * 8; }

/* compress_indices[mask]: the lanes set in an 8-bit mask, in order (then zeros): the permutation
 * that packs a vector's selected lanes to its front. Filled when the library loads. */
static uint8_t compress_indices[256][8];

__attribute__((constructor)) static void fill_compress_indices(void) {
    for (int mask = 0; mask < 256; ++mask) {
        int count = 0;
        for (int lane = 0; lane < 8; ++lane)
            if (mask & (1 << lane)) compress_indices[mask][count++] = (uint8_t)lane;
    }
}

/* Branch-free: each vector's nonzero indices are packed by a permutation from compress_indices and
 * stored whole (list has 16 entries of slack), and the count advances by the popcount. Walking the
 * mask bit by bit instead cost half the sparse step at 100→20 with p = 0.05 (mispredicted branches). */
CK_TARGET_AVX2 ptrdiff_t ck_toy_compact_rows_avx2(ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t limit,
                                                  int32_t *list, int32_t *starts) {
    const ptrdiff_t vectors = padded8(n) / 8;
    const __m256 zero = _mm256_setzero_ps();
    const __m256i eight = _mm256_set1_epi32(8), first = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i tail = ck_lane_mask(n - 8 * (vectors - 1));
    ptrdiff_t count = 0;
    for (ptrdiff_t b = 0; b < rows; ++b) {
        starts[b] = (int32_t)count;
        const float *xb = x + b * n;
        __m256i indices = first;
        for (ptrdiff_t v = 0; v < vectors; ++v) {
            const __m256 values = v + 1 < vectors ? _mm256_loadu_ps(xb + 8 * v) : _mm256_maskload_ps(xb + 8 * v, tail);
            const unsigned present = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(values, zero, _CMP_NEQ_UQ));
            const __m256i order = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)compress_indices[present]));
            _mm256_storeu_si256((__m256i *)(void *)(list + count), _mm256_permutevar8x32_epi32(indices, order));
            count += __builtin_popcount(present);
            indices = _mm256_add_epi32(indices, eight);
        }
        if (count > limit || (b == 63 && rows > 64 && (double)count > 1.25 * (double)limit * 64 / (double)rows)) return -1;
    }
    starts[rows] = (int32_t)count;
    return count;
}

/* Forward, loss and g of one row for the vectors [v0, v0 + width), as row_chunk of the AVX-512 path:
 * writes g into `g` ([np]), or when `row_wise` adds it into the bias sums and x_bj g_b into the k rows
 * of S the row touches while g_b is in registers. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) __m256
row_chunk(int relu, const int width, const int row_wise, ptrdiff_t v0, ptrdiff_t n, ptrdiff_t np, float scale,
          const float *xb, const int32_t *list, ptrdiff_t count, const float *u,
          const float *bias, const float *importance, float *g, float *s, float *bias_sums, __m256 loss) {
    __m256 acc[8];
    CK_UNROLL
    for (int v = 0; v < width; ++v) acc[v] = _mm256_loadu_ps(bias + 8 * (v0 + v));
    for (ptrdiff_t t = 0; t < count; ++t) {
        const __m256 value = _mm256_broadcast_ss(xb + list[t]);
        const float *row = u + (ptrdiff_t)list[t] * np + 8 * v0;
        CK_UNROLL
        for (int v = 0; v < width; ++v) acc[v] = _mm256_fmadd_ps(value, _mm256_loadu_ps(row + 8 * v), acc[v]);
    }
    const __m256 zero = _mm256_setzero_ps(), vscale = _mm256_set1_ps(scale);
    CK_UNROLL
    for (int v = 0; v < width; ++v) {
        const ptrdiff_t at = 8 * (v0 + v);
        const __m256 target = _mm256_maskload_ps(xb + at, ck_lane_mask(n - at));
        const __m256 out = relu ? _mm256_max_ps(acc[v], zero) : acc[v];
        const __m256 residual = _mm256_sub_ps(out, target);
        const __m256 weighted = _mm256_mul_ps(_mm256_loadu_ps(importance + at), residual);
        loss = _mm256_fmadd_ps(weighted, residual, loss);
        __m256 grad = _mm256_mul_ps(vscale, weighted);
        if (relu) grad = _mm256_and_ps(grad, _mm256_cmp_ps(acc[v], zero, _CMP_GT_OQ));
        if (row_wise) _mm256_storeu_ps(bias_sums + at, _mm256_add_ps(_mm256_loadu_ps(bias_sums + at), grad));
        else _mm256_storeu_ps(g + at, grad);
        acc[v] = grad;
    }
    if (row_wise) {
        for (ptrdiff_t t = 0; t < count; ++t) {
            const __m256 value = _mm256_broadcast_ss(xb + list[t]);
            float *row = s + (ptrdiff_t)list[t] * np + 8 * v0;
            CK_UNROLL
            for (int v = 0; v < width; ++v)
                _mm256_storeu_ps(row + 8 * v, _mm256_fmadd_ps(value, acc[v], _mm256_loadu_ps(row + 8 * v)));
        }
    }
    return loss;
}

/* S[:, j] += Σ_b x_bj g_b over the block's rows b with x_bj ≠ 0 (bit b of rows_of[j]), for the
 * vectors [v0, v0 + width), S's row j in registers (as add_block_to_s of the AVX-512 path). */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void
add_block_to_s(const int width, ptrdiff_t v0, ptrdiff_t n, ptrdiff_t np, const float *x, const float *g,
               const uint64_t *rows_of, float *s) {
    for (ptrdiff_t j = 0; j < n; ++j) {
        uint64_t rows = rows_of[j];
        if (rows == 0) continue;
        float *srow = s + j * np + 8 * v0;
        __m256 acc[8];
        CK_UNROLL
        for (int v = 0; v < width; ++v) acc[v] = _mm256_loadu_ps(srow + 8 * v);
        do {
            const ptrdiff_t b = __builtin_ctzll(rows);
            rows &= rows - 1;
            const __m256 value = _mm256_broadcast_ss(x + b * n + j);
            const float *gb = g + b * np + 8 * v0;
            CK_UNROLL
            for (int v = 0; v < width; ++v) acc[v] = _mm256_fmadd_ps(value, _mm256_loadu_ps(gb + 8 * v), acc[v]);
        } while (rows);
        CK_UNROLL
        for (int v = 0; v < width; ++v) _mm256_storeu_ps(srow + 8 * v, acc[v]);
    }
}

/* U's row i over the vectors [v0, v0 + width): Σ_j W[j, i] W[j, :], from W padded to np (`wp`). */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void
gram_chunk(const int width, ptrdiff_t v0, ptrdiff_t i, ptrdiff_t m, ptrdiff_t np, const float *wp, float *u) {
    __m256 acc[8];
    CK_UNROLL
    for (int v = 0; v < width; ++v) acc[v] = _mm256_setzero_ps();
    for (ptrdiff_t j = 0; j < m; ++j) {
        const __m256 wji = _mm256_broadcast_ss(wp + j * np + i);
        CK_UNROLL
        for (int v = 0; v < width; ++v) acc[v] = _mm256_fmadd_ps(wji, _mm256_loadu_ps(wp + j * np + 8 * (v0 + v)), acc[v]);
    }
    CK_UNROLL
    for (int v = 0; v < width; ++v) _mm256_storeu_ps(u + i * np + 8 * (v0 + v), acc[v]);
}

/* Row k of the 8×8 block at (8·I, 8·J) of an [n, np] matrix, zero for rows past n. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) __m256
block_row(const float *a, ptrdiff_t n, ptrdiff_t np, ptrdiff_t I, ptrdiff_t J, int k) {
    return 8 * I + k < n ? _mm256_loadu_ps(a + (8 * I + k) * np + 8 * J) : _mm256_setzero_ps();
}

/* U = WᵀW ([n, np], zero beyond column n since wp is): only the 8×8 blocks on and above the
 * diagonal are multiplied, the others are their transposes. */
CK_TARGET_AVX2 static void gram(ptrdiff_t m, ptrdiff_t n, ptrdiff_t np, const float *wp, float *u) {
    const ptrdiff_t vectors = np / 8;
    for (ptrdiff_t i = 0; i < n; ++i)
        for (ptrdiff_t v0 = i / 8; v0 < vectors; v0 += 8) {
            const ptrdiff_t width = vectors - v0;
#define CK_GRAM(W) gram_chunk(W, v0, i, m, np, wp, u)
            CK_WIDTH_SWITCH(width, CK_GRAM)
#undef CK_GRAM
        }
    for (ptrdiff_t I = 0; I < vectors; ++I)
        for (ptrdiff_t J = I + 1; J < vectors; ++J) {
            __m256 r[8];
            for (int k = 0; k < 8; ++k) r[k] = block_row(u, n, np, I, J, k);
            ck_transpose8(r);
            for (int k = 0; k < 8 && 8 * J + k < n; ++k) _mm256_storeu_ps(u + (8 * J + k) * np + 8 * I, r[k]);
        }
}

/* s ← s + sᵀ in place ([n, np]; rows beyond n count as zero), by pairs of 8×8 blocks. */
CK_TARGET_AVX2 static void symmetrize(ptrdiff_t n, ptrdiff_t np, float *s) {
    const ptrdiff_t vectors = np / 8;
    for (ptrdiff_t I = 0; I < vectors; ++I)
        for (ptrdiff_t J = I; J < vectors; ++J) {
            __m256 upper[8], lower[8];
            for (int k = 0; k < 8; ++k) {
                upper[k] = block_row(s, n, np, I, J, k);
                lower[k] = block_row(s, n, np, J, I, k);
            }
            ck_transpose8(upper);
            for (int k = 0; k < 8; ++k) lower[k] = _mm256_add_ps(lower[k], upper[k]);
            for (int k = 0; k < 8 && 8 * J + k < n; ++k) _mm256_storeu_ps(s + (8 * J + k) * np + 8 * I, lower[k]);
            if (I == J) continue;
            ck_transpose8(lower);
            for (int k = 0; k < 8 && 8 * I + k < n; ++k) _mm256_storeu_ps(s + (8 * I + k) * np + 8 * J, lower[k]);
        }
}

/* dW's row j over the vectors [v0, v0 + width): Σ_i W[j, i] A[i, :] with A: [n, np]. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void
weight_gradient_chunk(const int width, ptrdiff_t j, ptrdiff_t v0, ptrdiff_t n, ptrdiff_t np, const float *w,
                      const float *a, float *dw) {
    __m256 acc[8];
    CK_UNROLL
    for (int v = 0; v < width; ++v) acc[v] = _mm256_setzero_ps();
    for (ptrdiff_t i = 0; i < n; ++i) {
        const __m256 wji = _mm256_broadcast_ss(w + j * n + i);
        CK_UNROLL
        for (int v = 0; v < width; ++v) acc[v] = _mm256_fmadd_ps(wji, _mm256_loadu_ps(a + i * np + 8 * (v0 + v)), acc[v]);
    }
    CK_UNROLL
    for (int v = 0; v < width; ++v) {
        const ptrdiff_t at = 8 * (v0 + v);
        _mm256_maskstore_ps(dw + j * n + at, ck_lane_mask(n - at), acc[v]);
    }
}

/* dW = W A ([m, n]) for A: [n, np]. */
CK_TARGET_AVX2 static void weight_gradient(ptrdiff_t m, ptrdiff_t n, ptrdiff_t np, const float *w, const float *a, float *dw) {
    const ptrdiff_t vectors = np / 8;
    for (ptrdiff_t j = 0; j < m; ++j)
        for (ptrdiff_t v0 = 0; v0 < vectors; v0 += 8) {
            const ptrdiff_t width = vectors - v0;
#define CK_ROW(W) weight_gradient_chunk(W, j, v0, n, np, w, a, dw)
            CK_WIDTH_SWITCH(width, CK_ROW)
#undef CK_ROW
        }
}

CK_TARGET_AVX2 static inline __attribute__((always_inline)) double
sparse_step(int relu, const int row_wise, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x, const float *w,
            const float *bias, const float *importance, float *dw, float *db, float *scratch,
            const int32_t *list, const int32_t *starts) {
    const ptrdiff_t np = padded8(n), vectors = np / 8;
    const sparse_arrays arrays = sparse_arrays_prepare(scratch, m, n, np, w, bias, importance);
    float *s = arrays.s, *g = arrays.g, *bias_sums = arrays.bias_sums;
    uint64_t *rows_of = arrays.rows_of;
    gram(m, n, np, arrays.w, arrays.u);                              /* U = WᵀW */

    const float scale = 2.0f / (float)(rows * n);
    double total = 0;
    for (ptrdiff_t first = 0; first < rows; first += sparse_block) {
        const ptrdiff_t block = rows - first < sparse_block ? rows - first : sparse_block;
        const float *xblock = x + first * n;
        if (!row_wise) memset(rows_of, 0, sizeof(uint64_t) * (size_t)n);
        __m256 loss = _mm256_setzero_ps();
        for (ptrdiff_t r = 0; r < block; ++r) {
            const int32_t *row_list = list + starts[first + r];
            const ptrdiff_t count = starts[first + r + 1] - starts[first + r];
            for (ptrdiff_t v0 = 0; v0 < vectors; v0 += 8) {
                const ptrdiff_t width = vectors - v0;
#define CK_ROW(W) loss = row_chunk(relu, W, row_wise, v0, n, np, scale, xblock + r * n, row_list, count, arrays.u, \
                                   arrays.bias, arrays.importance, g + r * np, s, bias_sums, loss)
                CK_WIDTH_SWITCH(width, CK_ROW)
#undef CK_ROW
            }
            if (!row_wise)
                for (ptrdiff_t t = 0; t < count; ++t) rows_of[row_list[t]] |= 1ull << r;
        }
        total += (double)ck_sum_of_lanes(loss);
        for (ptrdiff_t v = 0; v < vectors && !row_wise; ++v) {
            __m256 sum = _mm256_loadu_ps(bias_sums + 8 * v);
            for (ptrdiff_t r = 0; r < block; ++r) sum = _mm256_add_ps(sum, _mm256_loadu_ps(g + r * np + 8 * v));
            _mm256_storeu_ps(bias_sums + 8 * v, sum);
        }
        for (ptrdiff_t v0 = 0; v0 < vectors && !row_wise; v0 += 8) {
            const ptrdiff_t width = vectors - v0;
#define CK_ADD(W) add_block_to_s(W, v0, n, np, xblock, g, rows_of, s)
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

/* The two ways of adding S, each compiled on its own (row_wise a constant). */
CK_TARGET_AVX2 static double sparse_step_row_wise(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x,
                                                  const float *w, const float *bias, const float *importance, float *dw,
                                                  float *db, float *scratch, const int32_t *list, const int32_t *starts) {
    return sparse_step(relu, 1, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts);
}

CK_TARGET_AVX2 static double sparse_step_blocked(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x,
                                                 const float *w, const float *bias, const float *importance, float *dw,
                                                 float *db, float *scratch, const int32_t *list, const int32_t *starts) {
    return sparse_step(relu, 0, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts);
}

double ck_toy_sparse_step_avx2(int relu, int row_wise, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x,
                               const float *w, const float *bias, const float *importance, float *dw, float *db,
                               float *scratch, const int32_t *list, const int32_t *starts) {
    return row_wise ? sparse_step_row_wise(relu, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts)
                    : sparse_step_blocked(relu, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts);
}

/* ------------------------------------------------------------------------------------------ */
/* The fused dense pass                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* The AVX-512 pass's method (toy_model_avx512.c) on tiles of 16 rows held as two 8-lane vectors per
 * feature or hidden unit, so that each broadcast of a weight (AVX2 has no broadcast operand) serves
 * two FMAs. With 16 registers instead of 32, hᵀ is read from L1 rather than held in registers, the
 * products over W run in four groups of m/4 rows of W, and dW in chunks of at most 4 vectors for two
 * of its rows at a time (8 chains of FMAs in flight). */

enum { fused_chunk = 4 };

/* dst[i][r] = src[r][i] for the tile's `valid` rows (zero for the others and for i ≥ n): [np][16]. */
CK_TARGET_AVX2 static inline void transpose_tile(const float *src, ptrdiff_t valid, ptrdiff_t n, ptrdiff_t vectors,
                                                 float *dst) {
    for (ptrdiff_t v = 0; v < vectors; ++v) {
        const __m256i inside = ck_lane_mask(n - 8 * v);
        for (int half = 0; half < 2; ++half) {
            __m256 r[8];
            CK_UNROLL
            for (int k = 0; k < 8; ++k)
                r[k] = 8 * half + k < valid ? _mm256_maskload_ps(src + (8 * half + k) * n + 8 * v, inside) : _mm256_setzero_ps();
            ck_transpose8(r);
            CK_UNROLL
            for (int k = 0; k < 8; ++k) _mm256_storeu_ps(dst + (8 * v + k) * 16 + 8 * half, r[k]);
        }
    }
}

/* outᵀ[j] = Σ_{i<n} W[j, i] inᵀ[i] for j < MM: rows in the lanes, W broadcast, G rows of W at a time
 * (the last group may be smaller; G at most 6, so that 2 G accumulators and the two input vectors fit
 * the registers). MM and G are constants, so every group's size is too. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void
times_w_transposed(const int MM, const int G, ptrdiff_t n, ptrdiff_t np, const float *w, const float *in, float *out) {
    CK_UNROLL
    for (int j0 = 0; j0 < MM; j0 += G) {
        const int group = MM - j0 < G ? MM - j0 : G;
        __m256 acc[6][2];
        CK_UNROLL
        for (int j = 0; j < group; ++j) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
        for (ptrdiff_t i = 0; i < n; ++i) {
            const __m256 low = _mm256_loadu_ps(in + i * 16), high = _mm256_loadu_ps(in + i * 16 + 8);
            CK_UNROLL
            for (int j = 0; j < group; ++j) {
                const __m256 wji = _mm256_broadcast_ss(w + (j0 + j) * np + i);
                acc[j][0] = _mm256_fmadd_ps(wji, low, acc[j][0]);
                acc[j][1] = _mm256_fmadd_ps(wji, high, acc[j][1]);
            }
        }
        CK_UNROLL
        for (int j = 0; j < group; ++j) {
            _mm256_storeu_ps(out + (j0 + j) * 16, acc[j][0]);
            _mm256_storeu_ps(out + (j0 + j) * 16 + 8, acc[j][1]);
        }
    }
}

/* preᵀ = (h W)ᵀ + b for the tile, four features at a time over [0, np) (zero past n, since W, bias,
 * importance and xᵀ are), then the tail: gᵀ into gt ([np, 16]) and each lane's running sum of g into
 * lane_sums ([np, 16]); lanes past `valid` give zero. Returns the loss accumulator. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) __m256
fused_pre_transposed(int relu, const int MM, ptrdiff_t valid, ptrdiff_t np, float scale, const float *xt, const float *ht,
                     const float *w, const float *bias, const float *importance, float *gt, float *lane_sums, __m256 loss) {
    const __m256 inside[2] = {_mm256_castsi256_ps(ck_lane_mask(valid)), _mm256_castsi256_ps(ck_lane_mask(valid - 8))};
    const __m256 zero = _mm256_setzero_ps(), vscale = _mm256_set1_ps(scale);
    for (ptrdiff_t i0 = 0; i0 < np; i0 += 4) {
        __m256 acc[4][2];
        CK_UNROLL
        for (int q = 0; q < 4; ++q) acc[q][0] = acc[q][1] = _mm256_broadcast_ss(bias + i0 + q);
        /* Not unrolled: unrolled, clang hoists all the broadcasts of W and spills them to the stack. */
        _Pragma("clang loop unroll(disable)")
        for (int j = 0; j < MM; ++j) {
            const __m256 low = _mm256_loadu_ps(ht + 16 * j), high = _mm256_loadu_ps(ht + 16 * j + 8);
            CK_UNROLL
            for (int q = 0; q < 4; ++q) {
                const __m256 wji = _mm256_broadcast_ss(w + j * np + i0 + q);
                acc[q][0] = _mm256_fmadd_ps(wji, low, acc[q][0]);
                acc[q][1] = _mm256_fmadd_ps(wji, high, acc[q][1]);
            }
        }
        CK_UNROLL
        for (int q = 0; q < 4; ++q) {
            const ptrdiff_t i = i0 + q;
            const __m256 weight = _mm256_broadcast_ss(importance + i);
            CK_UNROLL
            for (int half = 0; half < 2; ++half) {
                const ptrdiff_t at = 16 * i + 8 * half;
                const __m256 out = relu ? _mm256_max_ps(acc[q][half], zero) : acc[q][half];
                const __m256 residual = _mm256_and_ps(inside[half], _mm256_sub_ps(out, _mm256_loadu_ps(xt + at)));
                const __m256 weighted = _mm256_mul_ps(weight, residual);
                loss = _mm256_fmadd_ps(weighted, residual, loss);
                __m256 grad = _mm256_mul_ps(vscale, weighted);
                if (relu) grad = _mm256_and_ps(grad, _mm256_cmp_ps(acc[q][half], zero, _CMP_GT_OQ));
                _mm256_storeu_ps(gt + at, grad);
                _mm256_storeu_ps(lane_sums + at, _mm256_add_ps(_mm256_loadu_ps(lane_sums + at), grad));
            }
        }
    }
    return loss;
}

/* g[r][i] = gᵀ[i][r] ([16, np] from [np, 16]). */
CK_TARGET_AVX2 static inline void untranspose_tile(const float *gt, ptrdiff_t np, ptrdiff_t vectors, float *g) {
    for (ptrdiff_t v = 0; v < vectors; ++v)
        for (int half = 0; half < 2; ++half) {
            __m256 r[8];
            CK_UNROLL
            for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(gt + (8 * v + k) * 16 + 8 * half);
            ck_transpose8(r);
            CK_UNROLL
            for (int k = 0; k < 8; ++k) _mm256_storeu_ps(g + (8 * half + k) * np + 8 * v, r[k]);
        }
}

/* dW[j, :] += Σ_b h[b, j] g_b + dh[b, j] x_b over the tile for rows j0, j0 + 1 of dW and the vectors
 * [v0, v0 + width) (width ≤ fused_chunk, a constant), in registers. x's rows are not padded: their last
 * vector is read masked. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void
weight_gradient_pair(const int width, ptrdiff_t j0, ptrdiff_t v0, ptrdiff_t valid, ptrdiff_t n, ptrdiff_t np,
                     const float *x, const float *ht, const float *dht, const float *g, float *dw) {
    __m256 acc[2][fused_chunk];
    __m256i inside[fused_chunk];
    CK_UNROLL
    for (int v = 0; v < width; ++v) {
        inside[v] = ck_lane_mask(n - 8 * (v0 + v));
        acc[0][v] = _mm256_loadu_ps(dw + j0 * np + 8 * (v0 + v));
        acc[1][v] = _mm256_loadu_ps(dw + (j0 + 1) * np + 8 * (v0 + v));
    }
    for (ptrdiff_t b = 0; b < valid; ++b) {
        const __m256 h0 = _mm256_broadcast_ss(ht + j0 * fused_tile_rows + b), dh0 = _mm256_broadcast_ss(dht + j0 * fused_tile_rows + b);
        const __m256 h1 = _mm256_broadcast_ss(ht + (j0 + 1) * fused_tile_rows + b);
        const __m256 dh1 = _mm256_broadcast_ss(dht + (j0 + 1) * fused_tile_rows + b);
        CK_UNROLL
        for (int v = 0; v < width; ++v) {
            const __m256 gv = _mm256_loadu_ps(g + b * np + 8 * (v0 + v));
            const __m256 xv = _mm256_maskload_ps(x + b * n + 8 * (v0 + v), inside[v]);
            acc[0][v] = _mm256_fmadd_ps(dh0, xv, _mm256_fmadd_ps(h0, gv, acc[0][v]));
            acc[1][v] = _mm256_fmadd_ps(dh1, xv, _mm256_fmadd_ps(h1, gv, acc[1][v]));
        }
    }
    CK_UNROLL
    for (int v = 0; v < width; ++v) {
        _mm256_storeu_ps(dw + j0 * np + 8 * (v0 + v), acc[0][v]);
        _mm256_storeu_ps(dw + (j0 + 1) * np + 8 * (v0 + v), acc[1][v]);
    }
}

CK_TARGET_AVX2 static inline __attribute__((always_inline)) double
fused_step_body(int relu, const int MM, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x, const float *w,
                const float *bias, const float *importance, float *dw, float *db, float *scratch) {
    const ptrdiff_t np = padded8(n), vectors = np / 8;
    const fused_arrays arrays = fused_arrays_prepare(scratch, MM, m, n, np, w, bias, importance);
    float *wp = arrays.w, *dwp = arrays.dw, *xt = arrays.xt, *gt = arrays.gt, *lane_sums = arrays.lane_sums, *g = arrays.g;
    float *ht = arrays.ht, *dht = arrays.dht;
    const float scale = 2.0f / (float)(rows * n);
    double total = 0;
    for (ptrdiff_t first = 0; first < rows; first += fused_tile_rows) {
        const ptrdiff_t valid = rows - first < fused_tile_rows ? rows - first : fused_tile_rows;
        const float *xtile = x + first * n;
        transpose_tile(xtile, valid, n, vectors, xt);
        times_w_transposed(MM, MM / 4, n, np, wp, xt, ht);         /* hᵀ = W xᵀ */
        const __m256 loss = fused_pre_transposed(relu, MM, valid, np, scale, xt, ht, wp, arrays.bias, arrays.importance,
                                                 gt, lane_sums, _mm256_setzero_ps());
        total += (double)ck_sum_of_lanes(loss);
        untranspose_tile(gt, np, vectors, g);
        times_w_transposed(MM, MM / 4, n, np, wp, gt, dht);        /* dhᵀ = W gᵀ */
        /* dW in chunks of at most fused_chunk vectors, as even as they come. */
        const ptrdiff_t chunks = (vectors + fused_chunk - 1) / fused_chunk;
        for (ptrdiff_t c = 0, v0 = 0; c < chunks; ++c) {
            const ptrdiff_t width = (vectors - v0) / (chunks - c) + ((vectors - v0) % (chunks - c) != 0);
            for (ptrdiff_t j0 = 0; j0 < MM; j0 += 2) {
                switch (width) {
                case 1: weight_gradient_pair(1, j0, v0, valid, n, np, xtile, ht, dht, g, dwp); break;
                case 2: weight_gradient_pair(2, j0, v0, valid, n, np, xtile, ht, dht, g, dwp); break;
                case 3: weight_gradient_pair(3, j0, v0, valid, n, np, xtile, ht, dht, g, dwp); break;
                default: weight_gradient_pair(4, j0, v0, valid, n, np, xtile, ht, dht, g, dwp); break;
                }
            }
            v0 += width;
        }
    }
    fused_arrays_finish(&arrays, m, n, np, dw, db);
    return total / (double)(rows * n);
}

/* Small models (m ≤ 8, n ≤ 64: T1's 5→2 and T2's 20→5), where the five packed products run at a fifth
 * to a third of the FMA peak: the same pass with W at its own m rows (a constant, so nothing is padded),
 * the products over W in one group (two for m > 6), and dW kept per lane in L1, lane_dw[j][i] += hᵀ[j] ⊙
 * gᵀ[i] + dhᵀ[j] ⊙ xᵀ[i] for the tile's rows, summed over the lanes at the end, so that g is never
 * transposed back. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) double
small_step_body(int relu, const int MM, ptrdiff_t rows, ptrdiff_t n, const float *x, const float *w,
                const float *bias, const float *importance, float *dw, float *db, float *scratch) {
    const ptrdiff_t np = padded8(n), vectors = np / 8;
    const fused_arrays arrays = fused_arrays_prepare(scratch, MM, MM, n, np, w, bias, importance);
    float *lane_dw = ck_toy_small_lane_weights(&arrays, np);    /* [MM, np, 16] */
    memset(lane_dw, 0, sizeof(float) * (size_t)(MM * np * fused_tile_rows));
    const float scale = 2.0f / (float)(rows * n);
    double total = 0;
    for (ptrdiff_t first = 0; first < rows; first += fused_tile_rows) {
        const ptrdiff_t valid = rows - first < fused_tile_rows ? rows - first : fused_tile_rows;
        transpose_tile(x + first * n, valid, n, vectors, arrays.xt);
        times_w_transposed(MM, MM <= 6 ? MM : 4, n, np, arrays.w, arrays.xt, arrays.ht);          /* hᵀ = W xᵀ */
        const __m256 loss = fused_pre_transposed(relu, MM, valid, np, scale, arrays.xt, arrays.ht, arrays.w, arrays.bias,
                                                 arrays.importance, arrays.gt, arrays.lane_sums, _mm256_setzero_ps());
        total += (double)ck_sum_of_lanes(loss);
        times_w_transposed(MM, MM <= 6 ? MM : 4, n, np, arrays.w, arrays.gt, arrays.dht);         /* dhᵀ = W gᵀ */
        CK_UNROLL
        for (int j = 0; j < MM; ++j) {
            const __m256 h0 = _mm256_loadu_ps(arrays.ht + 16 * j), h1 = _mm256_loadu_ps(arrays.ht + 16 * j + 8);
            const __m256 dh0 = _mm256_loadu_ps(arrays.dht + 16 * j), dh1 = _mm256_loadu_ps(arrays.dht + 16 * j + 8);
            float *row = lane_dw + j * np * fused_tile_rows;
            for (ptrdiff_t i = 0; i < n; ++i) {
                const float *gi = arrays.gt + 16 * i, *xi = arrays.xt + 16 * i;
                float *acc = row + 16 * i;
                _mm256_storeu_ps(acc, _mm256_fmadd_ps(dh0, _mm256_loadu_ps(xi),
                                                      _mm256_fmadd_ps(h0, _mm256_loadu_ps(gi), _mm256_loadu_ps(acc))));
                _mm256_storeu_ps(acc + 8, _mm256_fmadd_ps(dh1, _mm256_loadu_ps(xi + 8),
                                                          _mm256_fmadd_ps(h1, _mm256_loadu_ps(gi + 8), _mm256_loadu_ps(acc + 8))));
            }
        }
    }
    for (ptrdiff_t j = 0; j < MM; ++j)
        for (ptrdiff_t i = 0; i < n; ++i) {
            const float *lanes = lane_dw + (j * np + i) * fused_tile_rows;
            float sum = 0;
            for (int lane = 0; lane < fused_tile_rows; ++lane) sum += lanes[lane];
            arrays.dw[j * np + i] = sum;
        }
    fused_arrays_finish(&arrays, MM, n, np, dw, db);
    return total / (double)(rows * n);
}

CK_TARGET_AVX2 static double small_step(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x, const float *w,
                                        const float *bias, const float *importance, float *dw, float *db, float *scratch) {
#define CK_SMALL(MM) return small_step_body(relu, MM, rows, n, x, w, bias, importance, dw, db, scratch)
    switch (m) {
    case 1: CK_SMALL(1); case 2: CK_SMALL(2); case 3: CK_SMALL(3); case 4: CK_SMALL(4);
    case 5: CK_SMALL(5); case 6: CK_SMALL(6); case 7: CK_SMALL(7); default: CK_SMALL(8);
    }
#undef CK_SMALL
}

CK_TARGET_AVX2 double ck_toy_fused_step_avx2(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, const float *x,
                                             const float *w, const float *bias, const float *importance, float *dw,
                                             float *db, float *scratch) {
    if (m <= 8) return small_step(relu, rows, m, n, x, w, bias, importance, dw, db, scratch);
    return m <= 16 ? fused_step_body(relu, 16, rows, m, n, x, w, bias, importance, dw, db, scratch)
                   : fused_step_body(relu, 20, rows, m, n, x, w, bias, importance, dw, db, scratch);
}
#endif
