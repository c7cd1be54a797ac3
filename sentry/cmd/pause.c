/* SPDX-License-Identifier: MIT */
/* `moat pause ID`: runc's pause. Every process of the running container
 * stops: the cgroup freezer where there is one, else SIGSTOP
 * (oci_container_pause, docs/oci.md); `state` then says "paused". */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "common/cleanup.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"

int oci_pause_verb(const char *verb, int argc, char **argv, bool pause)
{
	if (oci_log_open() < 0)
		return 1;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: moat %s CONTAINER-ID\n%s\n", verb,
		       pause ? "Suspend every process of the container." : "Resume a paused container.");
		return 0;
	}
	int r = oci_check_args(verb, argc - 1, 1, OCI_ARGS_EXACT);
	if (r)
		return r;
	struct oci_state st;
	if ((r = oci_container_get(argv[1], &st)))
		return r;
	char dir[PATH_MAX];
	oci_path(dir, sizeof(dir), st.id, NULL);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)flock(dfd, LOCK_EX);
	enum oci_status s = oci_state_status(&st);
	if (pause && s != OCI_RUNNING)
		r = oci_fail("container not running");
	else if (!pause && s != OCI_PAUSED)
		r = oci_fail("container not paused");
	else if ((r = oci_container_pause(&st, pause)) < 0)
		r = oci_fail("%s: %s", verb, strerror(-r));
	oci_state_free(&st);
	return r;
}

int command_pause(int argc, char **argv)
{
	return oci_pause_verb("pause", argc, argv, true);
}
