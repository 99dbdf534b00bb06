#include "bench/bench_tune.h"

#include <stdio.h>

#include "bench/bench_net.h"
#include "nn/choice/backend_choice.h"

int bench_tune(const run_flags *f, int channels, int side, bench_tune_entry *e) {
    bench_net b;
    nn_net *net = NULL;
    int ok = 0;
    if (bench_net_open(&b, f, channels, side, BENCH_DATA_NONE) == 0)
        net = backend_choice_measure(&b.spec, b.cfg, b.params, b.grads, b.state);
    if (net) { /* the net measured is not run: its choice is in the file */
        backend_choice_path(&b.cfg, e->path, sizeof e->path);
        backend_choice_key(&b.spec, &b.cfg, e->key, sizeof e->key);
        snprintf(e->choice, sizeof e->choice, "%s", nn_net_auto_choice(net));
        nn_net_free(net);
        ok = 1;
    }
    bench_net_close(&b);
    return ok ? 0 : -1;
}
