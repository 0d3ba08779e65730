/* A small explicit RNG: splitmix64 for seeding, xorshift64* for the stream. Every consumer
 * owns its state, so results never depend on call order elsewhere. */
#include "common.h"

#include <math.h>

void vcu_rng_seed(vc_rng *r, uint64_t seed) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull; /* splitmix64 step: any seed, even 0, is fine */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    r->s = z ? z : 0x2545F4914F6CDD1Dull; /* xorshift must not start at 0 */
}

uint32_t vcu_rng_u32(vc_rng *r) {
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

float vcu_rng_uniform(vc_rng *r) {
    return (float)(vcu_rng_u32(r) >> 8) * (1.0f / 16777216.0f); /* 24 bits: exact in float */
}

float vcu_rng_normal(vc_rng *r) {
    float u1 = vcu_rng_uniform(r), u2 = vcu_rng_uniform(r);
    if (u1 < 1e-7f) u1 = 1e-7f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}
