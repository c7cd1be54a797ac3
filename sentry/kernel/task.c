/* SPDX-License-Identifier: MIT */
/* The task table. A task is created at its first notification: a thread joins
 * its thread group's proc; a new process inherits from its parent the state
 * the parent had when it called clone/fork (proc->clone_fs/clone_cred, set by
 * sys_clone), so a parent that chdirs right after fork does not leak its new
 * cwd into the child. Exits come from per-thread pidfds (sentry.c). */
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
static struct task *task_tab[TASK_BUCKETS];
struct proc_node {
	struct proc *p;
	struct proc_node *next;
};
static struct proc_node *proc_tab[TASK_BUCKETS];
static struct fs_state *initial_fs;
static struct cred *initial_cred;

int sentry_watch_task(struct task *t); /* sentry.c */

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

static struct proc *proc_find(pid_t tgid)
{
	for (struct proc_node *n = proc_tab[tgid % TASK_BUCKETS]; n; n = n->next)
		if (n->p->tgid == tgid)
			return n->p;
	return NULL;
}

static struct proc *proc_new(pid_t tgid, pid_t vpid, const struct proc *parent)
{
	struct proc *p = calloc(1, sizeof(*p));
	struct proc_node *n = malloc(sizeof(*n));
	if (!p || !n) {
		free(p);
		free(n);
		return NULL;
	}
	p->tgid = tgid;
	p->vpid = vpid;
	p->pidfd = -1;
	if (parent && parent->exe) {
		p->exe = strdup(parent->exe);
		p->exe_vn = vn_ref(parent->exe_vn);
	}
	n->p = p;
	n->next = proc_tab[tgid % TASK_BUCKETS];
	proc_tab[tgid % TASK_BUCKETS] = n;
	return p;
}

static void proc_unref(struct proc *p)
{
	if (--p->refcnt)
		return;
	for (struct proc_node **pp = &proc_tab[p->tgid % TASK_BUCKETS]; *pp; pp = &(*pp)->next)
		if ((*pp)->p == p) {
			struct proc_node *n = *pp;
			*pp = n->next;
			free(n);
			break;
		}
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
	for (size_t i = 0; i < TASK_BUCKETS; i++)
		for (struct proc_node *n = proc_tab[i]; n; n = n->next)
			if (n->p->vpid == vpid)
				return n->p;
	return NULL;
}

void proc_foreach(void (*fn)(struct proc *p, void *ctx), void *ctx)
{
	for (size_t i = 0; i < TASK_BUCKETS; i++)
		for (struct proc_node *n = proc_tab[i]; n; n = n->next)
			fn(n->p, ctx);
}

/* ---- tasks ------------------------------------------------------------- */

struct task *task_find(pid_t tid)
{
	for (struct task *t = task_tab[tid % TASK_BUCKETS]; t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

static struct task *any_task_of(struct proc *p)
{
	for (size_t i = 0; i < TASK_BUCKETS; i++)
		for (struct task *t = task_tab[i]; t; t = t->hnext)
			if (t->proc == p)
				return t;
	return NULL;
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

static void task_insert(struct task *t)
{
	t->hnext = task_tab[t->tid % TASK_BUCKETS];
	task_tab[t->tid % TASK_BUCKETS] = t;
}

struct task *task_get(pid_t tid)
{
	struct task *t = task_find(tid);
	if (t)
		return t;
	struct status_ids ids = { 0 };
	if (read_status_ids(tid, &ids) < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
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
	if (!t->fs) {
		free(t);
		return NULL;
	}
	p->refcnt++;
	t->proc = p;
	task_insert(t);
	if (sentry_watch_task(t) < 0) {
		/* Already gone: forget it again. */
		task_exit(t);
		return NULL;
	}
	return t;
}

void task_exit(struct task *t)
{
	for (struct task **pp = &task_tab[t->tid % TASK_BUCKETS]; *pp; pp = &(*pp)->hnext)
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	if (current == t)
		current = NULL;
	safe_close(t->pidfd);
	fs_state_unref(t->fs);
	cred_unref(t->cred);
	proc_unref(t->proc);
	free(t);
}

void proc_exit_tasks(struct proc *p)
{
	/* task_exit may free p with its last task: only compare the pointer. */
	for (size_t i = 0; i < TASK_BUCKETS; i++)
		for (struct task **pp = &task_tab[i]; *pp;) {
			struct task *t = *pp;
			if (t->proc == p)
				task_exit(t); /* unlinks t: *pp is the next one */
			else
				pp = &t->hnext;
		}
}
