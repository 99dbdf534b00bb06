/* The public library (include/alrs/alrs.h), through its own header only:
 *   1. parity: a session fed the losses, probabilities and weights of a child
 *      run chooses, step by step, the rates `alrs train --schedule
 *      controller:PATH` printed for the same run (plain and residual
 *      controllers, mode and sampled actions); its state saved midway and
 *      restored into a fresh session goes on identically. The observations
 *      are written to a file that tests/python/test_alrs.py feeds through the
 *      Python scheduler (`test_api record DIR` writes them and stops);
 *   2. the environment: a random agent's rates and losses equal `alrs train
 *      --schedule replay:` of those rates, a scripted agent that keeps a
 *      residual cosine base equals `alrs train --schedule cosine`;
 *   3. bad input returns an error code and a message, and never aborts:
 *      corrupt and missing controllers, NULLs, wrong sizes, NaN losses, calls
 *      out of order, bad flags, invalid actions, probabilities that are not
 *      softmax rows, NaN weights, steps off the controller's interval, an
 *      initial rate outside its bounds, another controller's session state.
 * `test_api case NAME CONTROLLER [OTHER]` makes one bad call and prints
 * "alrs: " and the library's message: docs/ERRORS.md's library cases
 * (E170-E176, E211-E213) run it as `alrs-api`. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alrs/alrs.h"
#include "settings/run_flags.h"
#include "data/dataset.h"
#include "child/child.h"
#include "env/features.h"
#include "testutil.h"

#define NET "--model mlp --hidden 32,16 --val-split 100 --val-size 60 --batch 32 " \
            "--steps 40 --backend native"
#define CHILD NET " --threads 1"
enum { STEPS = 40, EVERY = 5, SEED = 5, VAL = 60, CLASSES = 10 };

static char dir[600], data_dir[700];
static dataset data;

/* The child run that `alrs train CHILD --seed SEED` makes (the same flags
 * through the same parser). */
static void make_child(child_run *r) {
    char text[] = CHILD, *words[32];
    int n = 0;
    for (char *w = strtok(text, " "); w && n < 32; w = strtok(NULL, " ")) words[n++] = w;
    args a;
    run_flags f;
    if (args_parse(&a, n, words) != 0 || run_flags_parse(&a, &f, RUN_FLAGS_ALL) != 0) exit(2);
    f.val_size = VAL;
    child_config cc = run_flags_child(&f);
    cc.seed = SEED;
    if (child_run_create(r, &cc, &data) != 0) {
        fprintf(stderr, "child: %s\n", alrs_last_error());
        exit(2);
    }
}

/* The output layer's weights and the validation probabilities, after a validation. */
static void observe_child(child_run *r, alrs_observation *o, float *probs, double train_loss) {
    double acc;
    child_run_validate_probs(r, &o->val_loss, &acc, probs);
    const nn_layer *out = &r->spec.layers[r->spec.n_layers - 1];
    o->step = r->step;
    o->train_loss = train_loss;
    o->probs = probs;
    o->n_probs = VAL * CLASSES;
    o->out_weights = r->params + out->w_off;
    o->n_out_weights = out->w_len;
}

/* One observation as a line of the recording: step, train loss, val loss,
 * the probabilities and the weights (9 significant digits: floats round-trip). */
static void record_line(FILE *f, const alrs_observation *o) {
    fprintf(f, "%ld %.17g %.17g %zu", o->step, o->train_loss, o->val_loss, o->n_probs);
    for (size_t k = 0; k < o->n_probs; k++) fprintf(f, " %.9g", (double)o->probs[k]);
    fprintf(f, " %zu", o->n_out_weights);
    for (size_t k = 0; k < o->n_out_weights; k++) fprintf(f, " %.9g", (double)o->out_weights[k]);
    fprintf(f, "\n");
}

/* What the child did between two observations, measured here as a caller of
 * the library would (not with alrs's own feature code). */
typedef struct {
    double losses[EVERY], norms[EVERY];
    float *last; /* the parameters at the last observation */
    alrs_run_stats stats;
} run_meter;

static double l2(const float *x, size_t n) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    return sqrt(ss);
}

static void meter_step(run_meter *m, const child_run *r, double loss) {
    m->losses[m->stats.n_steps] = loss;
    m->norms[m->stats.n_steps++] = l2(r->grads, r->spec.n_params);
}

/* The statistics since the last observation; then starts the next interval. */
static const alrs_run_stats *meter_read(run_meter *m, const child_run *r) {
    size_t n = r->spec.n_params;
    double moved = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)r->params[i] - m->last[i];
        moved += d * d;
    }
    double size = l2(m->last, n);
    m->stats.update_ratio = size > 0 ? sqrt(moved) / size : 0.0;
    m->stats.batch_losses = m->losses, m->stats.grad_norms = m->norms;
    memcpy(m->last, r->params, sizeof(float) * n);
    return &m->stats;
}

/* The env-only controller's feature groups (setup's learn_controller). */
#define RUN_FEATURES (LR_FEAT_RELATIVE | LR_FEAT_UPDATE_RATIO | LR_FEAT_GRAD_NORM | LR_FEAT_LOSS_SPREAD)
static int features_checked, features_wrong;

static double feature(const double *obs, const char *name) {
    for (int k = 0; k < lr_env_obs_size(RUN_FEATURES); k++)
        if (!strcmp(lr_env_feature_name(RUN_FEATURES, k), name)) return obs[k];
    return NAN;
}

static void expect_feature(const double *obs, const char *name, double want) {
    double got = feature(obs, name);
    features_checked++;
    if (!(fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want)))) {
        fprintf(stderr, "  feature %s: session %.17g, measured %.17g\n", name, got, want);
        features_wrong++;
    }
}

/* The session's run features against their definitions (docs/API.md), from
 * what the meter measured: log update ratio, log of the mean gradient norm
 * against the first interval's, std / mean of the batch losses. */
static void check_run_features(const alrs_session *s, const run_meter *m, double *log_grad0) {
    double obs[LR_ENV_MAX_OBS], sum = 0.0, mean, ss = 0.0;
    int n = (int)m->stats.n_steps;
    if (alrs_session_features(s, obs, (size_t)lr_env_obs_size(RUN_FEATURES)) != ALRS_OK) {
        features_wrong++;
        return;
    }
    for (int k = 0; k < n; k++) sum += m->norms[k];
    double log_grad = log(sum / n);
    if (isnan(*log_grad0)) *log_grad0 = log_grad;
    expect_feature(obs, "log_grad_norm_rel", log_grad - *log_grad0);
    expect_feature(obs, "log_update_ratio", log(fmax(m->stats.update_ratio, LR_ENV_LOG_EPS)));
    sum = 0.0;
    for (int k = 0; k < n; k++) sum += m->losses[k];
    mean = sum / n;
    for (int k = 0; k < n; k++) ss += (m->losses[k] - mean) * (m->losses[k] - mean);
    expect_feature(obs, "loss_spread", sqrt(ss / n) / fabs(mean));
}

/* Drives the child with a session; rates[s] is step s's rate. When `record`
 * is set, the observations go there. A session saved after `save_at`
 * observations (0: never) is restored into a fresh one that takes over. */
static int drive(alrs_controller *c, const char *policy, double lr0, double *rates, FILE *record,
                 int save_at) {
    alrs_session_config cfg = {lr0, STEPS, VAL * CLASSES, policy, SEED};
    alrs_session *s;
    if (alrs_session_create(c, &cfg, &s) != ALRS_OK) {
        fprintf(stderr, "  drive: %s\n", alrs_last_error());
        return -1;
    }
    child_run r;
    make_child(&r);
    run_meter m = {.last = malloc(sizeof(float) * r.spec.n_params)};
    memcpy(m.last, r.params, sizeof(float) * r.spec.n_params);
    float probs[VAL * CLASSES];
    alrs_observation o;
    observe_child(&r, &o, probs, 0.0);
    int rc = alrs_session_observe(s, &o) == ALRS_OK ? 0 : -1, seen = 1;
    int measure = alrs_controller_run_stats(c) != 0;
    double log_grad0 = NAN;
    if (record) record_line(record, &o);
    double sum = 0;
    for (long step = 0; step < STEPS && rc == 0; step++) {
        if (alrs_session_rate(s, step, &rates[step]) != ALRS_OK) rc = -1;
        double loss = child_run_step(&r, rates[step]);
        sum += loss;
        meter_step(&m, &r, loss);
        if ((step + 1) % EVERY && step + 1 != STEPS) continue;
        observe_child(&r, &o, probs, sum / EVERY);
        sum = 0;
        const alrs_run_stats *run = meter_read(&m, &r);
        if (alrs_session_observe_run(s, &o, measure ? run : NULL) != ALRS_OK) rc = -1;
        else if (measure) check_run_features(s, &m, &log_grad0);
        m.stats.n_steps = 0;
        if (record) record_line(record, &o);
        if (++seen == save_at) { /* hand over to a fresh session */
            size_t n = alrs_session_state_size(s);
            void *state = malloc(n);
            alrs_session *t;
            if (alrs_session_save(s, state, n) != ALRS_OK ||
                alrs_session_create(c, &cfg, &t) != ALRS_OK ||
                alrs_session_restore(t, state, n) != ALRS_OK)
                rc = -1;
            else {
                alrs_session_free(s);
                s = t;
            }
            free(state);
        }
    }
    child_run_free(&r);
    free(m.last);
    alrs_session_free(s);
    if (rc != 0) fprintf(stderr, "  drive: %s\n", alrs_last_error());
    return rc;
}

/* trace.csv's lr (the last step of each validation interval, %.9g) against
 * the session's rates printed the same way; its validation losses against
 * a second reading of the same run. */
static int same_rates_as_trace(const char *trace_path, const double *rates) {
    static csv t;
    if (csv_read(&t, trace_path) != 0 || t.n_rows != STEPS / EVERY) return 0;
    int same = 1;
    for (int r = 0; r < t.n_rows; r++) {
        long step = (long)csv_num(&t, r, "step");
        char mine[32];
        snprintf(mine, sizeof mine, "%.9g", rates[step - 1]);
        if (strcmp(mine, csv_str(&t, r, "lr"))) {
            fprintf(stderr, "  step %ld: trace lr %s, session %s\n", step, csv_str(&t, r, "lr"),
                    mine);
            same = 0;
        }
    }
    return same;
}

static void learn_controller(const char *name, const char *extra) {
    char err[TEST_ERR_LEN];
    int rc = test_alrs(err, NULL, "learn " NET " --data-dir '%s' --action-every %d --episodes 4 "
                                  "--envs 2 %s --out '%s/%s'", data_dir, EVERY, extra, dir, name);
    if (rc != 0) {
        fprintf(stderr, "learn %s: %s", name, err);
        exit(2);
    }
}

/* Parity of a session with alrs train, for one controller and policy. */
static void test_parity(const char *name, const char *policy, FILE *record) {
    char err[TEST_ERR_LEN], path[900], out[900];
    snprintf(path, sizeof path, "%s/%s/controller.bin", dir, name);
    snprintf(out, sizeof out, "%s/train-%s-%s", dir, name, policy);
    CHECK(test_alrs(err, NULL, "train " CHILD " --data-dir '%s' --eval-every %d --seed %d --lr 1e-2 "
                               "--schedule 'controller:%s' --policy %s --out '%s'",
                    data_dir, EVERY, SEED, path, policy, out) == 0);
    alrs_controller *c;
    CHECK(alrs_controller_open(path, &c) == ALRS_OK);
    double rates[STEPS], again[STEPS];
    CHECK(drive(c, policy, 1e-2, rates, record, 0) == 0);
    int same = same_rates_as_trace(test_path(out, "trace.csv"), rates);
    if (!same) fprintf(stderr, "  controller %s, --policy %s: rates differ\n", name, policy);
    CHECK(same);
    CHECK(drive(c, policy, 1e-2, again, NULL, 4) == 0); /* saved and restored midway */
    CHECK(memcmp(rates, again, sizeof rates) == 0);
    alrs_controller_close(c);
}

static void test_describe(void) {
    char path[900];
    snprintf(path, sizeof path, "%s/residual/controller.bin", dir);
    alrs_controller *c;
    alrs_controller_info info;
    CHECK(alrs_controller_open(path, &c) == ALRS_OK);
    CHECK(alrs_controller_describe(c, &info) == ALRS_OK);
    CHECK(info.format_version == 3 && info.n_features == 11 && info.n_actions == 5);
    CHECK(!strcmp(info.features, "paper,progress,offset,slope") &&
          !strcmp(info.action_kind, "discrete") && !strcmp(info.base, "warmup-cosine"));
    CHECK(info.factors[4] == 2.0 && info.action_every == EVERY && info.steps == STEPS &&
          info.updates == 2 && info.residual_range == 4);
    /* what it learned on: the flags of learn_controller (NET, the default rates) */
    alrs_controller_origin o;
    CHECK(alrs_controller_learned_on(c, &o) == ALRS_OK);
    CHECK(!strcmp(o.model, "mlp --hidden 32,16") && !strcmp(o.optimizer, "adam") &&
          !strcmp(o.dataset, "fashion-mnist") && o.classes == CLASSES && o.val_size == VAL);
    CHECK(o.n_rates == 3 && o.rates[0] == 1e-2 && o.rates[2] == 1e-4);
    /* the default rate: the geometric centre of the three */
    CHECK(!strcmp(o.tasks, "") && o.default_lr == 1e-3);
    alrs_controller_close(c);
    /* the committed paper-design LeNet-5 controller: version 1 */
    CHECK(alrs_controller_open(ALRS_SOURCE_DIR "/results/paper-design-lenet5-controller/"
                               "controller.bin", &c) == ALRS_OK);
    CHECK(alrs_controller_describe(c, &info) == ALRS_OK);
    CHECK(info.format_version == 1 && info.n_features == 7 && info.n_actions == 3 &&
          info.factors[0] == 1.05 && !strcmp(info.base, ""));
    CHECK(alrs_controller_learned_on(c, &o) == ALRS_OK && !o.model[0] && o.n_rates == 0);
    alrs_controller_close(c);
    CHECK(strstr(alrs_version(), "1.2.1 (git ") == alrs_version());
}

/* ---- the environment -------------------------------------------------------- */

static int write_replay(const char *path, const double *lr, int n) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "step,lr\n");
    for (int t = 0; t < n; t++) fprintf(f, "%d,%.17g\n", (t + 1) * EVERY, lr[t]);
    return fclose(f);
}

/* Runs an agent; lr and val of each agent step. keep >= 0: always that
 * action; else random discrete actions from a fixed generator. */
static int run_agent(alrs_env *e, int keep, double *lr, double *val) {
    double obs[16], reward;
    int term = 0, trunc = 0, t = 0;
    alrs_env_info info;
    if (alrs_env_describe(e, &info) != ALRS_OK || info.obs_size > 16) return -1;
    if (alrs_env_reset(e, SEED, obs, (size_t)info.obs_size) != ALRS_OK) return -1;
    unsigned x = 12345;
    while (!term && !trunc) {
        x = x * 1103515245u + 12345u;
        double action = keep >= 0 ? keep : (double)((x >> 16) % (unsigned)info.n_actions);
        if (alrs_env_step(e, action, obs, (size_t)info.obs_size, &reward, &term, &trunc) != ALRS_OK)
            return -1;
        alrs_env_state st;
        alrs_env_state_get(e, &st);
        lr[t] = st.lr, val[t] = st.val_loss;
        t++;
    }
    return t;
}

static int same_as_train(const char *schedule, const char *out, const double *lr,
                         const double *val, int n) {
    char err[TEST_ERR_LEN];
    if (test_alrs(err, NULL, "train " CHILD " --data-dir '%s' --eval-every %d --seed %d --lr 1e-2 "
                             "--schedule '%s' --out '%s'", data_dir, EVERY, SEED, schedule, out)) {
        fprintf(stderr, "  train %s: %s", schedule, err);
        return 0;
    }
    static csv t;
    if (csv_read(&t, test_path(out, "trace.csv")) != 0 || t.n_rows != n) return 0;
    int same = 1;
    for (int r = 0; r < n; r++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%.9g", lr[r]);
        snprintf(b, sizeof b, "%.6f", val[r]);
        same &= !strcmp(a, csv_str(&t, r, "lr")) && !strcmp(b, csv_str(&t, r, "val_loss"));
    }
    return same;
}

static void test_env(void) {
    char flags[2000], path[900];
    double lr[64], val[64];
    /* a random agent over five factors, replayed by alrs train */
    snprintf(flags, sizeof flags, CHILD " --data-dir '%s' --lr 1e-2 --action-every %d "
             "--features all --factors 0.5,0.8,1,1.25,2 --reward log-delta", data_dir, EVERY);
    alrs_env *e;
    CHECK(alrs_env_create(flags, &e) == ALRS_OK);
    alrs_env_info info;
    CHECK(alrs_env_describe(e, &info) == ALRS_OK);
    CHECK(info.obs_size == 11 && info.n_actions == 5 && info.max_steps == STEPS / EVERY);
    CHECK(!strcmp(alrs_env_feature_name(e, 7), "progress") && !alrs_env_feature_name(e, 11));
    int n = run_agent(e, -1, lr, val);
    CHECK(n == STEPS / EVERY);
    snprintf(path, sizeof path, "%s/random-rates.csv", dir);
    CHECK(write_replay(path, lr, n) == 0);
    char spec[1000];
    snprintf(spec, sizeof spec, "replay:%s", path);
    CHECK(same_as_train(spec, test_path(dir, "train-replay"), lr, val, n));
    double loss, acc;
    CHECK(alrs_env_test(e, &loss, &acc) == ALRS_OK && loss > 0 && acc > 0);
    alrs_env_free(e);

    /* a scripted agent that keeps a residual cosine base: cosine itself */
    snprintf(flags, sizeof flags, CHILD " --data-dir '%s' --lr 1e-2 --action-every %d --base cosine",
             data_dir, EVERY);
    CHECK(alrs_env_create(flags, &e) == ALRS_OK);
    n = run_agent(e, 2 /* keep among x1.05, /1.05, keep */, lr, val);
    CHECK(n == STEPS / EVERY && same_as_train("cosine", test_path(dir, "train-cosine"), lr, val, n));
    alrs_env_free(e);

    /* the flags' variant of the training split is the environment's: noisy
     * labels train another child, the same rates validate differently */
    double noisy_lr[64], noisy_val[64];
    snprintf(flags, sizeof flags, CHILD " --data-dir '%s' --lr 1e-2 --action-every %d --base cosine "
             "--label-noise 0.5", data_dir, EVERY);
    CHECK(alrs_env_create(flags, &e) == ALRS_OK);
    CHECK(run_agent(e, 2, noisy_lr, noisy_val) == n);
    CHECK(noisy_lr[0] == lr[0] && noisy_val[n - 1] != val[n - 1]);
    alrs_env_free(e);
}

/* ---- bad input ------------------------------------------------------------------ */

static void expect(alrs_status got, alrs_status want, const char *needle, int line) {
    int ok = got == want && strstr(alrs_last_error(), needle) && !strchr(alrs_last_error(), '\n');
    if (!ok)
        fprintf(stderr, "FAIL line %d: status %d (%s), wanted %d with '%s': %s\n", line, got,
                alrs_status_name(got), want, needle, alrs_last_error());
    CHECK(ok);
}
#define EXPECT(call, status, needle) expect(call, status, needle, __LINE__)

/* A state saved from a session of another controller with the same
 * interface (features, sizes, run length) is refused: the residual one. */
static void expect_other_controller_refused(alrs_session *s, const alrs_controller *c) {
    char path[900];
    snprintf(path, sizeof path, "%s/residual/controller.bin", dir);
    alrs_controller *other;
    alrs_session *theirs;
    alrs_session_config cfg = {1e-2, STEPS, VAL * CLASSES, NULL, 1};
    CHECK(alrs_controller_open(path, &other) == ALRS_OK);
    CHECK(alrs_session_create(other, &cfg, &theirs) == ALRS_OK);
    size_t n = alrs_session_state_size(theirs);
    CHECK(n == alrs_session_state_size(s));
    void *buf = malloc(n);
    CHECK(alrs_session_save(theirs, buf, n) == ALRS_OK);
    EXPECT(alrs_session_restore(s, buf, n), ALRS_E_ARGUMENT, "the state is of another controller");
    CHECK(alrs_session_save(s, buf, n) == ALRS_OK && alrs_session_restore(s, buf, n) == ALRS_OK);
    (void)c;
    free(buf);
    alrs_session_free(theirs);
    alrs_controller_close(other);
}

static void test_bad_input(void) {
    char path[900], bad[900];
    snprintf(path, sizeof path, "%s/plain/controller.bin", dir);
    snprintf(bad, sizeof bad, "%s/corrupt.bin", dir);
    test_copy_file(path, bad);
    test_poke_byte(bad, 200, 0x5a);
    alrs_controller *c = (alrs_controller *)1;
    EXPECT(alrs_controller_open(bad, &c), ALRS_E_FILE, "checksum mismatch");
    CHECK(c == NULL);
    EXPECT(alrs_controller_open("/nonexistent/c.bin", &c), ALRS_E_FILE, "/nonexistent/c.bin");
    EXPECT(alrs_controller_open(NULL, &c), ALRS_E_ARGUMENT, "NULL");
    CHECK(alrs_controller_open(path, &c) == ALRS_OK);
    alrs_session *s;
    alrs_session_config cfg = {1e-2, STEPS, VAL * CLASSES, NULL, 1};
    alrs_session_config no_rate = cfg, no_probs = cfg, bad_policy = cfg;
    no_rate.initial_lr = NAN, no_probs.n_probs = 0, bad_policy.policy = "greedy";
    EXPECT(alrs_session_create(c, &no_rate, &s), ALRS_E_ARGUMENT, "initial_lr");
    EXPECT(alrs_session_create(c, &no_probs, &s), ALRS_E_ARGUMENT, "n_probs");
    EXPECT(alrs_session_create(c, &bad_policy, &s), ALRS_E_ARGUMENT, "--policy greedy");
    alrs_session_config too_high = cfg;
    too_high.initial_lr = 5;
    EXPECT(alrs_session_create(c, &too_high, &s), ALRS_E_ARGUMENT,
           "initial_lr 5 is outside the controller's bounds [1e-06, 1]");
    CHECK(alrs_session_create(c, &cfg, &s) == ALRS_OK);
    double lr, feats[11];
    EXPECT(alrs_session_rate(s, 0, &lr), ALRS_E_ORDER, "no observation yet");
    EXPECT(alrs_session_features(s, feats, 11), ALRS_E_ORDER, "no observation yet");
    float probs[VAL * CLASSES], w[4] = {0.1f, -0.2f, 0.3f, 0.05f};
    for (int k = 0; k < VAL * CLASSES; k++) probs[k] = 0.1f;
    alrs_observation o = {3, 2.0, 2.3, probs, VAL * CLASSES, w, 4};
    EXPECT(alrs_session_observe(s, &o), ALRS_E_ORDER, "first observation is at step 0");
    o.step = 0, o.n_probs = 7;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_ARGUMENT, "7 probabilities");
    o.n_probs = VAL * CLASSES, o.val_loss = NAN;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_VALUE, "loss not finite");
    o.val_loss = 2.3, probs[17] = INFINITY;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_VALUE, "probability 17");
    probs[17] = -0.01f;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_VALUE, "probability 17 is -0.01, outside [0, 1]");
    probs[17] = 2.5f;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_VALUE, "probability 17 is 2.5, outside [0, 1]");
    probs[17] = 0.4f;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_VALUE, "row 1 of the probabilities (10 classes) "
                                                      "sums to 1.3");
    probs[17] = 0.1f, w[2] = NAN;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_VALUE, "output-layer weight 2 is nan");
    w[2] = 0.3f, o.out_weights = NULL;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_ARGUMENT, "out_weights");
    o.out_weights = w;
    CHECK(alrs_session_observe(s, &o) == ALRS_OK);
    EXPECT(alrs_session_features(s, feats, 5), ALRS_E_ARGUMENT, "observes 11");
    CHECK(alrs_session_features(s, feats, 11) == ALRS_OK && fabs(feats[1] - log(2.3)) < 1e-12);
    CHECK(alrs_session_rate(s, 0, &lr) == ALRS_OK && lr > 0);
    EXPECT(alrs_session_rate(s, STEPS, &lr), ALRS_E_ORDER, "not in [0, 40)");
    EXPECT(alrs_session_observe(s, &o), ALRS_E_ORDER, "steps must increase");
    o.step = 3;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_ORDER, "step 3 is off the controller's interval "
                                                      "(it acts every 5 steps, and at step 40)");
    o.step = 5, o.train_loss = NAN;
    EXPECT(alrs_session_observe(s, &o), ALRS_E_VALUE, "loss not finite");
    EXPECT(alrs_session_restore(s, "junk", 4), ALRS_E_ARGUMENT, "4 bytes");
    expect_other_controller_refused(s, c);
    alrs_session_free(s);
    alrs_session_free(NULL);
    alrs_controller_close(c);
    alrs_controller_close(NULL);

    alrs_env *e = (alrs_env *)1;
    EXPECT(alrs_env_create("--model nosuch", &e), ALRS_E_ARGUMENT, "--model nosuch");
    CHECK(e == NULL);
    EXPECT(alrs_env_create("--model mlp --bogus 3", &e), ALRS_E_ARGUMENT, "--bogus");
    EXPECT(alrs_env_create("--data-dir /nonexistent", &e), ALRS_E_FILE, "/nonexistent");
    EXPECT(alrs_env_create("--label-noise 2", &e), ALRS_E_ARGUMENT, "--label-noise");
    char flags[1200];
    snprintf(flags, sizeof flags, CHILD " --data-dir '%s' --train-size 9999999", data_dir);
    EXPECT(alrs_env_create(flags, &e), ALRS_E_ARGUMENT, "--train-size 9999999");
    snprintf(flags, sizeof flags, CHILD " --data-dir '%s' --action-every %d", data_dir, EVERY);
    CHECK(alrs_env_create(flags, &e) == ALRS_OK);
    double obs[7], reward;
    int term, trunc;
    EXPECT(alrs_env_step(e, 0, obs, 7, &reward, &term, &trunc), ALRS_E_ORDER, "reset first");
    EXPECT(alrs_env_reset(e, 1, obs, 6), ALRS_E_ARGUMENT, "room for 6");
    CHECK(alrs_env_reset(e, 1, obs, 7) == ALRS_OK);
    EXPECT(alrs_env_step(e, 3, obs, 7, &reward, &term, &trunc), ALRS_E_ARGUMENT, "0..2");
    EXPECT(alrs_env_step(e, NAN, obs, 7, &reward, &term, &trunc), ALRS_E_VALUE, "NaN");
    CHECK(alrs_env_step(e, 1, obs, 7, &reward, &term, &trunc) == ALRS_OK && !term && !trunc);
    alrs_env_free(e);
    CHECK(!strcmp(alrs_status_name(ALRS_E_ORDER), "call out of order"));
}

static void setup(void) {
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", data_dir);
    if (system(cmd) != 0) exit(2);
    test_write_idx_set(data_dir, "", 700, 10, 10, 0, 5);
    if (dataset_load(&data, "fashion-mnist", data_dir, 100, 0) != 0) exit(2);
    learn_controller("plain", "--features all --factors 0.5,0.8,1,1.25,2");
    learn_controller("residual", "--features all --factors 0.5,0.8,1,1.25,2 --base warmup-cosine");
    learn_controller("relative", "--features relative,gap --factors 0.5,0.8,1,1.25,2");
    learn_controller("env-only", "--features relative,update-ratio,grad-norm,loss-spread");
    learn_controller("absolute", "--features relative,offset,gap,position --action absolute "
                                 "--lr-bounds 3e-3,3e-2");
}

/* The scale-free features a session computes as the environment does. */
static void test_relative_features(void) { test_parity("relative", "mode", NULL); }

/* One observation at step 0, then one at step EVERY with `run`. */
static alrs_status observe_twice(alrs_controller *c, const alrs_run_stats *run) {
    alrs_session_config cfg = {1e-2, STEPS, 12, NULL, SEED};
    float probs[12], w[2] = {0.1f, -0.2f};
    for (int k = 0; k < 12; k++) probs[k] = k % 3 == 0 ? 0.5f : 0.25f;
    alrs_observation o = {0, 0.0, 1.1, probs, 12, w, 2};
    alrs_session *s;
    alrs_status st = alrs_session_create(c, &cfg, &s);
    if (st != ALRS_OK) return st;
    st = alrs_session_observe(s, &o);
    o.step = EVERY, o.train_loss = 1.0;
    if (st == ALRS_OK) st = alrs_session_observe_run(s, &o, run);
    alrs_session_free(s);
    return st;
}

/* What a run measures between observations (update ratio, gradient norms,
 * batch losses), measured by the caller: the session's features follow their
 * definitions and its rates are alrs train's, which measures them itself;
 * missing or bad statistics are refused with a message. */
static void test_run_stats(void) {
    features_checked = features_wrong = 0;
    test_parity("env-only", "mode", NULL);
    test_parity("env-only", "sample", NULL);
    CHECK(features_checked >= 4 * 3 * STEPS / EVERY && features_wrong == 0);
    char path[900];
    snprintf(path, sizeof path, "%s/env-only/controller.bin", dir);
    alrs_controller *c, *plain;
    CHECK(alrs_controller_open(path, &c) == ALRS_OK);
    CHECK(alrs_controller_run_stats(c) ==
          (ALRS_RUN_BATCH_LOSSES | ALRS_RUN_GRAD_NORMS | ALRS_RUN_UPDATE_RATIO));
    double losses[EVERY] = {1, 1.1, 0.9, 1, 1}, norms[EVERY] = {2, 2, 2, 2, 2};
    alrs_run_stats run = {EVERY, losses, norms, 0.01};
    CHECK(observe_twice(c, &run) == ALRS_OK);
    CHECK(observe_twice(c, NULL) == ALRS_E_ARGUMENT &&
          strstr(alrs_last_error(), "alrs_session_observe_run"));
    run.n_steps = EVERY - 1;
    CHECK(observe_twice(c, &run) == ALRS_E_ARGUMENT && strstr(alrs_last_error(), "4 steps"));
    run.n_steps = EVERY, norms[2] = NAN;
    CHECK(observe_twice(c, &run) == ALRS_E_VALUE && strstr(alrs_last_error(), "gradient norm 2"));
    norms[2] = 2, run.grad_norms = NULL;
    CHECK(observe_twice(c, &run) == ALRS_E_ARGUMENT && strstr(alrs_last_error(), "grad_norms"));
    run.grad_norms = norms, run.update_ratio = -1;
    CHECK(observe_twice(c, &run) == ALRS_E_VALUE && strstr(alrs_last_error(), "update ratio"));
    snprintf(path, sizeof path, "%s/plain/controller.bin", dir);
    CHECK(alrs_controller_open(path, &plain) == ALRS_OK);
    CHECK(alrs_controller_run_stats(plain) == 0 && alrs_controller_run_stats(NULL) == 0);
    CHECK(observe_twice(plain, NULL) == ALRS_OK);
    alrs_controller_close(plain);
    alrs_controller_close(c);
}

/* A controller that sets the rate itself takes a start outside its bounds and
 * runs exactly as from the nearest bound, in a session and in alrs train (which
 * says so); a relative one refuses it (test_bad_input). */
static void test_absolute_start(void) {
    char err[TEST_ERR_LEN], path[900], out[900];
    snprintf(path, sizeof path, "%s/absolute/controller.bin", dir);
    snprintf(out, sizeof out, "%s/train-absolute-low", dir);
    alrs_controller *c;
    CHECK(alrs_controller_open(path, &c) == ALRS_OK);
    double low[STEPS], bound[STEPS], top[STEPS];
    CHECK(drive(c, "mode", 1e-4, low, NULL, 0) == 0);
    CHECK(drive(c, "mode", 3e-3, bound, NULL, 0) == 0);
    CHECK(drive(c, "mode", 3e-2, top, NULL, 0) == 0);
    CHECK(memcmp(low, bound, sizeof low) == 0);
    CHECK(memcmp(top, bound, sizeof top) != 0); /* the start is seen: the first check means something */
    CHECK(test_alrs(err, NULL, "train " CHILD " --data-dir '%s' --eval-every %d --seed %d --lr 1e-4 "
                               "--schedule 'controller:%s' --out '%s'",
                    data_dir, EVERY, SEED, path, out) == 0);
    CHECK(strstr(err, "note: --lr 0.0001 is outside the bounds [0.003, 0.03]") &&
          strstr(err, "the run starts at 0.003"));
    CHECK(same_rates_as_trace(test_path(out, "trace.csv"), low));
    alrs_controller_close(c);
}

/* `test_api record DIR`: the data, the controllers and the recorded
 * observations of the plain controller's run (DIR/recorded.txt, DIR/rates.txt,
 * DIR/train-plain-mode/trace.csv) for the Python test. */
static int record_only(const char *out) {
    snprintf(dir, sizeof dir, "%s", out);
    setup();
    char path[900];
    snprintf(path, sizeof path, "%s/recorded.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 2;
    test_parity("plain", "mode", f);
    fclose(f);
    alrs_controller *c;
    double rates[STEPS];
    snprintf(path, sizeof path, "%s/plain/controller.bin", dir);
    if (alrs_controller_open(path, &c) != ALRS_OK || drive(c, "mode", 1e-2, rates, NULL, 0) != 0)
        return 2;
    alrs_controller_close(c);
    snprintf(path, sizeof path, "%s/rates.txt", dir);
    f = fopen(path, "w");
    for (int s = 0; s < STEPS; s++) fprintf(f, "%d %.17g\n", s, rates[s]);
    fclose(f);
    dataset_free(&data);
    return test_finish();
}

/* ---- `test_api case NAME CONTROLLER [OTHER]`: one bad call, for docs/ERRORS.md --- */

/* 4 validation images of 3 classes, observed at step 0 of a 10-step run. */
enum { CASE_PROBS = 12 };

/* Puts the state of a session of the controller at `other` into s. */
static alrs_status restore_other(alrs_session *s, const alrs_session_config *cfg,
                                 const char *other) {
    alrs_controller *c;
    alrs_session *theirs;
    alrs_status st = alrs_controller_open(other, &c);
    if (st != ALRS_OK) return st;
    if ((st = alrs_session_create(c, cfg, &theirs)) == ALRS_OK) {
        size_t n = alrs_session_state_size(theirs);
        void *buf = malloc(n);
        st = alrs_session_save(theirs, buf, n);
        if (st == ALRS_OK) st = alrs_session_restore(s, buf, n);
        free(buf);
        alrs_session_free(theirs);
    }
    alrs_controller_close(c);
    return st;
}

static alrs_status case_call(const char *name, alrs_controller *c, const char *other) {
    alrs_session_config cfg = {1e-2, 10, CASE_PROBS, NULL, 1};
    if (!strcmp(name, "initial-lr")) cfg.initial_lr = 5;
    alrs_session *s;
    alrs_status st = alrs_session_create(c, &cfg, &s);
    if (st != ALRS_OK) return st;
    float probs[CASE_PROBS], w[6] = {0.1f, -0.2f, 0.3f, 0.05f, 0.2f, -0.1f};
    for (int k = 0; k < CASE_PROBS; k++) probs[k] = k % 3 == 0 ? 0.5f : 0.25f;
    if (!strcmp(name, "negative-prob")) probs[4] = -0.25f, probs[5] = 0.75f;
    if (!strcmp(name, "logits")) probs[0] = 2.0f;
    if (!strcmp(name, "row-sum")) probs[6] = 0.9f;
    if (!strcmp(name, "nan-weight")) w[3] = NAN;
    alrs_observation o = {0, 0.0, 1.1, probs, CASE_PROBS, w, 6};
    st = alrs_session_observe(s, &o);
    if (st == ALRS_OK && !strcmp(name, "off-interval")) {
        o.step = 3, o.train_loss = 1.0;
        st = alrs_session_observe(s, &o);
    }
    double losses[5] = {1, 1, 1, 1, 1}, norms[5] = {1, 1, NAN, 1, 1};
    alrs_run_stats run = {5, losses, norms, 0.01};
    if (!strcmp(name, "run-steps")) run.n_steps = 4;
    int with_run = !strcmp(name, "run-steps") || !strcmp(name, "nan-grad-norm");
    if (st == ALRS_OK && (with_run || !strcmp(name, "no-run-stats"))) {
        o.step = 5, o.train_loss = 1.0;
        st = alrs_session_observe_run(s, &o, with_run ? &run : NULL);
    }
    if (st == ALRS_OK && !strcmp(name, "other-state") && other) st = restore_other(s, &cfg, other);
    alrs_session_free(s);
    return st;
}

static int run_case(int argc, char **argv) {
    alrs_controller *c;
    alrs_status st = alrs_controller_open(argv[3], &c);
    if (st == ALRS_OK) {
        st = case_call(argv[2], c, argc > 4 ? argv[4] : NULL);
        alrs_controller_close(c);
    }
    if (st == ALRS_OK) return 0;
    fprintf(stderr, "alrs: %s\n", alrs_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "record")) return record_only(argv[2]);
    if (argc >= 4 && !strcmp(argv[1], "case")) return run_case(argc, argv);
    snprintf(dir, sizeof dir, "%s", test_tmpdir("api"));
    setup();
    test_parity("plain", "mode", NULL);
    test_parity("plain", "sample", NULL);
    test_parity("plain", "mean:4", NULL);
    test_parity("residual", "mode", NULL);
    test_parity("residual", "sample", NULL);
    test_relative_features();
    test_run_stats();
    test_describe();
    test_env();
    test_bad_input();
    test_absolute_start();
    dataset_free(&data);
    test_remove_tmpdirs();
    return test_finish();
}
