#define _POSIX_C_SOURCE 200809L
#include "run/learn_log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "rl/controller_file.h"

static int write_text(const char *dir, const char *name, const char *text, size_t len) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fwrite(text, 1, len, a.f);
    return atomic_commit(&a);
}

/* Field `col` (0-based) of a CSV line as a number. */
static long csv_field(const char *line, int col) {
    for (int k = 0; k < col && line; k++) {
        line = strchr(line, ',');
        if (line) line++;
    }
    return line ? strtol(line, NULL, 10) : -1;
}

/* Reads an existing CSV on --resume, keeping the header and the rows of
 * updates before `done` (a run killed between writing the CSVs and the
 * checkpoint would otherwise repeat rows). */
static void load_rows(FILE *into, const char *dir, const char *name, int update_col, long done,
                      long *rows) {
    char path[ALRS_FILE_PATH_MAX], line[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) return;
    int header = 1;
    while (fgets(line, sizeof line, f)) {
        if (header || csv_field(line, update_col) < done) {
            fputs(line, into);
            *rows += !header;
        }
        header = 0;
    }
    fclose(f);
}

/* One row per agent step: what the agent saw (every feature, before the
 * step), what it did, the rate it got, and what came of it. */
static void write_trace(const learn_log *log, const lr_env_episode *ep, long number) {
    char name[64];
    snprintf(name, sizeof name, "traces/episode-%06ld.csv", number);
    char *text;
    size_t len;
    unsigned features = log->f->env.features;
    FILE *m = open_memstream(&text, &len);
    fprintf(m, "agent_step,child_step,action,lr,train_loss,val_loss,reward");
    for (int k = 0; k < ep->obs_size; k++) fprintf(m, ",%s", lr_env_feature_name(features, k));
    fprintf(m, "\n");
    for (int t = 0; t < ep->agent_steps; t++) {
        /* the last chunk may be shorter, or cut by divergence */
        long child_step = (long)(t + 1) * log->f->action_every;
        if (t + 1 == ep->agent_steps || child_step > ep->child_steps) child_step = ep->child_steps;
        fprintf(m, "%d,%ld,%.9g,%.9g,%.6f,%.6f,%.9g", t + 1, child_step, ep->action[t], ep->lr[t],
                ep->train_loss[t], ep->val_loss[t], ep->reward[t]);
        const double *obs = ep->obs + (size_t)t * ep->obs_size;
        for (int k = 0; k < ep->obs_size; k++) fprintf(m, ",%.9g", obs[k]);
        fprintf(m, "\n");
    }
    fclose(m);
    if (write_text(log->f->run.out, name, text, len) != 0)
        fprintf(stderr, "alrs: warning: %s\n", alrs_error());
    free(text);
}

void learn_log_episode(void *ctx, int env, const lr_env_episode *ep, int complete) {
    learn_log *log = ctx;
    long number = log->episode_count++;
    fprintf(log->episodes_f, "%ld,%d,%.9g,%.6f,%.6f,%.6f,%d,%.3f,%ld,%d,%d", number, env,
            ep->initial_lr, ep->total_reward, ep->final_val_loss, ep->best_val_loss, ep->diverged,
            ep->wall_s, log->update, ep->agent_steps, complete);
    /* per-task learning curves (a multi-task run only: a single-task run's
     * file keeps its columns, so that older runs resume into the same file) */
    if (log->f->tasks.path)
        fprintf(log->episodes_f, ",%s", learn_tasks_name(&log->f->tasks, ep->task));
    fputc('\n', log->episodes_f);
    log->update_return_sum += ep->total_reward;
    log->update_episodes++;
    log->update_complete += complete;
    if (isfinite(ep->final_val_loss)) { /* diverged or cut episodes have none */
        log->update_final_sum += ep->final_val_loss;
        log->update_finals++;
    }
    int every = log->f->trace_every;
    if (env == 0 && complete && every > 0 && log->update % every == 0) write_trace(log, ep, number);
}

int learn_log_save(learn_log *log, const controller *c) {
    char path[ALRS_FILE_PATH_MAX];
    fflush(log->episodes_f);
    fflush(log->updates_f);
    if (write_text(log->f->run.out, "episodes.csv", log->episodes, log->episodes_len) != 0 ||
        write_text(log->f->run.out, "updates.csv", log->updates, log->updates_len) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/controller.bin", log->f->run.out);
    return controller_file_save(c, path);
}

void learn_log_update(learn_log *log, const ppo_stats *st, double collect_s, double update_s) {
    double mean_return = log->update_return_sum / (log->update_episodes ? log->update_episodes : 1);
    double mean_final = log->update_finals ? log->update_final_sum / log->update_finals : NAN;
    fprintf(log->updates_f, "%ld,%d,%.6f,%.6f,%.6f,%.6f,%.4f,%.4f,%.4f,%d,%d,%.3f,%.4f,%.6f,%.6f\n",
            log->update, log->update_episodes, st->policy_loss, st->value_loss, st->entropy,
            st->approx_kl, st->clip_frac, st->explained_var, st->grad_norm, st->minibatches,
            st->stopped_early, collect_s, update_s, mean_return, mean_final);
    double hours = (alrs_now() - log->start) / 3600.0;
    fprintf(stderr, "update %ld/%ld  return %.3f  final val loss %.4f  %.0f episodes/h  "
                    "(ppo %.2f%% of the time)\n",
            log->update + 1, log->f->updates, mean_return, mean_final,
            /* episodes that ended: with tasks, a batch holds more than --envs */
            log->update_complete / (collect_s / 3600.0), 100.0 * update_s / (collect_s + update_s));
    (void)hours;
    log->update_return_sum = log->update_final_sum = 0;
    log->update_episodes = log->update_finals = log->update_complete = 0;
}

int learn_log_open(learn_log *log, const learn_flags *f, long done) {
    memset(log, 0, sizeof *log);
    log->f = f;
    log->episodes_f = open_memstream(&log->episodes, &log->episodes_len);
    log->updates_f = open_memstream(&log->updates, &log->updates_len);
    if (done > 0) {
        load_rows(log->episodes_f, f->run.out, "episodes.csv", 8, done, &log->episode_count);
        long ignored = 0;
        load_rows(log->updates_f, f->run.out, "updates.csv", 0, done, &ignored);
    } else {
        fprintf(log->episodes_f, "episode,env,initial_lr,return,final_val_loss,best_val_loss,"
                                 "diverged,wall_s,update,agent_steps,complete%s\n",
                f->tasks.path ? ",task" : "");
        fprintf(log->updates_f, "update,episodes,policy_loss,value_loss,entropy,approx_kl,"
                                "clip_frac,explained_var,grad_norm,gradient_steps,kl_stop,"
                                "collect_s,update_s,mean_return,mean_final_val_loss\n");
    }
    log->update = done;
    log->start = alrs_now();
    return 0;
}

void learn_log_close(learn_log *log) {
    if (log->episodes_f) fclose(log->episodes_f);
    if (log->updates_f) fclose(log->updates_f);
    free(log->episodes);
    free(log->updates);
}
