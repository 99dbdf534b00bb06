#include "report/run_record.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/numfmt.h"
#include "core/fileio.h"

void run_record_fill(run_record *r, const char *phase, const char *schedule, const char *spec,
                     const char *optimizer, double lr, long seed, const train_outcome *o) {
    memset(r, 0, sizeof *r);
    snprintf(r->phase, sizeof r->phase, "%s", phase);
    snprintf(r->schedule, sizeof r->schedule, "%s", schedule);
    snprintf(r->spec, sizeof r->spec, "%s", spec);
    snprintf(r->optimizer, sizeof r->optimizer, "%s", optimizer);
    r->lr = lr;
    r->seed = seed;
    r->steps_done = o->steps_done;
    r->diverged = o->diverged;
    r->best_val_loss = o->best_val_loss;
    r->best_step = o->best_step;
    r->test_loss = o->test_loss, r->test_acc = o->test_acc;
    r->final_val_loss = o->final_val_loss, r->final_val_acc = o->final_val_acc;
    r->final_test_loss = o->final_test_loss, r->final_test_acc = o->final_test_acc;
    r->wall_s = o->wall_s;
}

int run_record_write(const run_record *r, const char *path) {
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    /* shortest round-trip numbers: a restarted comparison reads back exactly
     * what an uninterrupted one holds */
    char n[8][NUM_TEXT];
    fprintf(a.f,
            "# one finished run of alrs compare\nphase=%s\nschedule=%s\nspec=%s\noptimizer=%s\n"
            "lr=%s\n"
            "seed=%ld\nsteps_done=%ld\ndiverged=%d\nbest_val_loss=%s\nbest_step=%ld\n"
            "test_loss=%s\ntest_acc=%s\nfinal_val_loss=%s\nfinal_val_acc=%s\n"
            "final_test_loss=%s\nfinal_test_acc=%s\nwall_s=%.3f\n",
            r->phase, r->schedule, r->spec, r->optimizer, num_format(n[0], r->lr), r->seed, r->steps_done,
            r->diverged, num_format(n[1], r->best_val_loss), r->best_step,
            num_format(n[2], r->test_loss), num_format(n[3], r->test_acc),
            num_format(n[4], r->final_val_loss), num_format(n[5], r->final_val_acc),
            num_format(n[6], r->final_test_loss), num_format(n[7], r->final_test_acc), r->wall_s);
    return atomic_commit(&a);
}

static int get_text(const config_file *c, const char *path, const char *key, char *out,
                    size_t size) {
    const char *v = config_get(c, key);
    if (!v) return alrs_fail("%s: no '%s' entry (not a finished run's record)", path, key);
    if (strlen(v) >= size) return alrs_fail("%s: '%s' is too long", path, key);
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

/* strtod reads "nan", which the writer prints for a run that never validated. */
static int get_double(const config_file *c, const char *path, const char *key, double *out) {
    const char *v = config_get(c, key);
    if (!v) return alrs_fail("%s: no '%s' entry (not a finished run's record)", path, key);
    char *end;
    errno = 0;
    *out = strtod(v, &end);
    if (end == v || *end) return alrs_fail("%s: %s=%s is not a number", path, key, v);
    return 0;
}

static int get_long(const config_file *c, const char *path, const char *key, long *out) {
    double d = 0;
    if (get_double(c, path, key, &d) != 0) return -1;
    if (d != floor(d) || fabs(d) > 9e15)
        return alrs_fail("%s: %s=%s is not an integer", path, key, config_get(c, key));
    *out = (long)d;
    return 0;
}

/* A key that records of older versions lack: "" when missing. */
static int get_optional_text(const config_file *c, const char *path, const char *key, char *out,
                             size_t size) {
    if (!config_get(c, key)) return out[0] = '\0', 0;
    return get_text(c, path, key, out, size);
}

int run_record_read(run_record *r, const char *path) {
    memset(r, 0, sizeof *r);
    config_file c;
    if (config_read(&c, path) != 0) return -1;
    long diverged = 0;
    int rc = get_text(&c, path, "phase", r->phase, sizeof r->phase) ||
             get_text(&c, path, "schedule", r->schedule, sizeof r->schedule) ||
             get_text(&c, path, "spec", r->spec, sizeof r->spec) ||
             get_optional_text(&c, path, "optimizer", r->optimizer, sizeof r->optimizer) ||
             get_double(&c, path, "lr", &r->lr) || get_long(&c, path, "seed", &r->seed) ||
             get_long(&c, path, "steps_done", &r->steps_done) ||
             get_long(&c, path, "diverged", &diverged) ||
             get_double(&c, path, "best_val_loss", &r->best_val_loss) ||
             get_long(&c, path, "best_step", &r->best_step) ||
             get_double(&c, path, "test_loss", &r->test_loss) ||
             get_double(&c, path, "test_acc", &r->test_acc) ||
             get_double(&c, path, "final_val_loss", &r->final_val_loss) ||
             get_double(&c, path, "final_val_acc", &r->final_val_acc) ||
             get_double(&c, path, "final_test_loss", &r->final_test_loss) ||
             get_double(&c, path, "final_test_acc", &r->final_test_acc) ||
             get_double(&c, path, "wall_s", &r->wall_s);
    r->diverged = (int)diverged;
    config_free(&c);
    return rc ? -1 : 0;
}
