/* Files that are never seen half-written: each is written to a temporary
 * name beside its destination and renamed over it when complete. */
#ifndef ALRS_CORE_FILEIO_H
#define ALRS_CORE_FILEIO_H

#include <stdio.h>

/* Room for a path alrs takes from the command line (PATH_MAX on Linux). */
#define ALRS_PATH_MAX 4096
/* Room for such a path with a file name joined to it ("DIR/runs/NAME.txt",
 * "DIR/controller.bin"): snprintf into it never truncates a path alrs took. */
#define ALRS_FILE_PATH_MAX (ALRS_PATH_MAX + 200)

typedef struct {
    FILE *f;
    char path[ALRS_PATH_MAX];
    char tmp_path[ALRS_PATH_MAX + 24];
} atomic_file;

/* Opens `path`.tmp.<pid> for writing; -1 with a message naming the path. */
int atomic_open(atomic_file *a, const char *path);
/* Flushes, fsyncs and renames into place; -1 (and the temporary removed) on any write error. */
int atomic_commit(atomic_file *a);
/* Drops the temporary file. */
void atomic_abort(atomic_file *a);

/* A run's output directory, and what was created for it. */
typedef struct {
    char path[ALRS_PATH_MAX];        /* without trailing slashes */
    char created_top[ALRS_PATH_MAX]; /* the highest directory this run created; "" if none */
} output_dir;

/* Creates a fresh output directory: fails if it exists and is not empty, or
 * cannot be made. Missing parents are created. */
int make_output_dir(output_dir *out, const char *dir);
/* Undoes make_output_dir after a failure: removes the files written into the
 * directory and its subdirectories, and the directories the run created. */
void remove_output_dir(const output_dir *out);
/* Creates one directory inside an output directory; an existing directory is
 * fine. -1 with a message naming the path. */
int make_subdir(const char *path);
/* 1 if the path exists. */
int path_exists(const char *path);
/* Removes the temporary files (NAME.tmp.PID) in `dir` that a process no
 * longer alive left (a run killed while writing): resuming in a directory
 * starts from finished files only. Returns how many it removed. */
int remove_stale_temporaries(const char *dir);

#endif
