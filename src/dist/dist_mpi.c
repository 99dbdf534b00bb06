/* run/dist.h over MPI (MPI_COMM_WORLD). Compiled only with -DALRS_WITH_MPI=ON;
 * the only file of alrs that calls MPI. Until dist_init starts MPI (a plain
 * `alrs ...` without a launcher, or a test program linking the library) every
 * function behaves as the single-process build's. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dist/dist.h"

static int started;     /* dist_init called MPI_Init_thread */
static int rank_, size_ = 1;

/* Launched by mpirun/mpiexec (Open MPI, MPICH's hydra) or srun (PMI, PMIx)? */
static int launched_by_mpi(void) {
    const char *force = getenv("ALRS_MPI");
    if (force && force[0]) return strcmp(force, "0") != 0;
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++)
        if (getenv(vars[k])) return 1;
    return 0;
}

int dist_init(int *argc, char ***argv) {
    int already = 0;
    MPI_Initialized(&already);
    if (started || already || !launched_by_mpi()) return 0;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return alrs_fail("MPI_Init_thread failed");
    started = 1;
    if (provided < MPI_THREAD_FUNNELED) {
        dist_finalize();
        return alrs_fail("the MPI library does not support MPI_THREAD_FUNNELED");
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    return 0;
}

void dist_finalize(void) {
    int finalized = 0;
    if (!started) return;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
    started = 0;
    rank_ = 0, size_ = 1;
}

int dist_built_with_mpi(void) { return 1; }

const char *dist_library(void) {
    static char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (!version[0]) { /* allowed before MPI_Init */
        MPI_Get_library_version(version, &len);
        version[strcspn(version, ",\n")] = '\0'; /* the first clause: name and version */
        if (!version[0]) snprintf(version, sizeof version, "MPI");
    }
    return version;
}

int dist_rank(void) { return rank_; }
int dist_size(void) { return size_; }

void dist_barrier(void) {
    if (size_ > 1) MPI_Barrier(MPI_COMM_WORLD);
}

void dist_bcast(void *buf, size_t bytes, int root) {
    if (size_ == 1) return;
    for (char *p = buf; bytes > 0;) { /* counts are ints: large buffers in pieces */
        int n = bytes > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)bytes;
        MPI_Bcast(p, n, MPI_BYTE, root, MPI_COMM_WORLD);
        p += n, bytes -= (size_t)n;
    }
}

static int as_int(size_t n) {
    if (n > (size_t)INT_MAX) alrs_panic("an MPI message of %zu bytes (at most %d)", n, INT_MAX);
    return (int)n;
}

void dist_allgather(const void *send, size_t bytes, void *recv) {
    if (size_ == 1) {
        if (send && send != recv) memmove(recv, send, bytes);
        return;
    }
    as_int(bytes * (size_t)size_);
    MPI_Allgather(send ? send : MPI_IN_PLACE, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE,
                  MPI_COMM_WORLD);
}

void dist_allgatherv(const void *send, size_t bytes, void *recv, const size_t *counts) {
    if (size_ == 1) {
        if (send && send != recv) memmove(recv, send, bytes);
        return;
    }
    int *n = alrs_malloc(sizeof(int) * 2 * (size_t)size_), *at = n + size_;
    size_t offset = 0;
    for (int r = 0; r < size_; r++) {
        n[r] = as_int(counts[r]);
        at[r] = as_int(offset);
        offset += counts[r];
    }
    as_int(offset);
    if (bytes != counts[rank_])
        alrs_panic("dist_allgatherv: rank %d sends %zu bytes, counts say %zu", rank_, bytes,
                   counts[rank_]);
    MPI_Allgatherv(send ? send : MPI_IN_PLACE, n[rank_], MPI_BYTE, recv, n, at, MPI_BYTE,
                   MPI_COMM_WORLD);
    free(n);
}

int dist_agree(int rc) {
    if (size_ == 1) return rc == 0 ? 0 : -1;
    int mine = rc != 0 ? rank_ : size_, first = size_;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == size_) return 0;
    char message[1024];
    snprintf(message, sizeof message, "%s", rank_ == first ? alrs_error() : "");
    MPI_Bcast(message, (int)sizeof message, MPI_CHAR, first, MPI_COMM_WORLD);
    /* rank 0 prints it; a message from another rank says which */
    if (first == 0) alrs_fail("%s", message);
    else alrs_fail("rank %d: %s", first, message);
    return -1;
}
