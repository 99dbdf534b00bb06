/* The line files of alrs suite: a task suite (suites/train.txt) and a methods
 * file (suites/self-tuning.txt) share one shape, read here once:
 *
 *   # a comment; blank lines are skipped
 *   NAME key=value key=value ...
 *
 * NAME is 1..SUITE_NAME_MAX-1 characters of [A-Za-z0-9_.+-] and unique in the
 * file; each key at most once on its line; values hold no spaces. What the
 * keys mean is the caller's (settings/suite_tasks.h, cli/suite_methods.h). Every
 * refusal is one line "FILE:LINE: what is wrong". */
#ifndef ALRS_SETTINGS_SUITE_FILE_H
#define ALRS_SETTINGS_SUITE_FILE_H

#define SUITE_NAME_MAX 32 /* a run record's schedule field (report/run_record.h) */
#define SUITE_MAX_KEYS 16
#define SUITE_MAX_LINES 256

typedef struct {
    int line;                      /* 1-based line number in the file */
    const char *name;
    int n_keys;
    const char *key[SUITE_MAX_KEYS];
    const char *value[SUITE_MAX_KEYS];
} suite_line;

typedef struct {
    const char *path;
    char *text;          /* the file, split in place into names, keys and values */
    int n;
    suite_line lines[SUITE_MAX_LINES];
} suite_file;

/* Reads and splits `path`; `noun` ("task", "method") words the messages.
 * With a message naming the file (and line): -2 when it cannot be read (a
 * failure at run time), -1 when it is empty of entries or a line is
 * malformed (a command line that cannot run). */
int suite_file_read(suite_file *f, const char *path, const char *noun);
void suite_file_free(suite_file *f);
/* The value of `key` on line l, or NULL. */
const char *suite_line_get(const suite_line *l, const char *key);
/* -1 "FILE:LINE: NOUN NAME: unknown key 'K' (expected ...)" for the first key
 * not in `known` (NULL-terminated); 0 when all are known. */
int suite_line_check_keys(const suite_file *f, const suite_line *l, const char *noun,
                          const char *const *known);

#endif
