#include "compare/phase.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "report/compare_report.h"
#include "dist/dist.h"


void phase_alloc(phase_runs *p, const phase_config *cfg, const char *dir, const char *phase,
                 int capacity) {
    memset(p, 0, sizeof *p);
    p->cfg = cfg, p->dir = dir, p->phase = phase;
    size_t c = (size_t)(capacity > 0 ? capacity : 1);
    p->jobs = alrs_calloc(c, sizeof *p->jobs);
    p->runs = alrs_calloc(c, sizeof *p->runs);
}

void phase_free(phase_runs *p) {
    for (int j = 0; j < p->n; j++) free(p->runs[j].trace);
    free(p->jobs), free(p->runs);
    memset(p, 0, sizeof *p);
}

void phase_add(phase_runs *p, const char *schedule, const grid_point *g, int point, long seed,
               const char *name) {
    int j = p->n++;
    p->runs[j].schedule = schedule;
    p->runs[j].point = point;
    memcpy(p->runs[j].spec, g->spec, sizeof p->runs[j].spec); /* same size, NUL-terminated */
    p->jobs[j].spec = p->runs[j].spec;
    /* the optimizer is resolved here so that the record names the one that ran */
    snprintf(p->runs[j].optimizer, sizeof p->runs[j].optimizer, "%s",
             g->optimizer[0] ? g->optimizer : p->cfg->queue.child.optimizer);
    p->jobs[j].optimizer = p->runs[j].optimizer;
    p->jobs[j].lr = g->lr;
    p->jobs[j].seed = (uint64_t)seed;
    snprintf(p->runs[j].file, sizeof p->runs[j].file, "%s/runs/%s.txt", p->dir, name);
}

/* Specs name the same schedule; a controller's path may be spelled another
 * way (config.txt's checksum says it is the same checkpoint). */
static int same_spec(const char *a, const char *b) {
    if (!strncmp(a, "controller:", 11) && !strncmp(b, "controller:", 11)) return 1;
    return !strcmp(a, b);
}

/* A record names the optimizer that ran; one written before records named
 * it ran the comparison's --optimizer (config.txt checks that is unchanged),
 * as every row did then. */
static int same_optimizer(const run_record *r, const phase_runs *p, int j) {
    const char *recorded = r->optimizer[0] ? r->optimizer : p->cfg->queue.child.optimizer;
    return !strcmp(recorded, p->runs[j].optimizer);
}

/* Reads the records a previous invocation left; each must be the run this
 * comparison wants (same schedule, spec, optimizer, rate and seed). */
static int phase_load(phase_runs *p) {
    for (int j = 0; j < p->n; j++) {
        if (!path_exists(p->runs[j].file)) continue;
        run_record *r = &p->runs[j].rec;
        if (run_record_read(r, p->runs[j].file) != 0) return -1;
        if (strcmp(r->phase, p->phase) || strcmp(r->schedule, p->runs[j].schedule) ||
            !same_spec(r->spec, p->jobs[j].spec) || !same_optimizer(r, p, j) ||
            r->lr != p->jobs[j].lr || r->seed != (long)p->jobs[j].seed)
            return alrs_fail("%s: records %s '%s' (%s) at lr %g, seed %ld, but this comparison "
                             "wants '%s' (%s) at lr %g, seed %ld there (use another --out)",
                             p->runs[j].file, r->schedule, r->spec,
                             r->optimizer[0] ? r->optimizer : p->cfg->queue.child.optimizer, r->lr,
                             r->seed, p->jobs[j].spec, p->runs[j].optimizer, p->jobs[j].lr,
                             (long)p->jobs[j].seed);
        /* an older record's CSV rows name the optimizer that ran all the same */
        if (!r->optimizer[0]) snprintf(r->optimizer, sizeof r->optimizer, "%s", p->runs[j].optimizer);
        p->runs[j].have = 1;
        p->recorded_before++;
    }
    return 0;
}

int phase_complete(const phase_runs *p) {
    int done = 0;
    for (int j = 0; j < p->n; j++) done += p->runs[j].have;
    return done == p->n;
}

double phase_point_mean(const phase_runs *p, int j) {
    double sum = 0;
    int n = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->runs[i].point != p->runs[j].point || strcmp(p->runs[i].schedule, p->runs[j].schedule)) continue;
        if (!p->runs[i].have || !isfinite(p->runs[i].rec.best_val_loss)) return NAN;
        sum += p->runs[i].rec.best_val_loss;
        n++;
    }
    return sum / n;
}

int phase_best(const phase_runs *p, const char *schedule) {
    int best = -1;
    double best_mean = INFINITY;
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->runs[i].schedule, schedule)) continue;
        int first = 1; /* each point once: at its first run */
        for (int k = 0; k < i && first; k++)
            first = !(p->runs[k].point == p->runs[i].point && !strcmp(p->runs[k].schedule, schedule));
        double m = first ? phase_point_mean(p, i) : NAN;
        if (isfinite(m) && m < best_mean) best = i, best_mean = m;
    }
    return best;
}

/* Rebuilds the phase's CSV from the finished records, in job order. */
static int phase_write_csv(const phase_runs *p) {
    run_record *rows = alrs_calloc((size_t)p->n + 1, sizeof *rows);
    int *selected = alrs_calloc((size_t)p->n + 1, sizeof *selected);
    int m = 0;
    double *means = alrs_calloc((size_t)p->n + 1, sizeof *means);
    for (int j = 0; j < p->n; j++) {
        if (!p->runs[j].have) continue;
        int best = phase_best(p, p->runs[j].schedule);
        selected[m] = best >= 0 && p->runs[best].point == p->runs[j].point;
        means[m] = phase_point_mean(p, j);
        rows[m++] = p->runs[j].rec;
    }
    char path[ALRS_FILE_PATH_MAX];
    int rc;
    if (!strcmp(p->phase, "tune")) {
        snprintf(path, sizeof path, "%s/tuning.csv", p->dir);
        rc = compare_write_tuning(path, rows, means, selected, m);
    } else {
        snprintf(path, sizeof path, "%s/compare.csv", p->dir);
        rc = compare_write_runs(path, rows, m);
    }
    free(rows);
    free(selected);
    free(means);
    return rc;
}

static int write_trace(const char *record_path, const trace_point *points, int n) {
    char path[ALRS_FILE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%.*s.trace.csv", (int)strlen(record_path) - 4, record_path);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "step,lr,train_loss,val_loss,val_acc,wall_s\n");
    for (int i = 0; i < n; i++) {
        const trace_point *t = &points[i];
        fprintf(a.f, "%ld,%.9g,%.6f,%.6f,%.6f,%.3f\n", t->step, t->lr, t->train_loss, t->val_loss,
                t->val_acc, t->wall_s);
    }
    return atomic_commit(&a);
}

/* A finished run on disk (rank 0): its trace (evaluation runs), its record,
 * then the phase's CSV; and a progress line. */
static int record_run(phase_runs *p, int j, const trace_point *trace, int n_trace) {
    run_record *r = &p->runs[j].rec;
    if (!strcmp(p->phase, "eval") && write_trace(p->runs[j].file, trace, n_trace) != 0) return -1;
    if (run_record_write(r, p->runs[j].file) != 0 || phase_write_csv(p) != 0) return -1;
    int done = 0;
    for (int i = 0; i < p->n; i++) done += p->runs[i].have;
    double per_run = (alrs_now() - p->start) / (done - p->recorded_before);
    fprintf(stderr, "%s: %s %d/%d  %-13s lr %-7.3g seed %-5ld best val %.4f%s  (%.1f s; "
                    "about %.0f s left)\n",
            p->cfg->who ? p->cfg->who : "compare", p->phase, done, p->n, r->schedule, r->lr, r->seed, r->best_val_loss,
            r->diverged ? " diverged" : "", r->wall_s, (p->n - done) * per_run);
    return 0;
}

/* run_queue's done: rank 0 records the run at once; other ranks keep it (and
 * its trace) until they hand it over. */
static int on_run_done(void *ctx, int j, const queued_run *run, const train_outcome *o) {
    phase_runs *p = ctx;
    run_record_fill(&p->runs[j].rec, p->phase, p->runs[j].schedule, run->spec, run->optimizer,
                    run->lr, (long)run->seed, o);
    p->runs[j].have = 1;
    p->runs[j].mine = 1;
    p->finished++;
    if (dist_rank() == 0) return record_run(p, j, o->trace, o->n_trace);
    size_t bytes = sizeof(trace_point) * (size_t)o->n_trace;
    p->runs[j].trace = alrs_malloc(bytes + 1);
    memcpy(p->runs[j].trace, o->trace, bytes);
    p->runs[j].n_trace = o->n_trace;
    return 0;
}

/* After a phase every rank learns every run's record from its owner (the
 * tuning figures decide what the evaluation runs), and rank 0 the traces of
 * the runs of other ranks, which it records. */
static int hand_over(phase_runs *p, int ranks) {
    int rc = 0, root = dist_rank() == 0;
    for (int j = 0; j < p->n; j++) {
        int owner = j % ranks;
        unsigned char ran = p->runs[j].mine;
        dist_bcast(&ran, 1, owner);
        if (!ran) continue;
        dist_bcast(&p->runs[j].rec, sizeof p->runs[j].rec, owner);
        p->runs[j].have = 1;
        if (owner == 0) continue; /* rank 0 recorded it when it finished */
        dist_bcast(&p->runs[j].n_trace, sizeof p->runs[j].n_trace, owner);
        size_t bytes = sizeof(trace_point) * (size_t)p->runs[j].n_trace;
        if (root) p->runs[j].trace = alrs_malloc(bytes + 1);
        if (root || dist_rank() == owner) dist_bcast(p->runs[j].trace, bytes, owner);
        else {
            trace_point *scratch = alrs_malloc(bytes + 1);
            dist_bcast(scratch, bytes, owner);
            free(scratch);
        }
        if (root && rc == 0) rc = record_run(p, j, p->runs[j].trace, p->runs[j].n_trace);
    }
    return rc;
}

/* Rank 0 reads the records on disk and tells the other ranks which runs
 * are done (they need the tuning figures to pick the winners). */
static int load_everywhere(phase_runs *p) {
    int rc = dist_rank() == 0 ? phase_load(p) : 0;
    if (dist_agree(rc) != 0) return -1;
    for (int j = 0; j < p->n; j++) {
        dist_bcast(&p->runs[j].have, 1, 0);
        dist_bcast(&p->runs[j].rec, sizeof p->runs[j].rec, 0);
    }
    dist_bcast(&p->recorded_before, sizeof p->recorded_before, 0);
    return 0;
}

int phase_run(phase_runs *p, const dataset *data) {
    int root = dist_rank() == 0, ranks = dist_size();
    if (load_everywhere(p) != 0) return -1;
    if (root && p->recorded_before) {
        fprintf(stderr, "%s: %s: %d of %d runs already recorded in %s/runs\n",
                p->cfg->who ? p->cfg->who : "compare", p->phase,
                p->recorded_before, p->n, p->dir);
        if (phase_write_csv(p) != 0) return -1;
    }
    /* this rank runs run j when j mod ranks is its rank (or, with --shard I/N,
     * j mod N is I) and it is not done */
    unsigned char *skip = alrs_malloc((size_t)p->n + 1);
    for (int j = 0; j < p->n; j++)
        skip[j] = p->runs[j].have || j % ranks != dist_rank() || j % p->cfg->shards != p->cfg->shard;
    p->start = alrs_now();
    int rc = run_queue_execute(&p->cfg->queue, data, p->jobs, p->n, skip, NULL, on_run_done, p);
    free(skip);
    if (ranks == 1) return rc;
    /* every rank's finished runs reach rank 0, interrupted or not */
    int stopped = rc == 1, any_stopped = 0;
    int *all = alrs_calloc((size_t)ranks, sizeof *all);
    dist_allgather(&stopped, sizeof stopped, all);
    for (int r = 0; r < ranks; r++) any_stopped |= all[r];
    free(all);
    if (dist_agree(rc < 0 ? -1 : 0) != 0) return -1;
    if (dist_agree(hand_over(p, ranks)) != 0) return -1;
    return any_stopped ? 1 : 0;
}

/* traces.csv: the evaluation runs' traces, one file, schedule and seed first. */
int phase_write_traces(const phase_runs *p) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/traces.csv", p->dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "schedule,seed,step,lr,train_loss,val_loss,val_acc,wall_s\n");
    for (int j = 0; j < p->n; j++) {
        char trace[ALRS_FILE_PATH_MAX + 16], line[512];
        snprintf(trace, sizeof trace, "%.*s.trace.csv", (int)strlen(p->runs[j].file) - 4, p->runs[j].file);
        FILE *in = fopen(trace, "r");
        if (!in) {
            atomic_abort(&a);
            return alrs_fail("%s: missing (a run's trace; remove its .txt record to rerun it)",
                             trace);
        }
        for (int row = 0; fgets(line, sizeof line, in); row++)
            if (row > 0) fprintf(a.f, "%s,%ld,%s", p->runs[j].schedule, (long)p->jobs[j].seed, line);
        fclose(in);
    }
    return atomic_commit(&a);
}

int phase_setup_points(const phase_setup *ps, int k, grid_point *g) {
    return baseline_grid(ps->schedules[k], ps->steps, ps->budget, &ps->controller, ps->rates,
                         ps->n_rates, g);
}

void phase_add_tuning(phase_runs *p, const phase_setup *ps) {
    grid_point *g = alrs_calloc(BASELINE_MAX_POINTS, sizeof *g); /* 4 KiB a point */
    for (int k = 0; k < ps->n_schedules; k++) {
        int n = phase_setup_points(ps, k, g);
        for (int i = 0; i < n; i++)
            for (long s = 0; s < ps->tune_seeds; s++) {
                char name[96];
                snprintf(name, sizeof name, "tune-%s-%02d-seed%ld", ps->schedules[k], i,
                         ps->tune_seed - s);
                phase_add(p, ps->schedules[k], &g[i], i, ps->tune_seed - s, name);
            }
    }
    free(g);
}

void phase_add_evaluation(phase_runs *p, const phase_setup *ps, const char *name,
                          const grid_point *g) {
    for (long s = 0; s < ps->seeds; s++) {
        char file[96];
        snprintf(file, sizeof file, "eval-%s-seed%ld", name, ps->seed_base + s);
        phase_add(p, name, g, 0, ps->seed_base + s, file);
    }
}

void phase_add_winners(phase_runs *eval, const phase_runs *tune, const phase_setup *ps,
                       const char *task, int announce) {
    const char *who = eval->cfg->who ? eval->cfg->who : "compare";
    for (int k = 0; k < ps->n_schedules; k++) {
        int best = phase_best(tune, ps->schedules[k]);
        if (best < 0) {
            if (dist_rank() == 0)
                fprintf(stderr, "%s: warning: %s%s%severy tuning run of %s diverged before its "
                                "first validation; it is left out\n", who, task ? "task " : "",
                        task ? task : "", task ? ": " : "", ps->schedules[k]);
            continue;
        }
        grid_point g;
        snprintf(g.spec, sizeof g.spec, "%s", tune->runs[best].spec);
        g.lr = tune->jobs[best].lr;
        snprintf(g.optimizer, sizeof g.optimizer, "%s", tune->runs[best].optimizer);
        if (announce && dist_rank() == 0)
            fprintf(stderr, "%s: %s tuned: %s at lr %g (mean best val loss %.4f over %ld "
                            "tuning seeds)\n", who, ps->schedules[k], g.spec, g.lr,
                    phase_point_mean(tune, best), ps->tune_seeds);
        phase_add_evaluation(eval, ps, ps->schedules[k], &g);
    }
}
