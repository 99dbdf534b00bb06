#include "run/train_checkpoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

#define NOUN "alrs train checkpoint"
enum { KIND_SCHEDULE = 0, KIND_CONTROLLER = 1 };

static void put_outcome(byte_buf *b, const train_outcome *o) {
    bytes_put_f64(b, o->final_val_loss), bytes_put_f64(b, o->final_val_acc);
    bytes_put_u64(b, (uint64_t)o->rss_first_kib);
    bytes_put_u64(b, (uint64_t)o->n_trace);
    for (int i = 0; i < o->n_trace; i++) {
        const trace_point *p = &o->trace[i];
        double row[7] = {(double)p->step, p->lr,     p->train_loss, p->val_loss,
                         p->val_acc,      p->wall_s, p->d};
        bytes_put_f64s(b, row, 7);
    }
}

/* Version 1 rows have no d (NaN). */
static int get_outcome(byte_reader *r, train_outcome *o, const char *path, uint32_t version) {
    int cols = version >= 2 ? 7 : 6;
    o->final_val_loss = bytes_get_f64(r), o->final_val_acc = bytes_get_f64(r);
    o->rss_first_kib = (long)bytes_get_u64(r);
    uint64_t n = bytes_get_u64(r);
    if (r->overrun || n > bytes_left(r) / (8 * (size_t)cols))
        return alrs_fail("%s: the checkpoint's trace does not fit in the file", path);
    for (uint64_t i = 0; i < n; i++) {
        double row[7] = {0, 0, 0, 0, 0, 0, NAN};
        bytes_get_f64s(r, row, cols);
        trace_point p = {(long)row[0], row[1], row[2], row[3], row[4], row[5], row[6]};
        trainer_add_point(o, &p);
    }
    return 0;
}

static void put_schedule(byte_buf *b, const schedule *s) {
    bytes_put_f64(b, s->plateau_lr), bytes_put_f64(b, s->plateau_best);
    bytes_put_u64(b, (uint64_t)s->plateau_bad), bytes_put_u64(b, (uint64_t)s->plateau_cooldown_left);
}

static void get_schedule(byte_reader *r, schedule *s) {
    s->plateau_lr = bytes_get_f64(r), s->plateau_best = bytes_get_f64(r);
    s->plateau_bad = (long)bytes_get_u64(r), s->plateau_cooldown_left = (long)bytes_get_u64(r);
}

int train_checkpoint_save(const char *path, const child_run *run, const lr_env *env,
                          const schedule *s, const train_outcome *o, const train_progress *p,
                          uint64_t seed, double lr, const rng_stream *pick) {
    byte_buf b = {0};
    bytes_put_u32(&b, pick ? KIND_CONTROLLER : KIND_SCHEDULE);
    bytes_put_u64(&b, seed);
    bytes_put_f64(&b, lr);
    bytes_put_u64(&b, (uint64_t)p->step);
    bytes_put_f64(&b, p->loss_sum);
    bytes_put_u64(&b, (uint64_t)p->loss_count);
    bytes_put_f64(&b, p->elapsed_s);
    put_outcome(&b, o);
    put_schedule(&b, s);
    if (pick) {
        bytes_put_u64(&b, pick->key), bytes_put_u64(&b, pick->counter);
        lr_env_save(env, &b);
    } else {
        child_run_save(run, &b);
    }
    int rc = binfile_write(path, TRAIN_CHECKPOINT_MAGIC, TRAIN_CHECKPOINT_VERSION, &b);
    bytes_free(&b);
    return rc;
}

static int load_payload(byte_reader *r, const char *path, uint32_t version, child_run *run,
                        lr_env *env, long steps, schedule *s, train_outcome *o,
                        train_progress *p, uint64_t seed, double lr, rng_stream *pick) {
    uint32_t kind = bytes_get_u32(r);
    uint64_t got_seed = bytes_get_u64(r);
    double got_lr = bytes_get_f64(r);
    if (r->overrun || kind != (pick ? KIND_CONTROLLER : KIND_SCHEDULE) || got_seed != seed ||
        got_lr != lr)
        return alrs_fail("%s: holds another run (a %s run, seed %llu, lr %g; this one: a %s run, "
                         "seed %llu, lr %g)", path, kind ? "controller" : "schedule",
                         (unsigned long long)got_seed, got_lr, pick ? "controller" : "schedule",
                         (unsigned long long)seed, lr);
    p->step = (long)bytes_get_u64(r);
    p->loss_sum = bytes_get_f64(r);
    p->loss_count = (long)bytes_get_u64(r);
    p->elapsed_s = bytes_get_f64(r);
    if (p->step < 0 || p->step > steps || p->loss_count < 0)
        return alrs_fail("%s: step %ld is not within this run's %ld steps", path, p->step,
                         steps);
    if (get_outcome(r, o, path, version) != 0) return -1;
    get_schedule(r, s);
    if (pick) {
        pick->key = bytes_get_u64(r), pick->counter = bytes_get_u64(r);
        if (lr_env_load(env, r, path) != 0) return -1;
    } else if (child_run_load(run, r, path) != 0) {
        return -1;
    }
    if (r->overrun || bytes_left(r) != 0)
        return alrs_fail("%s: inconsistent sizes: the checkpoint does not end where it should",
                         path);
    return 0;
}

int train_checkpoint_load(const char *path, child_run *run, lr_env *env, long steps,
                          schedule *s, train_outcome *o, train_progress *p, uint64_t seed,
                          double lr, rng_stream *pick) {
    unsigned char *data;
    size_t len;
    if (binfile_read(path, TRAIN_CHECKPOINT_MAGIC, NOUN, &data, &len) != 0) return -1;
    byte_reader r;
    uint32_t version;
    int rc = binfile_check(path, TRAIN_CHECKPOINT_MAGIC, NOUN, 1, TRAIN_CHECKPOINT_VERSION, data,
                           len, &r, &version);
    if (rc == 0) rc = load_payload(&r, path, version, run, env, steps, s, o, p, seed, lr, pick);
    free(data);
    return rc;
}
