/* Controller checkpoints: a trained-looking controller (every part of its
 * state nonzero) survives save -> load -> save byte for byte, and the loaded
 * controller acts exactly as the saved one (normaliser included); the layout
 * is little-endian as documented; a missing file, a wrong magic, an
 * unsupported version, a truncated file, an extra byte, a flipped payload
 * byte, a payload whose sizes disagree with its config (with a correct
 * checksum), and a config implying more than the payload holds (before any
 * allocation) are each refused with one line naming the path. */
#include "core/error.h"
#include "rl/checkpoint.h"
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(d, 1, (size_t)n, f);
    fclose(f);
    return d;
}

static void spit(const char *path, const unsigned char *d, size_t len) {
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, len, f);
    fclose(f);
}

/* A controller with every part of its state touched by one PPO update. */
static void make_trained(controller *c, action_kind kind) {
    policy_config pc = policy_config_default(4, kind);
    pc.hidden[1] = 16;
    pc.delta = 0.1;
    rng_stream r = rng_make(9, 0), sh = rng_make(9, 1);
    rng_stream envs[3] = {rng_make(9, 10), rng_make(9, 11), rng_make(9, 12)};
    if (controller_init(c, &pc, 3, 0.99, &r) != 0) fprintf(stderr, "%s\n", alrs_error());
    rollout b;
    rollout_init(&b, 8, 3, 4);
    double raw[12], obs[12], a[3], lp[3], v[3], rew[3], scaled[3];
    unsigned char done[3] = {0, 0, 0};
    for (int t = 0; t < 8; t++) {
        for (int i = 0; i < 12; i++) raw[i] = 5 + 3 * rng_normal(&r);
        controller_observe(c, raw, 3, 1, obs);
        policy_act(&c->pol, obs, 3, envs, a, lp, v);
        for (int e = 0; e < 3; e++) rew[e] = raw[3 * e] - 5;
        done[1] = t == 4;
        reward_scaler_scale(&c->rewards, rew, done, scaled);
        rollout_record(&b, t, obs, a, lp, v);
        rollout_outcome(&b, t, scaled, done, NULL, NULL);
    }
    double last[3] = {0.1, 0.2, 0.3};
    rollout_gae(&b, last, 0.99, 0.95);
    ppo_config cfg = ppo_config_default();
    ppo_stats s;
    if (controller_update(c, &cfg, &b, &sh, &s) != 0) fprintf(stderr, "%s\n", alrs_error());
    rollout_free(&b);
}

static void test_round_trip(action_kind kind, const char *dir) {
    controller c, d;
    make_trained(&c, kind);
    char p1[2048], p2[2048];
    snprintf(p1, sizeof p1, "%s/a.ckpt", dir);
    snprintf(p2, sizeof p2, "%s/b.ckpt", dir);
    CHECK(checkpoint_save(&c, p1) == 0);
    CHECK(checkpoint_load(&d, p1) == 0);
    CHECK(checkpoint_save(&d, p2) == 0);
    size_t n1, n2;
    unsigned char *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    /* size: header + config + params + Adam + normaliser + scaler + updates */
    size_t np = c.pol.n_params;
    size_t want = 32 + (4 + 4 + 8 + 4 + 4 + 2 * 4 + 8) + (8 + 8 * np) + (8 + 8 + 24 + 16 * np) +
                  (4 + 24 + 16 * 4) + (48 + 4 + 8 * 3) + 8;
    CHECK(n1 == want);
    /* the state itself */
    CHECK(d.pol.cfg.kind == kind && d.pol.cfg.obs_size == 4 && d.pol.cfg.hidden[1] == 16);
    CHECK(d.pol.cfg.delta == 0.1);
    CHECK(memcmp(c.pol.params, d.pol.params, sizeof(double) * np) == 0);
    CHECK(memcmp(c.adam.m, d.adam.m, sizeof(double) * np) == 0);
    CHECK(memcmp(c.adam.v, d.adam.v, sizeof(double) * np) == 0);
    CHECK(c.adam.t == d.adam.t && c.adam.t == 16); /* 4 epochs x 4 minibatches */
    CHECK(d.updates == 1);
    CHECK(d.obs_norm.stats.count == 24 && d.obs_norm.stats.mean[2] == c.obs_norm.stats.mean[2]);
    CHECK(d.rewards.stats.count == 24 && d.rewards.n_envs == 3 && d.rewards.ret[1] == c.rewards.ret[1]);
    /* the loaded controller acts exactly as the saved one on raw observations */
    double raw[4] = {7, 2, 5, 9}, o1[4], o2[4], m1, m2;
    controller_observe(&c, raw, 1, 0, o1);
    controller_observe(&d, raw, 1, 0, o2);
    policy_mode(&c.pol, o1, 1, &m1);
    policy_mode(&d.pol, o2, 1, &m2);
    CHECK(memcmp(o1, o2, sizeof o1) == 0 && m1 == m2);
    /* little-endian header as documented */
    CHECK(memcmp(b1, "ALRSCTRL", 8) == 0);
    CHECK(b1[8] == 1 && b1[9] == 0 && b1[10] == 0 && b1[11] == 0);
    uint64_t size = 0;
    for (int i = 7; i >= 0; i--) size = size << 8 | b1[16 + i];
    CHECK(size == n1 - 32);
    CHECK(b1[32] == 4 && b1[33] == 0); /* obs_size 4 */
    /* no temporary file left behind */
    char tmp[2100];
    snprintf(tmp, sizeof tmp, "ls '%s' | wc -l | grep -qx 2", dir);
    CHECK(system(tmp) == 0);
    free(b1), free(b2);
    controller_free(&c), controller_free(&d);
}

/* Loading `data` must fail with a message containing the path and `what`. */
static void expect_reject(const char *path, const unsigned char *data, size_t len,
                          const char *what) {
    spit(path, data, len);
    controller c;
    int rc = checkpoint_load(&c, path);
    CHECK(rc == -1);
    const char *msg = alrs_error();
    int ok = strstr(msg, path) != NULL && strstr(msg, what) != NULL && !strchr(msg, '\n');
    if (!ok) fprintf(stderr, "  expected '%s' in: %s\n", what, msg);
    else printf("  rejected: %s\n", msg);
    CHECK(ok);
    if (rc == 0) controller_free(&c);
}

static void put_u32le(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Recomputes the header's checksum after editing the payload. */
static void fix_crc(unsigned char *d, size_t len) {
    put_u32le(d + 24, (uint32_t)crc32(crc32(0L, Z_NULL, 0), d + 32, (uInt)(len - 32)));
}

static void test_rejections(const char *dir) {
    controller c;
    make_trained(&c, ACTION_CONTINUOUS);
    char good[2048], bad[2048];
    snprintf(good, sizeof good, "%s/good.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    CHECK(checkpoint_save(&c, good) == 0);
    size_t len;
    unsigned char *d = slurp(good, &len), *e = malloc(len + 1);

    controller x;
    char missing[2100];
    snprintf(missing, sizeof missing, "%s/none.ckpt", dir);
    CHECK(checkpoint_load(&x, missing) == -1);
    CHECK(strstr(alrs_error(), missing) && strstr(alrs_error(), "No such file"));

    expect_reject(bad, d, 0, "wrong magic"); /* empty file */
    memcpy(e, d, len);
    e[0] = 'X';
    expect_reject(bad, e, len, "wrong magic");
    expect_reject(bad, (const unsigned char *)"hello world, this is not it", 27, "wrong magic");
    memcpy(e, d, len);
    put_u32le(e + 8, 2);
    expect_reject(bad, e, len, "version 2 not supported");
    expect_reject(bad, d, 20, "truncated");        /* inside the header */
    expect_reject(bad, d, len - 1, "truncated");   /* one byte short */
    expect_reject(bad, d, len / 2, "truncated");
    memcpy(e, d, len);
    e[len] = 0;
    expect_reject(bad, e, len + 1, "oversized");   /* one byte extra */
    for (size_t at = 32; at < len; at += (len - 32) / 7) { /* a flipped byte anywhere */
        memcpy(e, d, len);
        e[at] ^= 0x10;
        expect_reject(bad, e, len, "checksum mismatch");
    }
    memcpy(e, d, len);
    e[24] ^= 1; /* the stored checksum itself */
    expect_reject(bad, e, len, "checksum mismatch");
    /* consistent checksum, inconsistent contents: */
    memcpy(e, d, len);
    put_u32le(e + 32, 5); /* obs_size 5: the parameter count no longer matches */
    fix_crc(e, len);
    expect_reject(bad, e, len, "inconsistent sizes: parameter count");
    memcpy(e, d, len);
    put_u32le(e + 32 + 20, 9); /* 9 hidden layers */
    fix_crc(e, len);
    expect_reject(bad, e, len, "inconsistent sizes: 9 hidden layers");
    memcpy(e, d, len);
    put_u32le(e + 32 + 4, 7); /* action kind 7 */
    fix_crc(e, len);
    expect_reject(bad, e, len, "unknown action kind 7");
    /* a shorter payload with a matching header size and checksum: ends early */
    memcpy(e, d, len);
    size_t shorter = len - 16;
    for (int i = 0; i < 8; i++) e[16 + i] = (unsigned char)((uint64_t)(shorter - 32) >> (8 * i));
    fix_crc(e, shorter);
    expect_reject(bad, e, shorter, "inconsistent sizes");
    /* A config claiming 4096-wide layers and nothing after it (found by
     * fuzz_checkpoint): refused from the sizes alone. It used to allocate
     * ~4 GB first, and abort where memory was limited. */
    {
        unsigned char w[32 + 52];
        memcpy(w, d, 32);
        put_u32le(w + 32, 4096);     /* obs_size */
        put_u32le(w + 36, 0);        /* discrete */
        memcpy(w + 40, d + 40, 8);   /* delta */
        put_u32le(w + 48, 0);        /* tanh */
        put_u32le(w + 52, 4);        /* 4 hidden layers */
        for (int i = 0; i < 4; i++) put_u32le(w + 56 + 4 * i, 4096);
        memset(w + 72, 0, 12);       /* init_log_std 0, then 4 bytes of nothing */
        for (int i = 0; i < 8; i++) w[16 + i] = (unsigned char)((uint64_t)52 >> (8 * i));
        fix_crc(w, sizeof w);
        expect_reject(bad, w, sizeof w,
                      "inconsistent sizes: parameter count: the config implies 134266884 "
                      "parameters (3222470752 bytes with Adam's moments and the normaliser), "
                      "but only 4 bytes follow it");
    }
    /* a directory is not a checkpoint */
    CHECK(checkpoint_load(&x, dir) == -1);
    CHECK(strstr(alrs_error(), dir) != NULL);
    /* saving into a missing directory fails with the path */
    char nodir[2100];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/c.ckpt", dir);
    CHECK(checkpoint_save(&c, nodir) == -1);
    CHECK(strstr(alrs_error(), nodir) != NULL);
    /* the good file still loads after all that */
    CHECK(checkpoint_load(&x, good) == 0);
    controller_free(&x);
    free(d), free(e);
    controller_free(&c);
}

int main(void) {
    const char *dir = test_tmpdir("rl-checkpoint");
    char a[1100], b[1100], c[1100];
    snprintf(a, sizeof a, "%s/discrete", dir);
    snprintf(b, sizeof b, "%s/continuous", dir);
    snprintf(c, sizeof c, "%s/bad", dir);
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s' '%s'", a, b, c);
    if (system(cmd) != 0) return 2;
    test_round_trip(ACTION_DISCRETE, a);
    test_round_trip(ACTION_CONTINUOUS, b);
    test_rejections(c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 2;
    return test_finish();
}
