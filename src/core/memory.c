#include "core/memory.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

long memory_rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size, resident;
    int got = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    if (got != 2) return -1;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long memory_peak_rss_kib(void) {
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) return -1;
    return u.ru_maxrss; /* KiB on Linux */
}
