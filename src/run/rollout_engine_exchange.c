/* What the ranks of an MPI rollout exchange (run/rollout_engine_ranks.h): step
 * outcomes and observations every agent step, and the records of finished
 * episodes, packed with their traces. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dist/dist.h"
#include "run/rollout_engine_ranks.h"

size_t rollout_row_len(const rollout_engine *r) { return (size_t)r->obs_size + 3; }

/* row_bytes[k] = environments of rank k × bytes_per_env. */
static const size_t *rank_bytes(rollout_engine *r, size_t bytes_per_env) {
    for (int k = 0; k < r->ranks; k++) {
        long first, count;
        dist_share(r->envs, k, r->ranks, &first, &count);
        r->row_bytes[k] = (size_t)count * bytes_per_env;
    }
    return r->row_bytes;
}

/* Every rank's observations obs_raw [E][OBS] to every rank. */
void rollout_share_observations(rollout_engine *r) {
    if (r->ranks == 1) return;
    size_t row = sizeof(double) * (size_t)r->obs_size;
    dist_allgatherv(NULL, row * (size_t)r->local, r->obs_raw, rank_bytes(r, row));
}

/* Every rank's step outcomes (next_raw, reward_raw, terminated, truncated)
 * to every rank; done follows from them. */
void rollout_share_outcomes(rollout_engine *r) {
    if (r->ranks == 1) return;
    size_t D = (size_t)r->obs_size, len = rollout_row_len(r);
    for (int e = r->first; e < r->first + r->local; e++) {
        double *row = r->rows + (size_t)e * len;
        memcpy(row, r->next_raw + (size_t)e * D, sizeof(double) * D);
        row[D] = r->reward_raw[e];
        row[D + 1] = r->terminated[e];
        row[D + 2] = r->truncated[e];
    }
    dist_allgatherv(NULL, sizeof(double) * len * (size_t)r->local, r->rows,
                    rank_bytes(r, sizeof(double) * len));
    for (int e = 0; e < r->envs; e++) {
        const double *row = r->rows + (size_t)e * len;
        memcpy(r->next_raw + (size_t)e * D, row, sizeof(double) * D);
        r->reward_raw[e] = row[D];
        r->terminated[e] = (unsigned char)(row[D + 1] != 0);
        r->truncated[e] = (unsigned char)(row[D + 2] != 0);
        r->done[e] = (unsigned char)(r->terminated[e] || r->truncated[e]);
    }
}

/* An episode record in transit: the struct (its pointers rewritten on
 * arrival), then lr, val_loss, val_acc, train_loss, action, reward
 * [agent_steps] each, then obs [agent_steps + 1][obs_size]. */
typedef struct {
    int env;
    lr_env_episode ep;
} packed_episode;

#define PACKED_HEAD ((sizeof(packed_episode) + 7) / 8 * 8)

#define PACKED_TRACES 6

static size_t packed_size(const lr_env_episode *ep) {
    size_t n = (size_t)ep->agent_steps;
    return PACKED_HEAD + sizeof(double) * (PACKED_TRACES * n + (n + 1) * (size_t)ep->obs_size);
}

static unsigned char *pack_episode(unsigned char *p, int e, const lr_env_episode *ep) {
    packed_episode head;
    memset(&head, 0, sizeof head);
    head.env = e;
    head.ep = *ep;
    memcpy(p, &head, sizeof head);
    p += PACKED_HEAD;
    const double *traces[PACKED_TRACES] = {ep->lr,         ep->val_loss, ep->val_acc,
                                           ep->train_loss, ep->action,   ep->reward};
    size_t n = sizeof(double) * (size_t)ep->agent_steps;
    for (int k = 0; k < PACKED_TRACES; k++, p += n) memcpy(p, traces[k], n);
    size_t obs = sizeof(double) * (size_t)(ep->agent_steps + 1) * (size_t)ep->obs_size;
    memcpy(p, ep->obs, obs);
    return p + obs;
}

/* The episodes that ended this step (complete) or were cut by the end of the
 * batch (!complete), to on_episode in environment order. Under MPI every rank
 * sends its records and rank 0 calls on_episode for all of them. */
void rollout_deliver_episodes(rollout_engine *r, int complete, episode_fn on_episode, void *ctx) {
    if (r->ranks == 1) {
        for (int e = 0; e < r->envs; e++) {
            const lr_env_episode *ep = lr_env_episode_record(&r->env[e]);
            if ((complete ? r->done[e] : !ep->done) && on_episode) on_episode(ctx, e, ep, complete);
        }
        return;
    }
    size_t mine = 0;
    for (int i = 0; i < r->local; i++) {
        const lr_env_episode *ep = lr_env_episode_record(&r->env[i]);
        if (complete ? r->done[r->first + i] : !ep->done) mine += packed_size(ep);
    }
    unsigned char *send = alrs_malloc(mine), *p = send;
    for (int i = 0; i < r->local; i++) {
        const lr_env_episode *ep = lr_env_episode_record(&r->env[i]);
        if (complete ? r->done[r->first + i] : !ep->done) p = pack_episode(p, r->first + i, ep);
    }
    dist_allgather(&mine, sizeof mine, r->row_bytes);
    size_t total = 0;
    for (int k = 0; k < r->ranks; k++) total += r->row_bytes[k];
    unsigned char *all = alrs_malloc(total);
    dist_allgatherv(send, mine, all, r->row_bytes);
    free(send);
    for (size_t at = 0; r->rank == 0 && at < total;) {
        packed_episode head;
        memcpy(&head, all + at, sizeof head);
        const double *traces = (const double *)(all + at + PACKED_HEAD);
        size_t n = (size_t)head.ep.agent_steps;
        head.ep.lr = traces;
        head.ep.val_loss = traces + n;
        head.ep.val_acc = traces + 2 * n;
        head.ep.train_loss = traces + 3 * n;
        head.ep.action = traces + 4 * n;
        head.ep.reward = traces + 5 * n;
        head.ep.obs = traces + PACKED_TRACES * n;
        if (on_episode) on_episode(ctx, head.env, &head.ep, complete);
        at += packed_size(&head.ep);
    }
    free(all);
}
