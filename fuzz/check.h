/* What every target checks besides the sanitizers: a refusal leaves one line
 * naming the input (the library's error contract), and what a reader accepts
 * is as large as it says (ASan faults on the last byte otherwise). */
#ifndef ALRS_FUZZ_CHECK_H
#define ALRS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Stops the run as a crash, with the reason; libFuzzer saves the input. */
#define FUZZ_ASSERT(cond)                                                           \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz: %s:%d: check failed: %s (last error: %s)\n",     \
                    __FILE__, __LINE__, #cond, alrs_error());                       \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* The message after a refusal: non-empty, one line, naming `name`. */
static inline void fuzz_check_refusal(const char *name) {
    const char *msg = alrs_error();
    FUZZ_ASSERT(msg[0] != '\0');
    FUZZ_ASSERT(strchr(msg, '\n') == NULL);
    FUZZ_ASSERT(strstr(msg, name) != NULL);
}

/* Reads the first and last of `n` bytes, so ASan sees a short buffer. */
static inline void fuzz_touch(const void *p, size_t n) {
    FUZZ_ASSERT(p != NULL && n > 0);
    volatile unsigned char sink = ((const unsigned char *)p)[0];
    sink = ((const unsigned char *)p)[n - 1];
    (void)sink;
}

#endif
