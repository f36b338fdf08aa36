/*
 * sgemm.c - single-precision GEMM for row-major matrices, single-threaded.
 *
 *     C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C
 *
 * Both operands are addressed through a (row stride, column stride) pair, so the four transpose
 * combinations share the code paths below; only packing and loading see the difference.
 *
 * Packed path (Goto / BLIS blocking), the general case:
 *
 *   for jc in 0..<n  step NC                        column block of B and C
 *     for pc in 0..<k  step KC                      rank-kc update (KC balanced over k)
 *       pack B[pc.., jc..] -> Bp: kc x 16 micro-panels (the last one kc x 8 if <= 8 columns
 *                                 remain), zero padded; Bp (<= 256 x 4096 floats) lives in L2/L3
 *       for ic in 0..<m  step MC
 *         pack A[ic.., pc..] -> Ap: 6 x kc micro-panels, zero padded; Ap (<= 144 x 256) in L2
 *         for jr in 0..<nc step 16                   one B micro-panel, stays in L1
 *           for ir in 0..<mc step 6                  one A micro-panel
 *             6x16 microkernel: 12 ymm accumulators; per k step 2 loads of B, 6 broadcasts
 *             of A, 12 FMAs; then C = alpha * acc + beta * C (beta on the first pc block only;
 *             ragged edge tiles go through a scratch tile). The C tile is prefetched first.
 *
 *   An 8-wide last B micro-panel runs a 12x8 kernel over two A micro-panels, so a narrow column
 *   edge (n % 16 <= 8) costs half of a 16-wide tile and still keeps 12 FMA chains in flight.
 *
 * Streaming path: row-major op(A) and a packed B k-block (kc x n) that fits in L2 (n up to a
 * few hundred). A is not packed: each 6-row strip is read in place, stays in L1, and meets every
 * B micro-panel in turn with the same microkernels. The k blocks are as deep as L2 allows (up to
 * 1024), so C is revisited rarely. This is the path of benchmark shapes like (2048, 1000, 100).
 *
 * Direct path, n <= 24 (skinny outputs of small models): no packing of A. Tiles of 3-8 rows of C
 * against 1-3 eight-wide column vectors, A broadcast in place, B rows read in place (a ragged or
 * transposed 8-column group is first copied to a zero-padded [k][8] block).
 *
 * Column path, n <= 6 and small k: vectorised down the columns of C instead, with 8 x 8
 * transposes of A on the way in and of C on the way out, so narrow C does not waste lanes.
 *
 * The AVX2/FMA functions carry __attribute__((target("avx2,fma"))) and are selected at run time
 * with __builtin_cpu_supports, so the file needs no compiler flags. Other CPUs (and non-x86)
 * use a portable loop that the compiler vectorises for the baseline instruction set.
 * Packing buffers are per-thread, grown on demand and freed when the thread exits.
 */

#include "CKernels.h"
#include "cpu_dispatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CK_X86 1
#include <immintrin.h>
#else
#define CK_X86 0
#endif

#if !defined(_WIN32)
#include <pthread.h>
#define CK_PTHREADS 1
#else
#include <malloc.h>
#define CK_PTHREADS 0
#endif

/* ------------------------------------------------------------------------------------------ */
/* Problem description                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    ptrdiff_t m, n, k;
    float alpha, beta;
    const float *a;
    ptrdiff_t ars, acs; /* op(A)(i, p) = a[i * ars + p * acs] */
    const float *b;
    ptrdiff_t brs, bcs; /* op(B)(p, j) = b[p * brs + j * bcs] */
    float *c;
    ptrdiff_t ldc;
} gemm_args;

static inline ptrdiff_t min_pd(ptrdiff_t x, ptrdiff_t y) { return x < y ? x : y; }
static inline ptrdiff_t round_up(ptrdiff_t x, ptrdiff_t to) { return (x + to - 1) / to * to; }

/* C = beta * C, without reading C when beta == 0 (used when k == 0 or alpha == 0). */
static void scale_c(const gemm_args *g) {
    for (ptrdiff_t i = 0; i < g->m; ++i) {
        float *row = g->c + i * g->ldc;
        if (g->beta == 0) {
            memset(row, 0, (size_t)g->n * sizeof(float));
        } else if (g->beta != 1) {
            for (ptrdiff_t j = 0; j < g->n; ++j) row[j] *= g->beta;
        }
    }
}

/* Portable path: row of C at a time, rank-1 updates along k (the inner loop over j vectorises
 * with the baseline instruction set when B is not transposed). */
static void gemm_portable(const gemm_args *g) {
    scale_c(g);
    for (ptrdiff_t i = 0; i < g->m; ++i) {
        float *crow = g->c + i * g->ldc;
        for (ptrdiff_t p = 0; p < g->k; ++p) {
            const float av = g->alpha * g->a[i * g->ars + p * g->acs];
            const float *bp = g->b + p * g->brs;
            const ptrdiff_t bcs = g->bcs;
            if (bcs == 1) {
                for (ptrdiff_t j = 0; j < g->n; ++j) crow[j] += av * bp[j];
            } else {
                for (ptrdiff_t j = 0; j < g->n; ++j) crow[j] += av * bp[j * bcs];
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Per-thread scratch memory                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    float *ptr;
    size_t capacity; /* in floats */
} scratch_buffer;

typedef struct {
    scratch_buffer a, b;
} scratch_space;

static void scratch_buffer_free(scratch_buffer *s) {
#if CK_PTHREADS
    free(s->ptr);
#else
    _aligned_free(s->ptr);
#endif
    s->ptr = NULL;
    s->capacity = 0;
}

/* Returns 64-byte aligned storage for at least `count` floats, or NULL when out of memory. */
static float *scratch_reserve(scratch_buffer *s, size_t count) {
    if (count <= s->capacity) return s->ptr;
    scratch_buffer_free(s);
    size_t bytes = (count * sizeof(float) + 63) & ~(size_t)63;
    void *p = NULL;
#if CK_PTHREADS
    if (posix_memalign(&p, 64, bytes) != 0) p = NULL;
#else
    p = _aligned_malloc(bytes, 64);
#endif
    s->ptr = (float *)p;
    s->capacity = p ? count : 0;
    return s->ptr;
}

#if CK_PTHREADS
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok = 0;

static void scratch_destroy(void *p) {
    scratch_space *s = (scratch_space *)p;
    scratch_buffer_free(&s->a);
    scratch_buffer_free(&s->b);
    free(s);
}

static void scratch_key_init(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0; }

/* The calling thread's scratch space (created on first use), or NULL. */
static scratch_space *scratch_get(void) {
    pthread_once(&scratch_once, scratch_key_init);
    if (!scratch_key_ok) return NULL;
    scratch_space *s = (scratch_space *)pthread_getspecific(scratch_key);
    if (s) return s;
    s = (scratch_space *)calloc(1, sizeof *s);
    if (s && pthread_setspecific(scratch_key, s) != 0) {
        free(s);
        s = NULL;
    }
    return s;
}
#else
/* Without pthreads there is no thread-exit hook: the buffers of a finished thread are not freed. */
static _Thread_local scratch_space thread_scratch;
static scratch_space *scratch_get(void) { return &thread_scratch; }
#endif

/* ------------------------------------------------------------------------------------------ */
/* AVX2 + FMA kernels                                                                          */
/* ------------------------------------------------------------------------------------------ */

#if CK_X86

#define CK_TARGET __attribute__((target("avx2,fma")))
#define CK_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

enum {
    MR = 6,     /* rows of an A micro-panel / microkernel tile */
    NR = 16,    /* columns of a B micro-panel / microkernel tile */
    KC = 256,   /* depth of a packed block; balanced so all blocks have nearly equal depth */
    MC = 144,   /* rows of a packed A block (multiple of MR) */
    NC = 4096,  /* columns of a packed B block (multiple of NR) */
    PAD = 16,   /* slack floats after packed buffers (overlapping 8-wide stores) */
    STREAM_MAX_B = 128 * 1024, /* floats of packed B (kc x n) the streaming path keeps in L2 */
    STREAM_KC = 1024,  /* deepest k block of the streaming path (a 6 x kc strip of A in L1) */
    DIRECT_MAX_N = 24,  /* the direct path takes n <= 24 (up to 3 vectors per row) */
    COLUMN_MAX_N = 6,   /* the column path takes n <= 6 ... */
    COLUMN_MAX_K = 32,  /* ... and k <= 32 (its copies of A and B live on the stack) */
};

/* ---- packing ------------------------------------------------------------------------------ */

/*
 * A micro-panel is `kc` groups of `W` (6, 8 or 16) floats: dst[p * W + r] = src[r * sp + p * sk]
 * for r < w, zero for w <= r < W. `sp` is the stride between the panel's rows (A) or columns (B),
 * `sk` the stride along k, and one of them is 1: contiguous groups (sp == 1) are copied with
 * masked loads, otherwise 8 x 8 blocks are transposed in registers. Masked loads never touch
 * memory outside the matrix. With W == 6 each 8-wide store spills two floats into the next group,
 * which is written afterwards (packed buffers carry PAD floats of slack for the very last one).
 */
CK_TARGET static void pack_copy(float *dst, int W, int w, ptrdiff_t kc, const float *src, ptrdiff_t sk) {
    const __m256i lo = ck_lane_mask(w < 8 ? w : 8), hi = ck_lane_mask(w - 8);
    if (W == 16) {
        for (ptrdiff_t p = 0; p < kc; ++p, src += sk, dst += 16) {
            _mm256_storeu_ps(dst, _mm256_maskload_ps(src, lo));
            _mm256_storeu_ps(dst + 8, _mm256_maskload_ps(src + 8, hi));
        }
    } else {
        for (ptrdiff_t p = 0; p < kc; ++p, src += sk, dst += W) _mm256_storeu_ps(dst, _mm256_maskload_ps(src, lo));
    }
}

/* Transposes the 8 x 8 block at src (row stride sp; rows >= `rows` read as zero) and stores its
 * columns at dst + q * W. Called with constant arguments, so everything stays in registers. */
CK_INLINE void transpose_block(float *dst, int W, const float *src, ptrdiff_t sp, int rows) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src + i * sp) : _mm256_setzero_ps();
    ck_transpose8(r);
    for (int q = 0; q < 8; ++q) _mm256_storeu_ps(dst + q * W, r[q]);
}

CK_TARGET static void pack_transpose(float *dst, int W, int w, ptrdiff_t kc, const float *src, ptrdiff_t sp) {
    ptrdiff_t p = 0;
    if (w == W && W == 6) {
        for (; p + 8 <= kc; p += 8) transpose_block(dst + p * 6, 6, src + p, sp, 6);
    } else if (w == W) {
        for (; p + 8 <= kc; p += 8)
            for (int g = 0; g < W; g += 8) transpose_block(dst + p * W + g, W, src + g * sp + p, sp, 8);
    }
    /* Ragged panels and the last k < 8 steps: masked loads, zero rows beyond w. */
    for (; p < kc; p += 8) {
        const int depth = (int)min_pd(8, kc - p);
        const __m256i kmask = ck_lane_mask(depth);
        for (int g = 0; g < W; g += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; ++i)
                r[i] = g + i < w ? _mm256_maskload_ps(src + (g + i) * sp + p, kmask) : _mm256_setzero_ps();
            ck_transpose8(r);
            for (int q = 0; q < depth; ++q) _mm256_storeu_ps(dst + (p + q) * W + g, r[q]);
        }
    }
}

CK_TARGET static void pack_panel(float *dst, int W, int w, ptrdiff_t kc, const float *src, ptrdiff_t sp, ptrdiff_t sk) {
    if (sp == 1) {
        pack_copy(dst, W, w, kc, src, sk);
    } else { /* sk == 1 */
        pack_transpose(dst, W, w, kc, src, sp);
    }
}

/*
 * Packs a whole block whose k-rows are contiguous (sp == 1) one k-row at a time: row p (width
 * `total`) is cut into groups of W (6 or 16) for consecutive micro-panels, panel j0 starting at
 * dst + j0 * kc. With `narrow_last`, a last panel of at most 8 is packed 8 wide. Reading each
 * row once, in order, beats walking panel by panel down a large stride (a cache line and often
 * a page per k step). Stores stay inside their group: the next panel's group is already written.
 */
CK_TARGET static void pack_block_rows(float *dst, ptrdiff_t total, int W, int narrow_last, ptrdiff_t kc,
                                      const float *src, ptrdiff_t sk) {
    const ptrdiff_t full = total / W * W;
    const int w = (int)(total - full);
    const int wlast = narrow_last && w <= 8 ? 8 : W;
    const __m256i six = ck_lane_mask(6), lo = ck_lane_mask(w < 8 ? w : 8), hi = ck_lane_mask(w - 8);
    for (ptrdiff_t p = 0; p < kc; ++p, src += sk) {
        ptrdiff_t j = 0;
        if (W == 16) {
            for (; j < full; j += 16) {
                float *d = dst + j * kc + p * 16;
                _mm256_storeu_ps(d, _mm256_loadu_ps(src + j));
                _mm256_storeu_ps(d + 8, _mm256_loadu_ps(src + j + 8));
            }
        } else { /* W == 6 */
            for (; j < full; j += 6) {
                const __m256 x = _mm256_maskload_ps(src + j, six);
                float *d = dst + j * kc + p * 6;
                _mm_storeu_ps(d, _mm256_castps256_ps128(x));
                _mm_storel_pi((__m64 *)(d + 4), _mm256_extractf128_ps(x, 1));
            }
        }
        if (w) { /* ragged last panel, zero padded (wlast is 6, 8 or 16) */
            const __m256 x = _mm256_maskload_ps(src + j, lo);
            float *d = dst + j * kc + p * wlast;
            if (wlast == 6) {
                _mm_storeu_ps(d, _mm256_castps256_ps128(x));
                _mm_storel_pi((__m64 *)(d + 4), _mm256_extractf128_ps(x, 1));
            } else {
                _mm256_storeu_ps(d, x);
                if (wlast == 16) _mm256_storeu_ps(d + 8, _mm256_maskload_ps(src + j + 8, hi));
            }
        }
    }
}

/* Packs op(A)[ic ..< ic+mc, pc ..< pc+kc] into 6 x kc micro-panels (panel ir at ap + ir * kc). */
CK_TARGET static void pack_a_block(float *ap, const gemm_args *g, ptrdiff_t ic, ptrdiff_t pc, ptrdiff_t mc, ptrdiff_t kc) {
    const float *a = g->a + ic * g->ars + pc * g->acs;
    if (g->ars == 1) { /* transposed A: k-rows are contiguous */
        pack_block_rows(ap, mc, MR, 0, kc, a, g->acs);
        return;
    }
    for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
        pack_panel(ap + ir * kc, MR, (int)min_pd(MR, mc - ir), kc, a + ir * g->ars, g->ars, g->acs);
    }
}

/* Packs op(B)[pc ..< pc+kc, jc ..< jc+nc] into kc x 16 micro-panels (kc x 8 for a last panel of
 * at most 8 columns). Panel jr starts at bp + jr * kc. */
CK_TARGET static void pack_b_block(float *bp, const gemm_args *g, ptrdiff_t pc, ptrdiff_t jc, ptrdiff_t kc, ptrdiff_t nc) {
    const float *b = g->b + pc * g->brs + jc * g->bcs;
    if (g->bcs == 1) { /* row-major B: k-rows are contiguous */
        pack_block_rows(bp, nc, NR, 1, kc, b, g->brs);
        return;
    }
    for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
        const int nr = (int)min_pd(NR, nc - jr);
        pack_panel(bp + jr * kc, nr > 8 ? 16 : 8, nr, kc, b + jr * g->bcs, g->bcs, g->brs);
    }
}

/* ---- write-back --------------------------------------------------------------------------- */

/* c[0..<8] = alpha * acc + beta * c (c not read when beta == 0). */
CK_INLINE void store_vec(float *c, __m256 acc, __m256 valpha, float beta) {
    __m256 r = _mm256_mul_ps(acc, valpha);
    if (beta != 0) r = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c), r);
    _mm256_storeu_ps(c, r);
}

/* Writes the R x (8*V) accumulator tile acc[r * V + v] to C, only its top-left mr x nr part. */
CK_INLINE void store_tile(float *c, ptrdiff_t ldc, const __m256 *acc, int R, int V, int mr, int nr, float alpha, float beta) {
    const __m256 valpha = _mm256_set1_ps(alpha);
    if (mr == R && nr == 8 * V) {
        for (int r = 0; r < R; ++r)
            for (int v = 0; v < V; ++v) store_vec(c + r * ldc + 8 * v, acc[r * V + v], valpha, beta);
        return;
    }
    float tile[6 * 16];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) _mm256_storeu_ps(tile + r * 8 * V + 8 * v, _mm256_mul_ps(acc[r * V + v], valpha));
    for (int r = 0; r < mr; ++r) {
        float *crow = c + r * ldc;
        const float *trow = tile + r * 8 * V;
        if (beta == 0) {
            for (int j = 0; j < nr; ++j) crow[j] = trow[j];
        } else {
            for (int j = 0; j < nr; ++j) crow[j] = trow[j] + beta * crow[j];
        }
    }
}

/* ---- microkernels ------------------------------------------------------------------------- */

/* Starts fetching the rows x (8 * vectors) tile of C that a microkernel will update when it is
 * done, so the C misses overlap with the k loop instead of stalling at the end. */
CK_INLINE void prefetch_tile(const float *c, ptrdiff_t ldc, int rows, int vectors) {
    for (int r = 0; r < rows; ++r) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + 8 * vectors - 1, 1, 3);
    }
}

/* The microkernels read A(r, p) at a[r * ars + p * acs]: (ars, acs) = (1, 6) for a packed
 * micro-panel, (lda, 1) for six rows of a row-major A read in place (the streaming path). */

/* C[6, 16] (top-left mr x nr valid) from 6 x kc of A and a kc x 16 B micro-panel. */
CK_INLINE void kernel_6x16_body(ptrdiff_t kc, const float *a, ptrdiff_t ars, ptrdiff_t acs, const float *b,
                                float *c, ptrdiff_t ldc, int mr, int nr, float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    prefetch_tile(c, ldc, 6, 2);
    for (ptrdiff_t p = 0; p < kc; ++p, a += acs, b += 16) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 t;
        t = _mm256_broadcast_ss(a + 0 * ars); c00 = _mm256_fmadd_ps(t, b0, c00); c01 = _mm256_fmadd_ps(t, b1, c01);
        t = _mm256_broadcast_ss(a + 1 * ars); c10 = _mm256_fmadd_ps(t, b0, c10); c11 = _mm256_fmadd_ps(t, b1, c11);
        t = _mm256_broadcast_ss(a + 2 * ars); c20 = _mm256_fmadd_ps(t, b0, c20); c21 = _mm256_fmadd_ps(t, b1, c21);
        t = _mm256_broadcast_ss(a + 3 * ars); c30 = _mm256_fmadd_ps(t, b0, c30); c31 = _mm256_fmadd_ps(t, b1, c31);
        t = _mm256_broadcast_ss(a + 4 * ars); c40 = _mm256_fmadd_ps(t, b0, c40); c41 = _mm256_fmadd_ps(t, b1, c41);
        t = _mm256_broadcast_ss(a + 5 * ars); c50 = _mm256_fmadd_ps(t, b0, c50); c51 = _mm256_fmadd_ps(t, b1, c51);
    }
    const __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    store_tile(c, ldc, acc, 6, 2, mr, nr, alpha, beta);
}

/* C[6, 8] from 6 x kc of A and a kc x 8 B micro-panel; even and odd k steps go to separate
 * accumulators so 12 FMA chains stay in flight. */
CK_INLINE void kernel_6x8_body(ptrdiff_t kc, const float *a, ptrdiff_t ars, ptrdiff_t acs, const float *b,
                               float *c, ptrdiff_t ldc, int mr, int nr, float alpha, float beta) {
    __m256 e[6], o[6];
    for (int r = 0; r < 6; ++r) e[r] = o[r] = _mm256_setzero_ps();
    prefetch_tile(c, ldc, 6, 1);
    ptrdiff_t p = 0;
    for (; p + 2 <= kc; p += 2, a += 2 * acs, b += 16) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        for (int r = 0; r < 6; ++r) {
            e[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * ars), b0, e[r]);
            o[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + acs + r * ars), b1, o[r]);
        }
    }
    if (p < kc) {
        const __m256 b0 = _mm256_load_ps(b);
        for (int r = 0; r < 6; ++r) e[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * ars), b0, e[r]);
    }
    for (int r = 0; r < 6; ++r) e[r] = _mm256_add_ps(e[r], o[r]);
    store_tile(c, ldc, e, 6, 1, mr, nr, alpha, beta);
}

CK_TARGET static void kernel_6x16(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc,
                                  int mr, int nr, float alpha, float beta) {
    kernel_6x16_body(kc, a, 1, MR, b, c, ldc, mr, nr, alpha, beta);
}

CK_TARGET static void kernel_6x8(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc,
                                 int mr, int nr, float alpha, float beta) {
    kernel_6x8_body(kc, a, 1, MR, b, c, ldc, mr, nr, alpha, beta);
}

CK_TARGET static void kernel_6x16_rows(ptrdiff_t kc, const float *a, ptrdiff_t lda, const float *b, float *c,
                                       ptrdiff_t ldc, int nr, float alpha, float beta) {
    kernel_6x16_body(kc, a, lda, 1, b, c, ldc, MR, nr, alpha, beta);
}

CK_TARGET static void kernel_6x8_rows(ptrdiff_t kc, const float *a, ptrdiff_t lda, const float *b, float *c,
                                      ptrdiff_t ldc, int nr, float alpha, float beta) {
    kernel_6x8_body(kc, a, lda, 1, b, c, ldc, MR, nr, alpha, beta);
}

/* C[12, 8] (top-left mr x nr valid) from two consecutive packed 6 x kc A micro-panels and a
 * kc x 8 B micro-panel: the narrow column edge with 12 independent accumulators. */
CK_TARGET static void kernel_12x8(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc,
                                  int mr, int nr, float alpha, float beta) {
    const float *a2 = a + 6 * kc;
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps();
    __m256 c3 = _mm256_setzero_ps(), c4 = _mm256_setzero_ps(), c5 = _mm256_setzero_ps();
    __m256 c6 = _mm256_setzero_ps(), c7 = _mm256_setzero_ps(), c8 = _mm256_setzero_ps();
    __m256 c9 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    prefetch_tile(c, ldc, 6, 1);
    if (mr > 6) prefetch_tile(c + 6 * ldc, ldc, 6, 1);
    for (ptrdiff_t p = 0; p < kc; ++p, a += 6, a2 += 6, b += 8) {
        const __m256 b0 = _mm256_load_ps(b);
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 0), b0, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 1), b0, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 2), b0, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 3), b0, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4), b0, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 5), b0, c5);
        c6 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 0), b0, c6);
        c7 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 1), b0, c7);
        c8 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 2), b0, c8);
        c9 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 3), b0, c9);
        c10 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 4), b0, c10);
        c11 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + 5), b0, c11);
    }
    const __m256 top[6] = {c0, c1, c2, c3, c4, c5};
    const __m256 bottom[6] = {c6, c7, c8, c9, c10, c11};
    store_tile(c, ldc, top, 6, 1, mr < 6 ? mr : 6, nr, alpha, beta);
    if (mr > 6) store_tile(c + 6 * ldc, ldc, bottom, 6, 1, mr - 6, nr, alpha, beta);
}

/* ---- packed driver ------------------------------------------------------------------------ */

/* All micro-tiles of one packed mc x kc A block against one packed kc x nc B block. */
CK_TARGET static void macro_kernel(ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc, const float *ap, const float *bp,
                                   float *c, ptrdiff_t ldc, float alpha, float beta) {
    for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
        const int nr = (int)min_pd(NR, nc - jr);
        const float *bpanel = bp + jr * kc;
        float *cj = c + jr;
        if (nr > 8) {
            for (ptrdiff_t ir = 0; ir < mc; ir += MR)
                kernel_6x16(kc, ap + ir * kc, bpanel, cj + ir * ldc, ldc, (int)min_pd(MR, mc - ir), nr, alpha, beta);
        } else {
            ptrdiff_t ir = 0;
            for (; ir + MR < mc; ir += 2 * MR)
                kernel_12x8(kc, ap + ir * kc, bpanel, cj + ir * ldc, ldc, (int)min_pd(2 * MR, mc - ir), nr, alpha, beta);
            if (ir < mc) kernel_6x8(kc, ap + ir * kc, bpanel, cj + ir * ldc, ldc, (int)(mc - ir), nr, alpha, beta);
        }
    }
}

/* The depth of the k blocks: at most KC, and all blocks of nearly equal depth. */
static ptrdiff_t balanced_kc(ptrdiff_t k) {
    const ptrdiff_t blocks = (k + KC - 1) / KC;
    return (k + blocks - 1) / blocks;
}

/* Returns 0 (having done nothing) when the scratch memory cannot be had. */
CK_TARGET static int gemm_packed(const gemm_args *g) {
    const ptrdiff_t m = g->m, n = g->n, k = g->k;
    const ptrdiff_t kcmax = balanced_kc(k);
    const ptrdiff_t ncmax = round_up(min_pd(n, NC), NR);
    const ptrdiff_t mcmax = round_up(min_pd(m, MC), MR);
    scratch_space *s = scratch_get();
    if (!s) return 0;
    float *bp = scratch_reserve(&s->b, (size_t)(kcmax * ncmax + PAD));
    float *ap = scratch_reserve(&s->a, (size_t)(mcmax * kcmax + PAD));
    if (!ap || !bp) return 0;

    for (ptrdiff_t jc = 0; jc < n; jc += NC) {
        const ptrdiff_t nc = min_pd(NC, n - jc);
        for (ptrdiff_t pc = 0; pc < k; pc += kcmax) {
            const ptrdiff_t kc = min_pd(kcmax, k - pc);
            const float beta = pc == 0 ? g->beta : 1.0f;
            pack_b_block(bp, g, pc, jc, kc, nc);
            for (ptrdiff_t ic = 0; ic < m; ic += MC) {
                const ptrdiff_t mc = min_pd(MC, m - ic);
                pack_a_block(ap, g, ic, pc, mc, kc);
                macro_kernel(mc, nc, kc, ap, bp, g->c + ic * g->ldc + jc, g->ldc, g->alpha, beta);
            }
        }
    }
    return 1;
}

/* ---- streaming path (row-major A, narrow B) ------------------------------------------------ */

/* Whether B's k-blocks, at the packed path's depth, fit the streaming path's L2 budget. */
static int stream_fits(const gemm_args *g) {
    return min_pd(g->k, KC) * round_up(g->n, NR) <= STREAM_MAX_B;
}

/* Depth of the streaming path's k blocks: as deep as the budget allows, up to STREAM_KC, so C
 * is updated in as few passes as possible; balanced over k. */
static ptrdiff_t stream_kc(ptrdiff_t k, ptrdiff_t n) {
    const ptrdiff_t deepest = min_pd(STREAM_KC, STREAM_MAX_B / round_up(n, NR));
    const ptrdiff_t blocks = (k + deepest - 1) / deepest;
    return (k + blocks - 1) / blocks;
}

/*
 * When op(A) is row-major and the packed k-block of B is small enough to stay in L2, A need not be
 * packed at all: each 6-row strip of A is read in place (and stays in L1) while it meets every
 * B micro-panel in turn. This saves a read and a write of all of A, which for narrow B (n up to
 * a few hundred) costs as much as a large share of the arithmetic. A ragged last strip (m % 6)
 * is packed with zero padding and runs the packed kernels.
 */
CK_TARGET static int gemm_stream_a(const gemm_args *g) {
    const ptrdiff_t m = g->m, n = g->n, k = g->k, lda = g->ars;
    const ptrdiff_t kcmax = stream_kc(k, n);
    scratch_space *s = scratch_get();
    if (!s) return 0;
    float *bp = scratch_reserve(&s->b, (size_t)(kcmax * round_up(n, NR) + PAD));
    float *edge = scratch_reserve(&s->a, (size_t)(MR * kcmax + PAD));
    if (!bp || !edge) return 0;

    for (ptrdiff_t pc = 0; pc < k; pc += kcmax) {
        const ptrdiff_t kc = min_pd(kcmax, k - pc);
        const float beta = pc == 0 ? g->beta : 1.0f;
        pack_b_block(bp, g, pc, 0, kc, n);
        for (ptrdiff_t ir = 0; ir < m; ir += MR) {
            const int mr = (int)min_pd(MR, m - ir);
            const float *a = g->a + ir * lda + pc;
            float *c = g->c + ir * g->ldc;
            if (mr < MR) pack_panel(edge, MR, mr, kc, a, lda, 1);
            for (ptrdiff_t jr = 0; jr < n; jr += NR) {
                const int nr = (int)min_pd(NR, n - jr);
                const float *bpanel = bp + jr * kc;
                if (mr == MR && nr > 8) {
                    kernel_6x16_rows(kc, a, lda, bpanel, c + jr, g->ldc, nr, g->alpha, beta);
                } else if (mr == MR) {
                    kernel_6x8_rows(kc, a, lda, bpanel, c + jr, g->ldc, nr, g->alpha, beta);
                } else if (nr > 8) {
                    kernel_6x16(kc, edge, bpanel, c + jr, g->ldc, mr, nr, g->alpha, beta);
                } else {
                    kernel_6x8(kc, edge, bpanel, c + jr, g->ldc, mr, nr, g->alpha, beta);
                }
            }
        }
    }
    return 1;
}

/* ---- direct path (n <= 24) ---------------------------------------------------------------- */

/* One tile of the direct path: rows [0, R) of C against 8*NV columns. Column vector v < NV-1 of
 * op(B) row p is at b + p * ldb + v * bvs; the last one at last + p * ldlast (a zero-padded copy
 * when the columns are ragged, so the k loop needs no masked loads). */
typedef struct {
    ptrdiff_t k;
    const float *a;
    ptrdiff_t ars, acs; /* op(A)(r, p) = a[r * ars + p * acs] */
    const float *b;
    ptrdiff_t ldb, bvs;
    const float *last;
    ptrdiff_t ldlast;
    float *c;
    ptrdiff_t ldc;
    float alpha, beta;
    int nlast; /* valid columns (1...8) of the last vector */
} direct_tile_args;

/* Stores the first `count` (1...8) lanes of x to c with plain stores (masked stores are very slow
 * on AMD Zen): c[0..<count] = x[0..<count]. */
CK_INLINE void store_lanes(float *c, __m256 x, int count) {
    if (count == 8) {
        _mm256_storeu_ps(c, x);
        return;
    }
    __m128 part = _mm256_castps256_ps128(x);
    if (count >= 4) {
        _mm_storeu_ps(c, part);
        part = _mm256_extractf128_ps(x, 1);
        c += 4;
        count -= 4;
    }
    if (count >= 2) {
        _mm_storel_pi((__m64 *)c, part);
        part = _mm_movehl_ps(part, part);
        c += 2;
        count -= 2;
    }
    if (count) _mm_store_ss(c, part);
}

/* c[0..<count] = alpha * acc + beta * c, count in 1...8 (c not read when beta == 0). */
CK_INLINE void store_partial(float *c, __m256 acc, __m256 valpha, float beta, int count) {
    __m256 x = _mm256_mul_ps(acc, valpha);
    if (beta != 0) x = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(c, ck_lane_mask(count)), x);
    store_lanes(c, x, count);
}

/* One k step of a direct tile: sum[r * NV + v] += op(A)(r, p) * op(B)(p, 8v ..< 8v+8). */
CK_INLINE void direct_step(const int R, const int NV, const direct_tile_args *t, ptrdiff_t p, __m256 *sum) {
    __m256 bv[3];
    for (int v = 0; v < NV - 1; ++v) bv[v] = _mm256_loadu_ps(t->b + p * t->ldb + v * t->bvs);
    bv[NV - 1] = _mm256_loadu_ps(t->last + p * t->ldlast);
    for (int r = 0; r < R; ++r) {
        const __m256 av = _mm256_broadcast_ss(t->a + r * t->ars + p * t->acs);
        for (int v = 0; v < NV; ++v) sum[r * NV + v] = _mm256_fmadd_ps(av, bv[v], sum[r * NV + v]);
    }
}

/* C[R, 8*NV] (last vector: nlast columns) = alpha * op(A) * op(B) + beta * C over the full k.
 * Tiles with at most 4 accumulators alternate two sets over k to keep more FMAs in flight. */
CK_INLINE void direct_tile(const int R, const int NV, const direct_tile_args *t) {
    const int S = R * NV <= 4 ? 2 : 1;
    __m256 acc[24], alt[24];
    for (int i = 0; i < R * NV; ++i) acc[i] = alt[i] = _mm256_setzero_ps();
    ptrdiff_t p = 0;
    if (S == 2) {
        for (; p + 2 <= t->k; p += 2) {
            direct_step(R, NV, t, p, acc);
            direct_step(R, NV, t, p + 1, alt);
        }
        for (int i = 0; i < R * NV; ++i) acc[i] = _mm256_add_ps(acc[i], alt[i]);
    }
    for (; p < t->k; ++p) direct_step(R, NV, t, p, acc);

    const __m256 valpha = _mm256_set1_ps(t->alpha);
    for (int r = 0; r < R; ++r) {
        float *crow = t->c + r * t->ldc;
        for (int v = 0; v < NV - 1; ++v) store_vec(crow + 8 * v, acc[r * NV + v], valpha, t->beta);
        store_partial(crow + 8 * (NV - 1), acc[r * NV + NV - 1], valpha, t->beta, t->nlast);
    }
}

/* One out-of-line function per tile shape (R rows x NV vectors), so each gets its own registers. */
typedef void (*direct_kernel)(const direct_tile_args *);
#define CK_DIRECT_KERNEL(R, NV) \
    CK_TARGET static void direct_##R##x##NV(const direct_tile_args *t) { direct_tile(R, NV, t); }
CK_DIRECT_KERNEL(1, 1) CK_DIRECT_KERNEL(2, 1) CK_DIRECT_KERNEL(3, 1) CK_DIRECT_KERNEL(4, 1)
CK_DIRECT_KERNEL(5, 1) CK_DIRECT_KERNEL(6, 1) CK_DIRECT_KERNEL(7, 1) CK_DIRECT_KERNEL(8, 1)
CK_DIRECT_KERNEL(1, 2) CK_DIRECT_KERNEL(2, 2) CK_DIRECT_KERNEL(3, 2) CK_DIRECT_KERNEL(4, 2)
CK_DIRECT_KERNEL(5, 2) CK_DIRECT_KERNEL(6, 2)
CK_DIRECT_KERNEL(1, 3) CK_DIRECT_KERNEL(2, 3) CK_DIRECT_KERNEL(3, 3)
#undef CK_DIRECT_KERNEL

/* direct_kernels[NV - 1][R - 1]. The tallest tiles use 8, 12 and 9 accumulators: 4 x 3 would need
 * 12 + 3 + 2 ymm registers and spill an accumulator inside the k loop. */
static const direct_kernel direct_kernels[3][8] = {
    {direct_1x1, direct_2x1, direct_3x1, direct_4x1, direct_5x1, direct_6x1, direct_7x1, direct_8x1},
    {direct_1x2, direct_2x2, direct_3x2, direct_4x2, direct_5x2, direct_6x2, NULL, NULL},
    {direct_1x3, direct_2x3, direct_3x3, NULL, NULL, NULL, NULL, NULL},
};
static const int direct_height[3] = {8, 6, 3};

/* Direct path: C = alpha * op(A) * op(B) + beta * C without packing A. A row-major op(B) is read
 * in place except for a ragged last 8-column group; a transposed one is copied whole. Copies are
 * zero-padded [k][8] blocks. Columns go in chunks of 1-3 vectors (3 only for the last 17-24
 * columns), rows in tiles of 8/6/3. Returns 0 (having done nothing) without scratch memory. */
CK_TARGET static int gemm_direct(const gemm_args *g) {
    const ptrdiff_t n = g->n, k = g->k, vectors = (n + 7) / 8;
    const int in_place = g->bcs == 1;
    const ptrdiff_t first_copied = in_place ? (n % 8 ? vectors - 1 : vectors) : 0;
    const size_t copy_floats = (size_t)((vectors - first_copied) * 8 * k);
    float stack[8 * 256];
    float *copy = stack;
    if (copy_floats > sizeof stack / sizeof stack[0]) {
        scratch_space *s = scratch_get();
        copy = s ? scratch_reserve(&s->b, copy_floats) : NULL;
        if (!copy) return 0;
    }
    for (ptrdiff_t v = first_copied; v < vectors; ++v)
        pack_panel(copy + (v - first_copied) * 8 * k, 8, (int)min_pd(8, n - 8 * v), k,
                   g->b + 8 * v * g->bcs, g->bcs, g->brs);

    direct_tile_args t;
    t.k = k;
    t.ars = g->ars;
    t.acs = g->acs;
    t.ldc = g->ldc;
    t.alpha = g->alpha;
    t.beta = g->beta;
    for (ptrdiff_t v0 = 0; v0 < vectors;) {
        const ptrdiff_t left = vectors - v0;
        const int NV = left == 3 ? 3 : left >= 2 ? 2 : 1;
        const ptrdiff_t vlast = v0 + NV - 1;
        t.nlast = (int)min_pd(8, n - 8 * vlast);
        if (in_place) {
            t.b = g->b + 8 * v0;
            t.ldb = g->brs;
            t.bvs = 8;
        } else {
            t.b = copy + v0 * 8 * k;
            t.ldb = 8;
            t.bvs = 8 * k;
        }
        if (vlast >= first_copied) {
            t.last = copy + (vlast - first_copied) * 8 * k;
            t.ldlast = 8;
        } else {
            t.last = g->b + 8 * vlast;
            t.ldlast = g->brs;
        }
        const int height = direct_height[NV - 1];
        for (ptrdiff_t i = 0; i < g->m; i += height) {
            const int rows = (int)min_pd(height, g->m - i);
            t.a = g->a + i * g->ars;
            t.c = g->c + i * g->ldc + 8 * v0;
            direct_kernels[NV - 1][rows - 1](&t);
        }
        v0 += NV;
    }
    return 1;
}

/* ---- column path (n <= 6, k <= 32) ------------------------------------------------------- */

/*
 * Eight rows of C at a time, vectorised down the columns of C. The 8 x k block of op(A) is first
 * transposed into `at` (or copied, when A is stored transposed) and op(B) is broadcast once per
 * call into `bb`, so a k step is N FMAs on full vectors fed by plain loads, instead of 8
 * broadcasts and 8 FMAs on N-wide rows. The N result columns are transposed back into rows on
 * the way out. For very narrow C, where row tiles would waste most vector lanes.
 */

/* at[p] = op(A)[i ..< i+8, p] for p < k (k rounded up to 8, zero filled). */
CK_INLINE void column_load_a(const gemm_args *g, ptrdiff_t i, __m256 *at) {
    for (ptrdiff_t p0 = 0; p0 < g->k; p0 += 8) {
        const int depth = (int)min_pd(8, g->k - p0);
        if (g->acs == 1) {
            const __m256i kmask = ck_lane_mask(depth);
            __m256 r[8];
            for (int x = 0; x < 8; ++x) r[x] = _mm256_maskload_ps(g->a + (i + x) * g->ars + p0, kmask);
            ck_transpose8(r);
            for (int q = 0; q < 8; ++q) at[p0 + q] = r[q];
        } else {
            for (int q = 0; q < depth; ++q) at[p0 + q] = _mm256_loadu_ps(g->a + (p0 + q) * g->acs + i);
        }
    }
}

CK_INLINE void column_block(const int N, const gemm_args *g, const __m256 *bb, __m256 *at, ptrdiff_t i,
                            __m256 valpha) {
    column_load_a(g, i, at);
    /* S interleaved accumulator sets (over k) keep S * N >= 8 independent FMA chains in flight. */
    const int S = N == 1 ? 8 : N == 2 ? 4 : N <= 4 ? 3 : 2;
    __m256 acc[24];
    for (int x = 0; x < S * N; ++x) acc[x] = _mm256_setzero_ps();
    ptrdiff_t p = 0;
    for (; p + S <= g->k; p += S)
        for (int s = 0; s < S; ++s)
            for (int j = 0; j < N; ++j)
                acc[s * N + j] = _mm256_fmadd_ps(at[p + s], bb[(p + s) * N + j], acc[s * N + j]);
    for (; p < g->k; ++p)
        for (int j = 0; j < N; ++j) acc[j] = _mm256_fmadd_ps(at[p], bb[p * N + j], acc[j]);

    __m256 ccol[8];
    for (int j = 0; j < 8; ++j) ccol[j] = j < N ? acc[j] : _mm256_setzero_ps();
    for (int s = 1; s < S; ++s)
        for (int j = 0; j < N; ++j) ccol[j] = _mm256_add_ps(ccol[j], acc[s * N + j]);
    ck_transpose8(ccol);
    for (int r = 0; r < 8; ++r) store_partial(g->c + (i + r) * g->ldc, ccol[r], valpha, g->beta, N);
}

/* All full 8-row blocks of C for one width N; one out-of-line function per N. */
typedef void (*column_kernel)(const gemm_args *, const __m256 *, ptrdiff_t);
#define CK_COLUMN_KERNEL(N)                                                                      \
    CK_TARGET static void column_rows_##N(const gemm_args *g, const __m256 *bb, ptrdiff_t rows) { \
        const __m256 valpha = _mm256_set1_ps(g->alpha);                                           \
        __m256 at[COLUMN_MAX_K];                                                                  \
        for (ptrdiff_t i = 0; i < rows; i += 8) column_block(N, g, bb, at, i, valpha);          \
    }
CK_COLUMN_KERNEL(1) CK_COLUMN_KERNEL(2) CK_COLUMN_KERNEL(3)
CK_COLUMN_KERNEL(4) CK_COLUMN_KERNEL(5) CK_COLUMN_KERNEL(6)
#undef CK_COLUMN_KERNEL
static const column_kernel column_kernels[COLUMN_MAX_N] = {
    column_rows_1, column_rows_2, column_rows_3, column_rows_4, column_rows_5, column_rows_6,
};

/* Column path for the rows in multiples of 8; the remaining m % 8 rows take the direct path. */
CK_TARGET static int gemm_columns(const gemm_args *g) {
    const ptrdiff_t n = g->n, k = g->k, full = g->m / 8 * 8;
    __m256 bb[COLUMN_MAX_K * COLUMN_MAX_N];
    for (ptrdiff_t p = 0; p < k; ++p)
        for (ptrdiff_t j = 0; j < n; ++j) bb[p * n + j] = _mm256_set1_ps(g->b[p * g->brs + j * g->bcs]);
    column_kernels[n - 1](g, bb, full);
    if (full == g->m) return 1;
    gemm_args rest = *g;
    rest.m = g->m - full;
    rest.a = g->a + full * g->ars;
    rest.c = g->c + full * g->ldc;
    return gemm_direct(&rest);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

/* Where the column path beats the direct one (measured on Zen 4): narrow C and shallow k; with
 * A stored transposed only for k <= 8. */
static int use_columns(const gemm_args *g) {
    if (g->m < 8 || g->n > COLUMN_MAX_N) return 0;
    return g->k <= (g->acs == 1 && g->n <= 5 ? COLUMN_MAX_K : 8);
}

CK_TARGET static int gemm_avx2(const gemm_args *g) {
    if (use_columns(g)) return gemm_columns(g);
    if (g->n <= DIRECT_MAX_N) return gemm_direct(g);
    if (g->acs == 1 && stream_fits(g)) return gemm_stream_a(g);
    return gemm_packed(g);
}

/* __builtin_cpu_init is idempotent and cheap after the first call; the checks read a bitmask. */
static int cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#endif /* CK_X86 */

/* ------------------------------------------------------------------------------------------ */
/* Public entry points                                                                         */
/* ------------------------------------------------------------------------------------------ */

int ck_sgemm_uses_avx2_fma(void) {
#if CK_X86
    return cpu_has_avx2_fma();
#else
    return 0;
#endif
}

/* Fills in the strides for the given transposes; returns 0 when there is nothing left to do
 * (empty C, or C = beta * C already applied). */
static int gemm_setup(gemm_args *g, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                      float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
                      float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return 0;
    g->m = m;
    g->n = n;
    g->k = k < 0 ? 0 : k;
    g->alpha = alpha;
    g->beta = beta;
    g->a = a;
    g->ars = transpose_a ? 1 : lda;
    g->acs = transpose_a ? lda : 1;
    g->b = b;
    g->brs = transpose_b ? 1 : ldb;
    g->bcs = transpose_b ? ldb : 1;
    g->c = c;
    g->ldc = ldc;
    if (g->k == 0 || alpha == 0) {
        scale_c(g);
        return 0;
    }
    return 1;
}

void ck_sgemm(int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
              const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    gemm_args g;
    if (!gemm_setup(&g, transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
#if CK_X86
    if (cpu_has_avx2_fma() && gemm_avx2(&g)) return;
#endif
    gemm_portable(&g);
}

void ck_sgemm_portable(int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                       const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                       ptrdiff_t ldc) {
    gemm_args g;
    if (gemm_setup(&g, transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) gemm_portable(&g);
}

/* ------------------------------------------------------------------------------------------ */
/* FMA peak probe                                                                              */
/* ------------------------------------------------------------------------------------------ */

static volatile float fma_seed = 0.999f;  /* volatile: the compiler cannot fold the chains */
static _Thread_local volatile float fma_sink; /* keeps the result alive */

#if CK_X86
/* 12 independent chains x = x * 0.999 + 0.001: each iteration is 12 FMAs of 8 lanes (192 flops).
 * The chains converge to 1, so no overflow or denormals slow anything down. */
CK_TARGET static double fma_chains_avx2(ptrdiff_t iterations) {
    const __m256 mul = _mm256_set1_ps(fma_seed), add = _mm256_set1_ps(1.0f - fma_seed);
    __m256 x0 = _mm256_set1_ps(0.0f), x1 = _mm256_set1_ps(0.1f), x2 = _mm256_set1_ps(0.2f);
    __m256 x3 = _mm256_set1_ps(0.3f), x4 = _mm256_set1_ps(0.4f), x5 = _mm256_set1_ps(0.5f);
    __m256 x6 = _mm256_set1_ps(0.6f), x7 = _mm256_set1_ps(0.7f), x8 = _mm256_set1_ps(0.8f);
    __m256 x9 = _mm256_set1_ps(0.9f), x10 = _mm256_set1_ps(1.1f), x11 = _mm256_set1_ps(1.2f);
    for (ptrdiff_t i = 0; i < iterations; ++i) {
        x0 = _mm256_fmadd_ps(x0, mul, add);
        x1 = _mm256_fmadd_ps(x1, mul, add);
        x2 = _mm256_fmadd_ps(x2, mul, add);
        x3 = _mm256_fmadd_ps(x3, mul, add);
        x4 = _mm256_fmadd_ps(x4, mul, add);
        x5 = _mm256_fmadd_ps(x5, mul, add);
        x6 = _mm256_fmadd_ps(x6, mul, add);
        x7 = _mm256_fmadd_ps(x7, mul, add);
        x8 = _mm256_fmadd_ps(x8, mul, add);
        x9 = _mm256_fmadd_ps(x9, mul, add);
        x10 = _mm256_fmadd_ps(x10, mul, add);
        x11 = _mm256_fmadd_ps(x11, mul, add);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)),
                             _mm256_add_ps(_mm256_add_ps(x4, x5), _mm256_add_ps(x6, x7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(x8, x9), _mm256_add_ps(x10, x11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    fma_sink = lanes[0] + lanes[7];
    return (double)iterations * 12 * 8 * 2;
}
#endif

/* Portable probe: 12 chains of 4-wide multiply-adds written as plain C (vectorised by the compiler). */
static double fma_chains_portable(ptrdiff_t iterations) {
    const float mul = fma_seed, add = 1.0f - fma_seed;
    float x[48];
    for (int i = 0; i < 48; ++i) x[i] = (float)i / 48.0f;
    for (ptrdiff_t it = 0; it < iterations; ++it)
        for (int i = 0; i < 48; ++i) x[i] = x[i] * mul + add;
    float s = 0;
    for (int i = 0; i < 48; ++i) s += x[i];
    fma_sink = s;
    return (double)iterations * 48 * 2;
}

double ck_fma_chains(ptrdiff_t iterations) {
    if (iterations <= 0) return 0;
#if CK_X86
    if (cpu_has_avx2_fma()) return fma_chains_avx2(iterations);
#endif
    return fma_chains_portable(iterations);
}
