/* SPDX-License-Identifier: MIT */
/* moat: dispatch to one command_<verb>() per CLI verb (cmd_<verb>.c). */
#include <stdio.h>
#include <string.h>

#include "sentry/cmd/cmd.h"
#include "common/cleanup.h"
#include "common/log.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} verbs[] = {
	{ "run", command_run, "run a command in a new sandbox" },
	{ "trace", command_trace, "run a command and record its syscalls (strace-like)" },
	{ "profile", command_profile, "make a seccomp profile of the syscalls a command needs" },
	{ "syscalls", command_syscalls, "print the syscall table (what passes, is emulated, denied)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: moat COMMAND [OPTIONS]\n\n"
		   "moat is a user-space kernel sandbox: a sentry emulates filesystem, process and\n"
		   "identity syscalls of the guest through seccomp user notification, and a gofer\n"
		   "process mediates all host file access.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\nRun 'moat COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	log_init("moat", 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("moat %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "moat: unknown command '%s' (see 'moat --help')\n", argv[1]);
	return 2;
}
