/* The public library's environment (include/alrs/alrs.h): alrs's child
 * training as an episode for any agent, built from the same flags as
 * `alrs learn` (settings/learn_flags.c parses them) and stepped through the same
 * env/lr_env.c. reset(seed) starts the child `alrs train --seed SEED` starts. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "settings/learn_flags.h"
#include "data/dataset.h"
#include "env/lr_env.h"

#define MAX_WORDS ARGS_MAX * 2
#define MAX_FLAGS_TEXT 8192

struct alrs_env {
    learn_flags f;
    dataset data;
    lr_env env;
    char text[MAX_FLAGS_TEXT]; /* the flags, split in place into words */
    int threads;
    int started;               /* an episode is under way or finished */
};

/* Splits `text` in place into words: spaces separate, single or double
 * quotes group (as a shell would for plain flags). */
static int split_words(char *text, char **words, int max) {
    int n = 0;
    char *out = text;
    for (char *p = text; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        if (n == max) return -1;
        words[n++] = out;
        char quote = 0;
        for (; *p && (quote || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
            if (!quote && (*p == '\'' || *p == '"')) quote = *p;
            else if (quote && *p == quote) quote = 0;
            else *out++ = *p;
        }
        if (*p) p++;
        *out++ = '\0';
    }
    return n;
}

static alrs_status parse_flags(alrs_env *e, const char *flags) {
    if (strlen(flags) >= sizeof e->text)
        return api_fail(ALRS_E_ARGUMENT, "alrs_env_create: flags longer than %d bytes",
                        MAX_FLAGS_TEXT - 1);
    snprintf(e->text, sizeof e->text, "%s", flags);
    char *words[MAX_WORDS];
    int n = split_words(e->text, words, MAX_WORDS);
    if (n < 0) return api_fail(ALRS_E_ARGUMENT, "alrs_env_create: too many flags");
    args a;
    long threads = 1;
    if (args_parse(&a, n, words) != 0 || args_int(&a, "threads", 1, 4096, &threads) != 0 ||
        learn_flags_parse(&a, &e->f) != 0 || args_check_unused(&a) != 0) {
        learn_flags_free(&e->f);
        return ALRS_E_ARGUMENT;
    }
    if (e->f.tasks.path) {
        learn_flags_free(&e->f);
        return api_fail(ALRS_E_ARGUMENT, "alrs_env_create: --tasks: the environment holds one "
                                         "child run (alrs learn draws tasks)");
    }
    e->threads = (int)threads;
    return ALRS_OK;
}

ALRS_API alrs_status alrs_env_create(const char *flags, alrs_env **out) {
    if (!flags || !out) return api_fail(ALRS_E_ARGUMENT, "alrs_env_create: NULL argument");
    *out = NULL;
    alrs_env *e = calloc(1, sizeof *e);
    if (!e) return api_fail(ALRS_E_FAILED, "alrs_env_create: out of memory");
    alrs_status st = parse_flags(e, flags);
    if (st != ALRS_OK) {
        free(e);
        return st;
    }
    run_flags *r = &e->f.run;
    if (dataset_load(&e->data, r->dataset, r->data_dir, (int)r->val_split,
                     (uint64_t)r->split_seed) != 0) {
        free(e);
        return ALRS_E_FILE;
    }
    /* --train-size, --label-noise: the same training split as alrs learn's */
    if (dataset_vary(&e->data, &r->variant, (uint64_t)r->split_seed, NULL) != 0) {
        dataset_free(&e->data);
        free(e);
        return ALRS_E_ARGUMENT;
    }
    if (!r->val_size) r->val_size = e->data.val.n;
    e->f.env.child = run_flags_child(r);
    omp_set_num_threads(e->threads);
    if (lr_env_create(&e->env, &e->f.env, &e->data) != 0) {
        dataset_free(&e->data);
        free(e);
        return ALRS_E_FAILED;
    }
    *out = e;
    return ALRS_OK;
}

ALRS_API void alrs_env_free(alrs_env *e) {
    if (!e) return;
    lr_env_free(&e->env);
    dataset_free(&e->data);
    free(e);
}

ALRS_API alrs_status alrs_env_describe(const alrs_env *e, alrs_env_info *info) {
    if (!e || !info) return api_fail(ALRS_E_ARGUMENT, "alrs_env_describe: NULL argument");
    info->obs_size = e->env.obs_size;
    const lr_action_config *a = &e->env.cfg.action;
    info->n_actions = a->kind == LR_ACTION_DISCRETE ? a->n_factors : 0;
    info->max_steps = e->env.n_agent;
    info->action_every = e->env.cfg.action_every;
    return ALRS_OK;
}

ALRS_API const char *alrs_env_feature_name(const alrs_env *e, int k) {
    if (!e || k < 0 || k >= e->env.obs_size) return NULL;
    return lr_env_feature_name(e->env.cfg.features, k);
}

static alrs_status check_obs_room(const alrs_env *e, const double *obs, size_t n,
                                  const char *fn) {
    if (!obs) return api_fail(ALRS_E_ARGUMENT, "%s: NULL observation buffer", fn);
    if (n != (size_t)e->env.obs_size)
        return api_fail(ALRS_E_ARGUMENT, "%s: room for %zu values, an observation has %d", fn, n,
                        e->env.obs_size);
    return ALRS_OK;
}

ALRS_API alrs_status alrs_env_reset(alrs_env *e, unsigned long long seed, double *obs, size_t n) {
    if (!e) return api_fail(ALRS_E_ARGUMENT, "alrs_env_reset: NULL environment");
    alrs_status st = check_obs_room(e, obs, n, "alrs_env_reset");
    if (st != ALRS_OK) return st;
    omp_set_num_threads(e->threads);
    lr_env_start(&e->env, (uint64_t)seed, 0, obs);
    e->started = 1;
    return ALRS_OK;
}

ALRS_API alrs_status alrs_env_step(alrs_env *e, double action, double *obs, size_t n,
                                   double *reward, int *terminated, int *truncated) {
    if (!e || !reward || !terminated || !truncated)
        return api_fail(ALRS_E_ARGUMENT, "alrs_env_step: NULL argument");
    alrs_status st = check_obs_room(e, obs, n, "alrs_env_step");
    if (st != ALRS_OK) return st;
    if (!e->started || lr_env_episode_record(&e->env)->done)
        return api_fail(ALRS_E_ORDER, "alrs_env_step: no episode under way (reset first)");
    if (isnan(action)) return api_fail(ALRS_E_VALUE, "alrs_env_step: the action is NaN");
    const lr_action_config *a = &e->env.cfg.action;
    if (a->kind == LR_ACTION_DISCRETE && !(action >= 0 && action < a->n_factors && action == (int)action))
        return api_fail(ALRS_E_ARGUMENT, "alrs_env_step: action %g is not one of 0..%d", action,
                        a->n_factors - 1);
    omp_set_num_threads(e->threads);
    lr_env_step(&e->env, action, obs, reward, terminated, truncated);
    return ALRS_OK;
}

ALRS_API alrs_status alrs_env_state_get(const alrs_env *e, alrs_env_state *state) {
    if (!e || !state) return api_fail(ALRS_E_ARGUMENT, "alrs_env_state_get: NULL argument");
    if (!e->started) return api_fail(ALRS_E_ORDER, "alrs_env_state_get: no episode yet");
    const lr_env_episode *ep = lr_env_episode_record(&e->env);
    int t = ep->agent_steps - 1;
    state->child_steps = ep->child_steps;
    state->lr = e->env.lr;
    state->train_loss = t >= 0 ? ep->train_loss[t] : NAN;
    state->val_loss = t >= 0 ? ep->val_loss[t] : ep->initial_val_loss;
    state->val_acc = t >= 0 ? ep->val_acc[t] : NAN;
    state->diverged = ep->diverged;
    return ALRS_OK;
}

ALRS_API alrs_status alrs_env_test(alrs_env *e, double *loss, double *acc) {
    if (!e || !loss || !acc) return api_fail(ALRS_E_ARGUMENT, "alrs_env_test: NULL argument");
    if (!e->started) return api_fail(ALRS_E_ORDER, "alrs_env_test: no episode yet");
    omp_set_num_threads(e->threads);
    child_run_test(&e->env.child, 1, loss, acc);
    return ALRS_OK;
}
