/* The one piece of global state in alrs: the kernel table for this CPU. */
#include <pthread.h>
#include <string.h>

#include "kernels/kernels.h"

static kernel_table table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

void kernels_fill(kernel_table *t, alrs_isa isa) {
    memset(t, 0, sizeof *t);
    t->isa = isa;
    sgemm_register(t, isa);
    conv_register(t, isa);
    pool_register(t, isa);
    elementwise_register(t, isa);
}

static void fill_table(void) { kernels_fill(&table, cpu_isa()); }

const kernel_table *kernels(void) {
    pthread_once(&table_once, fill_table);
    return &table;
}
