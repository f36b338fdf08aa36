/*
 * apd_sparse_pass.c - the sparse pass of APD's batch top-k on the tied toy model: each sample
 * through the few components it keeps, forward and backward. Half of a TMS 5-2 decomposition step
 * and a third of a 40-10 one while it was Swift loops, mostly the per-sample bookkeeping of samples
 * that keep no component at all, and sums over the outputs taken one output at a time.
 *
 * Here a sample that keeps nothing adds only its loss, the outputs' sums run over a transposed copy
 * of A (outputs innermost, so the compiler vectorises them), and every other loop runs over rank or
 * hidden entries innermost. Each sum keeps the order of the plain loops, multiply and add apart, so
 * the result is the same bits as theirs on every CPU.
 */

#include "ck_apd.h"

#include "cpu_dispatch.h"

#include <stdint.h>

/* A multiply and an add, never fused: results must not depend on the CPU. */
#pragma STDC FP_CONTRACT OFF

/* The scratch, carved from the caller's floats. */
typedef struct sparse_pass_arrays {
    float *transposed_a;  /* [components][rank][n]: A_c with the outputs innermost */
    float *p, *inner, *d_inner;  /* per kept slot of a sample: [components][rank] */
    float *hidden, *d_hidden;    /* [m] */
    float *z, *dz;               /* [n] */
    int32_t *starts;             /* [batch + 1]: sample t keeps kept[starts[t] ..< starts[t + 1]] */
    int32_t *kept;               /* [components · batch]: components in increasing order per sample */
    int32_t *present;            /* [n]: the sample's nonzero features */
} sparse_pass_arrays;

ptrdiff_t ck_apd_tied_sparse_scratch_count(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components) {
    return components * rank * n + 3 * components * rank + 2 * m + 2 * n + (batch + 1) + components * batch + n;
}

static sparse_pass_arrays carve(float *scratch, ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank,
                                ptrdiff_t components) {
    sparse_pass_arrays s;
    const ptrdiff_t ck = components * rank;
    s.transposed_a = scratch;
    s.p = s.transposed_a + ck * n;
    s.inner = s.p + ck;
    s.d_inner = s.inner + ck;
    s.hidden = s.d_inner + ck;
    s.d_hidden = s.hidden + m;
    s.z = s.d_hidden + m;
    s.dz = s.z + n;
    s.starts = (int32_t *)(void *)(s.dz + n);
    s.kept = s.starts + batch + 1;
    s.present = s.kept + components * batch;
    return s;
}

/* ReLU(z) − goal, with ReLU as Swift's max(z, 0): +0 for z ≤ 0. */
static inline __attribute__((always_inline)) float relu_residual(float z, float goal) {
    return (0.0f >= z ? 0.0f : z) - goal;
}

static inline __attribute__((always_inline)) double
sparse_pass(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t k, ptrdiff_t C, const float *restrict x,
            const float *restrict target, const float *restrict mask, const float *restrict bias,
            const float *restrict a, const float *restrict b, float scale, float *restrict ga, float *restrict gb,
            float *scratch) {
    const sparse_pass_arrays s = carve(scratch, batch, n, m, k, C);
    float *restrict at = s.transposed_a, *restrict p = s.p, *restrict inner = s.inner, *restrict d_inner = s.d_inner;
    float *restrict hidden = s.hidden, *restrict d_hidden = s.d_hidden, *restrict z = s.z, *restrict dz = s.dz;
    int32_t *restrict starts = s.starts, *restrict kept = s.kept, *restrict present = s.present;

    for (ptrdiff_t c = 0; c < C; ++c)
        for (ptrdiff_t o = 0; o < n; ++o)
            for (ptrdiff_t r = 0; r < k; ++r) at[(c * k + r) * n + o] = a[(c * n + o) * k + r];
    /* Each sample's kept components in increasing order: counted, then filled, down mask's rows. */
    for (ptrdiff_t t = 0; t <= batch; ++t) starts[t] = 0;
    for (ptrdiff_t c = 0; c < C; ++c)
        for (ptrdiff_t t = 0; t < batch; ++t) starts[t + 1] += mask[c * batch + t] != 0;
    for (ptrdiff_t t = 0; t < batch; ++t) starts[t + 1] += starts[t];
    for (ptrdiff_t c = 0; c < C; ++c)
        for (ptrdiff_t t = 0; t < batch; ++t)
            if (mask[c * batch + t] != 0) kept[starts[t]++] = (int32_t)c;
    for (ptrdiff_t t = batch; t > 0; --t) starts[t] = starts[t - 1];
    starts[0] = 0;

    double loss = 0;
    for (ptrdiff_t t = 0; t < batch; ++t) {
        const float *features = x + t * n, *goal = target + t * n;
        const int32_t *slots = kept + starts[t];
        const ptrdiff_t count = starts[t + 1] - starts[t];
        if (count == 0) {
            /* z = bias: only the loss; nothing to take the gradient back to. */
            for (ptrdiff_t o = 0; o < n; ++o) {
                const float e = relu_residual(bias[o], goal[o]);
                loss += (double)(e * e);
            }
            continue;
        }
        ptrdiff_t present_count = 0;
        for (ptrdiff_t i = 0; i < n; ++i)
            if (features[i] != 0) present[present_count++] = (int32_t)i;
        /* P_c = x A_c over the present features, in order. */
        for (ptrdiff_t slot = 0; slot < count; ++slot)
            for (ptrdiff_t r = 0; r < k; ++r) {
                const ptrdiff_t c = slots[slot];
                float sum = 0;
                for (ptrdiff_t e = 0; e < present_count; ++e) sum += a[(c * n + present[e]) * k + r] * features[present[e]];
                p[slot * k + r] = sum;
            }
        /* h = Σ_c P_c B_c, v_c = h B_cᵀ. */
        for (ptrdiff_t j = 0; j < m; ++j) hidden[j] = 0;
        for (ptrdiff_t slot = 0; slot < count; ++slot)
            for (ptrdiff_t r = 0; r < k; ++r) {
                const float pr = p[slot * k + r];
                const float *row = b + (slots[slot] * k + r) * m;
                for (ptrdiff_t j = 0; j < m; ++j) hidden[j] += pr * row[j];
            }
        for (ptrdiff_t slot = 0; slot < count; ++slot)
            for (ptrdiff_t r = 0; r < k; ++r) {
                const float *row = b + (slots[slot] * k + r) * m;
                float sum = 0;
                for (ptrdiff_t j = 0; j < m; ++j) sum += row[j] * hidden[j];
                inner[slot * k + r] = sum;
            }
        /* z = Σ_c v_c A_cᵀ + bias, each output's terms in (slot, r) order. */
        for (ptrdiff_t o = 0; o < n; ++o) z[o] = bias[o];
        for (ptrdiff_t slot = 0; slot < count; ++slot)
            for (ptrdiff_t r = 0; r < k; ++r) {
                const float v = inner[slot * k + r];
                const float *column = at + (slots[slot] * k + r) * n;
                for (ptrdiff_t o = 0; o < n; ++o) z[o] += column[o] * v;
            }
        for (ptrdiff_t o = 0; o < n; ++o) {
            const float e = relu_residual(z[o], goal[o]);
            loss += (double)(e * e);
            dz[o] = z[o] > 0 ? scale * e : 0.0f;
        }
        /* Backward through z = Σ v A + bias, then v = h Bᵀ, then h = Σ P B and P = x A. */
        for (ptrdiff_t i = 0; i < count * k; ++i) d_inner[i] = 0;
        for (ptrdiff_t o = 0; o < n; ++o) {
            if (dz[o] == 0) continue;
            for (ptrdiff_t slot = 0; slot < count; ++slot) {
                float *g = ga + (slots[slot] * n + o) * k;
                const float *w = a + (slots[slot] * n + o) * k;
                for (ptrdiff_t r = 0; r < k; ++r) {
                    g[r] += dz[o] * inner[slot * k + r];
                    d_inner[slot * k + r] += w[r] * dz[o];
                }
            }
        }
        for (ptrdiff_t j = 0; j < m; ++j) d_hidden[j] = 0;
        for (ptrdiff_t slot = 0; slot < count; ++slot)
            for (ptrdiff_t r = 0; r < k; ++r) {
                const ptrdiff_t at_row = (slots[slot] * k + r) * m;
                const float dv = d_inner[slot * k + r];
                for (ptrdiff_t j = 0; j < m; ++j) {
                    gb[at_row + j] += dv * hidden[j];
                    d_hidden[j] += b[at_row + j] * dv;
                }
            }
        for (ptrdiff_t slot = 0; slot < count; ++slot)
            for (ptrdiff_t r = 0; r < k; ++r) {
                const ptrdiff_t c = slots[slot], at_row = (c * k + r) * m;
                const float pr = p[slot * k + r];
                float d = 0;
                for (ptrdiff_t j = 0; j < m; ++j) d += b[at_row + j] * d_hidden[j];
                for (ptrdiff_t j = 0; j < m; ++j) gb[at_row + j] += pr * d_hidden[j];
                for (ptrdiff_t e = 0; e < present_count; ++e) ga[(c * n + present[e]) * k + r] += features[present[e]] * d;
            }
    }
    return loss;
}

static double sparse_pass_portable(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                                   const float *x, const float *target, const float *mask, const float *bias,
                                   const float *a, const float *b, float scale, float *grad_a, float *grad_b, float *scratch) {
    return sparse_pass(batch, n, m, rank, components, x, target, mask, bias, a, b, scale, grad_a, grad_b, scratch);
}

#if CK_HAS_DISPATCH
/* The same loops for eight-lane vectors. */
CK_TARGET_AVX2 static double sparse_pass_avx2(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                                              const float *x, const float *target, const float *mask, const float *bias,
                                              const float *a, const float *b, float scale, float *grad_a, float *grad_b,
                                              float *scratch) {
    return sparse_pass(batch, n, m, rank, components, x, target, mask, bias, a, b, scale, grad_a, grad_b, scratch);
}
#endif

double ck_apd_tied_sparse_pass_path(int path, ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                                    const float *x, const float *target, const float *mask, const float *bias,
                                    const float *a, const float *b, float scale, float *grad_a, float *grad_b, float *scratch) {
#if CK_HAS_DISPATCH
    if (path != 1 && ck_cpu_has_avx2())
        return sparse_pass_avx2(batch, n, m, rank, components, x, target, mask, bias, a, b, scale, grad_a, grad_b, scratch);
#else
    (void)path;
#endif
    return sparse_pass_portable(batch, n, m, rank, components, x, target, mask, bias, a, b, scale, grad_a, grad_b, scratch);
}

double ck_apd_tied_sparse_pass(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                               const float *x, const float *target, const float *mask, const float *bias,
                               const float *a, const float *b, float scale, float *grad_a, float *grad_b, float *scratch) {
    return ck_apd_tied_sparse_pass_path(0, batch, n, m, rank, components, x, target, mask, bias, a, b, scale, grad_a, grad_b, scratch);
}
