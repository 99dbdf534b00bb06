/* Reader for the key=value text files alrs writes as a run's config.txt.
 *
 * Shape: '#' comment lines, a `command=...` line, then one `key=value` per
 * line. Blank lines and lines starting with '#' are skipped. The key is
 * everything before the first '=' and is made of [A-Za-z0-9_.-]; the value is
 * everything after it to the end of the line (a trailing '\r' removed), so a
 * value may itself hold '=', spaces or quotes. A missing final newline is
 * fine. Refused, each with one line "NAME:LINE: what is wrong": a line without
 * '=', an empty key, a key with another character, a key given twice, a NUL
 * byte; and a file over CONFIG_MAX_BYTES ("NAME: ..."). */
#ifndef ALRS_CORE_CONFIG_H
#define ALRS_CORE_CONFIG_H

#include <stddef.h>

/* Far above any config alrs writes (a few KiB); stops a wrong file being read whole. */
#define CONFIG_MAX_BYTES ((size_t)1 << 20)

/* The entries in file order; keys and values are NUL-terminated copies. */
typedef struct {
    int n;
    char **keys, **values;
} config_file;

/* Parses `len` bytes of `text` (not NUL-terminated) into *c; `name` (the
 * path) prefixes messages. On failure -1 with the message, and *c is empty. */
int config_parse(config_file *c, const char *text, size_t len, const char *name);
/* Reads the file at `path`, then config_parse. */
int config_read(config_file *c, const char *path);
/* The value of `key`, or NULL if it is absent. */
const char *config_get(const config_file *c, const char *key);
/* The first key of `want` (in its order) whose value in `have` differs or is
 * missing, skipping the keys listed in `ignore` (NULL-terminated, may be
 * NULL); NULL when they agree. `absent` (NULL-terminated "key=value" entries,
 * may be NULL) gives the value a key added in a later version has in a file
 * written before it, so that such a directory still continues. For --resume
 * style checks: "DIR holds a run with seed=1, this one has seed=2". */
const char *config_first_difference(const config_file *have, const config_file *want,
                                    const char *const *ignore, const char *const *absent);
/* Frees the entries and leaves *c empty (safe on an empty or failed one). */
void config_free(config_file *c);

#endif
