/* Process-level parallelism: the ranks of an MPI job, or one process.
 *
 * Everything that runs across ranks goes through this header, so that the
 * same code builds with and without MPI (cmake -DALRS_WITH_MPI=ON): the MPI
 * implementation is src/dist/dist_mpi.c (the only place that calls MPI); the
 * single-process one is in src/run/dist.c. Without MPI, or when the program
 * was not started by an MPI launcher, the job has one rank: dist_rank() is 0,
 * dist_size() is 1, and every collective below is a no-op or a copy.
 *
 * Collectives (dist_barrier ... dist_agree) must be called by every rank, in
 * the same order, with the sizes described; they work on MPI_COMM_WORLD, from
 * the thread that called dist_init (MPI_THREAD_FUNNELED: never inside an
 * OpenMP region). A failing MPI call aborts the whole job (MPI's default error
 * handler); errors of alrs itself are agreed on with dist_agree so that every
 * rank returns -1 with the same one-line message and rank 0 alone prints it.
 *
 * Data travel as bytes: all ranks run the same binary on the same
 * architecture, so doubles and structs keep their layout.
 *
 * Typical use (alrs learn, src/run/learn.c):
 *     long first, count;
 *     dist_share(n_items, dist_rank(), dist_size(), &first, &count);
 *     int rc = work_on(first, count);          // may fail on one rank
 *     if (dist_agree(rc) != 0) return -1;      // all ranks fail, same message
 *     dist_allgatherv(NULL, count * sz, all, counts);   // every rank has all
 *     if (dist_rank() == 0) write_files(all);  // only rank 0 writes */
#ifndef ALRS_DIST_DIST_H
#define ALRS_DIST_DIST_H

#include <stddef.h>

/* ---- the job ------------------------------------------------------------ */

/* Starts MPI (MPI_Init_thread, MPI_THREAD_FUNNELED) if this build has MPI and
 * the process was started by an MPI launcher (mpirun/mpiexec, or srun with
 * PMI/PMIx: one of OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK, PMI_SIZE is
 * set); ALRS_MPI=1 forces it, ALRS_MPI=0 forbids it. Otherwise nothing is
 * started (no singleton MPI start-up on every plain `alrs` call) and the job
 * has one rank. Call once, at the top of main, with main's arguments. -1 with
 * a message if MPI fails to start or lacks MPI_THREAD_FUNNELED, or, in a
 * build without MPI, if the launcher started several processes (each would
 * run the whole job alone). */
int dist_init(int *argc, char ***argv);
/* Ends MPI if dist_init started it (MPI_Finalize); call once on every rank
 * before main returns. */
void dist_finalize(void);

/* 1 if this build has MPI (whether or not it was started). */
int dist_built_with_mpi(void);
/* The MPI library's version line ("Open MPI v4.1.4, ..."); "none" without MPI. */
const char *dist_library(void);
/* This process's rank, 0 .. dist_size()-1; rank 0 is the root, the only rank
 * that writes files and prints. */
int dist_rank(void);
/* Ranks in the job (1 without MPI). */
int dist_size(void);

/* The contiguous share of n items that `rank` of `size` ranks owns: items
 * *first .. *first + *count - 1. The first n % size ranks get one more item,
 * so shares differ by at most one and rank order is item order. A rank's
 * share is empty when n < size. Pure arithmetic (no communication). */
void dist_share(long n, int rank, int size, long *first, long *count);

/* ---- collectives ---------------------------------------------------------- */

/* Waits until every rank has called it. */
void dist_barrier(void);
/* Copies `bytes` bytes of root's buf into every other rank's buf. */
void dist_bcast(void *buf, size_t bytes, int root);
/* Every rank contributes `bytes` bytes (the same on all ranks); recv
 * (size × bytes) receives them in rank order on every rank. send == NULL:
 * this rank's part is already in place in recv (at rank × bytes). */
void dist_allgather(const void *send, size_t bytes, void *recv);
/* As dist_allgather with a size per rank: rank r contributes counts[r] bytes
 * (its own `bytes` must equal counts[its rank]), placed at offset
 * counts[0] + ... + counts[r-1] of recv on every rank. counts must be the
 * same on every rank (dist_allgather the sizes first when they are not
 * known). send == NULL: in place, as above. */
void dist_allgatherv(const void *send, size_t bytes, void *recv, const size_t *counts);
/* Agreement on success: rc is this rank's result (0 or -1). Returns 0 when
 * every rank passed 0; otherwise -1 on every rank, with alrs_error() set on
 * every rank to the message of the lowest-numbered failing rank (prefixed
 * "rank N: " when that is not rank 0). Call it
 * after any step that may fail on some ranks only (reading data, building
 * environments, rank 0 writing a file), so that no rank waits forever for
 * another that gave up. */
int dist_agree(int rc);

#endif
