/* The three child networks of the paper's experiments. */
#include <string.h>

#include "core/error.h"
#include "nn/spec.h"

static int build_mlp(nn_spec *s, const int *hidden, int n_hidden) {
    static const int default_hidden[] = {256, 128, 64};
    if (n_hidden == 0) {
        hidden = default_hidden;
        n_hidden = 3;
    }
    int x = -1;
    for (int k = 0; k < n_hidden; k++) x = nn_fc(s, x, hidden[k], 1);
    return nn_fc(s, x, s->classes, 0);
}

/* LeNet-5: pad 2 on 28×28 so that both input sizes reach 120 maps of 1×1. */
static int build_lenet5(nn_spec *s) {
    int pad = s->in_h == 28 ? 2 : 0;
    int x = nn_conv(s, -1, 6, 5, 1, pad, 1, 1);
    if (x < 0 || (x = nn_maxpool(s, x, 2, 2)) < 0) return -1;
    if ((x = nn_conv(s, x, 16, 5, 1, 0, 1, 1)) < 0 || (x = nn_maxpool(s, x, 2, 2)) < 0) return -1;
    if ((x = nn_conv(s, x, 120, 5, 1, 0, 1, 1)) < 0) return -1;
    x = nn_fc(s, x, 84, 1);
    return nn_fc(s, x, s->classes, 0);
}

/* A basic block: conv3x3-BN-ReLU-conv3x3-BN, plus the input (through a 1×1
 * convolution and BN when the shape changes), then ReLU. */
static int basic_block(nn_spec *s, int x, int in_c, int out_c, int stride) {
    int y = nn_conv(s, x, out_c, 3, stride, 1, 0, 0);
    if (y < 0) return -1;
    y = nn_batchnorm(s, y, 1);
    y = nn_conv(s, y, out_c, 3, 1, 1, 0, 0);
    y = nn_batchnorm(s, y, 0);
    int shortcut = x;
    if (stride != 1 || in_c != out_c) {
        shortcut = nn_conv(s, x, out_c, 1, stride, 0, 0, 0);
        shortcut = nn_batchnorm(s, shortcut, 0);
    }
    return nn_add(s, y, shortcut, 1);
}

/* ResNet-18, CIFAR variant: 3×3 stem, no max-pool, four stages of two blocks. */
static int build_resnet18(nn_spec *s) {
    if (s->in_h < 8 || s->in_w < 8)
        return alrs_fail("resnet18: input %dx%d is too small (at least 8x8)", s->in_h, s->in_w);
    int x = nn_conv(s, -1, 64, 3, 1, 1, 0, 0);
    x = nn_batchnorm(s, x, 1);
    static const int channels[4] = {64, 128, 256, 512};
    int in_c = 64;
    for (int stage = 0; stage < 4; stage++) {
        int stride = stage == 0 ? 1 : 2;
        x = basic_block(s, x, in_c, channels[stage], stride);
        if (x < 0) return -1;
        x = basic_block(s, x, channels[stage], channels[stage], 1);
        in_c = channels[stage];
    }
    x = nn_avgpool_global(s, x);
    return nn_fc(s, x, s->classes, 0);
}

int nn_build(nn_spec *s, const char *model, int in_c, int in_h, int in_w, int classes,
             const int *hidden, int n_hidden) {
    if (in_c < 1 || in_h < 1 || in_w < 1 || classes < 2)
        return alrs_fail("%s: impossible input shape %dx%dx%d with %d classes", model, in_c, in_h,
                         in_w, classes);
    nn_begin(s, model, in_c, in_h, in_w, classes);
    int last;
    if (!strcmp(model, "mlp")) last = build_mlp(s, hidden, n_hidden);
    else if (!strcmp(model, "lenet5")) last = build_lenet5(s);
    else if (!strcmp(model, "resnet18")) last = build_resnet18(s);
    else return alrs_fail("--model %s: unknown model (expected mlp, lenet5 or resnet18)", model);
    return last < 0 ? -1 : 0;
}
