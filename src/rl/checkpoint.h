/* Controller checkpoints: the whole controller (config, actor and critic
 * parameters, log-std, Adam's moments and step, the observation normaliser,
 * the reward scaler, the update count) in one versioned binary file.
 *
 * Format, version 1; every integer and double little-endian whatever the host
 * (doubles as their IEEE-754 bit patterns):
 *   header, 32 bytes:
 *     char  magic[8]     "ALRSCTRL"
 *     u32   version      1
 *     u32   reserved     0
 *     u64   payload_size bytes after the header
 *     u32   crc32        zlib's crc32 of the payload
 *     u32   reserved     0
 *   payload:
 *     config   u32 obs_size, u32 action_kind, f64 delta, u32 activation,
 *              u32 n_hidden, u32 hidden[n_hidden], f64 init_log_std
 *     policy   u64 n_params, f64 params[n_params] (policy.h's flat layout)
 *     adam     u64 n, i64 t, f64 beta1, beta2, eps, f64 m[n], f64 v[n]
 *     obs norm u32 dim, f64 clip, eps, count, f64 mean[dim], f64 m2[dim]
 *     rewards  f64 gamma, clip, eps, count, mean, m2, u32 n_envs, f64 ret[n_envs]
 *     i64 updates
 *
 * Saving writes to a temporary name and renames (core/fileio.h), so a killed
 * run leaves the previous checkpoint intact. Loading checks, in order: the
 * file opens, the header is complete, the magic, the version, the size the
 * header announces, the checksum, then every size inside the payload against
 * the config; each failure is one line naming the path. */
#ifndef ALRS_RL_CHECKPOINT_H
#define ALRS_RL_CHECKPOINT_H

#include <stddef.h>

#include "rl/controller.h"

#define CHECKPOINT_MAGIC "ALRSCTRL"
#define CHECKPOINT_VERSION 1u
#define CHECKPOINT_HEADER_SIZE 32

int checkpoint_save(const controller *c, const char *path);
/* Fills an uninitialised controller from the file (free it with
 * controller_free); on failure -1 with the message, and nothing to free. */
int checkpoint_load(controller *c, const char *path);
/* The same from the file's bytes already in memory (`path` names them in
 * messages): checkpoint_load is read_whole_file + this; the fuzzer calls it
 * directly. */
int checkpoint_parse(controller *c, const unsigned char *data, size_t len, const char *path);

#endif
