/* SPDX-License-Identifier: MIT */
/* Options and defaults of the sandbox-wide limits, and the rlimits applied in
 * the command's process (see limits.h, docs/limits.md). */
#include "sentry/sandbox/limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>

static bool is_unlimited(const char *s)
{
	return !strcmp(s, "0") || !strcasecmp(s, "unlimited") || !strcasecmp(s, "max");
}

void limits_default(struct sandbox_limits *l)
{
	*l = (struct sandbox_limits){
		.pids = LIMIT_DEFAULT_PIDS,
		.nofile_soft = LIMIT_DEFAULT_NOFILE_SOFT,
		.nofile_hard = LIMIT_DEFAULT_NOFILE_HARD,
		.defaults_only = true,
	};
	struct sysinfo si;
	if (sysinfo(&si) == 0 && si.totalram) {
		l->memory = (uint64_t)si.totalram * si.mem_unit / 100 * LIMIT_DEFAULT_MEMORY_PERCENT;
		l->memory &= ~(uint64_t)0xfffff; /* whole MiB, for messages */
		l->memory_is_default = true;
	}
}

int limits_parse_size(const char *s, uint64_t *ret)
{
	if (is_unlimited(s)) {
		*ret = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (shift && *end == 'i')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	if (n > (UINT64_MAX >> 1) >> shift)
		return -ERANGE;
	*ret = (uint64_t)n << shift;
	return 0;
}

int limits_parse_count(const char *s, uint64_t *ret)
{
	if (is_unlimited(s)) {
		*ret = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || n > INT32_MAX)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = n;
	return 0;
}

int limits_parse_cpus(const char *s, struct sandbox_limits *l)
{
	if (is_unlimited(s)) {
		l->cpu_quota_us = l->cpu_period_us = 0;
		return 0;
	}
	char *end;
	errno = 0;
	double f = strtod(s, &end);
	if (errno || end == s || *end || !(f >= 0.01 && f <= 1024))
		return -EINVAL;
	l->cpu_period_us = LIMIT_CPU_PERIOD_US;
	l->cpu_quota_us = (uint64_t)(f * LIMIT_CPU_PERIOD_US + 0.5);
	return 0;
}

int limits_parse_nofile(const char *s, struct sandbox_limits *l)
{
	if (is_unlimited(s)) {
		l->nofile_soft = l->nofile_hard = 0;
		return 0;
	}
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon = 0;
	uint64_t soft, hard;
	int r = limits_parse_count(buf, &soft);
	if (r < 0 || (r = limits_parse_count(colon ? colon + 1 : buf, &hard)) < 0)
		return r;
	/* An fd limit of 0 would leave no room for the exec (docs/architecture.md). */
	if (soft < 16 || hard < soft || hard > (1 << 20))
		return -ERANGE;
	l->nofile_soft = soft;
	l->nofile_hard = hard;
	return 0;
}

int limits_apply(const struct sandbox_limits *l, unsigned fallback)
{
	if (l->nofile_soft) {
		struct rlimit r = { l->nofile_soft, l->nofile_hard };
		if (setrlimit(RLIMIT_NOFILE, &r) < 0)
			return -errno;
	}
	/* Every process of the sandbox runs as its own host uid and only the
	 * sentry shares it (its threads count too): RLIMIT_NPROC is then a
	 * limit on the sandbox's tasks, checked by the kernel at each fork. */
	if ((fallback & LIMIT_FALLBACK_PIDS) && l->pids) {
		struct rlimit r = { l->pids, l->pids };
		if (setrlimit(RLIMIT_NPROC, &r) < 0)
			return -errno;
	}
	/* Per process, and only private writable memory (not PROT_NONE
	 * reservations, which RLIMIT_AS would count and break runtimes
	 * with; not shared memory or files in memory): weaker than a cgroup. */
	if ((fallback & LIMIT_FALLBACK_MEMORY) && l->memory) {
		struct rlimit r = { l->memory, l->memory };
		if (setrlimit(RLIMIT_DATA, &r) < 0)
			return -errno;
	}
	return 0;
}

const char *limits_size_str(uint64_t b, char *buf, unsigned len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	while (u + 1 < sizeof(units) / sizeof(units[0]) && b >= 1024 && b % 1024 == 0) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)b, units[u]);
	return buf;
}
