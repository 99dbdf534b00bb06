/* The files of an alrs train run directory: config.txt (every value, and the
 * command that repeats the run), trace.csv (a row per validation, appended as
 * the run goes), summary.csv and metadata.txt (at the end), and the checkpoint
 * of a run in progress (checkpoint.bin, run/train_checkpoint.h). */
#ifndef ALRS_CLI_TRAIN_FILES_H
#define ALRS_CLI_TRAIN_FILES_H

#include <stdio.h>

#include "settings/run_flags.h"
#include "run/trainer.h"
#include "sched/schedule.h"

/* config.txt's text for these flags and schedule (free it). */
char *train_config_text(const run_flags *f, const schedule *s);
/* Writes config.txt; -1 with a message. */
int train_write_config(const char *dir, const char *text);
/* For --resume: -1 with a message naming the first setting in which DIR's
 * config.txt differs from `text`. */
int train_check_config(const char *dir, const char *text);

/* Opens trace.csv for appending, first rewritten with the header and the rows
 * the outcome holds already (a resumed run's, else none); NULL with a message. */
FILE *train_trace_open(const char *dir, const train_outcome *o);
/* One row, written and flushed at once; -1 with a message naming the file
 * when the write fails (a full disk). */
int train_trace_append(FILE *f, const trace_point *p, const char *dir);

int train_write_summary(const char *dir, const run_flags *f, const schedule *s,
                        const train_outcome *o);
int train_write_metadata(const char *dir, const char *backend, const child_run *r);

#endif
