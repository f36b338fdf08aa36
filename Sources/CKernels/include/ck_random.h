#ifndef CK_RANDOM_H
#define CK_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// xoshiro256** state. The one implementation of the package's generator: Swift's
/// `RandomGenerator` calls `ck_rng_next`, and the 8-lane sampler steps 8 such states side by side.
typedef struct ck_rng {
    uint64_t s[4];
} ck_rng;

static inline uint64_t ck_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/// The next 64 random bits of a xoshiro256** stream.
static inline uint64_t ck_rng_next(ck_rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = ck_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ck_rotl(s[3], 45);
    return result;
}

/// Eight xoshiro256** streams stepped together, state stored lane-major so the step vectorises.
typedef struct ck_rng8 {
    uint64_t s0[8], s1[8], s2[8], s3[8];
} ck_rng8;

/// Lane `lane` of `lanes` takes the state of `stream`.
static inline void ck_rng8_set_lane(ck_rng8 *lanes, int lane, ck_rng stream) {
    lanes->s0[lane] = stream.s[0];
    lanes->s1[lane] = stream.s[1];
    lanes->s2[lane] = stream.s[2];
    lanes->s3[lane] = stream.s[3];
}

#ifdef __cplusplus
}
#endif

#endif
