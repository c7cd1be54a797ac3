/* SPDX-License-Identifier: MIT */
/* What `moat trace` and `moat profile` share: taking their own options out
 * of a `moat run` command line, opening their output before the sentry
 * confines itself, and starting the trace (sentry/cmd/trace.c). */
#pragma once

struct sandbox_config;

struct trace_cli {
	int argc;          /* what is left for `moat run`'s parser */
	char **argv;       /* malloc'd; argv[0] is the verb */
};

/* Walk argv up to the command: each option is offered to own(cli, opt,
 * val) (val is the next argument for the options in own_with_value, else
 * NULL), which returns 0 when it took it, 1 when it is not its own, or an
 * exit status. Returns 0, or that status (2 for a missing value). cli must
 * be the first member of own's context. */
int trace_cli_split(const char *verb, int argc, char **argv, struct trace_cli *cli,
		    int (*own)(struct trace_cli *cli, const char *opt, const char *val),
		    const char *const *own_with_value);
/* The output file (created, truncated), or `fallback` when path is NULL;
 * -1 after saying why. */
int trace_cli_open_output(const char *verb, const char *path, int fallback);
/* run_sandbox's prepare hook: ctx is the struct trace_opts to trace with. */
int trace_cli_prepare(struct sandbox_config *cfg, void *ctx);
