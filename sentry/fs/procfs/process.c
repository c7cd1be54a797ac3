/* SPDX-License-Identifier: MIT */
/* procfs: per-process files and links (see internal.h for the design). */
#include "sentry/fs/procfs/internal.h"

#include <ctype.h>

#include "platform/platform.h"
#include "sentry/fs/procfs/rewrite.h"

/* ---- per-process files --------------------------------------------------- */

/* The guest's own bytes (cmdline, environ, comm, statm, limits): nothing
 * in them is the host's. */
int gen_host(const struct pctx *c, struct strbuf *sb)
{
	if (is_moat_code(c)) {
		const char *f = c->pn->ent->arg;
		if (!strcmp(f, "cmdline"))
			return sb_append(sb, MOAT_INIT_NAME, sizeof(MOAT_INIT_NAME));
		if (!strcmp(f, "comm"))
			return sb_puts(sb, MOAT_INIT_NAME "\n");
		if (strcmp(f, "statm") && strcmp(f, "limits"))
			return 0; /* environ */
	}
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_at(c->hdir, c->pn->ent->arg, &buf, BIG_MAX);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	return sb_append(sb, buf, (size_t)n);
}

/* uid_map/gid_map: the identity map of a process not in a user namespace. */
int gen_idmap(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%10u %10u %10u\n", 0u, 0u, 4294967295u);
}

/* What status and stat need, the host's ids already translated. */
struct status_info {
	const struct pctx *c;
	const struct cred *cred;
	pid_t vpid, vtid, vppid, vpgid, vsid;
	bool self; /* the reader reads its own thread: it is running */
	bool moat; /* moat's own init (is_moat_code) */
};

static int status_info_load(const struct pctx *c, struct status_info *si, char **ret_status)
{
	const struct pnode *pn = c->pn;
	_cleanup_free_ char *st = NULL;
	if (read_file_at(c->hdir, "status", &st, SMALL_MAX) < 0)
		return -ESRCH;
	*si = (struct status_info){
		.c = c,
		.cred = pctx_cred(c),
		.vpid = pn->vpid,
		.vtid = pn->vtid ? pn->vtid : pn->vpid,
		.vppid = host_to_vpid(kv_last_num(st, "PPid", NULL)),
		.vpgid = (pid_t)kv_last_num(st, "NSpgid", NULL),
		.vsid = (pid_t)kv_last_num(st, "NSsid", NULL),
		.self = current && current->tid == (pn->vtid ? pn->htid : pn->hpid),
		.moat = is_moat_code(c),
	};
	if (si->vpgid < 0)
		si->vpgid = 0;
	if (si->vsid < 0)
		si->vsid = 0;
	*ret_status = TAKE_PTR(st);
	return 0;
}

enum { SI_TGID, SI_TID, SI_PPID, SI_PGID, SI_SID, SI_ZERO };
enum { CAPS_INH, CAPS_PRM, CAPS_EFF, CAPS_BND, CAPS_AMB };

static pid_t si_id(const struct status_info *si, int which)
{
	switch (which) {
	case SI_TGID: return si->vpid;
	case SI_TID: return si->vtid;
	case SI_PPID: return si->vppid;
	case SI_PGID: return si->vpgid;
	case SI_SID: return si->vsid;
	}
	return 0;
}

struct status_rule;
typedef int (*status_fn)(const struct status_info *si, const struct status_rule *rule,
			 const char *line, size_t len, struct strbuf *sb);
struct status_rule {
	const char *key;
	status_fn fn;
	int arg;
};

static int st_pass(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	return sb_append(sb, line, len);
}

/* Cpus_allowed(_list) of a task the platform pinned (the ptrace platform's
 * co-location): the mask the guest has, in the host line's own form (as
 * many hex digits, commas where it has them). */
static int st_cpus(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	cpu_set_t m;
	const char *tab = memchr(line, '\t', len);
	if (!si->c->task || !tab || !req_guest_affinity(si->c->task->tid, &m))
		return sb_append(sb, line, len);
	size_t head = (size_t)(tab - line) + 1;
	if (rule->arg == 0) {
		char buf[1024];
		if (len > sizeof(buf))
			return sb_append(sb, line, len);
		memcpy(buf, line, len);
		int nib = 0;
		for (size_t i = len; i-- > head;) {
			if (!isxdigit((unsigned char)buf[i]))
				continue;
			int v = 0;
			for (int b = 0; b < 4; b++)
				if (nib * 4 + b < CPU_SETSIZE && CPU_ISSET(nib * 4 + b, &m))
					v |= 1 << b;
			buf[i] = "0123456789abcdef"[v];
			nib++;
		}
		return sb_append(sb, buf, len);
	}
	int r = sb_append(sb, line, head);
	return r ? r : sb_cpu_list(sb, &m);
}

static int st_name(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	return si->moat ? sb_puts(sb, "Name:\t" MOAT_INIT_NAME "\n") : sb_append(sb, line, len);
}

static int st_id(const struct status_info *si, const struct status_rule *rule, const char *line,
		 size_t len, struct strbuf *sb)
{
	return sb_printf(sb, "%s:\t%d\n", rule->key, si_id(si, rule->arg));
}

/* On the ptrace platform the host shows every guest task that waits for
 * the sentry, or that the tracer holds in a group-stop, as 't' (tracing
 * stop); without a tracer the kernel would show S (as for a notification)
 * or T. */
static char guest_state(const struct pctx *c, char host)
{
	if (host != 't' || platform->kind != PLATFORM_PTRACE)
		return host;
	return c->task && ptrace_task_group_stopped(c->task->tid) ? 'T' : 'S';
}

static int st_state(const struct status_info *si, const struct status_rule *rule, const char *line,
		    size_t len, struct strbuf *sb)
{
	/* The host sees the reader waiting for our answer; the kernel shows a
	 * task reading its own status running. */
	if (si->self)
		return sb_puts(sb, "State:\tR (running)\n");
	const char *v = memchr(line, '\t', len);
	if (v && v + 1 < line + len && v[1] == 't') {
		char s = guest_state(si->c, 't');
		if (s != 't')
			return sb_puts(sb, s == 'T' ? "State:\tT (stopped)\n" : "State:\tS (sleeping)\n");
	}
	return sb_append(sb, line, len);
}

static int st_umask(const struct status_info *si, const struct status_rule *rule, const char *line,
		    size_t len, struct strbuf *sb)
{
	const struct task *t = si->c->task;
	if (!t || !t->fs)
		return sb_append(sb, line, len);
	return sb_printf(sb, "Umask:\t%04o\n", (unsigned)t->fs->umask);
}

static int st_ids4(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	const struct cred *cr = si->cred;
	if (rule->arg == 0)
		return sb_printf(sb, "Uid:\t%u\t%u\t%u\t%u\n", cr->ruid, cr->euid, cr->suid, cr->fsuid);
	return sb_printf(sb, "Gid:\t%u\t%u\t%u\t%u\n", cr->rgid, cr->egid, cr->sgid, cr->fsgid);
}

static int st_groups(const struct status_info *si, const struct status_rule *rule,
		     const char *line, size_t len, struct strbuf *sb)
{
	int r = sb_puts(sb, "Groups:\t");
	int n = si->cred->ngroups;
	if (n > (int)ARRAY_SIZE(si->cred->groups))
		n = (int)ARRAY_SIZE(si->cred->groups);
	for (int i = 0; r == 0 && i < n; i++)
		r = sb_printf(sb, "%s%u", i ? " " : "", si->cred->groups[i]);
	/* The kernel ends the list with a space, groups or not. */
	return r ? r : sb_puts(sb, " \n");
}

/* The sandbox's capabilities: root has them all (as capget tells it),
 * anyone else none; the bounding set is full. */
static int st_caps(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	uint64_t full = procfs_inst.cap_last_cap >= 63 ? UINT64_MAX : (1ULL << (procfs_inst.cap_last_cap + 1)) - 1;
	uint64_t v = 0;
	switch (rule->arg) {
	case CAPS_PRM:
	case CAPS_EFF:
		v = si->cred->euid == 0 ? full : 0;
		break;
	case CAPS_BND:
		v = full;
		break;
	}
	return sb_printf(sb, "%s:\t%016" PRIx64 "\n", rule->key, v);
}

/* Lines of status, in the kernel's order; a line not named here (a key a
 * future kernel adds) is left out rather than passed unchecked. */
static const struct status_rule status_rules[] = {
	{ "Name", st_name },
	{ "Umask", st_umask },
	{ "State", st_state },
	{ "Tgid", st_id, SI_TGID },
	{ "Ngid", st_id, SI_ZERO },
	{ "Pid", st_id, SI_TID },
	{ "PPid", st_id, SI_PPID },
	{ "TracerPid", st_id, SI_ZERO },
	{ "Uid", st_ids4, 0 },
	{ "Gid", st_ids4, 1 },
	{ "FDSize", st_pass },
	{ "Groups", st_groups },
	{ "NStgid", st_id, SI_TGID },
	{ "NSpid", st_id, SI_TID },
	{ "NSpgid", st_id, SI_PGID },
	{ "NSsid", st_id, SI_SID },
	{ "Kthread", st_pass },
	{ "VmPeak", st_pass }, { "VmSize", st_pass }, { "VmLck", st_pass }, { "VmPin", st_pass },
	{ "VmHWM", st_pass }, { "VmRSS", st_pass }, { "RssAnon", st_pass }, { "RssFile", st_pass },
	{ "RssShmem", st_pass }, { "VmData", st_pass }, { "VmStk", st_pass }, { "VmExe", st_pass },
	{ "VmLib", st_pass }, { "VmPTE", st_pass }, { "VmSwap", st_pass },
	{ "HugetlbPages", st_pass },
	{ "CoreDumping", st_pass },
	{ "THP_enabled", st_pass },
	{ "untag_mask", st_pass },
	{ "Threads", st_pass },
	{ "SigQ", st_pass }, { "SigPnd", st_pass }, { "ShdPnd", st_pass }, { "SigBlk", st_pass },
	{ "SigIgn", st_pass }, { "SigCgt", st_pass },
	{ "CapInh", st_caps, CAPS_INH },
	{ "CapPrm", st_caps, CAPS_PRM },
	{ "CapEff", st_caps, CAPS_EFF },
	{ "CapBnd", st_caps, CAPS_BND },
	{ "CapAmb", st_caps, CAPS_AMB },
	{ "NoNewPrivs", st_pass },
	{ "Seccomp", st_pass },
	{ "Seccomp_filters", st_pass },
	{ "Speculation_Store_Bypass", st_pass },
	{ "SpeculationIndirectBranch", st_pass },
	{ "Cpus_allowed", st_cpus, 0 }, { "Cpus_allowed_list", st_cpus, 1 },
	{ "Mems_allowed", st_pass }, { "Mems_allowed_list", st_pass },
	{ "voluntary_ctxt_switches", st_pass },
	{ "nonvoluntary_ctxt_switches", st_pass },
	{ "x86_Thread_features", st_pass },
	{ "x86_Thread_features_locked", st_pass },
};

int gen_status(const struct pctx *c, struct strbuf *sb)
{
	struct status_info si;
	_cleanup_free_ char *st = NULL;
	int r = status_info_load(c, &si, &st);
	for (const char *l = st; r == 0 && l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
		const char *colon = memchr(l, ':', len);
		for (size_t i = 0; colon && i < ARRAY_SIZE(status_rules); i++) {
			const struct status_rule *rule = &status_rules[i];
			if (strlen(rule->key) == (size_t)(colon - l) && !memcmp(rule->key, l, colon - l)) {
				r = rule->fn(&si, rule, l, len, sb);
				break;
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return r;
}

/* stat: the host's line with every pid field translated and the start
 * time counted from the sandbox's boot (with btime in /proc/stat, ps
 * shows the real start time; the host's uptime does not show). */
int gen_pid_stat(const struct pctx *c, struct strbuf *sb)
{
	struct status_info si;
	_cleanup_free_ char *st = NULL, *text = NULL;
	int r = status_info_load(c, &si, &st);
	if (r < 0)
		return r;
	if (read_file_at(c->hdir, "stat", &text, SMALL_MAX) < 0)
		return -ESRCH;
	const struct stat_ids ids = {
		.vtid = si.vtid, .vppid = si.vppid, .vpgid = si.vpgid, .vsid = si.vsid,
		.name = si.moat ? MOAT_INIT_NAME : NULL,
		.state = si.self ? 'R' : 0,
		.traced = guest_state(c, 't'),
		.start_ticks = procfs_inst.start_boot_ns / (1000000000LL / procfs_inst.hz),
		.to_vpid = host_to_vpid,
	};
	return procfs_stat_rewrite(text, &ids, sb);
}

/* The path of a mapping, as the sandbox names it; or, when that would show
 * something of the host, no path at all (and no host device or inode). */
static bool keep_unknown_map_path(const char *name)
{
	/* Objects with no path on any filesystem: the kernel's own names. */
	static const char *const prefixes[] = { "/memfd:", "/dev/zero", "/SYSV", "/[aio]" };
	if (name[0] != '/')
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	/* The ELF interpreters bound at the same path in the guest's root. */
	for (size_t i = 0; i < sentry.ninterp; i++) {
		size_t n = strlen(sentry.interp_paths[i]);
		if (!strncmp(name, sentry.interp_paths[i], n) &&
		    (!name[n] || !strcmp(name + n, " (deleted)")))
			return true;
	}
	return false;
}

struct map_line {
	unsigned long start, end;
	char perms[8];
	unsigned long long off;
	unsigned maj, min;
	unsigned long ino;
	const char *name;
};

static void map_translate(struct map_line *m, struct vnode *root, char *buf, size_t len)
{
	if (m->ino) {
		struct vnode *vn = vfs_hostino_lookup(makedev(m->maj, m->min), m->ino);
		if (vn && root && vfs_path(root, vn, buf, len, true) >= 0) {
			dev_t dev = vn->mnt ? vn->mnt->dev : 0;
			m->maj = major(dev), m->min = minor(dev), m->ino = vn->ino;
			m->name = buf;
			return;
		}
		if (keep_unknown_map_path(m->name))
			return;
	} else if (m->name[0] == '[' || !m->name[0]) {
		return; /* [heap], [stack], [vdso], [anon:...] or anonymous */
	}
	m->maj = m->min = 0, m->ino = 0;
	m->name = "";
}

int gen_maps(const struct pctx *c, struct strbuf *sb)
{
	if (is_moat_code(c))
		return 0;
	_cleanup_free_ char *text = NULL;
	/* maps, smaps or smaps_rollup: smaps adds lines of numbers after
	 * each mapping's, which pass as they are. */
	if (read_file_at(c->hdir, c->pn->ent->arg, &text, BIG_MAX) < 0)
		return -ESRCH;
	struct vnode *root = reader_root();
	char path[PATH_MAX + 16];
	int r = 0;
	for (char *l = text; r == 0 && l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		struct map_line m = { 0 };
		int off = 0;
		if (sscanf(l, "%lx-%lx %7s %llx %x:%x %lu %n", &m.start, &m.end, m.perms, &m.off, &m.maj,
			   &m.min, &m.ino, &off) >= 7 && off > 0) {
			m.name = l + off;
			map_translate(&m, root, path, sizeof(path));
			size_t before = sb->len;
			r = sb_printf(sb, "%08lx-%08lx %s %08llx %02x:%02x %lu ", m.start, m.end, m.perms,
				      m.off, m.maj, m.min, m.ino);
			/* The kernel pads the path to column 73. */
			size_t col = sb->len - before;
			if (r == 0 && m.name[0])
				r = sb_printf(sb, "%*s%s", col < 73 ? (int)(73 - col) : 0, "", m.name);
			if (r == 0)
				r = sb_puts(sb, "\n");
		} else if (*l) {
			r = sb_printf(sb, "%s\n", l);
		}
		l = nl ? nl + 1 : NULL;
	}
	return r;
}

/* sched's first line names the thread by its host pid; the rest are numbers. */
int gen_sched(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ char *text = NULL;
	if (read_file_at(c->hdir, "sched", &text, BIG_MAX) < 0)
		return -ESRCH;
	return procfs_sched_rewrite(text, c->pn->vtid ? c->pn->vtid : c->pn->vpid, sb);
}

/* ns/: the sandbox's namespaces, one made-up number per kind (the host's
 * would tell the host's numbering); they cannot be opened (no setns). */
int link_ns(const struct pctx *c, bool want_target, struct linkres *res)
{
	static const char *const kinds[] = { "cgroup", "ipc", "mnt", "net", "pid", "time",
					     "user", "uts" };
	const char *name = c->pn->ent->name;
	/* pid_for_children and time_for_children: the same as the
	 * process's own, since nothing inside can make new ones. */
	size_t len = strcspn(name, "_");
	unsigned k = 0;
	while (k < ARRAY_SIZE(kinds) && strncmp(kinds[k], name, len))
		k++;
	const char *kind = k < ARRAY_SIZE(kinds) ? kinds[k] : name;
	int r = link_set(res, "%s:[%u]", kind, 4026532000u + k);
	res->magic = true;
	return r;
}

/* auxv is the guest's own, but AT_UID and friends are the host's ids. */
int gen_auxv(const struct pctx *c, struct strbuf *sb)
{
	if (is_moat_code(c))
		return 0;
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_at(c->hdir, "auxv", &buf, SMALL_MAX);
	if (n < 0)
		return -ESRCH;
	const struct cred *cr = pctx_cred(c);
	for (size_t i = 0; i + 16 <= (size_t)n; i += 16) {
		uint64_t kv[2];
		memcpy(kv, buf + i, sizeof(kv));
		switch (kv[0]) {
		case AT_UID: kv[1] = cr->ruid; break;
		case AT_EUID: kv[1] = cr->euid; break;
		case AT_GID: kv[1] = cr->rgid; break;
		case AT_EGID: kv[1] = cr->egid; break;
		}
		int r = sb_append(sb, kv, sizeof(kv));
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- links ----------------------------------------------------------------- */

int link_self(const struct pctx *c, bool want_target, struct linkres *res)
{
	if (!current || !current->proc)
		return -ENOENT;
	return link_set(res, "%d", current->proc->vpid);
}

int link_thread_self(const struct pctx *c, bool want_target, struct linkres *res)
{
	if (!current || !current->proc)
		return -ENOENT;
	return link_set(res, "%d/task/%d", current->proc->vpid, current->vtid);
}

int link_text(const struct pctx *c, bool want_target, struct linkres *res)
{
	return link_set(res, "%s", c->pn->ent->arg);
}

int link_exe(const struct pctx *c, bool want_target, struct linkres *res)
{
	if (!c->proc)
		return -ENOENT;
	res->magic = true;
	if (c->proc->exe_vn)
		return link_set_vnode(res, c->proc->exe_vn);
	return c->proc->exe ? link_set(res, "%s", c->proc->exe) : -ENOENT;
}

static int link_fs(const struct pctx *c, struct linkres *res, bool cwd)
{
	const struct task *t = c->task;
	if (!t || !t->fs)
		return -ENOENT;
	res->magic = true;
	return link_set_vnode(res, cwd ? t->fs->cwd : t->fs->root);
}

int link_cwd(const struct pctx *c, bool want_target, struct linkres *res)
{
	return link_fs(c, res, true);
}

int link_root(const struct pctx *c, bool want_target, struct linkres *res)
{
	return link_fs(c, res, false);
}
