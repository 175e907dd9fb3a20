#!/bin/bash
# scripts/setup.sh: make this machine able to build and test adkit, then build it.
#   1. installs the Debian 12 packages that are missing (apt-get, as root or through sudo);
#   2. runs autoreconf when configure is missing or older than its inputs;
#   3. configures an out-of-tree build in build/ (--enable-werror) unless one is there;
#   4. make -j$(nproc).
# Idempotent: a second call installs nothing, says nothing about packages, and takes seconds.
# Environment: ADK_BUILD (build tree, default build/), ADK_CONFIGURE_FLAGS (extra configure
# arguments for a first configure), ADK_SETUP_FUZZ=1 (also clang and libFuzzer for make fuzz).
set -eu

ADK_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$ADK_TOP/scripts/adk-env.sh"
cd "$ADK_TOP"

# --- 1. Debian packages ------------------------------------------------------------------------
# build: autotools, pkg-config, make, gcc (+ libc6-dev: gcc only recommends it)
# libraries: Open MPI, parallel HDF5 (+ h5diff), GSL, OpenBLAS, LAPACKE, CUnit, Random123, cJSON
# checks: clang-format (make check-format); python3 packages: fixtures, sklearn comparisons, figures
# HPC use: Slurm + munge (the one-node Slurm test), help2man (man pages), Lmod (modulefile test)
# the paper (make -C paper): latexmk, pdflatex + bibtex and the LaTeX packages it loads (the
# smallest set: installed with --no-install-recommends like every package here)
packages="autoconf automake pkg-config make gcc libc6-dev
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools libgsl-dev libopenblas-dev
  liblapacke-dev libcunit1-dev librandom123-dev libcjson-dev
  clang-format python3 python3-numpy python3-h5py python3-sklearn python3-matplotlib
  slurm-wlm munge help2man lmod
  latexmk texlive-latex-base texlive-latex-recommended texlive-fonts-recommended"
# make fuzz (not part of the tests): clang with libFuzzer and the sanitizer runtimes
if [ "${ADK_SETUP_FUZZ:-0}" = 1 ]; then
    packages="$packages clang libclang-rt-14-dev"
fi

missing=""
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $packages 2>/dev/null || true)
for p in $packages; do
    if ! printf '%s\n' "$installed" | grep -qx "$p install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    if [ "$(id -u)" = 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "setup: missing packages:$missing; install them as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
    echo "setup: packages installed"
fi

# --- 2. autoreconf -----------------------------------------------------------------------------
if [ -f "$ADK_TOP/config.status" ]; then
    echo "setup: $ADK_TOP is configured in place; run 'make distclean' there first" >&2
    exit 1
fi
stale=""
if [ ! -x configure ] || [ ! -f Makefile.in ] || [ ! -f build-aux/tap-driver.sh ]; then
    stale=yes
else
    for f in configure.ac Makefile.am mk/*.am m4/adk_*.m4; do
        if [ -f "$f" ] && [ "$f" -nt configure ]; then
            stale=yes
        fi
    done
fi
if [ -n "$stale" ]; then
    echo "setup: autoreconf -fi"
    mkdir -p m4 # ACLOCAL_AMFLAGS = -I m4; git does not keep an empty directory
    autoreconf -fi
fi

# --- 3. configure (out of tree) ----------------------------------------------------------------
mkdir -p "$ADK_BUILD"
cd "$ADK_BUILD"
reconf=""
if [ ! -f config.status ] || [ ! -f Makefile ]; then
    reconf=yes
elif ! ./config.status --config | grep -q -- "--enable-werror"; then
    echo "setup: $ADK_BUILD was configured without --enable-werror; configuring again"
    reconf=yes
fi
if [ -n "$reconf" ]; then
    echo "setup: configuring in $ADK_BUILD"
    # shellcheck disable=SC2086
    if ! "$ADK_TOP/configure" --enable-werror ${ADK_CONFIGURE_FLAGS:-} >configure.out 2>&1; then
        tail -n 40 configure.out >&2
        echo "setup: configure failed (see $ADK_BUILD/configure.out)" >&2
        exit 1
    fi
fi

# --- 4. build ----------------------------------------------------------------------------------
make -s -j"$(nproc)" --no-print-directory
