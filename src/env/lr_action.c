#include "env/lr_action.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/numfmt.h"

lr_action_config lr_action_default(void) {
    lr_action_config a;
    memset(&a, 0, sizeof a);
    a.kind = LR_ACTION_DISCRETE;
    a.delta = 0.05;
    a.n_factors = 3;
    a.factors[0] = 1.0 + a.delta;
    a.factors[1] = 1.0 / (1.0 + a.delta);
    a.factors[2] = 1.0;
    a.residual_range = 4.0;
    return a;
}

static const char *const KIND_NAMES[] = {"discrete", "continuous", "absolute"};

int lr_action_kind_parse(const char *name, lr_action_kind *out) {
    for (int k = 0; k < 3; k++)
        if (!strcmp(name, KIND_NAMES[k])) {
            *out = (lr_action_kind)k;
            return 0;
        }
    return alrs_fail("--action %s: expected discrete, continuous or absolute", name);
}

const char *lr_action_kind_name(lr_action_kind k) {
    return k >= LR_ACTION_DISCRETE && k <= LR_ACTION_ABSOLUTE ? KIND_NAMES[k] : "?";
}

int lr_action_check(const lr_action_config *a) {
    if (a->kind < LR_ACTION_DISCRETE || a->kind > LR_ACTION_ABSOLUTE)
        return alrs_fail("action kind %d: unknown (expected discrete, continuous or absolute)",
                         (int)a->kind);
    if (a->kind == LR_ACTION_DISCRETE) {
        if (a->n_factors < 2 || a->n_factors > LR_ACTION_MAX_FACTORS)
            return alrs_fail("--factors: %d factors (expected 2 to %d)", a->n_factors,
                             LR_ACTION_MAX_FACTORS);
        for (int i = 0; i < a->n_factors; i++) {
            if (!(a->factors[i] > 0) || !isfinite(a->factors[i]))
                return alrs_fail("--factors: factor %g must be a positive number", a->factors[i]);
            for (int j = 0; j < i; j++)
                if (a->factors[j] == a->factors[i])
                    return alrs_fail("--factors: factor %g given twice", a->factors[i]);
        }
    }
    if (!(a->delta > 0 && a->delta <= 10)) return alrs_fail("--delta %g: not in (0, 10]", a->delta);
    if (!(a->residual_range > 1) || !isfinite(a->residual_range))
        return alrs_fail("--residual-range %g: must be a finite number above 1",
                         a->residual_range);
    if (memchr(a->base, '\0', sizeof a->base) == NULL)
        return alrs_fail("--base: the spec is longer than %d bytes", LR_ACTION_BASE_MAX - 1);
    if (!strncmp(a->base, "controller", 10) || !strncmp(a->base, "replay", 6))
        return alrs_fail("--base %s: a base is a hand-made schedule, not a controller or a "
                         "replay", a->base);
    if (lr_action_residual(a) && a->kind == LR_ACTION_DISCRETE && lr_action_keep(a) < 0)
        return alrs_fail("--base %s: residual mode needs the factor 1 (keep) among --factors",
                         a->base);
    return 0;
}

int lr_action_parse_factors(const char *text, lr_action_config *a) {
    int n = 0;
    const char *p = text;
    while (1) {
        char *end;
        double f = strtod(p, &end);
        if (end == p || (*end && *end != ','))
            return alrs_fail("--factors %s: expected comma-separated positive numbers, e.g. "
                             "0.5,0.8,1,1.25,2", text);
        if (n == LR_ACTION_MAX_FACTORS)
            return alrs_fail("--factors %s: at most %d factors", text, LR_ACTION_MAX_FACTORS);
        a->factors[n++] = f;
        if (!*end) break;
        p = end + 1;
    }
    a->n_factors = n;
    lr_action_kind kind = a->kind;
    a->kind = LR_ACTION_DISCRETE; /* check the factors whatever kind comes with them */
    int rc = lr_action_check(a);
    a->kind = kind;
    return rc;
}

void lr_action_format_factors(const lr_action_config *a, char *buf, int size) {
    int used = 0;
    buf[0] = '\0';
    for (int i = 0; i < a->n_factors && used < size; i++) {
        char num[NUM_TEXT];
        used += snprintf(buf + used, (size_t)(size - used), "%s%s", i ? "," : "",
                         num_format(num, a->factors[i]));
    }
}

int lr_action_count(const lr_action_config *a) {
    return a->kind == LR_ACTION_DISCRETE ? a->n_factors : 1;
}

int lr_action_keep(const lr_action_config *a) {
    if (a->kind != LR_ACTION_DISCRETE) return -1;
    for (int i = 0; i < a->n_factors; i++)
        if (a->factors[i] == 1.0) return i;
    return -1;
}

int lr_action_residual(const lr_action_config *a) { return a->base[0] != '\0'; }

int lr_action_relative(const lr_action_config *a) { return a->kind != LR_ACTION_ABSOLUTE; }

double lr_action_effect(const lr_action_config *a, double action) {
    if (isnan(action)) return NAN;
    switch (a->kind) {
    case LR_ACTION_DISCRETE: {
        if (!(action >= 0 && action < a->n_factors) || action != (int)action) return NAN;
        return log(a->factors[(int)action]);
    }
    case LR_ACTION_CONTINUOUS: return tanh(action) * log1p(a->delta);
    case LR_ACTION_ABSOLUTE: return tanh(action);
    }
    return NAN;
}

double lr_action_apply(const lr_action_config *a, double x, double effect, double lo, double hi) {
    if (isnan(effect)) return x;
    double next = lr_action_relative(a) ? x + effect : lo + (hi - lo) * (1.0 + effect) / 2.0;
    return fmin(fmax(next, lo), hi);
}
