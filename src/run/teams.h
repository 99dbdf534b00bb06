/* Thread teams pinned to disjoint cores: the rollout engine runs each
 * environment's computation on its own team (--envs E --threads-per-env T).
 * Team e owns cores e·T .. e·T+T-1 of the cores this process may use (so,
 * under MPI or a Slurm cpuset, of the cores the rank was given). */
#ifndef ALRS_RUN_TEAMS_H
#define ALRS_RUN_TEAMS_H

typedef struct {
    void *topology;   /* hwloc_topology_t */
    void *allowed;    /* hwloc_bitmap_t: the process's cores at start */
    int n_cores;      /* cores available to this process */
    int teams, threads_per_team;
    int oversubscribed; /* more threads than cores: binding is skipped */
} team_layout;

/* Discovers the cores (hwloc) and plans `teams` teams of `threads` threads.
 * -1 with a message if hwloc fails. Oversubscription is allowed (a warning
 * is printed once) and then threads are left unbound. */
int teams_init(team_layout *t, int teams, int threads);
void teams_free(team_layout *t);
/* Binds the calling thread, the team's leader, to the team's cores team·T ..
 * team·T+T-1 (modulo the cores); the OpenMP threads it starts inherit that
 * set, so a team never spills onto another team's cores. A no-op when
 * oversubscribed. */
void teams_bind(const team_layout *t, int team);

#endif
