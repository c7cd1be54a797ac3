/* SPDX-License-Identifier: MIT */
/* `moat delete [--force] ID`: runc's delete. A stopped container's state is
 * removed; a created one is killed first (as runc does); a running one only
 * with --force (SIGKILL, and a wait until its processes are gone). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"
#include "sentry/oci/hooks.h"

int command_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	bool force = false;
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		if (c == 'f') {
			force = true;
		} else if (c == 'h') {
			puts("Usage: moat delete [--force] CONTAINER-ID\n"
			     "Delete a stopped or created container; --force kills a running one first.");
			return 0;
		} else {
			return oci_fail("delete: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	int r = oci_check_args("delete", argc - optind, 1, OCI_ARGS_EXACT);
	if (r)
		return r;
	const char *id = argv[optind];
	if (!oci_id_valid(id))
		return oci_fail("invalid container ID format");
	struct oci_state st;
	r = oci_state_load(id, &st);
	if (r == -ENOENT) {
		/* A directory without state.json: a create that never finished.
		 * runc removes it, and succeeds only with --force. */
		char dir[PATH_MAX];
		if (oci_path(dir, sizeof(dir), id, NULL) == 0 && access(dir, F_OK) == 0)
			(void)oci_state_remove(id);
		return force ? 0 : oci_fail("container does not exist");
	}
	if (r < 0)
		return oci_fail("container %s: state: %s", id, strerror(-r));
	char dir[PATH_MAX];
	oci_path(dir, sizeof(dir), id, NULL);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)flock(dfd, LOCK_EX);
	enum oci_status s = oci_state_status(&st);
	if ((s == OCI_RUNNING || s == OCI_PAUSED) && !force) {
		oci_state_free(&st);
		return oci_fail("cannot delete container %s that is not stopped: %s", id, oci_status_name(s));
	}
	/* A v1 freezer holds a SIGKILL until the thaw: resume first, as runc. */
	if (s == OCI_PAUSED)
		(void)oci_container_pause(&st, false);
	/* --force kills even a stopped one's leftovers, as runc does. */
	if (s != OCI_STOPPED || force)
		r = oci_container_kill_wait(&st);
	if (r < 0) {
		oci_state_free(&st);
		return oci_fail("container init still running");
	}
	if ((r = oci_state_remove(id)) < 0) {
		oci_state_free(&st);
		return oci_fail("remove %s: %s", dir, strerror(-r));
	}
	/* Once it is deleted, before delete returns (runtime-spec). */
	oci_hooks_poststop(st.hooks, &st);
	oci_state_free(&st);
	return 0;
}
