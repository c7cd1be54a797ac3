/* SPDX-License-Identifier: MIT */
/* `moat spec [--bundle DIR] [--rootless]`: write runc's starter config.json
 * (sentry/oci/spec_default.c) into the bundle, tab-indented as runc writes
 * it. Like runc's, it asks for a terminal, which moat does not have yet:
 * set "terminal": false before running it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sentry/cmd/cmd.h"
#include "sentry/oci/jsonout.h"
#include "sentry/oci/spec.h"
#include "sentry/oci/state.h"

int command_spec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	const char *bundle = ".";
	bool rootless = false;
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
		if (c == 'b') {
			bundle = optarg;
		} else if (c == 'r') {
			rootless = true;
		} else if (c == 'h') {
			puts("Usage: moat spec [--bundle DIR] [--rootless]\n"
			     "Write runc's starter config.json into the bundle (default: the current\n"
			     "directory). Set \"terminal\": false in it to run it with moat.");
			return 0;
		} else {
			return oci_fail("spec: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	int r = oci_check_args("spec", argc - optind, 0, OCI_ARGS_EXACT);
	if (r)
		return r;
	int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return oci_fail("chdir %s: %m", bundle);
	/* O_EXCL: never over an existing file, race-free. */
	int fd = openat(dfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	int e = errno;
	close(dfd);
	if (fd < 0 && e == EEXIST)
		return oci_fail("File config.json exists. Remove it first");
	if (fd < 0)
		return oci_fail("config.json: %s", strerror(e));
	FILE *f = fdopen(fd, "w");
	struct json_object *s = oci_spec_default(rootless);
	r = f && s ? oci_json_print(f, s, "\t") : -ENOMEM;
	json_object_put(s);
	if (!f)
		close(fd);
	else if (fclose(f) != 0 && r == 0)
		r = -EIO;
	return r < 0 ? oci_fail("config.json: %s", strerror(-r)) : 0;
}
