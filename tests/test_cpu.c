/* CPU detection, the ALRS_ISA override, the FMA peak and the machine facts. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu.h"
#include "kernels/peak.h"
#include "report/machine.h"
#include "testutil.h"

static void test_isa_names(void) {
    CHECK(!strcmp(cpu_isa_name(ISA_SCALAR), "scalar"));
    CHECK(!strcmp(cpu_isa_name(ISA_AVX2), "avx2"));
    CHECK(!strcmp(cpu_isa_name(ISA_AVX512), "avx512"));
}

/* The override picks any ISA the CPU has, and falls back to the best otherwise. */
static void test_isa_override(void) {
    alrs_isa best = cpu_best_isa();
    unsetenv("ALRS_ISA");
    CHECK(cpu_isa() == best);
    setenv("ALRS_ISA", "scalar", 1);
    CHECK(cpu_isa() == ISA_SCALAR);
    setenv("ALRS_ISA", "avx2", 1);
    CHECK(cpu_isa() == (best >= ISA_AVX2 ? ISA_AVX2 : best));
    setenv("ALRS_ISA", "avx512", 1);
    CHECK(cpu_isa() == best || best == ISA_AVX512);
    CHECK(best != ISA_AVX512 || cpu_isa() == ISA_AVX512);
    setenv("ALRS_ISA", "sse9", 1);  /* unknown: warns once, uses the best */
    CHECK(cpu_isa() == best);
    setenv("ALRS_ISA", "", 1);
    CHECK(cpu_isa() == best);
    unsetenv("ALRS_ISA");
    CHECK(cpu_best_isa() == best);  /* the cached detection does not drift */
}

static void test_model_name(void) {
    char name[128];
    cpu_model_name(name, sizeof name);
    CHECK(name[0] != '\0');
    CHECK(name[0] != ' ' && name[strlen(name) - 1] != ' ');
    char tiny[4];
    cpu_model_name(tiny, sizeof tiny);
    CHECK(strlen(tiny) <= 3);
    printf("cpu: %s, best isa %s\n", name, cpu_isa_name(cpu_best_isa()));
}

/* The signature and microarchitecture: well formed, consistent with the
 * ISA, and overridable for the tests of each parameter set. */
static void test_uarch(void) {
    char sig[32];
    cpu_signature(sig, sizeof sig);
    CHECK(!strcmp(sig, "unknown") || (sig[0] == 'f' && strstr(sig, "-m") && strstr(sig, "-s")));
    const char *u = cpu_uarch();
    CHECK(!strcmp(u, "zen4") || !strcmp(u, "zen5") || !strcmp(u, "other"));
    if (!strcmp(u, "zen4")) CHECK(!strcmp(cpu_avx512_width(), "split"));
    if (cpu_best_isa() != ISA_AVX512) CHECK(!strcmp(cpu_avx512_width(), "-"));
    int l1 = cpu_l1d_kb();
    CHECK(l1 >= 8 && l1 <= 1024);
    setenv("ALRS_UARCH", "zen5", 1);
    CHECK(!strcmp(cpu_uarch(), "zen5"));
    setenv("ALRS_UARCH", "nonsense", 1); /* not a name: the detected one */
    CHECK(!strcmp(cpu_uarch(), u));
    unsetenv("ALRS_UARCH");
    printf("signature %s, uarch %s, avx512 %s, L1d %d KB\n", sig, u, cpu_avx512_width(), l1);
}

static void test_peak(void) {
    double g = fma_peak_gflops(1);
    printf("fma peak, 1 thread: %.1f GFLOP/s\n", g);
    CHECK(isfinite(g));
    CHECK(g > 1.0);
}

static void test_machine_info(void) {
    machine_info m;
    CHECK(machine_info_get(&m) == 0);
    CHECK(m.cores >= 1);
    CHECK(m.pus >= m.cores);
    CHECK(m.packages >= 1);
    CHECK(m.omp_max_threads >= 1);
    CHECK(m.cpu_model[0] != '\0');
    CHECK(!strncmp(m.dnnl_version, "2.", 2) || !strncmp(m.dnnl_version, "3.", 2));
    CHECK(m.isa_best && m.isa_used);

    /* The three formats carry the same keys. */
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(machine_info_write_kv(&m, f) == 0);
    machine_info_csv_comment(&m, f);
    fclose(f);
    CHECK(strstr(buf, "\ncores=") != NULL);
    CHECK(strstr(buf, "# cores: ") != NULL);
    CHECK(strstr(buf, "dnnl_version=") != NULL);
    CHECK(!strncmp(buf, "alrs_version=1.2.1 (git ", 24) && strstr(buf, "\ncpu_model="));
}

int main(void) {
    test_isa_names();
    test_isa_override();
    test_model_name();
    test_uarch();
    test_peak();
    test_machine_info();
    return test_finish();
}
