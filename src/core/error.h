/* Error reporting for the library.
 *
 * A library function that can fail returns -1 (or NULL) and records one line
 * saying what went wrong, naming the file, flag or value at fault. The caller
 * either adds context or, at the top (src/cli), prints it and exits non-zero.
 * The message lives in thread-local storage, like errno, so rollout threads
 * do not overwrite each other's messages. */
#ifndef ALRS_CORE_ERROR_H
#define ALRS_CORE_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define ALRS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ALRS_PRINTF(a, b)
#endif

/* Records the message and returns -1, so that `return alrs_fail(...)` reads naturally. */
int alrs_fail(const char *fmt, ...) ALRS_PRINTF(1, 2);
/* The last recorded message ("" if none). */
const char *alrs_error(void);
/* Puts a context before the recorded message ("FILE:LINE: task T: " + it)
 * and returns -1: for an error found by a callee that does not know where
 * its input came from. */
int alrs_fail_context(const char *fmt, ...) ALRS_PRINTF(1, 2);
/* Aborts with a message: only for broken invariants (bugs), never for bad input. */
void alrs_panic(const char *fmt, ...) ALRS_PRINTF(1, 2) __attribute__((noreturn));

/* Allocation that aborts on out-of-memory (like llm.c's mallocCheck). */
void *alrs_malloc(size_t bytes);
void *alrs_calloc(size_t count, size_t size);
/* 64-byte aligned, zeroed; free with alrs_free_aligned. */
void *alrs_alloc_aligned(size_t bytes);
void alrs_free_aligned(void *p);

#endif
