#define _POSIX_C_SOURCE 200809L
#include "core/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

int atomic_open(atomic_file *a, const char *path) {
    if (strlen(path) >= sizeof a->path) return alrs_fail("%s: path too long", path);
    strcpy(a->path, path);
    snprintf(a->tmp_path, sizeof a->tmp_path, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp_path, "w");
    if (!a->f) return alrs_fail("%s: cannot write: %s", path, strerror(errno));
    return 0;
}

int atomic_commit(atomic_file *a) {
    int failed = ferror(a->f) != 0;
    failed |= fflush(a->f) != 0;
    failed |= fsync(fileno(a->f)) != 0 && errno != EINVAL;
    int saved = errno;
    failed |= fclose(a->f) != 0;
    a->f = NULL;
    if (failed) {
        unlink(a->tmp_path);
        return alrs_fail("%s: write failed: %s", a->path, strerror(saved ? saved : EIO));
    }
    if (rename(a->tmp_path, a->path) != 0) {
        saved = errno;
        unlink(a->tmp_path);
        return alrs_fail("%s: cannot rename into place: %s", a->path, strerror(saved));
    }
    return 0;
}

void atomic_abort(atomic_file *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    unlink(a->tmp_path);
}

int path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Removes `top` and the directories below it on the way to `dir` (deepest
 * first); each must be empty. Used to undo make_parents. */
static void remove_created_chain(const char *dir, const char *top) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    size_t len = strlen(top);
    for (;;) {
        rmdir(buf);
        if (strlen(buf) <= len) break;
        char *slash = strrchr(buf, '/');
        if (!slash) break;
        *slash = '\0';
    }
}

/* Creates the missing parents of `dir`; the first one created (the top of
 * what a failed run must remove again) goes to `created`, "" if none. On
 * failure the parents it created are removed again. */
static int make_parents(const char *dir, char *created, size_t size) {
    char buf[4096];
    created[0] = '\0';
    if (strlen(dir) >= sizeof buf) return alrs_fail("--out %s: path too long", dir);
    strcpy(buf, dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) == 0) {
            if (!created[0]) snprintf(created, size, "%s", buf);
        } else if (errno != EEXIST) {
            int saved = errno;
            alrs_fail("--out %s: cannot create directory %s: %s", dir, buf, strerror(saved));
            if (created[0]) remove_created_chain(buf, created);
            created[0] = '\0';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static int dir_is_empty(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

int make_output_dir(output_dir *out, const char *dir) {
    struct stat st;
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--; /* "runs/a/" is "runs/a" */
    if (len >= sizeof out->path) return alrs_fail("--out %s: path too long", dir);
    memcpy(out->path, dir, len);
    out->path[len] = '\0';
    out->created_top[0] = '\0';
    if (stat(out->path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return alrs_fail("--out %s: exists and is not a directory", dir);
        if (!dir_is_empty(out->path))
            return alrs_fail("--out %s: directory exists and is not empty (refusing to overwrite)",
                             dir);
        if (access(out->path, W_OK) != 0) return alrs_fail("--out %s: directory is not writable", dir);
        return 0;
    }
    if (make_parents(out->path, out->created_top, sizeof out->created_top) != 0) return -1;
    if (mkdir(out->path, 0777) != 0) {
        int saved = errno;
        remove_output_dir(out);
        return alrs_fail("--out %s: cannot create directory: %s", dir, strerror(saved));
    }
    if (!out->created_top[0]) snprintf(out->created_top, sizeof out->created_top, "%s", out->path);
    return 0;
}

/* Removes everything inside `dir` (it was empty when the run began, so all of
 * it is the run's): files, and subdirectories such as learn's traces/ with
 * their contents. Symbolic links are removed, never followed. */
static void remove_contents(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[8192];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (depth < 8 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            remove_contents(path, depth + 1);
            rmdir(path);
        } else {
            unlink(path);
        }
    }
    closedir(d);
}

/* Removes what the run wrote into the directory, the directory, and the
 * parents that make_output_dir created for it (never a directory that existed
 * before). */
void remove_output_dir(const output_dir *out) {
    remove_contents(out->path, 0);
    if (!out->created_top[0]) return; /* it existed (empty) before the run: leave it */
    remove_created_chain(out->path, out->created_top);
}

int make_subdir(const char *path) {
    struct stat st;
    if (mkdir(path, 0777) == 0) return 0;
    int saved = errno;
    if (saved == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    return alrs_fail("%s: cannot create directory: %s", path,
                     saved == EEXIST ? "a file of that name exists" : strerror(saved));
}

/* The pid of "NAME.tmp.PID", or 0 for any other name. */
static long temporary_pid(const char *name) {
    const char *tag = strstr(name, ".tmp.");
    if (!tag) return 0;
    char *end;
    long pid = strtol(tag + 5, &end, 10);
    return *end == '\0' && pid > 0 ? pid : 0;
}

int remove_stale_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = temporary_pid(e->d_name);
        /* kill(pid, 0) fails with ESRCH once the process is gone */
        if (!pid || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char path[ALRS_FILE_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        removed += unlink(path) == 0;
    }
    closedir(d);
    return removed;
}
