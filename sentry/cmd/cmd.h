/* SPDX-License-Identifier: MIT */
/* CLI verbs, one file each (sentry/cmd/<verb>.c), dispatched from main.c's
 * table. Each returns the process exit status. moat's own verbs: 0 success,
 * 2 usage error, 125 when moat itself fails, else the guest's status. The
 * OCI runtime verbs (runc's command line, docs/oci.md) use runc's: 0, or 1
 * for any error, reported as one log record. */
#pragma once
#include <stdbool.h>
int command_run(int argc, char **argv);
int command_syscalls(int argc, char **argv);
int command_trace(int argc, char **argv);
int command_profile(int argc, char **argv);

/* `moat run`'s options and sandbox, shared by the verbs that run a
 * command (trace, profile). prepare(cfg, ctx), if set, runs once the
 * options are parsed and before the sandbox starts; a non-zero return is
 * the exit status. -1 when -h was given and the verb is not "run". */
struct sandbox_config;
int run_sandbox(const char *verb, int argc, char **argv,
		int (*prepare)(struct sandbox_config *cfg, void *ctx), void *ctx);
/* `moat run --name NAME [-d] [--rm]` (run_named.c): the sandbox as a
 * container of moat's state root, for `moat exec NAME`, `moat ps`, `moat
 * kill NAME`, `moat cp`. Takes cfg (frees it). */
struct run_named {
	const char *name;
	bool detach; /* return once it runs (no command: it idles) */
	bool rm;     /* detached: remove its state once it ends */
};
int run_named(const struct run_named *n, struct sandbox_config *cfg);
int command_cp(int argc, char **argv);

/* Whether run_sandbox() puts the runtime options (runtime_opts.c) before
 * the command line's; returns the previous setting. */
bool run_sandbox_presets(bool on);
/* run's long options that take a value (NULL-terminated). */
extern const char *const run_options_with_arg[];

/* OCI runtime (runc's command line) */
int command_create(int argc, char **argv);
int command_start(int argc, char **argv);
int command_state(int argc, char **argv);
int command_kill(int argc, char **argv);
int command_delete(int argc, char **argv);
int command_list(int argc, char **argv);
int command_ps(int argc, char **argv);
int command_spec(int argc, char **argv);
int command_features(int argc, char **argv);
int command_exec(int argc, char **argv);
int command_pause(int argc, char **argv);
int command_resume(int argc, char **argv);
int command_events(int argc, char **argv);
/* pause and resume share their checks (pause.c). */
int oci_pause_verb(const char *verb, int argc, char **argv, bool pause);
/* `moat run` in its OCI form (run.c decides: see there). */
int command_run_oci(int argc, char **argv);
/* Parse an OCI verb's operands: exactly `want` (or at least, if min).
 * Returns 0 or the exit status of the usage error (reported). */
int oci_check_args(const char *verb, int have, int want, int mode);
enum { OCI_ARGS_EXACT, OCI_ARGS_MIN, OCI_ARGS_MAX };
