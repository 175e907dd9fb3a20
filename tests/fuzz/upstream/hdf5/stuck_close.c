/*
 * stuck_close: HDF5 1.10.8 (Debian 12, parallel build) leaves metadata-cache entries protected
 * when H5Aexists_by_name fails on a corrupt group, so H5Fclose fails for good ("Only protected
 * entries left in cache"), and library termination (at MPI_Finalize) then segfaults in
 * H5F__close_cb. No adkit code involved.
 *
 *   h5pcc -o stuck_close stuck_close.c
 *   ./stuck_close ../../regress/h5/hdf5_sec2_localheap_segv.h5
 *
 * Prints "H5Fclose: -1", then dies with SIGSEGV in MPI_Finalize (the same lookups through the
 * default sec2 driver crash earlier: see README).
 */
#include <stdio.h>

#include <hdf5.h>
#include <mpi.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc != 2) {
        fprintf(stderr, "usage: stuck_close FILE.h5\n");
        return 1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    H5Pset_all_coll_metadata_ops(fapl, 1);
    H5Pset_coll_metadata_write(fapl, 1);
    hid_t fid = H5Fopen(argv[1], H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    printf("H5Fopen: %s\n", fid >= 0 ? "ok" : "failed");
    for (int i = 0; i < 2; i++) {
        printf("H5Lexists(/centroids): %d\n", (int)H5Lexists(fid, "/centroids", H5P_DEFAULT));
    }
    static const char *const names[] = {"inertia", "seed", "init"};
    for (int i = 0; i < 3; i++) {
        printf("H5Aexists_by_name(/, %s): %d\n", names[i],
               (int)H5Aexists_by_name(fid, "/", names[i], H5P_DEFAULT));
    }
    printf("H5Aexists_by_name(/thresholds, method): %d\n",
           (int)H5Aexists_by_name(fid, "/thresholds", "method", H5P_DEFAULT));
    printf("H5Fclose: %d\n", (int)H5Fclose(fid));
    fflush(stdout);
    MPI_Finalize();
    printf("MPI_Finalize returned\n");
    return 0;
}
