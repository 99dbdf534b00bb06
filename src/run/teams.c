#include "run/teams.h"

#include <hwloc.h>
#include <stdio.h>

#include "core/error.h"

int teams_init(team_layout *t, int teams, int threads) {
    hwloc_topology_t topo;
    t->topology = t->allowed = NULL;
    if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0)
        return alrs_fail("hwloc: cannot read the machine topology");
    t->topology = topo;
    /* read once, before any thread is bound: the cores this process may use */
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    hwloc_get_cpubind(topo, allowed, HWLOC_CPUBIND_PROCESS);
    t->allowed = allowed;
    t->n_cores = hwloc_get_nbobjs_inside_cpuset_by_type(topo, allowed, HWLOC_OBJ_CORE);
    if (t->n_cores < 1) t->n_cores = 1;
    t->teams = teams;
    t->threads_per_team = threads;
    t->oversubscribed = teams * threads > t->n_cores;
    if (t->oversubscribed)
        fprintf(stderr,
                "alrs: warning: %d environments x %d threads exceed the %d cores available; "
                "threads are left unbound\n",
                teams, threads, t->n_cores);
    return 0;
}

void teams_free(team_layout *t) {
    /* the calling thread (team 0's) gets back every core, so that an engine
     * made later in this process finds them all */
    if (t->topology && t->allowed)
        hwloc_set_cpubind((hwloc_topology_t)t->topology, (hwloc_bitmap_t)t->allowed,
                          HWLOC_CPUBIND_THREAD);
    if (t->allowed) hwloc_bitmap_free((hwloc_bitmap_t)t->allowed);
    if (t->topology) hwloc_topology_destroy((hwloc_topology_t)t->topology);
    t->topology = t->allowed = NULL;
}

void teams_bind(const team_layout *t, int team) {
    if (t->oversubscribed || !t->topology) return;
    hwloc_topology_t topo = (hwloc_topology_t)t->topology;
    hwloc_bitmap_t cores = hwloc_bitmap_alloc();
    for (int member = 0; member < t->threads_per_team; member++) {
        int index = (team * t->threads_per_team + member) % t->n_cores;
        hwloc_obj_t core = hwloc_get_obj_inside_cpuset_by_type(topo, (hwloc_bitmap_t)t->allowed,
                                                               HWLOC_OBJ_CORE, index);
        if (core) hwloc_bitmap_or(cores, cores, core->cpuset);
    }
    if (!hwloc_bitmap_iszero(cores)) hwloc_set_cpubind(topo, cores, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free(cores);
}
