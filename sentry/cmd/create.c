/* SPDX-License-Identifier: MIT */
/* `moat create [OPTIONS] ID`: runc's create. The sandbox is set up and its
 * command waits until `moat start ID` (sentry/oci/container.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"

static void usage(FILE *f)
{
	fputs("Usage: moat create [OPTIONS] CONTAINER-ID\n"
	      "Create a container from the bundle's config.json; its process waits for\n"
	      "`moat start`. stdin, stdout and stderr are the container's.\n"
	      "\n"
	      "Options:\n"
	      "  -b, --bundle DIR        the bundle (default: the current directory)\n"
	      "  --pid-file FILE         write the container's pid there (its sentry's: the\n"
	      "                          process an engine waits for; see docs/oci.md)\n"
	      "  --console-socket PATH   with process.terminal, send the terminal's master\n"
	      "                          there (SCM_RIGHTS over a unix socket, as runc)\n"
	      "  --preserve-fds N, --pidfd-socket PATH, --no-pivot, --no-new-keyring\n"
	      "                          accepted, no effect (see docs/oci.md)\n",
	      f);
}

int command_create(int argc, char **argv)
{
	enum { O_PIDFILE = 256, O_CONSOLE, O_PRESERVE, O_PIDFD, O_NOPIVOT, O_NOKEYRING };
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "pidfd-socket", required_argument, NULL, O_PIDFD },
		{ "no-pivot", no_argument, NULL, O_NOPIVOT },
		{ "no-new-keyring", no_argument, NULL, O_NOKEYRING },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	struct oci_launch l = { .mode = OCI_MODE_CREATE, .verb = "create" };
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			l.bundle = optarg;
			break;
		case O_PIDFILE:
			l.pid_file = optarg;
			break;
		case O_PRESERVE:
			if (atoi(optarg) > 0)
				log_warnx("--preserve-fds %s: moat passes only stdin, stdout and stderr", optarg);
			break;
		case O_CONSOLE:
			l.console_socket = optarg;
			break;
		case O_PIDFD:
		case O_NOPIVOT:
		case O_NOKEYRING:
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return oci_fail("create: flag provided but not defined or without its value: %s",
					argv[optind - 1]);
		}
	}
	int r = oci_check_args("create", argc - optind, 1, OCI_ARGS_EXACT);
	if (r)
		return r;
	l.id = argv[optind];
	return oci_container_launch(&l);
}
