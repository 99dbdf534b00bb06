/* A training loop of your own, with its learning rate chosen by a learned
 * alrs controller: softmax regression on synthetic data (10 classes, 20
 * features), trained by plain gradient descent on minibatches.
 *
 *   controller_demo CONTROLLER.bin [STEPS]
 *
 * The loop is the one docs/API.md describes: observe the fresh model (step
 * 0), then every action_every steps; ask for each step's rate in between. */
#include <alrs/alrs.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { CLASSES = 10, FEATURES = 20, TRAIN = 2000, VAL = 200, BATCH = 32 };

static float train_x[TRAIN][FEATURES], val_x[VAL][FEATURES];
static int train_y[TRAIN], val_y[VAL];
static float w[CLASSES][FEATURES], b[CLASSES];

static unsigned long long state = 88172645463325252ULL;
static double uniform(void) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return (state >> 11) * (1.0 / 9007199254740992.0);
}
static double normal(void) { return sqrt(-2 * log(1 - uniform())) * cos(6.283185307179586 * uniform()); }

/* Classes are Gaussian blobs around random centres. */
static void make_data(void) {
    static float centre[CLASSES][FEATURES];
    for (int c = 0; c < CLASSES; c++)
        for (int j = 0; j < FEATURES; j++) centre[c][j] = (float)normal();
    for (int i = 0; i < TRAIN + VAL; i++) {
        int y = (int)(uniform() * CLASSES);
        float *x = i < TRAIN ? train_x[i] : val_x[i - TRAIN];
        for (int j = 0; j < FEATURES; j++) x[j] = centre[y][j] + 1.5f * (float)normal();
        if (i < TRAIN) train_y[i] = y;
        else val_y[i - TRAIN] = y;
    }
}

/* Softmax probabilities of one example; returns its cross-entropy. */
static double predict(const float *x, int y, float *p) {
    double z[CLASSES], m = -1e30, s = 0;
    for (int c = 0; c < CLASSES; c++) {
        z[c] = b[c];
        for (int j = 0; j < FEATURES; j++) z[c] += w[c][j] * x[j];
        m = z[c] > m ? z[c] : m;
    }
    for (int c = 0; c < CLASSES; c++) s += exp(z[c] - m);
    for (int c = 0; c < CLASSES; c++) p[c] = (float)(exp(z[c] - m) / s);
    return -(z[y] - m - log(s));
}

/* One minibatch step at rate lr; returns the batch's mean loss. */
static double train_step(double lr) {
    static float gw[CLASSES][FEATURES], gb[CLASSES];
    for (int c = 0; c < CLASSES; c++) {
        gb[c] = 0;
        for (int j = 0; j < FEATURES; j++) gw[c][j] = 0;
    }
    double loss = 0;
    for (int k = 0; k < BATCH; k++) {
        int i = (int)(uniform() * TRAIN);
        float p[CLASSES];
        loss += predict(train_x[i], train_y[i], p);
        for (int c = 0; c < CLASSES; c++) {
            float g = p[c] - (c == train_y[i]);
            gb[c] += g / BATCH;
            for (int j = 0; j < FEATURES; j++) gw[c][j] += g * train_x[i][j] / BATCH;
        }
    }
    for (int c = 0; c < CLASSES; c++) {
        b[c] -= (float)lr * gb[c];
        for (int j = 0; j < FEATURES; j++) w[c][j] -= (float)lr * gw[c][j];
    }
    return loss / BATCH;
}

/* The validation loss and accuracy, and the probabilities the controller reads. */
static double validate(float probs[VAL][CLASSES], double *acc) {
    double loss = 0;
    int right = 0;
    for (int i = 0; i < VAL; i++) {
        loss += predict(val_x[i], val_y[i], probs[i]);
        int best = 0;
        for (int c = 1; c < CLASSES; c++) best = probs[i][c] > probs[i][best] ? c : best;
        right += best == val_y[i];
    }
    *acc = (double)right / VAL;
    return loss / VAL;
}

static int failed(alrs_status s, const char *what) {
    if (s == ALRS_OK) return 0;
    fprintf(stderr, "controller_demo: %s: %s (%s)\n", what, alrs_last_error(), alrs_status_name(s));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: controller_demo CONTROLLER.bin [STEPS]\n");
        return 2;
    }
    long steps = argc > 2 ? atol(argv[2]) : 300;
    alrs_controller *ctl;
    alrs_controller_info info;
    if (failed(alrs_controller_open(argv[1], &ctl), "open") ||
        failed(alrs_controller_describe(ctl, &info), "describe"))
        return 1;
    printf("alrs %s; controller: %s actions, features %s%s%s, acts every %d steps\n",
           alrs_version(), info.action_kind, info.features, info.base[0] ? ", residual on " : "",
           info.base, info.action_every);

    make_data();
    static float probs[VAL][CLASSES];
    alrs_session_config cfg = {0.05, steps, VAL * CLASSES, "mode", 1};
    alrs_session *s;
    if (failed(alrs_session_create(ctl, &cfg, &s), "session")) return 1;
    double acc, val = validate(probs, &acc), sum = 0;
    alrs_observation obs = {0, 0.0, val, &probs[0][0], VAL * CLASSES, &w[0][0], CLASSES * FEATURES};
    if (failed(alrs_session_observe(s, &obs), "observe")) return 1;
    for (long step = 0; step < steps; step++) {
        double lr;
        if (failed(alrs_session_rate(s, step, &lr), "rate")) return 1;
        sum += train_step(lr);
        long done = step + 1;
        if (done % info.action_every && done != steps) continue;
        val = validate(probs, &acc);
        alrs_observation o = {done, sum / (done % info.action_every ? done % info.action_every
                                                                    : info.action_every),
                              val, &probs[0][0], VAL * CLASSES, &w[0][0], CLASSES * FEATURES};
        sum = 0;
        if (failed(alrs_session_observe(s, &o), "observe")) return 1;
        if (done % (10 * info.action_every) == 0 || done == steps)
            printf("step %4ld  rate %.5g  validation loss %.4f  accuracy %.3f\n", done, lr, val, acc);
    }
    alrs_session_free(s);
    alrs_controller_close(ctl);
    return 0;
}
