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
