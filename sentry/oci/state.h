/* SPDX-License-Identifier: MIT */
/* Containers' state under the root directory (state.c):
 *
 *   <root>/<id>/            made by create (mkdir: an id in use fails)
 *   <root>/<id>/state.json  written once the sandbox is set up (write to
 *                           a temporary name, fsync, rename)
 *   <root>/<id>/exec.fifo   while the container waits for `moat start`
 *
 * Nothing else is kept: the status is computed on every call, as runc does,
 * from the processes state.json names (their pid and start time, so a
 * reused pid is never taken for the container): the sentry alive and the
 * FIFO there is "created", the sentry alive without it "running", else
 * "stopped". So the state survives moat itself being restarted or replaced
 * between commands. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/log.h"

struct json_object;

#define OCI_DEFAULT_ROOT "/run/moat"

/* The global options engines pass before the verb. */
struct oci_globals {
	const char *root;    /* --root, absolute; default OCI_DEFAULT_ROOT */
	const char *log;     /* --log FILE, or NULL: stderr */
	enum log_format log_format; /* --log-format text|json */
	bool debug;          /* --debug */
	bool given;          /* any of --root, --log, --log-format, --systemd-cgroup, --rootless */
};
extern struct oci_globals oci_globals;

/* Set up logging for an OCI verb: runc's text shape on stderr, or --log. */
int oci_log_open(void);
/* Report a command's final error as runc does (logged; also plainly on
 * stderr when the log goes elsewhere) and return runc's exit status, 1. */
int oci_fail(const char *fmt, ...) _printf_(1, 2);

struct oci_proc {
	pid_t pid;
	uint64_t start; /* /proc/<pid>/stat field 22: tells a reused pid apart */
};

struct oci_state {
	char *id;
	char *version;  /* the bundle's ociVersion */
	char *bundle;
	char *rootfs;
	char *created;  /* RFC 3339 with nanoseconds, UTC, as Go prints it */
	struct oci_proc sentry; /* "pid": the container as its engine waits for it */
	struct oci_proc init;   /* the sandbox's pid 1 */
	struct oci_proc gofer;
	struct json_object *annotations; /* an object */
	struct json_object *hooks;       /* config.json's hooks (checked), or NULL */
};

enum oci_status { OCI_CREATED, OCI_RUNNING, OCI_STOPPED, OCI_PAUSED };

/* runc's rule: ASCII letters, digits, _ + - . and not "." or "..". */
bool oci_id_valid(const char *id);
/* <root>/<id>[/name] into buf. */
int oci_path(char *buf, size_t len, const char *id, const char *name);
/* Load <root>/<id>/state.json. -ENOENT: no such container (or one whose
 * create has not finished). */
int oci_state_load(const char *id, struct oci_state *ret);
/* Write it atomically (temporary file, fsync, rename). */
int oci_state_save(const struct oci_state *st);
void oci_state_free(struct oci_state *st);

/* The process's start time, and whether it runs (not a zombie). */
int oci_proc_read(pid_t pid, struct oci_proc *ret);
bool oci_proc_alive(const struct oci_proc *p);

enum oci_status oci_state_status(const struct oci_state *st);
const char *oci_status_name(enum oci_status s);
/* runc's view of a container (its containerState): ociVersion, id, pid (0
 * once stopped), status, bundle, rootfs, created, annotations (when any),
 * owner. */
struct json_object *oci_state_view(const struct oci_state *st, enum oci_status s,
				   const char *owner);

/* Remove <root>/<id> and what moat keeps in it. */
int oci_state_remove(const char *id);
/* Now, as Go's time.Time marshals: 2006-01-02T15:04:05.999999999Z. */
void oci_time_now(char *buf, size_t len);
