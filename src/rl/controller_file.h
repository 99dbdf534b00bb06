/* Controller checkpoints: the whole controller (the interface to its
 * environment, the policy's shape, actor and critic parameters, log-std,
 * Adam's moments and step, the observation normaliser, the reward scaler, the
 * update count) in one versioned binary file. docs/CONTROLLER_FORMAT.md
 * describes every field.
 *
 * Format, version 3; every integer and double little-endian whatever the host
 * (doubles as their IEEE-754 bit patterns):
 *   header, 32 bytes:
 *     char  magic[8]     "ALRSCTRL"
 *     u32   version      3
 *     u32   reserved     0
 *     u64   payload_size bytes after the header
 *     u32   crc32        zlib's crc32 of the payload
 *     u32   reserved     0
 *   payload:
 *     policy   u32 obs_size, u32 dist (0 categorical, 1 Gaussian), u32 n_actions,
 *              u32 activation, u32 n_hidden, u32 hidden[n_hidden], f64 init_log_std
 *     interface u32 features, u32 action kind (0 discrete, 1 continuous,
 *              2 absolute), u32 n_factors, f64 factors[n_factors], f64 delta,
 *              f64 residual_range, u32 base_len, u8 base[base_len] (no NUL),
 *              f64 lr_min, f64 lr_max, u32 action_every, u64 steps
 *     params   u64 n_params, f64 params[n_params] (policy.h's flat layout)
 *     adam     u64 n, i64 t, f64 beta1, beta2, eps, f64 m[n], f64 v[n]
 *     obs norm u32 dim, f64 clip, eps, count, f64 mean[dim], f64 m2[dim]
 *     rewards  f64 gamma, clip, eps, count, mean, m2, u32 n_envs, f64 ret[n_envs]
 *     i64 updates
 *     origin   (version 3 on) u32 len + model, u32 len + optimizer, u32 len +
 *              dataset (no NUL), u32 n_rates, f64 rates[n_rates], u64 val_size,
 *              u32 classes, u32 len + tasks, f64 default_lr
 *
 * Version 2 is version 3 without the origin (read with it empty).
 * Version 1 (alrs before the interface existed) is read too: its config was
 *   u32 obs_size, u32 action_kind (0 discrete, 1 continuous), f64 delta,
 *   u32 activation, u32 n_hidden, u32 hidden[n_hidden], f64 init_log_std
 * followed directly by the parameters; it means the paper's seven features,
 * discrete x(1+delta), /(1+delta), keep (or the squashed Gaussian), plain
 * mode, bounds [1e-6, 1], an action every 10 steps, steps unknown (0).
 * Saving always writes version 3.
 *
 * Saving writes to a temporary name and renames (core/fileio.h), so a killed
 * run leaves the previous checkpoint intact. Loading checks, in order: the
 * file opens, the header is complete, the magic, the version, the size the
 * header announces, the checksum, then every size inside the payload against
 * the config; each failure is one line naming the path. */
#ifndef ALRS_RL_CONTROLLER_FILE_H
#define ALRS_RL_CONTROLLER_FILE_H

#include <stddef.h>

#include "rl/controller.h"

#define CHECKPOINT_MAGIC "ALRSCTRL"
#define CHECKPOINT_VERSION 3u
/* The oldest version this build reads. */
#define CHECKPOINT_OLDEST_VERSION 1u
#define CHECKPOINT_HEADER_SIZE 32

int controller_file_save(const controller *c, const char *path);
/* Fills an uninitialised controller from the file (free it with
 * controller_free); on failure -1 with the message, and nothing to free. */
int controller_file_load(controller *c, const char *path);
/* The same, and the file's CRC-32 and size from the very bytes it was read
 * from (a comparison or suite records them: a rerun must find the same
 * controller, and the file must not change between reading and hashing). */
int controller_file_load_fingerprint(controller *c, const char *path, unsigned long *crc,
                                     long *bytes);
/* The same from the file's bytes already in memory (`path` names them in
 * messages): controller_file_load is read_whole_file + this; the fuzzer calls it
 * directly. */
int controller_file_parse(controller *c, const unsigned char *data, size_t len, const char *path);

#endif
