#include "cli/result_dir.h"

#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "settings/run_flags.h"
#include "core/error.h"

static int check_same(const char *dir, const char *path, const char *text, const char *noun,
                      const char *const *ignore) {
    config_file have, want;
    if (config_read(&have, path) != 0) return -1;
    int rc = config_parse(&want, text, strlen(text), "this configuration");
    const char *key = rc == 0 ? config_first_difference(&have, &want, ignore, run_flags_added_keys()) : NULL;
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
                    const char *const *ignore, output_dir *out, int *fresh, int *made) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    *fresh = !path_exists(path);
    if (!*fresh) return check_same(dir, path, text, noun, ignore);
    if (make_output_dir(out, dir) != 0) return -1;
    *made = 1;
    snprintf(path, sizeof path, "%s/%s", dir, subdir);
    if (make_subdir(path) != 0) return -1;
    snprintf(path, sizeof path, "%s/config.txt", dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fputs(text, a.f);
    return atomic_commit(&a);
}
