/* SPDX-License-Identifier: MIT */
/* sentry/sandbox/limits.c and the text parsing of cgroup.c: the options'
 * syntax, the defaults, and finding cgroups in /proc/self/mounts and
 * /proc/PID/cgroup as v1, v2 and hybrid hosts write them. What the kernel
 * does with the limits is tests/integration/failclosed.sh's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "sentry/sandbox/cgroup.h"
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
