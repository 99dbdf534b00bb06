#include "core/memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* A number read from the first line of a file ("max" and missing files: -1). */
static double read_number(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char text[64] = "";
    char *got = fgets(text, sizeof text, f);
    fclose(f);
    if (!got || !strncmp(text, "max", 3)) return -1;
    char *end;
    double v = strtod(text, &end);
    return end == text ? -1 : v;
}

static double meminfo_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[256];
    double kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kib) == 1) break;
    fclose(f);
    return kib < 0 ? -1 : kib * 1024;
}

/* The cgroup v2 limit of this process's group, less what it uses. */
static double cgroup_room(void) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return -1;
    char line[1024], path[1200];
    double room = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "0::", 3)) continue; /* the v2 hierarchy */
        line[strcspn(line, "\n")] = '\0';
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", line + 3);
        double max = read_number(path);
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.current", line + 3);
        double cur = read_number(path);
        if (max > 0 && cur >= 0) room = max - cur;
    }
    fclose(f);
    return room;
}

static double rlimit_room(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return -1;
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0;
    if (f) {
        if (fscanf(f, "%ld", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (double)r.rlim_cur - (double)pages * (double)sysconf(_SC_PAGESIZE);
}

double memory_available_bytes(void) {
    double limits[3] = {meminfo_available(), cgroup_room(), rlimit_room()}, least = -1;
    for (int i = 0; i < 3; i++)
        if (limits[i] >= 0 && (least < 0 || limits[i] < least)) least = limits[i];
    return least;
}
