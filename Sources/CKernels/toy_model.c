/*
 * toy_model.c - the hot path of Toy Models training: feature sampling and the fused step.
 *
 * Both hot loops come twice: an AVX2/FMA version written with intrinsics, chosen at run time,
 * and a portable version for other CPUs. The sampler steps eight random streams in lock-step; the
 * elementwise pass walks blocks of eight rows whose per-feature constants are tiled eight times,
 * so a block is one contiguous run regardless of n.
 */

#include "ck_toy_model.h"
#include "CKernels.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CK_HAS_DISPATCH 1
#else
#define CK_TARGET_AVX2
#define CK_HAS_DISPATCH 0
#endif

static int use_avx2(void) {
#if CK_HAS_DISPATCH
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* Feature sampling                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* Both versions consume draws in the same order (lane l of group g decides entry 8g + l of a
 * block of eight rows) and compute values with the same operations, so they give the same x. */

static void sample_portable(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                            float low, float scale, const float *table, ptrdiff_t table_count, float *x) {
    const ptrdiff_t block = 8 * n; /* eight rows: a whole number of 8-lane draws */
    ck_rng streams[8];
    for (int l = 0; l < 8; ++l) {
        streams[l].s[0] = lanes->s0[l]; streams[l].s[1] = lanes->s1[l];
        streams[l].s[2] = lanes->s2[l]; streams[l].s[3] = lanes->s3[l];
    }
    for (ptrdiff_t row = 0; row < rows; row += 8) {
        const ptrdiff_t count = (rows - row >= 8 ? 8 : rows - row) * n;
        float *out = x + row * n;
        for (ptrdiff_t e = 0; e < block; ++e) {
            const uint64_t r = ck_rng_next(&streams[e & 7]);
            if (e >= count) continue; /* the partial last block still consumes its draws */
            const uint32_t bits = (uint32_t)(r & 0xFFFFFF);
            const float v = table_count > 0 ? table[(ptrdiff_t)bits * table_count >> 24]
                                            : low + scale * ((float)(int32_t)bits * 0x1p-24f);
            out[e] = (r >> 32) < threshold[e % n] ? v : 0.0f;
        }
    }
    for (int l = 0; l < 8; ++l) {
        lanes->s0[l] = streams[l].s[0]; lanes->s1[l] = streams[l].s[1];
        lanes->s2[l] = streams[l].s[2]; lanes->s3[l] = streams[l].s[3];
    }
}

#if CK_HAS_DISPATCH
#include <immintrin.h>

CK_TARGET_AVX2 static inline __m256i rotl_256(__m256i v, int k) {
    return _mm256_or_si256(_mm256_slli_epi64(v, k), _mm256_srli_epi64(v, 64 - k));
}

/* One xoshiro256** step of four lanes; returns their outputs. */
CK_TARGET_AVX2 static inline __m256i step_256(__m256i *s0, __m256i *s1, __m256i *s2, __m256i *s3) {
    const __m256i times5 = _mm256_add_epi64(_mm256_slli_epi64(*s1, 2), *s1);
    const __m256i rotated = rotl_256(times5, 7);
    const __m256i result = _mm256_add_epi64(_mm256_slli_epi64(rotated, 3), rotated);
    const __m256i t = _mm256_slli_epi64(*s1, 17);
    *s2 = _mm256_xor_si256(*s2, *s0);
    *s3 = _mm256_xor_si256(*s3, *s1);
    *s1 = _mm256_xor_si256(*s1, *s2);
    *s0 = _mm256_xor_si256(*s0, *s3);
    *s2 = _mm256_xor_si256(*s2, t);
    *s3 = rotl_256(*s3, 45);
    return result;
}

CK_TARGET_AVX2
static void sample_avx2(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                        float low, float scale, const float *table, ptrdiff_t table_count, float *x) {
    if (table_count > 0) { /* table lookups do not vectorise; the portable loop is as good */
        sample_portable(lanes, rows, n, threshold, low, scale, table, table_count, x);
        return;
    }
    const ptrdiff_t block = 8 * n;
    int64_t *tiled = (int64_t *)malloc(sizeof(int64_t) * block);
    for (ptrdiff_t e = 0; e < block; ++e) tiled[e] = (int64_t)threshold[e % n];
    __m256i a0 = _mm256_loadu_si256((const __m256i *)lanes->s0), b0 = _mm256_loadu_si256((const __m256i *)(lanes->s0 + 4));
    __m256i a1 = _mm256_loadu_si256((const __m256i *)lanes->s1), b1 = _mm256_loadu_si256((const __m256i *)(lanes->s1 + 4));
    __m256i a2 = _mm256_loadu_si256((const __m256i *)lanes->s2), b2 = _mm256_loadu_si256((const __m256i *)(lanes->s2 + 4));
    __m256i a3 = _mm256_loadu_si256((const __m256i *)lanes->s3), b3 = _mm256_loadu_si256((const __m256i *)(lanes->s3 + 4));
    const __m256i low32 = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7); /* even words first, then odd */
    const __m256i mask24 = _mm256_set1_epi32(0xFFFFFF);
    const __m256 grid = _mm256_set1_ps(0x1p-24f), vlow = _mm256_set1_ps(low), vscale = _mm256_set1_ps(scale);
    float spill[8];
    for (ptrdiff_t row = 0; row < rows; row += 8) {
        const ptrdiff_t count = (rows - row >= 8 ? 8 : rows - row) * n;
        float *out = x + row * n;
        for (ptrdiff_t e = 0; e < block; e += 8) {
            const __m256i ra = step_256(&a0, &a1, &a2, &a3); /* lanes 0-3 */
            const __m256i rb = step_256(&b0, &b1, &b2, &b3); /* lanes 4-7 */
            /* Presence: high 32 bits < threshold, as signed 64-bit compares (both below 2^33). */
            const __m256i pa = _mm256_cmpgt_epi64(_mm256_loadu_si256((const __m256i *)(tiled + e)), _mm256_srli_epi64(ra, 32));
            const __m256i pb = _mm256_cmpgt_epi64(_mm256_loadu_si256((const __m256i *)(tiled + e + 4)), _mm256_srli_epi64(rb, 32));
            /* Gather the low words of the 8 draws (and the 8 masks) in lane order 0..7. */
            const __m256i la = _mm256_permutevar8x32_epi32(ra, low32), lb = _mm256_permutevar8x32_epi32(rb, low32);
            const __m256i bits = _mm256_and_si256(_mm256_permute2x128_si256(la, lb, 0x20), mask24);
            const __m256i ma = _mm256_permutevar8x32_epi32(pa, low32), mb = _mm256_permutevar8x32_epi32(pb, low32);
            const __m256 present = _mm256_castsi256_ps(_mm256_permute2x128_si256(ma, mb, 0x20));
            /* low + scale * u, rounded twice like the portable loop (no fused multiply-add). */
            const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(bits), grid);
            const __m256 v = _mm256_add_ps(vlow, _mm256_mul_ps(vscale, u));
            const __m256 result = _mm256_and_ps(v, present);
            if (e + 8 <= count) {
                _mm256_storeu_ps(out + e, result);
            } else if (e < count) {
                _mm256_storeu_ps(spill, result);
                for (ptrdiff_t k = e; k < count; ++k) out[k] = spill[k - e];
            }
        }
    }
    _mm256_storeu_si256((__m256i *)lanes->s0, a0); _mm256_storeu_si256((__m256i *)(lanes->s0 + 4), b0);
    _mm256_storeu_si256((__m256i *)lanes->s1, a1); _mm256_storeu_si256((__m256i *)(lanes->s1 + 4), b1);
    _mm256_storeu_si256((__m256i *)lanes->s2, a2); _mm256_storeu_si256((__m256i *)(lanes->s2 + 4), b2);
    _mm256_storeu_si256((__m256i *)lanes->s3, a3); _mm256_storeu_si256((__m256i *)(lanes->s3 + 4), b3);
    free(tiled);
}

#define CK_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2,popcnt")))

static int use_avx512(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && use_avx2();
    }
    return cached;
}

/* The AVX2 sampler with all eight lanes in one register: native rotates and unsigned compares into
 * a mask make a draw about half the instructions. Same draws, same operations, same x. */
CK_TARGET_AVX512
static void sample_avx512(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                          float low, float scale, float *x) {
    const ptrdiff_t block = 8 * n;
    uint64_t *tiled = (uint64_t *)malloc(sizeof(uint64_t) * block);
    for (ptrdiff_t e = 0; e < block; ++e) tiled[e] = threshold[e % n];
    __m512i s0 = _mm512_loadu_si512(lanes->s0), s1 = _mm512_loadu_si512(lanes->s1);
    __m512i s2 = _mm512_loadu_si512(lanes->s2), s3 = _mm512_loadu_si512(lanes->s3);
    const __m256i mask24 = _mm256_set1_epi32(0xFFFFFF);
    const __m256 grid = _mm256_set1_ps(0x1p-24f), vlow = _mm256_set1_ps(low), vscale = _mm256_set1_ps(scale);
    for (ptrdiff_t row = 0; row < rows; row += 8) {
        const ptrdiff_t count = (rows - row >= 8 ? 8 : rows - row) * n;
        float *out = x + row * n;
        for (ptrdiff_t e = 0; e < block; e += 8) {
            const __m512i rotated = _mm512_rol_epi64(_mm512_add_epi64(_mm512_slli_epi64(s1, 2), s1), 7);
            const __m512i r = _mm512_add_epi64(_mm512_slli_epi64(rotated, 3), rotated);
            const __m512i t = _mm512_slli_epi64(s1, 17);
            s2 = _mm512_xor_si512(s2, s0);
            s3 = _mm512_xor_si512(s3, s1);
            s1 = _mm512_xor_si512(s1, s2);
            s0 = _mm512_xor_si512(s0, s3);
            s2 = _mm512_xor_si512(s2, t);
            s3 = _mm512_rol_epi64(s3, 45);
            const __mmask8 present = _mm512_cmplt_epu64_mask(_mm512_srli_epi64(r, 32), _mm512_loadu_si512(tiled + e));
            const __m256i bits = _mm256_and_si256(_mm512_cvtepi64_epi32(r), mask24);
            const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(bits), grid);
            const __m256 v = _mm256_maskz_mov_ps(present, _mm256_add_ps(vlow, _mm256_mul_ps(vscale, u)));
            if (e + 8 <= count) {
                _mm256_storeu_ps(out + e, v);
            } else if (e < count) {
                _mm256_mask_storeu_ps(out + e, (__mmask8)((1u << (count - e)) - 1), v);
            }
        }
    }
    _mm512_storeu_si512(lanes->s0, s0); _mm512_storeu_si512(lanes->s1, s1);
    _mm512_storeu_si512(lanes->s2, s2); _mm512_storeu_si512(lanes->s3, s3);
    free(tiled);
}
#endif

void ck_sample_features(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                        float low, float scale, const float *table, ptrdiff_t table_count, float *x) {
    if (rows <= 0 || n <= 0) return;
#if CK_HAS_DISPATCH
    if (table_count == 0 && use_avx512()) { sample_avx512(lanes, rows, n, threshold, low, scale, x); return; }
    if (use_avx2()) { sample_avx2(lanes, rows, n, threshold, low, scale, table, table_count, x); return; }
#endif
    sample_portable(lanes, rows, n, threshold, low, scale, table, table_count, x);
}

/* ------------------------------------------------------------------------------------------ */
/* The fused step                                                                              */
/* ------------------------------------------------------------------------------------------ */

void ck_sample_feature_pairs(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t pairs, const uint64_t *threshold,
                             int anticorrelated, float low, float scale, float *x) {
    ck_rng stream = {{lanes->s0[0], lanes->s1[0], lanes->s2[0], lanes->s3[0]}};
    for (ptrdiff_t b = 0; b < rows; ++b) {
        float *row = x + b * 2 * pairs;
        for (ptrdiff_t k = 0; k < pairs; ++k) {
            const uint64_t decide = ck_rng_next(&stream), values = ck_rng_next(&stream);
            const int active = (decide >> 32) < threshold[k];
            const float first = low + scale * ((float)(int32_t)(values & 0xFFFFFF) * 0x1p-24f);
            const float second = low + scale * ((float)(int32_t)((values >> 24) & 0xFFFFFF) * 0x1p-24f);
            const int first_only = (decide & 1) != 0; /* anticorrelated: which one is present */
            row[2 * k] = active && (!anticorrelated || first_only) ? first : 0.0f;
            row[2 * k + 1] = active && (!anticorrelated || !first_only) ? second : 0.0f;
        }
    }
    lanes->s0[0] = stream.s[0]; lanes->s1[0] = stream.s[1];
    lanes->s2[0] = stream.s[2]; lanes->s3[0] = stream.s[3];
}

void ck_sample_features_portable(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                                 float low, float scale, const float *table, ptrdiff_t table_count, float *x) {
    if (rows <= 0 || n <= 0) return;
    sample_portable(lanes, rows, n, threshold, low, scale, table, table_count, x);
}

/* Scratch of the dense path: h, dh: [rows, m]; g: [rows, n]; tiled bias, importance, bias sums: [8, n]. */
static ptrdiff_t dense_scratch_count(ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n) {
    return 2 * rows * m + rows * n + 4 * 8 * n;
}

static ptrdiff_t padded16(ptrdiff_t n) { return (n + 15) / 16 * 16; }

/* Scratch of the sparse path (see below), in floats: U and S: [n, np]; padded bias, importance and
 * bias sums: [np]; the row lists: rows · n + 16 indices and rows + 1 starts, stored as int32 in
 * float-sized slots; 16 more to start U on a cache line. */
static ptrdiff_t sparse_scratch_count(ptrdiff_t rows, ptrdiff_t n) {
    const ptrdiff_t np = padded16(n);
    return 2 * n * np + 3 * np + (rows * n + 16) + (rows + 1) + 16;
}

ptrdiff_t ck_toy_model_scratch_count(ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n) {
    const ptrdiff_t dense = dense_scratch_count(rows, m, n), sparse = sparse_scratch_count(rows, n);
    return dense > sparse ? dense : sparse;
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


/* ------------------------------------------------------------------------------------------ */
/* The sparse path                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* The model depends on W only through U = WᵀW ([n, n], symmetric):
 *
 *     pre_b = U x_b + b,   dL/dU = S = Gᵀ X  (G = dL/dpre),   dL/dW = W (S + Sᵀ).
 *
 * With k nonzeros per row of x, the forward costs 2 k n per row and S another 2 k n, against
 * about 4 m n + 4 m k for the dense path's five products; U and W (S + Sᵀ) add 4 m n² per step,
 * shared by all rows. So sparse batches take this path: each row of x is compacted to the list of
 * its nonzero features (AVX-512 compress), pre_b is a sum of k rows of U held in registers, and
 * while g_b is still in registers it is added into the k rows of S it touches. (Column lists that
 * keep S in registers instead were slower: they read g back from L2 in random row order.) */

#if CK_HAS_DISPATCH
/* Lanes of vector v (16 floats) that lie inside a row of n. */
CK_TARGET_AVX512 static inline __mmask16 row_mask(ptrdiff_t v, ptrdiff_t n) {
    const ptrdiff_t left = n - 16 * v;
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

/* Forward, loss, g and its share of S for one row and the vectors [v0, v0 + width) of it; width ≤ 8
 * is a constant after inlining, so the accumulators live in registers. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) __m512
row_chunk(int relu, const int width, ptrdiff_t v0, ptrdiff_t n, ptrdiff_t np, float scale,
          const float *xb, const int32_t *list, ptrdiff_t count, const float *u,
          const float *bias, const float *importance, float *s, float *bias_sums, __m512 loss) {
    __m512 acc[8];
    for (int v = 0; v < width; ++v) acc[v] = _mm512_loadu_ps(bias + 16 * (v0 + v));
    for (ptrdiff_t t = 0; t < count; ++t) {
        const __m512 value = _mm512_set1_ps(xb[list[t]]);
        const float *row = u + (ptrdiff_t)list[t] * np + 16 * v0;
        for (int v = 0; v < width; ++v) acc[v] = _mm512_fmadd_ps(value, _mm512_loadu_ps(row + 16 * v), acc[v]);
    }
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
        acc[v] = grad;
        _mm512_storeu_ps(bias_sums + at, _mm512_add_ps(_mm512_loadu_ps(bias_sums + at), grad));
    }
    /* S[:, j] += x_bj g_b for the nonzero x_bj, with g_b still in registers. */
    for (ptrdiff_t t = 0; t < count; ++t) {
        const __m512 value = _mm512_set1_ps(xb[list[t]]);
        float *row = s + (ptrdiff_t)list[t] * np + 16 * v0;
        for (int v = 0; v < width; ++v)
            _mm512_storeu_ps(row + 16 * v, _mm512_fmadd_ps(value, acc[v], _mm512_loadu_ps(row + 16 * v)));
    }
    return loss;
}

#define CK_WIDTH_SWITCH(width, CALL) \
    switch (width) { \
    case 1: CALL(1); break; case 2: CALL(2); break; case 3: CALL(3); break; case 4: CALL(4); break; \
    case 5: CALL(5); break; case 6: CALL(6); break; case 7: CALL(7); break; default: CALL(8); break; }

/* Compacts every row of x to the indices of its nonzero entries: list[starts[b] ..< starts[b + 1]].
 * Returns the number of nonzeros. `list` has room for rows · n + 16. */
CK_TARGET_AVX512 static ptrdiff_t compact_rows(ptrdiff_t rows, ptrdiff_t n, const float *x, int32_t *list, int32_t *starts) {
    const ptrdiff_t vectors = (n + 15) / 16;
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    ptrdiff_t count = 0;
    for (ptrdiff_t b = 0; b < rows; ++b) {
        starts[b] = (int32_t)count;
        const float *xb = x + b * n;
        for (ptrdiff_t v = 0; v < vectors; ++v) {
            const __m512 xv = _mm512_maskz_loadu_ps(row_mask(v, n), xb + 16 * v);
            const __mmask16 present = _mm512_cmp_ps_mask(xv, _mm512_setzero_ps(), _CMP_NEQ_UQ);
            const __m512i indices = _mm512_add_epi32(iota, _mm512_set1_epi32((int)(16 * v)));
            _mm512_storeu_si512(list + count, _mm512_maskz_compress_epi32(present, indices));
            count += __builtin_popcount((unsigned)present);
        }
    }
    starts[rows] = (int32_t)count;
    return count;
}

CK_TARGET_AVX512
static double sparse_step_avx512(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                                 const float *x, const float *w, const float *bias, const float *importance,
                                 float *dw, float *db, float *scratch, const int32_t *list, const int32_t *starts) {
    const ptrdiff_t np = padded16(n), vectors = np / 16;
    /* Rows of U and S start on cache lines: a 64-byte load never straddles two. */
    float *u = scratch + ((64 - (uintptr_t)scratch % 64) % 64) / sizeof(float); /* [n, np] */
    float *s = u + n * np;                           /* [n, np]: row j is S's column j */
    float *padded_bias = s + n * np;                 /* [np] each */
    float *padded_importance = padded_bias + np;
    float *bias_sums = padded_importance + np;

    memset(s, 0, sizeof(float) * (size_t)(n * np));
    for (ptrdiff_t i = 0; i < np; ++i) {
        padded_bias[i] = i < n ? bias[i] : 0;
        padded_importance[i] = i < n ? importance[i] : 0;
        bias_sums[i] = 0;
    }
    ck_sgemm(1, 0, n, n, m, 1.0f, w, n, w, n, 0.0f, u, np);          /* U = WᵀW */
    for (ptrdiff_t j = 0; j < n; ++j)
        for (ptrdiff_t i = n; i < np; ++i) u[j * np + i] = 0;

    const float scale = 2.0f / (float)(rows * n);
    double total = 0;
    for (ptrdiff_t b = 0; b < rows; ++b) {
        const float *xb = x + b * n;
        const int32_t *row_list = list + starts[b];
        const ptrdiff_t count = starts[b + 1] - starts[b];
        __m512 loss = _mm512_setzero_ps();
        for (ptrdiff_t v0 = 0; v0 < vectors; v0 += 8) {
            const ptrdiff_t width = vectors - v0;
#define CK_ROW(W) loss = row_chunk(relu, W, v0, n, np, scale, xb, row_list, count, u, padded_bias, \
                                   padded_importance, s, bias_sums, loss)
            CK_WIDTH_SWITCH(width, CK_ROW)
#undef CK_ROW
        }
        total += (double)_mm512_reduce_add_ps(loss);
    }
    for (ptrdiff_t i = 0; i < n; ++i) db[i] = bias_sums[i];

    /* s row j holds S[:, j]; make it S + Sᵀ in place, then dW = W (S + Sᵀ). */
    for (ptrdiff_t i = 0; i < n; ++i) {
        s[i * np + i] *= 2;
        for (ptrdiff_t j = i + 1; j < n; ++j) {
            const float sum = s[i * np + j] + s[j * np + i];
            s[i * np + j] = sum;
            s[j * np + i] = sum;
        }
    }
    ck_sgemm(0, 0, m, n, n, 1.0f, w, n, s, np, 0.0f, dw, n);
    return total / (double)(rows * n);
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
    pass_function pass = use_avx2() ? pass_avx2 : pass_portable;
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

/* Whether the sparse path is cheaper for a batch with this many nonzeros: cycles per row fitted to
 * timings of both paths on Zen 4 (5→2, 20→5 and 100→20 at densities 0.05 to 1). */
static int prefers_sparse(ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nonzeros) {
    const double vectors = (double)padded16(n) / 16;
    const double sparse = 4.4 * (double)nonzeros * vectors + (double)rows * (20 + 28 * vectors) + 0.1 * m * n * n;
    const double dense = (double)rows * (0.39 * m * n + 1.7 * n + 23);
    return sparse < dense;
}

double ck_toy_model_step_path(int path, int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                              const float *x, const float *w, const float *bias, const float *importance,
                              float *dw, float *db, float *scratch) {
#if CK_HAS_DISPATCH
    /* Compacting costs little, but is skipped where even an empty batch would not take the sparse path. */
    if (path != 1 && use_avx512() && rows < INT32_MAX / (n + 1) && (path == 2 || prefers_sparse(rows, m, n, 0))) {
        /* The row lists go at the end of the scratch, after the sparse step's own arrays. */
        int32_t *list = (int32_t *)(void *)(scratch + sparse_scratch_count(rows, n) - (rows * n + 16) - (rows + 1));
        int32_t *starts = list + rows * n + 16;
        const ptrdiff_t nonzeros = compact_rows(rows, n, x, list, starts);
        if (path == 2 || prefers_sparse(rows, m, n, nonzeros))
            return sparse_step_avx512(relu, rows, m, n, x, w, bias, importance, dw, db, scratch, list, starts);
    }
#endif
    return dense_step(relu, rows, m, n, x, w, bias, importance, dw, db, scratch);
}

double ck_toy_model_step(int relu, ptrdiff_t rows, ptrdiff_t m, ptrdiff_t n,
                         const float *x, const float *w, const float *bias, const float *importance,
                         float *dw, float *db, float *scratch) {
    return ck_toy_model_step_path(0, relu, rows, m, n, x, w, bias, importance, dw, db, scratch);
}

int ck_toy_model_has_sparse_path(void) {
#if CK_HAS_DISPATCH
    return use_avx512();
#else
    return 0;
#endif
}
