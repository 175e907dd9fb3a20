/*
 * adk_ckpt: checkpoint files, their identity attributes and the checks on resume (see adk_ckpt.h).
 * The file itself is an ordinary adk_out output (so atomic, fsync'ed, removed on failure); this
 * module adds what makes it a checkpoint of one particular run.
 */
#include "adk_ckpt.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adk_mem.h"
#include "adk_sig.h"

struct adk_ckpt {
    adk_ctx_t *ctx;
    char *prog, *path;
    char *params; /* "--name value\n" lines, ADK_CKPT_PARAMS_MAX bytes */
    size_t plen;
    int pst;     /* first failure of adk_ckpt_options (the same on every rank) */
    char *input; /* input spec as given */
    int64_t rows, cols;
    uint64_t sum;  /* adk_ckpt_checksum of the input */
    int test_stop; /* ADK_CKPT_TEST_STOP_AT on this rank */
    int64_t stop_major, stop_minor;
    double delay; /* ADK_CKPT_TEST_DELAY on this rank, seconds */
    int sig_on;   /* this object switched adk_sig into checkpoint mode */
};

/* What a checkpoint's "/" attributes are called. */
#define A_FORMAT "adkit_checkpoint"
#define A_PROG "program"
#define A_PARAMS "params"
#define A_INPUT "input"
#define A_ROWS "input_rows"
#define A_COLS "input_cols"
#define A_SUM "input_checksum"

/* The testing hooks (adk_ckpt.h), read on the last rank only: a request that reaches one rank. */
static void test_hooks(adk_ckpt_t *ck)
{
    if (adk_ctx_rank(ck->ctx) != adk_ctx_size(ck->ctx) - 1) {
        return;
    }
    const char *s = getenv("ADK_CKPT_TEST_STOP_AT");
    long long a = 0, b = 0;
    char tail = 0;
    if (s && sscanf(s, "%lld:%lld%c", &a, &b, &tail) == 2 && a >= 1) {
        ck->test_stop = 1;
        ck->stop_major = a - 1;
        ck->stop_minor = b;
    } else if (s && sscanf(s, "%lld%c", &a, &tail) == 1) {
        ck->test_stop = 1;
        ck->stop_major = 0;
        ck->stop_minor = a;
    }
    const char *dl = getenv("ADK_CKPT_TEST_DELAY");
    double v = dl ? atof(dl) : 0.0;
    ck->delay = v > 0.0 && v < 60.0 ? v : 0.0;
}

/* Whether @p path exists (rank 0 looks; every rank gets the answer). Collective. */
static int path_exists(adk_ctx_t *ctx, const char *path, int *ex)
{
    *ex = adk_ctx_rank(ctx) == 0 ? access(path, F_OK) == 0 : 0;
    return adk_ctx_bcast(ctx, ex, 1, MPI_INT, 0);
}

/* An existing file at the checkpoint path must be a checkpoint of this program. Collective. */
static int check_existing(adk_ckpt_t *ck)
{
    adk_ctx_t *ctx = ck->ctx;
    adk_h5_t *f = NULL;
    char prog[256] = "";
    int found = 0;
    int st = adk_h5_open(ctx, ck->path, &f);
    if (st == ADK_OK) {
        double fmt = 0;
        st = adk_h5_attr(f, "/", A_FORMAT, ADK_ATTR_F64, &fmt, 0, &found);
    }
    if (st == ADK_OK && found) {
        st = adk_h5_attr(f, "/", A_PROG, ADK_ATTR_STR, prog, sizeof(prog), &found);
    }
    adk_h5_close(f);
    if (st == ADK_ENOMEM || st == ADK_EMPI) {
        return st;
    }
    if (st != ADK_OK || !found || strcmp(prog, ck->prog) != 0) {
        adk_ctx_clear(ctx); /* whatever HDF5 said: what matters is that it is not ours */
        st = adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EEXIST,
                                        "--checkpoint %s exists and is not a checkpoint of %s; "
                                        "refusing to replace it (remove it or choose another name)",
                                        ck->path, ck->prog));
    }
    return st;
}

int adk_ckpt_create(adk_ctx_t *ctx, const char *prog, const char *path, int resuming,
                    adk_ckpt_t **out)
{
    *out = NULL;
    adk_ckpt_t *ck = adk_calloc(1, sizeof(*ck));
    int st = ck ? ADK_OK : ADK_ENOMEM;
    if (ck) {
        ck->ctx = ctx;
        ck->prog = adk_strdup(prog);
        ck->path = adk_strdup(path);
        ck->params = adk_calloc(ADK_CKPT_PARAMS_MAX, 1);
        st = ck->prog && ck->path && ck->params ? ADK_OK : ADK_ENOMEM;
    }
    st = adk_ctx_agree(ctx, st == ADK_OK ? st : ADK_ERR(ctx, st, "out of memory"));
    int ex = 0;
    if (st == ADK_OK && !resuming) {
        st = path_exists(ctx, path, &ex);
    }
    if (st == ADK_OK && ex) {
        st = check_existing(ck);
    }
    if (st != ADK_OK) {
        adk_ckpt_free(ck);
        return st;
    }
    test_hooks(ck);
    adk_sig_checkpoint(1);
    ck->sig_on = 1;
    *out = ck;
    return ADK_OK;
}

int adk_ckpt_check_options(adk_ctx_t *ctx, const char *checkpoint, const char *resume, int every,
                           const char *const *outs, size_t nouts, const char **path)
{
    const char *ckpath = checkpoint ? checkpoint : resume;
    *path = ckpath;
    if (every < 0 || (every > 0 && !ckpath)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--checkpoint-every %d: needs N >= 0 and --checkpoint FILE",
                       every);
    }
    for (size_t i = 0; ckpath && i < nouts; i++) {
        if (outs[i] && strcmp(ckpath, outs[i]) == 0) {
            return ADK_ERR(ctx, ADK_EINVAL, "--checkpoint %s is also an output file", ckpath);
        }
    }
    return ADK_OK;
}

int adk_ckpt_identify(adk_ckpt_t *ck, const adk_opt_t *tab, const char *names, const char *spec,
                      const adk_rows_t *x, adk_rowsrc_t *src, const char *resume, adk_h5_t **f)
{
    *f = NULL;
    adk_ckpt_options(ck, tab, names); /* a failure is kept: adk_ckpt_input returns it */
    int st = x ? adk_ckpt_input(ck, spec, x) : adk_ckpt_input_src(ck, spec, src);
    if (st == ADK_OK && resume) {
        st = adk_ckpt_open(ck, resume, f);
    }
    return st;
}

void adk_ckpt_free(adk_ckpt_t *ck)
{
    if (!ck) {
        return;
    }
    if (ck->sig_on) {
        adk_sig_checkpoint(0);
    }
    free(ck->prog);
    free(ck->path);
    free(ck->params);
    free(ck->input);
    free(ck);
}

const char *adk_ckpt_path(const adk_ckpt_t *ck)
{
    return ck->path;
}

/* Append "--name value\n" (printf-formatted value); a list too long is an error. */
static int add_param(adk_ckpt_t *ck, const char *name, const char *fmt, ...) ADK_PRINTF(3, 4);
static int add_param(adk_ckpt_t *ck, const char *name, const char *fmt, ...)
{
    char val[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    for (char *p = val; *p; p++) {
        *p = *p == '\n' ? ' ' : *p; /* one line per option */
    }
    size_t room = ADK_CKPT_PARAMS_MAX - ck->plen;
    int n = snprintf(ck->params + ck->plen, room, "--%s %s\n", name, val);
    if (n < 0 || (size_t)n >= room) {
        ck->params[ck->plen] = '\0';
        return ADK_ERR(ck->ctx, ADK_EINVAL, "checkpoint parameters longer than %d characters",
                       ADK_CKPT_PARAMS_MAX);
    }
    ck->plen += (size_t)n;
    return ADK_OK;
}

int adk_ckpt_options(adk_ckpt_t *ck, const adk_opt_t *tab, const char *names)
{
    const char *p = names;
    int st = ADK_OK;
    while (st == ADK_OK && *p) {
        size_t len = strcspn(p, ",");
        const adk_opt_t *o = tab;
        while (o->name && (strlen(o->name) != len || strncmp(o->name, p, len) != 0)) {
            o++;
        }
        if (!o->name) {
            st = ADK_ERR(ck->ctx, ADK_EINTERNAL, "checkpoint parameter '%.*s' is not an option",
                         (int)len, p);
            break;
        }
        switch (o->type) {
        case ADK_OPT_FLAG:
        case ADK_OPT_INT:
            st = add_param(ck, o->name, "%d", *(const int *)o->target);
            break;
        case ADK_OPT_I64:
            st = add_param(ck, o->name, "%lld", (long long)*(const int64_t *)o->target);
            break;
        case ADK_OPT_U64:
            st = add_param(ck, o->name, "%llu", (unsigned long long)*(const uint64_t *)o->target);
            break;
        case ADK_OPT_DOUBLE:
            st = add_param(ck, o->name, "%.17g", *(const double *)o->target);
            break;
        case ADK_OPT_STR:
            if (*(const char *const *)o->target) {
                st = add_param(ck, o->name, "%s", *(const char *const *)o->target);
            }
            break;
        }
        p += len + (p[len] == ',');
    }
    if (ck->pst == ADK_OK) {
        ck->pst = st;
    }
    return st;
}

/* splitmix64's finaliser: a bijection of 64-bit words that mixes every bit into every bit. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* This rank's part of the checksum: integer addition modulo 2^64 is associative and
 * commutative, so any split (ranks, windows) gives the same sum. */
static int checksum_window(void *ud, const adk_rows_t *x, size_t off)
{
    (void)off;
    uint64_t *s = ud;
    for (size_t i = 0; i < x->nloc; i++) {
        uint64_t g = (uint64_t)(x->row0 + (int64_t)i) * (uint64_t)x->d;
        for (size_t j = 0; j < x->d; j++) {
            uint64_t bits;
            memcpy(&bits, x->x + i * x->d + j, sizeof(bits));
            *s += mix64(mix64(g + j + 0x9e3779b97f4a7c15ULL) ^ bits);
        }
    }
    return ADK_OK;
}

int adk_ckpt_checksum(adk_ctx_t *ctx, const adk_rows_t *x, uint64_t *out)
{
    uint64_t s = 0;
    checksum_window(&s, x, 0);
    *out = 0;
    return adk_ctx_allreduce(ctx, &s, out, 1, MPI_UINT64_T, MPI_SUM);
}

static int ckpt_input(adk_ckpt_t *ck, const char *spec, const adk_rows_t *x, adk_rowsrc_t *src)
{
    adk_ctx_t *ctx = ck->ctx;
    free(ck->input);
    ck->input = adk_strdup(spec);
    int st = ck->pst;
    if (st == ADK_OK && !ck->input) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK && x) {
        ck->rows = x->n;
        ck->cols = (int64_t)x->d;
        st = adk_ckpt_checksum(ctx, x, &ck->sum);
    } else if (st == ADK_OK) {
        const adk_rows_t *sh = adk_rowsrc_shape(src);
        uint64_t s = 0;
        ck->rows = sh->n;
        ck->cols = (int64_t)sh->d;
        st = adk_rowsrc_pass(src, checksum_window, &s);
        if (st == ADK_OK) {
            st = adk_ctx_allreduce(ctx, &s, &ck->sum, 1, MPI_UINT64_T, MPI_SUM);
        }
    }
    return st;
}

int adk_ckpt_input(adk_ckpt_t *ck, const char *spec, const adk_rows_t *x)
{
    return ckpt_input(ck, spec, x, NULL);
}

int adk_ckpt_input_src(adk_ckpt_t *ck, const char *spec, adk_rowsrc_t *src)
{
    return ckpt_input(ck, spec, NULL, src);
}

int adk_ckpt_begin(adk_ckpt_t *ck, adk_out_t **out)
{
    adk_out_t *o = NULL;
    int st = adk_out_create(ck->ctx, ck->path, ADK_OUT_FORCE, &o);
    if (st != ADK_OK) {
        *out = NULL;
        return st;
    }
    st = adk_out_attr_i64(o, "/", A_FORMAT, ADK_CKPT_FORMAT);
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", A_PROG, ck->prog);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", A_PARAMS, ck->params);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", A_INPUT, ck->input ? ck->input : "");
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", A_ROWS, ck->rows);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", A_COLS, ck->cols);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_u64(o, "/", A_SUM, ck->sum);
    }
    if (st != ADK_OK) {
        *out = NULL;
        return adk_out_commit(o, st);
    }
    *out = o;
    return ADK_OK;
}

int adk_ckpt_commit(adk_out_t *o, int st)
{
    return o ? adk_out_commit(o, st) : st;
}

/* Line @p want's value in a parameter list ("--name value\n" lines), or NULL; *len its length. */
static const char *param_value(const char *list, const char *name, size_t nlen, size_t *len)
{
    for (const char *l = list; *l;) {
        size_t ll = strcspn(l, "\n");
        if (ll > nlen && strncmp(l, name, nlen) == 0 && l[nlen] == ' ') {
            *len = ll - nlen - 1;
            return l + nlen + 1;
        }
        l += ll + (l[ll] == '\n');
    }
    return NULL;
}

/* The first difference between two parameter lists, as a message fragment; 0 when they agree. */
static int params_differ(const char *mine, const char *theirs, char *msg, size_t len)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *a = pass == 0 ? mine : theirs, *b = pass == 0 ? theirs : mine;
        for (const char *l = a; *l;) {
            size_t ll = strcspn(l, "\n"), nlen = strcspn(l, " \n"), vl = 0;
            const char *va = nlen < ll ? l + nlen + 1 : l + ll;
            const char *vb = param_value(b, l, nlen, &vl);
            int la = (int)(l + ll - va), ln = (int)nlen, lb = (int)vl;
            if (!vb && pass == 0) {
                snprintf(msg, len, "the checkpoint was made without %.*s, this run has %.*s %.*s",
                         ln, l, ln, l, la, va);
                return 1;
            }
            if (!vb) {
                snprintf(msg, len, "the checkpoint was made with %.*s %.*s, this run has no %.*s",
                         ln, l, la, va, ln, l);
                return 1;
            }
            if (pass == 0 && (vl != (size_t)la || strncmp(va, vb, vl) != 0)) {
                snprintf(msg, len, "the checkpoint was made with %.*s %.*s, this run has %.*s %.*s",
                         ln, l, lb, vb, ln, l, la, va);
                return 1;
            }
            l += ll + (l[ll] == '\n');
        }
    }
    return 0;
}

/* The identity checks of adk_ckpt_open on the open file. Collective. */
static int check_identity(adk_ckpt_t *ck, adk_h5_t *f, const char *path)
{
    adk_ctx_t *ctx = ck->ctx;
    double fmt = 0, rows = 0, cols = 0;
    uint64_t sum = 0;
    int found = 0;
    char prog[256] = "", input[4096] = "", msg[1024];
    char *params = adk_calloc(ADK_CKPT_PARAMS_MAX, 1);
    int st = adk_ctx_agree(ctx, params ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", A_FORMAT, ADK_ATTR_F64, &fmt, 0, &found);
    }
    if (st == ADK_OK && !found) {
        st = ADK_ERR(ctx, ADK_EDATA, "--resume %s: not an adkit checkpoint (no attribute %s)", path,
                     A_FORMAT);
    } else if (st == ADK_OK && fmt != ADK_CKPT_FORMAT) {
        st =
            ADK_ERR(ctx, ADK_EDATA, "--resume %s: checkpoint format %g, this adkit reads format %d",
                    path, fmt, ADK_CKPT_FORMAT);
    }
    /* every rank read the same attributes: the verdicts above are common, no agreement needed */
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", A_PROG, ADK_ATTR_STR, prog, sizeof(prog), NULL);
    }
    if (st == ADK_OK && strcmp(prog, ck->prog) != 0) {
        st = ADK_ERR(ctx, ADK_EDATA, "--resume %s: a checkpoint of %s, not of %s", path, prog,
                     ck->prog);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", A_PARAMS, ADK_ATTR_STR, params, ADK_CKPT_PARAMS_MAX, NULL);
    }
    if (st == ADK_OK && params_differ(ck->params, params, msg, sizeof(msg))) {
        st = ADK_ERR(ctx, ADK_EINVAL, "--resume %s: %s", path, msg);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", A_INPUT, ADK_ATTR_STR, input, sizeof(input), NULL);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", A_ROWS, ADK_ATTR_F64, &rows, 0, NULL);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", A_COLS, ADK_ATTR_F64, &cols, 0, NULL);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", A_SUM, ADK_ATTR_U64, &sum, 0, NULL);
    }
    if (st == ADK_OK && (rows != (double)ck->rows || cols != (double)ck->cols)) {
        st = ADK_ERR(ctx, ADK_EDATA,
                     "--resume %s: the checkpoint was made from %s (%.0f x %.0f), this run reads "
                     "%s (%lld x %lld)",
                     path, input, rows, cols, ck->input, (long long)ck->rows, (long long)ck->cols);
    } else if (st == ADK_OK && sum != ck->sum) {
        st = ADK_ERR(ctx, ADK_EDATA,
                     "--resume %s: the checkpoint was made from other data (%s, checksum %016llx), "
                     "this run reads %s (checksum %016llx)",
                     path, input, (unsigned long long)sum, ck->input, (unsigned long long)ck->sum);
    }
    free(params);
    return st;
}

int adk_ckpt_open(adk_ckpt_t *ck, const char *path, adk_h5_t **out)
{
    *out = NULL;
    adk_h5_t *f = NULL;
    int st = adk_h5_open(ck->ctx, path, &f);
    if (st == ADK_OK) {
        st = check_identity(ck, f, path);
    }
    if (st != ADK_OK) {
        adk_h5_close(f);
        return st;
    }
    *out = f;
    return ADK_OK;
}

int adk_ckpt_stop_wanted(const adk_ckpt_t *ck, int64_t major, int64_t minor)
{
    if (ck->delay > 0.0) {
        struct timespec ts;
        ts.tv_sec = (time_t)ck->delay;
        ts.tv_nsec = (long)((ck->delay - (double)ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
    }
    if (adk_sig_stop_requested()) {
        return 1;
    }
    return ck->test_stop &&
           (major > ck->stop_major || (major == ck->stop_major && minor >= ck->stop_minor));
}

int adk_ckpt_stopped(adk_ckpt_t *ck, const char *where, ...)
{
    char at[512];
    va_list ap;
    va_start(ap, where);
    vsnprintf(at, sizeof(at), where, ap);
    va_end(ap);
    int sig = adk_sig_stop_requested();
    const char *by = sig == SIGTERM ? "by SIGTERM" : sig == SIGUSR1 ? "by SIGUSR1" : "on request";
    return ADK_ERR(ck->ctx, ADK_ESTOPPED,
                   "stopped %s at %s: checkpoint %s written; resume with --resume %s", by, at,
                   ck->path, ck->path);
}
