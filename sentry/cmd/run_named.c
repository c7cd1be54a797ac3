/* SPDX-License-Identifier: MIT */
/* `moat run --name NAME [-d] [--rm] [OPTIONS] [-- CMD [ARGS...]]`: moat's
 * own sandbox (its options, its default view), kept under a name in moat's
 * state root as a container is (sentry/oci/container.c), so that a code
 * interpreter's service can keep one warm and run many commands in it:
 * `moat exec NAME CMD`, `moat ps`, `moat kill NAME`, `moat cp`, `moat
 * delete NAME`. In the foreground it is moat run with a name, removed when
 * it ends. -d returns once it runs; without a command it idles until
 * killed. Its stdin is then /dev/null; stdout and stderr stay the
 * caller's, as with runc's run -d. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"
#include "sentry/oci/spec.h"

/* --rm with -d: a watcher outside the sandbox, in a session of its own,
 * removes the state once the sentry that state.json names has exited (a
 * pidfd: never a reused pid), unless the name was deleted and taken again
 * meanwhile. */
static void remove_when_done(const char *id)
{
	struct oci_state st;
	if (oci_state_load(id, &st) < 0)
		return;
	int pfd = (int)syscall(SYS_pidfd_open, st.sentry.pid, 0);
	struct oci_proc sentry = st.sentry;
	oci_state_free(&st);
	if (pfd < 0)
		return;
	if (!oci_proc_alive(&sentry)) {
		close(pfd);
		(void)oci_state_remove(id);
		return;
	}
	fflush(NULL);
	pid_t w = fork();
	if (w != 0) {
		close(pfd);
		return;
	}
	(void)setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; null >= 0 && fd < 3; fd++)
		(void)dup2(null, fd);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	char dir[PATH_MAX];
	if (oci_path(dir, sizeof(dir), id, NULL) < 0)
		_exit(1);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX) < 0)
		_exit(0);
	if (oci_state_load(id, &st) == 0) {
		bool same = st.sentry.pid == sentry.pid && st.sentry.start == sentry.start;
		oci_state_free(&st);
		if (same)
			(void)oci_state_remove(id);
	}
	_exit(0);
}

int run_named(const struct run_named *n, struct sandbox_config *cfg)
{
	if (oci_log_open() < 0)
		return 125;
	struct oci_spec spec = { .cfg = *cfg };
	char **argv = cfg->argv;
	*cfg = (struct sandbox_config){ 0 };
	spec.cfg.argv = NULL;
	char dir[PATH_MAX];
	bool oom = oci_path(dir, sizeof(dir), n->name, NULL) < 0;
	if (argv)
		oom |= !(spec.cfg.argv = strv_dup(argv));
	oom |= !(spec.version = strdup(OCI_VERSION_SPEC)) || !(spec.bundle = strdup(dir)) ||
	       !(spec.rootfs = strdup(spec.cfg.rootfs ? spec.cfg.rootfs : "/")) ||
	       !(spec.annotations = json_object_new_object());
	if (oom) {
		oci_spec_free(&spec);
		fprintf(stderr, "moat run: --name %s: %s\n", n->name, strerror(ENOMEM));
		return 125;
	}
	json_object_object_add(spec.annotations, "org.moat.sandbox", json_object_new_string("run"));
	if (n->detach) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0) {
			oci_spec_free(&spec);
			fprintf(stderr, "moat run: /dev/null: %m\n");
			return 125;
		}
		close(null);
	}
	bool started = false;
	struct oci_launch l = { .mode = n->detach ? OCI_MODE_RUN_DETACHED : OCI_MODE_RUN,
				.verb = "run",
				.id = n->name,
				.spec = &spec,
				.started = &started };
	int status = oci_container_launch(&l);
	oci_spec_free(&spec); /* taken by the launch: only what it left */
	if (!started)
		return 125; /* reported */
	if (n->detach && n->rm)
		remove_when_done(n->name);
	return status;
}
