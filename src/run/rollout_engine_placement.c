/* Where each rank's environments run: the ranks' placements exchanged once
 * (rollout_exchange_placements), overlapping cores detected, and the report
 * (rollout_engine_placement). */
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "dist/dist.h"
#include "run/rollout_engine_ranks.h"

/* Every rank's placement to every rank. Ranks on one host whose allowed
 * cores overlap (mpirun without --bind-to core, or binding to a socket that
 * several ranks share) would pin their teams onto the same first cores:
 * their threads are left unbound instead, with a warning from rank 0. */
void rollout_exchange_placements(rollout_engine *r) {
    rank_placement mine;
    memset(&mine, 0, sizeof mine);
    mine.first = r->first, mine.local = r->local, mine.cores = r->teams.n_cores;
    mine.concurrency = r->concurrency, mine.threads = r->threads_per_env;
    mine.oversubscribed = r->teams.oversubscribed;
    if (gethostname(mine.host, sizeof mine.host - 1) != 0) snprintf(mine.host, sizeof mine.host, "?");
    if (r->teams.allowed &&
        hwloc_bitmap_list_snprintf(mine.pus, sizeof mine.pus,
                                   (hwloc_const_bitmap_t)r->teams.allowed) >= (int)sizeof mine.pus)
        snprintf(mine.pus, sizeof mine.pus, "?"); /* too long to compare: assume apart */
    r->placement = alrs_calloc((size_t)r->ranks, sizeof *r->placement);
    dist_allgather(&mine, sizeof mine, r->placement);
    hwloc_bitmap_t *pus = alrs_calloc((size_t)r->ranks, sizeof *pus);
    for (int k = 0; k < r->ranks; k++) {
        pus[k] = hwloc_bitmap_alloc();
        if (!strcmp(r->placement[k].pus, "?") ||
            hwloc_bitmap_list_sscanf(pus[k], r->placement[k].pus) != 0)
            hwloc_bitmap_zero(pus[k]);
    }
    int shared_any = 0;
    for (int k = 0; k < r->ranks; k++) {
        rank_placement *p = &r->placement[k];
        for (int j = 0; j < r->ranks && !p->shared; j++)
            p->shared = j != k && !strcmp(p->host, r->placement[j].host) &&
                        hwloc_bitmap_intersects(pus[k], pus[j]);
        shared_any |= p->shared;
    }
    for (int k = 0; k < r->ranks; k++) hwloc_bitmap_free(pus[k]);
    free(pus);
    if (r->placement[r->rank].shared) r->teams.oversubscribed = 1; /* teams_bind: no-op */
    if (shared_any && r->rank == 0)
        fprintf(stderr, "alrs: warning: MPI ranks on one host share cores; their threads are left "
                        "unbound (give each rank its own cores: mpirun --map-by "
                        "ppr:N:numa:PE=T --bind-to core)\n");
}

void rollout_engine_placement(const rollout_engine *r, FILE *out, const char *prefix) {
    for (int k = 0; r->rank == 0 && k < r->ranks; k++) {
        const rank_placement *p = &r->placement[k];
        if (k == 16) {
            fprintf(out, "%s... and %d more ranks\n", prefix, r->ranks - 16);
            break;
        }
        fprintf(out, "%srank %d on %s: environments %d-%d on %d core%s (PUs %s), %d team%s x %d "
                     "thread%s, %s\n",
                prefix, k, p->host, p->first, p->first + p->local - 1, p->cores,
                p->cores == 1 ? "" : "s", p->pus, p->concurrency, p->concurrency == 1 ? "" : "s",
                p->threads, p->threads == 1 ? "" : "s",
                p->shared ? "unbound (cores shared with another rank)"
                : p->oversubscribed ? "unbound (more threads than cores)" : "bound");
    }
}
