#include "run/run_queue.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/interrupt.h"
#include "run/teams.h"
#include "sched/schedule.h"

int run_queue_teams(const run_queue_config *cfg, int n_jobs) {
    int teams = cfg->concurrency;
    if (teams <= 0) {
        team_layout t;
        int cores = teams_init(&t, 1, 1) == 0 ? t.n_cores : 1;
        teams_free(&t);
        teams = cores / cfg->threads_per_run > 0 ? cores / cfg->threads_per_run : 1;
    }
    if (teams > n_jobs) teams = n_jobs;
    return teams > 0 ? teams : 1;
}

typedef struct {
    const run_queue_config *cfg;
    const dataset *data;
    const queued_run *jobs;
    int n_jobs, next;
    const unsigned char *skip;
    run_start_fn start;
    run_done_fn done;
    void *ctx;
    int failed, interrupted;
    char error[1024];
} queue_state;

static void record_failure(queue_state *q) {
#pragma omp critical(run_queue_lock)
    if (!q->failed) {
        q->failed = 1;
        snprintf(q->error, sizeof q->error, "%s", alrs_error());
    }
}

/* The next job to run, or -1 when none is left or the queue must stop. */
static int take_job(queue_state *q) {
    int job = -1;
#pragma omp critical(run_queue_lock)
    {
        if (interrupt_requested()) q->interrupted = 1;
        while (!q->failed && !q->interrupted && q->next < q->n_jobs && job < 0) {
            int j = q->next++;
            if (q->skip && q->skip[j]) continue;
            job = j;
            if (q->start) q->start(q->ctx, j, &q->jobs[j]);
        }
    }
    return job;
}

/* The optimizer job `run` trains with. */
static const char *job_optimizer(const queue_state *q, const queued_run *run) {
    return run->optimizer && run->optimizer[0] ? run->optimizer : q->cfg->child.optimizer;
}

static int run_one(queue_state *q, trainer *tr, int job, train_outcome *o) {
    const queued_run *run = &q->jobs[job];
    tr->child.optimizer = job_optimizer(q, run); /* the trainer rebuilds its child on a change */
    schedule s;
    if (schedule_parse(&s, run->spec, run->lr, q->cfg->steps) != 0) return -1;
    int ran = trainer_run(tr, &s, run->lr, run->seed, 1, NULL, NULL, o);
    schedule_free(&s);
    if (ran != 0) return -1;
    if (o->interrupted) {
        q->interrupted = 1;
        return 0;
    }
    int rc = 0;
#pragma omp critical(run_queue_lock)
    if (!q->failed) rc = q->done(q->ctx, job, run, o);
    return rc;
}

static void team_loop(queue_state *q, const team_layout *teams) {
    teams_bind(teams, omp_get_thread_num());
    omp_set_num_threads(q->cfg->threads_per_run);
    trainer tr;
    int built = trainer_init(&tr, &q->cfg->child, q->cfg->steps, q->cfg->eval_every, q->data);
    tr.act = q->cfg->act;
    if (built != 0) {
        record_failure(q);
        return;
    }
    for (int job; (job = take_job(q)) >= 0;) {
        train_outcome o;
        memset(&o, 0, sizeof o);
        int rc = run_one(q, &tr, job, &o);
        train_outcome_free(&o);
        if (rc != 0) {
            record_failure(q);
            break;
        }
    }
    trainer_free(&tr);
}

int run_queue_execute(const run_queue_config *cfg, const dataset *data, const queued_run *jobs,
                      int n_jobs, const unsigned char *skip, run_start_fn start, run_done_fn done,
                      void *ctx) {
    if (cfg->threads_per_run < 1)
        return alrs_fail("--threads-per-run %d: must be at least 1", cfg->threads_per_run);
    if (n_jobs == 0) return 0;
    queue_state q = {cfg, data, jobs, n_jobs, 0, skip, start, done, ctx, 0, 0, ""};
    int n_teams = run_queue_teams(cfg, n_jobs);
    team_layout teams;
    if (teams_init(&teams, n_teams, cfg->threads_per_run) != 0) return -1;
    omp_set_max_active_levels(cfg->threads_per_run > 1 ? 2 : 1);
#pragma omp parallel num_threads(n_teams)
    team_loop(&q, &teams);
    teams_free(&teams);
    if (q.failed) return alrs_fail("%s", q.error);
    return q.interrupted ? 1 : 0;
}
