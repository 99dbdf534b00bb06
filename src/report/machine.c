#define _POSIX_C_SOURCE 200809L
#include "report/machine.h"

#include <errno.h>
#include <hwloc.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/float_env.h"
#include "core/version.h"
#include "kernels/cpu.h"

static long cache_kb(hwloc_topology_t topo, hwloc_obj_type_t type) {
    hwloc_obj_t obj = hwloc_get_obj_by_type(topo, type, 0);
    return obj && obj->attr ? (long)(obj->attr->cache.size / 1024) : 0;
}

/* Counts come from the cpuset this process may use (hwloc's default), which
 * is what a run can actually schedule on. NUMA memory sizes are deliberately
 * not read: hwloc under-reports them here (see TOOLCHAIN.md). */
static int read_topology(machine_info *m) {
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0) return alrs_fail("hwloc: cannot initialise the topology");
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        return alrs_fail("hwloc: cannot load the topology");
    }
    m->packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    m->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    m->cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    m->pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    /* Some virtual machines expose PUs without cores: one PU is one core then. */
    if (m->cores <= 0) m->cores = m->pus;
    m->l1d_kb = cache_kb(topo, HWLOC_OBJ_L1CACHE);
    m->l2_kb = cache_kb(topo, HWLOC_OBJ_L2CACHE);
    m->l3_kb = cache_kb(topo, HWLOC_OBJ_L3CACHE);
    hwloc_topology_destroy(topo);
    return 0;
}

/* What the threads training runs on do with subnormal floats: flushed only
 * if every thread of an OpenMP region flushes (threads created before the
 * mode was set keep their own). */
static const char *subnormal_mode(void) {
    int kept = 0;
#pragma omp parallel reduction(+ : kept)
    kept += !float_env_flushing();
    return kept ? "kept" : "flushed";
}

/* GCC's __VERSION__ is a bare "12.2.0"; clang's already names itself. */
static void compiler_name(char *buf, size_t size) {
#if defined(__clang__)
    snprintf(buf, size, "%s", __VERSION__);
#elif defined(__GNUC__)
    snprintf(buf, size, "gcc %s", __VERSION__);
#else
    snprintf(buf, size, "unknown");
#endif
}

int machine_info_get(machine_info *m) {
    memset(m, 0, sizeof *m);
    cpu_model_name(m->cpu_model, sizeof m->cpu_model);
    cpu_signature(m->cpu_signature, sizeof m->cpu_signature);
    m->uarch = cpu_uarch();
    m->avx512_width = cpu_avx512_width();
    m->isa_best = cpu_isa_name(cpu_best_isa());
    m->isa_used = cpu_isa_name(cpu_isa());
    const dnnl_version_t *v = dnnl_version();
    snprintf(m->dnnl_version, sizeof m->dnnl_version, "%d.%d.%d", v->major, v->minor, v->patch);
    m->omp_max_threads = omp_get_max_threads();
    m->subnormals = subnormal_mode();
    if (gethostname(m->hostname, sizeof m->hostname) != 0) strcpy(m->hostname, "unknown");
    m->hostname[sizeof m->hostname - 1] = '\0';  /* gethostname may truncate without a NUL */
    compiler_name(m->compiler, sizeof m->compiler);
    return read_topology(m);
}

/* One list of facts, three formats: each line is `fmt` applied to a key and
 * its value, so the three outputs can never disagree. */
static void emit(const machine_info *m, FILE *out, const char *fmt) {
    char num[8][32];
    const long vals[8] = {m->packages, m->numa_nodes, m->cores, m->pus, m->l1d_kb,
                          m->l2_kb, m->l3_kb, m->omp_max_threads};
    for (int i = 0; i < 8; i++) snprintf(num[i], sizeof num[i], "%ld", vals[i]);
    const char *keys[] = {"alrs_version", "cpu_model", "cpu_signature", "uarch",
                          "avx512_width", "isa_best", "isa_used", "packages",
                          "numa_nodes", "cores", "pus", "l1d_kb", "l2_kb", "l3_kb",
                          "dnnl_version", "omp_max_threads", "subnormals", "hostname",
                          "compiler"};
    const char *values[] = {alrs_version_text(), m->cpu_model, m->cpu_signature, m->uarch,
                            m->avx512_width, m->isa_best, m->isa_used,
                            num[0], num[1], num[2], num[3], num[4], num[5], num[6],
                            m->dnnl_version, num[7], m->subnormals, m->hostname, m->compiler};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        fprintf(out, fmt, keys[i], values[i] ? values[i] : "unknown");
}

void machine_info_print(const machine_info *m, FILE *out) { emit(m, out, "%s: %s\n"); }

void machine_info_csv_comment(const machine_info *m, FILE *out) { emit(m, out, "# %s: %s\n"); }

int machine_info_write_kv(const machine_info *m, FILE *out) {
    emit(m, out, "%s=%s\n");
    if (ferror(out)) return alrs_fail("writing machine info: %s", strerror(errno));
    return 0;
}
