#!/bin/sh
# Run one MPI rank under GNU time; write "peak-RSS-KiB wall user system" to PREFIX.RANK.
#   mpiexec -n 2 rank_time.sh PREFIX PROGRAM [ARGS...]
# One file per rank: two ranks writing to one file or pipe could interleave their lines.
set -eu
pre=$1
shift
exec /usr/bin/time -f "%M %e %U %S" -o "$pre.${OMPI_COMM_WORLD_RANK:-0}" "$@"
