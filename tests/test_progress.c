/* The progress line's time left (core/timer.c): measured from the first
 * update of a total, so a slow first stretch (a cold start) does not stand
 * for the rest; unknown ("~?s left") until a second update; 0 at the end. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/timer.h"
#include "testutil.h"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The seconds left that the last line printed announces (-1 for "~?s"). */
static double last_left(FILE *f) {
    char buf[4096], *line = NULL;
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    for (char *p = strstr(buf, "elapsed, ~"); p; p = strstr(p + 1, "elapsed, ~")) line = p;
    double left = -1;
    if (line && sscanf(line, "elapsed, ~%lfs left", &left) != 1) left = -1;
    fseek(f, 0, SEEK_END);
    return left;
}

int main(void) {
    FILE *f = tmpfile();
    progress p;
    progress_init(&p, f, 0);
    sleep_ms(300); /* the cold start before the first update */
    progress_update(&p, 10, 1000, "step", 1);
    CHECK(last_left(f) == -1);
    sleep_ms(20); /* then 10 steps take 20 ms: 990 left take about 2 s, not 30 */
    progress_update(&p, 20, 1000, "step", 1);
    double left = last_left(f);
    CHECK(left >= 1 && left <= 8);
    progress_update(&p, 1000, 1000, "step", 1);
    CHECK(last_left(f) == 0);
    /* another total (the test pass): measured afresh */
    progress_update(&p, 100, 10000, "test", 1);
    CHECK(last_left(f) == -1);
    fclose(f);
    return test_finish();
}
