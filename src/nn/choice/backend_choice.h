/* The per-machine backend plan (--backend plan, the default): auto's choice
 * for a network (all native, the whole oneDNN net, or a per-layer mix),
 * measured once for a machine, network, batch and thread count and kept in a
 * plan file, like FFTW's wisdom, so that every later run uses the same
 * implementation and repeats bit for bit (a timed choice made afresh each
 * run could differ between two runs of the same command).
 *
 * The file: a header line "# alrs backend plans, version 1", then one entry a
 * line:
 *   cpu=MODEL-SIGNATURE|isa=ISA|net=MODEL-CxHxW-PARAMS|batch=B|threads=T|alrs=VERSION choice=CHOICE
 * CHOICE is "native", "dnnl-net" or one letter per conv/fc layer, n or d
 * (nn_net_auto_choice). An entry is only ever used by a run with its exact
 * key: another CPU, instruction set, network, batch, thread count or alrs
 * version measures and adds its own. (Auto times training steps only, so the
 * evaluation batch is not part of the key.) A line that is none of these makes the
 * file refused (one line naming it, never guessed around): remove the file,
 * or measure again with alrs tune.
 *
 * Where: cfg.plan_path (--plan FILE), else $ALRS_PLAN, else
 * $XDG_CACHE_HOME/alrs/plans.txt, else ~/.cache/alrs/plans.txt. Processes
 * measuring at once (the teams of a comparison) take turns through an flock
 * on FILE.lock, and the file is replaced atomically, so no entry is lost. */
#ifndef ALRS_NN_CHOICE_BACKEND_CHOICE_H
#define ALRS_NN_CHOICE_BACKEND_CHOICE_H

#include "nn/net.h"

#define BACKEND_PLAN_HEADER "# alrs backend plans, version 1"

/* The plan file a config uses (see above), into buf. */
void backend_choice_path(const nn_net_config *cfg, char *buf, int size);
/* The entry key of a network on this machine and thread team, into buf. */
void backend_choice_key(const nn_spec *spec, const nn_net_config *cfg, char *buf, int size);
/* Measures the choice for the key (auto) and writes it into the plan file,
 * replacing an entry of the same key (alrs tune); the net it measured is
 * returned, NULL with a message on failure. */
nn_net *backend_choice_measure(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                             float *state);
/* A net as the plan file says, measuring and recording it when the file has
 * no entry yet (nn_net_create calls it for "plan"); NULL with a message on
 * failure. */
nn_net *nn_net_create_plan(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state);

#endif
