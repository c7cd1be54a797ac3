/* SPDX-License-Identifier: MIT */
/* What `moat run` (or a container's config.json) asked for, and the embedded default view. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "net/net.h"
#include "platform/platform.h"

struct sock_filter;

/* MOUNT_SOCKET: --bind-socket, a host AF_UNIX socket the guest may connect
 * to at dst (sentry/kernel/unixaddr.h). */
enum mount_kind { MOUNT_BIND, MOUNT_TMPFS, MOUNT_SOCKET };

struct mount_spec {
	enum mount_kind kind;
	char *src;  /* host path (bind) */
	char *dst;  /* absolute sandbox path */
	bool ro;    /* binds: read-only unless ":rw" */
	bool file;  /* binds: src is a regular file, mounted on a file at dst */
	uid_t owner_uid; /* rw binds: host owner of what the guest creates */
	gid_t owner_gid;
	uint64_t size;   /* tmpfs: its own size in bytes; 0: a share of --disk */
	mode_t mode;     /* tmpfs: its root's mode (default 01777) */
	unsigned flags;  /* tmpfs: MNT_RDONLY, MNT_NOEXEC (nosuid, nodev always) */
};

/* Limits on the sandbox as a whole (docs/limits.md): cgroups where the
 * host has them, rlimits otherwise (sentry/sandbox/cgroup.c, limits.c).
 * 0 means no limit. */
struct sandbox_limits {
	uint64_t memory;        /* --memory, bytes */
	uint64_t pids;          /* --pids: processes and threads */
	uint64_t cpu_quota_us;  /* --cpus F: F * cpu_period_us per period */
	uint64_t cpu_period_us;
	uint64_t cpu_shares;    /* OCI linux.resources.cpu.shares (relative weight) */
	uint64_t nofile_soft;   /* --nofile: RLIMIT_NOFILE of the command; 0: moat's own */
	uint64_t nofile_hard;
	bool memory_is_default; /* moat run's default, not --memory: cgroups only */
	/* moat run without --memory, --pids or --cpus asking for a limit: a
	 * cgroup only where pid 1 can be cloned into it, since moving a task
	 * into one costs ~10-20 ms of start (docs/limits.md). */
	bool defaults_only;
	/* LIMIT_FALLBACK_* (limits.h): what no cgroup enforces here, so the
	 * command's rlimits stand in. Set by cgroup_setup(). */
	unsigned fallback;
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
	char *upper;            /* --upper DIR: the overlay's upper layer on the host */
	uid_t upper_uid;        /* its owner on the host (as an rw bind's) */
	gid_t upper_gid;
	uint64_t disk_bytes;    /* --disk: all in-memory files together; 0: half of RAM */
	long timeout_ms;        /* --timeout: wall-clock limit of the command, 0: none */
	long stop_grace_ms;     /* --stop-timeout: a stop signal to moat, then SIGKILL
				 * after this long; 0: MOAT_STOP_GRACE_MS */
	struct sandbox_limits limits;
	bool bind_owner_set;    /* --bind-owner UID[:GID] for every rw bind */
	uid_t bind_uid;
	gid_t bind_gid;
	bool debug;
	/* How guest calls reach the sentry (--platform, MOAT_PLATFORM;
	 * docs/architecture.md, "Platforms"). AUTO until sandbox.c chose. */
	enum platform_kind platform;
	/* Terminals (console.c, docs/terminals.md). tty: the command's stdio
	 * is a pty of the sandbox's devpts; its master goes to console_socket
	 * (runc's --console-socket) if set, else `moat run` relays it to its
	 * own stdio. interactive (-i): the relay forwards stdin (and puts its
	 * terminal in raw mode). console_rows/cols: the initial size (0: the
	 * user's terminal's). */
	bool tty;
	bool interactive;
	char *console_socket;
	unsigned short console_rows, console_cols;
	/* --user's home directory from the sandbox's /etc/passwd (HOME). */
	char *home;
	struct net_config net;   /* --net and the egress policy (net/net.h) */
	char **argv;            /* the command, NULL-terminated */
	/* `moat trace`/`moat profile`: the guest filter to install instead of
	 * the table's (every call notified; docs/tracing.md). Not owned. */
	const struct sock_filter *guest_filter;
	unsigned short guest_filter_len;
	/* Put by pid 1 in the unused registers of the sendmsg that hands the
	 * listener over, which the traced filter lets through unnotified;
	 * [0] is SYS_SENDMSG_UNTRAPPED (the untraced filter's own exemption),
	 * the other two the random tag. */
	uint64_t report_tag[3];
	/* --seccomp-profile: a second filter, stacked on the table's in the
	 * command's process before its exec (docs/seccomp-profiles.md). */
	const struct sock_filter *profile_filter;
	unsigned short profile_filter_len;

	/* Set from an OCI bundle's config.json (sentry/oci/spec.c), or from
	 * `moat run --user` (user.c); all zero by default. */
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
	/* A listening unix socket (SOCK_SEQPACKET) on which the sentry
	 * serves `moat exec` (sentry/sandbox/execsrv.c); taken. -1: none. */
	int exec_sock;
};

/* Host directories the default view serves read-only (when they are real
 * directories; when they are symlinks, like /bin -> usr/bin on merged-/usr
 * systems, the sandbox root gets the same symlink). */
extern const char *const default_system_dirs[];
/* Paths (relative to /etc) masked in every view: secrets and host identity. */
extern const char *const etc_masks[];
extern const char *const etc_allow[];

int config_add_env(struct sandbox_config *c, const char *kv);
/* MOUNT_BIND: "SRC:DST[:ro|:rw]"; MOUNT_TMPFS: "DST[:OPTS]" with OPTS a
 * comma list of size=N, mode=OCTAL, ro, rw, noexec, exec, nosuid, nodev
 * (Docker's --tmpfs). -EINVAL with *ret_bad set to the part refused. */
int config_add_mount(struct sandbox_config *c, enum mount_kind kind, const char *spec);
/* The same for an OCI tmpfs: its options array's strings. */
int config_add_tmpfs(struct sandbox_config *c, const char *dst, const char *const *opts, size_t nopts);

/* "UID[:GID]", numbers, neither 0 (nothing the guest makes is root's) nor
 * -1; GID defaults to UID's primary group, else the same number. */
int config_parse_owner(const char *spec, uid_t *ret_uid, gid_t *ret_gid);
/* Check every --bind source (exists, is a directory) and give each rw bind
 * its owner: --bind-owner, else the source's owner (its group, or the
 * owner's primary group when that is root's). On error, a one-line
 * message in buf and -errno. */
int config_check_binds(struct sandbox_config *c, char *buf, size_t len);
/* Check --upper DIR: not with --read-only; an empty directory, writable
 * (not on a read-only filesystem, not immutable, the owner may write and
 * search it by its mode) with an owner as an rw bind's (--bind-owner or
 * DIR's owner, never root). Touches nothing. -errno with buf saying why
 * in one line. */
int config_check_upper(struct sandbox_config *c, char *buf, size_t len);
void config_free(struct sandbox_config *c);
