/* SPDX-License-Identifier: MIT */
/* The task table. A task is registered by the clone, fork or vfork that made
 * it (task_register_child, from sys_clone, while the new task is stopped
 * before its first instruction): it takes its creator's creds and fs state,
 * never those of whatever process its PPid names (CLONE_PARENT names the
 * grandparent) or of a sibling thread. A notification from a tid nobody
 * registered is of unknown origin: the task is killed and audited. Exits
 * come from per-thread pidfds (the watch hook, sentry.c).
 *
 * Locking: the sentry lock protects everything here, reference counts
 * included (plain integers, never touched without the lock).
 *
 * Ownership:
 *  - task_tab holds the linked tasks by host tid, each proc lists its linked
 *    tasks (threads), proc_tab and vpid_tab the linked procs by host tgid
 *    and sandbox pid. A task is linked and watched (watch_hook) together,
 *    for one reference; task_exit() (the control thread, after removing the
 *    watch) unlinks it and drops that reference. If a new task takes the tid
 *    of one whose exit is still on its way, the old one is only unlinked:
 *    its watch still holds the reference until task_exit().
 *  - The dispatcher's task_get() returns a reference held for the whole
 *    handler, across any wait with the lock dropped; the handler's task may
 *    be unlinked meanwhile but is freed only by the last task_unref().
 *  - A task owns a reference on its proc, fs state and cred, dropped when the
 *    task is freed (not when it exits), so whatever a waiting handler reads
 *    through its task stays valid.
 *  - A proc stays linked while it has linked tasks; unlinked procs are never
 *    found again (their host pid may be recycled), and freed with the last
 *    task that points at them. The one exception: an exec from a non-leader
 *    thread may relink its proc for the leader's tid (task_exec_begin).
 *
 * Lock order: the sentry lock is the only lock here, and nothing here
 * drops it. sys_clone drops it while the platform follows the clone and
 * takes it again to register the new task (task_register_child). */
#include "sentry/kernel/task.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sched.h>
#include <signal.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "sentry/kernel/audit.h"
#include "common/util.h"
#include "sentry/kernel/flock.h"
#include "sentry/kernel/sentry.h"
#include "sentry/vfs/vfs.h"
#include "platform/platform.h"

_Thread_local struct task *current;

#define TASK_BUCKETS 1024
static struct task *task_tab[TASK_BUCKETS];   /* linked tasks by host tid */
static struct proc *proc_tab[TASK_BUCKETS];   /* linked procs by host tgid */
static struct proc *vpid_tab[TASK_BUCKETS];   /* linked procs by sandbox pid */
static struct fs_state *initial_fs;
static struct cred *initial_cred;
static struct fs_state *spawn_fs;   /* task_set_spawn */
static struct cred *spawn_cred;
static int (*watch_hook)(struct task *t);
static bool init_seen;              /* the sandbox's pid 1 has its task */
static struct task *exec_list;      /* task_exec_begin .. task_exec_end */

void task_set_watch_hook(int (*watch)(struct task *t))
{
	watch_hook = watch;
}

/* ---- fs_state and cred ------------------------------------------------- */

struct fs_state *fs_state_new(struct vnode *root, struct vnode *cwd, mode_t umask)
{
	struct fs_state *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->refcnt = 1;
	fs->root = vn_ref(root);
	fs->cwd = vn_ref(cwd);
	fs->umask = umask;
	return fs;
}

struct fs_state *fs_state_copy(const struct fs_state *fs)
{
	return fs_state_new(fs->root, fs->cwd, fs->umask);
}

struct fs_state *fs_state_ref(struct fs_state *fs)
{
	if (fs)
		fs->refcnt++;
	return fs;
}

void fs_state_unref(struct fs_state *fs)
{
	if (!fs || --fs->refcnt)
		return;
	vn_unref(fs->root);
	vn_unref(fs->cwd);
	free(fs);
}

void fs_state_set_cwd(struct fs_state *fs, struct vnode *cwd)
{
	struct vnode *old = fs->cwd;
	fs->cwd = vn_ref(cwd);
	vn_unref(old);
}

struct cred *cred_new(uid_t uid, gid_t gid)
{
	struct cred *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->refcnt = 1;
	c->ruid = c->euid = c->suid = c->fsuid = uid;
	c->rgid = c->egid = c->sgid = c->fsgid = gid;
	return c;
}

struct cred *cred_copy(const struct cred *c)
{
	struct cred *n = malloc(sizeof(*n));
	if (!n)
		return NULL;
	*n = *c;
	n->refcnt = 1;
	return n;
}

struct cred *cred_ref(struct cred *c)
{
	if (c)
		c->refcnt++;
	return c;
}

void cred_unref(struct cred *c)
{
	if (c && --c->refcnt == 0)
		free(c);
}

void task_set_initial(struct fs_state *fs, struct cred *cred)
{
	initial_fs = fs;
	initial_cred = cred;
}

struct vnode *task_init_root(void)
{
	if (!init_seen)
		return initial_fs ? initial_fs->root : NULL;
	struct task *init = task_find(sentry.init_pid);
	return init ? init->fs->root : NULL;
}

/* ---- procs ------------------------------------------------------------- */

static unsigned pid_hash(pid_t pid) { return (unsigned)pid % TASK_BUCKETS; }

static struct proc *proc_new(pid_t tgid, pid_t vpid, const struct proc *parent)
{
	struct proc *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	p->vpid = vpid;
	p->pidfd = -1;
	if (parent && parent->exe) {
		p->exe = strdup(parent->exe);
		p->exe_vn = vn_ref(parent->exe_vn);
	}
	if (parent) {
		p->arena = exec_arena_ref(parent->arena);
		p->nondumpable = parent->nondumpable;
	}
	p->linked = true;
	p->hnext = proc_tab[pid_hash(tgid)];
	proc_tab[pid_hash(tgid)] = p;
	p->vnext = vpid_tab[pid_hash(vpid)];
	vpid_tab[pid_hash(vpid)] = p;
	return p;
}

static void proc_unlink(struct proc *p)
{
	for (struct proc **pp = &proc_tab[pid_hash(p->tgid)]; *pp; pp = &(*pp)->hnext)
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	for (struct proc **pp = &vpid_tab[pid_hash(p->vpid)]; *pp; pp = &(*pp)->vnext)
		if (*pp == p) {
			*pp = p->vnext;
			break;
		}
	p->linked = false;
}

static void proc_relink(struct proc *p)
{
	if (p->linked)
		return;
	p->hnext = proc_tab[pid_hash(p->tgid)];
	proc_tab[pid_hash(p->tgid)] = p;
	p->vnext = vpid_tab[pid_hash(p->vpid)];
	vpid_tab[pid_hash(p->vpid)] = p;
	p->linked = true;
}

static void proc_unref(struct proc *p)
{
	if (--p->refcnt)
		return;
	if (p->linked)
		proc_unlink(p);
	vn_unref(p->exe_vn);
	free(p->exe);
	exec_arena_unref(p->arena);
	safe_close(p->pidfd);
	free(p);
}

struct proc *proc_find_vpid(pid_t vpid)
{
	for (struct proc *p = vpid_tab[pid_hash(vpid)]; p; p = p->vnext)
		if (p->vpid == vpid)
			return p;
	return NULL;
}

void proc_foreach(void (*fn)(struct proc *p, void *ctx), void *ctx)
{
	for (size_t i = 0; i < TASK_BUCKETS; i++)
		for (struct proc *p = proc_tab[i]; p; p = p->hnext)
			fn(p, ctx);
}

/* ---- tasks ------------------------------------------------------------- */

struct task *task_find(pid_t tid)
{
	for (struct task *t = task_tab[pid_hash(tid)]; t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct task *task_ref(struct task *t)
{
	if (t)
		t->refcnt++;
	return t;
}

void task_unref(struct task *t)
{
	if (!t || --t->refcnt)
		return;
	safe_close(t->pidfd);
	fs_state_unref(t->fs);
	cred_unref(t->cred);
	proc_unref(t->proc);
	free(t);
}

struct status_ids {
	pid_t tgid, ppid, nspid, nstgid;
};

static int read_status_ids(pid_t tid, struct status_ids *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_at(AT_FDCWD, path, &buf, 1 << 16);
	if (n < 0)
		return (int)n;
	struct status_ids ids = { 0 };
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(line, "Tgid:", 5))
			ids.tgid = atoi(line + 5);
		else if (!strncmp(line, "PPid:", 5))
			ids.ppid = atoi(line + 5);
		else if (!strncmp(line, "NSpid:", 6) || !strncmp(line, "NStgid:", 7)) {
			char *last = strrchr(line, '\t');
			pid_t v = last ? atoi(last + 1) : 0;
			if (line[2] == 'p')
				ids.nspid = v;
			else
				ids.nstgid = v;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!ids.tgid || !ids.nspid)
		return -ESRCH;
	*ret = ids;
	return 0;
}

/* The sandbox pid of a process just made, from its pidfd's fdinfo: a few
 * lines, where /proc/<tid>/status makes the kernel render fifty (memory
 * figures and all) for a pid it has not shown yet, about five times the
 * cost on a fork's path. pidfd_open() without PIDFD_THREAD takes only a
 * thread group leader, which proves that tid is its own Tgid. */
static int read_new_nspid(pid_t tid, pid_t *ret)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (pfd < 0)
		return -ESRCH;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pfd);
	_cleanup_free_ char *buf = NULL;
	if (read_file_at(AT_FDCWD, path, &buf, 4096) < 0)
		return -ESRCH;
	const char *line = strstr(buf, "\nNSpid:");
	const char *last = line ? strrchr(line + 1, '\t') : NULL;
	const char *end = line ? strchr(line + 1, '\n') : NULL;
	if (!last || (end && last > end))
		return -ESRCH;
	pid_t v = atoi(last + 1);
	if (v <= 0)
		return -ESRCH; /* gone already (the kernel shows -1) */
	*ret = v;
	return 0;
}

static void task_link(struct task *t)
{
	t->hnext = task_tab[pid_hash(t->tid)];
	task_tab[pid_hash(t->tid)] = t;
	t->pnext = t->proc->threads;
	t->proc->threads = t;
	t->linked = true;
	t->refcnt++;
}

/* Forget t for lookups; the caller drops the link's reference. */
static void task_unlink(struct task *t)
{
	for (struct task **pp = &task_tab[pid_hash(t->tid)]; *pp; pp = &(*pp)->hnext)
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	struct proc *p = t->proc;
	for (struct task **pp = &p->threads; *pp; pp = &(*pp)->pnext)
		if (*pp == t) {
			*pp = t->pnext;
			break;
		}
	t->linked = false;
	if (!p->threads && p->linked)
		proc_unlink(p);
}

/* A new task for tid in proc p (a reference taken) with the given state
 * (references taken), linked and watched. Returns it, borrowed, or NULL. */
static struct task *task_new(pid_t tid, pid_t vtid, struct proc *p, struct fs_state *fs,
			     struct cred *cred)
{
	struct task *old = task_find(tid);
	if (old && old->pidfd >= 0)
		task_unlink(old); /* a recycled tid whose exit is still on its way */
	else if (old)
		task_exit(old); /* watched through its process: no event of its own */
	struct task *t = calloc(1, sizeof(*t));
	if (!t || !fs) {
		free(t);
		fs_state_unref(fs);
		return NULL;
	}
	t->refcnt = 1; /* ours, until linked */
	t->tid = tid;
	t->vtid = vtid;
	t->pidfd = -1;
	t->proc = p;
	p->refcnt++;
	t->fs = fs;
	t->cred = cred_ref(cred);
	proc_relink(p);
	task_link(t);
	int r = watch_hook ? watch_hook(t) : 0;
	if (r < 0)
		task_exit(t); /* already gone: forget it again */
	task_unref(t);
	return r < 0 ? NULL : t;
}

int task_register_child(struct task *creator, pid_t tid, uint64_t flags)
{
	struct status_ids ids = { 0 };
	int r;
	if (flags & CLONE_THREAD) {
		r = read_status_ids(tid, &ids); /* its Tgid is checked below */
	} else if ((r = read_new_nspid(tid, &ids.nspid)) == 0) {
		ids.tgid = tid;
		ids.nstgid = ids.nspid;
	}
	if (r < 0)
		return r;
	struct fs_state *fs = (flags & CLONE_FS) ? fs_state_ref(creator->fs)
						 : fs_state_copy(creator->fs);
	struct cred *cred = creator->cred;
	struct proc *p = creator->proc;
	bool spawned = false;
	/* A process pid 1 forks for `moat exec`: the identity and
	 * directories the exec asked for, never pid 1's. Taken once. */
	if (spawn_fs && !(flags & (CLONE_THREAD | CLONE_FS | CLONE_VM)) && p->vpid == 1) {
		fs_state_unref(fs);
		fs = fs_state_copy(spawn_fs);
		cred = spawn_cred;
		spawned = true;
		if (!fs)
			return -ENOMEM;
	}
	if (flags & CLONE_THREAD) {
		if (!p->linked || ids.tgid != p->tgid) {
			fs_state_unref(fs);
			return -ESRCH; /* its thread group is on its way out */
		}
	} else {
		p = proc_new(ids.tgid, ids.nstgid ? ids.nstgid : ids.nspid, creator->proc);
		if (!p) {
			fs_state_unref(fs);
			return -ENOMEM;
		}
		p->mm_shared = flags & CLONE_VM;
		p->refcnt++; /* held across task_new */
	}
	struct task *t = task_new(tid, ids.nspid, p, fs, cred);
	if (spawned) {
		fs_state_unref(spawn_fs);
		cred_unref(spawn_cred);
		spawn_fs = NULL;
		spawn_cred = NULL;
	}
	if (!(flags & CLONE_THREAD))
		proc_unref(p);
	return t ? 0 : -ESRCH;
}

void task_set_spawn(struct fs_state *fs, struct cred *cred)
{
	if (spawn_fs)
		fs_state_unref(spawn_fs);
	if (spawn_cred)
		cred_unref(spawn_cred);
	spawn_fs = fs ? fs_state_ref(fs) : NULL;
	spawn_cred = cred ? cred_ref(cred) : NULL;
}

void task_exec_begin(struct task *t)
{
	t->exec_next = exec_list;
	exec_list = task_ref(t);
}

/* The leader's tid after an exec from t: give it t's state. */
static struct task *exec_takeover(struct task *t)
{
	pid_t tgid = t->proc->tgid;
	struct task *leader = task_find(tgid);
	if (!leader)
		return task_new(tgid, t->proc->vpid, t->proc, fs_state_ref(t->fs), t->cred);
	if (leader != t) {
		struct cred *oc = leader->cred;
		struct fs_state *ofs = leader->fs;
		leader->cred = cred_ref(t->cred);
		leader->fs = fs_state_ref(t->fs);
		cred_unref(oc);
		fs_state_unref(ofs);
	}
	return leader;
}

void task_exec_end(struct task *t, bool ok)
{
	for (struct task **pp = &exec_list; *pp; pp = &(*pp)->exec_next)
		if (*pp == t) {
			*pp = t->exec_next;
			if (ok)
				(void)exec_takeover(t);
			task_unref(t);
			return;
		}
}

static void kill_unknown(pid_t tid)
{
	char s[16];
	snprintf(s, sizeof(s), "%d", tid);
	log_debug("task %d of unknown origin: killed", tid);
	audit_event("kill", audit_fields("reason", "task of unknown origin", "tid", s, NULL));
	(void)kill(tid, SIGKILL); /* a thread id: the whole process */
}

struct task *task_get(pid_t tid)
{
	struct task *t = task_find(tid);
	if (t)
		return task_ref(t);
	/* An exec from a non-leader thread, seen on the leader's tid before
	 * the exec handler could hand it over. */
	for (struct task *e = exec_list; e; e = e->exec_next)
		if (e->proc->tgid == tid)
			return task_ref(exec_takeover(e));
	if (!init_seen && tid == sentry.init_pid && initial_fs) {
		struct status_ids ids = { 0 };
		if (read_status_ids(tid, &ids) < 0)
			return NULL;
		struct proc *p = proc_new(tid, ids.nstgid ? ids.nstgid : ids.nspid, NULL);
		if (!p)
			return NULL;
		p->refcnt++;
		t = task_new(tid, ids.nspid, p, fs_state_copy(initial_fs), initial_cred);
		proc_unref(p);
		init_seen = t != NULL;
		return task_ref(t);
	}
	kill_unknown(tid);
	return NULL;
}

void task_exit(struct task *t)
{
	/* Already unlinked if a new thread took its tid first (task_new). */
	if (t->linked)
		task_unlink(t);
	/* POSIX locks go with their process (flock.c checks it is gone). */
	flock_task_exit(t->proc->tgid);
	task_unref(t);
}

void proc_exit_tasks(struct proc *p)
{
	/* The last task_exit may free p: hold it while its list empties. */
	p->refcnt++;
	while (p->threads)
		task_exit(p->threads);
	proc_unref(p);
}
