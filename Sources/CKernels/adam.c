/*
 * adam.c - the Adam/AdamW update, vectorised: a memory-bound loop over millions of parameters
 * (APD's residual MLP has 13.6 M) that the Swift loop did not vectorise.
 */

#include "ck_adam.h"

#include <math.h>

#include "cpu_dispatch.h"

/* The scalar update: the baseline path, and the AVX2 path's ragged tail. */
#define CK_ADAM_LOOP                                                                    \
    for (ptrdiff_t i = 0; i < count; ++i) {                                             \
        const float gi = g[i] + l2 * p[i];                                              \
        m[i] = b1 * m[i] + (1 - b1) * gi;                                               \
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;                                          \
        p[i] = p[i] * decay - step_size * m[i] / (sqrtf(v[i]) * inverse_root_correction2 + eps); \
    }

static void adam_portable(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                          ptrdiff_t count, float b1, float b2, float l2, float decay, float step_size,
                          float inverse_root_correction2, float eps) {
    CK_ADAM_LOOP
}

#if CK_HAS_DISPATCH
/* Written with intrinsics: the compiler keeps sqrtf scalar (it may set errno), which left the
 * loop unvectorised. Each lane does what the scalar loop does, FMA contracted where the compiler
 * contracts it there; the ragged tail runs the scalar loop. */
CK_TARGET_AVX2 static void adam_avx2(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                                   ptrdiff_t count, float b1, float b2, float l2, float decay, float step_size,
                                   float inverse_root_correction2, float eps) {
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2), vl2 = _mm256_set1_ps(l2);
    const __m256 c1 = _mm256_set1_ps(1 - b1), c2 = _mm256_set1_ps(1 - b2), vdecay = _mm256_set1_ps(decay);
    const __m256 vstep = _mm256_set1_ps(step_size), vroot = _mm256_set1_ps(inverse_root_correction2);
    const __m256 veps = _mm256_set1_ps(eps);
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 pi = _mm256_loadu_ps(p + i);
        const __m256 gi = _mm256_fmadd_ps(vl2, pi, _mm256_loadu_ps(g + i));
        const __m256 mi = _mm256_fmadd_ps(vb1, _mm256_loadu_ps(m + i), _mm256_mul_ps(c1, gi));
        const __m256 vi = _mm256_fmadd_ps(vb2, _mm256_loadu_ps(v + i), _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
        const __m256 denominator = _mm256_fmadd_ps(_mm256_sqrt_ps(vi), vroot, veps);
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(p + i, _mm256_fmsub_ps(pi, vdecay, _mm256_div_ps(_mm256_mul_ps(vstep, mi), denominator)));
    }
    p += i; g += i; m += i; v += i; count -= i;
    CK_ADAM_LOOP
}
#endif

void ck_adam_update(float *p, const float *g, float *m, float *v, ptrdiff_t count,
                    float b1, float b2, float l2, float decay, float step_size,
                    float inverse_root_correction2, float eps) {
#if CK_HAS_DISPATCH
    if (ck_cpu_has_avx2()) {
        adam_avx2(p, g, m, v, count, b1, b2, l2, decay, step_size, inverse_root_correction2, eps);
        return;
    }
#endif
    adam_portable(p, g, m, v, count, b1, b2, l2, decay, step_size, inverse_root_correction2, eps);
}
