#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[1024];

int alrs_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

const char *alrs_error(void) { return last_error; }

int alrs_fail_context(const char *fmt, ...) {
    char inner[sizeof last_error];
    memcpy(inner, last_error, sizeof inner);
    va_list ap;
    va_start(ap, fmt);
    int used = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (used >= 0 && (size_t)used < sizeof last_error)
        snprintf(last_error + used, sizeof last_error - (size_t)used, ": %s", inner);
    return -1;
}

void alrs_panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("alrs: internal error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void *alrs_malloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) alrs_panic("out of memory allocating %zu bytes", bytes);
    return p;
}

void *alrs_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) alrs_panic("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *alrs_alloc_aligned(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) alrs_panic("out of memory allocating %zu aligned bytes", bytes);
    memset(p, 0, rounded ? rounded : 64);
    return p;
}

void alrs_free_aligned(void *p) { free(p); }
