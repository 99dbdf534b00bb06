/* The process's memory, for reports: resident set now and at its peak. */
#ifndef ALRS_CORE_MEMORY_H
#define ALRS_CORE_MEMORY_H

/* Resident set size in KiB now (/proc/self/statm); -1 if unknown. */
long memory_rss_kib(void);
/* The peak resident set size of this process so far, in KiB (getrusage). */
long memory_peak_rss_kib(void);

#endif
