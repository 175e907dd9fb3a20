/*
 * adk_part: row ownership. Pure integer arithmetic, identical on every rank.
 */
#include "adk_part.h"

int64_t adk_part_repro_block(int64_t n)
{
    int64_t b = 16;
    while (b < 4096 && 2 * b <= n / 256) {
        b *= 2;
    }
    return b;
}

int64_t adk_part_align(int64_t n, int64_t align)
{
    if (align == ADK_ALIGN_REPRO) {
        return adk_part_repro_block(n);
    }
    return align < 1 ? 1 : align;
}

adk_range_t adk_part_rows(int64_t n, int size, int rank, int64_t align)
{
    adk_range_t r = {0, 0};
    if (n <= 0 || size <= 0 || rank < 0 || rank >= size) {
        return r;
    }
    align = adk_part_align(n, align);
    int64_t nb = (n + align - 1) / align;
    int64_t q = nb / size, rem = nb % size;
    int64_t b0 = rank * q + (rank < rem ? rank : rem);
    int64_t cnt = q + (rank < rem ? 1 : 0);
    int64_t s = b0 * align, e = (b0 + cnt) * align;
    r.start = s < n ? s : n;
    r.count = (e < n ? e : n) - r.start;
    return r;
}

int adk_part_owner(int64_t n, int size, int64_t align, int64_t row)
{
    if (n <= 0 || size <= 0 || row < 0 || row >= n) {
        return -1;
    }
    align = adk_part_align(n, align);
    int64_t nb = (n + align - 1) / align;
    int64_t q = nb / size, rem = nb % size;
    int64_t b = row / align;
    int64_t big = rem * (q + 1); /* blocks held by the ranks that took one extra */
    if (b < big) {
        return (int)(b / (q + 1));
    }
    return (int)(rem + (b - big) / q);
}

size_t adk_part_block_end(int64_t row0, size_t r, size_t n, int64_t block)
{
    int64_t g = row0 + (int64_t)r;
    size_t end = r + (size_t)(block - g % block);
    return end < n ? end : n;
}
