/* SPDX-License-Identifier: MIT */
/* The task table. A task is created at its first notification: a thread joins
 * its thread group's proc; a new process inherits from its parent the state
 * the parent had when it called clone/fork (proc->clone_fs/clone_cred, set by
 * sys_clone), so a parent that chdirs right after fork does not leak its new
 * cwd into the child. Exits come from per-thread pidfds (sentry.c).
 *
 * Locking: the sentry lock protects everything here, reference counts
 * included (plain integers, never touched without the lock).
 *
 * Ownership:
 *  - task_tab holds the linked tasks by host tid, each proc lists its linked
 *    tasks (threads), proc_tab and vpid_tab the linked procs by host tgid
 *    and sandbox pid. Being linked is worth one reference on the task; the
 *    watch registered through watch_hook points at a linked task, and
 *    task_exit() (the control thread, after removing the watch) unlinks it
 *    and drops that reference.
 *  - The dispatcher's task_get() returns a reference held for the whole
 *    handler, across any wait with the lock dropped; the handler's task may
 *    be unlinked meanwhile but is freed only by the last task_unref().
 *  - A task owns a reference on its proc, fs state and cred, dropped when the
 *    task is freed (not when it exits), so whatever a waiting handler reads
 *    through its task stays valid.
 *  - A proc stays linked while it has linked tasks; unlinked procs are never
 *    found again (their host pid may be recycled), and freed with the last
 *    task that points at them. */
#include "sentry/kernel/task.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/sentry.h"
#include "sentry/vfs/vfs.h"

_Thread_local struct task *current;

#define TASK_BUCKETS 1024
static struct task *task_tab[TASK_BUCKETS];   /* linked tasks by host tid */
static struct proc *proc_tab[TASK_BUCKETS];   /* linked procs by host tgid */
static struct proc *vpid_tab[TASK_BUCKETS];   /* linked procs by sandbox pid */
static struct fs_state *initial_fs;
static struct cred *initial_cred;
static int (*watch_hook)(struct task *t);

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

/* ---- procs ------------------------------------------------------------- */

static unsigned pid_hash(pid_t pid) { return (unsigned)pid % TASK_BUCKETS; }

static struct proc *proc_find(pid_t tgid)
{
	for (struct proc *p = proc_tab[pid_hash(tgid)]; p; p = p->hnext)
		if (p->tgid == tgid)
			return p;
	return NULL;
}

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

static void proc_unref(struct proc *p)
{
	if (--p->refcnt)
		return;
	if (p->linked)
		proc_unlink(p);
	fs_state_unref(p->clone_fs);
	fs_state_unref(p->thread_fs);
	cred_unref(p->clone_cred);
	vn_unref(p->exe_vn);
	free(p->exe);
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

static struct task *any_task_of(struct proc *p)
{
	return p->threads;
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

struct task *task_get(pid_t tid)
{
	struct task *t = task_find(tid);
	if (t)
		return task_ref(t);
	struct status_ids ids = { 0 };
	if (read_status_ids(tid, &ids) < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->refcnt = 1; /* the caller's */
	t->tid = tid;
	t->vtid = ids.nspid;
	t->pidfd = -1;
	struct proc *p = proc_find(ids.tgid);
	if (p && ids.tgid != tid) {
		/* A new thread of a known process. */
		struct task *sib = any_task_of(p);
		t->fs = fs_state_ref(p->thread_fs ? p->thread_fs : sib ? sib->fs : initial_fs);
		t->cred = cred_ref(sib ? sib->cred : p->clone_cred ? p->clone_cred : initial_cred);
	} else if (!p) {
		struct proc *parent = proc_find(ids.ppid);
		p = proc_new(ids.tgid, ids.nstgid ? ids.nstgid : ids.nspid, parent);
		if (!p) {
			free(t);
			return NULL;
		}
		if (parent) {
			struct task *pt = any_task_of(parent);
			struct fs_state *fs = parent->clone_fs ? parent->clone_fs : pt ? pt->fs : initial_fs;
			/* clone_fs was already copied or shared per CLONE_FS at clone time. */
			t->fs = parent->clone_fs ? fs_state_ref(fs) : fs_state_copy(fs);
			t->cred = cred_ref(parent->clone_cred ? parent->clone_cred
					   : pt ? pt->cred : initial_cred);
		} else {
			t->fs = fs_state_copy(initial_fs);
			t->cred = cred_ref(initial_cred);
		}
	} else {
		/* The leader itself, seen after one of its threads (or after exec). */
		struct task *sib = any_task_of(p);
		t->fs = fs_state_ref(sib ? sib->fs : initial_fs);
		t->cred = cred_ref(sib ? sib->cred : initial_cred);
	}
	p->refcnt++;
	t->proc = p;
	if (!t->fs) {
		task_unref(t);
		return NULL;
	}
	task_link(t);
	if (watch_hook && watch_hook(t) < 0) {
		/* Already gone: forget it again. */
		task_exit(t);
		task_unref(t);
		return NULL;
	}
	return t;
}

void task_exit(struct task *t)
{
	if (!t->linked)
		return;
	task_unlink(t);
	task_unref(t);
}
