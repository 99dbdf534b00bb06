/* Schedules against rates worked out by hand (the arithmetic sits beside each
 * number; onecycle, cosine-restarts and plateau were also checked once against
 * torch.optim.lr_scheduler 1.13), defaults resolved from the run's length,
 * format -> parse round trips, and every parse error. */
#include "core/error.h"
#include "sched/schedule.h"
#include "testutil.h"

#include <string.h>

#define TOL 1e-12

/* Parses a spec that must be valid; on failure says why and leaves a zeroed
 * (constant, rate 0) schedule so the checks that follow fail instead of crash. */
static schedule parsed(const char *spec, double base_lr, long total_steps) {
    schedule s;
    memset(&s, 0, sizeof s);
    int rc = schedule_parse(&s, spec, base_lr, total_steps);
    if (rc != 0) fprintf(stderr, "  parse '%s' failed: %s\n", spec, alrs_error());
    CHECK(rc == 0);
    return s;
}

static void test_constant(void) {
    schedule s = parsed("constant", 0.1, 100);
    CHECK(s.kind == SCHED_CONSTANT);
    CHECK_NEAR(schedule_lr(&s, 0), 0.1, TOL);
    CHECK_NEAR(schedule_lr(&s, 999), 0.1, TOL);
    schedule_observe_val_loss(&s, 5.0); /* only plateau reacts */
    CHECK_NEAR(schedule_lr(&s, 5), 0.1, TOL);
}

static void test_step(void) {
    schedule s = parsed("step:every=3,gamma=0.5", 0.1, 100);
    CHECK(s.kind == SCHED_STEP);
    CHECK_NEAR(schedule_lr(&s, 0), 0.1, TOL);   /* 0.1 * 0.5^floor(0/3) = 0.1 */
    CHECK_NEAR(schedule_lr(&s, 2), 0.1, TOL);   /* 0.1 * 0.5^floor(2/3) = 0.1 */
    CHECK_NEAR(schedule_lr(&s, 3), 0.05, TOL);  /* 0.1 * 0.5^1 = 0.05 */
    CHECK_NEAR(schedule_lr(&s, 7), 0.025, TOL); /* 0.1 * 0.5^2 = 0.025 */
    CHECK_NEAR(schedule_lr(&s, 9), 0.0125, TOL); /* 0.1 * 0.5^3 = 0.0125 */

    schedule d = parsed("step", 0.1, 100);
    CHECK(d.every == 33); /* floor(100/3) */
    CHECK(d.gamma == 0.1);
    CHECK_NEAR(schedule_lr(&d, 32), 0.1, TOL);  /* 0.1 * 0.1^0 */
    CHECK_NEAR(schedule_lr(&d, 33), 0.01, TOL); /* 0.1 * 0.1^1 */
    CHECK_NEAR(schedule_lr(&d, 66), 0.001, TOL); /* 0.1 * 0.1^2 */
    CHECK(parsed("step", 0.1, 2).every == 1); /* floor(2/3) = 0, raised to 1 */
}

static void test_multistep(void) {
    schedule s = parsed("multistep:milestones=2;5;9,gamma=0.5", 1.0, 100);
    CHECK(s.n_milestones == 3);
    CHECK_NEAR(schedule_lr(&s, 1), 1.0, TOL);    /* no milestone <= 1 */
    CHECK_NEAR(schedule_lr(&s, 2), 0.5, TOL);    /* {2}: 1 * 0.5^1 */
    CHECK_NEAR(schedule_lr(&s, 5), 0.25, TOL);   /* {2,5}: 0.5^2 */
    CHECK_NEAR(schedule_lr(&s, 8), 0.25, TOL);   /* {2,5}: 0.5^2 */
    CHECK_NEAR(schedule_lr(&s, 9), 0.125, TOL);  /* {2,5,9}: 0.5^3 */
    CHECK_NEAR(schedule_lr(&s, 500), 0.125, TOL); /* all three */

    schedule d = parsed("multistep", 0.2, 100);
    CHECK(d.n_milestones == 2 && d.milestones[0] == 50 && d.milestones[1] == 75);
    CHECK(d.gamma == 0.1);
    CHECK_NEAR(schedule_lr(&d, 49), 0.2, TOL);   /* 0.2 */
    CHECK_NEAR(schedule_lr(&d, 50), 0.02, TOL);  /* 0.2 * 0.1 */
    CHECK_NEAR(schedule_lr(&d, 75), 0.002, TOL); /* 0.2 * 0.1^2 */
    schedule ten = parsed("multistep", 0.2, 10); /* floor(5), floor(7.5) */
    CHECK(ten.milestones[0] == 5 && ten.milestones[1] == 7);
    schedule one = parsed("multistep", 0.2, 1); /* 0 and 0, raised to 1 and 2 */
    CHECK(one.milestones[0] == 1 && one.milestones[1] == 2);
}

static void test_exp(void) {
    schedule s = parsed("exp:gamma=0.9", 0.1, 100);
    CHECK_NEAR(schedule_lr(&s, 0), 0.1, TOL);
    CHECK_NEAR(schedule_lr(&s, 2), 0.081, TOL);          /* 0.1 * 0.81 */
    CHECK_NEAR(schedule_lr(&s, 10), 0.03486784401, TOL); /* 0.1 * 0.9^10 = 0.1 * 0.3486784401 */

    schedule d = parsed("exp", 0.1, 100); /* gamma = 0.01^(1/100) */
    CHECK_NEAR(d.gamma, 0.954992586021436, TOL); /* 10^(-2/100) = 10^-0.02 */
    CHECK_NEAR(schedule_lr(&d, 50), 0.01, TOL);  /* 0.1 * 0.01^(50/100) = 0.1 * 0.1 */
    CHECK_NEAR(schedule_lr(&d, 100), 0.001, TOL); /* 0.1 * 0.01 */
}

static void test_cosine(void) {
    schedule s = parsed("cosine:tmax=10,min=0.01", 0.1, 100);
    CHECK_NEAR(schedule_lr(&s, 0), 0.1, TOL);   /* 0.01 + 0.09 * (1 + cos 0) / 2 */
    /* 0.01 + 0.09 * (1 + cos(0.2 pi)) / 2 = 0.01 + 0.09 * 1.809016994 / 2 */
    CHECK_NEAR(schedule_lr(&s, 2), 0.0914057647468726, TOL);
    CHECK_NEAR(schedule_lr(&s, 5), 0.055, TOL); /* 0.01 + 0.09 * (1 + 0) / 2 */
    CHECK_NEAR(schedule_lr(&s, 10), 0.01, TOL); /* 0.01 + 0.09 * (1 - 1) / 2 */
    CHECK_NEAR(schedule_lr(&s, 15), 0.01, TOL); /* held at min after tmax */

    schedule d = parsed("cosine", 0.1, 100);
    CHECK(d.tmax == 100 && d.min_lr == 0);
    CHECK_NEAR(schedule_lr(&d, 50), 0.05, TOL); /* 0.1 * (1 + cos(pi/2)) / 2 */
}

static void test_cosine_restarts(void) {
    schedule s = parsed("cosine-restarts:t0=10,min=0.1", 1.0, 100);
    CHECK(s.tmult == 1);
    CHECK_NEAR(schedule_lr(&s, 0), 1.0, TOL);   /* T_cur 0 */
    CHECK_NEAR(schedule_lr(&s, 5), 0.55, TOL);  /* 0.1 + 0.9 * (1 + cos(pi/2)) / 2 */
    CHECK_NEAR(schedule_lr(&s, 10), 1.0, TOL);  /* restart: T_cur = 10 % 10 = 0 */
    CHECK_NEAR(schedule_lr(&s, 15), 0.55, TOL); /* T_cur = 5 */
    CHECK_NEAR(schedule_lr(&s, 25), 0.55, TOL); /* T_cur = 5 */

    /* t0=2, tmult=2: cycles [0,2) [2,6) [6,14) [14,30) [30,62) */
    schedule m = parsed("cosine-restarts:t0=2,tmult=2", 1.0, 100);
    CHECK_NEAR(schedule_lr(&m, 1), 0.5, TOL);  /* T_cur 1, T_i 2: (1 + cos(pi/2)) / 2 */
    CHECK_NEAR(schedule_lr(&m, 2), 1.0, TOL);  /* T_cur 0, T_i 4 */
    /* T_cur 1, T_i 4: (1 + cos(pi/4)) / 2 = (1 + 0.7071067812) / 2 */
    CHECK_NEAR(schedule_lr(&m, 3), 0.853553390593274, TOL);
    /* T_cur 3, T_i 4: (1 + cos(3pi/4)) / 2 = (1 - 0.7071067812) / 2 */
    CHECK_NEAR(schedule_lr(&m, 5), 0.146446609406726, TOL);
    CHECK_NEAR(schedule_lr(&m, 6), 1.0, TOL);  /* T_cur 0, T_i 8: n = log2(6/2 + 1) = 2 */
    CHECK_NEAR(schedule_lr(&m, 10), 0.5, TOL); /* T_cur 4, T_i 8 */
    /* T_cur 7, T_i 8: (1 + cos(7pi/8)) / 2 = (1 - 0.9238795325) / 2 */
    CHECK_NEAR(schedule_lr(&m, 13), 0.0380602337443566, TOL);
    CHECK_NEAR(schedule_lr(&m, 14), 1.0, TOL); /* T_cur 0, T_i 16 */
    /* T_cur 15, T_i 16: (1 + cos(15pi/16)) / 2 = (1 - 0.9807852804) / 2 */
    CHECK_NEAR(schedule_lr(&m, 29), 0.00960735979838478, TOL);
    CHECK_NEAR(schedule_lr(&m, 30), 1.0, TOL); /* T_cur 0, T_i 32 */

    schedule d = parsed("cosine-restarts", 1.0, 100);
    CHECK(d.t0 == 25 && d.tmult == 1 && d.min_lr == 0); /* floor(100/4) */
    CHECK(parsed("cosine-restarts", 1.0, 3).t0 == 1);   /* floor(3/4) = 0, raised to 1 */
}

static void test_onecycle(void) {
    /* max 1, div 25 -> initial 0.04, final_div 1e4 -> min 4e-6; total 10:
     * phase 1 ends at 0.3*10 - 1 = 2, phase 2 at 9 */
    schedule s = parsed("onecycle:max=1", 0.5, 10);
    CHECK_NEAR(schedule_lr(&s, 0), 0.04, TOL); /* pct 0: initial */
    CHECK_NEAR(schedule_lr(&s, 1), 0.52, TOL); /* pct 1/2: 1 + (0.04 - 1)/2 * (1 + 0) */
    CHECK_NEAR(schedule_lr(&s, 2), 1.0, TOL);  /* phase boundary, pct 1: max */
    /* phase 2, pct (3-2)/(9-2) = 1/7: 4e-6 + (1 - 4e-6)/2 * (1 + cos(pi/7)),
     * cos(pi/7) = 0.9009688679 */
    CHECK_NEAR(schedule_lr(&s, 3), 0.950484632013474, TOL);
    /* pct 3/7: 4e-6 + 0.999996/2 * (1 + cos(3pi/7)), cos(3pi/7) = 0.2225209340 */
    CHECK_NEAR(schedule_lr(&s, 5), 0.611262021936289, TOL);
    /* pct 6/7: 4e-6 + 0.999996/2 * (1 + cos(6pi/7)), cos(6pi/7) = -0.9009688679 */
    CHECK_NEAR(schedule_lr(&s, 8), 0.0495193679865263, TOL);
    CHECK_NEAR(schedule_lr(&s, 9), 4e-6, TOL);  /* last step, pct 1: min = 0.04 / 1e4 */
    CHECK_NEAR(schedule_lr(&s, 50), 4e-6, TOL); /* held past the end */

    /* defaults: max = --lr 0.5, initial 0.02, min 2e-6; phase 1 ends at 29, phase 2 at 99 */
    schedule d = parsed("onecycle", 0.5, 100);
    CHECK(d.max_lr == 0.5 && d.pct == 0.3 && d.div == 25 && d.final_div == 1e4);
    CHECK_NEAR(schedule_lr(&d, 0), 0.02, TOL);  /* 0.5 / 25 */
    CHECK_NEAR(schedule_lr(&d, 29), 0.5, TOL);  /* end of phase 1 */
    /* pct (30-29)/70: 2e-6 + 0.499998/2 * (1 + cos(pi/70)), cos(pi/70) = 0.9989930665 */
    CHECK_NEAR(schedule_lr(&d, 30), 0.499748267642262, TOL);
    CHECK_NEAR(schedule_lr(&d, 64), 0.250001, TOL); /* pct 35/70: 2e-6 + 0.499998/2 */
    CHECK_NEAR(schedule_lr(&d, 99), 2e-6, TOL);     /* 0.02 / 1e4 */

    /* pct*total = 1: phase 1 has zero length and counts as done, so step 0 is
     * already max; phase 2 runs from 0 to 9, step 1 at pct 1/9 */
    schedule z = parsed("onecycle:max=1,pct=0.1", 1.0, 10);
    CHECK_NEAR(schedule_lr(&z, 0), 1.0, TOL);
    /* 4e-6 + 0.999996/2 * (1 + cos(pi/9)), cos(pi/9) = 0.9396926208 */
    CHECK_NEAR(schedule_lr(&z, 1), 0.969846431007713, TOL);
}

static void test_warmup_cosine(void) {
    /* base 1, warmup 4, total 14: cosine over steps 4..14 (10 steps) */
    schedule s = parsed("warmup-cosine:warmup=4", 1.0, 14);
    CHECK_NEAR(schedule_lr(&s, 0), 0.25, TOL); /* 1 * 1/4 */
    CHECK_NEAR(schedule_lr(&s, 1), 0.5, TOL);  /* 1 * 2/4 */
    CHECK_NEAR(schedule_lr(&s, 3), 1.0, TOL);  /* 1 * 4/4 */
    CHECK_NEAR(schedule_lr(&s, 4), 1.0, TOL);  /* cosine at 0/10 */
    CHECK_NEAR(schedule_lr(&s, 9), 0.5, TOL);  /* (1 + cos(5pi/10)) / 2 */
    /* (1 + cos(9pi/10)) / 2 = (1 - 0.9510565163) / 2 */
    CHECK_NEAR(schedule_lr(&s, 13), 0.0244717418524232, TOL);
    CHECK_NEAR(schedule_lr(&s, 14), 0.0, TOL); /* 10/10: min */
    CHECK_NEAR(schedule_lr(&s, 99), 0.0, TOL); /* held at min */

    schedule m = parsed("warmup-cosine:warmup=2,min=0.1", 1.0, 12);
    CHECK_NEAR(schedule_lr(&m, 7), 0.55, TOL); /* 0.1 + 0.9 * (1 + cos(5pi/10)) / 2 */

    CHECK(parsed("warmup-cosine", 1.0, 100).warmup == 5); /* 5% of 100 */
    CHECK(parsed("warmup-cosine", 1.0, 10).warmup == 1);  /* floor(0.5), raised to 1 */
}

/* warm-up then constant; base 1, warmup 4 (W), 20 steps (N) */
static void test_warmup(void) {
    schedule s = parsed("warmup:warmup=4", 1.0, 20);
    CHECK(s.kind == SCHED_WARMUP);
    CHECK_NEAR(schedule_lr(&s, 0), 0.25, TOL);  /* 1 * 1/4 */
    CHECK_NEAR(schedule_lr(&s, 2), 0.75, TOL);  /* 1 * 3/4 */
    CHECK_NEAR(schedule_lr(&s, 3), 1.0, TOL);   /* k = W-1: 4/4 */
    CHECK_NEAR(schedule_lr(&s, 4), 1.0, TOL);   /* k = W: base */
    CHECK_NEAR(schedule_lr(&s, 19), 1.0, TOL);  /* k = N-1 */
    CHECK_NEAR(schedule_lr(&s, 50), 1.0, TOL);  /* past the end */
    CHECK(parsed("warmup", 1.0, 100).warmup == 5); /* 5% of 100 */
    CHECK(parsed("warmup", 1.0, 19).warmup == 1);  /* floor(0.95), raised to 1 */
}

/* warm-up then min + (base - min)(N - k)/(N - W); base 1, W 4, N 20, min 0.1 */
static void test_linear(void) {
    schedule s = parsed("linear:warmup=4,min=0.1", 1.0, 20);
    CHECK(s.kind == SCHED_LINEAR);
    CHECK_NEAR(schedule_lr(&s, 0), 0.25, TOL);    /* 1 * 1/4 */
    CHECK_NEAR(schedule_lr(&s, 3), 1.0, TOL);     /* k = W-1: 4/4 */
    CHECK_NEAR(schedule_lr(&s, 4), 1.0, TOL);     /* k = W: 0.1 + 0.9 * 16/16 */
    CHECK_NEAR(schedule_lr(&s, 5), 0.94375, TOL); /* 0.1 + 0.9 * 15/16 */
    CHECK_NEAR(schedule_lr(&s, 12), 0.55, TOL);   /* 0.1 + 0.9 * 8/16 */
    CHECK_NEAR(schedule_lr(&s, 19), 0.15625, TOL); /* k = N-1: 0.1 + 0.9 * 1/16 */
    CHECK_NEAR(schedule_lr(&s, 20), 0.1, TOL);    /* k = N: min */
    CHECK_NEAR(schedule_lr(&s, 99), 0.1, TOL);    /* held at min */
    schedule d = parsed("linear", 2.0, 100);       /* W = 5, min 0 */
    CHECK(d.warmup == 5 && d.min_lr == 0);
    CHECK_NEAR(schedule_lr(&d, 4), 2.0, TOL);     /* 2 * 5/5 */
    CHECK_NEAR(schedule_lr(&d, 52), 2.0 * 48 / 95, TOL); /* 2 * (100 - 52)/(100 - 5) */
}

/* warm-up, base until k < N - D, then min + (base - min)(N - k)/D;
 * base 1, W 2, D 5, N 20 */
static void test_wsd(void) {
    schedule s = parsed("wsd:warmup=2,decay=5,min=0", 1.0, 20);
    CHECK(s.kind == SCHED_WSD);
    CHECK_NEAR(schedule_lr(&s, 0), 0.5, TOL);  /* 1 * 1/2 */
    CHECK_NEAR(schedule_lr(&s, 1), 1.0, TOL);  /* k = W-1: 2/2 */
    CHECK_NEAR(schedule_lr(&s, 2), 1.0, TOL);  /* k = W: stable */
    CHECK_NEAR(schedule_lr(&s, 14), 1.0, TOL); /* k = N-D-1: stable */
    CHECK_NEAR(schedule_lr(&s, 15), 1.0, TOL); /* k = N-D: 5/5 */
    CHECK_NEAR(schedule_lr(&s, 16), 0.8, TOL); /* 4/5 */
    CHECK_NEAR(schedule_lr(&s, 19), 0.2, TOL); /* k = N-1: 1/5 */
    CHECK_NEAR(schedule_lr(&s, 20), 0.0, TOL); /* k = N: min */
    CHECK_NEAR(schedule_lr(&s, 30), 0.0, TOL); /* held at min */
    schedule m = parsed("wsd:warmup=2,decay=5,min=0.1", 1.0, 20);
    CHECK_NEAR(schedule_lr(&m, 17), 0.64, TOL); /* 0.1 + 0.9 * 3/5 */
    CHECK_NEAR(schedule_lr(&m, 19), 0.28, TOL); /* 0.1 + 0.9 * 1/5 */
    /* the decay may take every step after the warm-up: no drop at its end */
    schedule all = parsed("wsd:warmup=4,decay=16", 1.0, 20);
    CHECK_NEAR(schedule_lr(&all, 3), 1.0, TOL);  /* 4/4 */
    CHECK_NEAR(schedule_lr(&all, 4), 1.0, TOL);  /* 16/16 */
    CHECK_NEAR(schedule_lr(&all, 12), 0.5, TOL); /* 8/16 */
    schedule d = parsed("wsd", 1.0, 100);
    CHECK(d.warmup == 5 && d.decay == 20); /* 5% and 20% of 100 */
    schedule tiny = parsed("wsd", 1.0, 3);
    CHECK(tiny.warmup == 1 && tiny.decay == 1); /* floor(3/20), floor(3/5), raised to 1 */
}

/* factor 0.5, patience 2, threshold 0.1 (an improvement must beat best * 0.9),
 * cooldown 1, min 0.2, from --lr 1. */
static void test_plateau(void) {
    schedule s = parsed("plateau:factor=0.5,patience=2,threshold=0.1,cooldown=1,min=0.2", 1.0, 100);
    static const struct {
        double loss, lr;
    } seq[] = {
        {10.0, 1.0}, /* first loss beats best = inf: best 10, bad 0 */
        {9.5, 1.0},  /* 9.5 not < 10 * 0.9 = 9: bad 1 (threshold) */
        {9.2, 1.0},  /* not < 9: bad 2, not yet > patience 2 */
        {8.9, 1.0},  /* 8.9 < 9: best 8.9, bad 0 */
        {8.9, 1.0},  /* bad 1 */
        {8.9, 1.0},  /* bad 2 */
        {8.9, 0.5},  /* bad 3 > 2: 1 * 0.5, cooldown 1, bad 0 */
        {8.9, 0.5},  /* bad 1, swallowed by cooldown: bad 0, cooldown 0 */
        {8.9, 0.5},  /* bad 1 */
        {8.9, 0.5},  /* bad 2 */
        {8.9, 0.25}, /* bad 3: 0.5 * 0.5 */
        {8.9, 0.25}, /* cooldown */
        {8.9, 0.25}, /* bad 1 */
        {8.9, 0.25}, /* bad 2 */
        {8.9, 0.2},  /* bad 3: max(0.25 * 0.5, 0.2) = 0.2 */
        {8.9, 0.2},  /* cooldown */
        {8.9, 0.2},  /* bad 1 */
        {8.9, 0.2},  /* bad 2 */
        {8.9, 0.2},  /* bad 3: max(0.1, 0.2) = 0.2, no change (0.2 - 0.2 <= eps) */
    };
    CHECK_NEAR(schedule_lr(&s, 0), 1.0, TOL); /* before any observation: --lr */
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        schedule_observe_val_loss(&s, seq[i].loss);
        CHECK_NEAR(schedule_lr(&s, (long)i * 7), seq[i].lr, TOL); /* step does not matter */
    }
    CHECK(s.plateau_cooldown_left == 1 && s.plateau_bad == 0);

    /* defaults: factor 0.1, patience 10, threshold 1e-4, cooldown 0, min 0 */
    schedule d = parsed("plateau", 0.1, 100);
    CHECK(d.factor == 0.1 && d.patience == 10 && d.threshold == 1e-4 && d.cooldown == 0 &&
          d.min_lr == 0);
    schedule_observe_val_loss(&d, 1.0); /* best 1 */
    /* 0.99995 is not below 1 * (1 - 1e-4) = 0.9999: bad 1..10, still within patience */
    for (int i = 0; i < 10; i++) schedule_observe_val_loss(&d, 0.99995);
    CHECK_NEAR(schedule_lr(&d, 0), 0.1, TOL);
    schedule_observe_val_loss(&d, 0.99995); /* bad 11 > 10 */
    CHECK_NEAR(schedule_lr(&d, 0), 0.01, TOL); /* 0.1 * 0.1 */
    schedule_observe_val_loss(&d, 0.9998); /* < 0.9999: improvement, bad 0 */
    CHECK(d.plateau_bad == 0 && d.plateau_best == 0.9998);

    /* eps 1e-8: from --lr 1e-8, 1e-8 * 0.1 is a cut of 9e-9 <= eps, so ignored;
     * cooldown still starts, as in PyTorch */
    schedule e = parsed("plateau:patience=0,cooldown=2", 1e-8, 100);
    schedule_observe_val_loss(&e, 1.0); /* best 1 */
    schedule_observe_val_loss(&e, 1.0); /* bad 1 > 0: max(1e-9, 0) is too small a cut */
    CHECK(schedule_lr(&e, 0) == 1e-8);
    CHECK(e.plateau_cooldown_left == 2);
}

static void test_controller(void) {
    schedule s = parsed("controller:runs/a/controller.ckpt", 0.003, 100);
    CHECK(s.kind == SCHED_CONTROLLER);
    CHECK(!strcmp(s.controller_path, "runs/a/controller.ckpt"));
    CHECK_NEAR(schedule_lr(&s, 0), 0.003, TOL);
    CHECK_NEAR(schedule_lr(&s, 77), 0.003, TOL);
    schedule c = parsed("controller:a:b,c=d", 0.003, 100); /* everything after the first ':' */
    CHECK(!strcmp(c.controller_path, "a:b,c=d"));
}

static void check_format(const char *spec, double base_lr, long total_steps, const char *want) {
    schedule s = parsed(spec, base_lr, total_steps);
    char text[512];
    schedule_format(&s, text, sizeof text);
    if (strcmp(text, want)) fprintf(stderr, "  format '%s' gave '%s'\n", spec, text);
    CHECK(!strcmp(text, want));
}

static void test_format(void) {
    check_format("constant", 0.1, 100, "constant");
    check_format("step:gamma=0.5", 0.1, 100, "step:every=33,gamma=0.5");
    /* numbers in their shortest round-trip form */
    check_format("multistep", 0.1, 100, "multistep:milestones=50;75,gamma=0.1");
    check_format("cosine:min=0.25", 1, 100, "cosine:tmax=100,min=0.25");
    check_format("cosine-restarts:tmult=2", 1, 100, "cosine-restarts:t0=25,tmult=2,min=0");
    check_format("onecycle:max=2,div=10", 1, 100, "onecycle:max=2,pct=0.3,div=10,final_div=10000");
    check_format("warmup-cosine", 1, 100, "warmup-cosine:warmup=5,min=0");
    check_format("warmup", 1, 100, "warmup:warmup=5");
    check_format("linear:min=0.25", 1, 100, "linear:warmup=5,min=0.25");
    check_format("wsd", 1, 100, "wsd:warmup=5,decay=20,min=0");
    check_format("wsd:decay=7,min=1e-5", 1, 40, "wsd:warmup=2,decay=7,min=1e-05");
    check_format("plateau:patience=3", 1, 100, "plateau:factor=0.1,patience=3,"
                                               "threshold=0.0001,cooldown=0,min=0");
    check_format("exp:gamma=0.9953948800", 1, 100, "exp:gamma=0.99539488");
    check_format("cosine:min=1e-5", 1, 100, "cosine:tmax=100,min=1e-05");
    check_format("controller:x/y.ckpt", 1, 100, "controller:x/y.ckpt");

    schedule s = parsed("step:every=3", 0.1, 100);
    char small[8];
    schedule_format(&s, small, sizeof small); /* cut, but still a string */
    CHECK(strlen(small) == 7 && !strncmp(small, "step:ev", 7));
}

/* format(parse(spec)) parses back to a schedule with identical rates and formats
 * to the same text. */
static void check_round_trip(const char *spec, double base_lr, long total_steps) {
    schedule a = parsed(spec, base_lr, total_steps);
    char text[512], again[512];
    schedule_format(&a, text, sizeof text);
    schedule b = parsed(text, base_lr, total_steps);
    schedule_format(&b, again, sizeof again);
    CHECK(!strcmp(text, again));
    int same = a.kind == b.kind;
    for (long step = 0; step <= total_steps + 5; step++) {
        if (a.kind == SCHED_PLATEAU) {
            double loss = 1.0 / (double)(1 + step % 7); /* improves, then stalls, repeatedly */
            schedule_observe_val_loss(&a, loss);
            schedule_observe_val_loss(&b, loss);
        }
        same = same && schedule_lr(&a, step) == schedule_lr(&b, step);
    }
    if (!same) fprintf(stderr, "  round trip of '%s' via '%s' changed the rates\n", spec, text);
    CHECK(same);
}

static void test_round_trips(void) {
    /* odd values that %.6g would not keep exactly */
    check_round_trip("constant", 0.1, 50);
    check_round_trip("step", 0.1, 50);
    check_round_trip("step:every=7,gamma=0.3333333333333333", 0.1, 50);
    check_round_trip("multistep", 0.1, 50);
    check_round_trip("multistep:milestones=3;10;11;40,gamma=0.7", 0.1, 50);
    check_round_trip("exp", 0.1, 50); /* gamma = 0.01^(1/50), irrational */
    check_round_trip("exp:gamma=0.97", 0.1, 50);
    check_round_trip("cosine", 0.1, 50);
    check_round_trip("cosine:tmax=13,min=0.0123456789", 0.1, 50);
    check_round_trip("cosine-restarts", 0.1, 50);
    check_round_trip("cosine-restarts:t0=3,tmult=3,min=1e-5", 0.1, 50);
    check_round_trip("onecycle", 0.1, 50);
    check_round_trip("onecycle:max=0.7,pct=0.123,div=7.5,final_div=333", 0.1, 50);
    check_round_trip("warmup-cosine", 0.1, 50);
    check_round_trip("warmup-cosine:warmup=9,min=0.001", 0.1, 50);
    check_round_trip("warmup", 0.1, 50);
    check_round_trip("warmup:warmup=13", 0.1, 50);
    check_round_trip("linear", 0.1, 50);
    check_round_trip("linear:warmup=9,min=0.0123456789", 0.1, 50);
    check_round_trip("wsd", 0.1, 50);
    check_round_trip("wsd:warmup=3,decay=47,min=0.001", 0.1, 50);
    check_round_trip("plateau", 0.1, 50);
    check_round_trip("plateau:factor=0.3,patience=2,threshold=0.01,cooldown=1,min=1e-4", 0.1, 50);
    check_round_trip("controller:ctl.bin", 0.1, 50);
}

/* The parse fails with a one-line message that starts with `prefix` and
 * contains `want`, and leaves *s as it was. */
static void check_error_prefixed(const char *spec, double base_lr, long total_steps,
                                 const char *prefix, const char *want) {
    schedule s;
    memset(&s, 0, sizeof s);
    s.base_lr = 42;
    int rc = schedule_parse(&s, spec, base_lr, total_steps);
    const char *msg = alrs_error();
    int ok = rc == -1 && !strncmp(msg, prefix, strlen(prefix)) && strstr(msg, want) &&
             !strchr(msg, '\n') && s.base_lr == 42;
    if (!ok) fprintf(stderr, "  '%s': rc %d, message '%s', want '%s'\n", spec, rc, msg, want);
    CHECK(ok);
}

static void check_error(const char *spec, const char *want) {
    char prefix[256];
    snprintf(prefix, sizeof prefix, "--schedule %s: ", spec);
    check_error_prefixed(spec, 0.1, 100, prefix, want);
}

static void test_parse_errors(void) {
    check_error("linearly", "unknown schedule (expected constant, step, multistep, exp, cosine, "
                            "cosine-restarts, onecycle, warmup-cosine, warmup, linear, wsd, "
                            "plateau, controller:PATH or replay:PATH)");
    check_error("", "unknown schedule");
    check_error("Step", "unknown schedule");
    check_error("step:evry=3", "unknown parameter 'evry' for step (accepts every, gamma)");
    check_error("plateau:gamma=0.5", "unknown parameter 'gamma' for plateau (accepts factor, "
                                     "patience, threshold, cooldown, min)");
    check_error("constant:x=1", "unknown parameter 'x' (constant takes no parameters)");
    check_error("step:every", "'every' is not key=value");
    check_error("step:", "empty parameter (expected key=value)");
    check_error("step:every=3,", "empty parameter");
    check_error("step:every=3,,gamma=0.5", "empty parameter");
    check_error("step:every=", "parameter 'every' has an empty value");
    check_error("step:every=abc", "parameter 'every' wants an integer");
    check_error("step:every=3.5", "parameter 'every' wants an integer");
    check_error("step:every=3x", "parameter 'every' wants an integer");
    check_error("step:every= 3", "parameter 'every' wants an integer");
    check_error("step:every=99999999999999999999", "parameter 'every' is out of range");
    check_error("exp:gamma=fast", "parameter 'gamma' wants a number");
    check_error("exp:gamma=0.5.", "parameter 'gamma' wants a number");
    check_error("exp:gamma=nan", "parameter 'gamma' wants a finite number");
    check_error("exp:gamma=inf", "parameter 'gamma' wants a finite number");
    check_error("exp:gamma=1e999", "parameter 'gamma' wants a finite number");
    check_error("step:gamma=0.5,gamma=0.2", "parameter 'gamma' given twice");
    check_error("step:gamma=0", "parameter 'gamma' must be > 0");
    check_error("multistep:gamma=-1", "parameter 'gamma' must be > 0");
    check_error("exp:gamma=0", "parameter 'gamma' must be > 0");
    check_error("plateau:factor=1", "parameter 'factor' must be in (0, 1)");
    check_error("plateau:factor=0", "parameter 'factor' must be in (0, 1)");
    check_error("plateau:threshold=-0.1", "parameter 'threshold' must be in [0, 1)");
    check_error("plateau:patience=-1", "parameter 'patience' must be >= 0");
    check_error("plateau:cooldown=-1", "parameter 'cooldown' must be >= 0");
    check_error("plateau:min=-1", "parameter 'min' must be >= 0");
    check_error("onecycle:pct=0", "parameter 'pct' must be in (0, 1)");
    check_error("onecycle:pct=1", "parameter 'pct' must be in (0, 1)");
    check_error("onecycle:max=0", "parameter 'max' must be > 0");
    check_error("onecycle:div=0", "parameter 'div' must be > 0");
    check_error("onecycle:final_div=-2", "parameter 'final_div' must be > 0");
    check_error("step:every=0", "parameter 'every' must be >= 1");
    check_error("cosine:tmax=0", "parameter 'tmax' must be >= 1");
    check_error("cosine-restarts:t0=0", "parameter 't0' must be >= 1");
    check_error("cosine-restarts:tmult=0", "parameter 'tmult' must be >= 1");
    check_error("warmup-cosine:warmup=0", "parameter 'warmup' must be >= 1");
    check_error("cosine:min=-0.1", "parameter 'min' must be >= 0");
    check_error("cosine:min=0.1", "min=0.1 must be below --lr (0.1)");
    check_error("cosine-restarts:min=1", "min=1 must be below --lr");
    check_error("warmup-cosine:min=0.5", "min=0.5 must be below --lr");
    check_error("warmup-cosine:warmup=100", "warmup=100 must be less than --steps (100)");
    check_error("warmup:warmup=0", "parameter 'warmup' must be >= 1");
    check_error("warmup:warmup=100", "warmup=100 must be less than --steps (100)");
    check_error("warmup:min=0", "unknown parameter 'min' for warmup (accepts warmup)");
    check_error("linear:warmup=150", "warmup=150 must be less than --steps (100)");
    check_error("linear:min=0.1", "min=0.1 must be below --lr (0.1)");
    check_error("wsd:decay=0", "parameter 'decay' must be >= 1");
    check_error("wsd:decay=101", "decay=101 must be at most --steps minus warmup (100 - 5)");
    check_error("wsd:decay=96", "decay=96 must be at most --steps minus warmup (100 - 5)");
    check_error("wsd:warmup=10,decay=91", "decay=91 must be at most --steps minus warmup (100 - 10)");
    check_error("wsd:warmup=100", "warmup=100 must be less than --steps (100)");
    check_error("wsd:min=0.2", "min=0.2 must be below --lr (0.1)");
    check_error("wsd:decay=x", "parameter 'decay' wants an integer");
    check_error("cosine:decay=5", "unknown parameter 'decay' for cosine (accepts tmax, min)");
    check_error("multistep:milestones=5;3", "milestones must increase (3 after 5)");
    check_error("multistep:milestones=3;3", "milestones must increase (3 after 3)");
    check_error("multistep:milestones=0;3", "parameter 'milestones' must be >= 1");
    check_error("multistep:milestones=1;;3", "'milestones' has an empty entry");
    check_error("multistep:milestones=1;3;", "'milestones' has an empty entry");
    check_error("multistep:milestones=1;x", "parameter 'milestones' wants integers separated by ';'");
    check_error("multistep:milestones=1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;21;22;"
                "23;24;25;26;27;28;29;30;31;32;33",
                "at most 32 milestones");
    check_error("controller", "wants a path (controller:PATH)");
    check_error("controller:", "wants a path (controller:PATH)");

    /* the run's own settings, named by their flags */
    check_error_prefixed("constant", 0, 100, "--lr must be positive", "(got 0)");
    check_error_prefixed("constant", -0.1, 100, "--lr must be positive", "(got -0.1)");
    check_error_prefixed("constant", NAN, 100, "--lr must be positive", "nan");
    check_error_prefixed("constant", 0.1, 0, "--steps must be at least 1", "(got 0)");
    /* a default that cannot hold for this run is still reported */
    check_error_prefixed("warmup-cosine", 0.1, 1, "--schedule warmup-cosine: ",
                         "warmup=1 must be less than --steps (1)");

    /* Control characters (found by fuzz_schedule): a newline in a controller
     * path was accepted and broke config.txt's schedule= line. */
    check_error_prefixed("controller:runs/x\nmodel=evil", 0.1, 100, "--schedule: ",
                         "control character 0x0a at position 18 (a spec is one line of text)");
    check_error_prefixed("in\na", 0.1, 100, "--schedule: ", "control character 0x0a");
    check_error_prefixed("step:every=3\r", 0.1, 100, "--schedule: ", "control character 0x0d");
    check_error_prefixed("step:\tevery=3", 0.1, 100, "--schedule: ", "control character 0x09");
    check_error_prefixed("constant\x7f", 0.1, 100, "--schedule: ", "control character 0x7f");
    CHECK(!strcmp(parsed("controller:runs/caf\xc3\xa9/c.bin", 0.1, 100).controller_path,
                  "runs/caf\xc3\xa9/c.bin")); /* UTF-8 paths stay fine */

    /* the 32 milestones that are allowed */
    schedule s = parsed("multistep:milestones=1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;"
                        "21;22;23;24;25;26;27;28;29;30;31;32",
                        0.1, 100);
    CHECK(s.n_milestones == 32);
}

/* replay:PATH holds each row's rate over the steps up to it: the rates a
 * trace.csv recorded come back step by step; bad files are refused naming
 * them. */
static void test_replay(void) {
    const char *dir = test_tmpdir("schedule");
    char path[1200], spec[1300];
    snprintf(path, sizeof path, "%s/trace.csv", dir);
    test_write_text(path, "step,lr,train_loss,val_loss\n10,0.01,1,1\n20,0.02,1,1\n25,0.005,1,1\n");
    snprintf(spec, sizeof spec, "replay:%s", path);
    schedule s = parsed(spec, 1e-3, 25);
    CHECK(s.kind == SCHED_REPLAY && s.n_replay == 3);
    CHECK(schedule_lr(&s, 0) == 0.01 && schedule_lr(&s, 9) == 0.01 && schedule_lr(&s, 10) == 0.02);
    CHECK(schedule_lr(&s, 19) == 0.02 && schedule_lr(&s, 20) == 0.005 && schedule_lr(&s, 24) == 0.005);
    CHECK(schedule_lr(&s, 99) == 0.005); /* past the last row: its rate */
    char text[1400];
    schedule_format(&s, text, sizeof text);
    CHECK(!strcmp(text, spec));
    schedule_free(&s);
    CHECK(s.replay_step == NULL && s.n_replay == 0);
    /* lr as the first column, and a CSV without the other columns */
    test_write_text(path, "lr,step\n0.5,3\n");
    s = parsed(spec, 1e-3, 3);
    CHECK(schedule_lr(&s, 2) == 0.5);
    schedule_free(&s);
    const struct {
        const char *text, *want;
    } bad[] = {{"", "empty file"},
               {"step,rate\n1,0.1\n", "no step and lr columns"},
               {"step,lr\n", "no rows after the header"},
               {"step,lr\n5,0.1\n5,0.2\n", ":3: step 5 after 5"},
               {"step,lr\n5,-0.1\n", ":2: step 5, lr -0.1"},
               {"step,lr\n2.5,0.1\n", "want a positive whole step"},
               {"step,lr\n3,nan\n", ":2:"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        test_write_text(path, bad[k].text);
        check_error_prefixed(spec, 1e-3, 10, path, bad[k].want);
    }
    snprintf(spec, sizeof spec, "replay:%s/none.csv", dir);
    check_error_prefixed(spec, 1e-3, 10, "", "cannot open the trace to replay");
    check_error("replay", "wants a path (replay:PATH)");
}

int main(void) {
    test_constant();
    test_step();
    test_multistep();
    test_exp();
    test_cosine();
    test_cosine_restarts();
    test_onecycle();
    test_warmup_cosine();
    test_warmup();
    test_linear();
    test_wsd();
    test_plateau();
    test_controller();
    test_format();
    test_round_trips();
    test_parse_errors();
    test_replay();
    test_remove_tmpdirs();
    return test_finish();
}
