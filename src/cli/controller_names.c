#define _POSIX_C_SOURCE 200809L
#include "cli/controller_names.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fileio.h"

#ifndef ALRS_CONTROLLERS_DIR
#define ALRS_CONTROLLERS_DIR "/usr/local/share/alrs/controllers"
#endif

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A name, not a path: no slash, no dot (not "ctrl.bin"), nothing of that
 * name here (a directory too: the reader says what is wrong with it). */
static int is_name(const char *path) {
    struct stat st;
    return path[0] && !strpbrk(path, "/.") && stat(path, &st) != 0;
}

/* <directory of the running program>/../share/alrs/controllers, or "". */
static void dir_beside_program(char *out, size_t size) {
    char exe[ALRS_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    out[0] = '\0';
    if (n <= 0) return;
    exe[n] = '\0';
    snprintf(out, size, "%s/../share/alrs/controllers", dirname(exe));
}

/* Appends DIR to the list of places looked in (for the message) and, if
 * DIR/NAME.bin is a file, writes it into `found`. */
static int try_dir(const char *dir, const char *name, char *found, size_t size, char *looked,
                   size_t looked_size) {
    if (!dir[0]) return 0;
    size_t used = strlen(looked);
    snprintf(looked + used, looked_size - used, "%s%s", used ? ", " : "", dir);
    char candidate[ALRS_FILE_PATH_MAX];
    snprintf(candidate, sizeof candidate, "%s/%s.bin", dir, name);
    if (!is_file(candidate) || strlen(candidate) >= size) return 0;
    snprintf(found, size, "%s", candidate);
    return 1;
}

int controller_resolve_name(char *path, size_t size) {
    if (!is_name(path)) return 0;
    char name[256], looked[3 * ALRS_PATH_MAX] = "", dir[ALRS_PATH_MAX];
    if (strlen(path) >= sizeof name) return 0; /* not a name: let the reader say why */
    snprintf(name, sizeof name, "%s", path);
    const char *env = getenv("ALRS_CONTROLLERS");
    if (env) {
        char *list = strdup(env), *save = NULL;
        int hit = 0;
        for (char *d = list ? strtok_r(list, ":", &save) : NULL; d && !hit;
             d = strtok_r(NULL, ":", &save))
            hit = try_dir(d, name, path, size, looked, sizeof looked);
        free(list);
        if (hit) return 0;
    }
    dir_beside_program(dir, sizeof dir);
    if (try_dir(dir, name, path, size, looked, sizeof looked) ||
        try_dir(ALRS_CONTROLLERS_DIR, name, path, size, looked, sizeof looked))
        return 0;
    return alrs_fail("controller:%s: no such file, and no installed controller %s.bin in %s", name,
                     name, looked);
}
