/*
 * cpu_dispatch.h - run-time choice of the vector kernels, shared by the C files of this target
 * (private: not under include/, so not part of the module's interface).
 *
 * Kernels are compiled for AVX2/FMA or AVX-512 with target attributes and chosen when the CPU has
 * the instructions, so the package needs no compiler flags and still runs on any x86-64 CPU (and,
 * through the portable paths, elsewhere).
 */

#ifndef CK_CPU_DISPATCH_H
#define CK_CPU_DISPATCH_H

#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#define CK_HAS_DISPATCH 1
#include <immintrin.h>
#define CK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CK_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2,popcnt")))

/* 1 when the CPU has AVX2 and FMA (checked once). */
static inline int ck_cpu_has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

/* Mask whose first `count` lanes are set (none for count <= 0, all for count >= 8), for maskload/maskstore. */
static inline __attribute__((always_inline, target("avx2,fma"))) __m256i ck_lane_mask(ptrdiff_t count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), lanes);
}

/* The sum of v's eight lanes (halves, then pairs, then the last two). */
static inline __attribute__((always_inline, target("avx2,fma"))) float ck_sum_of_lanes(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* In-register transpose of the 8x8 block r[0..7] (row i becomes column i). */
static inline __attribute__((always_inline, target("avx2,fma"))) void ck_transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* 1 when the CPU has the AVX-512 subsets the kernels use (F, BW, VL, DQ) and AVX2/FMA (checked once). */
static inline int ck_cpu_has_avx512(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && ck_cpu_has_avx2();
    }
    return cached;
}
#else
#define CK_HAS_DISPATCH 0
#define CK_TARGET_AVX2
#define CK_TARGET_AVX512
static inline int ck_cpu_has_avx2(void) { return 0; }
static inline int ck_cpu_has_avx512(void) { return 0; }
#endif

#endif
