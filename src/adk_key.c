/*
 * adk_key: order-preserving keys of doubles, their inverse, and the LSD radix sort of keys (see
 * adk_key.h for the map).
 */
#include "adk_key.h"

#include <string.h>

#define SIGN_BIT (UINT64_C(1) << 63)

uint64_t adk_key_from_double(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof(u));
    /* negative: flip everything (larger magnitude = smaller key); positive: set the sign bit */
    return (u & SIGN_BIT) ? ~u : (u | SIGN_BIT);
}

double adk_key_to_double(uint64_t key)
{
    uint64_t u = (key & SIGN_BIT) ? (key & ~SIGN_BIT) : ~key;
    double x;
    memcpy(&x, &u, sizeof(x));
    return x;
}

uint64_t adk_key_from_value(double x)
{
    if (x == 0.0) {
        x = 0.0; /* -0.0 == +0.0: one value, one key */
    }
    return adk_key_from_double(x);
}

void adk_key_sort(uint64_t *k, uint64_t *tmp, size_t n)
{
    if (n < 2) {
        return;
    }
    size_t cnt[8][256];
    memset(cnt, 0, sizeof(cnt));
    /* one read of the keys counts all eight bytes */
    for (size_t i = 0; i < n; i++) {
        uint64_t v = k[i];
        for (int b = 0; b < 8; b++) {
            cnt[b][(v >> (8 * b)) & 255]++;
        }
    }
    uint64_t *src = k, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        int sh = 8 * b;
        if (cnt[b][(src[0] >> sh) & 255] == n) {
            continue; /* every key has this byte: the pass would not move anything */
        }
        size_t off = 0;
        for (int c = 0; c < 256; c++) {
            size_t t = cnt[b][c];
            cnt[b][c] = off;
            off += t;
        }
        /* stable scatter: keys equal in this byte keep the order of the previous passes */
        for (size_t i = 0; i < n; i++) {
            dst[cnt[b][(src[i] >> sh) & 255]++] = src[i];
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != k) {
        memcpy(k, src, n * sizeof(uint64_t));
    }
}

size_t adk_key_count_below(const uint64_t *k, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k[mid] < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

size_t adk_key_count_at_most(const uint64_t *k, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k[mid] <= key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}
