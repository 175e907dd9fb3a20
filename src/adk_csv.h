/*
 * adk_csv: parallel reading of numeric CSV (comma separated, optional header line, '#' comments,
 * blank lines ignored). Each rank scans one byte range of the file, cut at line starts, to count
 * its lines; an exclusive scan turns the counts into global row numbers; then each rank reads
 * exactly the rows of its block, starting at a byte offset found by the rank that scanned it.
 * No rank ever reads or holds the whole file.
 */
#ifndef ADK_CSV_H
#define ADK_CSV_H

#include <stdint.h>

#include "adk_ctx.h"
#include "adk_rows.h"

/**
 * Read this rank's rows of a CSV matrix.
 * The first non-comment line is a header when none of its fields is a number.
 * @param align      partition alignment (adk_part)
 * @param label_col  column holding integer labels (0-based index, or a header name), or NULL
 * @return ADK_OK, ADK_EIO, ADK_EDATA (non-numeric, ragged, NaN/Inf, no rows: message names file,
 *         line, row and column), ADK_EINVAL, ADK_ENOMEM. Collective.
 */
int adk_csv_read(adk_ctx_t *ctx, const char *file, int64_t align, const char *label_col,
                 adk_rows_t **out);

#endif
