#include "settings/run_change.h"

#include "core/error.h"
#include "settings/config_text.h"

int run_change_parse(args *a, long steps, data_change *c) {
    double noise = -1; /* -1: not given */
    c->at = 0, c->label_noise = 0;
    if (args_int(a, "change-at", 1, 100000000, &c->at) ||
        args_double(a, "change-label-noise", 0, 1, &noise))
        return -1;
    if (c->at && noise < 0)
        return alrs_fail("--change-at %ld: needs what changes there: --change-label-noise P",
                         c->at);
    if (!c->at && noise >= 0)
        return alrs_fail("--change-label-noise %g: needs --change-at N, the step it changes at",
                         noise);
    if (c->at >= steps)
        return alrs_fail("--change-at %ld: must be below --steps %ld (the first N steps train "
                         "on the labels as they were)", c->at, steps);
    if (noise >= 0) c->label_noise = noise;
    return 0;
}

void run_change_settings(struct config_text *t, const data_change *c) {
    int on = c->at > 0;
    config_text_int(t, "change_at", on ? "change-at" : NULL, c->at);
    config_text_num(t, "change_label_noise", on ? "change-label-noise" : NULL, c->label_noise);
}

uint8_t *run_change_child(const data_change *c, const dataset *d, uint64_t split_seed,
                          child_config *cc) {
    if (!c->at) return NULL;
    cc->change_step = c->at;
    cc->change_labels = dataset_changed_labels(d, c->label_noise, split_seed);
    return cc->change_labels;
}
