/* SPDX-License-Identifier: MIT */
/* platform/kfeatures: the probes on this kernel, MOAT_TEST_FORCE_FALLBACK,
 * the one-line refusal, and the kernel behaviour each probe relies on to
 * tell an older kernel (a flag it does not know is EINVAL before anything
 * else happens). */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/kfeatures.h"
#include "tests/tap.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static int probe_with(const char *spec)
{
	if (spec)
		setenv("MOAT_TEST_FORCE_FALLBACK", spec, 1);
	else
		unsetenv("MOAT_TEST_FORCE_FALLBACK");
	return kfeatures_probe();
}

/* Run probe_with(spec) with stderr captured into buf. */
static int probe_captured(const char *spec, char *buf, size_t len)
{
	int m = memfd_create("stderr", MFD_CLOEXEC);
	int saved = dup(2);
	ASSERT_TRUE(m >= 0 && saved >= 0);
	fflush(stderr);
	dup2(m, 2);
	int r = probe_with(spec);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(m, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	close(m);
	return r;
}

TEST(this_kernel_has_every_required_feature)
{
	int r = probe_with(NULL);
	if (r == -EOPNOTSUPP)
		SKIP("this kernel is older than moat supports");
	ASSERT_EQ(r, 0);
	for (int f = 0; f < KF__MAX; f++)
		if (kfeature_info(f)->required)
			EXPECT_TRUE(kfeature_has(f));
}

TEST(all_forces_every_fallback_and_no_required_feature)
{
	if (probe_with(NULL) < 0)
		SKIP("this kernel is older than moat supports");
	ASSERT_EQ(probe_with("all"), 0);
	for (int f = 0; f < KF__MAX; f++)
		EXPECT_EQ(kfeature_has(f), kfeature_info(f)->required);
}

TEST(a_list_forces_exactly_the_named_features)
{
	if (probe_with(NULL) < 0)
		SKIP("this kernel is older than moat supports");
	ASSERT_EQ(probe_with("pidfd_thread, io_uring"), 0);
	EXPECT_TRUE(!kfeature_has(KF_PIDFD_THREAD));
	EXPECT_TRUE(!kfeature_has(KF_IO_URING));
	EXPECT_TRUE(kfeature_has(KF_SYNC_WAKE_UP));
	EXPECT_TRUE(kfeature_has(KF_IO_URING_DEFER_TASKRUN));
	/* Probing again starts afresh. */
	ASSERT_EQ(probe_with(NULL), 0);
	EXPECT_TRUE(kfeature_has(KF_IO_URING));
}

TEST(a_missing_required_feature_refuses_in_one_line)
{
	if (probe_with(NULL) < 0)
		SKIP("this kernel is older than moat supports");
	int n = 0;
	for (int f = 0; f < KF__MAX; f++) {
		const struct kfeature_info *k = kfeature_info(f);
		if (!k->required)
			continue;
		char got[512], want[256];
		snprintf(want, sizeof(want), "moat: this kernel lacks %s (Linux %s or newer needed)\n",
			 k->what, k->since);
		if (k->notify) {
			/* Only the seccomp-unotify platform needs it: the probe
			 * passes, moat would use ptrace, and asking for the
			 * notify platform refuses in the same one line. */
			EXPECT_EQ(probe_captured(k->name, got, sizeof(got)), 0);
			EXPECT_STREQ(got, "");
			EXPECT_TRUE(!kfeatures_notify_ok());
			int m = memfd_create("stderr", MFD_CLOEXEC), saved = dup(2);
			ASSERT_TRUE(m >= 0 && saved >= 0);
			fflush(stderr);
			dup2(m, 2);
			int r = kfeatures_require_notify();
			fflush(stderr);
			dup2(saved, 2);
			close(saved);
			ssize_t len = pread(m, got, sizeof(got) - 1, 0);
			got[len > 0 ? len : 0] = 0;
			close(m);
			EXPECT_EQ(r, -EOPNOTSUPP);
		} else {
			EXPECT_EQ(probe_captured(k->name, got, sizeof(got)), -EOPNOTSUPP);
		}
		EXPECT_STREQ(got, want);
		n++;
	}
	EXPECT_TRUE(n > 0);
	ASSERT_EQ(probe_with(NULL), 0);
	EXPECT_TRUE(kfeatures_notify_ok());
}

TEST(an_unknown_name_is_an_error)
{
	char got[512];
	EXPECT_EQ(probe_captured("pidfd_thread,no_such_thing", got, sizeof(got)), -EINVAL);
	EXPECT_TRUE(strstr(got, "'no_such_thing'") != NULL);
}

/* The filter-flag probe: known flags get as far as reading the program
 * (EFAULT), an unknown one is EINVAL, and no filter is installed. */
TEST(filter_flag_probe_installs_nothing)
{
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			 SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, NULL);
	if (r < 0 && errno == EINVAL)
		SKIP("no WAIT_KILLABLE_RECV here");
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EFAULT);
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER | (1UL << 30),
		    NULL);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
}

/* The listener probe: on a real listener ADDFD|SEND with no source fd is
 * EBADF, an unknown ADDFD flag EINVAL; an fd that is no listener counts as
 * missing. */
TEST(listener_probe)
{
	if (probe_with(NULL) < 0)
		SKIP("this kernel is older than moat supports");
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = allow };
	ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	ASSERT_TRUE(listener >= 0);
	EXPECT_EQ(kfeatures_probe_listener(listener), 0);
	EXPECT_TRUE(kfeature_has(KF_ADDFD_SEND));
	struct seccomp_notif_addfd a = { .flags = 1U << 5, .srcfd = 0 };
	EXPECT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a), -1);
	EXPECT_EQ(errno, EINVAL);
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	EXPECT_EQ(kfeatures_probe_listener(p[0]), -EOPNOTSUPP);
	EXPECT_TRUE(!kfeature_has(KF_ADDFD_SEND));
}

/* Before 6.9 pidfd_open refuses PIDFD_THREAD and any non-leader: the
 * fallback never asks for a thread's pidfd. Here: what the probe saw. */
TEST(pidfd_thread_probe_matches_a_thread)
{
	(void)probe_with(NULL);
	int fd = (int)syscall(SYS_pidfd_open, getpid(), O_EXCL /* PIDFD_THREAD */);
	EXPECT_EQ(fd >= 0, kfeature_has(KF_PIDFD_THREAD));
	if (fd >= 0)
		close(fd);
}

/* CLONE_INTO_CGROUP (5.7) is probed with an fd that is no cgroup: EBADF
 * where the flag is known, and nothing is created. Every supported kernel
 * (6.1+) has it; the name turns it off for the tests of the move. */
TEST(clone_into_cgroup_probe)
{
	if (probe_with(NULL) < 0)
		SKIP("this kernel is older than moat supports");
	EXPECT_TRUE(kfeature_has(KF_CLONE_INTO_CGROUP));
	EXPECT_EQ(waitpid(-1, NULL, WNOHANG), -1);
	EXPECT_EQ(errno, ECHILD);
	ASSERT_EQ(probe_with("clone_into_cgroup"), 0);
	EXPECT_TRUE(!kfeature_has(KF_CLONE_INTO_CGROUP));
	EXPECT_TRUE(kfeature_has(KF_CGROUP_V2));
}
