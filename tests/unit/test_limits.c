/* SPDX-License-Identifier: MIT */
/* sentry/sandbox/limits.c and the text parsing of cgroup.c: the options'
 * syntax, the defaults, and finding cgroups in /proc/self/mounts and
 * /proc/PID/cgroup as v1, v2 and hybrid hosts write them; and pid 1's clone
 * into a cgroup v2 (guest_clone), on this host's v2 hierarchy. What the
 * kernel does with the limits is tests/integration/failclosed.sh's. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "platform/kfeatures.h"
#include "sentry/sandbox/cgroup.h"
#include "sentry/sandbox/guest.h"
#include "sentry/sandbox/limits.h"
#include "tests/tap.h"

TEST(sizes)
{
	uint64_t v = 1;
	EXPECT_EQ(limits_parse_size("64m", &v), 0);
	EXPECT_EQ(v, 64ull << 20);
	EXPECT_EQ(limits_parse_size("2G", &v), 0);
	EXPECT_EQ(v, 2ull << 30);
	EXPECT_EQ(limits_parse_size("512KiB", &v), 0);
	EXPECT_EQ(v, 512ull << 10);
	EXPECT_EQ(limits_parse_size("1000", &v), 0);
	EXPECT_EQ(v, 1000);
	EXPECT_EQ(limits_parse_size("unlimited", &v), 0);
	EXPECT_EQ(v, 0);
	EXPECT_EQ(limits_parse_size("0", &v), 0);
	EXPECT_EQ(v, 0);
	EXPECT_EQ(limits_parse_size("", &v), -EINVAL);
	EXPECT_EQ(limits_parse_size("-1m", &v), -EINVAL);
	EXPECT_EQ(limits_parse_size("12q", &v), -EINVAL);
	EXPECT_EQ(limits_parse_size("m", &v), -EINVAL);
	EXPECT_EQ(limits_parse_size("99999999999t", &v), -ERANGE);
}

TEST(cpus)
{
	struct sandbox_limits l = { 0 };
	EXPECT_EQ(limits_parse_cpus("0.5", &l), 0);
	EXPECT_EQ(l.cpu_quota_us, 50000);
	EXPECT_EQ(l.cpu_period_us, 100000);
	EXPECT_EQ(limits_parse_cpus("2", &l), 0);
	EXPECT_EQ(l.cpu_quota_us, 200000);
	EXPECT_EQ(limits_parse_cpus("0", &l), 0);
	EXPECT_EQ(l.cpu_quota_us, 0);
	EXPECT_EQ(limits_parse_cpus("0.001", &l), -EINVAL);
	EXPECT_EQ(limits_parse_cpus("abc", &l), -EINVAL);
	EXPECT_EQ(limits_parse_cpus("1.5x", &l), -EINVAL);
	EXPECT_EQ(limits_parse_cpus("2000", &l), -EINVAL);
}

TEST(nofile_and_counts)
{
	struct sandbox_limits l = { 0 };
	EXPECT_EQ(limits_parse_nofile("100:200", &l), 0);
	EXPECT_EQ(l.nofile_soft, 100);
	EXPECT_EQ(l.nofile_hard, 200);
	EXPECT_EQ(limits_parse_nofile("300", &l), 0);
	EXPECT_EQ(l.nofile_soft, 300);
	EXPECT_EQ(l.nofile_hard, 300);
	EXPECT_EQ(limits_parse_nofile("200:100", &l), -ERANGE);
	EXPECT_EQ(limits_parse_nofile("8", &l), -ERANGE);
	EXPECT_EQ(limits_parse_nofile("unlimited", &l), 0);
	EXPECT_EQ(l.nofile_soft, 0);
	uint64_t n = 1;
	EXPECT_EQ(limits_parse_count("4096", &n), 0);
	EXPECT_EQ(n, 4096);
	EXPECT_EQ(limits_parse_count("max", &n), 0);
	EXPECT_EQ(n, 0);
	EXPECT_EQ(limits_parse_count("1e3", &n), -EINVAL);
	EXPECT_EQ(limits_parse_count("99999999999", &n), -ERANGE);
}

TEST(defaults)
{
	struct sandbox_limits l;
	limits_default(&l);
	struct sysinfo si;
	ASSERT_EQ(sysinfo(&si), 0);
	uint64_t ram = (uint64_t)si.totalram * si.mem_unit;
	EXPECT_EQ(l.pids, LIMIT_DEFAULT_PIDS);
	EXPECT_TRUE(l.memory > ram / 2 - (1 << 20) && l.memory <= ram / 2);
	EXPECT_TRUE(l.memory_is_default);
	EXPECT_TRUE(l.defaults_only);
	EXPECT_EQ(l.nofile_soft, 1024);
	EXPECT_EQ(l.nofile_hard, 4096);
	EXPECT_EQ(l.cpu_quota_us, 0);
}

static const char hybrid_mounts[] =
	"sysfs /sys sysfs rw,nosuid 0 0\n"
	"cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n"
	"cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\n"
	"cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
	"cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0\n";
static const char hybrid_self[] =
	"9:name=systemd:/\n"
	"8:pids:/\n"
	"4:memory:/process_api/eaf8\n"
	"1:cpu,cpuacct:/a/b\n"
	"0::/user.slice\n";

TEST(finding_cgroups)
{
	char *s;
	EXPECT_STREQ(s = cgroup_mount_of(hybrid_mounts, NULL), "/sys/fs/cgroup/unified");
	free(s);
	EXPECT_STREQ(s = cgroup_mount_of(hybrid_mounts, "memory"), "/sys/fs/cgroup/memory");
	free(s);
	EXPECT_STREQ(s = cgroup_mount_of(hybrid_mounts, "cpu"), "/sys/fs/cgroup/cpu,cpuacct");
	free(s);
	EXPECT_TRUE(cgroup_mount_of(hybrid_mounts, "cpuset") == NULL);
	EXPECT_TRUE(cgroup_mount_of("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n", "memory") == NULL);

	EXPECT_STREQ(s = cgroup_path_of(hybrid_self, "memory"), "/process_api/eaf8");
	free(s);
	EXPECT_STREQ(s = cgroup_path_of(hybrid_self, "cpu"), "/a/b");
	free(s);
	EXPECT_STREQ(s = cgroup_path_of(hybrid_self, "pids"), "/");
	free(s);
	EXPECT_STREQ(s = cgroup_path_of(hybrid_self, NULL), "/user.slice");
	free(s);
	/* "name=systemd" is no controller named systemd; cpuacct is not cpu. */
	EXPECT_TRUE(cgroup_path_of(hybrid_self, "systemd") == NULL);
	EXPECT_TRUE(cgroup_path_of("2:cpuacct:/x\n", "cpu") == NULL);
	/* Pure v2: one line. */
	EXPECT_STREQ(s = cgroup_path_of("0::/system.slice/x.scope", NULL), "/system.slice/x.scope");
	free(s);
	EXPECT_TRUE(cgroup_path_of("0::/x\n", "memory") == NULL);
}

/* The sandbox's pid 1, cloned as guest_start does (every namespace, a
 * pidfd) with CLONE_INTO_CGROUP into a new child of this process's cgroup
 * v2: it is in that cgroup from its first instruction, and nothing moved
 * (which is why moat run's defaults can use a v2 cgroup and not a v1 one).
 * Runs wherever a v2 hierarchy is mounted and writable: on a hybrid host
 * too, where it has no controllers. */
TEST(pid1_cloned_into_a_cgroup_v2)
{
	if (geteuid() != 0)
		SKIP("not root");
	unsetenv("MOAT_TEST_FORCE_FALLBACK");
	if (kfeatures_probe() < 0 || !kfeature_has(KF_CLONE_INTO_CGROUP))
		SKIP("no CLONE_INTO_CGROUP here");
	char *mounts = NULL, *self = NULL;
	ASSERT_TRUE(read_file_at(AT_FDCWD, "/proc/self/mounts", &mounts, 1 << 20) >= 0);
	ASSERT_TRUE(read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, 1 << 16) >= 0);
	char *mnt = cgroup_mount_of(mounts, NULL), *path = cgroup_path_of(self, NULL);
	if (!mnt || !path)
		SKIP("no cgroup v2 hierarchy mounted");
	char dir[4096], want[4096];
	snprintf(want, sizeof(want), "%s/moat-test-%d", strcmp(path, "/") ? path : "", getpid());
	snprintf(dir, sizeof(dir), "%s%s", mnt, want);
	if (mkdir(dir, 0755) < 0)
		SKIP("cannot make %s: %s", dir, strerror(errno));
	int cgfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int hold[2];
	ASSERT_TRUE(cgfd >= 0 && pipe2(hold, O_CLOEXEC) == 0);
	int pidfd = -1;
	long pid = guest_clone(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
				       CLONE_NEWCGROUP | CLONE_PIDFD,
			       cgfd, &pidfd);
	if (pid == 0) {
		char b;
		close(hold[1]);
		_exit(read(hold[0], &b, 1) == 0 ? 0 : 1);
	}
	int e = errno;
	close(hold[0]);
	char *child = NULL, p[64];
	snprintf(p, sizeof(p), "/proc/%ld/cgroup", pid);
	if (pid > 0)
		(void)read_file_at(AT_FDCWD, p, &child, 1 << 16);
	char *got = child ? cgroup_path_of(child, NULL) : NULL;
	close(hold[1]);
	int st = -1;
	if (pid > 0)
		(void)waitpid((pid_t)pid, &st, 0);
	int removed = rmdir(dir);
	printf("# clone3 into %s: pid %ld (%s), pidfd %d, 0::%s\n", dir, pid, pid < 0 ? strerror(e) : "ok",
	       pidfd, got ? got : "?");
	ASSERT_TRUE(pid > 0);
	EXPECT_TRUE(pidfd >= 0);
	ASSERT_TRUE(got != NULL);
	EXPECT_STREQ(got, want);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Empty again once it is reaped. */
	EXPECT_EQ(removed, 0);

	/* A v1 directory cannot be cloned into: there, only a move. */
	char *v1 = cgroup_mount_of(mounts, "pids");
	if (v1) {
		int v1fd = open(v1, O_PATH | O_DIRECTORY | O_CLOEXEC);
		ASSERT_TRUE(v1fd >= 0);
		pid = guest_clone(CLONE_PIDFD, v1fd, &pidfd);
		if (pid == 0)
			_exit(0);
		EXPECT_EQ(pid, -1);
		EXPECT_EQ(errno, EBADF);
	}
}
