/*
 * feature_sampler.c - the data of Toy Models training: sparse features, drawn fast.
 *
 * The sampler comes three times, chosen at run time: AVX-512, AVX2 and portable C. All three
 * consume the same draws in the same order and compute values with the same operations, so the
 * batch depends only on the lanes' states, never on the CPU.
 *
 * The stream. Rows go in blocks of 64 (64 n entries, taken as n groups of 64 consecutive entries).
 * One step of the eight lanes gives 64 bytes (byte 8l + q is byte q of lane l's draw) or sixteen
 * 32-bit words (word 2l is the low half of lane l's draw, word 2l + 1 its high half). With the
 * threshold t = p · 2^32 split as t = 2^24 T + L (T its top 8 bits, L its low 24):
 *  1. presence: for each group, one step; entry k is present iff byte k < T (groups whose features
 *     all have p = 0 or p = 1 draw nothing);
 *  2. ties: entries whose byte equals T while L > 0 (one in 256) are decided by a word each, in entry
 *     order, sixteen words per step: present iff its low 24 bits < L. So P(present) = T / 2^8 +
 *     2^-8 · L / 2^24 = t / 2^32 exactly, as a single 32-bit test, for a quarter of the draws;
 *  3. values: the block's present entries take their values, in entry order, from further steps,
 *     sixteen per step (the low 24 bits of each word).
 * So an entry costs 1/64 of a step for presence and, only when present, 1/16 for its value: the
 * xoshiro steps are what the sampler costs (about 7 cycles each on a 512-bit unit).
 */

#include "ck_toy_model.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* Values are low + scale · u rounded twice on every path: no fused multiply-add where FMA is enabled. */
#pragma STDC FP_CONTRACT OFF

#include "cpu_dispatch.h"

enum { block_rows = 64, group_size = 64, words_per_step = 16 };

/* What a call needs for every block of rows: the thresholds' top bytes tiled over 64 rows, which
 * entries are present without a draw or can tie, which groups draw, and room for the block's masks
 * and values. */
typedef struct sample_plan {
    ptrdiff_t n;             /* groups per block */
    uint8_t *threshold;      /* [64 n]: T, present iff byte < T (0 for p = 0 and p = 1) */
    uint32_t *low;           /* [n]: per feature, L (0 for p = 0 and p = 1) */
    uint64_t *always;        /* [n]: per group, the entries with p = 1 */
    uint64_t *tieable;       /* [n]: per group, the entries with L > 0 */
    uint8_t *draws;          /* [n]: per group, 1 when some entry has 0 < p < 1 */
    uint64_t *masks;         /* [n]: the block's presence masks */
    uint64_t *ties;          /* [n]: the block's ties still to decide */
    float *values;           /* [64 n + 16]: the block's values, in the order present entries take them */
    void *memory;
} sample_plan;

/* Bit i of the result is byte i of `bytes` (each 0 or 1). */
static inline uint64_t pack_bits(const uint8_t *bytes) {
    uint64_t mask = 0;
    for (int q = 0; q < 8; ++q) {
        uint64_t eight;
        memcpy(&eight, bytes + 8 * q, 8);
        mask |= ((eight * 0x0102040810204080ull) >> 56) << (8 * q);
    }
    return mask;
}

static int make_plan(sample_plan *plan, ptrdiff_t n, const uint64_t *threshold) {
    const ptrdiff_t entries = block_rows * n;
    const size_t bytes = sizeof(float) * (size_t)(entries + words_per_step) + sizeof(uint64_t) * (size_t)(5 * n)
                       + sizeof(uint32_t) * (size_t)n + (size_t)(4 * entries + n) + 64;
    plan->memory = malloc(bytes);
    if (!plan->memory) return 0;
    plan->n = n;
    plan->values = (float *)plan->memory;
    plan->always = (uint64_t *)(void *)(plan->values + entries + words_per_step);
    plan->tieable = plan->always + n;
    plan->masks = plan->tieable + n;
    plan->ties = plan->masks + n;
    uint64_t *random = plan->ties + n;
    plan->low = (uint32_t *)(void *)(random + n);
    plan->threshold = (uint8_t *)(plan->low + n);
    uint8_t *is_always = plan->threshold + entries, *is_tieable = is_always + entries, *is_random = is_tieable + entries;
    plan->draws = is_random + entries;
    /* One row of per-feature bytes, then copied: entry e of a block is feature e mod n, and a block is 64 rows. */
    const uint64_t one = (uint64_t)1 << 32;
    for (ptrdiff_t i = 0; i < n; ++i) {
        const uint64_t t = threshold[i];
        const int random_feature = t > 0 && t < one;
        plan->threshold[i] = random_feature ? (uint8_t)(t >> 24) : 0;
        plan->low[i] = random_feature ? (uint32_t)(t & 0xFFFFFF) : 0;
        is_always[i] = t >= one;
        is_tieable[i] = plan->low[i] > 0;
        is_random[i] = (uint8_t)random_feature;
    }
    for (ptrdiff_t filled = n; filled < entries; filled *= 2) {  /* doubling: six copies, however small n is */
        const size_t copied = (size_t)(entries - filled < filled ? entries - filled : filled);
        memcpy(plan->threshold + filled, plan->threshold, copied);
        memcpy(is_always + filled, is_always, copied);
        memcpy(is_tieable + filled, is_tieable, copied);
        memcpy(is_random + filled, is_random, copied);
    }
    for (ptrdiff_t g = 0; g < n; ++g) {
        plan->always[g] = pack_bits(is_always + group_size * g);
        plan->tieable[g] = pack_bits(is_tieable + group_size * g);
        random[g] = pack_bits(is_random + group_size * g);
        plan->draws[g] = random[g] != 0;
    }
    return 1;
}

/* The entries of group g that lie inside a block of `count` valid entries. */
static inline uint64_t valid_mask(ptrdiff_t g, ptrdiff_t count) {
    const ptrdiff_t left = count - group_size * g;
    return left >= group_size ? ~0ull : left <= 0 ? 0ull : ((uint64_t)1 << left) - 1;
}

/* Decides tie k of group g with `word`: present iff its low 24 bits < L of the entry's feature. */
static inline void decide_tie(sample_plan *plan, ptrdiff_t g, int k, uint32_t word) {
    const ptrdiff_t feature = (group_size * g + k) % plan->n;
    plan->masks[g] |= (uint64_t)((word & 0xFFFFFF) < plan->low[feature]) << k;
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

/* The tie pass of every path: groups in order, ties in entry order, a step whenever the sixteen
 * words of the last one are used up. STEP(words) fills uint32_t words[16] from the next step. */
#define CK_DECIDE_TIES(plan, STEP) \
    do { \
        uint32_t tie_words[16]; \
        int used = 16; \
        for (ptrdiff_t g = 0; g < (plan)->n; ++g) { \
            for (uint64_t tied = (plan)->ties[g]; tied; tied &= tied - 1) { \
                if (used == 16) { STEP(tie_words); used = 0; } \
                decide_tie((plan), g, __builtin_ctzll(tied), tie_words[used++]); \
            } \
        } \
    } while (0)

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

static void sample_portable(ck_rng8 *lanes, ptrdiff_t rows, sample_plan *plan, float low, float scale,
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
        int any_ties = 0;
        for (ptrdiff_t g = 0; g < n; ++g) {
            const uint64_t valid = valid_mask(g, count);
            uint64_t mask = plan->always[g], ties = 0;
            if (plan->draws[g] && valid) {
                step_portable(streams, words);
                for (int k = 0; k < group_size; ++k) {
                    const uint32_t byte = (words[k / 4] >> (8 * (k % 4))) & 0xFF, t = plan->threshold[group_size * g + k];
                    mask |= (uint64_t)(byte < t) << k;
                    ties |= (uint64_t)(byte == t) << k;
                }
            }
            plan->masks[g] = mask & valid;
            plan->ties[g] = ties & plan->tieable[g] & valid;
            any_ties |= plan->ties[g] != 0;
        }
#define CK_STEP_PORTABLE(w) step_portable(streams, w)
        if (any_ties) CK_DECIDE_TIES(plan, CK_STEP_PORTABLE);
#undef CK_STEP_PORTABLE
        ptrdiff_t total = 0;
        for (ptrdiff_t g = 0; g < n; ++g) total += __builtin_popcountll(plan->masks[g]);
        for (ptrdiff_t v = 0; v < total; v += words_per_step) {
            step_portable(streams, words);
            for (int k = 0; k < words_per_step; ++k) plan->values[v + k] = value_of(words[k], low, scale, table, table_count);
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

/* 32 presence bits (bytes < thresholds, unsigned: both sides flipped into signed order) and the 32 ties. */
CK_TARGET_AVX2 static inline void presence_256(__m256i bytes, const uint8_t *threshold, uint32_t *below, uint32_t *equal) {
    const __m256i flip = _mm256_set1_epi8((char)0x80), t = _mm256_loadu_si256((const __m256i *)threshold);
    *below = (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_xor_si256(t, flip), _mm256_xor_si256(bytes, flip)));
    *equal = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(t, bytes));
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
static void sample_avx2(ck_rng8 *lanes, ptrdiff_t rows, sample_plan *plan, float low, float scale,
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
        uint64_t any_ties = 0;
        for (ptrdiff_t g = 0; g < n; ++g) {
            const uint64_t valid = valid_mask(g, count);
            uint64_t mask = plan->always[g], ties = 0;
            if (plan->draws[g] && valid) {
                const __m256i ra = step_256(&a0, &a1, &a2, &a3), rb = step_256(&b0, &b1, &b2, &b3);
                const uint8_t *t = plan->threshold + group_size * g;
                uint32_t below_a, equal_a, below_b, equal_b;
                presence_256(ra, t, &below_a, &equal_a);
                presence_256(rb, t + 32, &below_b, &equal_b);
                mask |= below_a | (uint64_t)below_b << 32;
                ties = equal_a | (uint64_t)equal_b << 32;
            }
            plan->masks[g] = mask & valid;
            plan->ties[g] = ties & plan->tieable[g] & valid;
            any_ties |= plan->ties[g];
        }
#define CK_STEP_256(w) do { \
            const __m256i ra = step_256(&a0, &a1, &a2, &a3), rb = step_256(&b0, &b1, &b2, &b3); \
            _mm256_storeu_si256((__m256i *)(w), ra); \
            _mm256_storeu_si256((__m256i *)((w) + 8), rb); \
        } while (0)
        if (any_ties) CK_DECIDE_TIES(plan, CK_STEP_256);
        ptrdiff_t total = 0;
        for (ptrdiff_t g = 0; g < n; ++g) total += __builtin_popcountll(plan->masks[g]);
        for (ptrdiff_t v = 0; v < total; v += words_per_step) {
            if (table_count > 0) {
                CK_STEP_256(words);
                for (int k = 0; k < words_per_step; ++k) plan->values[v + k] = value_of(words[k], low, scale, table, table_count);
            } else {
                const __m256i ra = step_256(&a0, &a1, &a2, &a3), rb = step_256(&b0, &b1, &b2, &b3);
                _mm256_storeu_ps(plan->values + v, values_256(ra, vlow, vscale));
                _mm256_storeu_ps(plan->values + v + 8, values_256(rb, vlow, vscale));
            }
        }
#undef CK_STEP_256
        float *out = x + row * n;
        if (count < block_rows * n) {
            expand_portable(plan, count, out);
            continue;
        }
        const float *values = plan->values;
        for (ptrdiff_t g = 0; g < n; ++g) {
            const uint64_t mask = plan->masks[g];
            for (int q = 0; q < 8; ++q) {
                const uint32_t eight = (uint32_t)(mask >> (8 * q)) & 0xFF;
                _mm256_storeu_ps(out + group_size * g + 8 * q, expand_256(eight, values));
                values += __builtin_popcount(eight);
            }
        }
    }
    _mm256_storeu_si256((__m256i *)lanes->s0, a0); _mm256_storeu_si256((__m256i *)(lanes->s0 + 4), b0);
    _mm256_storeu_si256((__m256i *)lanes->s1, a1); _mm256_storeu_si256((__m256i *)(lanes->s1 + 4), b1);
    _mm256_storeu_si256((__m256i *)lanes->s2, a2); _mm256_storeu_si256((__m256i *)(lanes->s2 + 4), b2);
    _mm256_storeu_si256((__m256i *)lanes->s3, a3); _mm256_storeu_si256((__m256i *)(lanes->s3 + 4), b3);
}

/* ------------------------------------------------------------------------------------------ */
/* AVX-512: the eight lanes in one register, presence as a 64-bit mask, values placed by expand  */
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
             sample_plan *plan, float low, float scale, const float *table, ptrdiff_t table_count, float *out) {
    const ptrdiff_t n = plan->n;
    const __m512i mask24 = _mm512_set1_epi32(0xFFFFFF);
    const __m512 grid = _mm512_set1_ps(0x1p-24f), vlow = _mm512_set1_ps(low), vscale = _mm512_set1_ps(scale);
    uint64_t any_ties = 0;
    for (ptrdiff_t g = 0; g < n; ++g) {
        const uint64_t valid = full ? ~0ull : valid_mask(g, count);
        uint64_t mask = plan->always[g], ties = 0;
        if (plan->draws[g] && (full || valid)) {
            const __m512i r = step_512(s0, s1, s2, s3), t = _mm512_loadu_si512(plan->threshold + group_size * g);
            mask |= _mm512_cmplt_epu8_mask(r, t);
            ties = _mm512_cmpeq_epu8_mask(r, t);
        }
        plan->masks[g] = mask & valid;
        plan->ties[g] = ties & plan->tieable[g] & valid;
        any_ties |= plan->ties[g];
    }
#define CK_STEP_512(w) _mm512_storeu_si512((w), step_512(s0, s1, s2, s3))
    if (any_ties) CK_DECIDE_TIES(plan, CK_STEP_512);
#undef CK_STEP_512
    ptrdiff_t total = 0;
    for (ptrdiff_t g = 0; g < n; ++g) total += __builtin_popcountll(plan->masks[g]);
    if (full && total == count && table_count == 0) {
        /* Every entry present (p = 1): the values land in place, no expanding (64 n is a multiple of 16). */
        for (ptrdiff_t v = 0; v < total; v += words_per_step) {
            const __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(step_512(s0, s1, s2, s3), mask24)), grid);
            _mm512_storeu_ps(out + v, _mm512_add_ps(vlow, _mm512_mul_ps(vscale, u)));
        }
        return;
    }
    for (ptrdiff_t v = 0; v < total; v += words_per_step) {
        const __m512i r = step_512(s0, s1, s2, s3);
        if (table_count > 0) {
            uint32_t words[16];
            _mm512_storeu_si512(words, r);
            for (int k = 0; k < words_per_step; ++k) plan->values[v + k] = value_of(words[k], low, scale, table, table_count);
        } else {
            const __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(r, mask24)), grid);
            _mm512_storeu_ps(plan->values + v, _mm512_add_ps(vlow, _mm512_mul_ps(vscale, u)));
        }
    }
    const float *values = plan->values;
    for (ptrdiff_t g = 0; g < n; ++g) {
        const uint64_t mask = plan->masks[g], valid = full ? ~0ull : valid_mask(g, count);
        for (int q = 0; q < 4; ++q) {
            const __mmask16 sixteen = (__mmask16)(mask >> (16 * q));
            /* Expanding from a register: Zen 4 expands from memory several times slower. */
            __m512 next = _mm512_loadu_ps(values);
            __asm__("" : "+v"(next));
            const __m512 placed = _mm512_maskz_expand_ps(sixteen, next);
            if (full) _mm512_storeu_ps(out + group_size * g + 16 * q, placed);
            else _mm512_mask_storeu_ps(out + group_size * g + 16 * q, (__mmask16)(valid >> (16 * q)), placed);
            values += __builtin_popcount(sixteen);
        }
    }
}

CK_TARGET_AVX512
static void sample_avx512(ck_rng8 *lanes, ptrdiff_t rows, sample_plan *plan, float low, float scale,
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
