/*
 * h5probe: one HDF5 read through the default driver with buffers of exactly the right size, and
 * nothing else. Built with AddressSanitizer it shows that the memory errors of the reproducers
 * in this directory happen inside HDF5 1.10.8 on the file alone (no adkit code involved):
 *
 *   clang -fsanitize=address -g $(pkg-config --cflags hdf5-openmpi) h5probe.c \
 *       $(pkg-config --libs hdf5-openmpi) -o h5probe
 *   ./h5probe float_247_bytes.h5 /data            H5Dread of /data as doubles
 *   ./h5probe attr_message_overread.h5 / init     H5Aexists_by_name(/, init)
 */
#include <stdio.h>
#include <stdlib.h>

#include <hdf5.h>

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: h5probe FILE.h5 DATASET | h5probe FILE.h5 OBJECT ATTRIBUTE\n");
        return 1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fid = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (argc == 4) {
        printf("H5Aexists_by_name: %d\n", (int)H5Aexists_by_name(fid, argv[2], argv[3], 0));
        H5Fclose(fid);
        return 0;
    }
    hid_t ds = fid >= 0 ? H5Dopen2(fid, argv[2], H5P_DEFAULT) : -1;
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    printf("%s:%s: %lld values\n", argv[1], argv[2], (long long)n);
    if (n < 0 || n > (1 << 24)) {
        return 1;
    }
    double *buf = malloc((n > 0 ? (size_t)n : 1) * sizeof(double));
    herr_t e = H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    printf("H5Dread: %d\n", (int)e);
    free(buf);
    H5Sclose(sp);
    H5Dclose(ds);
    H5Fclose(fid);
    return 0;
}
