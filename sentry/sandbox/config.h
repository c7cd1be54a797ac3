/* SPDX-License-Identifier: MIT */
/* What `moat run` (or a container's config.json) asked for, and the embedded default view. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "net/net.h"

struct sock_filter;

enum mount_kind { MOUNT_BIND, MOUNT_TMPFS };

struct mount_spec {
	enum mount_kind kind;
	char *src;  /* host path (bind) */
	char *dst;  /* absolute sandbox path */
	bool ro;    /* binds: read-only unless ":rw" */
	uid_t owner_uid; /* rw binds: host owner of what the guest creates */
	gid_t owner_gid;
};

struct sandbox_config {
	char *rootfs;           /* NULL: the host's system directories */
	struct mount_spec *mounts;
	size_t nmounts;
	char **env;             /* NULL-terminated, "K=V" */
	size_t nenv;
	char *cwd;
	char *audit_log;
	char *hostname;
	uint32_t host_uid_start; /* --host-uid-range; count 0: the default range */
	uint32_t host_uid_count;
	bool read_only;         /* --read-only: no overlay, EROFS outside tmpfs mounts */
	long timeout_ms;        /* --timeout: wall-clock limit of the command, 0: none */
	bool bind_owner_set;    /* --bind-owner UID[:GID] for every rw bind */
	uid_t bind_uid;
	gid_t bind_gid;
	bool debug;
	struct net_config net;   /* --net and the egress policy (net/net.h) */
	char **argv;            /* the command, NULL-terminated */
	/* `moat trace`/`moat profile`: the guest filter to install instead of
	 * the table's (every call notified; docs/tracing.md). Not owned. */
	const struct sock_filter *guest_filter;
	unsigned short guest_filter_len;
	/* Put by pid 1 in the unused registers of the sendmsg that hands the
	 * listener over, which the traced filter lets through unnotified. */
	uint64_t report_tag[3];
	/* --seccomp-profile: a second filter, stacked on the table's in the
	 * command's process before its exec (docs/seccomp-profiles.md). */
	const struct sock_filter *profile_filter;
	unsigned short profile_filter_len;

	/* Set from an OCI bundle's config.json (sentry/oci/spec.c); all zero
	 * for `moat run`. */
	bool env_exact;         /* env is the whole environment: no PATH/HOME/TERM added */
	uid_t uid;              /* the guest's credentials (root by default) */
	gid_t gid;
	gid_t *groups;          /* supplementary groups */
	size_t ngroups;
	bool umask_set;
	mode_t umask;           /* default 022 */
	struct rlimit_spec {
		int resource;
		struct rlimit lim;
	} *rlimits;             /* applied to the command before it runs */
	size_t nrlimits;
	char *domainname;
};

/* How a caller holds or watches a sandbox it starts (the OCI lifecycle:
 * sentry/oci/container.c). NULL hooks: `moat run`. */
struct sandbox_hooks {
	/* A FIFO's read end, opened read-write (so that a read waits for
	 * data instead of seeing no writer): the command reads one byte from
	 * it before it execs, so it runs only once `moat start` writes.
	 * Closed by sandbox_run_hooks() once pid 1 has it. -1: run at once. */
	int start_fd;
	/* Called once the sandbox is fully set up, just before the sentry
	 * starts serving (its own filter already on: only sendmsg, read and
	 * close on fds it has). Nonzero: tear the sandbox down (status 125). */
	int (*ready)(void *ctx, pid_t init_pid, pid_t gofer_pid);
	void *ctx;
};

/* Host directories the default view serves read-only (when they are real
 * directories; when they are symlinks, like /bin -> usr/bin on merged-/usr
 * systems, the sandbox root gets the same symlink). */
extern const char *const default_system_dirs[];
/* Paths (relative to /etc) masked in every view: secrets and host identity. */
extern const char *const etc_masks[];
extern const char *const etc_allow[];

int config_add_env(struct sandbox_config *c, const char *kv);
int config_add_mount(struct sandbox_config *c, enum mount_kind kind, const char *spec);
/* "UID[:GID]", numbers, neither 0 (nothing the guest makes is root's) nor
 * -1; GID defaults to UID's primary group, else the same number. */
int config_parse_owner(const char *spec, uid_t *ret_uid, gid_t *ret_gid);
/* Check every --bind source (exists, is a directory) and give each rw bind
 * its owner: --bind-owner, else the source's owner (its group, or the
 * owner's primary group when that is root's). On error, a one-line
 * message in buf and -errno. */
int config_check_binds(struct sandbox_config *c, char *buf, size_t len);
void config_free(struct sandbox_config *c);
