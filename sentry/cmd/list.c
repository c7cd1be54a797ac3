/* SPDX-License-Identifier: MIT */
/* `moat list [--format table|json] [--quiet]`: runc's list of the
 * containers under --root: a table aligned as Go's tabwriter aligns it, or
 * one JSON array (null when there are none, as runc prints). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"
#include "sentry/oci/jsonout.h"

static int cmp_id(const void *a, const void *b)
{
	return strcmp(json_object_get_string(json_object_object_get(*(struct json_object *const *)a, "id")),
		      json_object_get_string(json_object_object_get(*(struct json_object *const *)b, "id")));
}

/* Every container with a readable state, as runc's containerState. */
static int collect(struct json_object *out)
{
	_cleanup_(closedirp) DIR *d = opendir(oci_globals.root);
	if (!d)
		return errno == ENOENT ? 0 : neg_errno();
	for (struct dirent *de; (de = readdir(d));) {
		struct stat sb;
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode) || !oci_id_valid(de->d_name))
			continue;
		struct oci_state st;
		if (oci_state_load(de->d_name, &st) < 0)
			continue; /* not a container (or one being created or deleted) */
		char owner[64];
		struct passwd *pw = getpwuid(sb.st_uid);
		if (pw)
			snprintf(owner, sizeof(owner), "%s", pw->pw_name);
		else
			snprintf(owner, sizeof(owner), "#%u", (unsigned)sb.st_uid);
		json_object_array_add(out, oci_state_view(&st, oci_state_status(&st), owner));
		oci_state_free(&st);
	}
	/* runc lists in directory order; sorted reads better and is stable. */
	json_object_array_sort(out, cmp_id);
	return 0;
}

static const char *field(struct json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

/* Go's tabwriter(minwidth 12, tabwidth 1, padding 3, ' '): each column as
 * wide as its widest cell plus 3, at least 12; the last one unpadded. */
static void print_table(struct json_object *a)
{
	static const char *const head[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
	static const char *const keys[] = { "id", "pid", "status", "bundle", "created", "owner" };
	size_t n = json_object_array_length(a), w[6];
	for (int c = 0; c < 6; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < 6; c++) {
			size_t l = strlen(field(json_object_array_get_idx(a, i), keys[c]));
			if (l > w[c])
				w[c] = l;
		}
	for (int c = 0; c < 5; c++)
		w[c] = w[c] + 3 < 12 ? 12 : w[c] + 3;
	for (int c = 0; c < 5; c++)
		printf("%-*s", (int)w[c], head[c]);
	printf("%s\n", head[5]);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(a, i);
		for (int c = 0; c < 5; c++)
			printf("%-*s", (int)w[c], field(o, keys[c]));
		printf("%s\n", field(o, "owner"));
	}
}

int command_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	const char *format = "table";
	bool quiet = false;
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
		if (c == 'f') {
			format = optarg;
		} else if (c == 'q') {
			quiet = true;
		} else if (c == 'h') {
			puts("Usage: moat list [--format table|json] [--quiet]\n"
			     "List the containers under --root.");
			return 0;
		} else {
			return oci_fail("list: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	int r = oci_check_args("list", argc - optind, 0, OCI_ARGS_EXACT);
	if (r)
		return r;
	if (strcmp(format, "table") && strcmp(format, "json"))
		return oci_fail("invalid format option");
	struct json_object *a = json_object_new_array();
	if ((r = collect(a)) < 0) {
		json_object_put(a);
		return oci_fail("list %s: %s", oci_globals.root, strerror(-r));
	}
	if (quiet) {
		for (size_t i = 0; i < json_object_array_length(a); i++)
			puts(field(json_object_array_get_idx(a, i), "id"));
	} else if (!strcmp(format, "json")) {
		if (json_object_array_length(a))
			oci_json_print(stdout, a, NULL);
		else
			fputs("null", stdout);
		putchar('\n');
	} else {
		print_table(a);
	}
	json_object_put(a);
	return fflush(stdout) == 0 ? 0 : oci_fail("list: cannot write the output");
}
