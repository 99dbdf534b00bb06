#include "sched/baselines.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/numfmt.h"

const char *const baseline_names[] = {"controller", "controller-default", "paper-grid",
                                      "constant",   "exponential",        "cosine",
                                      "warmup-cosine", "warmup",          "linear",
                                      "wsd",        "onecycle",           "plateau",
                                      "schedulefree"};
const int n_baseline_names = (int)(sizeof baseline_names / sizeof baseline_names[0]);

static const double rates7[] = {1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4};

int baseline_known(const char *name) {
    for (int i = 0; i < n_baseline_names; i++)
        if (!strcmp(name, baseline_names[i])) return 1;
    return 0;
}

int baseline_thin(int n, int budget, int *keep) {
    int k = n < budget ? n : budget;
    for (int i = 0; i < k; i++)
        keep[i] = k == n ? i : (int)(((long)2 * i + 1) * n / (2L * k));
    return k;
}

int baseline_select(const double *val_loss, int n) {
    int best = -1;
    for (int i = 0; i < n; i++)
        if (isfinite(val_loss[i]) && (best < 0 || val_loss[i] < val_loss[best])) best = i;
    return best;
}

static int add(grid_point *g, int n, double lr, const char *fmt, ...) ALRS_PRINTF(4, 5);
static int add(grid_point *g, int n, double lr, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g[n].spec, sizeof g[n].spec, fmt, ap);
    va_end(ap);
    g[n].lr = lr;
    g[n].optimizer[0] = '\0'; /* the run's --optimizer */
    return n + 1;
}

/* The controller rows' points: on the rates r (nr of them), with the
 * controller's own optimizer when its file names one. */
static int controller_grid(const baseline_controller *ctl, const double *r, int nr,
                           grid_point *g) {
    const char *path = ctl && ctl->path ? ctl->path : "";
    int n = 0;
    for (int i = 0; i < nr; i++) {
        n = add(g, n, r[i], "controller:%s", path);
        if (ctl && ctl->optimizer)
            snprintf(g[i].optimizer, sizeof g[i].optimizer, "%s", ctl->optimizer);
    }
    return n;
}

/* The whole grid of one baseline, in the documented order; `r` (nr of
 * them) replaces r7. */
static int full_grid(const char *name, long steps, const baseline_controller *ctl,
                     const double *r, int nr, grid_point *g) {
    int n = 0;
    long warm = steps / 20 > 0 ? steps / 20 : 1; /* the 5 % warm-up of the rows that warm up */
    if (!strcmp(name, "controller")) {
        n = controller_grid(ctl, r, nr, g);
    } else if (!strcmp(name, "controller-default")) {
        double lr = ctl ? ctl->default_lr : 0;
        n = controller_grid(ctl, &lr, 1, g);
    } else if (!strcmp(name, "paper-grid")) {
        const double init[] = {1e-1, 1e-2, 1e-3, 1e-4}, gammas[] = {0.99, 0.9, 0.88};
        const int every[] = {10, 20, 50, 100};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 3; k++)
                    n = add(g, n, init[i], "step:every=%d,gamma=%g", every[j], gammas[k]);
    } else if (!strcmp(name, "constant")) {
        for (int i = 0; i < nr; i++) n = add(g, n, r[i], "constant");
    } else if (!strcmp(name, "exponential")) {
        char num[NUM_TEXT];
        const double init[] = {1e-2, 3e-3, 1e-3}, decay[] = {10, 100};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                n = add(g, n, init[i], "exp:gamma=%s", num_format(num, pow(1 / decay[j], 1.0 / steps)));
    } else if (!strcmp(name, "cosine")) {
        for (int i = 0; i < nr; i++) n = add(g, n, r[i], "cosine:tmax=%ld,min=0", steps);
    } else if (!strcmp(name, "warmup-cosine")) {
        for (int i = 0; i < nr; i++) n = add(g, n, r[i], "warmup-cosine:warmup=%ld,min=0", warm);
    } else if (!strcmp(name, "warmup")) {
        for (int i = 0; i < nr; i++) n = add(g, n, r[i], "warmup:warmup=%ld", warm);
    } else if (!strcmp(name, "linear")) {
        for (int i = 0; i < nr; i++) n = add(g, n, r[i], "linear:warmup=%ld,min=0", warm);
    } else if (!strcmp(name, "wsd")) {
        long decay = steps / 5 > 0 ? steps / 5 : 1;
        for (int i = 0; i < nr; i++)
            n = add(g, n, r[i], "wsd:warmup=%ld,decay=%ld,min=0", warm, decay);
    } else if (!strcmp(name, "schedulefree")) {
        for (int i = 0; i < nr; i++) {
            n = add(g, n, r[i], "warmup:warmup=%ld", warm);
            snprintf(g[n - 1].optimizer, sizeof g[n - 1].optimizer, "adamw-schedulefree");
        }
    } else if (!strcmp(name, "onecycle")) {
        const double peak[] = {3e-2, 1e-2, 3e-3, 1e-3}, pct[] = {0.3, 0.1};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++)
                n = add(g, n, peak[i], "onecycle:max=%g,pct=%g", peak[i], pct[j]);
    } else if (!strcmp(name, "plateau")) {
        const double init[] = {1e-2, 3e-3, 1e-3}, factor[] = {0.5, 0.1};
        const int patience[] = {2, 5};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 2; k++)
                    n = add(g, n, init[i], "plateau:factor=%g,patience=%d", factor[j],
                            patience[k]);
    }
    return n;
}

int baseline_grid(const char *name, long steps, int budget, const baseline_controller *ctl,
                  const double *rates, int n_rates, grid_point *out) {
    if (!baseline_known(name))
        return alrs_fail("--baselines: unknown schedule '%s' (expected controller-default, "
                         "paper-grid, constant, exponential, cosine, warmup-cosine, warmup, "
                         "linear, wsd, onecycle, plateau or schedulefree)", name);
    if (budget < 1) return alrs_fail("--tune-budget %d: must be at least 1", budget);
    /* on the heap: a point holds room for a controller's path (4 KiB) */
    grid_point *full = alrs_calloc(BASELINE_MAX_POINTS, sizeof *full);
    if (n_rates == 0) rates = rates7, n_rates = 7;
    int n = full_grid(name, steps, ctl, rates, n_rates, full);
    int keep[BASELINE_MAX_POINTS];
    int k = baseline_thin(n, budget, keep);
    for (int i = 0; i < k; i++) out[i] = full[keep[i]];
    free(full);
    return k;
}
