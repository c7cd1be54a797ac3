/* SPDX-License-Identifier: MIT */
/* The sandbox's pid 1 (guest.c). */
#pragma once
#include <limits.h>
#include <sys/types.h>
#include "sentry/sandbox/config.h"

#define GUEST_MAX_INTERP 4

struct guest {
	pid_t pid;   /* host pid of the sandbox's pid 1 */
	int pidfd;
	int sock;    /* pid 1 reports readiness here, then serves `moat exec`'s
		      * requests on it (spawn.h) until the sentry closes it */
	int status;  /* pid 1 writes the command's wait status here */
};

/* What pid 1 reports once it is confined: the seccomp listener (-1 on the
 * ptrace platform), and the ELF
 * interpreters it bound in the guest's root (paths and O_PATH fds of the
 * host files, so the sentry can check they are the files its view shows). */
struct guest_ready {
	int listener;
	int diag;     /* NETLINK_SOCK_DIAG in the guest's netns, or -1 */
	int ninterp;
	char interp[GUEST_MAX_INTERP][PATH_MAX];
	int interp_fd[GUEST_MAX_INTERP];
};

/* The sandbox's own host identity (sentry/sandbox/hostuid.c): pid 1 drops
 * to uid/gid and keeps uid_lock, the reservation, open for its whole life. */
struct guest_ids {
	uid_t uid;
	gid_t gid;
	int uid_lock;
};

/* Start pid 1 in new pid, mount, net, ipc, uts and cgroup namespaces. It sets
 * itself up while the sentry builds its view, then runs argv with envp;
 * with start_fd >= 0 the command first waits for a byte on it (see
 * struct sandbox_hooks). With cgroup_fd >= 0 (a cgroup v2 directory,
 * struct sandbox_cgroup's clone_fd) it starts in that cgroup. With
 * tty_fd >= 0 (a pty slave), pid 1 and the command have it as stdio, and
 * the command leads a new session with it as its controlling terminal.
 * With --net=sandbox, pid 1 sends the tap's fd on net_sock (net/net.h).
 * Call while the sentry is single-threaded (pid 1 is a fork). */
int guest_start(const struct sandbox_config *cfg, char **envp, const char *hostname,
		const struct guest_ids *ids, int start_fd, int cgroup_fd, int tty_fd, int net_sock,
		struct guest *ret);
/* The fork-like clone3 of pid 1 (0 in the child, its pid in the parent,
 * -1 and errno): flags (CLONE_PIDFD puts the pidfd in *pidfd), SIGCHLD at
 * its end, and with cgroup_fd >= 0 CLONE_INTO_CGROUP. For guest_start and
 * tests/unit/test_limits.c. */
long guest_clone(unsigned long flags, int cgroup_fd, int *pidfd);
/* The ptrace platform: wait until pid 1 can be seized (it runs as the
 * sandbox's uid, dumpable, and waits before installing its filter), and,
 * once the tracer holds it, let it install the filter. -EPIPE: pid 1
 * failed (and said why on stderr). */
int guest_wait_traceable(struct guest *g);
int guest_release_to_tracer(struct guest *g);
/* Wait for pid 1's report. -EPIPE: it failed (and said why on stderr). */
int guest_wait_ready(struct guest *g, struct guest_ready *ret);
