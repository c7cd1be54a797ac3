/* SPDX-License-Identifier: MIT */
/* procfs: which host processes are the sandbox's, and the numeric directories (pids, tids) (see internal.h for the design). */
#include "sentry/fs/procfs/internal.h"
#include "platform/platform.h"
#include "sentry/kernel/pidwalk.h"

/* ---- which host processes are the sandbox's ------------------------------ */

static bool in_sandbox_ns(int hdir)
{
	struct stat st;
	return sentry.pidns_ino && fstatat(hdir, "ns/pid", &st, 0) == 0 &&
	       st.st_ino == sentry.pidns_ino;
}

/* The sandbox ids of the host task whose /proc directory is hdir: its
 * thread group and thread ids at the sandbox's level of pid namespaces (the
 * innermost: the guest cannot make pid namespaces). -ESRCH if it is not in
 * the sandbox, or gone. Zombies keep their ns links, so they are found. */
static int host_dir_ids(int hdir, pid_t *ret_vtgid, pid_t *ret_vtid)
{
	if (!in_sandbox_ns(hdir))
		return -ESRCH;
	_cleanup_free_ char *st = NULL;
	if (read_file_at(hdir, "status", &st, SMALL_MAX) < 0)
		return -ESRCH;
	long vtgid = kv_last_num(st, "NStgid", NULL), vtid = kv_last_num(st, "NSpid", NULL);
	if (vtgid <= 0 || vtid <= 0 || vtgid > INT_MAX || vtid > INT_MAX)
		return -ESRCH;
	if (ret_vtgid)
		*ret_vtgid = (pid_t)vtgid;
	if (ret_vtid)
		*ret_vtid = (pid_t)vtid;
	return 0;
}

/* Open the host directory of host task (hpid, htid: 0 for the process
 * itself) and check it still is sandbox (vtgid, vtid). */
int host_task_open(pid_t hpid, pid_t htid, pid_t vtgid, pid_t vtid, int *ret_fd)
{
	char path[HOSTPATH_MAX];
	if (htid)
		snprintf(path, sizeof(path), "%d/task/%d", hpid, htid);
	else
		snprintf(path, sizeof(path), "%d", hpid);
	_cleanup_close_ int fd = openat(procfs_inst.hostproc, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	pid_t g, t;
	if (host_dir_ids(fd, &g, &t) < 0 || g != vtgid || t != vtid)
		return -ESRCH;
	if (ret_fd)
		*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Sandbox pid of a host pid (a parent, a process group); 0 if it is not
 * in the sandbox, as the kernel shows ids from outside a namespace. */
pid_t host_to_vpid(long h)
{
	if (h <= 0 || h > INT_MAX)
		return 0;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "%ld", h);
	_cleanup_close_ int fd = openat(procfs_inst.hostproc, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	pid_t g;
	if (fd < 0 || host_dir_ids(fd, &g, NULL) < 0)
		return 0;
	return g;
}


static int pidpair_cmp(const void *a, const void *b)
{
	const struct pidpair *x = a, *y = b;
	return (x->vpid > y->vpid) - (x->vpid < y->vpid);
}

/* Scan a host directory of pid-named entries (/proc/<pid>/task: one
 * process's own threads, never the host's process list) for the sandbox's:
 * (sandbox id, host id) pairs sorted by sandbox id. */
static int scan_ids(int dirfd, const char *dir, bool threads, struct pidpair **ret, size_t *ret_n)
{
	_cleanup_close_ int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	if (!d)
		return neg_errno();
	int dfd = TAKE_FD(fd);
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *de; (de = readdir(d));) {
		int h;
		if (parse_id(de->d_name, &h) < 0 || h <= 0)
			continue;
		_cleanup_close_ int hd = openat(dfd, de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		pid_t g, t;
		if (hd < 0 || host_dir_ids(hd, &g, &t) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct pidpair *nv = realloc(v, cap * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[n++] = (struct pidpair){ threads ? t : g, h };
	}
	if (n)
		qsort(v, n, sizeof(*v), pidpair_cmp);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/* ---- the sandbox's processes, without the host's --------------------------
 *
 * The host's /proc lists every process on the machine; scanning it on a
 * guest's syscall costs O(host processes) under the sentry lock. Instead
 * the sandbox's processes are found from the sandbox itself:
 *  - a process that has made a notified syscall is in the task table, which
 *    knows its host pid (proc_find_vpid): one check of its host directory;
 *  - a process that has not (a fork child still running only passed-through
 *    calls) is a child of a process the sandbox has, or of pid 1, which
 *    adopts orphans: it is found by walking the sandbox's process tree from
 *    its pid 1 through /proc/<pid>/task/<tid>/children. That walk costs
 *    O(the sandbox's own threads), is bounded by PIDWALK_MAX, and is done
 *    only when the task table does not know the pid, or for a listing.
 * So every live sandbox process has its /proc/<pid>, and an unknown pid
 * costs the sandbox's size, not the host's. Each found pid is checked
 * through its own host directory (pid namespace and NSpid), so a host pid
 * reused meanwhile by a process outside is never taken for the sandbox's. */

struct collect {
	pid_t want;             /* stop at this sandbox pid; 0: all */
	struct pidpair *v;
	size_t n;
};

static int collect_one(pid_t h, void *ctx)
{
	struct collect *c = ctx;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "%d", h);
	_cleanup_close_ int hd = openat(procfs_inst.hostproc, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	pid_t g;
	if (hd < 0 || host_dir_ids(hd, &g, NULL) < 0)
		return PIDWALK_SKIP; /* gone, or not ours: not descended into */
	struct pidpair *nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->v = nv;
	c->v[c->n++] = (struct pidpair){ g, h };
	return c->want && g == c->want ? PIDWALK_STOP : PIDWALK_DESCEND;
}

/* Walk the sandbox's processes (sentry/kernel/pidwalk.c); stop at sandbox
 * pid `want` (0: all). */
static int sandbox_walk(pid_t want, struct pidpair **ret, size_t *ret_n)
{
	struct collect c = { .want = want };
	int r = pidwalk(collect_one, &c);
	if (r < 0) {
		free(c.v);
		return r;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), pidpair_cmp);
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int scan_processes(struct pidpair **ret, size_t *ret_n)
{
	return sandbox_walk(0, ret, ret_n);
}

int procfs_sandbox_pids(pid_t **ret, size_t *ret_n)
{
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0;
	int r = sandbox_walk(0, &v, &n);
	if (r < 0)
		return r;
	pid_t *h = malloc((n ? n : 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		h[i] = v[i].hpid;
	*ret = h;
	*ret_n = n;
	return 0;
}

/* Host pid of sandbox pid vpid: the caller itself and the task table
 * first, the sandbox's process tree if they do not know it. */
static int vpid_to_host(pid_t vpid, pid_t *ret)
{
	pid_t cand[2];
	int n = 0;
	if (current && current->proc && current->proc->vpid == vpid)
		cand[n++] = current->proc->tgid;
	struct proc *p = proc_find_vpid(vpid);
	if (p)
		cand[n++] = p->tgid;
	for (int i = 0; i < n; i++)
		if (host_task_open(cand[i], 0, vpid, vpid, NULL) == 0) {
			*ret = cand[i];
			return 0;
		}
	_cleanup_free_ struct pidpair *v = NULL;
	size_t nv = 0;
	int r = sandbox_walk(vpid, &v, &nv);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nv; i++)
		if (v[i].vpid == vpid) {
			*ret = v[i].hpid;
			return 0;
		}
	return -ENOENT;
}

/* ---- directories with numeric children ------------------------------------ */

int lookup_pid(struct vnode *dir, const struct pent *child, const char *name,
		      struct vnode **ret)
{
	pid_t vpid, h;
	if (parse_id(name, &vpid) < 0 || vpid <= 0 || vpid_to_host(vpid, &h) < 0)
		return -ENOENT;
	struct pnode pn = { .ent = child, .vpid = vpid, .hpid = h, .htid = h, .fd = -1 };
	return pnode_new(dir, &pn, name, ret);
}

int readdir_pids(struct vnode *dir, const struct pent *child, struct dirent_list *out)
{
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0;
	int r = scan_processes(&v, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "%d", v[i].vpid);
		r = dirent_list_add(out, pino(child, v[i].vpid, 0, -1), DT_DIR, name);
	}
	return r;
}

int lookup_tid(struct vnode *dir, const struct pent *child, const char *name,
		      struct vnode **ret)
{
	const struct pnode *pn = dir->priv;
	pid_t vtid, htid = 0;
	if (parse_id(name, &vtid) < 0 || vtid <= 0)
		return -ENOENT;
	if (current && current->vtid == vtid && current->proc && current->proc->tgid == pn->hpid)
		htid = current->tid;
	if (!htid || host_task_open(pn->hpid, htid, pn->vpid, vtid, NULL) < 0) {
		char path[HOSTPATH_MAX];
		snprintf(path, sizeof(path), "%d/task", pn->hpid);
		_cleanup_free_ struct pidpair *v = NULL;
		size_t n = 0;
		htid = 0;
		if (scan_ids(procfs_inst.hostproc, path, true, &v, &n) < 0)
			return -ENOENT;
		for (size_t i = 0; !htid && i < n; i++)
			if (v[i].vpid == vtid)
				htid = v[i].hpid;
		if (!htid)
			return -ENOENT;
	}
	struct pnode cpn = { .ent = child, .vpid = pn->vpid, .vtid = vtid, .hpid = pn->hpid,
			     .htid = htid, .fd = -1 };
	return pnode_new(dir, &cpn, name, ret);
}

int readdir_tids(struct vnode *dir, const struct pent *child, struct dirent_list *out)
{
	const struct pnode *pn = dir->priv;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "%d/task", pn->hpid);
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0;
	int r = scan_ids(procfs_inst.hostproc, path, true, &v, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "%d", v[i].vpid);
		r = dirent_list_add(out, pino(child, pn->vpid, v[i].vpid, -1), DT_DIR, name);
	}
	return r;
}

/* The ptrace platform's receiving socket is moat's, not the guest's. */
static bool is_moat_fd(const struct pctx *c, int fd)
{
	pid_t htid = c->pn->htid ? c->pn->htid : c->pn->hpid;
	return ptrace_fd_is_moat(c->pn->hpid, htid, fd);
}

int lookup_fd(struct vnode *dir, const struct pent *child, const char *name,
		     struct vnode **ret)
{
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int fd, r = pctx_init(dir, &c);
	if (r < 0)
		return r;
	char path[HOSTPATH_MAX];
	struct stat st;
	if (parse_id(name, &fd) < 0 || is_moat_code(&c) || is_moat_fd(&c, fd))
		return -ENOENT;
	snprintf(path, sizeof(path), "fd/%d", fd);
	if (fstatat(c.hdir, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -ENOENT;
	struct pnode pn = *c.pn;
	pn.ent = child;
	pn.fd = fd;
	return pnode_new(dir, &pn, name, ret);
}

int readdir_fds(struct vnode *dir, const struct pent *child, struct dirent_list *out)
{
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(dir, &c);
	if (r < 0 || is_moat_code(&c))
		return r;
	_cleanup_close_ int fd = openat(c.hdir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	if (!d)
		return neg_errno();
	fd = -1; /* the DIR owns it now */
	for (struct dirent *de; r == 0 && (de = readdir(d));) {
		int n;
		if (parse_id(de->d_name, &n) == 0 && !is_moat_fd(&c, n))
			r = dirent_list_add(out, pino(child, c.pn->vpid, c.pn->vtid, n),
					    vtype_to_dt(child->type), de->d_name);
	}
	return r;
}
