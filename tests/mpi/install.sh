#!/bin/sh
# Integration test of `make install` (mk/install.am), into a scratch DESTDIR: every program, man
# page, header, libadkit.a, adkit.pc and the Lmod modulefile lands where the Makefile says; with
# pkg-config relocated to the scratch prefix, mpicc builds a program on the installed headers and
# library that runs on 2 ranks and prints known values; each man page is its program's --help
# (NAME line, every option); `module load adkit` puts the installed programs on PATH (and man
# pages, pkg-config file, headers where the tools look), `module unload` takes them away.
# Tests run in parallel (make check -j): the install here rebuilds nothing, it only copies.
# shellcheck disable=SC2154 # prefix, bindir, ... come from eval "$vars" below
. "$ADK_SRCDIR/tests/mpi/lib.sh"

# "ok" counted, with the reason the check could not run (only where a tool is truly absent)
skip() {
    ok "$1 # SKIP $2"
}

# make in the build tree as a child of this test, not of the make running it: none of its
# jobserver, flags or command-line variables (such as TESTS=...)
mk() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u DESTDIR \
        make --no-print-directory -C "$ADK_BUILDDIR" "$@"
}

# Where `make install` puts things and what it installs: prefix bindir libdir pkgincludedir
# mandir pkgconfigdir modulefiledir version exeext mpicc pkg_config help2man programs headers
# libraries adk_keep. (-o Makefile: no remaking of the Makefile for it either.)
if ! vars=$(mk -s -o Makefile adk-install-vars 2>&1); then
    notok "make adk-install-vars"
    echo "$vars" | sed 's/^/# /'
    finish
fi
eval "$vars"

# Files the make runs below must not remake (-o): the Makefile and config.status (someone may
# rerun autoreconf meanwhile), config.h (its rule runs every time; make -q would count that as a
# change and every object including it as out of date) and the BUILT_SOURCES (the git version
# header is refreshed by every make; a new one would relink every program while other tests run
# them). With those held, make -q says whether anything at all would be built.
keep=
for f in $adk_keep; do
    keep="$keep -o $f"
done
D=$WORK/dest
# shellcheck disable=SC2086
if ! mk -q $keep all-am >/dev/null 2>&1; then
    notok "the build tree is up to date (run make first: this test installs, it does not build)"
    finish
fi
# shellcheck disable=SC2086
if mk $keep DESTDIR="$D" install-exec-am install-data-am >"$WORK/install.out" 2>&1; then
    ok "make install DESTDIR=... (install-exec-am install-data-am)"
else
    notok "make install DESTDIR=... (install-exec-am install-data-am)"
    comment_file "$WORK/install.out"
    finish
fi

# --- every file landed -----------------------------------------------------------------------
missing() { # DESC FILE...: ok when every FILE is a non-empty file
    _d=$1
    shift
    _m=
    for _f in "$@"; do
        [ -s "$_f" ] || _m="$_m ${_f#"$D"}"
    done
    if [ -z "$_m" ]; then
        ok "$_d"
    else
        notok "$_d (missing:$_m)"
    fi
}
set --
for p in $programs; do
    set -- "$@" "$D$bindir/$p"
done
missing "installed: the $# programs in $bindir" "$@"
bad=
for p in $programs; do
    [ -x "$D$bindir/$p" ] || bad="$bad $p"
done
check "installed programs are executable${bad:+ (not:$bad)}" test -z "$bad"
set --
for h in $headers; do
    set -- "$@" "$D$pkgincludedir/$h"
done
missing "installed: the $# headers in $pkgincludedir" "$@"
missing "installed: $libraries and adkit.pc" "$D$libdir/libadkit.a" "$D$pkgconfigdir/adkit.pc"
check "libadkit.a holds the library's objects (adk_ctx.o, adk_kmeans.o)" sh -c "
    ar t '$D$libdir/libadkit.a' >'$WORK/members' &&
    grep -qx 'adk_ctx.o' '$WORK/members' && grep -qx 'adk_kmeans.o' '$WORK/members'"
missing "installed: the Lmod modulefile $modulefiledir/$version.lua" "$D$modulefiledir/$version.lua"
check "adkit.pc and the modulefile have every @VARIABLE@ substituted" sh -c "
    ! grep -n '@[A-Za-z_]*@' '$D$pkgconfigdir/adkit.pc' '$D$modulefiledir/$version.lua'"
if [ "$help2man" = none ]; then
    skip "installed: a man page per program" "help2man was not found by configure: no man pages"
else
    set --
    for p in $programs; do
        set -- "$@" "$D$mandir/man1/${p%"$exeext"}.1"
    done
    missing "installed: a man page per program ($# in $mandir/man1)" "$@"
fi

# --- pkg-config, relocated to the scratch prefix; a program on the installed library ----------
# The user's own search paths must not find headers or libraries for it.
unset CPATH C_INCLUDE_PATH LIBRARY_PATH
pc() {
    PKG_CONFIG_PATH="$D$pkgconfigdir" "$pkg_config" --define-variable=prefix="$D$prefix" "$@" adkit
}
case "$pkgincludedir:$libdir" in
"$prefix"/*:"$prefix"/*)
    cflags=$(pc --cflags) && libs=$(pc --libs)
    check "pkg-config --define-variable=prefix: -I and -L into the installed tree, -ladkit" sh -c "
        echo ' $cflags ' | grep -qF -- ' -I$D$pkgincludedir ' &&
        echo ' $libs ' | grep -qF -- ' -L$D$libdir ' && echo ' $libs ' | grep -qF -- ' -ladkit ' &&
        [ \"\$(PKG_CONFIG_PATH='$D$pkgconfigdir' '$pkg_config' --modversion adkit)\" = '$version' ]"

    # Every installed header, then a run touching each library libadkit needs: MPI and HDF5 and
    # GSL (adk_cli_begin), CBLAS (adk_dist_nearest), cJSON (adk_json).
    {
        for h in $headers; do
            echo "#include <$h>"
        done
        cat <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    adk_ctx_t *ctx = NULL;
    int st = adk_cli_begin(&argc, &argv, &ctx);
    if (st != ADK_OK) {
        return adk_cli_end(ctx, st);
    }
    /* the values 1..n over the ranks' row blocks: reproducible sum n(n+1)/2 */
    const int64_t n = 1000;
    int64_t block = adk_part_align(n, ADK_ALIGN_REPRO);
    adk_range_t r = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), block);
    double *v = malloc((size_t)(r.count ? r.count : 1) * 2 * sizeof(double));
    int32_t *label = malloc((size_t)(r.count ? r.count : 1) * sizeof(int32_t));
    adk_centres_t *c = NULL;
    adk_dist_ws_t *ws = NULL;
    if (!v || !label || adk_centres_alloc(2, 2, &c) != ADK_OK || adk_dist_ws_alloc(2, 2, &ws)) {
        st = ADK_ENOMEM;
    }
    st = adk_ctx_agree(ctx, st);
    double sum = 0;
    long near = 0, nearall = 0;
    if (st == ADK_OK) {
        for (int64_t i = 0; i < r.count; i++) {
            v[i] = (double)(r.start + i + 1);
        }
        st = adk_repro_sum(ctx, v, (size_t)r.count, r.start, block, &sum);
    }
    if (st == ADK_OK) {
        /* centres (0,0) and (10,10); odd rows at (9,9), even rows at (1,1) */
        const double cc[4] = {0, 0, 10, 10};
        adk_centres_set(c, cc);
        for (int64_t i = 0; i < r.count; i++) {
            v[2 * i] = v[2 * i + 1] = (r.start + i) % 2 ? 9 : 1;
        }
        adk_dist_nearest(ws, c, v, (size_t)r.count, r.start, label, NULL);
        for (int64_t i = 0; i < r.count; i++) {
            near += label[i] == (r.start + i) % 2;
        }
        st = adk_ctx_allreduce(ctx, &near, &nearall, 1, MPI_LONG, MPI_SUM);
    }
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0) {
        cJSON *o = cJSON_CreateObject();
        adk_json_num(o, "sum", sum);
        adk_json_count(o, "nearest", 1, nearall);
        char *text = o ? adk_json_text(o) : NULL;
        if (!text) {
            st = ADK_ENOMEM;
        } else {
            for (char *p = text; *p; p++) {
                *p = *p == '\n' || *p == '\t' ? ' ' : *p;
            }
            printf("ranks %d json %s\nversion %s\n", adk_ctx_size(ctx), text, adk_version());
            free(text);
        }
        cJSON_Delete(o);
    }
    adk_dist_ws_free(ws);
    adk_centres_free(c);
    free(label);
    free(v);
    return adk_cli_end(ctx, adk_ctx_agree(ctx, st));
}
EOF
    } >"$WORK/prog.c"
    san=
    [ "${ADK_SANITIZED:-0}" = 1 ] && san="-fsanitize=address,undefined"
    # shellcheck disable=SC2086
    check "mpicc \$(pkg-config --cflags --libs adkit) builds a program on every installed header" \
        $mpicc $san -std=c11 -Wall -Werror -o "$WORK/prog" "$WORK/prog.c" $cflags $libs
    if run_np 2 "$WORK/prog" >"$WORK/prog.out" 2>"$WORK/prog.err" &&
        [ "$(sed -n 1p "$WORK/prog.out" | tr -d ' ')" = 'ranks2json{"sum":500500,"nearest":1000}' ] &&
        sed -n 2p "$WORK/prog.out" | grep -q "^version adkit $version ("; then
        ok "it runs on 2 ranks: reproducible sum, CBLAS nearest centres, cJSON, version"
    else
        notok "it runs on 2 ranks: reproducible sum, CBLAS nearest centres, cJSON, version"
        comment_file "$WORK/prog.out"
        comment_file "$WORK/prog.err"
    fi
    ;;
*)
    why="pkgincludedir or libdir is outside the prefix; pkg-config cannot relocate them"
    skip "pkg-config --define-variable=prefix into the installed tree" "$why"
    skip "mpicc builds a program on the installed library" "$why"
    skip "it runs on 2 ranks" "$why"
    ;;
esac

# --- man pages: made from each program's --help ------------------------------------------------
if [ "$help2man" = none ]; then
    skip "man pages: NAME, SYNOPSIS and every option of --help" "no help2man, no man pages"
    skip "man pages render without groff warnings" "no help2man, no man pages"
else
    # every option of help text $1 in (unescaped) page text $2, else its name added to $bad
    opts_in() {
        # shellcheck disable=SC2013 # option names are words
        for _o in $(sed -n 's/^  \(--[a-z0-9][a-z0-9-]*\).*/\1/p' "$1"); do
            grep -q -- "^$_o\\b" "$2" || bad="$bad $3($_o)"
        done
    }
    run1() { # a program as a singleton, without LeakSanitizer (see mk/install.am)
        ASAN_OPTIONS="${ASAN_OPTIONS-}:detect_leaks=0" "$@"
    }
    bad=
    ncmd=0
    for p in $programs; do
        page=$D$mandir/man1/${p%"$exeext"}.1
        # roff escapes that help2man adds: \- for -, font changes \fB \fI \fR \fP and \, \/
        sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\[,\/]//g' "$page" >"$WORK/page" 2>/dev/null
        run1 "$D$bindir/$p" --help >"$WORK/help" 2>&1 || {
            bad="$bad $p(--help)"
            continue
        }
        name=${p%"$exeext"}
        # NAME: "prog - description", not help2man's fallback "manual page for"
        if ! sed -n '/^\.SH NAME/{n;p;}' "$WORK/page" | grep -q "^$name - [A-Za-z]" ||
            grep -q 'manual page for' "$WORK/page" || ! grep -q '^\.SH SYNOPSIS' "$WORK/page"; then
            bad="$bad $p(NAME/SYNOPSIS)"
            continue
        fi
        opts_in "$WORK/help" "$WORK/page" "$p"
        # a program with subcommands: each command's options in its own part of COMMANDS
        cmds=$(awk '/^Commands:$/ { p = 1; next } p && NF == 0 { exit } p { print $1 }' "$WORK/help")
        for c in $cmds; do
            ncmd=$((ncmd + 1))
            run1 "$D$bindir/$p" "$c" --help >"$WORK/chelp" 2>&1 || {
                bad="$bad $p($c --help)"
                continue
            }
            # its part: from ".SS c" to the next command's .SS or the next .SH
            # shellcheck disable=SC2086 # the list of commands, as words
            awk -v c="$c" -v all="$(printf ' %s' $cmds) " '$0 == ".SS " c { s = 1; next }
                s && (/^\.SH/ || (/^\.SS / && index(all, " " $2 " "))) { exit }
                s' "$WORK/page" >"$WORK/cpage"
            tr '\n' ' ' <"$WORK/cpage" | grep -q "^\.B $name $c " ||
                bad="$bad $p($c: no part opening with its usage)"
            opts_in "$WORK/chelp" "$WORK/cpage" "$p $c"
        done
    done
    check "man pages: NAME, SYNOPSIS, every option of --help (and of $ncmd subcommands)${bad:+ (wrong:$bad)}" \
        test -z "$bad"
    if command -v groff >/dev/null 2>&1; then
        bad=
        for p in $programs; do
            page=$D$mandir/man1/${p%"$exeext"}.1
            out=$(groff -man -Tutf8 -ww -z "$page" 2>&1) && [ -z "$out" ] || bad="$bad $p"
        done
        check "man pages render without groff warnings${bad:+ (warnings:$bad)}" test -z "$bad"
    else
        skip "man pages render without groff warnings" "groff is not installed"
    fi
fi

# --- Lmod --------------------------------------------------------------------------------------
lmod_init=${ADK_LMOD_INIT:-/usr/share/lmod/lmod/init/bash}
if [ ! -r "$lmod_init" ] || ! command -v bash >/dev/null 2>&1; then
    for c in "module load adkit" "its environment variables" "module help/whatis" \
        "module unload adkit" "a copy elsewhere"; do
        skip "Lmod: $c" "Lmod is not installed ($lmod_init; apt-get install lmod)"
    done
    finish
fi
# A copy of the modulefile outside the installation (a site's module tree) uses the configured
# directories instead.
mkdir -p "$WORK/sitemods/adkit" "$WORK/home"
cp "$D$modulefiledir/$version.lua" "$WORK/sitemods/adkit/"
# shellcheck disable=SC2016
HOME=$WORK/home ASAN_OPTIONS="${ASAN_OPTIONS-}:detect_leaks=0" timeout -k 5 60 bash -c '
    . "$1" || exit 90
    module use "$2" || exit 91
    module load adkit
    echo "load_rc=$?"
    echo "which=$(command -v adkit-kmeans)"
    echo "version=$(adkit-kmeans --version 2>&1 | head -n 1)"
    echo "root=$ADKIT_ROOT"
    echo "pcdir=$("$5" --variable=pcfiledir adkit)"
    echo "man=$(man -w adkit-kmeans 2>/dev/null)"
    echo "cpath=:$CPATH:"
    echo "librarypath=:$LIBRARY_PATH:"
    module help adkit >"$3/help.out" 2>&1
    module whatis adkit >"$3/whatis.out" 2>&1
    module unload adkit
    echo "unload_rc=$?"
    echo "which_after=$(command -v adkit-kmeans)"
    echo "path_after=:$PATH:"
    module unuse "$2"
    module use "$4"
    module show adkit >"$3/show.out" 2>&1
' sh "$lmod_init" "$(dirname "$D$modulefiledir")" "$WORK" "$WORK/sitemods" "$pkg_config" \
    >"$WORK/lmod.out" 2>"$WORK/lmod.err"
rc=$?
lmod() { # the value of KEY in the transcript
    sed -n "s/^$1=//p" "$WORK/lmod.out"
}
if [ "$rc" != 0 ]; then
    notok "Lmod: the session ran (exit $rc)"
    comment_file "$WORK/lmod.err"
    finish
fi
if [ "$(lmod load_rc)" = 0 ] && [ "$(lmod which)" = "$D$bindir/adkit-kmeans" ] &&
    lmod version | grep -q "^adkit-kmeans adkit $version "; then
    ok "Lmod: module load adkit puts the installed programs on PATH; adkit-kmeans --version runs"
else
    notok "Lmod: module load adkit puts the installed programs on PATH; adkit-kmeans --version runs"
    comment_file "$WORK/lmod.out"
    comment_file "$WORK/lmod.err"
fi
why=
[ "$(lmod root)" = "$D$prefix" ] || why="$why ADKIT_ROOT"
[ "$(lmod pcdir)" = "$D$pkgconfigdir" ] || why="$why PKG_CONFIG_PATH"
lmod cpath | grep -qF ":$D$pkgincludedir:" || why="$why CPATH"
lmod librarypath | grep -qF ":$D$libdir:" || why="$why LIBRARY_PATH"
if [ "$help2man" != none ] && command -v man >/dev/null 2>&1; then
    [ "$(lmod man)" = "$D$mandir/man1/adkit-kmeans.1" ] || why="$why MANPATH"
fi
check "Lmod: ADKIT_ROOT, PKG_CONFIG_PATH, CPATH, LIBRARY_PATH, MANPATH lead to the installation${why:+ (wrong:$why)}" \
    test -z "$why"
check "Lmod: module help and whatis describe adkit $version" sh -c "
    grep -q 'adkit $version: MPI-distributed' '$WORK/help.out' &&
    grep -q 'adkit-kmeans' '$WORK/help.out' && grep -q 'Version: $version' '$WORK/whatis.out'"
if [ "$(lmod unload_rc)" = 0 ] && [ "$(lmod which_after)" != "$D$bindir/adkit-kmeans" ] &&
    ! lmod path_after | grep -qF ":$D$bindir:"; then
    ok "Lmod: module unload adkit takes the programs off PATH"
else
    notok "Lmod: module unload adkit takes the programs off PATH"
    comment_file "$WORK/lmod.out"
fi
check "Lmod: a copy of the modulefile elsewhere uses the configured $bindir" \
    grep -qF "\"$bindir\"" "$WORK/show.out"
finish
