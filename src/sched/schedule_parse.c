/* Turns a --schedule spec ("name" or "name:key=value,...") into a resolved
 * schedule, and writes one back.
 *
 * Parsing runs in three passes: fill every parameter with its default (some
 * depend on the run's length), overwrite the ones the spec names, then check
 * ranges. Resolving defaults first is what lets schedule_format write the full
 * spec, so that a run's configuration repeats it exactly. */
#include "sched/schedule.h"

#include "core/error.h"
#include "core/numfmt.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { PARAM_INT, PARAM_REAL, PARAM_LIST } param_type;

/* One key a spec may name. The range [lo, hi] (open where lo_open / hi_open)
 * is checked after parsing, so a default that falls outside it (for example
 * from a tiny --steps) is reported too. */
typedef struct {
    const char *key;
    param_type type;
    size_t offset; /* of the long or double field in schedule */
    double lo, hi;
    int lo_open, hi_open;
} param_def;

static const param_def PARAMS[] = {
    {"every", PARAM_INT, offsetof(schedule, every), 1, HUGE_VAL, 0, 1},
    {"gamma", PARAM_REAL, offsetof(schedule, gamma), 0, HUGE_VAL, 1, 1},
    {"milestones", PARAM_LIST, offsetof(schedule, milestones), 1, HUGE_VAL, 0, 1},
    {"tmax", PARAM_INT, offsetof(schedule, tmax), 1, HUGE_VAL, 0, 1},
    {"t0", PARAM_INT, offsetof(schedule, t0), 1, HUGE_VAL, 0, 1},
    {"tmult", PARAM_INT, offsetof(schedule, tmult), 1, HUGE_VAL, 0, 1},
    {"min", PARAM_REAL, offsetof(schedule, min_lr), 0, HUGE_VAL, 0, 1},
    {"max", PARAM_REAL, offsetof(schedule, max_lr), 0, HUGE_VAL, 1, 1},
    {"pct", PARAM_REAL, offsetof(schedule, pct), 0, 1, 1, 1},
    {"div", PARAM_REAL, offsetof(schedule, div), 0, HUGE_VAL, 1, 1},
    {"final_div", PARAM_REAL, offsetof(schedule, final_div), 0, HUGE_VAL, 1, 1},
    {"warmup", PARAM_INT, offsetof(schedule, warmup), 1, HUGE_VAL, 0, 1},
    {"decay", PARAM_INT, offsetof(schedule, decay), 1, HUGE_VAL, 0, 1},
    {"factor", PARAM_REAL, offsetof(schedule, factor), 0, 1, 1, 1},
    {"patience", PARAM_INT, offsetof(schedule, patience), 0, HUGE_VAL, 0, 1},
    {"threshold", PARAM_REAL, offsetof(schedule, threshold), 0, 1, 0, 1},
    {"cooldown", PARAM_INT, offsetof(schedule, cooldown), 0, HUGE_VAL, 0, 1},
};
#define N_PARAMS (int)(sizeof PARAMS / sizeof PARAMS[0])

#define MAX_KEYS 6

/* A schedule name and the keys it accepts, in the order format writes them. */
typedef struct {
    const char *name;
    sched_kind kind;
    const char *keys[MAX_KEYS];
} kind_def;

static const kind_def KINDS[] = {
    {"constant", SCHED_CONSTANT, {NULL}},
    {"step", SCHED_STEP, {"every", "gamma", NULL}},
    {"multistep", SCHED_MULTISTEP, {"milestones", "gamma", NULL}},
    {"exp", SCHED_EXP, {"gamma", NULL}},
    {"cosine", SCHED_COSINE, {"tmax", "min", NULL}},
    {"cosine-restarts", SCHED_COSINE_RESTARTS, {"t0", "tmult", "min", NULL}},
    {"onecycle", SCHED_ONECYCLE, {"max", "pct", "div", "final_div", NULL}},
    {"warmup-cosine", SCHED_WARMUP_COSINE, {"warmup", "min", NULL}},
    {"warmup", SCHED_WARMUP, {"warmup", NULL}},
    {"linear", SCHED_LINEAR, {"warmup", "min", NULL}},
    {"wsd", SCHED_WSD, {"warmup", "decay", "min", NULL}},
    {"plateau", SCHED_PLATEAU, {"factor", "patience", "threshold", "cooldown", "min", NULL}},
    {"controller", SCHED_CONTROLLER, {NULL}},
    {"replay", SCHED_REPLAY, {NULL}},
};
#define N_KINDS (int)(sizeof KINDS / sizeof KINDS[0])

#define KNOWN_NAMES                                                                      \
    "constant, step, multistep, exp, cosine, cosine-restarts, onecycle, warmup-cosine, " \
    "warmup, linear, wsd, plateau, controller:PATH or replay:PATH"

/* ---- tables ---- */

static const kind_def *find_kind(const char *name, size_t len) {
    for (int i = 0; i < N_KINDS; i++)
        if (strlen(KINDS[i].name) == len && !strncmp(KINDS[i].name, name, len)) return &KINDS[i];
    return NULL;
}

static const kind_def *kind_of(sched_kind kind) {
    for (int i = 0; i < N_KINDS; i++)
        if (KINDS[i].kind == kind) return &KINDS[i];
    alrs_panic("schedule kind %d has no name", (int)kind);
}

static const param_def *find_param(const char *key) {
    for (int i = 0; i < N_PARAMS; i++)
        if (!strcmp(PARAMS[i].key, key)) return &PARAMS[i];
    alrs_panic("schedule key '%s' has no definition", key);
}

/* The definition of `key` if kind `k` accepts it, else NULL. */
static const param_def *accepted_param(const kind_def *k, const char *key, size_t len) {
    for (int i = 0; k->keys[i]; i++)
        if (strlen(k->keys[i]) == len && !strncmp(k->keys[i], key, len))
            return find_param(k->keys[i]);
    return NULL;
}

static long *long_field(schedule *s, const param_def *d) {
    return (long *)((char *)s + d->offset);
}

static double *real_field(schedule *s, const param_def *d) {
    return (double *)((char *)s + d->offset);
}

static long long_at(const schedule *s, const param_def *d) {
    return *(const long *)((const char *)s + d->offset);
}

static double real_at(const schedule *s, const param_def *d) {
    return *(const double *)((const char *)s + d->offset);
}

/* ---- defaults ---- */

static long at_least_one(long n) { return n >= 1 ? n : 1; }

/* Defaults for every parameter (each kind reads only its own). Where PyTorch has
 * no default, or its default is "the whole run", the choice is documented in
 * schedule.h. */
static void set_defaults(schedule *s) {
    long total = s->total_steps;
    s->every = at_least_one(total / 3);
    s->gamma = s->kind == SCHED_EXP ? pow(0.01, 1.0 / (double)total) : 0.1;
    /* floor(0.5 total) and floor(0.75 total), nudged apart and above 0 so that
     * short runs still get two increasing milestones. */
    long half = at_least_one(total / 2);
    long three_quarters = total / 4 * 3 + total % 4 * 3 / 4;
    s->milestones[0] = half;
    s->milestones[1] = three_quarters > half ? three_quarters : half + 1;
    s->n_milestones = 2;
    s->tmax = total;
    s->t0 = at_least_one(total / 4);
    s->tmult = 1;
    s->min_lr = 0;
    s->max_lr = s->base_lr;
    s->pct = 0.3;
    s->div = 25;
    s->final_div = 1e4;
    s->warmup = at_least_one(total / 20);
    s->decay = at_least_one(total / 5);
    s->factor = 0.1;
    s->patience = 10;
    s->threshold = 1e-4;
    s->cooldown = 0;
}

/* ---- values ---- */

/* Copies value text into buf as a C string; 0 if it does not fit. Numbers that
 * long are never valid, so the caller reports them as malformed. */
static int copy_text(char *buf, size_t size, const char *text, size_t len) {
    if (len >= size) return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return 1;
}

/* 0 on success, -1 if `text` is not an integer, -2 if it overflows a long.
 * strtol would skip leading spaces; a spec has none, so they are errors. */
static int read_long(const char *text, size_t len, long *out) {
    char buf[64];
    if (!copy_text(buf, sizeof buf, text, len) || isspace((unsigned char)buf[0])) return -1;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (end == buf || *end) return -1;
    if (errno == ERANGE) return -2;
    *out = v;
    return 0;
}

/* 0 on success, -1 if `text` is not a number, -2 if it is not finite. */
static int read_double(const char *text, size_t len, double *out) {
    char buf[128];
    if (!copy_text(buf, sizeof buf, text, len) || isspace((unsigned char)buf[0])) return -1;
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || *end) return -1;
    if (!isfinite(v)) return -2;
    *out = v;
    return 0;
}

static int int_value(schedule *s, const param_def *d, const char *spec, const char *text,
                     size_t len) {
    int rc = read_long(text, len, long_field(s, d));
    if (rc == -1) return alrs_fail("--schedule %s: parameter '%s' wants an integer", spec, d->key);
    if (rc == -2) return alrs_fail("--schedule %s: parameter '%s' is out of range", spec, d->key);
    return 0;
}

static int real_value(schedule *s, const param_def *d, const char *spec, const char *text,
                      size_t len) {
    int rc = read_double(text, len, real_field(s, d));
    if (rc == -1) return alrs_fail("--schedule %s: parameter '%s' wants a number", spec, d->key);
    if (rc == -2)
        return alrs_fail("--schedule %s: parameter '%s' wants a finite number", spec, d->key);
    return 0;
}

/* Milestones are separated by ';' because ',' already separates parameters. */
static int list_value(schedule *s, const char *spec, const char *text, size_t len) {
    s->n_milestones = 0;
    const char *p = text, *end = text + len;
    for (;;) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        size_t item = (size_t)((semi ? semi : end) - p);
        if (s->n_milestones == SCHED_MAX_MILESTONES)
            return alrs_fail("--schedule %s: at most %d milestones", spec, SCHED_MAX_MILESTONES);
        if (item == 0) return alrs_fail("--schedule %s: 'milestones' has an empty entry", spec);
        if (read_long(p, item, &s->milestones[s->n_milestones]) != 0)
            return alrs_fail("--schedule %s: parameter 'milestones' wants integers separated by ';'",
                             spec);
        s->n_milestones++;
        if (!semi) return 0;
        p = semi + 1;
    }
}

/* ---- key=value pairs ---- */

/* Writes "a, b, c" (the keys kind k accepts) into buf. */
static void list_keys(const kind_def *k, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; k->keys[i] && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", k->keys[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

static int unknown_key(const kind_def *k, const char *spec, const char *key, size_t len) {
    if (!k->keys[0])
        return alrs_fail("--schedule %s: unknown parameter '%.*s' (%s takes no parameters)", spec,
                         (int)len, key, k->name);
    char keys[128];
    list_keys(k, keys, sizeof keys);
    return alrs_fail("--schedule %s: unknown parameter '%.*s' for %s (accepts %s)", spec, (int)len,
                     key, k->name, keys);
}

/* One "key=value" of `len` bytes at p. `seen` has a bit per PARAMS entry, to
 * refuse a key given twice rather than silently keep the last. */
static int parse_pair(schedule *s, const kind_def *k, const char *spec, const char *p, size_t len,
                      unsigned *seen) {
    if (len == 0) return alrs_fail("--schedule %s: empty parameter (expected key=value)", spec);
    const char *eq = memchr(p, '=', len);
    if (!eq) return alrs_fail("--schedule %s: '%.*s' is not key=value", spec, (int)len, p);
    size_t key_len = (size_t)(eq - p);
    const param_def *d = accepted_param(k, p, key_len);
    if (!d) return unknown_key(k, spec, p, key_len);
    unsigned bit = 1u << (d - PARAMS);
    if (*seen & bit) return alrs_fail("--schedule %s: parameter '%s' given twice", spec, d->key);
    *seen |= bit;
    const char *value = eq + 1;
    size_t value_len = len - key_len - 1;
    if (value_len == 0)
        return alrs_fail("--schedule %s: parameter '%s' has an empty value", spec, d->key);
    if (d->type == PARAM_INT) return int_value(s, d, spec, value, value_len);
    if (d->type == PARAM_REAL) return real_value(s, d, spec, value, value_len);
    return list_value(s, spec, value, value_len);
}

static int parse_pairs(schedule *s, const kind_def *k, const char *spec, const char *p) {
    unsigned seen = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (parse_pair(s, k, spec, p, len, &seen) != 0) return -1;
        if (p[len] == '\0') return 0;
        p += len + 1;
    }
}

/* ---- range checks ---- */

static int in_range(const param_def *d, double v) {
    int above = d->lo_open ? v > d->lo : v >= d->lo;
    int below = d->hi_open ? v < d->hi : v <= d->hi;
    return above && below;
}

/* "must be > 0", "must be >= 1" or "must be in (0, 1)". */
static int out_of_range(const param_def *d, const char *spec, double v) {
    if (isinf(d->hi))
        return alrs_fail("--schedule %s: parameter '%s' must be %s %g (got %.10g)", spec, d->key,
                         d->lo_open ? ">" : ">=", d->lo, v);
    return alrs_fail("--schedule %s: parameter '%s' must be in %c%g, %g%c (got %.10g)", spec,
                     d->key, d->lo_open ? '(' : '[', d->lo, d->hi, d->hi_open ? ')' : ']', v);
}

static int check_milestones(const schedule *s, const param_def *d, const char *spec) {
    for (int i = 0; i < s->n_milestones; i++) {
        if (!in_range(d, (double)s->milestones[i]))
            return out_of_range(d, spec, (double)s->milestones[i]);
        if (i > 0 && s->milestones[i] <= s->milestones[i - 1])
            return alrs_fail("--schedule %s: milestones must increase (%ld after %ld)", spec,
                             s->milestones[i], s->milestones[i - 1]);
    }
    return 0;
}

static int check_param(const schedule *s, const param_def *d, const char *spec) {
    if (d->type == PARAM_LIST) return check_milestones(s, d, spec);
    double v = d->type == PARAM_INT ? (double)long_at(s, d) : real_at(s, d);
    return in_range(d, v) ? 0 : out_of_range(d, spec, v);
}

/* Checks that tie one parameter to another or to the run. */
static int check_relations(const schedule *s, const char *spec) {
    sched_kind k = s->kind;
    int decays_to_min = k == SCHED_COSINE || k == SCHED_COSINE_RESTARTS ||
                        k == SCHED_WARMUP_COSINE || k == SCHED_LINEAR || k == SCHED_WSD;
    int warms_up = k == SCHED_WARMUP_COSINE || k == SCHED_WARMUP || k == SCHED_LINEAR ||
                   k == SCHED_WSD;
    if (decays_to_min && !(s->min_lr < s->base_lr))
        return alrs_fail("--schedule %s: min=%.10g must be below --lr (%.10g)", spec, s->min_lr,
                         s->base_lr);
    if (warms_up && s->warmup >= s->total_steps)
        return alrs_fail("--schedule %s: warmup=%ld must be less than --steps (%ld)", spec,
                         s->warmup, s->total_steps);
    /* the decay starts after the warm-up ends, or the rate would drop at its end */
    if (k == SCHED_WSD && s->decay > s->total_steps - s->warmup)
        return alrs_fail("--schedule %s: decay=%ld must be at most --steps minus warmup (%ld - %ld)",
                         spec, s->decay, s->total_steps, s->warmup);
    return 0;
}

static int check_all(const schedule *s, const kind_def *k, const char *spec) {
    for (int i = 0; k->keys[i]; i++)
        if (check_param(s, find_param(k->keys[i]), spec) != 0) return -1;
    return check_relations(s, spec);
}

/* ---- parse ---- */

static int parse_path(schedule *s, const char *spec, const char *rest) {
    if (*rest != ':' || rest[1] == '\0')
        return alrs_fail("--schedule %s: wants a path (%s:PATH)", spec,
                         s->kind == SCHED_REPLAY ? "replay" : "controller");
    if (strlen(rest + 1) >= sizeof s->controller_path)
        return alrs_fail("--schedule %s: controller path is longer than %zu bytes", spec,
                         sizeof s->controller_path - 1);
    strcpy(s->controller_path, rest + 1);
    return 0;
}

/* The column of `name` in a CSV header line, or -1. */
static int column_of(const char *header, const char *name) {
    int col = 0;
    for (const char *p = header;; col++) {
        size_t len = strcspn(p, ",\r\n");
        if (len == strlen(name) && !strncmp(p, name, len)) return col;
        p += len;
        if (*p != ',') return -1;
        p++;
    }
}

/* Field `col` of a CSV line as a number; NaN if missing. */
static double field_of(const char *line, int col) {
    for (int k = 0; k < col; k++) {
        line = strchr(line, ',');
        if (!line) return NAN;
        line++;
    }
    char *end;
    double v = strtod(line, &end);
    return end == line ? NAN : v;
}

static int replay_add(schedule *s, long *cap, long step, double lr) {
    if (s->n_replay == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        long *st = realloc(s->replay_step, sizeof(long) * (size_t)*cap);
        double *lrs = st ? realloc(s->replay_lr, sizeof(double) * (size_t)*cap) : NULL;
        if (st) s->replay_step = st;
        if (lrs) s->replay_lr = lrs;
        if (!st || !lrs) return alrs_fail("--schedule replay: out of memory");
    }
    s->replay_step[s->n_replay] = step;
    s->replay_lr[s->n_replay++] = lr;
    return 0;
}

/* Reads the rows (step, lr) of the trace file at s->controller_path. */
static int replay_rows(schedule *s, FILE *f, const char *path) {
    char line[4096];
    if (!fgets(line, sizeof line, f)) return alrs_fail("%s: empty file, not a trace", path);
    int cs = column_of(line, "step"), cl = column_of(line, "lr");
    if (cs < 0 || cl < 0) return alrs_fail("%s: no step and lr columns in its header", path);
    long cap = 0;
    for (long row = 2; fgets(line, sizeof line, f); row++) {
        double step = field_of(line, cs), lr = field_of(line, cl);
        if (!(step >= 1 && step <= 1e15 && step == floor(step)) || !(lr > 0 && isfinite(lr)))
            return alrs_fail("%s:%ld: step %g, lr %g: want a positive whole step and rate", path,
                             row, step, lr);
        if (s->n_replay > 0 && (long)step <= s->replay_step[s->n_replay - 1])
            return alrs_fail("%s:%ld: step %ld after %ld: steps must increase", path, row,
                             (long)step, s->replay_step[s->n_replay - 1]);
        if (replay_add(s, &cap, (long)step, lr) != 0) return -1;
    }
    if (s->n_replay == 0) return alrs_fail("%s: no rows after the header", path);
    return 0;
}

static int replay_read(schedule *s) {
    const char *path = s->controller_path;
    FILE *f = fopen(path, "r");
    if (!f) return alrs_fail("%s: cannot open the trace to replay: %s", path, strerror(errno));
    int rc = replay_rows(s, f, path);
    fclose(f);
    if (rc != 0) schedule_free(s);
    return rc;
}

void schedule_free(schedule *s) {
    free(s->replay_step);
    free(s->replay_lr);
    s->replay_step = NULL;
    s->replay_lr = NULL;
    s->n_replay = 0;
}

static void reset_plateau(schedule *s) {
    s->plateau_lr = s->base_lr;
    s->plateau_best = HUGE_VAL; /* so the first observation is always an improvement */
    s->plateau_bad = 0;
    s->plateau_cooldown_left = 0;
}

/* A spec is one line of text: it is echoed in messages and written into the
 * run's config.txt as `schedule=SPEC`, where a newline (say in a controller
 * path) would break the file. The message leaves the spec out for that reason. */
static int check_one_line(const char *spec) {
    for (size_t i = 0; spec[i]; i++) {
        unsigned char ch = (unsigned char)spec[i];
        if (ch < 0x20 || ch == 0x7f)
            return alrs_fail("--schedule: control character 0x%02x at position %zu "
                             "(a spec is one line of text)",
                             ch, i + 1);
    }
    return 0;
}

/* Parses into a scratch copy so that a failed parse leaves *s as it was. */
int schedule_parse(schedule *s, const char *spec, double base_lr, long total_steps) {
    if (!(base_lr > 0) || !isfinite(base_lr))
        return alrs_fail("--lr must be positive and finite (got %g)", base_lr);
    if (total_steps < 1) return alrs_fail("--steps must be at least 1 (got %ld)", total_steps);
    if (check_one_line(spec) != 0) return -1;
    size_t name_len = strcspn(spec, ":");
    const kind_def *k = find_kind(spec, name_len);
    if (!k) return alrs_fail("--schedule %s: unknown schedule (expected " KNOWN_NAMES ")", spec);

    schedule t;
    memset(&t, 0, sizeof t);
    t.kind = k->kind;
    t.base_lr = base_lr;
    t.total_steps = total_steps;
    set_defaults(&t);
    reset_plateau(&t);
    const char *rest = spec + name_len;
    if (k->kind == SCHED_CONTROLLER) {
        if (parse_path(&t, spec, rest) != 0) return -1;
    } else if (k->kind == SCHED_REPLAY) {
        if (parse_path(&t, spec, rest) != 0 || replay_read(&t) != 0) return -1;
    } else {
        if (*rest == ':' && parse_pairs(&t, k, spec, rest + 1) != 0) return -1;
        if (check_all(&t, k, spec) != 0) return -1;
    }
    *s = t;
    return 0;
}

/* ---- format ---- */

/* Appends to buf like snprintf, keeping *used; stops quietly when full
 * (the caller sized buf, and a cut spec is still a NUL-terminated string). */
static void append(char *buf, int size, int *used, const char *fmt, ...) ALRS_PRINTF(4, 5);
static void append(char *buf, int size, int *used, const char *fmt, ...) {
    if (*used >= size - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, (size_t)(size - *used), fmt, ap);
    va_end(ap);
    if (n > 0) *used = *used + n < size - 1 ? *used + n : size - 1;
}

static void append_value(const schedule *s, const param_def *d, char *buf, int size, int *used) {
    if (d->type == PARAM_INT) append(buf, size, used, "%ld", long_at(s, d));
    else if (d->type == PARAM_REAL) {
        char num[NUM_TEXT];
        append(buf, size, used, "%s", num_format(num, real_at(s, d)));
    }
    else
        for (int i = 0; i < s->n_milestones; i++)
            append(buf, size, used, "%s%ld", i ? ";" : "", s->milestones[i]);
}

void schedule_format(const schedule *s, char *buf, int size) {
    if (size <= 0) return;
    buf[0] = '\0';
    int used = 0;
    const kind_def *k = kind_of(s->kind);
    append(buf, size, &used, "%s", k->name);
    if (s->kind == SCHED_CONTROLLER || s->kind == SCHED_REPLAY)
        append(buf, size, &used, ":%s", s->controller_path);
    for (int i = 0; k->keys[i]; i++) {
        append(buf, size, &used, "%c%s=", i ? ',' : ':', k->keys[i]);
        append_value(s, find_param(k->keys[i]), buf, size, &used);
    }
}
