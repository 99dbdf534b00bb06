/* The directory of a comparison or a suite: made fresh with its config.txt
 * and runs/, or found again holding the same configuration, so that
 * rerunning the same command continues the work there. */
#ifndef ALRS_CLI_RESULT_DIR_H
#define ALRS_CLI_RESULT_DIR_H

#include "core/fileio.h"

/* A fresh `dir` gets the folder `subdir` (runs, tasks) and config.txt (`text`); an existing one must hold
 * a config.txt equal to `text` but for the keys in `ignore` (NULL-terminated:
 * a command line or a path may be spelled differently), else -1 with
 * "--out DIR: holds a NOUN with KEY=A, this one has KEY=B". Keys of `text`
 * that start with `addable` (NULL: none) and that config.txt lacks are
 * additions, not differences (a suite's new methods): config.txt is then
 * rewritten as `text`. *fresh says which; *made is set once the directory
 * was created (remove_output_dir undoes it). */
int result_dir_open(const char *dir, const char *subdir, const char *text, const char *noun,
                    const char *const *ignore, const char *addable, output_dir *out, int *fresh,
                    int *made);

#endif
