/* SPDX-License-Identifier: MIT */
/* The sandbox's minimal /sys: what runtimes read to size themselves, and
 * nothing of the host's devices, buses or firmware.
 *  - /sys/devices/system/cpu/{online,possible,present}: the CPUs the
 *    sandbox may use (glibc's get_nprocs, so os.cpu_count and nproc's
 *    fallbacks), the same set /proc/cpuinfo and /proc/stat show;
 *  - /sys/fs/cgroup, mounted as cgroup2: the sandbox's own cgroup as the
 *    root of its namespace (/proc/self/cgroup says 0::/), with the limits
 *    that are enforced (cpu.max, memory.max, pids.max) and the memory in
 *    use. Read-only, as a container's cgroup without delegation.
 * Both are tables of procfs's kind (tables.c) served by its code. */
#include "sentry/fs/procfs/internal.h"

int sb_cpu_list(struct strbuf *sb, const cpu_set_t *set)
{
	int r = 0;
	bool first = true;
	for (int i = 0; r == 0 && i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, set))
			continue;
		int j = i;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
			j++;
		r = j > i ? sb_printf(sb, "%s%d-%d", first ? "" : ",", i, j)
			  : sb_printf(sb, "%s%d", first ? "" : ",", i);
		first = false;
		i = j;
	}
	return r ? r : sb_puts(sb, "\n");
}

int gen_cpu_list(const struct pctx *c, struct strbuf *sb)
{
	cpu_set_t set;
	allowed_cpus(&set);
	return sb_cpu_list(sb, &set);
}

int gen_cg_cpu_max(const struct pctx *c, struct strbuf *sb)
{
	if (!sentry.cpu_quota_us)
		return sb_puts(sb, "max 100000\n");
	return sb_printf(sb, "%" PRIu64 " %" PRIu64 "\n", sentry.cpu_quota_us, sentry.cpu_period_us);
}

int gen_cg_memory_max(const struct pctx *c, struct strbuf *sb)
{
	if (!sentry.mem_limit)
		return sb_puts(sb, "max\n");
	return sb_printf(sb, "%" PRIu64 "\n", sentry.mem_limit);
}

int gen_cg_memory_current(const struct pctx *c, struct strbuf *sb)
{
	char buf[32];
	ssize_t n = sentry.mem_current_fd >= 0 ? pread(sentry.mem_current_fd, buf, sizeof(buf) - 1, 0) : -1;
	uint64_t v = 0;
	if (n > 0) {
		buf[n] = 0;
		v = strtoull(buf, NULL, 10);
	}
	return sb_printf(sb, "%" PRIu64 "\n", v);
}

int gen_cg_pids_max(const struct pctx *c, struct strbuf *sb)
{
	if (!sentry.pids_limit)
		return sb_puts(sb, "max\n");
	return sb_printf(sb, "%" PRIu64 "\n", sentry.pids_limit);
}

/* The sandbox's processes, by their sandbox pids. */
int gen_cg_procs(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0;
	int r = scan_processes(&v, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = sb_printf(sb, "%d\n", v[i].vpid);
	return r;
}
