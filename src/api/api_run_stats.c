/* What a training loop measured between two observations (alrs_run_stats),
 * for the features only a whole run shows: the spread of the batch losses,
 * the gradient norm, the update-to-weight ratio. The session turns them into
 * the numbers alrs's environment gives its observer (env/lr_env.c observe):
 * the mean gradient norm of the steps and the spread of their losses by the
 * same code, so a session and `alrs train` see the same features. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "env/features.h"

unsigned api_run_stats_needed(unsigned features) {
    unsigned need = 0;
    if (features & LR_FEAT_LOSS_SPREAD) need |= ALRS_RUN_BATCH_LOSSES;
    if (features & LR_FEAT_GRAD_NORM) need |= ALRS_RUN_GRAD_NORMS;
    if (features & LR_FEAT_UPDATE_RATIO) need |= ALRS_RUN_UPDATE_RATIO;
    return need;
}

/* Each of n values finite and (when `positive`) not negative. */
static alrs_status check_values(const double *x, size_t n, const char *what, int positive) {
    for (size_t k = 0; k < n; k++)
        if (!isfinite(x[k]) || (positive && x[k] < 0))
            return api_fail(ALRS_E_VALUE, "alrs_session_observe_run: %s %zu is %g", what, k, x[k]);
    return ALRS_OK;
}

alrs_status api_run_stats_check(unsigned need, long steps, const alrs_run_stats *run) {
    if (!run) {
        if (!need) return ALRS_OK;
        char names[64] = "";
        static const char *const what[] = {"batch losses", "gradient norms", "update ratio"};
        for (int k = 0; k < 3; k++)
            if (need & (1u << k))
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         names[0] ? ", " : "", what[k]);
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_observe: the controller observes what a "
                                         "run measures between observations (%s): pass it with "
                                         "alrs_session_observe_run (docs/API.md)", names);
    }
    if (run->n_steps != (size_t)steps)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_observe_run: run statistics of %zu steps, "
                                         "but %ld steps were trained since the last observation",
                        run->n_steps, steps);
    if ((need & ALRS_RUN_BATCH_LOSSES) && !run->batch_losses)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_observe_run: batch_losses is NULL; the "
                                         "controller observes loss-spread");
    if ((need & ALRS_RUN_GRAD_NORMS) && !run->grad_norms)
        return api_fail(ALRS_E_ARGUMENT, "alrs_session_observe_run: grad_norms is NULL; the "
                                         "controller observes grad-norm");
    alrs_status st = ALRS_OK;
    if (run->batch_losses) st = check_values(run->batch_losses, run->n_steps, "batch loss", 0);
    if (st == ALRS_OK && run->grad_norms)
        st = check_values(run->grad_norms, run->n_steps, "gradient norm", 1);
    if (st == ALRS_OK && (need & ALRS_RUN_UPDATE_RATIO))
        st = check_values(&run->update_ratio, 1, "update ratio", 1);
    return st;
}

/* As the environment: the mean of the steps' gradient norms, summed in step
 * order, and the spread of their losses. */
void api_run_stats_fill(const alrs_run_stats *run, lr_observer_input *in) {
    if (!run || run->n_steps == 0) return;
    if (run->grad_norms) {
        double sum = 0.0;
        for (size_t k = 0; k < run->n_steps; k++) sum += run->grad_norms[k];
        in->grad_norm = sum / (double)run->n_steps;
    }
    if (run->batch_losses) in->loss_spread = lr_env_spread(run->batch_losses, (int)run->n_steps);
    in->update_ratio = run->update_ratio;
}
