#include "kernels/cpu.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define ALRS_X86 1
#include <cpuid.h>
#endif

/* Feature bits kept in one int so that one atomic holds the whole result. */
enum { HAS_AVX2_FMA = 1, HAS_AVX512F = 2, DETECTED = 1 << 30 };

#ifdef ALRS_X86
/* XCR0: which register state the OS saves. Inline asm rather than _xgetbv()
 * so this file needs no -mxsave. Only call when cpuid reports OSXSAVE. */
static unsigned long long xcr0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static int detect_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    unsigned long long x = xcr0();
    int os_ymm = (x & 0x6) == 0x6;     /* SSE and AVX state */
    int os_zmm = (x & 0xe6) == 0xe6;   /* plus opmask, ZMM0-15 upper halves, ZMM16-31 */
    if ((unsigned)__get_cpuid_max(0, NULL) < 7u) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    int f = 0;
    if (os_ymm && avx2 && fma) f |= HAS_AVX2_FMA;
    if (os_zmm && avx512f) f |= HAS_AVX512F;
    return f;
}
#else
static int detect_features(void) { return 0; }
#endif

/* cpuid is cheap on bare metal but traps to the hypervisor in a VM, so the
 * result is cached. Detection is idempotent: a race only repeats it. */
static int features(void) {
    static atomic_int cached;
    int f = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!(f & DETECTED)) {
        f = detect_features() | DETECTED;
        atomic_store_explicit(&cached, f, memory_order_relaxed);
    }
    return f;
}

static int has_isa(alrs_isa isa) {
    int f = features();
    if (isa == ISA_AVX512) return (f & HAS_AVX512F) != 0;
    if (isa == ISA_AVX2) return (f & HAS_AVX2_FMA) != 0;
    return 1;
}

alrs_isa cpu_best_isa(void) {
    if (has_isa(ISA_AVX512)) return ISA_AVX512;
    if (has_isa(ISA_AVX2)) return ISA_AVX2;
    return ISA_SCALAR;
}

const char *cpu_isa_name(alrs_isa isa) {
    switch (isa) {
    case ISA_SCALAR: return "scalar";
    case ISA_AVX2: return "avx2";
    case ISA_AVX512: return "avx512";
    }
    return "unknown";
}

/* Warns at most once per process: a kernel may ask for the ISA many times. */
static void warn_once(const char *value, const char *why, alrs_isa best) {
    static atomic_flag warned = ATOMIC_FLAG_INIT;
    if (atomic_flag_test_and_set(&warned)) return;
    fprintf(stderr, "alrs: warning: ALRS_ISA=%s %s; using %s\n", value, why, cpu_isa_name(best));
}

alrs_isa cpu_isa(void) {
    alrs_isa best = cpu_best_isa();
    const char *v = getenv("ALRS_ISA");
    if (!v || !v[0]) return best;
    for (int i = ISA_SCALAR; i <= ISA_AVX512; i++) {
        if (strcmp(v, cpu_isa_name((alrs_isa)i)) != 0) continue;
        if (has_isa((alrs_isa)i)) return (alrs_isa)i;
        warn_once(v, "is not supported by this CPU", best);
        return best;
    }
    warn_once(v, "is not one of scalar, avx2, avx512", best);
    return best;
}

/* Copies src into buf, dropping leading, trailing and repeated spaces
 * (Intel pads its brand strings on the left). */
static void copy_trimmed(char *buf, int size, const char *src) {
    int n = 0;
    for (const char *p = src; *p && n < size - 1; p++) {
        if (*p == ' ' && (n == 0 || buf[n - 1] == ' ')) continue;
        buf[n++] = *p;
    }
    while (n > 0 && buf[n - 1] == ' ') n--;
    buf[n] = '\0';
}

void cpu_model_name(char *buf, int size) {
    if (!buf || size <= 0) return;
    char brand[49] = "";
#ifdef ALRS_X86
    if ((unsigned)__get_cpuid_max(0x80000000, NULL) >= 0x80000004u) {
        unsigned r[12];
        for (unsigned i = 0; i < 3; i++)
            __cpuid(0x80000002 + i, r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3]);
        memcpy(brand, r, 48);
        brand[48] = '\0';
    }
#endif
    copy_trimmed(buf, size, brand);
    if (!buf[0]) copy_trimmed(buf, size, "unknown");
}

void cpu_signature(char *buf, int size) {
    if (!buf || size <= 0) return;
    snprintf(buf, (size_t)size, "unknown");
#ifdef ALRS_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf, stepping = a & 0xf;
    if (family == 0xf) family += (a >> 20) & 0xff; /* the extended family */
    if (family >= 6) model |= ((a >> 16) & 0xf) << 4;
    snprintf(buf, (size_t)size, "f%u-m%u-s%u", family, model, stepping);
#endif
}

static unsigned cpu_family_model(unsigned *model) {
    *model = 0;
#ifdef ALRS_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned family = (a >> 8) & 0xf;
    *model = (a >> 4) & 0xf;
    if (family == 0xf) family += (a >> 20) & 0xff;
    if (family >= 6) *model |= ((a >> 16) & 0xf) << 4;
    return family;
#else
    return 0;
#endif
}

static int is_amd(void) {
#ifdef ALRS_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    return b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u; /* "AuthenticAMD" */
#else
    return 0;
#endif
}

const char *cpu_uarch(void) {
    const char *forced = getenv("ALRS_UARCH");
    if (forced && (!strcmp(forced, "zen4") || !strcmp(forced, "zen5") || !strcmp(forced, "other")))
        return forced;
    unsigned model, family = cpu_family_model(&model);
    if (!is_amd()) return "other";
    if (family == 26) return "zen5";
    /* family 25 is Zen 3 and Zen 4; only Zen 4 has AVX-512 */
    if (family == 25 && cpu_best_isa() == ISA_AVX512) return "zen4";
    return "other";
}

const char *cpu_avx512_width(void) {
    if (cpu_best_isa() != ISA_AVX512) return "-";
    const char *u = cpu_uarch();
    return !strcmp(u, "zen4") ? "split" : !strcmp(u, "zen5") ? "full" : "-";
}

int cpu_l1d_kb(void) {
#ifdef ALRS_X86
    unsigned a, b, c, d;
    if (is_amd() && (unsigned)__get_cpuid_max(0x80000000, NULL) >= 0x80000005u) {
        __cpuid(0x80000005, a, b, c, d);
        if (c >> 24) return (int)(c >> 24);
    }
    for (unsigned i = 0; __get_cpuid_max(0, NULL) >= 4 && i < 8; i++) {
        __cpuid_count(4, i, a, b, c, d);
        unsigned type = a & 0x1f, level = (a >> 5) & 0x7;
        if (type == 0) break;
        if (type == 1 && level == 1) /* the L1 data cache */
            return (int)((((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) *
                          (c + 1)) / 1024);
    }
#endif
    return 32;
}
