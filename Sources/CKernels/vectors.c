/*
 * vectors.c - matrix-vector products and rank-one updates on short, row-major operands: the
 * per-pair work of APD's sparse pass ([1000, 50] and [50, 1000] components), which Swift compiled
 * for the baseline instruction set runs without FMA at a quarter of the vector width.
 */

#include "ck_vectors.h"

#include "cpu_dispatch.h"

/* ---- portable ---------------------------------------------------------------------------- */

static void vector_matrix_portable(const float *x, const float *a, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t lda, float *y) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const float s = x[i];
        if (s == 0) continue;
        for (ptrdiff_t j = 0; j < cols; ++j) y[j] += s * a[i * lda + j];
    }
}

static void matrix_vector_portable(const float *a, const float *x, ptrdiff_t rows, ptrdiff_t cols, float *y) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float s = 0;
        for (ptrdiff_t j = 0; j < cols; ++j) s += a[i * cols + j] * x[j];
        y[i] += s;
    }
}

static void rank_one_portable(const float *x, const float *y, ptrdiff_t rows, ptrdiff_t cols, float *a) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const float s = x[i];
        if (s == 0) continue;
        for (ptrdiff_t j = 0; j < cols; ++j) a[i * cols + j] += s * y[j];
    }
}

/* ---- AVX2 / FMA -------------------------------------------------------------------------- */

#if CK_HAS_DISPATCH
/* y[0..<n] += s * v[0..<n]: full vectors, then a scalar tail (masked stores are slow on Zen). */
static inline __attribute__((always_inline, target("avx2,fma"))) void axpy_avx2(float s, const float *v, float *y, ptrdiff_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_fmadd_ps(vs, _mm256_loadu_ps(v + j), _mm256_loadu_ps(y + j)));
    for (; j < n; ++j) y[j] += s * v[j];
}

/* For narrow y (up to 64 columns) the sums stay in registers across all rows, the partial last
 * vector's too (masked loads): kept in memory, its few sums were one chain of load, FMA and store
 * through every row, several times slower than the rest at 50 columns. */
#define CK_NARROW 64
CK_TARGET_AVX2 static void vector_matrix_avx2(const float *x, const float *a, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t lda, float *y) {
    if (cols > CK_NARROW || cols < 8) {
        for (ptrdiff_t i = 0; i < rows; ++i)
            if (x[i] != 0) axpy_avx2(x[i], a + i * lda, y, cols);
        return;
    }
    const int nv = (int)(cols / 8), rest = (int)(cols % 8);
    const __m256i tail = ck_lane_mask(rest);
    __m256 acc[CK_NARROW / 8];
    for (int v = 0; v < nv; ++v) acc[v] = _mm256_loadu_ps(y + 8 * v);
    __m256 last = rest ? _mm256_maskload_ps(y + 8 * nv, tail) : _mm256_setzero_ps();
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const float s = x[i];
        if (s == 0) continue;
        const __m256 vs = _mm256_set1_ps(s);
        const float *row = a + i * lda;
        switch (nv) { /* unrolled so that the sums are registers */
        case 8: acc[7] = _mm256_fmadd_ps(vs, _mm256_loadu_ps(row + 56), acc[7]); /* fall through */
        case 7: acc[6] = _mm256_fmadd_ps(vs, _mm256_loadu_ps(row + 48), acc[6]); /* fall through */
        case 6: acc[5] = _mm256_fmadd_ps(vs, _mm256_loadu_ps(row + 40), acc[5]); /* fall through */
        case 5: acc[4] = _mm256_fmadd_ps(vs, _mm256_loadu_ps(row + 32), acc[4]); /* fall through */
        case 4: acc[3] = _mm256_fmadd_ps(vs, _mm256_loadu_ps(row + 24), acc[3]); /* fall through */
        case 3: acc[2] = _mm256_fmadd_ps(vs, _mm256_loadu_ps(row + 16), acc[2]); /* fall through */
        case 2: acc[1] = _mm256_fmadd_ps(vs, _mm256_loadu_ps(row + 8), acc[1]); /* fall through */
        default: acc[0] = _mm256_fmadd_ps(vs, _mm256_loadu_ps(row), acc[0]);
        }
        if (rest) last = _mm256_fmadd_ps(vs, _mm256_maskload_ps(row + 8 * nv, tail), last);
    }
    for (int v = 0; v < nv; ++v) _mm256_storeu_ps(y + 8 * v, acc[v]);
    if (rest) {
        float lanes[8];
        _mm256_storeu_ps(lanes, last);
        for (int j = 0; j < rest; ++j) y[8 * nv + j] = lanes[j];
    }
}

CK_TARGET_AVX2 static void matrix_vector_avx2(const float *a, const float *x, ptrdiff_t rows, ptrdiff_t cols, float *y) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const float *row = a + i * cols;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        ptrdiff_t j = 0;
        for (; j + 16 <= cols; j += 16) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(x + j), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + j + 8), _mm256_loadu_ps(x + j + 8), s1);
        }
        if (j + 8 <= cols) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(x + j), s0);
            j += 8;
        }
        float s = ck_sum_of_lanes(_mm256_add_ps(s0, s1));
        for (; j < cols; ++j) s += row[j] * x[j];
        y[i] += s;
    }
}

CK_TARGET_AVX2 static void rank_one_avx2(const float *x, const float *y, ptrdiff_t rows, ptrdiff_t cols, float *a) {
    for (ptrdiff_t i = 0; i < rows; ++i)
        if (x[i] != 0) axpy_avx2(x[i], y, a + i * cols, cols);
}

#endif

/* ---- entry points ------------------------------------------------------------------------ */

void ck_vector_matrix_strided(const float *x, const float *a, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t lda, float *y) {
#if CK_HAS_DISPATCH
    if (ck_cpu_has_avx2()) { vector_matrix_avx2(x, a, rows, cols, lda, y); return; }
#endif
    vector_matrix_portable(x, a, rows, cols, lda, y);
}

void ck_vector_matrix(const float *x, const float *a, ptrdiff_t rows, ptrdiff_t cols, float *y) {
    ck_vector_matrix_strided(x, a, rows, cols, cols, y);
}

void ck_matrix_vector(const float *a, const float *x, ptrdiff_t rows, ptrdiff_t cols, float *y) {
#if CK_HAS_DISPATCH
    if (ck_cpu_has_avx2()) { matrix_vector_avx2(a, x, rows, cols, y); return; }
#endif
    matrix_vector_portable(a, x, rows, cols, y);
}

void ck_rank_one(const float *x, const float *y, ptrdiff_t rows, ptrdiff_t cols, float *a) {
#if CK_HAS_DISPATCH
    if (ck_cpu_has_avx2()) { rank_one_avx2(x, y, rows, cols, a); return; }
#endif
    rank_one_portable(x, y, rows, cols, a);
}
