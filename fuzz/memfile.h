/* The fuzz input as a file that the readers open by path, without touching
 * the disk: one memory-backed file (memfd), rewritten for each input and
 * named /proc/self/fd/N. The readers take a path, so they run unchanged. */
#ifndef ALRS_FUZZ_MEMFILE_H
#define ALRS_FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

/* Replaces the file's contents with data[0..size) and returns its path.
 * Aborts if the file cannot be made or written (the harness is broken then). */
const char *memfile_put(const uint8_t *data, size_t size);

#endif
