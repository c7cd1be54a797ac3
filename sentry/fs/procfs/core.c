/* SPDX-License-Identifier: MIT */
/* procfs: the instance, helpers, nodes and the fs_ops (see internal.h for the design). */
#include "sentry/fs/procfs/internal.h"

#include "platform/platform.h"

struct procfs_state procfs_inst = { .hostproc = -1 };

/* The host's system-wide /proc files the sandbox's /proc is computed from.
 * Once the sentry is confined (procfs_confine), its own /proc shows only
 * processes (subset=pid): these are read through fds opened before, so the
 * sentry keeps no way to name /proc/sys, /proc/sysrq-trigger or the like. */
static const char *const host_globals[] = {
	"stat", "meminfo", "cpuinfo", "sys/kernel/threads-max", "sys/kernel/cap_last_cap",
	"sys/vm/overcommit_memory", "sys/vm/overcommit_ratio", "sys/vm/max_map_count",
	"sys/fs/inotify/max_user_watches", "sys/fs/inotify/max_user_instances",
	"sys/fs/inotify/max_queued_events", "sys/fs/nr_open", "sys/fs/pipe-max-size", NULL,
};
static int host_global_fd[ARRAY_SIZE(host_globals)] = { [0 ... ARRAY_SIZE(host_globals) - 1] = -1 };
static bool host_confined;

ssize_t procfs_host_read(const char *path, char **ret, size_t max)
{
	for (size_t i = 0; host_globals[i]; i++)
		if (!strcmp(host_globals[i], path)) {
			if (!host_confined)
				break;
			return host_global_fd[i] < 0 ? -ENOENT : read_file_fd(host_global_fd[i], ret, max);
		}
	if (host_confined)
		return -ENOENT; /* not kept: no longer reachable */
	return read_file_at(procfs_inst.hostproc, path, ret, max);
}

int procfs_confine(int pid_only_proc)
{
	if (procfs_inst.hostproc < 0)
		return -EBADF;
	for (size_t i = 0; host_globals[i]; i++)
		host_global_fd[i] = openat(procfs_inst.hostproc, host_globals[i],
					   O_RDONLY | O_CLOEXEC | O_NOCTTY);
	safe_close(procfs_inst.hostproc);
	procfs_inst.hostproc = pid_only_proc;
	host_confined = true;
	return 0;
}

const struct cred procfs_root_cred = { .refcnt = 1 };

/* ---- small helpers ------------------------------------------------------- */

/* A canonical decimal id: digits only, no sign or leading zero, fits an int. */
int parse_id(const char *s, int *ret)
{
	if (!isdigit((unsigned char)s[0]) || (s[0] == '0' && s[1]))
		return -EINVAL;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*ret = (int)v;
	return 0;
}

int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The value of "key:" in a status-like text, up to the end of its line. */
const char *kv_get(const char *text, const char *key, size_t *ret_len)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			const char *v = l + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			*ret_len = (size_t)((nl ? nl : v + strlen(v)) - v);
			return v;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The last number of "key:" (NSpid's innermost level), and how many there
 * are. -1 when the line is missing or malformed. */
long kv_last_num(const char *text, const char *key, int *ret_count)
{
	size_t len;
	const char *v = kv_get(text, key, &len);
	if (!v)
		return -1;
	long last = -1;
	int count = 0;
	for (const char *p = v, *end = v + len; p < end;) {
		char *q;
		long n = strtol(p, &q, 10);
		if (q == p)
			break;
		last = n, count++;
		p = q;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	if (ret_count)
		*ret_count = count;
	return last;
}

int sb_puts(struct strbuf *sb, const char *s) { return sb_append(sb, s, strlen(s)); }

/* Paths in mount tables escape what would break the fields, as the kernel does. */
int sb_put_escaped(struct strbuf *sb, const char *s)
{
	int r = 0;
	for (; *s && r == 0; s++)
		r = strchr(" \t\n\\", *s) ? sb_printf(sb, "\\%03o", (unsigned char)*s)
					  : sb_append(sb, s, 1);
	return r;
}

void pctx_done(struct pctx *c) { safe_close(c->hdir); }

struct vnode *reader_root(void)
{
	if (current && current->fs && current->fs->root)
		return current->fs->root;
	struct mount *m = vfs_root_mount();
	return m ? m->root : NULL;
}

static const struct cred *reader_cred(void)
{
	return current && current->cred ? current->cred : &procfs_root_cred;
}

/* The target's credentials: its own if the sentry has seen it, else the
 * reader's (a child that has not made an emulated call yet has its
 * parent's, and the reader is almost always that parent or a sibling). */
const struct cred *pctx_cred(const struct pctx *c)
{
	if (c->task && c->task->cred)
		return c->task->cred;
	if (c->proc && c->proc->threads)
		return c->proc->threads->cred;
	return reader_cred();
}

/* ptrace_may_access, simplified: root, the same process, or all of the
 * target's ids equal to the reader's. */
static bool may_inspect(const struct pctx *c)
{
	const struct cred *rc = reader_cred();
	if (cred_is_root(rc))
		return true;
	if (current && c->proc && current->proc == c->proc)
		return true;
	/* Non-dumpable (prctl): only a reader with CAP_SYS_PTRACE, guest root. */
	if (c->proc && c->proc->nondumpable)
		return false;
	const struct cred *tc = pctx_cred(c);
	return tc->ruid == rc->fsuid && tc->euid == rc->fsuid && tc->suid == rc->fsuid &&
	       tc->rgid == rc->fsgid && tc->egid == rc->fsgid && tc->sgid == rc->fsgid;
}

/* The CPUs the asking thread may run on; with --cpus F, only the first
 * ceil(F) of them, so that what programs size their pools by
 * (sysconf(_SC_NPROCESSORS_ONLN), /proc/cpuinfo) follows the limit. */
void allowed_cpus(cpu_set_t *set)
{
	/* Its own mask, not the ptrace platform's pin (ptrace_tracer.c). */
	bool pinned = current && req_guest_affinity(current->tid, set);
	if (!pinned && sched_getaffinity(current ? current->tid : 0, sizeof(*set), set) < 0) {
		CPU_ZERO(set);
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, set);
	}
	unsigned n = 0;
	for (int i = 0; i < CPU_SETSIZE && sentry.cpu_limit; i++)
		if (CPU_ISSET(i, set) && ++n > sentry.cpu_limit)
			CPU_CLR(i, set);
}

/* ---- nodes --------------------------------------------------------------- */

/* Inode numbers: stable for (entry, pid, tid, fd) while the sandbox runs. */
uint64_t pino(const struct pent *e, pid_t vpid, pid_t vtid, int fd)
{
	struct {
		uint64_t ent;
		int32_t vpid, vtid, fd, pad;
	} k = { (uintptr_t)e, vpid, vtid, fd, 0 };
	uint64_t h = XXH3_64bits(&k, sizeof(k)) & INT64_MAX;
	return h <= PROC_ROOT_INO ? h + PROC_ROOT_INO + 1 : h;
}

int pnode_new(struct vnode *dir, const struct pnode *tmpl, const char *name,
		     struct vnode **ret)
{
	struct pnode *pn = malloc(sizeof(*pn));
	if (!pn)
		return -ENOMEM;
	*pn = *tmpl;
	struct vnode *vn = vn_alloc(dir->ops, dir->mnt, pn->ent->type,
				    pino(pn->ent, pn->vpid, pn->vtid, pn->fd), dir, name);
	if (!vn) {
		free(pn);
		return -ENOMEM;
	}
	vn->priv = pn;
	*ret = vn;
	return 0;
}

/* Check the node's process is still there and find what the sentry knows
 * about it. Outside /proc/<pid> there is nothing to check. */
int pctx_init(struct vnode *vn, struct pctx *c)
{
	const struct pnode *pn = vn->priv;
	*c = (struct pctx){ .pn = pn, .hdir = -1 };
	if (!pn->vpid)
		return 0;
	int r = host_task_open(pn->hpid, pn->vtid ? pn->htid : 0, pn->vpid,
			       pn->vtid ? pn->vtid : pn->vpid, &c->hdir);
	if (r < 0)
		return -ENOENT;
	struct task *t = task_find(pn->vtid ? pn->htid : pn->hpid);
	if (t && t->proc && t->proc->tgid == pn->hpid)
		c->task = t;
	if (c->task) {
		c->proc = c->task->proc;
	} else {
		struct proc *p = proc_find_vpid(pn->vpid);
		c->proc = p && p->tgid == pn->hpid ? p : NULL;
	}
	return 0;
}

int procfs_vnode_pidfd(struct vnode *vn, int *ret_pidfd)
{
	if (vn->ops != &procfs_ops)
		return -EBADF;
	const struct pnode *pn = vn->priv;
	if (pn->ent != pent_root.dyn->child || !pn->vpid || pn->vtid)
		return -EBADF;
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pn->hpid, 0);
	if (pfd < 0)
		return -ESRCH;
	/* The pidfd pins the process; the host pid is still the one looked up. */
	if (host_task_open(pn->hpid, 0, pn->vpid, pn->vpid, NULL) < 0)
		return -ESRCH;
	*ret_pidfd = TAKE_FD(pfd);
	return 0;
}

/* Is the process moat's own code? The sandbox's pid 1 is a fork of moat
 * that never execs: its memory holds the invoker's command line and
 * environment, and its fds moat's own pipes. None of that is the guest's. */
bool is_moat_code(const struct pctx *c)
{
	struct stat st;
	if (c->hdir < 0)
		return false;
	if (!procfs_inst.moat_ino || fstatat(c->hdir, "exe", &st, 0) < 0)
		return c->pn->hpid == sentry.init_pid; /* can't tell: trust the pid */
	return st.st_dev == procfs_inst.moat_dev && st.st_ino == procfs_inst.moat_ino;
}

/* ---- fs_ops ----------------------------------------------------------------- */

static int proc_lookup(struct vnode *dir, const char *name, struct vnode **ret)
{
	const struct pnode *pn = dir->priv;
	const struct pent *e = pn->ent;
	for (const struct pent *s = e->sub; s && s->name; s++) {
		if (strcmp(s->name, name))
			continue;
		if ((s->flags & PE_TGID_ONLY) && pn->vtid)
			return -ENOENT;
		struct pnode child = *pn;
		child.ent = s;
		child.fd = -1;
		return pnode_new(dir, &child, name, ret);
	}
	return e->dyn ? e->dyn->lookup(dir, e->dyn->child, name, ret) : -ENOENT;
}

static int proc_readdir(struct vnode *dir, struct dirent_list *out)
{
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(dir, &c); /* a dead process's directory is empty */
	if (r < 0)
		return r;
	const struct pnode *pn = c.pn;
	const struct pent *e = pn->ent;
	for (const struct pent *s = e->sub; r == 0 && s && s->name; s++)
		if (!((s->flags & PE_TGID_ONLY) && pn->vtid))
			r = dirent_list_add(out, pino(s, pn->vpid, pn->vtid, -1), vtype_to_dt(s->type),
					    s->name);
	if (r == 0 && e->dyn)
		r = e->dyn->readdir(dir, e->dyn->child, out);
	return r;
}

static int proc_getattr(struct vnode *vn, struct stat *st)
{
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(vn, &c);
	if (r < 0)
		return r;
	const struct pnode *pn = c.pn;
	const struct pent *e = pn->ent;
	mode_t perm = e->perm;
	if (e == &pent_fd) {
		struct fdview v;
		if ((r = fd_view(&c, &v)) < 0)
			return r;
		/* As the kernel: r-x for a read fd, -wx for a write fd. */
		perm = (v.access & S_IRUSR ? S_IRUSR | S_IXUSR : 0) |
		       (v.access & S_IWUSR ? S_IWUSR | S_IXUSR : 0);
	}
	const struct cred *owner = pn->vpid ? pctx_cred(&c) : &procfs_root_cred;
	*st = (struct stat){
		.st_ino = vn->ino,
		.st_mode = perm | (e->type == VDIR ? S_IFDIR : e->type == VLNK ? S_IFLNK : S_IFREG),
		/* 1 for directories: "link count unknown", so no tool infers the
		 * number of subdirectories from it. */
		.st_nlink = 1,
		.st_uid = owner->euid,
		.st_gid = owner->egid,
		.st_blksize = 1024,
		.st_atim = procfs_inst.start_real,
		.st_mtim = procfs_inst.start_real,
		.st_ctim = procfs_inst.start_real,
	};
	return 0;
}

static void linkres_freep(struct linkres **p)
{
	if (*p) {
		safe_close((*p)->hostfd);
		free(*p);
	}
}

/* Run vn's link function for the reader; *ret is the caller's. */
static int link_resolve(struct vnode *vn, bool want_target, struct linkres **ret)
{
	const struct pent *e = ((const struct pnode *)vn->priv)->ent;
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(vn, &c);
	if (r < 0)
		return r;
	if (!e->link)
		return -EINVAL;
	if ((e->flags & PE_PRIVATE) && !may_inspect(&c))
		return -EACCES;
	_cleanup_(linkres_freep) struct linkres *res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	res->hostfd = -1;
	if ((r = e->link(&c, want_target, res)) < 0)
		return r;
	*ret = TAKE_PTR(res);
	return 0;
}

static ssize_t proc_readlink(struct vnode *vn, char *buf, size_t len)
{
	_cleanup_(linkres_freep) struct linkres *res = NULL;
	int r = link_resolve(vn, false, &res);
	if (r < 0)
		return r;
	size_t n = res->len < len ? res->len : len;
	memcpy(buf, res->text, n);
	return (ssize_t)n;
}

static int proc_get_link(struct vnode *vn, struct vlink *ret)
{
	_cleanup_(linkres_freep) struct linkres *res = NULL;
	int r = link_resolve(vn, true, &res);
	if (r < 0)
		return r;
	if (res->vn) {
		*ret = (struct vlink){ .kind = VLINK_VNODE, .vnode = vn_ref(res->vn), .hostfd = -1 };
		return 0;
	}
	if (res->hostfd >= 0) {
		*ret = (struct vlink){ .kind = VLINK_HOSTFD, .hostfd = TAKE_FD(res->hostfd) };
		return 0;
	}
	/* A magic link with nothing we may hand out (a host file we cannot
	 * name): its text is not a path to walk. */
	if (res->magic)
		return -ENOENT;
	char *path = strndup(res->text, res->len);
	if (!path)
		return -ENOMEM;
	*ret = (struct vlink){ .kind = VLINK_PATH, .path = path, .hostfd = -1 };
	return 0;
}

static int proc_open(struct vnode *vn, int flags, int *ret_fd)
{
	const struct pent *e = ((const struct pnode *)vn->priv)->ent;
	if (vn->type != VREG || !e->gen)
		return -ENXIO;
	bool write = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	/* The sandbox's kernel settings are fixed; of a process's files, the
	 * ones Linux lets a container write are the host kernel's own. */
	if (write && !(e->flags & PE_WRITABLE))
		return (e->flags & PE_SYSCTL) ? -EROFS : -EACCES;
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(vn, &c);
	if (r < 0)
		return r;
	if (write) {
		/* Not pid 1's: it is moat's code, not the guest's. */
		if (is_moat_code(&c))
			return -EACCES;
		int fd = openat(c.hdir, e->arg, (flags & (O_ACCMODE | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == EACCES || errno == EPERM ? -EACCES : -ESRCH;
		*ret_fd = fd;
		return 0;
	}
	if ((e->flags & PE_PRIVATE) && !may_inspect(&c))
		return -EACCES;
	_cleanup_(sb_free) struct strbuf sb = { 0 };
	if ((r = e->gen(&c, &sb)) < 0)
		return r;
	int fd = memfd_from_buf(e->name, sb.buf ? sb.buf : "", sb.len);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

static int proc_statfs(struct vnode *vn, struct statfs *st)
{
	*st = (struct statfs){ .f_type = PROC_SUPER_MAGIC, .f_bsize = 4096, .f_frsize = 4096,
			       .f_namelen = 255 };
	return 0;
}

static int sys_statfs(struct vnode *vn, struct statfs *st)
{
	*st = (struct statfs){ .f_type = SYSFS_MAGIC, .f_bsize = 4096, .f_frsize = 4096,
			       .f_namelen = 255 };
	return 0;
}

static int cgroup_statfs(struct vnode *vn, struct statfs *st)
{
	*st = (struct statfs){ .f_type = CGROUP2_SUPER_MAGIC, .f_bsize = 4096, .f_frsize = 4096,
			       .f_namelen = 255 };
	return 0;
}

static void proc_release(struct vnode *vn)
{
	free(vn->priv);
	vn->priv = NULL;
}

const struct fs_ops procfs_ops = {
	.name = "proc",
	.lookup = proc_lookup,
	.getattr = proc_getattr,
	.readlink = proc_readlink,
	.get_link = proc_get_link,
	.open = proc_open,
	.readdir = proc_readdir,
	.statfs = proc_statfs,
	.release = proc_release,
	.cache_lookups = false,
};

/* The minimal /sys and its /sys/fs/cgroup: the same tables as data, with
 * only the fixed entries (sysfs.c). */
static const struct fs_ops sysfs_ops = {
	.name = "sysfs",
	.lookup = proc_lookup,
	.getattr = proc_getattr,
	.open = proc_open,
	.readdir = proc_readdir,
	.statfs = sys_statfs,
	.release = proc_release,
	.cache_lookups = true, /* fixed entries; /sys/fs/cgroup is a mountpoint */
};

static const struct fs_ops cgroupfs_ops = {
	.name = "cgroup2",
	.lookup = proc_lookup,
	.getattr = proc_getattr,
	.open = proc_open,
	.readdir = proc_readdir,
	.statfs = cgroup_statfs,
	.release = proc_release,
	.cache_lookups = false,
};

/* ---- instance -------------------------------------------------------------- */

static int procfs_init(void)
{
	if (procfs_inst.ready)
		return 0;
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(neg_errno(), "open the host's /proc");
	procfs_inst.hostproc = fd;
	procfs_inst.hz = sysconf(_SC_CLK_TCK);
	if (procfs_inst.hz <= 0)
		procfs_inst.hz = 100;
	/* The sandbox's boot: sentry.start (monotonic) on the boot-time clock,
	 * which process start times in stat count on. */
	int64_t mono = clock_ns(CLOCK_MONOTONIC), boot = clock_ns(CLOCK_BOOTTIME);
	int64_t start = sentry.start.tv_sec || sentry.start.tv_nsec
				? (int64_t)sentry.start.tv_sec * 1000000000 + sentry.start.tv_nsec
				: mono;
	procfs_inst.start_boot_ns = start + (boot - mono);
	if (sentry.boot_realtime.tv_sec)
		procfs_inst.start_real = sentry.boot_realtime;
	else
		clock_gettime(CLOCK_REALTIME, &procfs_inst.start_real);
	/* capget's answer depends on the host kernel's capability count too. */
	_cleanup_free_ char *cap = NULL;
	struct stat self;
	if (stat("/proc/self/exe", &self) == 0)
		procfs_inst.moat_dev = self.st_dev, procfs_inst.moat_ino = self.st_ino;
	procfs_inst.cap_last_cap = CAP_LAST_CAP_DEFAULT;
	if (read_file_at(procfs_inst.hostproc, "sys/kernel/cap_last_cap", &cap, SMALL_MAX) > 0) {
		long v = strtol(cap, NULL, 10);
		if (v > 0 && v < 64)
			procfs_inst.cap_last_cap = (unsigned)v;
	}
	/* One boot id per sandbox, never the host's. */
	uint8_t u[16];
	_cleanup_(sb_free) struct strbuf sb = { 0 };
	if (random_uuid(u) < 0 || sb_put_uuid(&sb, u) < 0)
		return -EIO;
	snprintf(procfs_inst.boot_id, sizeof(procfs_inst.boot_id), "%s", sb.buf);
	if (cpu_times_now(&procfs_inst.cpu_base, &procfs_inst.ncpu_base) < 0)
		procfs_inst.ncpu_base = 0; /* then /proc/stat counts from the host's boot */
	procfs_inst.ready = true;
	return 0;
}

static int pfs_new(const struct fs_ops *ops, const struct pent *top, struct vnode **ret_root)
{
	int r = procfs_init();
	if (r < 0)
		return r;
	struct pnode *pn = malloc(sizeof(*pn));
	if (!pn)
		return -ENOMEM;
	*pn = (struct pnode){ .ent = top, .fd = -1 };
	/* mnt is set by vfs_mount. */
	struct vnode *root = vn_alloc(ops, NULL, VDIR, PROC_ROOT_INO, NULL, "/");
	if (!root) {
		free(pn);
		return -ENOMEM;
	}
	root->priv = pn;
	*ret_root = root;
	return 0;
}

int procfs_new(struct vnode **ret_root)
{
	return pfs_new(&procfs_ops, &pent_root, ret_root);
}

int sysfs_new(struct vnode **ret_root)
{
	return pfs_new(&sysfs_ops, &pent_sysroot, ret_root);
}

int cgroupfs_new(struct vnode **ret_root)
{
	return pfs_new(&cgroupfs_ops, &pent_cgroot, ret_root);
}
