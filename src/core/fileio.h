/* Files that are never seen half-written: each is written to a temporary
 * name beside its destination and renamed over it when complete. */
#ifndef ALRS_CORE_FILEIO_H
#define ALRS_CORE_FILEIO_H

#include <stdio.h>

typedef struct {
    FILE *f;
    char path[4096];
    char tmp_path[4120];
} atomic_file;

/* Opens `path`.tmp.<pid> for writing; -1 with a message naming the path. */
int atomic_open(atomic_file *a, const char *path);
/* Flushes, fsyncs and renames into place; -1 (and the temporary removed) on any write error. */
int atomic_commit(atomic_file *a);
/* Drops the temporary file. */
void atomic_abort(atomic_file *a);

/* Creates a fresh output directory: fails if it exists and is not empty, or
 * cannot be made. Parents are created as needed. */
int make_output_dir(const char *dir);
/* Removes a directory made by make_output_dir and the files in it (one level). */
void remove_output_dir(const char *dir);
/* 1 if the path exists. */
int path_exists(const char *path);

#endif
