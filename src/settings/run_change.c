#include "settings/run_change.h"

#include <string.h>

#include "core/error.h"
#include "settings/config_text.h"

int run_change_check(const args *a, long steps, const data_change *c) {
    int noise_given = args_given(a, "change-label-noise");
    if (c->at && !noise_given)
        return alrs_fail("--change-at %ld: needs what changes there: --change-label-noise P",
                         c->at);
    if (!c->at && noise_given)
        return alrs_fail("--change-label-noise %g: needs --change-at N, the step it changes at",
                         c->label_noise);
    if (c->at >= steps)
        return alrs_fail("--change-at %ld: must be below --steps %ld (the first N steps train "
                         "on the labels as they were)", c->at, steps);
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
