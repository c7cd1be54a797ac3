/* SPDX-License-Identifier: MIT */
/* CLI verbs, one file each (cmd_<verb>.c), dispatched from main.c's table.
 * Each returns the process exit status: 0 success, 2 usage error, 125 when
 * moat itself fails (as runc does), else the guest's status. */
#pragma once
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
/* run's long options that take a value (NULL-terminated). */
extern const char *const run_options_with_arg[];
