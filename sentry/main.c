/* SPDX-License-Identifier: MIT */
/* moat: runc's global options, then one command_<verb>() per CLI verb
 * (sentry/cmd/<verb>.c). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/cmd/cmd.h"
#include "sentry/cmd/runtime_opts.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "sentry/oci/spec.h"
#include "sentry/oci/state.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} verbs[] = {
	{ "run", command_run, "run a command in a new sandbox (or an OCI container: see below)" },
	{ "trace", command_trace, "run a command and record its syscalls (strace-like)" },
	{ "profile", command_profile, "make a seccomp profile of the syscalls a command needs" },
	{ "syscalls", command_syscalls, "print the syscall table (what passes, is emulated, denied)" },
	{ "create", command_create, "OCI: create a container from a bundle (it waits for start)" },
	{ "start", command_start, "OCI: start a created container's process" },
	{ "exec", command_exec, "run a new process in a named sandbox or running container" },
	{ "cp", command_cp, "copy files between the host and a named sandbox or container" },
	{ "pause", command_pause, "OCI: suspend every process of a container" },
	{ "resume", command_resume, "OCI: resume a paused container" },
	{ "events", command_events, "OCI: a container's statistics (memory, pids, cpu), once or every interval" },
	{ "state", command_state, "OCI: print a container's state as JSON" },
	{ "kill", command_kill, "send a signal to a named sandbox's or a container's process" },
	{ "delete", command_delete, "OCI: delete a stopped (or, with --force, any) container" },
	{ "list", command_list, "OCI: list the containers under --root" },
	{ "ps", command_ps, "list a container's processes; without an id, the sandboxes" },
	{ "spec", command_spec, "OCI: write runc's starter config.json" },
	{ "features", command_features, "OCI: print what this runtime supports, as JSON" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: moat [GLOBAL OPTIONS] COMMAND [OPTIONS]\n\n"
		   "moat is a user-space kernel sandbox: a sentry emulates filesystem, process and\n"
		   "identity syscalls of the guest through seccomp user notification, and a gofer\n"
		   "process mediates all host file access. It is also an OCI runtime with runc's\n"
		   "command line.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\nGlobal options (runc's, for container engines):\n"
		   "  --root DIR            where containers' state lives (default " OCI_DEFAULT_ROOT ")\n"
		   "  --log FILE            write the log there instead of stderr\n"
		   "  --log-format text|json\n"
		   "  --debug               log at debug level\n"
		   "  --systemd-cgroup, --rootless VALUE\n"
		   "                        accepted, no effect yet\n"
		   "\nmoat's own options for engines (`podman --runtime-flag net=sandbox`):\n"
		   "  --config FILE         runtime options as JSON, keys = long option names\n"
		   "                        (default " RUNTIME_CONFIG_DEFAULT ", if it exists)\n"
		   "  --OPTION[=VALUE]      any of `moat run`'s long options; for a container\n"
		   "                        those config.json does not cover: --net, --allow-net,\n"
		   "                        --deny-net, --allow-host, --allow-all-egress,\n"
		   "                        --publish, --dns, --audit-log, --bind-owner,\n"
		   "                        --host-uid-range, --disk, --timeout\n"
		   "                        (precedence: run's own flag > global flag > config\n"
		   "                        file > default)\n"
		   "\n`moat run` is moat's own form (`moat run [OPTIONS] -- CMD`) unless it has no\n"
		   "`--` and either an OCI run option (--bundle/-b, --detach/-d, --pid-file, ...),\n"
		   "a global option above, or a single container id with a config.json in the\n"
		   "current directory: then it is runc's `run [--bundle DIR] [-d] ID`.\n"
		   "\nRun 'moat COMMAND --help' for a command's options.\n");
}

/* --name VALUE or --name=VALUE at argv[*i]; *i moves past what it used.
 * Returns the value, or NULL when argv[*i] is not --name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int global_error(const char *msg, const char *arg)
{
	fprintf(stderr, "moat: %s%s (see 'moat --help')\n", msg, arg);
	return 2;
}

/* runc makes --root absolute and refuses the filesystem's root. */
static int set_root(const char *v)
{
	static char buf[8192];
	char cwd[4096];
	if (v[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return -1;
	int n0 = v[0] == '/' ? snprintf(buf, sizeof(buf), "%s", v) : snprintf(buf, sizeof(buf), "%s/%s", cwd, v);
	if (n0 < 0 || (size_t)n0 >= sizeof(buf))
		return -1;
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = 0;
	if (!strcmp(buf, "/") || !v[0])
		return -1;
	oci_globals.root = buf;
	return 0;
}

int main(int argc, char **argv)
{
	/* One malloc arena: handlers run one at a time under the sentry lock,
	 * so per-thread arenas buy no concurrency, and with a worker pool that
	 * grows and shrinks each arena kept its own freed memory: walking
	 * /usr (143k files) over and over grew the sentry by ~8 MiB a walk;
	 * with one arena it stays flat, and smaller. */
	mallopt(M_ARENA_MAX, 1);
	/* Freeing the dentries an LRU evicts shrank the heap's top by a few
	 * MiB and the next walk grew it back: keep up to 4 MiB of free top
	 * (a fixed threshold also stops glibc raising it on its own). */
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	/* So what setup frees stays too: the sentry (sandbox.c), and the
	 * processes forked from it (pid 1, the gofer, the cgroup helper),
	 * call heap_trim() (malloc_trim) once setup is done, which gives back every
	 * free page, not only the top (~0.4 MiB each, idle sandbox). */
	log_init("moat", 0);
	oci_spec_preset = runtime_opts_container;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v;
		bool missing = false;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			printf("moat %s\nspec: " OCI_VERSION_MAX "\n", PACKAGE_VERSION);
			return 0;
		}
		if (!strcmp(a, "--debug")) {
			oci_globals.debug = true;
		} else if (!strcmp(a, "--systemd-cgroup")) {
			oci_globals.given = true;
		} else if ((v = opt_value(argc, argv, &i, "--root", &missing))) {
			if (set_root(v) < 0)
				return global_error("--root must name a directory other than /: ", v);
			oci_globals.given = true;
		} else if ((v = opt_value(argc, argv, &i, "--log-format", &missing))) {
			if (!strcmp(v, "json"))
				oci_globals.log_format = LOG_JSON;
			else if (!strcmp(v, "text") || !*v)
				oci_globals.log_format = LOG_TEXT;
			else
				return global_error("invalid log-format: ", v);
			oci_globals.given = true;
		} else if ((v = opt_value(argc, argv, &i, "--log", &missing))) {
			oci_globals.log = v;
			oci_globals.given = true;
		} else if ((v = opt_value(argc, argv, &i, "--rootless", &missing))) {
			oci_globals.given = true; /* cgroup permission errors: no cgroups yet */
		} else {
			char err[256];
			int r = runtime_opts_flag(argc, argv, &i, err, sizeof(err));
			if (r < 0)
				return global_error(err, "");
			if (r == 0)
				return global_error(missing ? "option needs a value: " : "unknown global option ", a);
		}
		if (missing)
			return global_error("option needs a value: ", a);
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t k = 0; k < ARRAY_SIZE(verbs); k++)
		if (!strcmp(argv[i], verbs[k].name))
			return verbs[k].fn(argc - i, argv + i);
	fprintf(stderr, "moat: unknown command '%s' (see 'moat --help')\n", argv[i]);
	return 2;
}
