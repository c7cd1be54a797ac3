/* SPDX-License-Identifier: MIT */
/* `moat ps [--format table|json] ID [PS-ARGS...]`: runc's ps (without an
 * id: moat list). The container's processes are its sandbox's, found by
 * walking the tree under its pid 1 (which adopts orphans), not a cgroup;
 * moat's own pid 1 is not listed. json: an array of host pids; table: ps's
 * output (default `ps -ef`) cut to those pids. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"

static bool has_pid(const pid_t *v, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

/* Run ps with args, keep its header and the lines of pids. */
static int ps_table(char **args, int nargs, const pid_t *v, size_t n)
{
	char *argv[nargs + 3];
	int k = 0;
	argv[k++] = "ps";
	if (nargs == 0)
		argv[k++] = "-ef";
	for (int i = 0; i < nargs; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return oci_fail("ps: pipe: %m");
	fflush(NULL);
	pid_t child = fork();
	if (child == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execvp("ps", argv);
		_exit(127);
	}
	close(p[1]);
	_cleanup_(fclosep) FILE *f = fdopen(p[0], "r");
	if (child < 0 || !f)
		return oci_fail("ps: cannot run ps");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int pid_col = -1, r = 0;
	for (bool first = true; getline(&line, &cap, f) > 0; first = false) {
		char copy[4096];
		snprintf(copy, sizeof(copy), "%s", line);
		char *save, *tok = strtok_r(copy, " \t\n", &save);
		if (first) {
			for (int c = 0; tok; c++, tok = strtok_r(NULL, " \t\n", &save))
				if (!strcmp(tok, "PID"))
					pid_col = c;
			if (pid_col < 0)
				r = 1;
			else
				fputs(line, stdout);
			continue;
		}
		for (int c = 0; tok && c < pid_col; c++)
			tok = strtok_r(NULL, " \t\n", &save);
		if (pid_col >= 0 && tok && has_pid(v, n, strtol(tok, NULL, 10)))
			fputs(line, stdout);
	}
	int st;
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (r)
		return oci_fail("couldn't find PID field in ps output");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return oci_fail("ps: exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

int command_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	const char *format = "table";
	int c;
	opterr = 0;
	optind = 0;
	/* "+": what follows the id is ps's own options (-aux...). */
	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			format = optarg;
		} else if (c == 'h') {
			puts("Usage: moat ps [--format table|json] CONTAINER-ID [PS-ARGS...]\n"
			     "       moat ps [--format table|json]\n"
			     "List the container's processes (ps -ef by default); without an id, the\n"
			     "containers and named sandboxes, as moat list.");
			return 0;
		} else {
			return oci_fail("ps: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	/* No id: the sandboxes themselves (docker ps), not runc's error. */
	if (argc == optind)
		return command_list(argc, argv);
	int r = oci_check_args("ps", argc - optind, 1, OCI_ARGS_MIN);
	if (r)
		return r;
	if (strcmp(format, "table") && strcmp(format, "json"))
		return oci_fail("invalid format option");
	struct oci_state st;
	if ((r = oci_container_get(argv[optind], &st)))
		return r;
	pid_t *v = NULL;
	size_t n = 0;
	r = oci_container_pids(&st, &v, &n);
	oci_state_free(&st);
	if (r < 0)
		return oci_fail("ps: %s", strerror(-r));
	if (!strcmp(format, "json")) {
		putchar('[');
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", v[i]);
		puts("]");
		r = 0;
	} else {
		r = ps_table(argv + optind + 1, argc - optind - 1, v, n);
	}
	free(v);
	return r ? r : fflush(stdout) == 0 ? 0 : oci_fail("ps: cannot write the output");
}
