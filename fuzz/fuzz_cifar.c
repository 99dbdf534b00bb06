/* The CIFAR-10 batch reader (src/data/cifar.c) on arbitrary bytes. A batch is
 * valid only at a whole number of 3073-byte records, which mutations rarely
 * keep, so an input is also read cut to its whole records: that way every
 * input reaches the label checks, while the input as it is covers the size
 * checks. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "data/dataset.h"
#include "memfile.h"

enum { RECORD = 1 + 3 * 32 * 32 };

static void read_batch(const uint8_t *data, size_t size) {
    const char *path = memfile_put(data, size);
    uint8_t *px = NULL, *labels = NULL;
    int n = 0;
    if (cifar_read_batch(path, &px, &labels, &n) == 0) {
        FUZZ_ASSERT(n >= 1 && (size_t)n * RECORD == size);
        fuzz_touch(px, (size_t)n * (RECORD - 1));
        fuzz_touch(labels, (size_t)n);
        for (int i = 0; i < n; i++) FUZZ_ASSERT(labels[i] < 10);
        free(px);
        free(labels);
    } else {
        FUZZ_ASSERT(px == NULL && labels == NULL);
        fuzz_check_refusal(path);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    read_batch(data, size);
    size_t whole = size / RECORD * RECORD;
    if (whole > 0 && whole != size) read_batch(data, whole);
    return 0;
}
