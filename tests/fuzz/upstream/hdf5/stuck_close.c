/*
 * stuck_close: after failed lookups on a corrupt group, HDF5 1.10.8 (Debian 12, parallel build,
 * MPI-IO driver) cannot close the file. No adkit code involved.
 *   default: H5Aexists_by_name fails and leaves metadata-cache entries protected; H5Fclose then
 *            fails ("Only protected entries left in cache") and MPI_Finalize, which ends HDF5,
 *            segfaults in H5F__close_cb.
 *   hang:    another sequence of lookups, after which H5Fclose never returns (H5C_dest).
 *
 *   h5pcc -o stuck_close stuck_close.c
 *   ./stuck_close ../../regress/h5/hdf5_sec2_localheap_segv.h5         (SIGSEGV at the end)
 *   timeout 20 ./stuck_close ../../regress/h5/hdf5_sec2_localheap_segv.h5 hang   (exit 124)
 */
#include <stdio.h>
#include <string.h>

#include <hdf5.h>
#include <mpi.h>

static void lexists(hid_t fid, const char *path)
{
    printf("H5Lexists(%s): %d\n", path, (int)H5Lexists(fid, path, H5P_DEFAULT));
}

static void aexists(hid_t fid, const char *obj, const char *name)
{
    printf("H5Aexists_by_name(%s, %s): %d\n", obj, name,
           (int)H5Aexists_by_name(fid, obj, name, H5P_DEFAULT));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc < 2) {
        fprintf(stderr, "usage: stuck_close FILE.h5 [hang]\n");
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
    if (argc > 2 && strcmp(argv[2], "hang") == 0) {
        lexists(fid, "/data");
        lexists(fid, "/labels");
        lexists(fid, "/centroids");
        lexists(fid, "/thresholds");
        aexists(fid, "/", "init");
    } else {
        lexists(fid, "/centroids");
        lexists(fid, "/centroids");
        aexists(fid, "/", "inertia");
        aexists(fid, "/", "seed");
        aexists(fid, "/", "init");
        aexists(fid, "/thresholds", "method");
    }
    fflush(stdout);
    printf("H5Fclose: %d\n", (int)H5Fclose(fid));
    fflush(stdout);
    MPI_Finalize();
    printf("MPI_Finalize returned\n");
    return 0;
}
