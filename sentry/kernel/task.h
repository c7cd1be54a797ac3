/* SPDX-License-Identifier: MIT */
/* Guest tasks as the sentry models them. A task is a host thread (tid);
 * tasks of one thread group share a struct proc; fs state (root, cwd, umask)
 * is shared as CLONE_FS says; credentials live here, never in the host.
 * All of it is protected by the sentry lock. */
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

struct proc {
	uint32_t refcnt;
	pid_t tgid;         /* host */
	pid_t vpid;         /* in the sandbox's pid namespace */
	int pidfd;          /* the leader's pidfd, watched before Linux 6.9, or -1 */
	char *exe;          /* sandbox path of the running executable */
	struct vnode *exe_vn;
	/* State for tasks created by this process whose first notification has
	 * not come yet, recorded by sys_clone at the clone: for a new process
	 * the fs state as it was then (a copy, or the same object with
	 * CLONE_FS), for a new thread likewise, and the creds. */
	struct fs_state *clone_fs;
	struct fs_state *thread_fs;
	struct cred *clone_cred;
};

struct task {
	pid_t tid;          /* host */
	pid_t vtid;         /* in the sandbox */
	int pidfd;          /* PIDFD_THREAD pidfd, watched for exit; -1 before Linux 6.9 */
	struct proc *proc;
	struct fs_state *fs;
	struct cred *cred;
	struct task *hnext; /* hash chain */
	/* exec in progress (set by the exec handler, see syscalls/sys_exec.c) */
	struct exec_state *exec;
};

/* The calling task of the request being handled (set by the dispatcher). */
extern _Thread_local struct task *current;

/* Find the task for a host tid, creating it (inheriting from its parent or
 * creator, see task.c) at its first notification. Returns NULL on failure
 * (the thread is gone). */
struct task *task_get(pid_t tid);
struct task *task_find(pid_t tid);           /* no creation */
struct proc *proc_find_vpid(pid_t vpid);     /* a known process by sandbox pid */
void task_exit(struct task *t);              /* its pidfd said it exited */
void proc_exit_tasks(struct proc *p);        /* its thread group is gone */
/* Iterate known processes (for procfs). */
void proc_foreach(void (*fn)(struct proc *p, void *ctx), void *ctx);

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
