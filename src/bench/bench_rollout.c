#include "bench/bench_rollout.h"

#include <string.h>

#include "core/timer.h"
#include "dist/dist.h"
#include "run/rollout_engine.h"

static void count_episode(void *ctx, int env, const lr_env_episode *ep, int complete) {
    bench_rollout_result *t = ctx;
    (void)env, (void)complete;
    t->episodes++;
    t->child_steps += ep->child_steps;
}

static void rates(bench_rollout_result *t) {
    double total = t->collect_s + t->update_s;
    t->episodes_per_hour = 3600.0 * (double)t->episodes / total;
    t->child_steps_per_s = (double)t->child_steps / total;
    t->update_share = t->update_s / total;
}

int bench_rollout_layout(const learn_flags *f, const dataset *data, int envs, int threads,
                         long batches, FILE *placement, bench_rollout_result *t) {
    rollout_engine eng;
    memset(t, 0, sizeof *t);
    if (rollout_engine_create(&eng, &f->env, data, envs, threads, 0) != 0) return -1;
    if (eng.ranks > 1 && placement) {
        if (eng.rank == 0) fprintf(placement, "# layout %dx%d:\n", envs, threads);
        rollout_engine_placement(&eng, placement, "#   ");
    }
    int root = eng.rank == 0;
    controller c;
    rollout_buffer buf;
    memset(&c, 0, sizeof c);
    memset(&buf, 0, sizeof buf);
    lr_env_interface iface = lr_env_interface_of(&f->env);
    policy_config pc = controller_policy_config(&iface);
    rng_stream init = rng_make((uint64_t)f->run.seed, 0xc0);
    int rc = 0;
    if (root) {
        rc = controller_init(&c, &iface, &pc, envs, f->ppo.gamma, &init);
        if (rc == 0) rc = rollout_buffer_init(&buf, eng.steps, envs, eng.obs_size);
    }
    rc = dist_agree(rc);
    for (long u = 0; u < batches && rc == 0; u++) {
        if (rollout_engine_collect(&eng, root ? &c : NULL, &f->ppo, root ? &buf : NULL,
                                   (uint64_t)f->run.seed, u, root ? count_episode : NULL, t) != 0) {
            rc = -1;
            break;
        }
        t->collect_s += eng.collect_s;
        if (root) {
            double t0 = alrs_now();
            rng_stream shuffle = rng_make((uint64_t)f->run.seed ^ 0x5ff1e, (uint64_t)u);
            ppo_stats st;
            rc = controller_update(&c, &f->ppo, &buf, &shuffle, &st);
            t->update_s += alrs_now() - t0;
        }
        rc = dist_agree(rc);
    }
    if (buf.obs) rollout_buffer_free(&buf);
    if (root) controller_free(&c);
    rollout_engine_free(&eng);
    if (rc == 0 && root) rates(t);
    return rc;
}
