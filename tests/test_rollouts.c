/* The rollout engine (src/run/rollout_engine.h) at library level, on a small
 * synthetic IDX set and a small MLP child:
 *   1. the same batch whatever the concurrency (1, 2, 3 of 3 environments):
 *      rollout buffers and the PPO update that follows identical bit for bit;
 *   2. a second batch (update 1) is another batch;
 *   3. episode callbacks: one complete episode per environment when nothing
 *      diverges; divergence ends an episode (terminated in the buffer), a new
 *      one starts within the batch, and the batch's last one is reported cut;
 *      every reported episode replays exactly on a lone environment fed the
 *      buffer's actions;
 *   4. rollout_episode_id distinct for distinct (update, env, restart), also
 *      for the restarts a long batch really reaches;
 *   5. run/dist.h as a job of one rank (no MPI started): shares, collectives,
 *      agreement, and the engine's placement line. (tests/test_mpi.sh runs
 *      alrs learn across ranks.) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "env/lr_env.h"
#include "rl/controller.h"
#include "rl/rollout_buffer.h"
#include "dist/dist.h"
#include "run/rollout_engine.h"
#include "testutil.h"

/* The paper's seven features: the default observation. */
#define LR_ENV_OBS LR_ENV_PAPER_OBS

enum { ENVS = 3, MAX_EPISODES = 2048, MAX_TRACE = 512 };

static dataset data;
static char base[512];

/* ---- configuration --------------------------------------------------------- */

/* 40 child steps, an agent step every 5: 8 agent steps per episode. */
static lr_env_config small_env(const char *optimizer) {
    return test_small_env(optimizer, "dnnl", 32, 50);
}

/* SGD (momentum 0.9) at rate 3: on this data some children blow up within an
 * agent step or two and others survive, so batches mix diverged, restarted,
 * complete and cut episodes. */
static lr_env_config mixed_env(void) {
    lr_env_config c = small_env("sgd");
    c.lr_fixed = 3.0;
    c.lr_max = 1e4;
    return c;
}

static void fresh_controller(controller *c, int envs, const ppo_config *ppo) {
    lr_env_config ec = small_env("sgd");
    lr_env_interface iface = lr_env_interface_of(&ec);
    policy_config pc = controller_policy_config(&iface);
    rng_stream init = rng_make(1, 0xc0);
    if (controller_init(c, &iface, &pc, envs, ppo->gamma, &init) != 0) {
        fprintf(stderr, "controller_init: %s\n", alrs_error());
        exit(2);
    }
}

/* ---- episode recorder ---------------------------------------------------- */

typedef struct {
    int env, complete;
    int in_parallel, thread;
    long episode;
    uint64_t seed;
    int agent_steps, diverged, done;
    long child_steps;
    double initial_lr, total_reward, final_val_loss, initial_val_loss;
    double lr[MAX_TRACE], val_loss[MAX_TRACE];
} episode_copy;

typedef struct {
    int n;
    episode_copy *ep; /* [MAX_EPISODES] */
} episode_log;

static void log_init(episode_log *l) {
    l->n = 0;
    l->ep = calloc(MAX_EPISODES, sizeof *l->ep);
}

static void on_episode(void *ctx, int env, const lr_env_episode *ep, int complete) {
    episode_log *l = ctx;
    if (l->n == MAX_EPISODES) return;
    episode_copy *c = &l->ep[l->n++];
    memset(c, 0, sizeof *c);
    c->env = env;
    c->complete = complete;
    c->in_parallel = omp_in_parallel();
    c->thread = omp_get_thread_num();
    c->episode = ep->episode;
    c->seed = ep->seed;
    c->agent_steps = ep->agent_steps;
    c->child_steps = ep->child_steps;
    c->diverged = ep->diverged;
    c->done = ep->done;
    c->initial_lr = ep->initial_lr;
    c->total_reward = ep->total_reward;
    c->final_val_loss = ep->final_val_loss;
    c->initial_val_loss = ep->initial_val_loss;
    for (int t = 0; t < ep->agent_steps && t < MAX_TRACE; t++) {
        c->lr[t] = ep->lr[t];
        c->val_loss[t] = ep->val_loss[t];
    }
}

/* Compares the reported episodes of two batches: order, ids and outcomes. */
static int same_logs(const episode_log *a, const episode_log *b) {
    if (a->n != b->n) return 0;
    for (int k = 0; k < a->n; k++) {
        const episode_copy *x = &a->ep[k], *y = &b->ep[k];
        if (x->env != y->env || x->complete != y->complete || x->episode != y->episode ||
            x->seed != y->seed || x->agent_steps != y->agent_steps ||
            x->child_steps != y->child_steps || x->diverged != y->diverged ||
            memcmp(&x->total_reward, &y->total_reward, sizeof(double)) ||
            memcmp(&x->final_val_loss, &y->final_val_loss, sizeof(double)) ||
            memcmp(x->lr, y->lr, sizeof(double) * (size_t)x->agent_steps))
            return 0;
    }
    return 1;
}

/* ---- buffers ------------------------------------------------------------------ */

static int same_doubles(const double *a, const double *b, size_t n) {
    return !memcmp(a, b, n * sizeof(double));
}

/* Every field a PPO update reads, bit for bit; names the first that differs. */
static int same_buffers(const rollout_buffer *a, const rollout_buffer *b, const char *what) {
    size_t n = (size_t)a->steps * a->envs;
    if (a->steps != b->steps || a->envs != b->envs) return 0;
    const char *bad = NULL;
    if (!same_doubles(a->obs, b->obs, n * a->obs_size)) bad = "obs";
    else if (!same_doubles(a->action, b->action, n)) bad = "action";
    else if (!same_doubles(a->logp, b->logp, n)) bad = "logp";
    else if (!same_doubles(a->value, b->value, n)) bad = "value";
    else if (!same_doubles(a->reward, b->reward, n)) bad = "reward";
    else if (memcmp(a->terminated, b->terminated, n)) bad = "terminated";
    else if (memcmp(a->truncated, b->truncated, n)) bad = "truncated";
    else if (!same_doubles(a->advantage, b->advantage, n)) bad = "advantage";
    else if (!same_doubles(a->ret, b->ret, n)) bad = "ret";
    if (bad && what) fprintf(stderr, "  %s: rollout buffers differ in %s\n", what, bad);
    return bad == NULL;
}

static void rollout_copy(rollout_buffer *to, const rollout_buffer *from) {
    size_t n = (size_t)from->steps * from->envs;
    memcpy(to->obs, from->obs, sizeof(double) * n * from->obs_size);
    memcpy(to->action, from->action, sizeof(double) * n);
    memcpy(to->logp, from->logp, sizeof(double) * n);
    memcpy(to->value, from->value, sizeof(double) * n);
    memcpy(to->reward, from->reward, sizeof(double) * n);
    memcpy(to->terminated, from->terminated, n);
    memcpy(to->truncated, from->truncated, n);
    memcpy(to->final_value, from->final_value, sizeof(double) * n);
    memcpy(to->advantage, from->advantage, sizeof(double) * n);
    memcpy(to->ret, from->ret, sizeof(double) * n);
}

static int all_finite(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* ---- an engine with its controller, buffer and log ---------------------------- */

typedef struct {
    rollout_engine eng;
    controller ctrl;
    rollout_buffer buf;
    episode_log log;
    ppo_config ppo;
    int ok;
} rig;

static int rig_open(rig *g, const lr_env_config *cfg, int envs, int concurrency) {
    memset(g, 0, sizeof *g);
    g->ppo = ppo_config_default();
    if (rollout_engine_create(&g->eng, cfg, &data, envs, 1, concurrency) != 0) {
        fprintf(stderr, "  rollout_engine_create(envs %d, concurrency %d): %s\n", envs, concurrency,
                alrs_error());
        return -1;
    }
    fresh_controller(&g->ctrl, envs, &g->ppo);
    if (rollout_buffer_init(&g->buf, g->eng.steps, envs, LR_ENV_OBS) != 0) exit(2);
    log_init(&g->log);
    g->ok = 1;
    return 0;
}

static void rig_collect(rig *g, uint64_t seed, long update) {
    g->log.n = 0;
    rollout_engine_collect(&g->eng, &g->ctrl, &g->ppo, &g->buf, seed, update, on_episode, &g->log);
}

static void rig_close(rig *g) {
    if (!g->ok) return;
    rollout_buffer_free(&g->buf);
    controller_free(&g->ctrl);
    rollout_engine_free(&g->eng);
    free(g->log.ep);
    memset(g, 0, sizeof *g);
}

/* Runs rollout_engine_create with stderr captured into err. */
static int create_capturing(rig *g, const lr_env_config *cfg, int envs, int concurrency, char *err,
                            size_t size) {
    char path[700];
    snprintf(path, sizeof path, "%s/stderr.txt", base);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w");
    if (!f || saved < 0) exit(2);
    dup2(fileno(f), 2);
    int rc = rig_open(g, cfg, envs, concurrency);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    err[0] = '\0';
    f = fopen(path, "r");
    if (f) {
        size_t got = fread(err, 1, size - 1, f);
        err[got] = '\0';
        fclose(f);
    }
    return rc;
}

/* ---- 3. episodes against the buffer, and replayed alone ----------------------- */

/* Checks one batch's reported episodes against the buffer: per environment
 * the episodes tile the T agent steps in order, with the documented ids; a
 * diverged one is complete and terminated at its last step (and followed by
 * a restart when steps remain); an undiverged complete one is the whole
 * episode, truncated at step T-1; a cut one (complete 0) is the last and was
 * neither. Counts restarts after divergence and cut episodes. */
static void check_episodes(const rig *g, long update, const char *what, int *restarts_seen,
                           int *cuts_seen) {
    const int E = g->eng.envs, T = g->eng.steps;
    int ok_order = 1, ok_tile = 1, ok_ids = 1, ok_flags = 1, ok_kinds = 1, ok_thread = 1;
    /* reported in time order: at each agent step the episodes that ended, in
     * environment order; after the last step the cut ones, in environment order */
    int next_t[64] = {0};
    long prev_key = -1;
    for (int k = 0; k < g->log.n; k++) {
        const episode_copy *ep = &g->log.ep[k];
        ok_thread &= !ep->in_parallel && ep->thread == 0;
        if (ep->env < 0 || ep->env >= E || E > 64) {
            ok_order = 0;
            continue;
        }
        next_t[ep->env] += ep->agent_steps;
        long key = ((long)(next_t[ep->env] - 1) * 2 + !ep->complete) * E + ep->env;
        ok_order &= key > prev_key;
        prev_key = key;
    }
    for (int e = 0; e < E; e++) {
        unsigned char *term = calloc((size_t)T, 1), *trunc = calloc((size_t)T, 1);
        int t0 = 0, restart = 0, n_here = 0;
        for (int k = 0; k < g->log.n; k++) {
            const episode_copy *ep = &g->log.ep[k];
            if (ep->env != e) continue;
            n_here++;
            ok_ids &= ep->episode == rollout_episode_id(update, E, e, restart);
            if (ep->agent_steps < 1 || t0 + ep->agent_steps > T) {
                ok_tile = 0;
                break;
            }
            int end = t0 + ep->agent_steps - 1;
            if (ep->complete) {
                ok_kinds &= ep->done;
                if (ep->diverged) {
                    term[end] = 1;
                    ok_kinds &= isnan(ep->final_val_loss);
                    if (end + 1 < T) ++*restarts_seen;
                } else {
                    /* a whole episode: it began at step 0 and ran all T steps */
                    trunc[end] = 1;
                    ok_kinds &= t0 == 0 && ep->agent_steps == T && ep->child_steps == 40 &&
                                isfinite(ep->final_val_loss);
                }
            } else {
                ok_kinds &= !ep->done && !ep->diverged && end == T - 1 && ep->agent_steps < T;
                ++*cuts_seen;
            }
            t0 = end + 1;
            restart++;
        }
        ok_tile &= t0 == T && n_here >= 1;
        for (int t = 0; t < T; t++) {
            ok_flags &= g->buf.terminated[(size_t)t * E + e] == term[t];
            ok_flags &= g->buf.truncated[(size_t)t * E + e] == trunc[t];
        }
        free(term);
        free(trunc);
    }
    if (!ok_tile) fprintf(stderr, "  %s: episodes do not tile the batch\n", what);
    if (!ok_ids) fprintf(stderr, "  %s: episode ids are not rollout_episode_id(u, E, e, r)\n", what);
    if (!ok_flags) fprintf(stderr, "  %s: buffer terminated/truncated flags disagree with the episodes\n", what);
    if (!ok_kinds) fprintf(stderr, "  %s: an episode's complete/diverged/done fields disagree\n", what);
    if (!ok_order) fprintf(stderr, "  %s: episodes not reported in time and environment order\n", what);
    CHECK(ok_order);
    CHECK(ok_tile);
    CHECK(ok_ids);
    CHECK(ok_flags);
    CHECK(ok_kinds);
    CHECK(ok_thread);
}

/* Replays every reported episode on one lone environment from its seed and id,
 * with the actions the buffer recorded: the rates, rewards and losses must be
 * those the engine reported (so the engine steps each environment with the
 * action it records, and seeds its episodes as documented). */
static void check_replay(const rig *g, const lr_env_config *cfg, uint64_t seed, const char *what) {
    const int E = g->eng.envs;
    lr_env solo;
    int saved_threads = omp_get_max_threads();
    omp_set_num_threads(1); /* the engine's teams have one thread each */
    if (lr_env_create(&solo, cfg, &data) != 0) {
        fprintf(stderr, "  lr_env_create: %s\n", alrs_error());
        CHECK(0);
        return;
    }
    int ok = 1, t0[64] = {0};
    for (int k = 0; k < g->log.n; k++) {
        const episode_copy *ep = &g->log.ep[k];
        double obs[LR_ENV_OBS], r;
        int term = 0, trunc = 0;
        lr_env_reset(&solo, seed, ep->episode, obs);
        for (int s = 0; s < ep->agent_steps && !term && !trunc; s++) {
            double action = g->buf.action[(size_t)(t0[ep->env] + s) * E + ep->env];
            lr_env_step(&solo, action, obs, &r, &term, &trunc);
        }
        t0[ep->env] += ep->agent_steps;
        const lr_env_episode *mine = lr_env_episode_record(&solo);
        int same = mine->seed == ep->seed && mine->agent_steps == ep->agent_steps &&
                   mine->diverged == ep->diverged && mine->done == ep->complete &&
                   !memcmp(mine->lr, ep->lr, sizeof(double) * (size_t)ep->agent_steps) &&
                   !memcmp(&mine->total_reward, &ep->total_reward, sizeof(double)) &&
                   !memcmp(&mine->initial_lr, &ep->initial_lr, sizeof(double));
        if (!same && ok)
            fprintf(stderr, "  %s: episode %d (env %d, id %ld) replays differently: return %.17g vs %.17g\n",
                    what, k, ep->env, ep->episode, mine->total_reward, ep->total_reward);
        ok &= same;
    }
    CHECK(ok);
    lr_env_free(&solo);
    omp_set_num_threads(saved_threads);
}

/* ---- 1, 2. determinism across concurrency; updates move the seeds ------------- */

static void test_concurrency(void) {
    lr_env_config cfg = small_env("adam");
    static const int conc[3] = {1, 3, 2};
    rig g[3];
    char err[4096];
    int opened = 1;
    for (int k = 0; k < 3; k++) {
        int rc = create_capturing(&g[k], &cfg, ENVS, conc[k], err, sizeof err);
        CHECK(rc == 0);
        if (rc != 0) {
            opened = 0;
            continue;
        }
        CHECK(g[k].eng.concurrency == conc[k]);
        CHECK(g[k].eng.steps == 8);
        /* more team threads than cores: one warning, threads left unbound */
        int over = conc[k] > g[k].eng.teams.n_cores;
        CHECK(g[k].eng.teams.oversubscribed == over);
        if (over) CHECK(strstr(err, "alrs: warning: ") == err && strstr(err, "unbound"));
        else CHECK(err[0] == '\0');
        if (over != (strstr(err, "warning") != NULL))
            fprintf(stderr, "  concurrency %d on %d cores: stderr said: %s\n", conc[k],
                    g[k].eng.teams.n_cores, err[0] ? err : "(nothing)\n");
    }
    if (!opened) {
        for (int k = 0; k < 3; k++) rig_close(&g[k]);
        return;
    }

    const uint64_t seed = 11;
    for (int k = 0; k < 3; k++) rig_collect(&g[k], seed, 0);
    size_t n = (size_t)g[0].buf.steps * ENVS;
    CHECK(all_finite(g[0].buf.obs, n * LR_ENV_OBS) && all_finite(g[0].buf.advantage, n) &&
          all_finite(g[0].buf.reward, n) && all_finite(g[0].buf.value, n));
    CHECK(same_buffers(&g[0].buf, &g[1].buf, "concurrency 1 vs 3"));
    CHECK(same_buffers(&g[0].buf, &g[2].buf, "concurrency 1 vs 2"));
    CHECK(same_logs(&g[0].log, &g[1].log));
    CHECK(same_logs(&g[0].log, &g[2].log));
    /* the learned statistics too */
    CHECK(!memcmp(g[0].ctrl.obs_norm.stats.mean, g[1].ctrl.obs_norm.stats.mean,
                  sizeof(double) * LR_ENV_OBS) &&
          !memcmp(g[0].ctrl.obs_norm.stats.mean, g[2].ctrl.obs_norm.stats.mean,
                  sizeof(double) * LR_ENV_OBS));
    CHECK(g[0].eng.collect_s > 0);

    /* 3 (healthy): one whole episode per environment, in environment order */
    CHECK(g[0].log.n == ENVS);
    int whole = g[0].log.n == ENVS;
    for (int k = 0; k < g[0].log.n && k < ENVS; k++) {
        const episode_copy *ep = &g[0].log.ep[k];
        whole &= ep->env == k && ep->complete == 1 && ep->agent_steps == 40 / 5 &&
                 ep->child_steps == 40 && !ep->diverged && ep->done &&
                 ep->episode == rollout_episode_id(0, ENVS, k, 0);
    }
    CHECK(whole);
    int restarts = 0, cuts = 0;
    check_episodes(&g[0], 0, "healthy batch", &restarts, &cuts);
    CHECK(restarts == 0 && cuts == 0);
    int only_last_truncated = 1;
    for (int t = 0; t < g[0].buf.steps; t++)
        for (int e = 0; e < ENVS; e++) {
            size_t i = (size_t)t * ENVS + e;
            only_last_truncated &= g[0].buf.terminated[i] == 0 &&
                                   g[0].buf.truncated[i] == (t == g[0].buf.steps - 1);
        }
    CHECK(only_last_truncated);
    check_replay(&g[0], &cfg, seed, "healthy batch");
    /* three environments, three different episodes */
    CHECK(g[0].log.n == ENVS && g[0].log.ep[0].seed != g[0].log.ep[1].seed &&
          g[0].log.ep[1].seed != g[0].log.ep[2].seed &&
          g[0].log.ep[0].total_reward != g[0].log.ep[1].total_reward);

    /* the PPO update that follows: same shuffle stream, same parameters */
    int updated = 1;
    for (int k = 0; k < 3; k++) {
        rng_stream shuffle = rng_make(seed ^ 0x5ff1e, 0);
        ppo_stats st;
        updated &= controller_update(&g[k].ctrl, &g[k].ppo, &g[k].buf, &shuffle, &st) == 0;
    }
    CHECK(updated);
    size_t bytes = sizeof(double) * g[0].ctrl.pol.n_params;
    CHECK(!memcmp(g[0].ctrl.pol.params, g[1].ctrl.pol.params, bytes));
    CHECK(!memcmp(g[0].ctrl.pol.params, g[2].ctrl.pol.params, bytes));
    CHECK(g[0].ctrl.updates == 1 && g[1].ctrl.updates == 1 && g[2].ctrl.updates == 1);

    /* the next batch, with the updated controllers: still identical */
    for (int k = 0; k < 3; k++) rig_collect(&g[k], seed, 1);
    CHECK(same_buffers(&g[0].buf, &g[1].buf, "update 1, concurrency 1 vs 3"));
    CHECK(same_buffers(&g[0].buf, &g[2].buf, "update 1, concurrency 1 vs 2"));
    CHECK(same_logs(&g[0].log, &g[1].log) && same_logs(&g[0].log, &g[2].log));

    /* 2: update 1 is another batch even under the same (fresh) controller */
    rollout_buffer first;
    CHECK(rollout_buffer_init(&first, g[0].eng.steps, ENVS, LR_ENV_OBS) == 0);
    controller_free(&g[0].ctrl);
    fresh_controller(&g[0].ctrl, ENVS, &g[0].ppo);
    rig_collect(&g[0], seed, 0);
    rollout_copy(&first, &g[0].buf);
    uint64_t seeds0[ENVS];
    for (int k = 0; k < ENVS; k++) seeds0[k] = k < g[0].log.n ? g[0].log.ep[k].seed : 0;
    controller_free(&g[0].ctrl);
    fresh_controller(&g[0].ctrl, ENVS, &g[0].ppo);
    rig_collect(&g[0], seed, 1);
    CHECK(!same_buffers(&first, &g[0].buf, NULL));
    CHECK(memcmp(first.obs + (size_t)ENVS * LR_ENV_OBS, g[0].buf.obs + (size_t)ENVS * LR_ENV_OBS,
                 sizeof(double) * ENVS * LR_ENV_OBS) != 0);
    int moved = g[0].log.n == ENVS;
    for (int k = 0; k < g[0].log.n; k++) {
        const episode_copy *ep = &g[0].log.ep[k];
        moved &= ep->episode == rollout_episode_id(1, ENVS, ep->env, 0);
        for (int j = 0; j < ENVS; j++) moved &= ep->seed != seeds0[j];
    }
    CHECK(moved);
    /* and another seed is another batch */
    controller_free(&g[0].ctrl);
    fresh_controller(&g[0].ctrl, ENVS, &g[0].ppo);
    rollout_engine_collect(&g[0].eng, &g[0].ctrl, &g[0].ppo, &g[0].buf, seed + 1, 0, NULL, NULL);
    CHECK(!same_buffers(&first, &g[0].buf, NULL));
    /* while the same seed and update give the same batch again on a reused engine */
    controller_free(&g[0].ctrl);
    fresh_controller(&g[0].ctrl, ENVS, &g[0].ppo);
    rollout_engine_collect(&g[0].eng, &g[0].ctrl, &g[0].ppo, &g[0].buf, seed, 0, NULL, NULL);
    CHECK(same_buffers(&first, &g[0].buf, "engine reused for the same batch"));
    rollout_buffer_free(&first);
    for (int k = 0; k < 3; k++) rig_close(&g[k]);
}

/* ---- 3. divergence, restarts and cut episodes ------------------------------ */

static void test_divergence(void) {
    lr_env_config cfg = mixed_env();
    rig a, b;
    if (rig_open(&a, &cfg, ENVS, 1) != 0) {
        CHECK(0);
        return;
    }
    char err[4096];
    if (create_capturing(&b, &cfg, ENVS, 2, err, sizeof err) != 0) {
        CHECK(0);
        rig_close(&a);
        return;
    }
    const uint64_t seed = 5;
    int restarts = 0, cuts = 0, diverged = 0, batches = 0, same = 1;
    for (long u = 0; u < 4 || (u < 8 && (restarts == 0 || cuts == 0)); u++, batches++) {
        rig_collect(&a, seed, u);
        rig_collect(&b, seed, u);
        char what[64];
        snprintf(what, sizeof what, "mixed batch %ld", u);
        check_episodes(&a, u, what, &restarts, &cuts);
        for (int k = 0; k < a.log.n; k++) diverged += a.log.ep[k].diverged;
        check_replay(&a, &cfg, seed, what);
        same &= same_buffers(&a.buf, &b.buf, what) && same_logs(&a.log, &b.log);
        size_t n = (size_t)a.buf.steps * ENVS;
        CHECK(all_finite(a.buf.obs, n * LR_ENV_OBS) && all_finite(a.buf.reward, n) &&
              all_finite(a.buf.advantage, n) && all_finite(a.buf.ret, n));
        rng_stream s1 = rng_make(seed ^ 0x5ff1e, (uint64_t)u), s2 = s1;
        ppo_stats st;
        CHECK(controller_update(&a.ctrl, &a.ppo, &a.buf, &s1, &st) == 0);
        CHECK(controller_update(&b.ctrl, &b.ppo, &b.buf, &s2, &st) == 0);
    }
    if (restarts == 0 || cuts == 0 || getenv("ALRS_TEST_VERBOSE"))
        fprintf(stderr, "  %d mixed batches: %d diverged episodes, %d restarts, %d cut episodes\n",
                batches, diverged, restarts, cuts);
    CHECK(diverged > 0);
    CHECK(restarts > 0);
    CHECK(cuts > 0);
    CHECK(same);
    CHECK(!memcmp(a.ctrl.pol.params, b.ctrl.pol.params, sizeof(double) * a.ctrl.pol.n_params));
    rig_close(&a);
    rig_close(&b);

    /* Every episode diverges at its first agent step (Adam's first training
     * loss, about ln 10, is above a bound of 2): T complete, diverged episodes
     * per environment, terminated at every step, none cut. */
    cfg = small_env("adam");
    cfg.diverge_loss = 2.0;
    if (rig_open(&a, &cfg, 2, 1) != 0) {
        CHECK(0);
        return;
    }
    rig_collect(&a, seed, 0);
    restarts = cuts = 0;
    check_episodes(&a, 0, "always diverging", &restarts, &cuts);
    CHECK(a.log.n == 2 * a.eng.steps);
    CHECK(restarts == 2 * (a.eng.steps - 1) && cuts == 0);
    int all_term = 1;
    for (size_t i = 0; i < (size_t)a.eng.steps * 2; i++)
        all_term &= a.buf.terminated[i] == 1 && a.buf.truncated[i] == 0;
    CHECK(all_term);
    int all_one = 1;
    for (int k = 0; k < a.log.n; k++)
        all_one &= a.log.ep[k].agent_steps == 1 && a.log.ep[k].diverged && a.log.ep[k].complete;
    CHECK(all_one);
    /* every step terminated: each advantage is its own one-step TD error */
    int td = 1;
    for (size_t i = 0; i < (size_t)a.eng.steps * 2; i++)
        td &= fabs(a.buf.advantage[i] - (a.buf.reward[i] - a.buf.value[i])) <= 1e-12;
    CHECK(td);
    rig_close(&a);
}

/* ---- 4. episode ids ---------------------------------------------------------- */

/* Ids of (update, env, restart) over a grid, sorted: all distinct? */
static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int ids_distinct(long updates, int envs, int restarts) {
    size_t n = (size_t)updates * envs * restarts, k = 0;
    long *ids = malloc(n * sizeof(long));
    for (long u = 0; u < updates; u++)
        for (int e = 0; e < envs; e++)
            for (int r = 0; r < restarts; r++) ids[k++] = rollout_episode_id(u, envs, e, r);
    qsort(ids, n, sizeof(long), cmp_long);
    int ok = 1;
    for (size_t i = 1; i < n; i++) ok &= ids[i] != ids[i - 1];
    free(ids);
    return ok;
}

static void test_episode_ids(void) {
    CHECK(ids_distinct(6, 1, 8));
    CHECK(ids_distinct(6, 3, 8));
    CHECK(ids_distinct(4, 7, 100));
    CHECK(rollout_episode_id(0, 3, 0, 0) != rollout_episode_id(1, 3, 0, 0));
    CHECK(rollout_episode_id(0, 3, 1, 0) != rollout_episode_id(0, 3, 0, 1));
    CHECK(rollout_episode_id(0, 3, 0, 0) >= 0);

    /* A batch has as many agent steps as an episode, and an environment may
     * restart after each: with --steps 300 --action-every 1 an environment can
     * begin 300 episodes in one batch, so restarts up to 299 are reachable and
     * must not collide with another environment's or update's ids. */
    int wide = ids_distinct(3, 2, 300);
    if (!wide)
        fprintf(stderr, "  rollout_episode_id(0, 2, 0, 256) = %ld = rollout_episode_id(0, 2, 1, 0) "
                        "= %ld: restarts past 255 reuse other episodes' seeds\n",
                rollout_episode_id(0, 2, 0, 256), rollout_episode_id(0, 2, 1, 0));
    CHECK(wide);

    /* ... and the engine reaches them: 300 agent steps, every episode diverging
     * at its first (a bound of 2 on Adam's first loss). All ids in one batch
     * must differ, and so must the episodes' seeds. */
    lr_env_config cfg = small_env("adam");
    cfg.steps = 300;
    cfg.action_every = 1;
    cfg.diverge_loss = 2.0;
    rig a;
    if (rig_open(&a, &cfg, 2, 1) != 0) {
        CHECK(0);
        return;
    }
    rig_collect(&a, 3, 0);
    CHECK(a.log.n == 600);
    long *ids = malloc(sizeof(long) * (size_t)a.log.n);
    uint64_t *seeds = malloc(sizeof(uint64_t) * (size_t)a.log.n);
    for (int k = 0; k < a.log.n; k++) ids[k] = a.log.ep[k].episode;
    qsort(ids, (size_t)a.log.n, sizeof(long), cmp_long);
    int distinct = 1, dups = 0;
    for (int k = 1; k < a.log.n; k++) {
        distinct &= ids[k] != ids[k - 1];
        dups += ids[k] == ids[k - 1];
    }
    for (int k = 0; k < a.log.n; k++) seeds[k] = a.log.ep[k].seed;
    int seeds_distinct = 1;
    for (int k = 0; k < a.log.n; k++)
        for (int j = k + 1; j < a.log.n; j++) seeds_distinct &= seeds[k] != seeds[j];
    if (!distinct)
        fprintf(stderr, "  one batch of 2 envs x 300 agent steps, all diverging: %d episode ids "
                        "repeat (identical episodes)\n", dups);
    CHECK(distinct);
    CHECK(seeds_distinct);
    free(ids);
    free(seeds);
    rig_close(&a);
}

/* Seed groups with group advantages, through the engine: the members of a
 * pair train the same child (the same first observation, which the other
 * pair's child does not share), every step finds its peer, and with pairs
 * each member's advantage is the other's negated (G_e - G_f against
 * G_f - G_e). */
static void test_group_advantages(void) {
    lr_env_config cfg = small_env("adam");
    rig a;
    if (rig_open(&a, &cfg, 4, 2) != 0) {
        CHECK(0);
        return;
    }
    a.eng.seed_group = 2;
    a.ppo.advantage = PPO_ADVANTAGE_GROUP;
    rig_collect(&a, 5, 0);
    const rollout_buffer *b = &a.buf;
    size_t D = (size_t)b->obs_size;
    CHECK(same_doubles(b->obs, b->obs + D, D) && same_doubles(b->obs + 2 * D, b->obs + 3 * D, D));
    CHECK(!same_doubles(b->obs, b->obs + 2 * D, D));
    int antisymmetric = 1, nonzero = 0, placed = 1;
    for (int t = 0; t < b->steps; t++)
        for (int e = 0; e < 4; e += 2) {
            size_t i = (size_t)t * 4 + (size_t)e;
            antisymmetric &= b->advantage[i] == -b->advantage[i + 1];
            /* one episode fills the batch: its places are the steps, its id the pair's */
            placed &= b->episode_step[i] == t && b->episode_step[i + 1] == t &&
                      b->episode[i] == b->episode[i + 1] && b->episode[i] != b->episode[i ^ 2];
            nonzero += b->advantage[i] != 0; /* the members' actions differed */
        }
    CHECK(antisymmetric && nonzero > 0);
    CHECK(placed);
    CHECK(rollout_buffer_group_advantages(&a.buf, 2, a.eng.value, a.ppo.gamma) ==
          (long)b->steps * 4);
    rig_close(&a);
}

/* ---- the cores a later engine sees ---------------------------------------------- */

/* An engine binds its team threads, the calling thread among them (it is team
 * 0 of the OpenMP region). teams_init reads "the cores this process may use"
 * from the process's binding, so once the engine is gone a new engine in the
 * same process (alrs bench rollout builds one per layout) must still see every
 * core. Run first, before any other OpenMP team exists. */
static void test_cores_after_engine(void) {
    lr_env_config cfg = small_env("adam");
    rig a, b;
    char err[4096];
    if (create_capturing(&a, &cfg, 1, 1, err, sizeof err) != 0) {
        CHECK(0);
        return;
    }
    int cores = a.eng.teams.n_cores;
    rig_collect(&a, 1, 0);
    rig_close(&a);
    if (create_capturing(&b, &cfg, 2, 0, err, sizeof err) != 0) {
        CHECK(0);
        return;
    }
    if (b.eng.teams.n_cores != cores)
        fprintf(stderr, "  an engine after a 1-environment engine sees %d cores, the first saw %d%s%s",
                b.eng.teams.n_cores, cores, err[0] ? "; it said: " : "\n", err);
    CHECK(b.eng.teams.n_cores == cores);
    CHECK(b.eng.concurrency == (cores >= 2 ? 2 : 1));
    CHECK(err[0] == '\0');
    rig_close(&b);
}

/* ---- the dist layer without MPI started ------------------------------------------ */

/* A test program never calls dist_init: even in an MPI build it is a job of
 * one rank, and the engine runs all environments itself. */
static void test_dist_single(void) {
    CHECK(dist_rank() == 0 && dist_size() == 1);
    CHECK(dist_agree(0) == 0);
    alrs_fail("kept");
    CHECK(dist_agree(-1) == -1 && !strcmp(alrs_error(), "kept"));
    double x[3] = {1, 2, 3}, y[3] = {0};
    dist_bcast(x, sizeof x, 0);
    CHECK(x[0] == 1 && x[2] == 3);
    dist_allgather(x, sizeof x, y);
    CHECK(!memcmp(x, y, sizeof x));
    size_t counts[1] = {2 * sizeof(double)};
    memset(y, 0, sizeof y);
    dist_allgatherv(x, counts[0], y, counts);
    CHECK(y[0] == 1 && y[1] == 2 && y[2] == 0);
    dist_allgatherv(NULL, counts[0], y, counts); /* in place: unchanged */
    CHECK(y[0] == 1 && y[1] == 2);
    dist_barrier();
    CHECK(strlen(dist_library()) > 0);

    /* shares: contiguous, in rank order, covering n, sizes within one */
    int ok = 1;
    for (long n = 0; n <= 13; n++)
        for (int size = 1; size <= 5; size++) {
            long next = 0, lo = n, hi = 0;
            for (int r = 0; r < size; r++) {
                long first, count;
                dist_share(n, r, size, &first, &count);
                ok &= first == next && count >= 0;
                next = first + count;
                lo = count < lo ? count : lo;
                hi = count > hi ? count : hi;
            }
            ok &= next == n && hi - lo <= 1;
        }
    CHECK(ok);
    long first, count;
    dist_share(3, 0, 2, &first, &count);
    CHECK(first == 0 && count == 2);
    dist_share(3, 1, 2, &first, &count);
    CHECK(first == 2 && count == 1);

    /* the engine: one rank holding every environment, and its placement line */
    lr_env_config cfg = small_env("adam");
    rig a;
    if (rig_open(&a, &cfg, 2, 1) != 0) {
        CHECK(0);
        return;
    }
    CHECK(a.eng.rank == 0 && a.eng.ranks == 1 && a.eng.first == 0 && a.eng.local == 2);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    rollout_engine_placement(&a.eng, m, "# ");
    fclose(m);
    CHECK(text && !strncmp(text, "# rank 0 on ", 12) && strstr(text, ": environments 0-1 on ") &&
          strstr(text, "1 team x 1 thread"));
    if (text && !strstr(text, "environments 0-1")) fprintf(stderr, "  placement: %s", text);
    free(text);
    rig_close(&a);
}

/* ---- bad configurations ----------------------------------------------------------- */

static void test_bad_config(void) {
    lr_env_config cfg = small_env("adam");
    rollout_engine r;
    CHECK(rollout_engine_create(&r, &cfg, &data, 0, 1, 0) == -1);
    CHECK(strstr(alrs_error(), "--envs") != NULL);
    CHECK(rollout_engine_create(&r, &cfg, &data, 2, 0, 0) == -1);
    CHECK(strstr(alrs_error(), "--threads-per-env") != NULL);
    /* a child that cannot be built: the message of the environment comes back */
    lr_env_config bad = cfg;
    bad.child.model = "vgg";
    CHECK(rollout_engine_create(&r, &bad, &data, 2, 1, 1) == -1);
    CHECK(strstr(alrs_error(), "vgg") != NULL);
    /* concurrency above the environments is capped; 0 picks from the cores */
    rig g;
    char err[4096];
    if (create_capturing(&g, &cfg, 2, 5, err, sizeof err) == 0) {
        CHECK(g.eng.concurrency == 2);
        rig_close(&g);
    } else CHECK(0);
    if (rig_open(&g, &cfg, 2, 0) == 0) {
        CHECK(g.eng.concurrency >= 1 && g.eng.concurrency <= 2);
        rig_close(&g);
    } else CHECK(0);
}

int main(void) {
    snprintf(base, sizeof base, "%s", test_tmpdir("rollouts"));
    char dir[700];
    snprintf(dir, sizeof dir, "%s/idx", base);
    mkdir(dir, 0777);
    test_write_idx_set(dir, "", 600, 28, 28, 0, 1);
    if (dataset_load(&data, "fashion-mnist", dir, 100, 0) != 0) {
        fprintf(stderr, "dataset_load: %s\n", alrs_error());
        return 2;
    }

    test_cores_after_engine();
    test_bad_config();
    test_dist_single();
    test_concurrency();
    test_divergence();
    test_episode_ids();
    test_group_advantages();

    dataset_free(&data);
    /* the directories test_tmpdir made: alrs-test-NAME-PID */
    char cmd[1200];
    const char *tmp = getenv("TMPDIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/alrs-test-*-%ld", tmp ? tmp : "/tmp", (long)getpid());
    test_run(cmd, NULL, 0);
    return test_finish();
}
