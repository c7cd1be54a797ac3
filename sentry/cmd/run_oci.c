/* SPDX-License-Identifier: MIT */
/* `moat run [--bundle DIR] [-d] CONTAINER-ID`: runc's run, create and start
 * in one. In the foreground it waits for the container, exits with its
 * status and deletes it (unless --keep); -d returns once it runs. How `moat
 * run` tells this form from its own: run.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"

static void usage(FILE *f)
{
	fputs("Usage: moat run [OPTIONS] CONTAINER-ID      (runc's form; see 'moat --help')\n"
	      "Create and start a container from the bundle's config.json, wait for it, exit\n"
	      "with its status and delete it.\n"
	      "\n"
	      "Options:\n"
	      "  -b, --bundle DIR        the bundle (default: the current directory)\n"
	      "  -d, --detach            return once the container runs\n"
	      "  --keep                  keep the stopped container's state (foreground)\n"
	      "  --pid-file FILE         write the container's pid there\n"
	      "  --console-socket PATH   with process.terminal, send the terminal's master\n"
	      "                          there (SCM_RIGHTS, as runc); needed with -d\n"
	      "  --preserve-fds N, --pidfd-socket PATH, --no-subreaper, --no-pivot,\n"
	      "  --no-new-keyring\n"
	      "                          accepted (see docs/oci.md)\n",
	      f);
}

int command_run_oci(int argc, char **argv)
{
	enum { O_PIDFILE = 256, O_CONSOLE, O_PRESERVE, O_PIDFD, O_KEEP, O_IGNORE };
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "pidfd-socket", required_argument, NULL, O_PIDFD },
		{ "no-subreaper", no_argument, NULL, O_IGNORE },
		{ "no-pivot", no_argument, NULL, O_IGNORE },
		{ "no-new-keyring", no_argument, NULL, O_IGNORE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	struct oci_launch l = { .mode = OCI_MODE_RUN, .verb = "run" };
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "b:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			l.bundle = optarg;
			break;
		case 'd':
			l.mode = OCI_MODE_RUN_DETACHED;
			break;
		case O_KEEP:
			l.keep = true;
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
		case O_IGNORE:
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return oci_fail("run: flag provided but not defined or without its value: %s",
					argv[optind - 1]);
		}
	}
	int r = oci_check_args("run", argc - optind, 1, OCI_ARGS_EXACT);
	if (r)
		return r;
	l.id = argv[optind];
	return oci_container_launch(&l);
}
