/*
 * adk_rng: Philox-4x64 streams. Random123 supplies the bijection; this file only manages
 * counters and turns words into uniform, normal and bounded integers.
 */
#include "adk_rng.h"

#include <math.h>

#include <Random123/philox.h>

void adk_rng_init(adk_rng_t *r, uint64_t seed, uint32_t purpose, uint64_t stream, uint64_t sub)
{
    r->key[0] = seed;
    r->key[1] = purpose;
    r->ctr[0] = stream;
    r->ctr[1] = sub;
    r->ctr[2] = 0; /* block counter within the stream */
    r->ctr[3] = 0;
    r->avail = 0;
    r->has_spare = 0;
    r->spare = 0.0;
}

static void refill(adk_rng_t *r)
{
    philox4x64_ctr_t c = {{r->ctr[0], r->ctr[1], r->ctr[2], r->ctr[3]}};
    philox4x64_key_t k = {{r->key[0], r->key[1]}};
    philox4x64_ctr_t o = philox4x64(c, k);
    for (int i = 0; i < 4; i++) {
        r->buf[i] = o.v[i];
    }
    r->ctr[2]++;
    r->avail = 4;
}

uint64_t adk_rng_u64(adk_rng_t *r)
{
    if (r->avail == 0) {
        refill(r);
    }
    return r->buf[4 - r->avail--];
}

double adk_rng_uniform(adk_rng_t *r)
{
    return (double)(adk_rng_u64(r) >> 11) * 0x1.0p-53;
}

double adk_rng_normal(adk_rng_t *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* u1 in (0, 1] so the log is finite. */
    double u1 = ((double)(adk_rng_u64(r) >> 11) + 1.0) * 0x1.0p-53;
    double u2 = adk_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    double ang = 6.283185307179586476925 * u2;
    r->spare = rad * sin(ang);
    r->has_spare = 1;
    return rad * cos(ang);
}

uint64_t adk_rng_below(adk_rng_t *r, uint64_t n)
{
    /* Lemire's multiply-shift with rejection of the biased low zone. */
    uint64_t x = adk_rng_u64(r);
    unsigned __int128 m = (unsigned __int128)x * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t thresh = (0 - n) % n;
        while (lo < thresh) {
            x = adk_rng_u64(r);
            m = (unsigned __int128)x * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* One Feistel round function: Philox of (half, round) under the seed, cut to `bits`. */
static uint64_t feistel_f(uint64_t seed, uint64_t half, int round, int bits)
{
    philox4x64_ctr_t c = {{half, (uint64_t)round, 0, 0}};
    philox4x64_key_t k = {{seed, ADK_RNG_PERM}};
    philox4x64_ctr_t o = philox4x64(c, k);
    return bits >= 64 ? o.v[0] : (o.v[0] & ((UINT64_C(1) << bits) - 1));
}

uint64_t adk_rng_permute(uint64_t seed, uint64_t n, uint64_t i)
{
    if (n <= 1) {
        return 0;
    }
    int half = 1; /* bits per half: domain is 4^half >= n */
    while (half < 32 && (UINT64_C(1) << (2 * half)) < n) {
        half++;
    }
    uint64_t mask = (UINT64_C(1) << half) - 1;
    uint64_t x = i;
    do { /* cycle-walk: re-encrypt until the value falls inside [0, n) */
        uint64_t left = x >> half, right = x & mask;
        for (int rd = 0; rd < 4; rd++) {
            uint64_t t = left ^ feistel_f(seed, right, rd, half);
            left = right;
            right = t;
        }
        x = (left << half) | right;
    } while (x >= n);
    return x;
}
