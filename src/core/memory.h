/* The process's memory, for reports: resident set now and at its peak. */
#ifndef ALRS_CORE_MEMORY_H
#define ALRS_CORE_MEMORY_H

/* Resident set size in KiB now (/proc/self/statm); -1 if unknown. */
long memory_rss_kib(void);
/* The peak resident set size of this process so far, in KiB (getrusage). */
long memory_peak_rss_kib(void);
/* Bytes this process may still take: the least of the memory the kernel
 * reports available (/proc/meminfo MemAvailable), what its cgroup's limit
 * leaves (memory.max minus memory.current, as under a batch scheduler's
 * memory limit) and what RLIMIT_AS leaves; -1 when none of them is known. */
double memory_available_bytes(void);

#endif
