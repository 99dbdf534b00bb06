/* What one training run gives (run/trainer.h runs it): its trace, a row
 * per validation, and its figures; also what alrs train's checkpoint keeps
 * of a run in progress (run/train_checkpoint.h). */
#ifndef ALRS_RUN_TRAIN_OUTCOME_H
#define ALRS_RUN_TRAIN_OUTCOME_H

/* One row of a run's trace: a validation (or the diverged step). */
typedef struct {
    long step;         /* training steps done */
    double lr;         /* rate of the last step */
    double train_loss; /* mean training loss since the previous row */
    double val_loss, val_acc; /* NaN on the diverged step */
    double wall_s;     /* since the run started */
    double d;          /* the optimizer's d estimate (prodigy, dadapt-adam); NaN for others */
} trace_point;

typedef struct {
    long steps_done;
    int diverged;
    double best_val_loss; /* NaN if no validation ran */
    long best_step;       /* -1 if no validation ran */
    double test_loss, test_acc;             /* at the best-validation point */
    double final_val_loss, final_val_acc;   /* the last validation */
    double final_test_loss, final_test_acc; /* the parameters at the end */
    double wall_s;
    int interrupted; /* stopped by SIGINT/SIGTERM: the figures are incomplete */
    /* resident memory (KiB) at the first validation and at the end: a run
     * that holds its buffers from the start shows no growth between them */
    long rss_first_kib, rss_end_kib;
    trace_point *trace;
    int n_trace, cap_trace;
} train_outcome;

/* Appends a row to the outcome's trace. */
void trainer_add_point(train_outcome *o, const trace_point *p);
/* Frees the trace (the outcome can be filled again). */
void train_outcome_free(train_outcome *o);

#endif
