/* SPDX-License-Identifier: MIT */
/* `moat kill [--all] ID [SIGNAL]`: runc's kill. SIGNAL is a number or a
 * name, with or without SIG, in any case (default SIGTERM). It goes to the
 * container's process, the command of config.json's process.args (pid 2 of
 * the sandbox, moat's own pid 1 being 1); --all sends it to every process
 * of the container. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS },	  { "CHLD", SIGCHLD },
	{ "CLD", SIGCHLD },  { "CONT", SIGCONT }, { "FPE", SIGFPE },	  { "HUP", SIGHUP },
	{ "ILL", SIGILL },   { "INT", SIGINT },	  { "IO", SIGIO },	  { "IOT", SIGIOT },
	{ "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGPOLL },	  { "PROF", SIGPROF },
	{ "PWR", SIGPWR },   { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },	  { "STKFLT", SIGSTKFLT },
	{ "STOP", SIGSTOP }, { "SYS", SIGSYS },	  { "TERM", SIGTERM },	  { "TRAP", SIGTRAP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },	  { "URG", SIGURG },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

/* -1 for an unknown signal. */
static int parse_signal(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && !*end)
		return n >= 0 && n <= SIGRTMAX ? (int)n : -1;
	const char *name = strncasecmp(s, "SIG", 3) ? s : s + 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcasecmp(name, signals[i].name))
			return signals[i].sig;
	/* RTMIN+N and RTMAX-N, as kill(1) takes them. */
	if (!strncasecmp(name, "RTMIN", 5) || !strncasecmp(name, "RTMAX", 5)) {
		bool min = !strncasecmp(name, "RTMIN", 5);
		long off = 0;
		if (name[5]) {
			if (name[5] != (min ? '+' : '-'))
				return -1;
			off = strtol(name + 6, &end, 10);
			if (*end || !name[6])
				return -1;
		}
		long sig = min ? SIGRTMIN + off : SIGRTMAX - off;
		return sig >= SIGRTMIN && sig <= SIGRTMAX ? (int)sig : -1;
	}
	return -1;
}

int command_kill(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	bool all = false;
	int c;
	opterr = 0;
	optind = 0;
	/* "+": options end at the id, as runc's, so `kill ID -9` is not an option. */
	while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		if (c == 'a') {
			all = true;
		} else if (c == 'h') {
			puts("Usage: moat kill [--all] CONTAINER-ID [SIGNAL]\n"
			     "Send SIGNAL (default SIGTERM; a number or a name) to the container's process,\n"
			     "or with --all to all of its processes.");
			return 0;
		} else {
			return oci_fail("kill: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	int r;
	if ((r = oci_check_args("kill", argc - optind, 1, OCI_ARGS_MIN)) ||
	    (r = oci_check_args("kill", argc - optind, 2, OCI_ARGS_MAX)))
		return r;
	const char *sigstr = optind + 1 < argc ? argv[optind + 1] : "SIGTERM";
	struct oci_state st;
	if ((r = oci_container_get(argv[optind], &st)))
		return r;
	int sig = parse_signal(sigstr);
	if (sig < 0) {
		oci_state_free(&st);
		return oci_fail("unknown signal \"%s\"", sigstr);
	}
	enum oci_status s = oci_state_status(&st);
	r = s == OCI_STOPPED ? -ESRCH : oci_container_signal(&st, sig, all);
	oci_state_free(&st);
	if (r == -ESRCH)
		return all ? 0 : oci_fail("container not running");
	if (r < 0)
		return oci_fail("unable to signal init: %s", strerror(-r));
	return 0;
}
