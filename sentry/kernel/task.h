/* SPDX-License-Identifier: MIT */
/* Guest tasks as the sentry models them. A task is a host thread (tid);
 * tasks of one thread group share a struct proc; fs state (root, cwd, umask)
 * is shared as CLONE_FS says; credentials live here, never in the host.
 *
 * Locking: all of it, reference counts included, is protected by the sentry
 * lock (sentry.h); nothing here takes another lock or sleeps.
 *
 * Lifetimes (see task.c for the details):
 *  - a task is reference counted: one reference while it is linked (found
 *    by task_find, listed in its proc, watched by its pidfd), one per
 *    in-flight handler (task_get .. task_unref). Its exit only unlinks it, so
 *    a handler that dropped the sentry lock to wait still finds its task,
 *    its proc, fs state and creds valid when it takes the lock again;
 *  - a task holds one reference on each of its proc, fs state and cred;
 *  - a proc is linked (found by tgid or sandbox pid) while it has a linked
 *    task, so a recycled host pid never finds a dead process;
 *  - creds are shared copy-on-write and never change once shared; fs state
 *    is shared under CLONE_FS and changed in place. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vnode;

struct cred {
	uint32_t refcnt;
	uid_t ruid, euid, suid, fsuid;
	gid_t rgid, egid, sgid, fsgid;
	int ngroups;
	gid_t groups[32];
};

struct fs_state {
	uint32_t refcnt;
	struct vnode *root; /* reference */
	struct vnode *cwd;  /* reference */
	mode_t umask;
};

struct task;

struct proc {
	uint32_t refcnt;    /* one per task, linked or not */
	bool linked;
	pid_t tgid;         /* host */
	pid_t vpid;         /* in the sandbox's pid namespace */
	int pidfd;          /* the leader's pidfd, watched before Linux 6.9, or -1 */
	char *exe;          /* sandbox path of the running executable */
	struct vnode *exe_vn;
	struct task *threads; /* its linked tasks (task.pnext) */
	/* The exec arena its memory has (platform.h), inherited from the
	 * process that made it, dropped by its exec; tries counts failed
	 * attempts to map one. */
	struct exec_arena *arena;
	uint8_t arena_tries;
	bool mm_shared;     /* made with CLONE_VM (vfork), until its exec */
	/* prctl(PR_SET_DUMPABLE, 0), kept here and never done on the host
	 * process: the sentry would lose sight of it (its /proc/<pid>/ns/pid
	 * needs ptrace access), so the guest could neither see nor signal it.
	 * Inherited by fork, cleared by exec, as the kernel's flag. */
	bool nondumpable;
	/* The signals a full /proc read last showed it catching or ignoring
	 * (syscalls/sys_signal.c: a hint for kill, never a permission);
	 * forgotten by exec, which resets caught signals. */
	uint64_t sig_handled;
	bool sig_handled_known;
	struct proc *hnext;   /* tgid hash chain */
	struct proc *vnext;   /* sandbox pid hash chain */
};

struct task {
	uint32_t refcnt;    /* see the top of this file */
	bool linked;
	pid_t tid;          /* host */
	pid_t vtid;         /* in the sandbox */
	int pidfd;          /* PIDFD_THREAD pidfd, watched for exit; -1 before Linux 6.9 */
	struct proc *proc;
	struct fs_state *fs;
	struct cred *cred;
	struct task *hnext; /* tid hash chain */
	struct task *pnext; /* the proc's thread list */
	/* exec in progress (set by the exec handler, see syscalls/sys_exec.c) */
	struct exec_state *exec;
	struct task *exec_next; /* task_exec_begin's list */
	/* Its clone, followed by a tracer, restarts: CONTINUE the next one
	 * (syscalls/sys_proc.c). */
	bool clone_armed;
};

/* The calling task of the request being handled (set by the dispatcher). */
extern _Thread_local struct task *current;

/* Find the task for a host tid and take a reference for the caller
 * (task_unref when done). Every task is registered by the call that created
 * it (task_register_child); the only other ones are the sandbox's pid 1 and
 * a leader tid taken over by an exec (task_exec_begin). A task of unknown
 * origin is killed and audited. Returns NULL when there is no task to serve. */
struct task *task_get(pid_t tid);
/* Register the task `tid` that `creator` just made with clone `flags`: a new
 * thread (CLONE_THREAD) or process, the creator's creds, its fs state shared
 * (CLONE_FS) or copied. Called while the new task is stopped before its
 * first instruction. Returns 0 or -errno. */
int task_register_child(struct task *creator, pid_t tid, uint64_t flags);
/* An exec from a non-leader thread completes on the leader's tid: between
 * these, a first notification of the leader's tid takes t's state, and a
 * successful exec (ok) gives it to the leader's task. */
void task_exec_begin(struct task *t);
void task_exec_end(struct task *t, bool ok);
struct task *task_ref(struct task *t);
void task_unref(struct task *t);
struct task *task_find(pid_t tid);           /* a linked task; no reference taken */
struct proc *proc_find_vpid(pid_t vpid);     /* a linked process by sandbox pid */
/* Its pidfd said it exited: unlink it (if a new task did not take its tid
 * already) and drop the reference of the link. Handlers still holding it
 * keep a valid struct. */
void task_exit(struct task *t);
/* Its thread group is gone (the process's pidfd, before Linux 6.9):
 * task_exit for each of its linked tasks. */
void proc_exit_tasks(struct proc *p);
/* How the sentry learns of a task's exit: called once for each new task;
 * returns 0 or -errno (the task is already gone). Registered by the sentry's
 * event loop (sentry.c). */
void task_set_watch_hook(int (*watch)(struct task *t));
/* Iterate known processes (for procfs). */
void proc_foreach(void (*fn)(struct proc *p, void *ctx), void *ctx);

/* The root of the sandbox's pid 1 (for `moat exec`): its task's, or the
 * initial one while pid 1 has made no notified call yet (a `moat exec`
 * can come right after `moat run -d` returns); NULL once pid 1 is gone.
 * No reference: for use under the sentry lock. */
struct vnode *task_init_root(void);

struct fs_state *fs_state_new(struct vnode *root, struct vnode *cwd, mode_t umask);
struct fs_state *fs_state_copy(const struct fs_state *fs);
struct fs_state *fs_state_ref(struct fs_state *fs);
void fs_state_unref(struct fs_state *fs);
void fs_state_set_cwd(struct fs_state *fs, struct vnode *cwd); /* takes a new ref */

struct cred *cred_new(uid_t uid, gid_t gid);
struct cred *cred_copy(const struct cred *c);
struct cred *cred_ref(struct cred *c);
void cred_unref(struct cred *c);
static inline bool cred_is_root(const struct cred *c) { return c->fsuid == 0; }

/* The initial state for the sandbox's first task (from the config). */
void task_set_initial(struct fs_state *fs, struct cred *cred);
/* `moat exec` (sentry/sandbox/execsrv.c): the next process the sandbox's
 * pid 1 creates takes fs and cred (references taken) instead of pid 1's
 * own. One at a time: set before asking pid 1 to fork, cleared (NULL,
 * NULL) once it answered, whether or not its fork consumed it. */
void task_set_spawn(struct fs_state *fs, struct cred *cred);
