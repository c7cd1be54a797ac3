/* SPDX-License-Identifier: MIT */
/* Limits on a sandbox as a whole: the options' syntax, moat run's defaults,
 * and the rlimits the command's process applies before its exec (limits.c).
 * The cgroup side is cgroup.c; docs/limits.md has the whole picture. */
#pragma once
#include <stdint.h>

#include "sentry/sandbox/config.h"

/* Defaults of `moat run` (docs/limits.md says why these). The memory
 * default is a share of the host's RAM, computed at start. */
#define LIMIT_DEFAULT_PIDS 4096
#define LIMIT_DEFAULT_MEMORY_PERCENT 50
#define LIMIT_DEFAULT_NOFILE_SOFT 1024
#define LIMIT_DEFAULT_NOFILE_HARD 4096
#define LIMIT_CPU_PERIOD_US 100000

/* Which limits no cgroup enforces, so the command's rlimits must
 * (sandbox_config.limits -> limits_apply). */
enum {
	LIMIT_FALLBACK_PIDS = 1,   /* RLIMIT_NPROC of the sandbox's own host uid */
	LIMIT_FALLBACK_MEMORY = 2, /* RLIMIT_DATA of each process (weaker) */
};

/* moat run's defaults: pids, memory (a share of host RAM), nofile. */
void limits_default(struct sandbox_limits *l);

/* "N[k|m|g|t]" (powers of 1024, a trailing 'b' or 'i b' ignored), or
 * "0"/"unlimited" for none (ret 0). -EINVAL, -ERANGE. */
int limits_parse_size(const char *s, uint64_t *ret);
/* A count; "0"/"unlimited": none. */
int limits_parse_count(const char *s, uint64_t *ret);
/* --cpus F: a number of CPUs, fractions allowed, 0.01 to 1024;
 * "0"/"unlimited": none. Sets the quota and period. */
int limits_parse_cpus(const char *s, struct sandbox_limits *l);
/* --nofile N or SOFT:HARD (soft <= hard); "0"/"unlimited": moat's own. */
int limits_parse_nofile(const char *s, struct sandbox_limits *l);

/* In the command's process, before its exec (guest.c): RLIMIT_NOFILE, and
 * for each LIMIT_FALLBACK_* bit in fallback the rlimit that stands in for
 * the cgroup. Returns 0 or -errno. */
int limits_apply(const struct sandbox_limits *l, unsigned fallback);

/* A human size for messages ("64 MiB"). */
const char *limits_size_str(uint64_t bytes, char *buf, unsigned len);
