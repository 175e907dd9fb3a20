# scripts/adk-env.sh: environment for adkit's scripts (sourced, not run; bash or POSIX sh).
# Sets ADK_TOP (the source tree) and ADK_BUILD (the build tree, default $ADK_TOP/build) unless they
# are set already, the Open MPI settings a single machine or container needs, and PATH to the
# programs in $ADK_BUILD/apps. Safe to source more than once.

if [ -z "${ADK_TOP:-}" ]; then
    if [ -n "${BASH_SOURCE:-}" ]; then
        ADK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    else
        ADK_TOP=$(pwd) # POSIX sh cannot know the sourced file's path: run from the tree's top
    fi
fi
ADK_BUILD=${ADK_BUILD:-$ADK_TOP/build}
export ADK_TOP ADK_BUILD

# Open MPI refuses to run as root (CI and containers run as root) unless told twice.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# More ranks than cores: the tests run up to 4 ranks on 2 cores.
export OMPI_MCA_rmaps_base_oversubscribe=1
# Shared-memory transport without CMA (process_vm_readv): container seccomp profiles often forbid
# it, and then every message larger than the eager limit fails. Copying through the shared segment
# costs little at our message sizes.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# Point-to-point by ob1 over shared memory unless the caller chose: on one machine UCX adds about
# 0.2 s to every launch (half of it), which the main job's and the tests' hundreds of short runs
# feel. On a cluster, leave OMPI_MCA_pml to the site (set it, or do not source this file).
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
# One BLAS thread per rank: the ranks are the parallelism, and threads would oversubscribe cores.
export OPENBLAS_NUM_THREADS=1

case ":$PATH:" in
*":$ADK_BUILD/apps:"*) ;;
*) PATH=$ADK_BUILD/apps:$PATH ;;
esac
export PATH
