/*
 * feature_sampler.c - the data of Toy Models training: sparse features, drawn fast.
 *
 * The sampler comes three times, chosen at run time: AVX-512, AVX2 and portable C. All three
 * consume the same draws in the same order and compute values with the same operations, so the
 * batch depends only on the lanes' states, never on the CPU.
 *
 * The stream. Rows go in blocks of 16 (16 n entries, taken as n groups of 16 consecutive entries).
 * One step of the eight lanes gives sixteen 32-bit words: word 2l is the low half of lane l's draw,
 * word 2l + 1 its high half. For each group, one step decides presence: entry k of the group is
 * present iff word k < threshold (groups whose features all have p = 0 or p = 1 draw nothing).
 * Then the block's present entries take their values, in entry order, from further steps, sixteen
 * values per step (the low 24 bits of each word). So an entry costs 1/16 of a step for presence
 * and, only when present, 1/16 for its value: at the densities of a sparsity sweep this is about a
 * third of the draws of one 64-bit draw per entry, and the xoshiro steps are what the sampler costs.
 */

#include "ck_toy_model.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* Values are low + scale · u rounded twice on every path: no fused multiply-add where FMA is enabled. */
#pragma STDC FP_CONTRACT OFF

#include "cpu_dispatch.h"

enum { block_rows = 16, group_size = 16 };

/* What a call needs for every block of rows: the thresholds tiled over 16 rows, which entries are
 * present without a draw, which groups draw, and room for the block's masks and values. */
typedef struct sample_plan {
    ptrdiff_t n;             /* groups per block */
    uint32_t *threshold;     /* [16 n]: present iff word < threshold[e] (0 for p = 0 and p = 1) */
    uint32_t *always;        /* [n]: per group, the entries with p = 1 */
    uint8_t *draws;          /* [n]: per group, 1 when some entry has 0 < p < 1 */
    uint32_t *masks;         /* [n]: the block's presence masks */
    float *values;           /* [16 n + 16]: the block's values, in the order present entries take them */
    void *memory;
} sample_plan;

static int make_plan(sample_plan *plan, ptrdiff_t n, const uint64_t *threshold) {
    const ptrdiff_t entries = block_rows * n;
    const size_t bytes = sizeof(uint32_t) * (size_t)(entries + 2 * n) + sizeof(float) * (size_t)(entries + group_size)
                       + (size_t)n + 64;
    plan->memory = malloc(bytes);
    if (!plan->memory) return 0;
    plan->n = n;
    plan->values = (float *)plan->memory;
    plan->threshold = (uint32_t *)(plan->values + entries + group_size);
    plan->always = plan->threshold + entries;
    plan->masks = plan->always + n;
    plan->draws = (uint8_t *)(plan->masks + n);
    /* Group by group, with the flags in registers: entry e = 16 g + k is feature e mod n. */
    const uint64_t one = (uint64_t)1 << 32;
    ptrdiff_t i = 0;
    for (ptrdiff_t g = 0; g < n; ++g) {
        uint32_t always = 0, draws = 0;
        for (int k = 0; k < group_size; ++k) {
            const uint64_t t = threshold[i];
            plan->threshold[group_size * g + k] = t < one ? (uint32_t)t : 0;
            always |= (uint32_t)(t >= one) << k;
            draws |= t > 0 && t < one;
            i = i + 1 == n ? 0 : i + 1;
        }
        plan->always[g] = always;
        plan->draws[g] = (uint8_t)draws;
    }
    return 1;
}

/* The entries of group g that lie inside a block of `count` valid entries. */
static inline uint32_t valid_mask(ptrdiff_t g, ptrdiff_t count) {
    const ptrdiff_t left = count - group_size * g;
    return left >= group_size ? 0xFFFFu : left <= 0 ? 0u : (1u << left) - 1;
}

/* The value a word gives: 24 of its bits, on a 2^-24 grid, rounded twice (no fused multiply-add). */
static inline float value_of(uint32_t word, float low, float scale, const float *table, ptrdiff_t table_count) {
    const uint32_t bits = word & 0xFFFFFF;
    return table_count > 0 ? table[(ptrdiff_t)bits * table_count >> 24] : low + scale * ((float)(int32_t)bits * 0x1p-24f);
}

/* Present entries of the block take values[0], values[1], ... in entry order; the rest are 0. */
static void expand_portable(const sample_plan *plan, ptrdiff_t count, float *out) {
    ptrdiff_t taken = 0;
    for (ptrdiff_t e = 0; e < count; ++e) {
        const int present = (plan->masks[e / group_size] >> (e % group_size)) & 1;
        out[e] = present ? plan->values[taken] : 0.0f;
        taken += present;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Portable                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static inline void step_portable(ck_rng streams[8], uint32_t words[16]) {
    for (int l = 0; l < 8; ++l) {
        const uint64_t r = ck_rng_next(&streams[l]);
        words[2 * l] = (uint32_t)r;
        words[2 * l + 1] = (uint32_t)(r >> 32);
    }
}

static void sample_portable(ck_rng8 *lanes, ptrdiff_t rows, const sample_plan *plan, float low, float scale,
                            const float *table, ptrdiff_t table_count, float *x) {
    const ptrdiff_t n = plan->n;
    ck_rng streams[8];
    for (int l = 0; l < 8; ++l) {
        streams[l].s[0] = lanes->s0[l]; streams[l].s[1] = lanes->s1[l];
        streams[l].s[2] = lanes->s2[l]; streams[l].s[3] = lanes->s3[l];
    }
    uint32_t words[16];
    for (ptrdiff_t row = 0; row < rows; row += block_rows) {
        const ptrdiff_t count = (rows - row >= block_rows ? block_rows : rows - row) * n;
        ptrdiff_t total = 0;
        for (ptrdiff_t g = 0; g < n; ++g) {
            uint32_t mask = plan->always[g];
            if (plan->draws[g]) {
                step_portable(streams, words);
                for (int k = 0; k < group_size; ++k)
                    mask |= (uint32_t)(words[k] < plan->threshold[group_size * g + k]) << k;
            }
            mask &= valid_mask(g, count);
            plan->masks[g] = mask;
            total += __builtin_popcount(mask);
        }
        for (ptrdiff_t v = 0; v < total; v += group_size) {
            step_portable(streams, words);
            for (int k = 0; k < group_size; ++k) plan->values[v + k] = value_of(words[k], low, scale, table, table_count);
        }
        expand_portable(plan, count, x + row * n);
    }
    for (int l = 0; l < 8; ++l) {
        lanes->s0[l] = streams[l].s[0]; lanes->s1[l] = streams[l].s[1];
        lanes->s2[l] = streams[l].s[2]; lanes->s3[l] = streams[l].s[3];
    }
}

#if CK_HAS_DISPATCH
/* ------------------------------------------------------------------------------------------ */
/* AVX2: the eight lanes as two registers of four                                              */
/* ------------------------------------------------------------------------------------------ */

CK_TARGET_AVX2 static inline __m256i rotl_256(__m256i v, int k) {
    return _mm256_or_si256(_mm256_slli_epi64(v, k), _mm256_srli_epi64(v, 64 - k));
}

/* One xoshiro256** step of four lanes; returns their outputs (as eight words, low half first). */
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

/* Eight presence bits: words < thresholds, unsigned (both sides flipped into signed order). */
CK_TARGET_AVX2 static inline uint32_t presence_256(__m256i words, const uint32_t *threshold) {
    const __m256i flip = _mm256_set1_epi32((int)0x80000000u);
    const __m256i t = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)threshold), flip);
    return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(t, _mm256_xor_si256(words, flip))));
}

CK_TARGET_AVX2 static inline __m256 values_256(__m256i words, __m256 vlow, __m256 vscale) {
    const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(words, _mm256_set1_epi32(0xFFFFFF))),
                                   _mm256_set1_ps(0x1p-24f));
    return _mm256_add_ps(vlow, _mm256_mul_ps(vscale, u));
}

/* Lane k of expand_table[mask] is the number of present lanes below k: the value lane k takes. */
#define CK_BELOW(m, k) __builtin_popcount((unsigned)(m) & ((1u << (k)) - 1))
#define CK_ROW(m) { CK_BELOW(m, 0), CK_BELOW(m, 1), CK_BELOW(m, 2), CK_BELOW(m, 3), \
                    CK_BELOW(m, 4), CK_BELOW(m, 5), CK_BELOW(m, 6), CK_BELOW(m, 7) }
#define CK_ROWS4(m) CK_ROW(m), CK_ROW(m + 1), CK_ROW(m + 2), CK_ROW(m + 3)
#define CK_ROWS16(m) CK_ROWS4(m), CK_ROWS4(m + 4), CK_ROWS4(m + 8), CK_ROWS4(m + 12)
#define CK_ROWS64(m) CK_ROWS16(m), CK_ROWS16(m + 16), CK_ROWS16(m + 32), CK_ROWS16(m + 48)
static const int32_t expand_table[256][8] = { CK_ROWS64(0), CK_ROWS64(64), CK_ROWS64(128), CK_ROWS64(192) };

/* Eight entries of the block: present lanes take the next values in order, the others 0. */
CK_TARGET_AVX2 static inline __m256 expand_256(uint32_t mask, const float *values) {
    const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i present = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)mask), bits), bits);
    const __m256i index = _mm256_loadu_si256((const __m256i *)expand_table[mask]);
    const __m256 placed = _mm256_permutevar8x32_ps(_mm256_loadu_ps(values), index);
    return _mm256_and_ps(placed, _mm256_castsi256_ps(present));
}

CK_TARGET_AVX2
static void sample_avx2(ck_rng8 *lanes, ptrdiff_t rows, const sample_plan *plan, float low, float scale,
                        const float *table, ptrdiff_t table_count, float *x) {
    const ptrdiff_t n = plan->n;
    __m256i a0 = _mm256_loadu_si256((const __m256i *)lanes->s0), b0 = _mm256_loadu_si256((const __m256i *)(lanes->s0 + 4));
    __m256i a1 = _mm256_loadu_si256((const __m256i *)lanes->s1), b1 = _mm256_loadu_si256((const __m256i *)(lanes->s1 + 4));
    __m256i a2 = _mm256_loadu_si256((const __m256i *)lanes->s2), b2 = _mm256_loadu_si256((const __m256i *)(lanes->s2 + 4));
    __m256i a3 = _mm256_loadu_si256((const __m256i *)lanes->s3), b3 = _mm256_loadu_si256((const __m256i *)(lanes->s3 + 4));
    const __m256 vlow = _mm256_set1_ps(low), vscale = _mm256_set1_ps(scale);
    uint32_t words[16];
    for (ptrdiff_t row = 0; row < rows; row += block_rows) {
        const ptrdiff_t count = (rows - row >= block_rows ? block_rows : rows - row) * n;
        ptrdiff_t total = 0;
        for (ptrdiff_t g = 0; g < n; ++g) {
            uint32_t mask = plan->always[g];
            if (plan->draws[g]) {
                const __m256i ra = step_256(&a0, &a1, &a2, &a3), rb = step_256(&b0, &b1, &b2, &b3);
                const uint32_t *t = plan->threshold + group_size * g;
                mask |= presence_256(ra, t) | presence_256(rb, t + 8) << 8;
            }
            mask &= valid_mask(g, count);
            plan->masks[g] = mask;
            total += __builtin_popcount(mask);
        }
        for (ptrdiff_t v = 0; v < total; v += group_size) {
            const __m256i ra = step_256(&a0, &a1, &a2, &a3), rb = step_256(&b0, &b1, &b2, &b3);
            if (table_count > 0) {
                _mm256_storeu_si256((__m256i *)words, ra);
                _mm256_storeu_si256((__m256i *)(words + 8), rb);
                for (int k = 0; k < group_size; ++k) plan->values[v + k] = value_of(words[k], low, scale, table, table_count);
            } else {
                _mm256_storeu_ps(plan->values + v, values_256(ra, vlow, vscale));
                _mm256_storeu_ps(plan->values + v + 8, values_256(rb, vlow, vscale));
            }
        }
        float *out = x + row * n;
        if (count < block_rows * n) {
            expand_portable(plan, count, out);
            continue;
        }
        const float *values = plan->values;
        for (ptrdiff_t g = 0; g < n; ++g) {
            const uint32_t low = plan->masks[g] & 0xFF, high = plan->masks[g] >> 8;
            _mm256_storeu_ps(out + group_size * g, expand_256(low, values));
            values += __builtin_popcount(low);
            _mm256_storeu_ps(out + group_size * g + 8, expand_256(high, values));
            values += __builtin_popcount(high);
        }
    }
    _mm256_storeu_si256((__m256i *)lanes->s0, a0); _mm256_storeu_si256((__m256i *)(lanes->s0 + 4), b0);
    _mm256_storeu_si256((__m256i *)lanes->s1, a1); _mm256_storeu_si256((__m256i *)(lanes->s1 + 4), b1);
    _mm256_storeu_si256((__m256i *)lanes->s2, a2); _mm256_storeu_si256((__m256i *)(lanes->s2 + 4), b2);
    _mm256_storeu_si256((__m256i *)lanes->s3, a3); _mm256_storeu_si256((__m256i *)(lanes->s3 + 4), b3);
}

/* ------------------------------------------------------------------------------------------ */
/* AVX-512: the eight lanes in one register, presence as a 16-bit mask, values placed by expand  */
/* ------------------------------------------------------------------------------------------ */

CK_TARGET_AVX512 static inline __m512i step_512(__m512i *s0, __m512i *s1, __m512i *s2, __m512i *s3) {
    const __m512i rotated = _mm512_rol_epi64(_mm512_add_epi64(_mm512_slli_epi64(*s1, 2), *s1), 7);
    const __m512i result = _mm512_add_epi64(_mm512_slli_epi64(rotated, 3), rotated);
    const __m512i t = _mm512_slli_epi64(*s1, 17);
    *s2 = _mm512_xor_si512(*s2, *s0);
    *s3 = _mm512_xor_si512(*s3, *s1);
    *s1 = _mm512_xor_si512(*s1, *s2);
    *s0 = _mm512_xor_si512(*s0, *s3);
    *s2 = _mm512_xor_si512(*s2, t);
    *s3 = _mm512_rol_epi64(*s3, 45);
    return result;
}

/* One block of rows; `full` (a constant after inlining) drops the bookkeeping of a partial block. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
block_avx512(const int full, __m512i *s0, __m512i *s1, __m512i *s2, __m512i *s3, ptrdiff_t count,
             const sample_plan *plan, float low, float scale, const float *table, ptrdiff_t table_count, float *out) {
    const ptrdiff_t n = plan->n;
    const __m512i mask24 = _mm512_set1_epi32(0xFFFFFF);
    const __m512 grid = _mm512_set1_ps(0x1p-24f), vlow = _mm512_set1_ps(low), vscale = _mm512_set1_ps(scale);
    ptrdiff_t total = 0;
    for (ptrdiff_t g = 0; g < n; ++g) {
        uint32_t mask = plan->always[g];
        if (plan->draws[g]) {
            const __m512i r = step_512(s0, s1, s2, s3);
            mask |= _mm512_cmplt_epu32_mask(r, _mm512_loadu_si512(plan->threshold + group_size * g));
        }
        if (!full) mask &= valid_mask(g, count);
        plan->masks[g] = mask;
        total += __builtin_popcount(mask);
    }
    for (ptrdiff_t v = 0; v < total; v += group_size) {
        const __m512i r = step_512(s0, s1, s2, s3);
        if (table_count > 0) {
            uint32_t words[16];
            _mm512_storeu_si512(words, r);
            for (int k = 0; k < group_size; ++k) plan->values[v + k] = value_of(words[k], low, scale, table, table_count);
        } else {
            const __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(r, mask24)), grid);
            _mm512_storeu_ps(plan->values + v, _mm512_add_ps(vlow, _mm512_mul_ps(vscale, u)));
        }
    }
    const float *values = plan->values;
    for (ptrdiff_t g = 0; g < n; ++g) {
        const __mmask16 mask = (__mmask16)plan->masks[g];
        const __m512 placed = _mm512_maskz_expand_ps(mask, _mm512_loadu_ps(values));
        if (full) _mm512_storeu_ps(out + group_size * g, placed);
        else _mm512_mask_storeu_ps(out + group_size * g, (__mmask16)valid_mask(g, count), placed);
        values += __builtin_popcount(mask);
    }
}

CK_TARGET_AVX512
static void sample_avx512(ck_rng8 *lanes, ptrdiff_t rows, const sample_plan *plan, float low, float scale,
                          const float *table, ptrdiff_t table_count, float *x) {
    const ptrdiff_t n = plan->n;
    __m512i s0 = _mm512_loadu_si512(lanes->s0), s1 = _mm512_loadu_si512(lanes->s1);
    __m512i s2 = _mm512_loadu_si512(lanes->s2), s3 = _mm512_loadu_si512(lanes->s3);
    for (ptrdiff_t row = 0; row < rows; row += block_rows) {
        if (rows - row >= block_rows)
            block_avx512(1, &s0, &s1, &s2, &s3, block_rows * n, plan, low, scale, table, table_count, x + row * n);
        else
            block_avx512(0, &s0, &s1, &s2, &s3, (rows - row) * n, plan, low, scale, table, table_count, x + row * n);
    }
    _mm512_storeu_si512(lanes->s0, s0); _mm512_storeu_si512(lanes->s1, s1);
    _mm512_storeu_si512(lanes->s2, s2); _mm512_storeu_si512(lanes->s3, s3);
}
#endif

/* path: 0 the best this CPU has, 1 portable, 2 AVX2, 3 AVX-512 (each falling back when unsupported). */
void ck_sample_features_path(int path, ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                             float low, float scale, const float *table, ptrdiff_t table_count, float *x) {
    if (rows <= 0 || n <= 0) return;
    sample_plan plan;
    if (!make_plan(&plan, n, threshold)) abort();
#if CK_HAS_DISPATCH
    if ((path == 0 || path == 3) && ck_cpu_has_avx512()) sample_avx512(lanes, rows, &plan, low, scale, table, table_count, x);
    else if (path != 1 && ck_cpu_has_avx2()) sample_avx2(lanes, rows, &plan, low, scale, table, table_count, x);
    else sample_portable(lanes, rows, &plan, low, scale, table, table_count, x);
#else
    (void)path;
    sample_portable(lanes, rows, &plan, low, scale, table, table_count, x);
#endif
    free(plan.memory);
}

void ck_sample_features(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                        float low, float scale, const float *table, ptrdiff_t table_count, float *x) {
    ck_sample_features_path(0, lanes, rows, n, threshold, low, scale, table, table_count, x);
}

void ck_sample_features_portable(ck_rng8 *lanes, ptrdiff_t rows, ptrdiff_t n, const uint64_t *threshold,
                                 float low, float scale, const float *table, ptrdiff_t table_count, float *x) {
    ck_sample_features_path(1, lanes, rows, n, threshold, low, scale, table, table_count, x);
}

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
