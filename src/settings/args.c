#include "settings/args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static int is_flag(const char *s) { return s[0] == '-' && s[1] == '-' && s[2]; }

int args_parse(args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        if (!is_flag(argv[i])) return alrs_fail("unexpected argument '%s' (flags start with --)", argv[i]);
        if (a->n == ARGS_MAX) return alrs_fail("too many flags");
        const char *name = argv[i] + 2;
        const char *eq = strchr(name, '=');
        if (eq) {
            /* "--name=value": keep the name in argv's storage by splitting it. */
            argv[i][eq - argv[i]] = '\0';
            a->name[a->n] = name;
            a->value[a->n] = eq + 1;
        } else {
            a->name[a->n] = name;
            a->value[a->n] = (i + 1 < argc && !is_flag(argv[i + 1])) ? argv[++i] : NULL;
        }
        int k = 0; /* a flag given again replaces its earlier value */
        while (k < a->n && strcmp(a->name[k], a->name[a->n])) k++;
        if (k < a->n) a->value[k] = a->value[a->n];
        else a->n++;
    }
    return 0;
}

int args_wants_help(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

static void remember(args *a, const char *name) {
    for (int k = 0; k < a->n_known; k++)
        if (!strcmp(a->known[k], name)) return;
    if (a->n_known < ARGS_KNOWN_MAX) a->known[a->n_known++] = name;
}

static int find(args *a, const char *name) {
    remember(a, name);
    for (int k = 0; k < a->n; k++)
        if (!strcmp(a->name[k], name)) {
            a->used[k] = 1;
            return k;
        }
    return -1;
}

int args_given(const args *a, const char *name) {
    for (int k = 0; k < a->n; k++)
        if (!strcmp(a->name[k], name)) return 1;
    return 0;
}

int args_string(args *a, const char *name, const char **out) {
    int k = find(a, name);
    if (k < 0) return 0;
    if (!a->value[k] || !a->value[k][0]) return alrs_fail("--%s: needs a value", name);
    *out = a->value[k];
    return 0;
}

int args_int(args *a, const char *name, long min, long max, long *out) {
    const char *s = NULL;
    if (args_string(a, name, &s) != 0) return -1;
    if (!s) return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s) return alrs_fail("--%s: expected an integer, got '%s'", name, s);
    if (v < min || v > max)
        return alrs_fail("--%s: %ld is out of range [%ld, %ld]", name, v, min, max);
    *out = v;
    return 0;
}

int args_double(args *a, const char *name, double min, double max, double *out) {
    const char *s = NULL;
    if (args_string(a, name, &s) != 0) return -1;
    if (!s) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v))
        return alrs_fail("--%s: expected a number, got '%s'", name, s);
    if (v < min || v > max) return alrs_fail("--%s: %g is out of range [%g, %g]", name, v, min, max);
    *out = v;
    return 0;
}

int args_doubles(args *a, const char *name, double min, double max, double *out, int max_n,
                 int *n_out) {
    const char *s = NULL;
    if (args_string(a, name, &s) != 0) return -1;
    if (!s) return 0;
    int n = 0;
    for (const char *p = s;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (errno || end == p || (*end && *end != ',') || !isfinite(v))
            return alrs_fail("--%s %s: expected comma-separated numbers", name, s);
        if (n == max_n) return alrs_fail("--%s %s: at most %d numbers", name, s, max_n);
        if (v < min || v > max)
            return alrs_fail("--%s: %g is out of range [%g, %g]", name, v, min, max);
        out[n++] = v;
        if (!*end) break;
        p = end + 1;
    }
    *n_out = n;
    return 0;
}

int args_switch(args *a, const char *name) {
    int k = find(a, name);
    if (k >= 0 && a->value[k]) return alrs_fail("--%s takes no value (got '%s')", name, a->value[k]);
    return k >= 0;
}

/* Levenshtein distance of two short strings (flag names), capped at 9. */
static int edit_distance(const char *s, const char *t) {
    enum { MAX = 48 };
    size_t n = strlen(s), m = strlen(t);
    if (n >= MAX || m >= MAX) return 9;
    int row[MAX];
    for (size_t j = 0; j <= m; j++) row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int up = row[j];
            int best = diag + (s[i - 1] != t[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m] < 9 ? row[m] : 9;
}

/* The known flag nearest to `name`: within 2 edits (1 for names of up to 4
 * letters, so that --lr does not suggest --out), else NULL. */
static const char *nearest_known(const args *a, const char *name) {
    const char *best = NULL;
    int best_d = strlen(name) <= 4 ? 2 : 3;
    for (int k = 0; k < a->n_known; k++) {
        int d = edit_distance(name, a->known[k]);
        if (d < best_d) best = a->known[k], best_d = d;
    }
    return best;
}

int args_check_unused(const args *a) {
    for (int k = 0; k < a->n; k++) {
        if (a->used[k]) continue;
        const char *near = nearest_known(a, a->name[k]);
        if (near)
            return alrs_fail("--%s: unknown flag for this command (did you mean --%s?)",
                             a->name[k], near);
        return alrs_fail("--%s: unknown flag for this command", a->name[k]);
    }
    return 0;
}

void args_print_help(FILE *out, const char *head, const char *help, const char *def) {
    enum { COLUMN = 32 };
    int len = fprintf(out, "%s", head);
    const char *p = help;
    if (*p == '\n') fprintf(out, "\n%*s", COLUMN, ""), p++;
    else fprintf(out, "%*s", len < COLUMN ? COLUMN - len : 1, "");
    for (; *p; p++) {
        if (p[0] == '{' && p[1] == '}') fputs(def, out), p++;
        else if (*p == '\n') fprintf(out, "\n%*s", COLUMN, "");
        else fputc(*p, out);
    }
    fputc('\n', out);
}
