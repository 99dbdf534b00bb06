#include "cli/result_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "settings/run_flags.h"
#include "core/error.h"

/* `ignore` and then every key of `want` that starts with `addable` and that
 * `have` lacks (NULL-terminated, on the heap); their number in *added. */
static const char **ignore_added(const config_file *have, const config_file *want,
                                 const char *const *ignore, const char *addable, int *added) {
    int n = 0;
    while (ignore && ignore[n]) n++;
    const char **all = alrs_calloc((size_t)(n + want->n + 1), sizeof *all);
    for (int k = 0; k < n; k++) all[k] = ignore[k];
    *added = 0;
    for (int k = 0; addable && k < want->n; k++)
        if (!strncmp(want->keys[k], addable, strlen(addable)) && !config_get(have, want->keys[k]))
            all[n + (*added)++] = want->keys[k];
    return all;
}

/* Writes `text` as dir's config.txt in one step. */
static int write_config(const char *path, const char *text) {
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fputs(text, a.f);
    return atomic_commit(&a);
}

static int check_same(const char *dir, const char *path, const char *text, const char *noun,
                      const char *const *ignore, const char *addable) {
    config_file have, want;
    if (config_read(&have, path) != 0) return -1;
    int rc = config_parse(&want, text, strlen(text), "this configuration"), added = 0;
    const char **skip = rc == 0 ? ignore_added(&have, &want, ignore, addable, &added) : NULL;
    const char *key = rc == 0 ? config_first_difference(&have, &want, skip, run_flags_added_keys()) : NULL;
    free(skip);
    /* what was added is now part of the directory's configuration */
    if (rc == 0 && !key && added) rc = write_config(path, text);
    if (key) {
        const char *v = config_get(&have, key);
        rc = alrs_fail("--out %s: holds a %s with %s=%s, this one has %s=%s (use another "
                       "--out, or the same flags to continue it)",
                       dir, noun, key, v ? v : "(none)", key, config_get(&want, key));
    }
    config_free(&have);
    config_free(&want);
    return rc;
}

int result_dir_open(const char *dir, const char *subdir, const char *text, const char *noun,
                    const char *const *ignore, const char *addable, output_dir *out, int *fresh,
                    int *made) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    *fresh = !path_exists(path);
    if (!*fresh) return check_same(dir, path, text, noun, ignore, addable);
    if (make_output_dir(out, dir) != 0) return -1;
    *made = 1;
    snprintf(path, sizeof path, "%s/%s", dir, subdir);
    if (make_subdir(path) != 0) return -1;
    snprintf(path, sizeof path, "%s/config.txt", dir);
    return write_config(path, text);
}
