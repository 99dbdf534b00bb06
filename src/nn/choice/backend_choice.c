#define _POSIX_C_SOURCE 200809L
#include "nn/choice/backend_choice.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/version.h"
#include "kernels/cpu.h"
#include "nn/choice/auto_net.h"
#include "nn/net_impl.h"

#define KEY_MAX 512
#define CHOICE_MAX (NN_MAX_LAYERS + 16)

/* ---- where, and what for ---- */

void backend_choice_path(const nn_net_config *cfg, char *buf, int size) {
    const char *env = getenv("ALRS_PLAN"), *cache = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (cfg->plan_path && cfg->plan_path[0]) snprintf(buf, (size_t)size, "%s", cfg->plan_path);
    else if (env && env[0]) snprintf(buf, (size_t)size, "%s", env);
    else if (cache && cache[0]) snprintf(buf, (size_t)size, "%s/alrs/plans.txt", cache);
    else snprintf(buf, (size_t)size, "%s/.cache/alrs/plans.txt", home && home[0] ? home : "/tmp");
}

void backend_choice_key(const nn_spec *spec, const nn_net_config *cfg, char *buf, int size) {
    char cpu[128], sig[32];
    cpu_model_name(cpu, sizeof cpu);
    cpu_signature(sig, sizeof sig);
    for (char *c = cpu; *c; c++)
        if (*c == '|' || *c == ' ' || *c == '=') *c = '_'; /* one word */
    snprintf(buf, (size_t)size, "cpu=%s-%s|isa=%s|net=%s-%dx%dx%d-%zu|batch=%d|threads=%d|"
                                "alrs=%s",
             cpu, sig, cpu_isa_name(cpu_isa()), spec->model, spec->in_c, spec->in_h, spec->in_w,
             spec->n_params, cfg->train_batch, omp_get_max_threads(),
             alrs_version_number());
}

/* ---- the file ---- */

static int valid_choice(const char *c) {
    if (!strcmp(c, "native") || !strcmp(c, "dnnl-net")) return 1;
    if (!*c || strlen(c) > NN_MAX_LAYERS) return 0;
    for (; *c; c++)
        if (*c != 'n' && *c != 'd') return 0;
    return 1;
}

/* The whole file (NULL when it does not exist yet), checked line by line;
 * -1 with a message naming the file and the line at fault. */
static int read_plans(const char *path, char **text) {
    *text = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return alrs_fail("%s: the plan file is not a regular file (--plan FILE, $ALRS_PLAN)",
                         path);
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? 0 : alrs_fail("%s: cannot read the plan file: %s", path,
                                                     strerror(errno));
    size_t len = 0;
    FILE *m = open_memstream(text, &len);
    char line[KEY_MAX + CHOICE_MAX + 64];
    int n = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        n++;
        fputs(line, m);
        line[strcspn(line, "\n")] = '\0';
        if (n == 1) {
            if (strcmp(line, BACKEND_PLAN_HEADER))
                rc = alrs_fail("%s: not an alrs plan file (its first line is not '%s'); remove "
                               "it, or give another with --plan", path, BACKEND_PLAN_HEADER);
            continue;
        }
        char *choice = strstr(line, " choice=");
        if (!line[0] || strncmp(line, "cpu=", 4) || !choice || !valid_choice(choice + 8))
            rc = alrs_fail("%s:%d: not a plan entry (corrupted?); remove the file or measure "
                           "again with alrs tune", path, n);
    }
    fclose(f);
    fclose(m);
    if (rc != 0) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* The choice of `key` in the checked text, into choice; 0 if absent. */
static int find_entry(const char *text, const char *key, char *choice) {
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, klen) || strncmp(p + klen, " choice=", 8)) continue;
        size_t n = strcspn(p + klen + 8, "\n");
        snprintf(choice, CHOICE_MAX, "%.*s", (int)n, p + klen + 8);
        return 1;
    }
    return 0;
}

/* The directory the file goes in, and its parents (~/.cache/alrs). */
static void make_parents(const char *path) {
    char dir[ALRS_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0777);
            *p = '/';
        }
    mkdir(dir, 0777);
}

/* The text with key's entry set to choice (an existing one replaced). */
static int write_plans(const char *path, const char *text, const char *key, const char *choice) {
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "%s\n", BACKEND_PLAN_HEADER);
    size_t klen = strlen(key);
    const char *p = text ? strchr(text, '\n') : NULL; /* past the header */
    for (p = p ? p + 1 : NULL; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n && !(strncmp(p, key, klen) == 0 && !strncmp(p + klen, " choice=", 8)))
            fprintf(a.f, "%.*s\n", (int)n, p);
        p = end ? end + 1 : NULL;
    }
    fprintf(a.f, "%s choice=%s\n", key, choice);
    return atomic_commit(&a);
}

/* An exclusive lock on PATH.lock while the file is read, measured for and written. */
static int lock_plans(const char *path) {
    make_parents(path);
    char lock[ALRS_FILE_PATH_MAX];
    snprintf(lock, sizeof lock, "%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT, 0666);
    if (fd < 0) return -1; /* no lock possible (a read-only place): go on without */
    flock(fd, LOCK_EX);
    return fd;
}

static void unlock_plans(int fd) {
    if (fd < 0) return;
    flock(fd, LOCK_UN);
    close(fd);
}

/* The auto net with a first line in its description saying where its choice
 * came from. */
static nn_net *noted(nn_net *net, const char *path, const char *key, const char *how) {
    if (!net) return NULL;
    char line[ALRS_PATH_MAX + KEY_MAX + CHOICE_MAX + 96];
    snprintf(line, sizeof line, "plan: %s, entry %s: %s (%s)\n", path, key,
             nn_net_auto_choice(net), how);
    nn_net_auto_note(net, line);
    return net;
}

/* Measures (auto), records the choice, and returns the net; lock held. A
 * file that cannot be written fails alrs tune (`must_record`) but not a run:
 * the run goes on with what it measured, and says so once. */
static nn_net *measure_and_record(const nn_spec *spec, nn_net_config cfg, float *params,
                                  float *grads, float *state, const char *path, const char *key,
                                  const char *text, int must_record) {
    nn_net *net = nn_net_create_auto(spec, cfg, params, grads, state);
    if (!net) return NULL;
    if (write_plans(path, text, key, nn_net_auto_choice(net)) == 0)
        return noted(net, path, key, "measured now and recorded");
    if (must_record) {
        nn_net_free(net);
        return NULL;
    }
    static atomic_int warned;
    if (atomic_exchange(&warned, 1) == 0)
        fprintf(stderr, "alrs: warning: %s; the backend choice was measured for this run only "
                    "(--plan FILE names a writable plan file)\n",
                alrs_error());
    return noted(net, path, key, "measured now; NOT recorded: the plan file could not be written");
}

nn_net *nn_net_create_plan(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state) {
    char path[ALRS_PATH_MAX], key[KEY_MAX], choice[CHOICE_MAX];
    backend_choice_path(&cfg, path, sizeof path);
    backend_choice_key(spec, &cfg, key, sizeof key);
    int fd = lock_plans(path);
    char *text;
    nn_net *net = NULL;
    if (read_plans(path, &text) == 0) {
        if (text && find_entry(text, key, choice))
            net = noted(nn_net_create_auto_as(spec, cfg, params, grads, state, choice), path, key,
                        "from the plan file");
        else
            net = measure_and_record(spec, cfg, params, grads, state, path, key, text, 0);
    }
    free(text);
    unlock_plans(fd);
    return net;
}

nn_net *backend_choice_measure(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                             float *state) {
    char path[ALRS_PATH_MAX], key[KEY_MAX];
    backend_choice_path(&cfg, path, sizeof path);
    backend_choice_key(spec, &cfg, key, sizeof key);
    int fd = lock_plans(path);
    char *text;
    nn_net *net = NULL;
    if (read_plans(path, &text) == 0)
        net = measure_and_record(spec, cfg, params, grads, state, path, key, text, 1);
    free(text);
    unlock_plans(fd);
    return net;
}
