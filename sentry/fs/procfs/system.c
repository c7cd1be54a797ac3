/* SPDX-License-Identifier: MIT */
/* procfs: system-wide files and the mount tables (see internal.h for the design). */
#include "sentry/fs/procfs/internal.h"

/* ---- system-wide files ----------------------------------------------------- */

int gen_text(const struct pctx *c, struct strbuf *sb)
{
	return sb_puts(sb, c->pn->ent->arg);
}

/* A host sysctl that is a limit the guest really runs under (not an
 * identity): the host's number, or the default if it is not a number. */
int gen_sysctl_host(const struct pctx *c, struct strbuf *sb)
{
	const struct pent *e = c->pn->ent;
	_cleanup_free_ char *v = NULL;
	if (procfs_host_read(e->arg, &v, SMALL_MAX) > 0) {
		size_t n = strspn(v, "0123456789\t ");
		if (n > 0 && v[n] == '\n')
			return sb_append(sb, v, n + 1);
	}
	return sb_printf(sb, "%s\n", e->arg2);
}

int gen_hostname(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", sentry.ident.hostname);
}

int gen_domainname(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", sentry.ident.domainname[0] ? sentry.ident.domainname : "(none)");
}

int gen_osrelease(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", sentry.ident.release);
}

int gen_kversion(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", sentry.ident.version);
}

int gen_version(const struct pctx *c, struct strbuf *sb)
{
	/* The identity's version string is usually uname -v ("#1 SMP ..."). */
	const char *v = sentry.ident.version;
	return sb_printf(sb, "Linux version %s (moat) %s%s\n", sentry.ident.release,
			 v[0] == '#' ? "" : "#1 SMP ", v);
}

int sb_put_uuid(struct strbuf *sb, const uint8_t u[16])
{
	return sb_printf(sb, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			 u[12], u[13], u[14], u[15]);
}

int random_uuid(uint8_t u[16])
{
	if (getrandom(u, 16, 0) != 16)
		return -EIO;
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	return 0;
}

int gen_uuid(const struct pctx *c, struct strbuf *sb)
{
	uint8_t u[16];
	int r = random_uuid(u);
	if (r < 0 || (r = sb_put_uuid(sb, u)) < 0)
		return r;
	return sb_puts(sb, "\n");
}

int gen_boot_id(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", procfs_inst.boot_id);
}

static int read_cpu_line(const char *line, struct cpu_times *ret)
{
	struct cpu_times t = { .cpu = -1 };
	const char *p = line + 3;
	if (isdigit((unsigned char)*p))
		t.cpu = (int)strtol(p, (char **)&p, 10);
	else if (*p != ' ')
		return -EINVAL;
	for (int i = 0; i < 10; i++) {
		char *q;
		t.v[i] = strtoull(p, &q, 10);
		if (q == p)
			break;
		p = q;
	}
	*ret = t;
	return 0;
}

/* Host CPU time lines, each counted from the sandbox's start: the sums
 * since the host's boot would tell its uptime. */
int cpu_times_now(struct cpu_times **ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	ssize_t r = procfs_host_read("stat", &text, BIG_MAX);
	if (r < 0)
		return (int)r;
	_cleanup_free_ struct cpu_times *v = NULL;
	size_t n = 0, cap = 0;
	for (char *l = text; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		struct cpu_times t;
		if (!strncmp(l, "cpu", 3) && read_cpu_line(l, &t) == 0 && t.cpu >= 0) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				struct cpu_times *nv = realloc(v, cap * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				v = nv;
			}
			v[n++] = t;
		}
		l = nl ? nl + 1 : NULL;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static void cpu_times_since_start(struct cpu_times *t)
{
	for (size_t i = 0; i < procfs_inst.ncpu_base; i++)
		if (procfs_inst.cpu_base[i].cpu == t->cpu)
			for (int k = 0; k < 10; k++)
				t->v[k] = t->v[k] > procfs_inst.cpu_base[i].v[k] ? t->v[k] - procfs_inst.cpu_base[i].v[k] : 0;
}

static int sb_put_cpu_line(struct strbuf *sb, const struct cpu_times *t)
{
	int r = t->cpu < 0 ? sb_puts(sb, "cpu ") : sb_printf(sb, "cpu%d", t->cpu);
	for (int k = 0; r == 0 && k < 10; k++)
		r = sb_printf(sb, " %" PRIu64, t->v[k]);
	return r ? r : sb_puts(sb, "\n");
}

/* The sandbox's CPUs, counted from its start; the first is the sum. */
static int sandbox_cpu_times(struct cpu_times **ret, size_t *ret_n)
{
	_cleanup_free_ struct cpu_times *v = NULL;
	size_t n = 0;
	int r = cpu_times_now(&v, &n);
	if (r < 0)
		return r;
	cpu_set_t set;
	allowed_cpus(&set);
	struct cpu_times *out = calloc(n + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	size_t k = 1;
	out[0].cpu = -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].cpu >= CPU_SETSIZE || !CPU_ISSET(v[i].cpu, &set))
			continue;
		cpu_times_since_start(&v[i]);
		for (int j = 0; j < 10; j++)
			out[0].v[j] += v[i].v[j];
		out[k++] = v[i];
	}
	*ret = out;
	*ret_n = k;
	return 0;
}

static double uptime_seconds(void)
{
	int64_t ns = clock_ns(CLOCK_BOOTTIME) - procfs_inst.start_boot_ns;
	return ns > 0 ? (double)ns / 1e9 : 0;
}

int gen_uptime(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ struct cpu_times *t = NULL;
	size_t n = 0;
	double idle = 0;
	if (sandbox_cpu_times(&t, &n) == 0 && n)
		idle = (double)(t[0].v[3] + t[0].v[4]) / (double)procfs_inst.hz; /* idle + iowait */
	return sb_printf(sb, "%.2f %.2f\n", uptime_seconds(), idle);
}

int gen_loadavg(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0;
	int r = scan_processes(&v, &n);
	if (r < 0)
		return r;
	return sb_printf(sb, "0.00 0.00 0.00 1/%zu %d\n", n, n ? v[n - 1].vpid : 1);
}

int gen_stat(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ struct cpu_times *t = NULL;
	size_t n = 0;
	int r = sandbox_cpu_times(&t, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = sb_put_cpu_line(sb, &t[i]);
	if (r < 0)
		return r;
	_cleanup_free_ struct pidpair *v = NULL;
	size_t np = 0;
	(void)scan_processes(&v, &np);
	return sb_printf(sb,
			 "intr 0\nctxt 0\nbtime %lld\nprocesses %d\nprocs_running 1\n"
			 "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
			 (long long)procfs_inst.start_real.tv_sec, np ? v[np - 1].vpid : 1);
}

/* /proc/net/<arg>: the tables of the sandbox's own network namespace, read
 * through its pid 1's /proc/<pid>/net (the sentry is not in that
 * namespace; pid 1 stays in it for the sandbox's whole life). Never the
 * host's, except under --net=host, where the guest shares them. */
int gen_netfile(const struct pctx *c, struct strbuf *sb)
{
	char path[64];
	snprintf(path, sizeof(path), "%d/net/%s", sentry.init_pid, c->pn->ent->arg);
	_cleanup_free_ char *s = NULL;
	ssize_t n = sentry.init_pid > 0 ? read_file_at(procfs_inst.hostproc, path, &s, 16 << 20) : -ENOENT;
	if (n < 0)
		return (int)n;
	return sb_append(sb, s, (size_t)n);
}

/* The sandbox's memory limit from its cgroup (v2), if it has one. */
/* The sandbox's memory limit and use, in kB (docs/limits.md): what
 * sandbox.c recorded, the use read from the cgroup's counter. */
static int sandbox_memory(uint64_t *ret_limit_kb, uint64_t *ret_used_kb)
{
	if (!sentry.mem_limit)
		return -ENOENT;
	uint64_t used = 0;
	char buf[32];
	ssize_t n = sentry.mem_current_fd >= 0 ? pread(sentry.mem_current_fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n > 0) {
		buf[n] = 0;
		used = strtoull(buf, NULL, 10);
	}
	*ret_limit_kb = sentry.mem_limit / 1024;
	*ret_used_kb = used / 1024;
	return 0;
}

int gen_meminfo(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ char *host = NULL;
	uint64_t total = 0, freem = 0, avail = 0, limit, used;
	if (procfs_host_read("meminfo", &host, SMALL_MAX) >= 0) {
		total = (uint64_t)kv_last_num(host, "MemTotal", NULL);
		freem = (uint64_t)kv_last_num(host, "MemFree", NULL);
		avail = (uint64_t)kv_last_num(host, "MemAvailable", NULL);
	}
	/* kv_last_num of "16283428 kB" stops at "kB": it gives the number. */
	if (sandbox_memory(&limit, &used) == 0 && limit < total) {
		total = limit;
		freem = avail = used < limit ? limit - used : 0;
	}
	if (avail > total)
		avail = total;
	if (freem > avail)
		freem = avail;
	/* The key set programs parse; what we do not model is 0. */
	static const char *const zero_kb[] = {
		"Buffers", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)",
		"Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked",
		"SwapTotal", "SwapFree", "Zswap", "Zswapped", "Dirty", "Writeback", "AnonPages",
		"Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim",
		"KernelStack", "PageTables", "SecPageTables", "NFS_Unstable", "Bounce",
		"WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed",
		"VmallocChunk", "Percpu", "HardwareCorrupted", "AnonHugePages", "ShmemHugePages",
		"ShmemPmdMapped", "FileHugePages", "FilePmdMapped",
	};
	int r = sb_printf(sb, "%-16s%8" PRIu64 " kB\n%-16s%8" PRIu64 " kB\n%-16s%8" PRIu64 " kB\n",
			  "MemTotal:", total, "MemFree:", freem, "MemAvailable:", avail);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(zero_kb); i++) {
		char key[32];
		int kl = snprintf(key, sizeof(key), "%s:", zero_kb[i]);
		uint64_t v = !strcmp(zero_kb[i], "CommitLimit") ? total : 0;
		/* Numbers end in column 24 whatever the key's length, as the kernel's. */
		r = sb_printf(sb, "%-16s%*" PRIu64 " kB\n", key, kl < 16 ? 8 : 24 - kl, v);
	}
	if (r == 0)
		r = sb_printf(sb,
			      "HugePages_Total:       0\nHugePages_Free:        0\n"
			      "HugePages_Rsvd:        0\nHugePages_Surp:        0\n"
			      "Hugepagesize:       2048 kB\nHugetlb:               0 kB\n");
	return r;
}

/* cpuinfo keys passed through; anything else (microcode revision, keys a
 * future kernel adds) is left out. */
static const char *const cpuinfo_keys[] = {
	"processor", "vendor_id", "cpu family", "model", "model name", "stepping", "cpu MHz",
	"cache size", "physical id", "siblings", "core id", "cpu cores", "apicid",
	"initial apicid", "fpu", "fpu_exception", "cpuid level", "wp", "flags", "vmx flags",
	"bugs", "bogomips", "TLB size", "clflush size", "cache_alignment", "address sizes",
	"power management",
};

static bool cpuinfo_key_ok(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return false;
	size_t kl = (size_t)(colon - line);
	while (kl && (line[kl - 1] == '\t' || line[kl - 1] == ' '))
		kl--;
	for (size_t i = 0; i < ARRAY_SIZE(cpuinfo_keys); i++)
		if (strlen(cpuinfo_keys[i]) == kl && !memcmp(cpuinfo_keys[i], line, kl))
			return true;
	return false;
}

/* The host's blocks for the CPUs the sandbox may run on. */
int gen_cpuinfo(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ char *text = NULL;
	ssize_t n = procfs_host_read("cpuinfo", &text, BIG_MAX);
	if (n < 0)
		return (int)n;
	cpu_set_t set;
	allowed_cpus(&set);
	bool keep = false;
	int r = 0;
	for (char *l = text; r == 0 && l && *l;) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (!strncmp(l, "processor", 9)) {
			const char *colon = memchr(l, ':', len);
			long cpu = colon ? strtol(colon + 1, NULL, 10) : -1;
			keep = cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set);
		}
		if (len == 0) {
			if (keep)
				r = sb_puts(sb, "\n");
			keep = false;
		} else if (keep && cpuinfo_key_ok(l, len)) {
			r = sb_append(sb, l, len + 1 - !nl);
			if (r == 0 && !nl)
				r = sb_puts(sb, "\n");
		}
		l = nl ? nl + 1 : NULL;
	}
	return r;
}

int gen_filesystems(const struct pctx *c, struct strbuf *sb)
{
	static const char *const known[] = { "sysfs", "tmpfs", "proc", "devtmpfs", "devpts",
					     "overlay" };
	int r = 0;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(known); i++)
		r = sb_printf(sb, "nodev\t%s\n", known[i]);
	/* And whatever else is mounted, once each. */
	for (struct mount *m = vfs_mounts(); r == 0 && m; m = m->next) {
		bool seen = false;
		for (size_t i = 0; !seen && i < ARRAY_SIZE(known); i++)
			seen = m->fstype && !strcmp(m->fstype, known[i]);
		for (struct mount *o = vfs_mounts(); !seen && o != m; o = o->next)
			seen = o->fstype && m->fstype && !strcmp(o->fstype, m->fstype);
		if (!seen && m->fstype)
			r = sb_printf(sb, "nodev\t%s\n", m->fstype);
	}
	return r;
}

/* ---- mounts ---------------------------------------------------------------- */

int mount_id(const struct mount *m)
{
	int id = 1;
	for (struct mount *o = vfs_mounts(); o; o = o->next, id++)
		if (o == m)
			return id;
	return 0;
}

/* The root the target process sees mounts from. */
static struct vnode *pctx_root(const struct pctx *c)
{
	if (c->task && c->task->fs && c->task->fs->root)
		return c->task->fs->root;
	return reader_root();
}

/* Path of mount m as seen from root; -ENOENT for mounts outside it. */
static int mount_path(struct vnode *root, const struct mount *m, char *buf, size_t len)
{
	if (!vfs_is_beneath(m->root, root))
		return -ENOENT;
	ssize_t n = vfs_path(root, m->root, buf, len, false);
	return n < 0 ? (int)n : 0;
}

/* A bind's source is a host path: the guest sees "none" there, as for
 * any virtual filesystem. */
static const char *mount_source(const struct mount *m)
{
	return m->source && m->source[0] && m->source[0] != '/' ? m->source : "none";
}

static int sb_put_mount_opts(struct strbuf *sb, const struct mount *m)
{
	return sb_printf(sb, "%s%s%s%s,relatime", (m->flags & MNT_RDONLY) ? "ro" : "rw",
			 (m->flags & MNT_NOSUID) ? ",nosuid" : "", (m->flags & MNT_NODEV) ? ",nodev" : "",
			 (m->flags & MNT_NOEXEC) ? ",noexec" : "");
}

int gen_mounts(const struct pctx *c, struct strbuf *sb)
{
	struct vnode *root = pctx_root(c);
	char path[PATH_MAX];
	int r = 0;
	for (struct mount *m = vfs_mounts(); r == 0 && m; m = m->next) {
		if (mount_path(root, m, path, sizeof(path)) < 0)
			continue;
		if ((r = sb_put_escaped(sb, mount_source(m))) < 0 ||
		    (r = sb_puts(sb, " ")) < 0 || (r = sb_put_escaped(sb, path)) < 0 ||
		    (r = sb_printf(sb, " %s ", m->fstype ? m->fstype : "none")) < 0 ||
		    (r = sb_put_mount_opts(sb, m)) < 0)
			break;
		r = sb_puts(sb, " 0 0\n");
	}
	return r;
}

int gen_mountinfo(const struct pctx *c, struct strbuf *sb)
{
	struct vnode *root = pctx_root(c);
	char path[PATH_MAX];
	int r = 0;
	for (struct mount *m = vfs_mounts(); r == 0 && m; m = m->next) {
		if (mount_path(root, m, path, sizeof(path)) < 0)
			continue;
		if ((r = sb_printf(sb, "%d %d %u:%u / ", mount_id(m), m->parent ? mount_id(m->parent) : 0,
				   major(m->dev), minor(m->dev))) < 0 ||
		    (r = sb_put_escaped(sb, path)) < 0 || (r = sb_puts(sb, " ")) < 0 ||
		    (r = sb_put_mount_opts(sb, m)) < 0 ||
		    (r = sb_printf(sb, " - %s ", m->fstype ? m->fstype : "none")) < 0 ||
		    (r = sb_put_escaped(sb, mount_source(m))) < 0)
			break;
		r = sb_printf(sb, " %s\n", (m->flags & MNT_RDONLY) ? "ro" : "rw");
	}
	return r;
}
