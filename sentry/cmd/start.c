/* SPDX-License-Identifier: MIT */
/* `moat start ID`: runc's start. The created container's command waits for
 * one byte on exec.fifo; writing it and removing the FIFO is the start
 * (sentry/oci/container.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"
#include "sentry/oci/hooks.h"

int command_start(int argc, char **argv)
{
	if (oci_log_open() < 0)
		return 1;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("Usage: moat start CONTAINER-ID\nStart the created container's process.");
		return 0;
	}
	int r = oci_check_args("start", argc - 1, 1, OCI_ARGS_EXACT);
	if (r)
		return r;
	struct oci_state st;
	if ((r = oci_container_get(argv[1], &st)))
		return r;
	char dir[PATH_MAX], fifo[PATH_MAX];
	oci_path(dir, sizeof(dir), st.id, NULL);
	oci_path(fifo, sizeof(fifo), st.id, "exec.fifo");
	/* One start at a time: a second one then sees "running". */
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)flock(dfd, LOCK_EX);
	enum oci_status s = oci_state_status(&st);
	if (s != OCI_CREATED) {
		oci_state_free(&st);
		return oci_fail(s == OCI_STOPPED ? "cannot start a container that has stopped"
						 : "cannot start an already running container");
	}
	/* startContainer, before the command runs; its failure stops the
	 * container (runtime-spec). */
	char err[PATH_MAX + 256];
	if (oci_hooks_run(st.hooks, "startContainer", &st, "created", st.sentry.pid, st.init.pid, err,
			  sizeof(err)) < 0) {
		(void)oci_container_kill_wait(&st);
		oci_state_free(&st);
		return oci_fail("%s", err);
	}
	/* Non-blocking: with nobody reading (the command died meanwhile)
	 * this fails with ENXIO instead of waiting. */
	_cleanup_close_ int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		oci_state_free(&st);
		(void)unlink(fifo);
		if (e == ENXIO)
			return oci_fail("cannot start a container that has stopped");
		return oci_fail("exec.fifo: %s", strerror(e));
	}
	if (write(fd, "0", 1) != 1) {
		oci_state_free(&st);
		return oci_fail("exec.fifo: %m");
	}
	if (unlink(fifo) < 0) {
		oci_state_free(&st);
		return oci_fail("remove exec.fifo: %m");
	}
	oci_hooks_poststart(st.hooks, &st);
	oci_state_free(&st);
	return 0;
}
