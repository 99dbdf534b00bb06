#include "optim/optim_ref.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void optim_ref_init(optim_ref *r, const float *p, size_t n) {
    memset(r, 0, sizeof *r);
    r->n = n;
    double **bufs[] = {&r->p, &r->m, &r->v, &r->s, &r->p0, &r->z, &r->x};
    for (size_t b = 0; b < sizeof bufs / sizeof bufs[0]; b++) {
        *bufs[b] = alrs_malloc(sizeof(double) * (n ? n : 1));
        memset(*bufs[b], 0, sizeof(double) * n);
    }
    /* the references keep their state from the start: z = x = p0 = p */
    for (size_t i = 0; i < n; i++) r->p[i] = r->p0[i] = r->z[i] = r->x[i] = p[i];
    r->d = r->d_max = 1e-6;
}

void optim_ref_free(optim_ref *r) {
    double *bufs[] = {r->p, r->m, r->v, r->s, r->p0, r->z, r->x};
    for (size_t b = 0; b < sizeof bufs / sizeof bufs[0]; b++) free(bufs[b]);
    memset(r, 0, sizeof *r);
}
