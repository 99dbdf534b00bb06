#include "run/train_outcome.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"

void trainer_add_point(train_outcome *o, const trace_point *p) {
    if (o->n_trace == 0) o->rss_first_kib = memory_rss_kib();
    if (o->n_trace == o->cap_trace) {
        o->cap_trace = o->cap_trace ? 2 * o->cap_trace : 64;
        o->trace = realloc(o->trace, sizeof *o->trace * (size_t)o->cap_trace);
        if (!o->trace) alrs_panic("out of memory for a run's trace");
    }
    o->trace[o->n_trace++] = *p;
}

void train_outcome_free(train_outcome *o) {
    free(o->trace);
    memset(o, 0, sizeof *o);
}
