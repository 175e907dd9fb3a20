/*
 * adk-h5cmp: small HDF5 inspection and comparison tool for the test scripts (serial, no MPI).
 *
 *   adk-h5cmp cmp [--rtol R] [--atol A] F1 D1 F2 D2   same shape; equal bit for bit, or within
 *                                                     |a-b| <= atol + rtol*|b|; exit 1 otherwise
 *   adk-h5cmp attr F OBJ NAME                         print an attribute (numbers as %.17g)
 *   adk-h5cmp dump F D                                print the values, one row per line
 *   adk-h5cmp shape F D                               print the dimensions
 *   adk-h5cmp has F D                                 exit 0 if the dataset exists
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

static int read_all(const char *file, const char *dset, double **out, hsize_t dims[2], int *nd)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "adk-h5cmp: cannot open %s\n", file);
        return -1;
    }
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    if (d < 0) {
        fprintf(stderr, "adk-h5cmp: %s: no dataset %s\n", file, dset);
        H5Fclose(f);
        return -1;
    }
    hid_t s = H5Dget_space(d);
    *nd = H5Sget_simple_extent_ndims(s);
    dims[0] = dims[1] = 1;
    H5Sget_simple_extent_dims(s, dims, NULL);
    if (*nd == 1) {
        dims[1] = 1;
    }
    size_t n = (size_t)(dims[0] * dims[1]);
    *out = malloc((n ? n : 1) * sizeof(double));
    herr_t e = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    return e < 0 ? -1 : 0;
}

static int cmd_cmp(int argc, char **argv)
{
    double rtol = 0, atol = 0;
    int i = 0;
    while (i + 1 < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--rtol") == 0) {
            rtol = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--atol") == 0) {
            atol = atof(argv[i + 1]);
        } else {
            fprintf(stderr, "adk-h5cmp: unknown option %s\n", argv[i]);
            return 2;
        }
        i += 2;
    }
    if (argc - i != 4) {
        fprintf(stderr, "usage: adk-h5cmp cmp [--rtol R] [--atol A] F1 D1 F2 D2\n");
        return 2;
    }
    double *a = NULL, *b = NULL;
    hsize_t da[2], db[2];
    int na, nb;
    if (read_all(argv[i], argv[i + 1], &a, da, &na) ||
        read_all(argv[i + 2], argv[i + 3], &b, db, &nb)) {
        free(a);
        free(b);
        return 2;
    }
    if (da[0] != db[0] || da[1] != db[1]) {
        printf("shape differs: %llux%llu vs %llux%llu\n", (unsigned long long)da[0],
               (unsigned long long)da[1], (unsigned long long)db[0], (unsigned long long)db[1]);
        free(a);
        free(b);
        return 1;
    }
    size_t n = (size_t)(da[0] * da[1]), bad = 0;
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
        int same = rtol == 0 && atol == 0
                       ? memcmp(&a[k], &b[k], sizeof(double)) == 0 || (isnan(a[k]) && isnan(b[k]))
                       : a[k] == b[k] || fabs(a[k] - b[k]) <= atol + rtol * fabs(b[k]);
        if (!same) {
            if (bad == 0) {
                printf("first difference at element %zu (row %zu, col %zu): %.17g vs %.17g\n", k,
                       k / (size_t)da[1], k % (size_t)da[1], a[k], b[k]);
            }
            bad++;
        }
        double r = fabs(a[k] - b[k]) / (fabs(b[k]) > 0 ? fabs(b[k]) : 1);
        worst = r > worst ? r : worst;
    }
    if (bad) {
        printf("%zu of %zu elements differ (max rel %.3g)\n", bad, n, worst);
    }
    free(a);
    free(b);
    return bad ? 1 : 0;
}

static int cmd_attr(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: adk-h5cmp attr F OBJ NAME\n");
        return 2;
    }
    hid_t f = H5Fopen(argv[0], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "adk-h5cmp: cannot open %s\n", argv[0]);
        return 2;
    }
    hid_t a = H5Aopen_by_name(f, argv[1], argv[2], H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) {
        fprintf(stderr, "adk-h5cmp: %s: no attribute %s on %s\n", argv[0], argv[2], argv[1]);
        H5Fclose(f);
        return 1;
    }
    hid_t t = H5Aget_type(a);
    int rc = 0;
    if (H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            H5Aread(a, mt, &s);
            printf("%s\n", s ? s : "");
            H5free_memory(s);
            H5Tclose(mt);
        } else {
            size_t sz = H5Tget_size(t);
            char *s = calloc(sz + 1, 1);
            H5Aread(a, t, s);
            printf("%s\n", s);
            free(s);
        }
    } else {
        hid_t sp = H5Aget_space(a);
        hssize_t n = H5Sget_simple_extent_npoints(sp);
        double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
        if (H5Aread(a, H5T_NATIVE_DOUBLE, v) < 0) {
            rc = 1;
        } else {
            for (hssize_t k = 0; k < n; k++) {
                printf("%s%.17g", k ? " " : "", v[k]);
            }
            printf("\n");
        }
        free(v);
        H5Sclose(sp);
    }
    H5Tclose(t);
    H5Aclose(a);
    H5Fclose(f);
    return rc;
}

/* Dimensions only: never reads the data (datasets may be far larger than memory). */
static int cmd_shape(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: adk-h5cmp shape F D\n");
        return 2;
    }
    hid_t f = H5Fopen(argv[0], H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f >= 0 ? H5Dopen2(f, argv[1], H5P_DEFAULT) : -1;
    if (d < 0) {
        fprintf(stderr, "adk-h5cmp: %s: no dataset %s\n", argv[0], argv[1]);
        if (f >= 0) {
            H5Fclose(f);
        }
        return 2;
    }
    hid_t s = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int nd = H5Sget_simple_extent_ndims(s);
    H5Sget_simple_extent_dims(s, dims, NULL);
    if (nd == 1) {
        printf("%llu\n", (unsigned long long)dims[0]);
    } else {
        printf("%llu %llu\n", (unsigned long long)dims[0], (unsigned long long)dims[1]);
    }
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    return 0;
}

static int cmd_dump(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: adk-h5cmp dump F D\n");
        return 2;
    }
    double *a = NULL;
    hsize_t d[2];
    int nd;
    if (read_all(argv[0], argv[1], &a, d, &nd)) {
        free(a);
        return 2;
    }
    for (hsize_t r = 0; r < d[0]; r++) {
        for (hsize_t c = 0; c < d[1]; c++) {
            printf("%s%.17g", c ? " " : "", a[r * d[1] + c]);
        }
        printf("\n");
    }
    free(a);
    return 0;
}

static int cmd_has(int argc, char **argv)
{
    if (argc != 2) {
        return 2;
    }
    hid_t f = H5Fopen(argv[0], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        return 2;
    }
    htri_t e = H5Lexists(f, argv[1], H5P_DEFAULT);
    H5Fclose(f);
    return e > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (argc < 2) {
        fprintf(stderr, "usage: adk-h5cmp cmp|attr|dump|shape|has ...\n");
        return 2;
    }
    if (strcmp(argv[1], "cmp") == 0) {
        return cmd_cmp(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "attr") == 0) {
        return cmd_attr(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "dump") == 0) {
        return cmd_dump(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "shape") == 0) {
        return cmd_shape(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "has") == 0) {
        return cmd_has(argc - 2, argv + 2);
    }
    fprintf(stderr, "adk-h5cmp: unknown command %s\n", argv[1]);
    return 2;
}
