/* SPDX-License-Identifier: MIT */
/* The gofer: a separate process that mediates all host file access.
 * It serves only the host paths it was started with (never a path named in a
 * request), walks one component at a time with openat2(RESOLVE_BENEATH|
 * RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), reports symlinks back instead of
 * following them, and donates directory fds to the sentry with SCM_RIGHTS.
 * Wire format: docs/gofer-protocol.md, encoding in proto.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "gofer/proto.h"

struct gofer_export {
	char *host_path;   /* absolute host path of the served directory */
	bool rw;           /* read-write bind (mutations allowed) */
	/* rw: what the gofer creates there is owned by this uid and gid (its
	 * fsuid and fsgid while it creates); never 0. */
	uid_t owner_uid;
	gid_t owner_gid;
	/* Paths (relative to host_path, no leading '/') the gofer masks: files
	 * become empty and unreadable, directories empty. */
	char **masks;
	size_t nmasks;
	/* A single-file bind: host_path is a regular file, served as the one
	 * entry, so named, of a directory of the gofer's own (read-only: no
	 * sibling can be made, none of the host's is seen). NULL: host_path
	 * is the served directory. */
	char *file_name;
};

struct gofer_config {
	struct gofer_export *exports;
	size_t nexports;
	bool debug;
};

/* Fork the gofer. It sets itself up (own mount namespace holding only the
 * exports, its own seccomp allowlist, PR_SET_PDEATHSIG) and serves on the
 * returned socket. Returns 0 or -errno; ret_sock is the sentry's end. */
int gofer_spawn(const struct gofer_config *cfg, pid_t *ret_pid, int *ret_pidfd, int *ret_sock);

/* A node the gofer knows: directories come with a donated fd (O_RDONLY|
 * O_DIRECTORY|O_CLOEXEC, in the gofer's mount namespace). */
struct gofer_node {
	uint64_t id;       /* the gofer's handle, valid until gofer_release */
	int fd;            /* donated directory fd, or -1 */
	struct stat st;    /* lstat of the node */
};

/* Client (sentry side). Thread-safe: requests carry tags and any number of
 * threads may wait for replies at once; none holds the sentry lock while
 * waiting (callers drop it, see sentry.h). */
struct gofer_client;
struct gofer_client *gofer_client_new(int sock);
void gofer_client_free(struct gofer_client *gc);
/* What to do when the connection breaks: a malformed, unasked-for or
 * out-of-order reply, a failed send, or the gofer gone. Every call then
 * fails with -EIO; `fn` is called once, at that moment, to end the
 * sandbox (fail closed). It runs with the client's internal lock held and
 * must not call into the client. */
void gofer_client_set_fatal(struct gofer_client *gc, void (*fn)(const char *why));

/* Root of export idx. */
int gofer_attach(struct gofer_client *gc, uint32_t idx, struct gofer_node *ret);
/* One component under directory `dir_id`. A directory comes back with an fd;
 * anything else (file, symlink, device) with fd -1 and its lstat. -ENOENT,
 * -EACCES for masked names. */
int gofer_walk(struct gofer_client *gc, uint64_t dir_id, const char *name, struct gofer_node *ret);
/* Forget a handle. */
int gofer_release(struct gofer_client *gc, uint64_t id);
/* A mutation of an rw export (op GOFER_OP_OPEN..REMOVEXATTR, request
 * fields as proto.h says). OPEN gives the fd of the regular file (O_CLOEXEC)
 * in *ret_fd; OPEN, MKDIR, MKNOD, SYMLINK, LINK and SETATTR give the new
 * lstat in *ret_st (either may be NULL). -EINVAL without a round trip for
 * a request the gofer would refuse. */
int gofer_mutate(struct gofer_client *gc, uint16_t op, const struct gofer_mut *m, int *ret_fd,
		 struct stat *ret_st);
