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
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(buf, NUM_TEXT, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) break;
    }
    /* a whole number that %g would write with an exponent (10 as "1e+01")
     * gets the digits to be written in full: 10, 10000 */
    int exponent = x != 0 ? (int)floor(log10(fabs(x))) : 0;
    if (exponent >= digits && exponent < 16) digits = exponent + 1;
    snprintf(buf, NUM_TEXT, "%.*g", digits, x);
    return buf;
}
