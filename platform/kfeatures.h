/* SPDX-License-Identifier: MIT */
/* Host kernel features moat uses that are younger than Linux 5.0, probed
 * once at start by trying them on the sentry's own objects (never by
 * reading the version). A required feature that is missing makes moat
 * refuse to start with one line naming it; the others have a fallback.
 * README.md ("Kernel support") has the table of versions and fallbacks.
 *
 * For the tests only: MOAT_TEST_FORCE_FALLBACK ("all", or a comma list of
 * the names below) makes moat behave as if those features were missing, so
 * the fallbacks of older kernels can be exercised on a new one. "all" means
 * every feature that has a fallback; a required one must be named. */
#pragma once
#include <stdbool.h>

enum kfeature {
	/* required by the seccomp-unotify platform; without them moat runs
	 * on the ptrace platform instead (platform.h, "notify" below) */
	KF_SECCOMP_LISTENER,    /* SECCOMP_FILTER_FLAG_NEW_LISTENER, 5.0 */
	KF_WAIT_KILLABLE_RECV,  /* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 5.19 */
	KF_ADDFD_SEND,          /* SECCOMP_IOCTL_NOTIF_ADDFD + ADDFD_FLAG_SEND, 5.14 */
	/* required: no safe way without them */
	KF_PIDFD,               /* pidfd_open, pollable, 5.3 */
	KF_PIDFD_GETFD,         /* pidfd_getfd, 5.6 */
	KF_OPENAT2,             /* openat2 with RESOLVE_*, 5.6 */
	KF_CLOSE_RANGE,         /* close_range, 5.9 */
	KF_MOUNT_SETATTR,       /* mount_setattr, 5.12 */
	/* with a fallback */
	KF_PIDFD_THREAD,        /* pidfd_open(PIDFD_THREAD), 6.9 */
	KF_SYNC_WAKE_UP,        /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 6.6 */
	KF_MEMFD_NOEXEC_SEAL,   /* MFD_NOEXEC_SEAL / MFD_EXEC, 6.3 */
	KF_IO_URING,            /* restricted io_uring ring for the gofer, 5.10 */
	KF_IO_URING_DEFER_TASKRUN, /* IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN, 6.1 */
	KF_SEAL_FUTURE_WRITE,   /* F_SEAL_FUTURE_WRITE on memfds (exec arenas), 5.1 */
	KF_TMPFS_STORE,         /* fsopen("tmpfs")+fsmount: sized, detached tmpfs stores, 5.2 */
	KF_CLONE_INTO_CGROUP,   /* clone3(CLONE_INTO_CGROUP): pid 1 born in its cgroup v2, 5.7 */
	/* Not kernel versions but the host's setup; "present" means "may be
	 * tried" (sentry/sandbox/cgroup.c tries and falls back by itself).
	 * Forcing cgroup_v2 off makes moat use v1 where the host has it, both
	 * off the rlimits (docs/limits.md). */
	KF_CGROUP_V2,           /* limits in a cgroup v2 child of the caller's */
	KF_CGROUP_V1,           /* limits in cgroup v1 hierarchies */
	KF__MAX
};

struct kfeature_info {
	const char *name;     /* for MOAT_TEST_FORCE_FALLBACK */
	const char *what;     /* as the kernel names it, for the refusal */
	const char *since;    /* first Linux release that has it */
	bool required;
	/* Required only by the seccomp-unotify platform: kfeatures_probe()
	 * does not refuse without it, kfeatures_notify_ok() says false. */
	bool notify;
};

const struct kfeature_info *kfeature_info(enum kfeature f);

/* Probe what can be probed without a seccomp listener and apply
 * MOAT_TEST_FORCE_FALLBACK. Returns 0, or -EOPNOTSUPP after printing the
 * one-line refusal (a required feature is missing), or -EINVAL after
 * printing why the variable is wrong. Call once, before any thread. */
int kfeatures_probe(void);
/* The same for what needs the sandbox's seccomp listener (ADDFD|SEND). */
int kfeatures_probe_listener(int listener);
/* Has the kernel (as far as probed, and nothing forced off) what the
 * seccomp-unotify platform needs? */
bool kfeatures_notify_ok(void);
/* Refuse (the one line, -EOPNOTSUPP) if it has not; else 0. */
int kfeatures_require_notify(void);

/* Does the kernel have f (and is it not forced off)? Features used only
 * where they are tried anyway (io_uring in the gofer, SYNC_WAKE_UP) answer
 * whether they may be tried. Before kfeatures_probe() everything is
 * assumed present (unit tests). */
bool kfeature_has(enum kfeature f);
