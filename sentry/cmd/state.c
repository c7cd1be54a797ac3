/* SPDX-License-Identifier: MIT */
/* `moat state ID`: the container's state as runc prints it (its
 * containerState, indented by two spaces, no newline after). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"
#include "sentry/oci/jsonout.h"

int command_state(int argc, char **argv)
{
	if (oci_log_open() < 0)
		return 1;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("Usage: moat state CONTAINER-ID\nPrint the container's state as JSON.");
		return 0;
	}
	int r = oci_check_args("state", argc - 1, 1, OCI_ARGS_EXACT);
	if (r)
		return r;
	struct oci_state st;
	if ((r = oci_container_get(argv[1], &st)))
		return r;
	/* runc leaves the owner empty here (list fills it in). */
	struct json_object *v = oci_state_view(&st, oci_state_status(&st), "");
	r = oci_json_print(stdout, v, "  ");
	json_object_put(v);
	oci_state_free(&st);
	if (r < 0 || fflush(stdout) != 0)
		return oci_fail("state: cannot write the output");
	return 0;
}
