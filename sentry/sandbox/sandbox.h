/* SPDX-License-Identifier: MIT */
#pragma once
#include "sentry/sandbox/config.h"

/* Start the gofer, build the sandbox's VFS, start the guest, serve it as the
 * sentry until its first process exits. Returns the exit status moat should
 * exit with (the guest's, 128+N for a signal, 125 when the sandbox could not
 * start, MOAT_EXIT_TIMEOUT when --timeout ended it). */
#define MOAT_EXIT_TIMEOUT 124
/* The memory limit's OOM kill took pid 1 before it could report: the
 * command's SIGKILL (128+9), as when it took the command. */
#define MOAT_EXIT_OOM 137
/* A stop signal to moat (SIGTERM, SIGINT, SIGHUP, SIGQUIT) is forwarded to
 * the command; a sandbox still running this long after is killed (status
 * 137), as `docker stop` does after its default 10 s. */
#define MOAT_STOP_GRACE_MS 10000
int sandbox_run(struct sandbox_config *cfg);
/* The same, held or watched by its caller (the OCI lifecycle). */
int sandbox_run_hooks(struct sandbox_config *cfg, const struct sandbox_hooks *hooks);
/* The command's environment: moat run's PATH, HOME and TERM, then --env;
 * or a container's own, plus HOME when it has none. NULL-terminated,
 * malloc'd (each string too); NULL if out of memory. */
char **sandbox_env(const struct sandbox_config *cfg);
