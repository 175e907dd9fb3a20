/*
 * adk_csv: byte-range parallel CSV reader (see adk_csv.h).
 * A line belongs to the rank whose byte range holds its first byte; so every line is counted by
 * exactly one rank whatever the line lengths.
 */
#include "adk_csv.h"
#include "adk_mem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

enum { LINE_BLANK, LINE_COMMENT, LINE_CONTENT };

/* What pass 1 learns about one rank's byte range. */
typedef struct {
    long long nlines;   /* lines starting in the range */
    long long ncontent; /* of which content lines */
} scan_t;

typedef struct {
    FILE *f;
    char *line;
    size_t cap;
} reader_t;

/* Strip the line ending and classify. */
static int classify(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    const char *p = s;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '\0') {
        return LINE_BLANK;
    }
    return *p == '#' ? LINE_COMMENT : LINE_CONTENT;
}

static int count_fields(const char *s)
{
    int n = 1;
    for (; *s; s++) {
        n += *s == ',';
    }
    return n;
}

/* Parse one number filling [p, end): spaces allowed around it, nothing else. */
static int parse_field(const char *p, const char *end, double *v)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    if (p == end) {
        return 0;
    }
    char *q;
    errno = 0;
    *v = strtod(p, &q);
    if (q == p) {
        return 0;
    }
    for (const char *h = p; h < q; h++) {
        if (*h == 'x' || *h == 'X') {
            return 0; /* strtod reads hexadecimal ("0x10" as 16): not a CSV number */
        }
    }
    while (q < end && (*q == ' ' || *q == '\t')) {
        q++;
    }
    return q == end;
}

/* Fields that hold a number, quoted or not: a first line of quoted numbers is data (and then
 * rejected as quoted), never silently taken for a header. */
static int numeric_fields(const char *s)
{
    int n = 0;
    const char *a = s;
    for (;;) {
        const char *b = strchr(a, ',');
        const char *end = b ? b : a + strlen(a);
        const char *p = a, *e = end;
        while (p < e && (*p == ' ' || *p == '\t')) {
            p++;
        }
        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if (e - p >= 2 && *p == '"' && e[-1] == '"') {
            p++;
            e--;
        }
        double v;
        n += parse_field(p, e, &v);
        if (!b) {
            break;
        }
        a = b + 1;
    }
    return n;
}

/* Field k of s, trimmed and unquoted, copied into buf. */
static void field_text(const char *s, int k, char *buf, size_t len)
{
    const char *a = s;
    for (int i = 0; i < k && a; i++) {
        a = strchr(a, ',');
        a = a ? a + 1 : NULL;
    }
    buf[0] = '\0';
    if (!a) {
        return;
    }
    const char *end = strchr(a, ',');
    if (!end) {
        end = a + strlen(a);
    }
    while (a < end && (*a == ' ' || *a == '\t' || *a == '"')) {
        a++;
    }
    while (end > a && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '"')) {
        end--;
    }
    size_t n = (size_t)(end - a) < len - 1 ? (size_t)(end - a) : len - 1;
    memcpy(buf, a, n);
    buf[n] = '\0';
}

/* First line start at or after byte b0. */
static int seek_line_start(FILE *f, long long b0, long long *p)
{
    if (b0 == 0) {
        *p = 0;
        return fseeko(f, 0, SEEK_SET);
    }
    if (fseeko(f, (off_t)(b0 - 1), SEEK_SET) != 0) {
        return -1;
    }
    long long pos = b0 - 1;
    int c;
    while ((c = fgetc(f)) != EOF) {
        pos++;
        if (c == '\n') {
            break;
        }
    }
    *p = pos; /* just after the newline, or the end of the file */
    return 0;
}

/*
 * Walk the lines starting in [b0, b1). For each content line, cb(ud, content_index, line_index,
 * offset, text) is called; it returns nonzero to stop.
 */
typedef int (*line_cb)(void *ud, long long ci, long long li, long long off, char *text);

/* The text of a line read at byte offset @p off: a UTF-8 byte-order mark opening the file (as
 * spreadsheet programs write it) is not part of the first field. */
static char *line_text(char *line, long long off)
{
    return off == 0 && strncmp(line, "\xEF\xBB\xBF", 3) == 0 ? line + 3 : line;
}

static int walk(reader_t *r, long long b0, long long b1, scan_t *sc, line_cb cb, void *ud)
{
    long long p;
    sc->nlines = sc->ncontent = 0;
    if (b0 >= b1) {
        return 0;
    }
    if (seek_line_start(r->f, b0, &p) != 0) {
        return -1;
    }
    if (fseeko(r->f, (off_t)p, SEEK_SET) != 0) {
        return -1;
    }
    while (p < b1) {
        ssize_t n = getline(&r->line, &r->cap, r->f);
        if (n < 0) {
            break;
        }
        char *text = line_text(r->line, p);
        int kind = classify(text);
        if (kind == LINE_CONTENT) {
            if (cb && cb(ud, sc->ncontent, sc->nlines, p, text)) {
                sc->nlines++;
                sc->ncontent++;
                return 0;
            }
            sc->ncontent++;
        }
        sc->nlines++;
        p += n;
    }
    return ferror(r->f) ? -1 : 0;
}

/* Pass-1 callback: keep a copy of the first content line. */
static int keep_first(void *ud, long long ci, long long li, long long off, char *text)
{
    (void)li;
    (void)off;
    if (ci == 0) {
        *(char **)ud = adk_strdup(text);
    }
    return 0;
}

/* Pass-1b callback: byte offsets and line indices of wanted content indices. */
typedef struct {
    const long long *want; /* sorted content indices, -1 for none */
    int nwant;
    int next;
    long long *off, *line;
} locate_t;

static int locate(void *ud, long long ci, long long li, long long off, char *text)
{
    (void)text;
    locate_t *lc = ud;
    while (lc->next < lc->nwant && lc->want[lc->next] < ci) {
        lc->next++;
    }
    while (lc->next < lc->nwant && lc->want[lc->next] == ci) {
        lc->off[lc->next] = off;
        lc->line[lc->next] = li;
        lc->next++;
    }
    return lc->next >= lc->nwant;
}

/* Header and column layout, decided by the rank holding the first content line. */
typedef struct {
    int header; /* first content line is a header */
    int fields; /* fields per line */
    int lcol;   /* label column index, -1 none */
    int err;    /* 1: label column spec bad */
} layout_t;

static void decide_layout(const char *first, const char *label_col, layout_t *lay)
{
    lay->fields = count_fields(first);
    lay->header = numeric_fields(first) == 0;
    lay->lcol = -1;
    lay->err = 0;
    if (!label_col) {
        return;
    }
    char *end;
    long v = strtol(label_col, &end, 10);
    if (*label_col && *end == '\0') {
        if (v < 0) {
            v += lay->fields;
        }
        if (v < 0 || v >= lay->fields) {
            lay->err = 1;
        } else {
            lay->lcol = (int)v;
        }
        return;
    }
    lay->err = 1;
    if (lay->header) {
        char name[256];
        for (int k = 0; k < lay->fields; k++) {
            field_text(first, k, name, sizeof(name));
            if (strcmp(name, label_col) == 0) {
                lay->lcol = k;
                lay->err = 0;
                break;
            }
        }
    }
}

/* Parse one content line into a data row (and label). */
static int parse_row(adk_ctx_t *ctx, const char *file, long long lineno, long long row, char *s,
                     const layout_t *lay, double *x, int64_t *label)
{
    /* Quotes first: a quoted comma would otherwise be reported as a ragged row, and a quoted
     * number as a non-numeric value, neither of which tells the user what to change. */
    const char *q = strchr(s, '"');
    if (q) {
        int col = 0;
        for (const char *p = s; p < q; p++) {
            col += *p == ',';
        }
        return ADK_ERR(ctx, ADK_EDATA,
                       "%s line %lld (row %lld): quoted field in column %d; quoted fields are not "
                       "supported (write plain numbers)",
                       file, lineno, row, col);
    }
    int nf = count_fields(s);
    if (nf != lay->fields) {
        return ADK_ERR(ctx, ADK_EDATA,
                       "%s line %lld (row %lld): %d fields, expected %d (ragged row)", file, lineno,
                       row, nf, lay->fields);
    }
    const char *a = s;
    int j = 0;
    for (int k = 0; k < nf; k++) {
        const char *b = strchr(a, ',');
        const char *end = b ? b : a + strlen(a);
        double v;
        if (!parse_field(a, end, &v)) {
            int len = (int)(end - a) > 40 ? 40 : (int)(end - a);
            return ADK_ERR(ctx, ADK_EDATA,
                           "%s line %lld (row %lld): non-numeric value '%.*s' in column %d", file,
                           lineno, row, len, a, k);
        }
        if (!isfinite(v)) {
            return ADK_ERR(ctx, ADK_EDATA, "%s line %lld (row %lld): %s in column %d", file, lineno,
                           row, isnan(v) ? "NaN" : "Inf", k);
        }
        if (k == lay->lcol) {
            if (v != floor(v) || fabs(v) > 9.0e15) {
                return ADK_ERR(ctx, ADK_EDATA,
                               "%s line %lld (row %lld): label %g is not an integer", file, lineno,
                               row, v);
            }
            *label = (int64_t)v;
        } else {
            x[j++] = v;
        }
        a = b ? b + 1 : end;
    }
    return ADK_OK;
}

static int csv_read(adk_ctx_t *ctx, const char *file, int64_t align, const char *label_col,
                    adk_rows_t **out)
{
    MPI_Comm comm = adk_ctx_comm(ctx);
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    *out = NULL;
    reader_t rd = {NULL, NULL, 0};
    char *first = NULL;
    scan_t sc = {0, 0};
    adk_rows_t *rows = NULL;
    long long *want = NULL, *offs = NULL, *lines = NULL;
    int st = ADK_OK;

    /* File size from rank 0; every rank opens its own stream. */
    long long fsize = -1;
    int err = 0;
    if (rank == 0) {
        struct stat sb;
        if (stat(file, &sb) != 0) {
            err = errno;
        } else if (S_ISDIR(sb.st_mode)) {
            err = EISDIR;
        } else {
            fsize = (long long)sb.st_size;
        }
    }
    long long info[2] = {err, fsize};
    st = adk_ctx_bcast(ctx, info, 2, MPI_LONG_LONG, 0);
    if (st != ADK_OK) {
        return st;
    }
    err = (int)info[0];
    fsize = info[1];
    if (err) {
        return ADK_ERR(ctx, ADK_EIO, "cannot open '%s': %s", file, strerror(err));
    }
    rd.f = fopen(file, "rb");
    if (!rd.f) {
        st = ADK_ERR(ctx, ADK_EIO, "cannot open '%s': %s", file, strerror(errno));
    }
    st = adk_ctx_agree(ctx, st);

    /* Pass 1: count lines in my byte range. */
    long long b0 = fsize * rank / size, b1 = fsize * (rank + 1) / size;
    if (st == ADK_OK) {
        if (walk(&rd, b0, b1, &sc, keep_first, &first) != 0) {
            st = ADK_ERR(ctx, ADK_EIO, "error reading '%s'", file);
        }
        st = adk_ctx_agree(ctx, st);
    }
    long long line0 = 0, content0 = 0, total = 0;
    int owner = -1; /* lowest rank with content: it holds the first content line */
    layout_t lay = {0, 0, -1, 0};
    if (st == ADK_OK) {
        long long cnt[2] = {sc.nlines, sc.ncontent}, pre[2] = {0, 0};
        st = ADK_MPI_CALL(ctx, 2, MPI_LONG_LONG,
                          MPI_Exscan(cnt, pre, 2, MPI_LONG_LONG, MPI_SUM, comm)) == MPI_SUCCESS
                 ? ADK_OK
                 : ADK_ERR(ctx, ADK_EMPI, "MPI_Exscan failed");
        st = adk_ctx_agree(ctx, st);
        if (rank == 0) {
            pre[0] = pre[1] = 0; /* Exscan leaves rank 0's result undefined */
        }
        line0 = pre[0];
        content0 = pre[1];
        if (st == ADK_OK) {
            st = adk_ctx_allreduce(ctx, &sc.ncontent, &total, 1, MPI_LONG_LONG, MPI_SUM);
        }
        int cand = sc.ncontent > 0 ? rank : size;
        if (st == ADK_OK) {
            st = adk_ctx_allreduce(ctx, &cand, &owner, 1, MPI_INT, MPI_MIN);
        }
        if (st == ADK_OK && owner >= size) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: no data rows", file);
        }
    }
    if (st == ADK_OK) {
        if (rank == owner) {
            decide_layout(first, label_col, &lay);
        }
        int buf[4] = {lay.header, lay.fields, lay.lcol, lay.err};
        st = adk_ctx_bcast(ctx, buf, 4, MPI_INT, owner);
        lay.header = buf[0];
        lay.fields = buf[1];
        lay.lcol = buf[2];
        lay.err = buf[3];
        if (st == ADK_OK && lay.err) {
            st = ADK_ERR(ctx, ADK_EINVAL, "%s: no column '%s' for the labels", file, label_col);
        } else if (st == ADK_OK && total - lay.header <= 0) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: no data rows (only a header)", file);
        } else if (st == ADK_OK && lay.fields - (lay.lcol >= 0) < 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: no data columns", file);
        }
    }
    int64_t n = total - lay.header;
    size_t d = (size_t)(lay.fields - (lay.lcol >= 0));
    if (st == ADK_OK) {
        st = adk_rows_alloc(ctx, n, d, align, file, lay.lcol >= 0, &rows);
        st = adk_ctx_agree(ctx, st);
    }

    /* Pass 1b: find byte offsets of the first line of every rank's block. */
    if (st == ADK_OK) {
        want = adk_malloc(size * sizeof(long long));
        offs = adk_malloc(size * sizeof(long long));
        lines = adk_malloc(size * sizeof(long long));
        if (!want || !offs || !lines) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        int nwant = 0;
        for (int t = 0; t < size; t++) {
            adk_range_t rg = adk_part_rows(n, size, t, rows->align);
            long long ci = rg.count > 0 ? rg.start + lay.header - content0 : -1;
            if (ci >= 0 && ci < sc.ncontent) {
                want[nwant++] = ci;
            }
            offs[t] = lines[t] = -1;
        }
        long long *loff = adk_malloc((nwant ? nwant : 1) * sizeof(long long));
        long long *lli = adk_malloc((nwant ? nwant : 1) * sizeof(long long));
        if (!loff || !lli) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        } else if (nwant > 0) {
            locate_t lc = {want, nwant, 0, loff, lli};
            scan_t tmp;
            if (walk(&rd, b0, b1, &tmp, locate, &lc) != 0) {
                st = ADK_ERR(ctx, ADK_EIO, "error reading '%s'", file);
            }
            int k = 0;
            for (int t = 0; t < size && k < nwant; t++) {
                adk_range_t rg = adk_part_rows(n, size, t, rows->align);
                long long ci = rg.count > 0 ? rg.start + lay.header - content0 : -1;
                if (ci >= 0 && ci < sc.ncontent) {
                    offs[t] = loff[k];
                    lines[t] = line0 + lli[k] + 1; /* 1-based line number */
                    k++;
                }
            }
        }
        free(loff);
        free(lli);
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, offs, size, MPI_LONG_LONG, MPI_MAX);
    }
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, lines, size, MPI_LONG_LONG, MPI_MAX);
    }

    /* Pass 2: parse exactly my rows, starting at my first row's line. */
    if (st == ADK_OK && rows->nloc > 0) {
        long long lineno = lines[rank], at = offs[rank];
        size_t got = 0;
        if (fseeko(rd.f, (off_t)offs[rank], SEEK_SET) != 0) {
            st = ADK_ERR(ctx, ADK_EIO, "error reading '%s'", file);
        }
        while (st == ADK_OK && got < rows->nloc) {
            ssize_t len = getline(&rd.line, &rd.cap, rd.f);
            if (len < 0) {
                st = ADK_ERR(ctx, ADK_EIO, "%s: unexpected end of file (changed while reading?)",
                             file);
                break;
            }
            char *text = line_text(rd.line, at);
            at += len;
            if (classify(text) == LINE_CONTENT) {
                int64_t lab = 0;
                st = parse_row(ctx, file, lineno, (long long)(rows->row0 + (int64_t)got), text,
                               &lay, rows->x + got * d, &lab);
                if (rows->labels) {
                    rows->labels[got] = lab;
                }
                got++;
            }
            lineno++;
        }
    }
    st = adk_ctx_agree(ctx, st);

    free(want);
    free(offs);
    free(lines);
    free(first);
    free(rd.line);
    if (rd.f) {
        fclose(rd.f);
    }
    if (st != ADK_OK) {
        adk_rows_free(rows);
        return st;
    }
    *out = rows;
    return ADK_OK;
}

int adk_csv_read(adk_ctx_t *ctx, const char *file, int64_t align, const char *label_col,
                 adk_rows_t **out)
{
    return ADK_TIMED(ctx, ADK_T_IO, csv_read(ctx, file, align, label_col, out));
}
