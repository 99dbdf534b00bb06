/* dist_share, and the single-process implementation of run/dist.h for a
 * build without MPI (with MPI, src/dist/dist_mpi.c provides the rest). */
#include "dist/dist.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void dist_share(long n, int rank, int size, long *first, long *count) {
    if (size < 1) size = 1;
    long base = n / size, extra = n % size;
    *count = base + (rank < extra);
    *first = rank * base + (rank < extra ? rank : extra);
}

#ifndef ALRS_WITH_MPI

/* Launched as one of several processes by mpirun/mpiexec or srun? Then
 * each would run the whole job alone, all writing the same run directory. */
static long launcher_size(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) {
        const char *v = getenv(vars[k]);
        if (v && strtol(v, NULL, 10) > 1) return strtol(v, NULL, 10);
    }
    return 1;
}

int dist_init(int *argc, char ***argv) {
    (void)argc, (void)argv;
    long n = launcher_size();
    if (n > 1)
        return alrs_fail("started as one of %ld MPI processes, but this alrs was built without "
                         "MPI: rebuild with cmake -DALRS_WITH_MPI=ON, or run one process", n);
    return 0;
}

void dist_finalize(void) {}
int dist_built_with_mpi(void) { return 0; }
const char *dist_library(void) { return "none"; }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
void dist_barrier(void) {}

void dist_bcast(void *buf, size_t bytes, int root) { (void)buf, (void)bytes, (void)root; }

void dist_allgather(const void *send, size_t bytes, void *recv) {
    if (send && send != recv) memmove(recv, send, bytes);
}

void dist_allgatherv(const void *send, size_t bytes, void *recv, const size_t *counts) {
    (void)counts;
    if (send && send != recv) memmove(recv, send, bytes);
}

int dist_agree(int rc) { return rc == 0 ? 0 : -1; }

#endif
