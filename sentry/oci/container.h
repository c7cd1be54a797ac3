/* SPDX-License-Identifier: MIT */
/* A container's life (container.c): starting its sandbox as a daemon that
 * outlives the command, holding it between create and start, and finding
 * its processes again from its state. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sentry/oci/state.h"

struct oci_spec;

enum oci_mode {
	OCI_MODE_CREATE,       /* set up, the command waits for `moat start` */
	OCI_MODE_RUN,          /* create + start, wait for it, remove it */
	OCI_MODE_RUN_DETACHED, /* create + start, return */
};

struct oci_launch {
	enum oci_mode mode;
	const char *verb;     /* "create" or "run", for messages */
	const char *id;
	const char *bundle;   /* default "." */
	const char *pid_file; /* or NULL */
	bool keep;            /* run: keep the stopped container's state */
	const char *console_socket; /* where the terminal's master goes, or NULL */
	/* A sandbox of `moat run --name` (sentry/cmd/run_named.c): its spec
	 * made from moat run's options, taken (freed) by the launch; its
	 * process's defaults, for `moat exec`, kept as <root>/<id>/process.json
	 * and the state directory standing for its bundle. NULL: read the
	 * bundle's config.json. */
	struct oci_spec *spec;
	/* If set: made true once the container runs, so a caller can tell
	 * the command's status from the launch's failure. */
	bool *started;
};

/* Returns the process exit status: 0 once created (or started, detached),
 * the container's status for a foreground run, 1 on an error (reported). */
int oci_container_launch(const struct oci_launch *l);

/* Send sig to the container's process (its command: pid 2 of the sandbox),
 * or with all to every process of the container but moat's own pid 1.
 * -ESRCH: nothing to signal. */
int oci_container_signal(const struct oci_state *st, int sig, bool all);
/* SIGKILL the container (its sentry: pid 1 and the gofer die with it) and
 * wait until its sentry, pid 1 and gofer are gone (10 s at most:
 * -ETIMEDOUT). */
int oci_container_kill_wait(const struct oci_state *st);
/* The host pids of the container's processes (not moat's pid 1), in the
 * order of a walk from pid 1; *ret is malloc'd. */
int oci_container_pids(const struct oci_state *st, pid_t **ret, size_t *n);
/* pause (true) or resume the container: the cgroup freezer where it has a
 * cgroup of its own (v2) or a v1 freezer hierarchy exists (a freezer
 * cgroup is made for it), else SIGSTOP/SIGCONT to every process of the
 * sandbox, moat's pid 1 included. While paused, <root>/<id>/paused names
 * the mechanism; the status then reads "paused". */
int oci_container_pause(const struct oci_state *st, bool pause);

/* --pid-file, as runc writes it: a hidden temporary beside it, renamed. */
int oci_write_pid_file(const char *path, pid_t pid);

/* <root>/<id>/exec.sock, where the container's sentry serves `moat exec`
 * (sentry/sandbox/execsrv.c): bound and listening (create), or connected
 * (exec). SOCK_SEQPACKET, O_CLOEXEC; root's only. Returns the fd or -errno. */
int oci_exec_socket(const char *id, bool listen);

/* Load a container's state, reporting runc's errors: an invalid id, "container
 * does not exist". Returns 0 or the exit status to return. */
int oci_container_get(const char *id, struct oci_state *ret);
