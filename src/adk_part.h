/*
 * adk_part: the only place that decides which global rows a rank holds.
 * Rows are split into contiguous blocks over the ranks in rank order; remainders go to the lowest
 * ranks and ranks may hold no rows at all. An alignment groups rows into fixed blocks that are
 * never split between ranks, which is what makes blocked sums independent of the rank count.
 */
#ifndef ADK_PART_H
#define ADK_PART_H

#include <stddef.h>
#include <stdint.h>

/* Partition alignment chosen from the row count alone (see adk_part_repro_block). */
#define ADK_ALIGN_REPRO 0

typedef struct {
    int64_t start; /* first global row */
    int64_t count; /* number of rows, possibly 0 */
} adk_range_t;

/**
 * Rows held by @p rank of @p size for @p n rows split in whole blocks of @p align rows.
 * align = 1 is the plain split: rank r holds [r*n/P, (r+1)*n/P) up to the remainder, which the
 * lowest ranks take one row each. align = ADK_ALIGN_REPRO uses adk_part_repro_block(n).
 * Local (pure function).
 */
adk_range_t adk_part_rows(int64_t n, int size, int rank, int64_t align);

/** Rank holding global row @p row under the same rule. Local. */
int adk_part_owner(int64_t n, int size, int64_t align, int64_t row);

/**
 * Rows per reproducibility block for @p n rows: the largest power of two not above n/256, clamped
 * to [16, 4096]. It depends on n only, never on the rank count, and leaves at least ~256 blocks to
 * share out once n >= 4096. Local (pure function).
 */
int64_t adk_part_repro_block(int64_t n);

/**
 * End (exclusive, local index, capped at @p n) of the run of local rows from @p r that lie in one
 * aligned block of @p block rows, for a rank whose local row 0 is global row @p row0. Blocked
 * sums walk r = 0, end(0), end(end(0)), ... so every partial covers one whole global block or the
 * part of it this rank holds. Local (pure function).
 */
size_t adk_part_block_end(int64_t row0, size_t r, size_t n, int64_t block);

/** Resolve ADK_ALIGN_REPRO (and values < 1) to a concrete alignment for @p n rows. Local. */
int64_t adk_part_align(int64_t n, int64_t align);

#endif
