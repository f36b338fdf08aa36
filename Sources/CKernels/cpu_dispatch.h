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
