/* SPDX-License-Identifier: MIT */
/* Kernel feature probes (see kfeatures.h). Each probe tries the call on the
 * sentry's own objects, or with an argument the kernel rejects only after
 * it has accepted the flag in question, so nothing is changed; together
 * they cost a few dozen microseconds at start. */
#include "platform/kfeatures.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/pidfd.h"

/* Newer than Debian 12's headers. */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

static const struct kfeature_info infos[KF__MAX] = {
	[KF_SECCOMP_LISTENER] = { "seccomp_listener", "SECCOMP_FILTER_FLAG_NEW_LISTENER", "5.0", true,
				  true },
	[KF_WAIT_KILLABLE_RECV] = { "wait_killable_recv", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
				    "5.19", true, true },
	[KF_ADDFD_SEND] = { "addfd_send", "SECCOMP_ADDFD_FLAG_SEND", "5.14", true, true },
	[KF_PIDFD] = { "pidfd", "pidfd_open", "5.3", true },
	[KF_PIDFD_GETFD] = { "pidfd_getfd", "pidfd_getfd", "5.6", true },
	[KF_OPENAT2] = { "openat2", "openat2", "5.6", true },
	[KF_CLOSE_RANGE] = { "close_range", "close_range", "5.9", true },
	[KF_MOUNT_SETATTR] = { "mount_setattr", "mount_setattr", "5.12", true },
	[KF_PIDFD_THREAD] = { "pidfd_thread", "PIDFD_THREAD", "6.9", false },
	[KF_SYNC_WAKE_UP] = { "sync_wake_up", "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP", "6.6", false },
	[KF_MEMFD_NOEXEC_SEAL] = { "memfd_noexec_seal", "MFD_NOEXEC_SEAL", "6.3", false },
	[KF_IO_URING] = { "io_uring", "io_uring restrictions", "5.10", false },
	[KF_IO_URING_DEFER_TASKRUN] = { "io_uring_defer_taskrun", "IORING_SETUP_DEFER_TASKRUN", "6.1",
					false },
	[KF_SEAL_FUTURE_WRITE] = { "seal_future_write", "F_SEAL_FUTURE_WRITE", "5.1", false },
	[KF_TMPFS_STORE] = { "tmpfs_store", "fsopen of a tmpfs", "5.2", false },
	[KF_CLONE_INTO_CGROUP] = { "clone_into_cgroup", "CLONE_INTO_CGROUP", "5.7", false },
	[KF_CGROUP_V2] = { "cgroup_v2", "a delegated cgroup v2", "4.5", false },
	[KF_CGROUP_V1] = { "cgroup_v1", "cgroup v1 controllers", "2.6.24", false },
};

static bool probed;
static bool present[KF__MAX];
static bool forced_off[KF__MAX];

const struct kfeature_info *kfeature_info(enum kfeature f)
{
	return f < KF__MAX ? &infos[f] : NULL;
}

bool kfeature_has(enum kfeature f)
{
	if (f >= KF__MAX)
		return false;
	return !probed || (present[f] && !forced_off[f]);
}

/* MOAT_TEST_FORCE_FALLBACK: "all" or a comma list of names. */
static int parse_forced(const char *spec)
{
	_cleanup_free_ char *copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *w = strtok_r(copy, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
		bool all = !strcmp(w, "all"), found = all;
		for (int f = 0; f < KF__MAX; f++)
			if (all ? !infos[f].required : !strcmp(w, infos[f].name)) {
				forced_off[f] = true;
				found = true;
			}
		if (!found) {
			log_warnx("MOAT_TEST_FORCE_FALLBACK: no kernel feature named '%s'", w);
			return -EINVAL;
		}
	}
	return 0;
}

/* The flags are checked before the (here missing) program is read: EFAULT
 * means the kernel knows them all, EINVAL that it does not. */
static bool probe_filter_flags(unsigned long flags)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) < 0 && errno == EFAULT;
}

static void probe_pidfds(void)
{
	/* Our own thread; the kernel refuses flags it does not know. */
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, gettid(), PIDFD_THREAD);
	present[KF_PIDFD_THREAD] = fd >= 0;
	if (fd < 0)
		fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	present[KF_PIDFD] = fd >= 0;
	if (fd < 0)
		return;
	_cleanup_close_ int copy = (int)syscall(SYS_pidfd_getfd, fd, fd, 0);
	present[KF_PIDFD_GETFD] = copy >= 0 || errno != ENOSYS;
}

static void probe_files(void)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC | O_DIRECTORY,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int dot = (int)syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof(how));
	present[KF_OPENAT2] = dot >= 0 || (errno != ENOSYS && errno != EINVAL && errno != E2BIG);
	/* Nothing is open that high: closes nothing. */
	present[KF_CLOSE_RANGE] = syscall(SYS_close_range, ~0U, ~0U, 0) == 0 || errno != ENOSYS;
	/* A size below the first version's is refused after the syscall exists. */
	present[KF_MOUNT_SETATTR] = syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) == 0 ||
				    errno != ENOSYS;
	_cleanup_close_ int m = memfd_create("moat-probe", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	present[KF_MEMFD_NOEXEC_SEAL] = m >= 0;
	_cleanup_close_ int s = memfd_create("moat-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	present[KF_SEAL_FUTURE_WRITE] = s >= 0 && fcntl(s, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0;
}

/* A clone3 the kernel must refuse: CLONE_INTO_CGROUP with an fd that is no
 * cgroup directory fails with EBADF where the flag is known (5.7), with
 * EINVAL before anything is copied where it is not. Shared mm and vfork
 * keep the partial copy cheap (a few us); the child it can never make
 * would only exit. */
static bool probe_clone_into_cgroup(void)
{
	_cleanup_close_ int notcg = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (notcg < 0)
		return false;
	struct clone_args a = { .flags = CLONE_INTO_CGROUP | CLONE_VM | CLONE_VFORK,
				.exit_signal = SIGCHLD, .cgroup = (__u64)notcg };
	long r = syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0)
		syscall(SYS_exit, 0);
	return r < 0 && errno == EBADF;
}

static int refuse_missing(bool notify_too)
{
	for (int f = 0; f < KF__MAX; f++)
		if (infos[f].required && (notify_too || !infos[f].notify) && !kfeature_has(f)) {
			log_warnx("this kernel lacks %s (Linux %s or newer needed)", infos[f].what,
				  infos[f].since);
			return -EOPNOTSUPP;
		}
	return 0;
}

int kfeatures_probe(void)
{
	for (int f = 0; f < KF__MAX; f++)
		present[f] = forced_off[f] = false;
	const char *spec = getenv("MOAT_TEST_FORCE_FALLBACK");
	if (spec) {
		int r = parse_forced(spec);
		if (r < 0)
			return r;
	}
	present[KF_SECCOMP_LISTENER] = probe_filter_flags(SECCOMP_FILTER_FLAG_NEW_LISTENER);
	present[KF_WAIT_KILLABLE_RECV] = present[KF_SECCOMP_LISTENER] &&
		probe_filter_flags(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
	probe_pidfds();
	probe_files();
	/* Tried where they are used, which falls back by itself. */
	present[KF_SYNC_WAKE_UP] = present[KF_IO_URING] = present[KF_IO_URING_DEFER_TASKRUN] = true;
	present[KF_TMPFS_STORE] = true;
	present[KF_CGROUP_V2] = present[KF_CGROUP_V1] = true;
	present[KF_CLONE_INTO_CGROUP] = probe_clone_into_cgroup();
	/* Needs the listener: kfeatures_probe_listener(). */
	present[KF_ADDFD_SEND] = true;
	probed = true;
	for (int f = 0; f < KF__MAX; f++)
		if (!kfeature_has(f))
			log_debug("kernel feature %s (%s, Linux %s): %s", infos[f].name, infos[f].what,
				  infos[f].since, present[f] ? "forced off by MOAT_TEST_FORCE_FALLBACK" : "missing");
	return refuse_missing(false);
}

bool kfeatures_notify_ok(void)
{
	for (int f = 0; f < KF__MAX; f++)
		if (infos[f].notify && !kfeature_has(f))
			return false;
	return true;
}

int kfeatures_require_notify(void)
{
	return refuse_missing(true);
}

int kfeatures_probe_listener(int listener)
{
	/* The flags are checked before the source fd: EBADF means ADDFD knows
	 * SEND (5.14); before, the flag (or the whole ioctl, 5.9) is EINVAL. */
	struct seccomp_notif_addfd a = { .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (__u32)-1 };
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 && (errno == EINVAL || errno == ENOTTY))
		present[KF_ADDFD_SEND] = false;
	return refuse_missing(true);
}
