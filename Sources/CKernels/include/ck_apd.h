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

#ifdef __cplusplus
}
#endif

#endif
