/*
 * apd_attributions.c - the gradient attributions of APD on the tied toy model: two thirds of a TMS
 * 40-10 decomposition step when Swift, compiled for the baseline instruction set, ran them four
 * samples per instruction over every feature and output. Here sixteen samples per instruction
 * (AVX-512) or eight (AVX2), and a vector of samples is skipped where its x row or its output is
 * zero throughout (at feature probability 0.05 about half of them in a 16-sample vector).
 */

#include "ck_apd.h"

#include "cpu_dispatch.h"

#include <stdlib.h>

/* A multiply and an add, never fused: results must not depend on the CPU. */
#pragma STDC FP_CONTRACT OFF

/* ---- portable ---------------------------------------------------------------------------- */

static void component_portable(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, const float *x,
                               const float *hidden, const float *active, const float *a, const float *b,
                               const float *projected, float *p, float *q, float *attribution, float *pq) {
    for (ptrdiff_t t = 0; t < batch; ++t) {
        float *pt = pq, *qt = pq + rank;
        for (ptrdiff_t r = 0; r < rank; ++r) {
            float pr = 0, qr = 0;
            for (ptrdiff_t i = 0; i < n; ++i) pr += a[i * rank + r] * x[i * batch + t];
            for (ptrdiff_t j = 0; j < m; ++j) qr += b[r * m + j] * hidden[j * batch + t];
            pt[r] = pr;
            qt[r] = qr;
            if (p) { p[r * batch + t] = pr; q[r * batch + t] = qr; }
        }
        float sum = 0;
        for (ptrdiff_t o = 0; o < n; ++o) {
            float row = 0;
            for (ptrdiff_t r = 0; r < rank; ++r) {
                row += projected[r * n + o] * pt[r];
                row += a[o * rank + r] * qt[r];
            }
            sum += active[o * batch + t] * row * row;
        }
        attribution[t] = sum;
    }
}

/* ---- AVX-512 ----------------------------------------------------------------------------- */

#if CK_HAS_DISPATCH
enum { max_rank = 32, max_features = 256, outputs_at_once = 4 };

/* Σ_r projected[r][o] P[r] + a[o][r] Q[r] for four outputs at once: four independent chains of adds,
 * so the adds' latency is hidden. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void four_rows(ptrdiff_t n, ptrdiff_t rank, const float *a, const float *projected,
                                              const __m512 *pv, const __m512 *qv, const ptrdiff_t *outputs, __m512 *rows) {
    for (int u = 0; u < outputs_at_once; ++u) rows[u] = _mm512_setzero_ps();
    for (ptrdiff_t r = 0; r < rank; ++r)
        for (int u = 0; u < outputs_at_once; ++u) {
            const ptrdiff_t o = outputs[u];
            rows[u] = _mm512_add_ps(rows[u], _mm512_mul_ps(_mm512_set1_ps(projected[r * n + o]), pv[r]));
            rows[u] = _mm512_add_ps(rows[u], _mm512_mul_ps(_mm512_set1_ps(a[o * rank + r]), qv[r]));
        }
}

/* Sample-block outer, component inner: a block's x rows with a nonzero, its active outputs and its
 * hidden rows are found and loaded once (into L1) for all components, and the weights (a few hundred
 * KB for 40-10) stream from L2. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
attributions_avx512(const ptrdiff_t rank, ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t components,
                    const float *x, const float *hidden, const float *active, const float *a,
                    const float *b, const float *projected, float *p, float *q, float *attribution) {
    const __m512 zero = _mm512_setzero_ps();
    __m512 pv[max_rank], qv[max_rank], xs[max_features], acts[max_features], hs[max_features];
    ptrdiff_t present[max_features], live[max_features + outputs_at_once];
    for (ptrdiff_t t = 0; t < batch; t += 16) {
        const ptrdiff_t left = batch - t;
        const __mmask16 lanes = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        ptrdiff_t nonzero = 0, count = 0;
        for (ptrdiff_t i = 0; i < n; ++i) {
            const __m512 xi = _mm512_maskz_loadu_ps(lanes, x + i * batch + t);
            if (_mm512_cmp_ps_mask(xi, zero, _CMP_NEQ_UQ)) { xs[nonzero] = xi; present[nonzero++] = i; }
            const __m512 ai = _mm512_maskz_loadu_ps(lanes, active + i * batch + t);
            if (_mm512_cmp_ps_mask(ai, zero, _CMP_NEQ_UQ)) { acts[count] = ai; live[count++] = i; }
        }
        /* Padded to a multiple of four with output 0, whose rows are computed and dropped. */
        const ptrdiff_t padded = (count + outputs_at_once - 1) / outputs_at_once * outputs_at_once;
        for (ptrdiff_t u = count; u < padded; ++u) live[u] = 0;
        for (ptrdiff_t j = 0; j < m; ++j) hs[j] = _mm512_maskz_loadu_ps(lanes, hidden + j * batch + t);

        for (ptrdiff_t c = 0; c < components; ++c) {
            const float *ac = a + c * n * rank, *bc = b + c * rank * m, *projectedc = projected + c * rank * n;
            for (ptrdiff_t r = 0; r < rank; ++r) pv[r] = qv[r] = zero;
            for (ptrdiff_t e = 0; e < nonzero; ++e) {
                const float *row = ac + present[e] * rank;
                for (ptrdiff_t r = 0; r < rank; ++r) pv[r] = _mm512_add_ps(pv[r], _mm512_mul_ps(_mm512_set1_ps(row[r]), xs[e]));
            }
            for (ptrdiff_t j = 0; j < m; ++j)
                for (ptrdiff_t r = 0; r < rank; ++r) qv[r] = _mm512_add_ps(qv[r], _mm512_mul_ps(_mm512_set1_ps(bc[r * m + j]), hs[j]));
            if (p)
                for (ptrdiff_t r = 0; r < rank; ++r) {
                    _mm512_mask_storeu_ps(p + (c * rank + r) * batch + t, lanes, pv[r]);
                    _mm512_mask_storeu_ps(q + (c * rank + r) * batch + t, lanes, qv[r]);
                }
            __m512 sum = zero;
            for (ptrdiff_t first = 0; first < count; first += outputs_at_once) {
                __m512 rows[outputs_at_once];
                four_rows(n, rank, ac, projectedc, pv, qv, live + first, rows);
                for (int u = 0; u < outputs_at_once && first + u < count; ++u)
                    sum = _mm512_add_ps(sum, _mm512_mul_ps(_mm512_mul_ps(acts[first + u], rows[u]), rows[u]));
            }
            _mm512_mask_storeu_ps(attribution + c * batch + t, lanes, sum);
        }
    }
}

/* ---- AVX2 -------------------------------------------------------------------------------- */

/* The AVX-512 path's loops on eight samples per vector. With 16 registers instead of 32, P and Q
 * are built one after the other (each in at most `rank` registers) and read back from L1 by the
 * output rows. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void four_rows_avx2(ptrdiff_t n, ptrdiff_t rank, const float *a,
                                                                                const float *projected, const __m256 *pv,
                                                                                const __m256 *qv, const ptrdiff_t *outputs,
                                                                                __m256 *rows) {
    for (int u = 0; u < outputs_at_once; ++u) rows[u] = _mm256_setzero_ps();
    for (ptrdiff_t r = 0; r < rank; ++r)
        for (int u = 0; u < outputs_at_once; ++u) {
            const ptrdiff_t o = outputs[u];
            rows[u] = _mm256_add_ps(rows[u], _mm256_mul_ps(_mm256_set1_ps(projected[r * n + o]), pv[r]));
            rows[u] = _mm256_add_ps(rows[u], _mm256_mul_ps(_mm256_set1_ps(a[o * rank + r]), qv[r]));
        }
}

CK_TARGET_AVX2 static inline __attribute__((always_inline)) void
attributions_avx2(const ptrdiff_t rank, ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t components,
                  const float *x, const float *hidden, const float *active, const float *a,
                  const float *b, const float *projected, float *p, float *q, float *attribution) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 pv[max_rank], qv[max_rank], xs[max_features], acts[max_features], hs[max_features];
    ptrdiff_t present[max_features], live[max_features + outputs_at_once];
    for (ptrdiff_t t = 0; t < batch; t += 8) {
        const __m256i lanes = ck_lane_mask(batch - t);
        ptrdiff_t nonzero = 0, count = 0;
        for (ptrdiff_t i = 0; i < n; ++i) {
            const __m256 xi = _mm256_maskload_ps(x + i * batch + t, lanes);
            if (_mm256_movemask_ps(_mm256_cmp_ps(xi, zero, _CMP_NEQ_UQ))) { xs[nonzero] = xi; present[nonzero++] = i; }
            const __m256 ai = _mm256_maskload_ps(active + i * batch + t, lanes);
            if (_mm256_movemask_ps(_mm256_cmp_ps(ai, zero, _CMP_NEQ_UQ))) { acts[count] = ai; live[count++] = i; }
        }
        const ptrdiff_t padded = (count + outputs_at_once - 1) / outputs_at_once * outputs_at_once;
        for (ptrdiff_t u = count; u < padded; ++u) live[u] = 0;
        for (ptrdiff_t j = 0; j < m; ++j) hs[j] = _mm256_maskload_ps(hidden + j * batch + t, lanes);

        for (ptrdiff_t c = 0; c < components; ++c) {
            const float *ac = a + c * n * rank, *bc = b + c * rank * m, *projectedc = projected + c * rank * n;
            for (ptrdiff_t r = 0; r < rank; ++r) pv[r] = zero;
            for (ptrdiff_t e = 0; e < nonzero; ++e) {
                const float *row = ac + present[e] * rank;
                for (ptrdiff_t r = 0; r < rank; ++r) pv[r] = _mm256_add_ps(pv[r], _mm256_mul_ps(_mm256_set1_ps(row[r]), xs[e]));
            }
            for (ptrdiff_t r = 0; r < rank; ++r) qv[r] = zero;
            for (ptrdiff_t j = 0; j < m; ++j)
                for (ptrdiff_t r = 0; r < rank; ++r) qv[r] = _mm256_add_ps(qv[r], _mm256_mul_ps(_mm256_set1_ps(bc[r * m + j]), hs[j]));
            if (p)
                for (ptrdiff_t r = 0; r < rank; ++r) {
                    _mm256_maskstore_ps(p + (c * rank + r) * batch + t, lanes, pv[r]);
                    _mm256_maskstore_ps(q + (c * rank + r) * batch + t, lanes, qv[r]);
                }
            __m256 sum = zero;
            for (ptrdiff_t first = 0; first < count; first += outputs_at_once) {
                __m256 rows[outputs_at_once];
                four_rows_avx2(n, rank, ac, projectedc, pv, qv, live + first, rows);
                for (int u = 0; u < outputs_at_once && first + u < count; ++u)
                    sum = _mm256_add_ps(sum, _mm256_mul_ps(_mm256_mul_ps(acts[first + u], rows[u]), rows[u]));
            }
            _mm256_maskstore_ps(attribution + c * batch + t, lanes, sum);
        }
    }
}

/* One copy per rank up to 16 and instruction set, where rank is a constant the loops are compiled
 * for (a third faster at TMS 40-10's rank 11 than with rank a variable); larger ranks share the
 * copy that reads it. */
#define CK_RANK_COPY(R) \
    CK_TARGET_AVX512 static void attributions_avx512_rank##R(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, \
                                                             ptrdiff_t components, const float *x, const float *hidden, \
                                                             const float *active, const float *a, const float *b, \
                                                             const float *projected, float *p, float *q, float *attribution) { \
        attributions_avx512(R ? R : rank, batch, n, m, components, x, hidden, active, a, b, projected, p, q, attribution); \
    } \
    CK_TARGET_AVX2 static void attributions_avx2_rank##R(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, \
                                                         ptrdiff_t components, const float *x, const float *hidden, \
                                                         const float *active, const float *a, const float *b, \
                                                         const float *projected, float *p, float *q, float *attribution) { \
        attributions_avx2(R ? R : rank, batch, n, m, components, x, hidden, active, a, b, projected, p, q, attribution); \
    }
CK_RANK_COPY(0) CK_RANK_COPY(1) CK_RANK_COPY(2) CK_RANK_COPY(3) CK_RANK_COPY(4) CK_RANK_COPY(5) CK_RANK_COPY(6)
CK_RANK_COPY(7) CK_RANK_COPY(8) CK_RANK_COPY(9) CK_RANK_COPY(10) CK_RANK_COPY(11) CK_RANK_COPY(12) CK_RANK_COPY(13)
CK_RANK_COPY(14) CK_RANK_COPY(15) CK_RANK_COPY(16)
#undef CK_RANK_COPY

typedef void (*attributions_function)(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, const float *,
                                      const float *, const float *, const float *, const float *, float *, float *, float *);
#define CK_BY_RANK(SET) { \
    attributions_##SET##_rank0, attributions_##SET##_rank1, attributions_##SET##_rank2, attributions_##SET##_rank3, \
    attributions_##SET##_rank4, attributions_##SET##_rank5, attributions_##SET##_rank6, attributions_##SET##_rank7, \
    attributions_##SET##_rank8, attributions_##SET##_rank9, attributions_##SET##_rank10, attributions_##SET##_rank11, \
    attributions_##SET##_rank12, attributions_##SET##_rank13, attributions_##SET##_rank14, attributions_##SET##_rank15, \
    attributions_##SET##_rank16 }
static const attributions_function avx512_by_rank[17] = CK_BY_RANK(avx512), avx2_by_rank[17] = CK_BY_RANK(avx2);
#undef CK_BY_RANK
#endif

void ck_apd_tied_attributions_path(int path, ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                                   const float *x, const float *hidden, const float *active,
                                   const float *a, const float *b, const float *projected,
                                   float *p, float *q, float *attribution) {
#if CK_HAS_DISPATCH
    if (path != 1 && rank <= max_rank && n <= max_features && m <= max_features) {
        const attributions_function *by_rank = path != 3 && ck_cpu_has_avx512() ? avx512_by_rank
                                               : ck_cpu_has_avx2() ? avx2_by_rank : NULL;
        if (by_rank) {
            by_rank[rank <= 16 ? rank : 0](batch, n, m, rank, components, x, hidden, active, a, b, projected, p, q, attribution);
            return;
        }
    }
#endif
    float *pq = malloc(sizeof(float) * (size_t)(2 * rank));
    if (!pq) abort();
    for (ptrdiff_t c = 0; c < components; ++c)
        component_portable(batch, n, m, rank, x, hidden, active, a + c * n * rank, b + c * rank * m, projected + c * rank * n,
                           p ? p + c * rank * batch : NULL, q ? q + c * rank * batch : NULL, attribution + c * batch, pq);
    free(pq);
}

void ck_apd_tied_attributions(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                              const float *x, const float *hidden, const float *active,
                              const float *a, const float *b, const float *projected,
                              float *p, float *q, float *attribution) {
    ck_apd_tied_attributions_path(0, batch, n, m, rank, components, x, hidden, active, a, b, projected, p, q, attribution);
}
