#include "core/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

char *num_format(char buf[NUM_TEXT], double x) {
    if (isnan(x)) {
        snprintf(buf, NUM_TEXT, "nan");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, NUM_TEXT, x > 0 ? "inf" : "-inf");
        return buf;
    }
    /* 17 significant digits always round-trip; most numbers need far fewer */
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, NUM_TEXT, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) break;
    }
    return buf;
}
