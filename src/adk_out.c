/*
 * adk_out: output files and groups of them, committed all-or-nothing (see adk_out.h).
 * HDF5 outputs are written collectively through the MPI-IO driver; text outputs by rank 0.
 */
#define _GNU_SOURCE /* fallocate(2) */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <hdf5.h>

#include "adk_h5.h"
#include "adk_mem.h"
#include "adk_out.h"
#include "adk_prov.h"
#include "adk_sig.h"

struct adk_out {
    adk_out_group_t *g;
    adk_ctx_t *ctx;
    hid_t fid;   /* open HDF5 file, or -1 (a text output, or closed) */
    char *path;  /* final name */
    char *tmp;   /* name while being written */
    int placed;  /* at its final name (commit) */
    int backup;  /* the file it replaced is kept at its backup name until the commit is done */
    int replace; /* an update: replaces its original, --force or not */
    int index;   /* its place in the group (short temporary and backup names) */
    uint64_t reserved; /* rank 0: bytes of disk reserved for it (released beyond its end) */
    adk_out_t *next;
};

struct adk_out_group {
    adk_ctx_t *ctx;
    unsigned flags;
    long long id;    /* rank 0's pid: the temporary names' suffix */
    int count;       /* members added so far */
    adk_out_t *head; /* in the order the outputs were added */
    adk_out_t *tail;
};

static int path_exists(adk_ctx_t *ctx, const char *path, int *exists)
{
    adk_ctx_tic(ctx, ADK_T_IO);
    int ex = 0;
    if (adk_ctx_rank(ctx) == 0) {
        struct stat sb;
        ex = stat(path, &sb) == 0;
    }
    int st = adk_ctx_bcast(ctx, &ex, 1, MPI_INT, 0);
    *exists = ex;
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

int adk_out_check(adk_ctx_t *ctx, const char *path, unsigned flags)
{
    int ex = 0;
    int st = path_exists(ctx, path, &ex);
    if (st == ADK_OK && ex && !(flags & ADK_OUT_FORCE)) {
        st = ADK_ERR(ctx, ADK_EEXIST, "output '%s' exists; use --force to replace it", path);
    }
    return st; /* the broadcast made the verdict common */
}

static int group_create(adk_ctx_t *ctx, unsigned flags, adk_out_group_t **out)
{
    *out = NULL;
    adk_out_group_t *g = adk_calloc(1, sizeof(*g));
    int st = adk_ctx_agree(ctx, g ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st == ADK_OK) {
        g->ctx = ctx;
        g->flags = flags;
        g->id = adk_ctx_rank(ctx) == 0 ? (long long)getpid() : 0;
        st = adk_ctx_bcast(ctx, &g->id, 1, MPI_LONG_LONG, 0);
    }
    if (st != ADK_OK) {
        free(g);
        return st;
    }
    *out = g;
    return ADK_OK;
}

int adk_out_group_create(adk_ctx_t *ctx, unsigned flags, adk_out_group_t **out)
{
    return ADK_TIMED(ctx, ADK_T_IO, group_create(ctx, flags, out));
}

/*
 * A name beside @p path: "PATH.KIND-ID", or "DIR/adk-ID-INDEX.KIND" when the file name would be
 * 200 characters or more (Open MPI's "sm" shared-file-pointer component cannot open longer ones,
 * and NAME_MAX is 255).
 */
static void side_name(const char *path, const char *kind, long long id, int index, char *buf,
                      size_t len)
{
    snprintf(buf, len, "%s.%s-%lld", path, kind, id);
    const char *base = strrchr(buf, '/');
    if (strlen(base ? base + 1 : buf) >= 200) {
        int dirlen = base ? (int)(base - buf) + 1 : 0;
        snprintf(buf + dirlen, len - (size_t)dirlen, "adk-%lld-%d.%s", id, index, kind);
    }
}

/* A new member of the group (its temporary name next to the final one, on the same file system,
 * so the rename is atomic), after the existence check. */
static int member_add(adk_out_group_t *g, const char *path, int must_exist, adk_out_t **out)
{
    adk_ctx_t *ctx = g->ctx;
    *out = NULL;
    int st = must_exist ? ADK_OK : adk_out_check(ctx, path, g->flags);
    if (st != ADK_OK) {
        return st;
    }
    adk_out_t *o = adk_calloc(1, sizeof(*o));
    if (o) {
        size_t len = strlen(path) + 32;
        o->g = g;
        o->ctx = ctx;
        o->fid = -1;
        o->path = adk_strdup(path);
        o->tmp = adk_malloc(len);
        if (o->tmp) {
            side_name(path, "tmp", g->id, g->count, o->tmp, len);
        }
        o->index = g->count++;
    }
    st = o && o->path && o->tmp ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK) {
        if (o) {
            free(o->path);
            free(o->tmp);
            free(o);
        }
        return st;
    }
    adk_sig_track(o->tmp);
    if (g->tail) {
        g->tail->next = o;
    } else {
        g->head = o;
    }
    g->tail = o;
    *out = o;
    return ADK_OK;
}

static hid_t str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Write (or replace) an attribute; value and type are the same on every rank. */
static int put_attr(adk_out_t *o, const char *obj, const char *name, hid_t ftype, hid_t mtype,
                    const void *val, size_t n)
{
    adk_ctx_t *ctx = o->ctx;
    hid_t sp = -1, a = -1;
    herr_t e = 0;
    adk_ctx_tic(ctx, ADK_T_IO);
    if (H5Aexists_by_name(o->fid, obj, name, H5P_DEFAULT) > 0) {
        e = H5Adelete_by_name(o->fid, obj, name, H5P_DEFAULT);
    }
    if (e >= 0) {
        hsize_t dim = n;
        sp = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
        a = sp >= 0 ? H5Acreate_by_name(o->fid, obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT,
                                        H5P_DEFAULT)
                    : -1;
        e = a >= 0 ? H5Awrite(a, mtype, val) : -1;
    }
    if (a >= 0) {
        H5Aclose(a);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    int st = e < 0 ? ADK_ERR(ctx, ADK_EHDF5, "%s: cannot write attribute '%s' on '%s'", o->path,
                             name, obj)
                   : ADK_OK;
    st = adk_ctx_agree(ctx, st);
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

int adk_out_attr_f64(adk_out_t *o, const char *obj, const char *name, double v)
{
    return put_attr(o, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, 0);
}

int adk_out_attr_i64(adk_out_t *o, const char *obj, const char *name, int64_t v)
{
    return put_attr(o, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, 0);
}

int adk_out_attr_f64v(adk_out_t *o, const char *obj, const char *name, const double *v, size_t n)
{
    return put_attr(o, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, n ? n : 1);
}

int adk_out_attr_i64v(adk_out_t *o, const char *obj, const char *name, const int64_t *v, size_t n)
{
    return put_attr(o, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v, n ? n : 1);
}

int adk_out_attr_str(adk_out_t *o, const char *obj, const char *name, const char *v)
{
    hid_t t = str_type();
    if (t < 0) {
        return adk_ctx_agree(o->ctx, ADK_ERR(o->ctx, ADK_EHDF5, "cannot make a string type"));
    }
    int st = put_attr(o, obj, name, t, t, &v, 0);
    H5Tclose(t);
    return st;
}

int adk_out_attr_u64(adk_out_t *o, const char *obj, const char *name, uint64_t v)
{
    return put_attr(o, obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v, 0);
}

static int write_provenance(adk_out_t *o)
{
    adk_prov_t p;
    int st = adk_prov_collect(o->ctx, &p);
    for (size_t i = 0; i < p.n && st == ADK_OK; i++) {
        const adk_prov_item_t *it = &p.item[i];
        switch (it->kind) {
        case ADK_PROV_STR:
            st = adk_out_attr_str(o, "/", it->name, it->s);
            break;
        case ADK_PROV_I64:
            st = adk_out_attr_i64(o, "/", it->name, it->i);
            break;
        default:
            st = adk_out_attr_u64(o, "/", it->name, it->u);
            break;
        }
    }
    return st;
}

static int reserve(adk_out_t *o, const char *name, uint64_t bytes);

/* Room for the HDF5 metadata of a new file and its closing flush, in every phase. */
#define ADK_OUT_MARGIN ((uint64_t)1 << 20)

/*
 * Whether the file system holding @p path has @p bytes free and the process may write a file that
 * large (rank 0 asks, every rank gets the answer). Checked before HDF5 creates anything: once HDF5
 * holds metadata it cannot write, its closing flush fails on one rank only and the ranks part ways.
 */
static int room_for(adk_ctx_t *ctx, const char *path, uint64_t bytes)
{
    int err = 0;
    if (adk_ctx_rank(ctx) == 0) {
        char *copy = adk_strdup(path);
        struct statvfs fs;
        struct rlimit rl;
        if (!copy) {
            err = ENOMEM;
        } else if (statvfs(dirname(copy), &fs) != 0) {
            err = 0; /* nothing known: HDF5's own open will tell */
        } else if (fs.f_flag & ST_RDONLY) {
            err = EROFS;
        } else if ((uint64_t)fs.f_bavail * (uint64_t)fs.f_frsize < bytes) {
            err = ENOSPC;
        } else if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                   (uint64_t)rl.rlim_cur < bytes) {
            err = EFBIG;
        }
        free(copy);
    }
    int st = adk_ctx_bcast(ctx, &err, 1, MPI_INT, 0);
    if (st == ADK_OK && err) {
        st = ADK_ERR(ctx, ADK_EIO, "cannot write '%s': %s", path, strerror(err));
    }
    return st;
}

int adk_out_h5_create(adk_out_group_t *g, const char *path, adk_out_t **out)
{
    adk_ctx_t *ctx = g->ctx;
    *out = NULL;
    adk_out_t *o = NULL;
    adk_ctx_tic(ctx, ADK_T_IO);
    int st = member_add(g, path, 0, &o);
    if (st == ADK_OK) {
        st = room_for(ctx, o->path, ADK_OUT_MARGIN);
    }
    if (st == ADK_OK) {
        hid_t fapl = adk_h5_fapl(ctx);
        o->fid = fapl >= 0 ? H5Fcreate(o->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : -1;
        if (fapl >= 0) {
            H5Pclose(fapl);
        }
        if (o->fid < 0) {
            st = ADK_ERR(ctx, ADK_EIO, "cannot create '%s' (is the directory writable?)", o->tmp);
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = reserve(o, "/", 0); /* the metadata's room, before any is written */
    }
    if (st == ADK_OK) {
        st = write_provenance(o);
    }
    if (st == ADK_OK) {
        *out = o;
    }
    adk_ctx_toc(ctx, ADK_T_IO);
    return st; /* on failure the member stays in the group, whose commit removes it */
}

/* Byte copy of src to dst (rank 0 only). */
static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY);
    if (in < 0) {
        return errno;
    }
    int outfd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (outfd < 0) {
        int e = errno;
        close(in);
        return e;
    }
    char buf[1 << 16];
    int err = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n == 0) {
            break;
        }
        if (n < 0) {
            err = errno;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(outfd, buf + off, (size_t)(n - off));
            if (w < 0) {
                err = errno;
                break;
            }
            off += w;
        }
        if (err) {
            break;
        }
    }
    close(in);
    if (close(outfd) != 0 && !err) {
        err = errno;
    }
    return err;
}

int adk_out_h5_derive(adk_out_group_t *g, const char *src, const char *path, adk_out_t **out)
{
    adk_ctx_t *ctx = g->ctx;
    *out = NULL;
    adk_h5_t *f = NULL;
    int update = strcmp(src, path) == 0; /* else a new file, refused if it exists unasked */
    adk_ctx_tic(ctx, ADK_T_IO);
    int st = adk_h5_open(ctx, src, &f); /* readable and HDF5: the same checks as any input */
    adk_h5_close(f);
    adk_out_t *o = NULL;
    if (st == ADK_OK) {
        st = member_add(g, path, update, &o);
    }
    if (st == ADK_OK) {
        o->replace = update;
        struct stat sb;
        uint64_t size = adk_ctx_rank(ctx) == 0 && stat(src, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        st = room_for(ctx, o->path, size + ADK_OUT_MARGIN); /* rank 0's size is the one used */
    }
    if (st == ADK_OK) {
        int err = adk_ctx_rank(ctx) == 0 ? copy_file(src, o->tmp) : 0;
        st = adk_ctx_bcast(ctx, &err, 1, MPI_INT, 0);
        if (st == ADK_OK && err) {
            st = ADK_ERR(ctx, ADK_EIO, "cannot copy '%s' to '%s': %s", src, o->tmp, strerror(err));
        }
    }
    if (st == ADK_OK) {
        hid_t fapl = adk_h5_fapl(ctx);
        o->fid = fapl >= 0 ? H5Fopen(o->tmp, H5F_ACC_RDWR, fapl) : -1;
        if (fapl >= 0) {
            H5Pclose(fapl);
        }
        if (o->fid < 0) {
            st = ADK_ERR(ctx, ADK_EIO, "'%s' is not a writable HDF5 file", src);
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = reserve(o, "/", 0);
    }
    if (st == ADK_OK) {
        *out = o;
    }
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

int adk_out_h5_update(adk_out_group_t *g, const char *path, adk_out_t **out)
{
    return adk_out_h5_derive(g, path, path, out);
}

/* Write @p text to @p path and flush it to stable storage: 0 or an errno. */
static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return errno;
    }
    int err = 0;
    if (fputs(text, f) == EOF || fflush(f) != 0) {
        err = errno ? errno : EIO;
    }
    if (!err && fsync(fileno(f)) != 0) {
        err = errno;
    }
    if (fclose(f) != 0 && !err) {
        err = errno;
    }
    return err;
}

int adk_out_text(adk_out_group_t *g, const char *path, const char *text)
{
    adk_ctx_t *ctx = g->ctx;
    adk_out_t *o = NULL;
    adk_ctx_tic(ctx, ADK_T_IO);
    int st = member_add(g, path, 0, &o);
    if (st == ADK_OK) {
        int err = adk_ctx_rank(ctx) == 0 ? write_file(o->tmp, text ? text : "") : 0;
        st = adk_ctx_bcast(ctx, &err, 1, MPI_INT, 0);
        if (st == ADK_OK && err) {
            st = ADK_ERR(ctx, ADK_EIO, "cannot write '%s': %s", path, strerror(err));
        }
    }
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

/* fsync a file or directory by name: 0 or an errno (EINVAL/EROFS: cannot be synced, ignored). */
static int sync_path(const char *path, int dir)
{
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) {
        return errno;
    }
    int err = fsync(fd) != 0 ? errno : 0;
    close(fd);
    return err == EINVAL || err == EROFS ? 0 : err;
}

static int sync_parent(const char *path)
{
    /* no allocation here: the outputs are already in place when this runs */
    char dir[4096];
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        return 0; /* a path that long: its directory is not synced */
    }
    return sync_path(dirname(dir), 1);
}

/* The name an existing output is kept under while a commit is under way. */
static void backup_name(const adk_out_t *o, char *buf, size_t len)
{
    side_name(o->path, "old", o->g->id, o->index, buf, len);
}

/*
 * Put one member in place. Without --force: link(2) fails if the final name exists (also one that
 * appeared after adk_out_check), so nothing is ever replaced unasked. With --force: the existing
 * file is first hard-linked to a backup name, then rename(2) replaces it atomically, so a later
 * failure can put it back (a file system without hard links replaces without a backup).
 */
static int place(adk_out_t *o, int force)
{
    if (!force) {
        if (link(o->tmp, o->path) != 0) {
            return errno;
        }
        unlink(o->tmp);
        o->placed = 1;
        return 0;
    }
    char bak[4200];
    backup_name(o, bak, sizeof(bak));
    unlink(bak);
    if (link(o->path, bak) == 0) {
        o->backup = 1;
    } else if (errno != ENOENT && errno != EPERM && errno != ENOTSUP && errno != EXDEV) {
        return errno;
    }
    if (rename(o->tmp, o->path) != 0) {
        int err = errno;
        if (o->backup) {
            unlink(bak);
            o->backup = 0;
        }
        return err;
    }
    o->placed = 1;
    return 0;
}

/* Undo the members already placed: their previous files come back, new ones go. */
static void unplace(adk_out_group_t *g)
{
    for (adk_out_t *o = g->head; o; o = o->next) {
        if (!o->placed) {
            continue;
        }
        char bak[4200];
        backup_name(o, bak, sizeof(bak));
        if (o->backup) {
            rename(bak, o->path);
        } else {
            unlink(o->path);
        }
        o->placed = o->backup = 0;
    }
}

/* Give back the reserved blocks beyond the file's end (HDF5 used less than was reserved). */
static void release(const adk_out_t *o)
{
    struct stat sb;
    if (o->reserved == 0 || stat(o->tmp, &sb) != 0 || (uint64_t)sb.st_size >= o->reserved) {
        return;
    }
    int fd = open(o->tmp, O_WRONLY);
    if (fd >= 0) {
        /* shrinking frees the blocks past the new end (a hole punched past the end is ignored by
         * some file systems); the byte added first is removed again, so the content is unchanged */
        int grown = ftruncate(fd, sb.st_size + 1) == 0;
        int back = grown && ftruncate(fd, sb.st_size) == 0;
        (void)back; /* if that fails, one zero byte more than HDF5 wrote: still a valid file */
        close(fd);
    }
}

/* Rank 0: fsync every temporary file, put all in place (or none), fsync the directories. */
static int publish(adk_out_group_t *g, const char **failed)
{
    for (adk_out_t *o = g->head; o; o = o->next) {
        release(o);
        int err = sync_path(o->tmp, 0);
        if (err) {
            *failed = o->tmp;
            return err;
        }
    }
    for (adk_out_t *o = g->head; o; o = o->next) {
        int err = place(o, o->replace || (g->flags & ADK_OUT_FORCE));
        if (err) {
            *failed = o->path;
            unplace(g);
            return err;
        }
    }
    for (adk_out_t *o = g->head; o; o = o->next) {
        if (o->backup) {
            char bak[4200];
            backup_name(o, bak, sizeof(bak));
            unlink(bak);
        }
    }
    for (adk_out_t *o = g->head; o; o = o->next) {
        int err = sync_parent(o->path);
        if (err) {
            *failed = o->path;
            return err; /* every file is in place; only its durability is in doubt */
        }
    }
    return 0;
}

/* Close every member still open; ADK_OK or the first failure (recorded). Collective. */
static int close_all(adk_out_group_t *g)
{
    int st = ADK_OK;
    for (adk_out_t *o = g->head; o; o = o->next) {
        if (o->fid >= 0) {
            herr_t e = H5Fclose(o->fid);
            o->fid = -1;
            if (e < 0 && st == ADK_OK) {
                st = ADK_ERR(g->ctx, ADK_EIO, "cannot close '%s'", o->tmp);
            }
        }
    }
    return st;
}

/*
 * --timings: the run's accounting up to now (adk_ctx_usage) as attributes on "/" of every HDF5
 * member, before the files are closed. The members and the option are the same on every rank.
 */
static int write_timings(adk_out_group_t *g)
{
    static const char *const phase[ADK_T_NPHASE] = {"io", "compute", "mpi"};
    int any = 0;
    for (adk_out_t *o = g->head; o; o = o->next) {
        any |= o->fid >= 0;
    }
    if (!any) {
        return ADK_OK; /* text outputs only: nothing to reduce */
    }
    adk_usage_t u;
    int st = adk_ctx_usage(g->ctx, &u);
    for (adk_out_t *o = g->head; o && st == ADK_OK; o = o->next) {
        if (o->fid < 0) {
            continue;
        }
        char name[32];
        for (int p = 0; p < ADK_T_NPHASE && st == ADK_OK; p++) {
            snprintf(name, sizeof(name), "timings_%s_max", phase[p]);
            st = adk_out_attr_f64(o, "/", name, u.max[p]);
            if (st == ADK_OK) {
                snprintf(name, sizeof(name), "timings_%s_mean", phase[p]);
                st = adk_out_attr_f64(o, "/", name, u.mean[p]);
            }
        }
        if (st == ADK_OK) {
            st = adk_out_attr_u64(o, "/", "bytes_sent_max", u.bytes_max);
        }
        if (st == ADK_OK) {
            st = adk_out_attr_f64(o, "/", "bytes_sent_mean", u.bytes_mean);
        }
        if (st == ADK_OK) {
            st = adk_out_attr_u64(o, "/", "bytes_sent_total", u.bytes_total);
        }
        if (st == ADK_OK) {
            st = adk_out_attr_i64(o, "/", "timings_ranks", u.ranks);
        }
    }
    return st;
}

int adk_out_group_commit(adk_out_group_t *g, int st)
{
    if (!g) {
        return st;
    }
    adk_ctx_t *ctx = g->ctx;
    adk_ctx_tic(ctx, ADK_T_IO);
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK && adk_ctx_timings_on(ctx)) {
        st = write_timings(g);
    }
    int cst = close_all(g);
    st = adk_ctx_agree(ctx, st != ADK_OK ? st : cst);
    if (st == ADK_OK) {
        const char *failed = "";
        int err = adk_ctx_rank(ctx) == 0 ? publish(g, &failed) : 0;
        char what[1024];
        snprintf(what, sizeof(what), "%s", failed);
        st = adk_ctx_bcast(ctx, &err, 1, MPI_INT, 0);
        if (st == ADK_OK && err == EEXIST && !(g->flags & ADK_OUT_FORCE)) {
            /* created by someone else since adk_out_check: still never replaced unasked */
            st = ADK_ERR(ctx, ADK_EEXIST, "output '%s' exists; use --force to replace it", what);
        } else if (st == ADK_OK && err) {
            st = ADK_ERR(ctx, ADK_EIO, "cannot finish '%s': %s", what, strerror(err));
        }
    }
    /* every rank has closed its files: rank 0 removes what was not moved into place */
    for (adk_out_t *o = g->head; o;) {
        adk_out_t *next = o->next;
        if (st != ADK_OK && adk_ctx_rank(ctx) == 0 && !o->placed) {
            unlink(o->tmp);
        }
        adk_sig_untrack(o->tmp);
        free(o->path);
        free(o->tmp);
        free(o);
        o = next;
    }
    free(g);
    if (st != ADK_OK) {
        /* no rank returns before rank 0 has removed the temporary files (a barrier, not an
         * agreement: the agreed failing rank must stay the one whose message is reported) */
        MPI_Barrier(adk_ctx_comm(ctx));
    }
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

static void dtype_of(adk_dtype_t t, hid_t *ftype, hid_t *mtype)
{
    switch (t) {
    case ADK_F32:
        *ftype = H5T_IEEE_F32LE;
        *mtype = H5T_NATIVE_FLOAT;
        break;
    case ADK_I32:
        *ftype = H5T_STD_I32LE;
        *mtype = H5T_NATIVE_INT32;
        break;
    case ADK_I64:
        *ftype = H5T_STD_I64LE;
        *mtype = H5T_NATIVE_INT64;
        break;
    case ADK_U8:
        *ftype = H5T_STD_U8LE;
        *mtype = H5T_NATIVE_UINT8;
        break;
    default:
        *ftype = H5T_IEEE_F64LE;
        *mtype = H5T_NATIVE_DOUBLE;
        break;
    }
}

/* Collective creation of a dataset (replacing one of the same name), intermediate groups made. */
static int create_dset(adk_out_t *o, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                       hid_t *ds)
{
    adk_ctx_t *ctx = o->ctx;
    herr_t e = 0;
    if (H5Lexists(o->fid, name, H5P_DEFAULT) > 0) {
        e = H5Ldelete(o->fid, name, H5P_DEFAULT);
    }
    hid_t sp = e >= 0 ? H5Screate_simple(rank, dims, NULL) : -1;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0) {
        H5Pset_create_intermediate_group(lcpl, 1);
    }
    *ds = (sp >= 0 && lcpl >= 0)
              ? H5Dcreate2(o->fid, name, ftype, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT)
              : -1;
    if (lcpl >= 0) {
        H5Pclose(lcpl);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    int st =
        *ds < 0 ? ADK_ERR(ctx, ADK_EHDF5, "%s: cannot create dataset '%s'", o->path, name) : ADK_OK;
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK && *ds >= 0) {
        H5Dclose(*ds);
        *ds = -1;
    }
    return st;
}

struct adk_odset {
    adk_out_t *o;
    hid_t ds, mtype;
    size_t d;
    char what[512];
};

/*
 * Reserve the disk blocks of @p bytes more data (rank 0, on the temporary file, without changing
 * its size) before HDF5 allocates and writes them. A full disk or a file-size limit is then one
 * agreed error of ours, before any collective write; inside HDF5's collective I/O it would fail on
 * some ranks only and leave them in different calls (a hung job). File systems without
 * fallocate(2) are written as before.
 */
static int reserve(adk_out_t *o, const char *name, uint64_t bytes)
{
    adk_ctx_t *ctx = o->ctx;
    int err = 0;
    if (adk_ctx_rank(ctx) == 0) {
        hsize_t now = 0;
        struct stat sb;
        if (H5Fget_filesize(o->fid, &now) < 0) {
            now = 0;
        }
        if (stat(o->tmp, &sb) == 0 && (hsize_t)sb.st_size > now) {
            now = (hsize_t)sb.st_size;
        }
        /* room for the data, its metadata and the file's closing flush */
        uint64_t need = now + bytes + bytes / 64 + ADK_OUT_MARGIN;
        int fd = open(o->tmp, O_WRONLY);
        if (fd < 0) {
            err = errno;
        } else {
            if (need < now || need > (uint64_t)INT64_MAX) {
                err = EFBIG;
            } else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)need) != 0) {
                err = errno == EOPNOTSUPP || errno == ENOSYS ? 0 : errno;
            } else if (need > o->reserved) {
                o->reserved = need;
            }
            close(fd);
        }
    }
    int st = adk_ctx_bcast(ctx, &err, 1, MPI_INT, 0);
    if (st == ADK_OK && err) {
        st = ADK_ERR(ctx, ADK_EIO, "cannot write %s:%s (%.3g GB): %s", o->path, name,
                     (double)bytes / 1e9, strerror(err));
    }
    return st;
}

static int out_dset(adk_out_t *o, const char *name, adk_dtype_t type, int64_t n, size_t d,
                    adk_odset_t **out)
{
    *out = NULL;
    hid_t ftype, mtype, ds = -1;
    dtype_of(type, &ftype, &mtype);
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)d};
    uint64_t width = (uint64_t)(d ? d : 1) * H5Tget_size(ftype);
    uint64_t bytes = n > 0 && width > UINT64_MAX / (uint64_t)n ? UINT64_MAX : (uint64_t)n * width;
    int st = reserve(o, name, bytes);
    if (st == ADK_OK) {
        st = create_dset(o, name, ftype, d ? 2 : 1, dims, &ds);
    }
    if (st != ADK_OK) {
        return st;
    }
    adk_odset_t *w = adk_calloc(1, sizeof(*w));
    st = adk_ctx_agree(o->ctx, w ? ADK_OK : ADK_ERR(o->ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        free(w);
        H5Dclose(ds);
        return st;
    }
    w->o = o;
    w->ds = ds;
    w->mtype = mtype;
    w->d = d;
    snprintf(w->what, sizeof(w->what), "%s:%s", o->path, name);
    *out = w;
    return ADK_OK;
}

int adk_out_dset(adk_out_t *o, const char *name, adk_dtype_t type, int64_t n, size_t d,
                 adk_odset_t **out)
{
    return ADK_TIMED(o->ctx, ADK_T_IO, out_dset(o, name, type, n, d, out));
}

int adk_odset_write(adk_odset_t *w, const void *buf, int64_t row0, size_t nloc)
{
    return adk_h5_xfer_rows(w->o->ctx, w->ds, w->mtype, (void *)buf, row0, nloc, w->d, 1, w->what);
}

void adk_odset_close(adk_odset_t *w)
{
    if (!w) {
        return;
    }
    adk_ctx_tic(w->o->ctx, ADK_T_IO);
    H5Dclose(w->ds);
    adk_ctx_toc(w->o->ctx, ADK_T_IO);
    free(w);
}

int adk_out_rows(adk_out_t *o, const char *name, adk_dtype_t type, const void *buf, int64_t n,
                 int64_t row0, size_t nloc, size_t d)
{
    adk_odset_t *w = NULL;
    int st = adk_out_dset(o, name, type, n, d, &w);
    if (st == ADK_OK) {
        st = adk_odset_write(w, buf, row0, nloc);
        adk_odset_close(w);
    }
    return st;
}

int adk_out_small(adk_out_t *o, const char *name, adk_dtype_t type, const void *buf, size_t rows,
                  size_t cols)
{
    /* rank 0 writes everything, the others join the collective call with empty selections */
    int rank0 = adk_ctx_rank(o->ctx) == 0;
    return adk_out_rows(o, name, type, buf, (int64_t)rows, 0, rank0 ? rows : 0, cols);
}

/* ---- one-file shorthands ---- */

int adk_out_create(adk_ctx_t *ctx, const char *path, unsigned flags, adk_out_t **out)
{
    adk_out_group_t *g = NULL;
    *out = NULL;
    int st = adk_out_group_create(ctx, flags, &g);
    if (st == ADK_OK) {
        st = adk_out_h5_create(g, path, out);
    }
    if (st != ADK_OK) {
        *out = NULL;
        return adk_out_group_commit(g, st);
    }
    return ADK_OK;
}

int adk_out_update(adk_ctx_t *ctx, const char *path, adk_out_t **out)
{
    return adk_out_derive(ctx, path, path, 0, out);
}

int adk_out_derive(adk_ctx_t *ctx, const char *src, const char *path, unsigned flags,
                   adk_out_t **out)
{
    adk_out_group_t *g = NULL;
    *out = NULL;
    int st = adk_out_group_create(ctx, flags, &g);
    if (st == ADK_OK) {
        st = adk_out_h5_derive(g, src, path, out);
    }
    if (st != ADK_OK) {
        *out = NULL;
        return adk_out_group_commit(g, st);
    }
    return ADK_OK;
}

int adk_out_commit(adk_out_t *o, int st)
{
    return adk_out_group_commit(o->g, st);
}

int adk_out_text_file(adk_ctx_t *ctx, const char *path, unsigned flags, const char *text)
{
    adk_out_group_t *g = NULL;
    int st = adk_out_group_create(ctx, flags, &g);
    if (st == ADK_OK) {
        st = adk_out_text(g, path, text);
    }
    return adk_out_group_commit(g, st);
}
