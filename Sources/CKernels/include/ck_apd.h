#ifndef CK_APD_H
#define CK_APD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The gradient attributions of APD's components on the tied toy model (`TiedToyModelStep`), with
/// each component's inner activations P = x A_c and Q = h B_cᵀ on the way:
///
///     P[c][r][t] = Σ_i a[c][i][r] x[i][t],   Q[c][r][t] = Σ_j b[c][r][j] hidden[j][t],
///     attribution[c][t] = Σ_o active[o][t] · (Σ_r projected[c][r][o] P[c][r][t] + a[c][o][r] Q[c][r][t])²
///
/// Shapes (row-major, samples innermost): x, active: [n][batch]; hidden: [m][batch];
/// a: [components][n][rank]; b: [components][rank][m]; projected: [components][rank][n];
/// p, q (written unless p is NULL): [components][rank][batch]; attribution (written): [components][batch].
/// Every sum runs in the order above with a separate multiply and add (no FMA), so the results are
/// the same on every CPU and equal those of the plain loops; vectors of samples whose x or active
/// entries are all zero are skipped, which adds only ±0. AVX-512 when the CPU has it, else AVX2.
void ck_apd_tied_attributions(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                              const float *x, const float *hidden, const float *active,
                              const float *a, const float *b, const float *projected,
                              float *p, float *q, float *attribution);

/// `ck_apd_tied_attributions` on a chosen path, for tests: 0 the best this CPU has, 1 portable,
/// 2 AVX-512, 3 AVX2 (each falling back to the next where the CPU lacks it, and to portable for
/// rank > 32 or n, m > 256). All give the same bits.
void ck_apd_tied_attributions_path(int path, ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                                   const float *x, const float *hidden, const float *active,
                                   const float *a, const float *b, const float *projected,
                                   float *p, float *q, float *attribution);

/// The sparse pass of APD's batch top-k on the tied toy model (`TiedToyModelStep`): each sample t
/// through only the components c it keeps (mask[c][t] ≠ 0),
///
///     P_c = x A_c,  h = Σ_c P_c B_c,  v_c = h B_cᵀ,  z = Σ_c v_c A_cᵀ + bias,  out = ReLU(z),
///
/// then the gradient of Σ_t Σ_o (out − target)², times `scale`, added to grad_a and grad_b. Returns
/// that sum (before scaling). Shapes (row-major): x, target: [batch][n] (samples outermost);
/// mask: [components][batch]; bias: [n]; a, grad_a: [components][n][rank]; b, grad_b:
/// [components][rank][m]; scratch: `ck_apd_tied_sparse_scratch_count` floats. Every sum runs in the
/// order of plain loops over samples, kept components (increasing), rank and features, with a
/// separate multiply and add, so the results are the same on every CPU.
double ck_apd_tied_sparse_pass(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                               const float *x, const float *target, const float *mask, const float *bias,
                               const float *a, const float *b, float scale, float *grad_a, float *grad_b, float *scratch);

/// Scratch floats `ck_apd_tied_sparse_pass` needs.
ptrdiff_t ck_apd_tied_sparse_scratch_count(ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components);

/// `ck_apd_tied_sparse_pass` on a chosen path, for tests: 0 the best this CPU has (AVX2 where it has
/// it), 1 portable. Both give the same bits.
double ck_apd_tied_sparse_pass_path(int path, ptrdiff_t batch, ptrdiff_t n, ptrdiff_t m, ptrdiff_t rank, ptrdiff_t components,
                                    const float *x, const float *target, const float *mask, const float *bias,
                                    const float *a, const float *b, float scale, float *grad_a, float *grad_b, float *scratch);

#ifdef __cplusplus
}
#endif

#endif
