/* SPDX-License-Identifier: MIT */
/* The ptrace platform's insides (ptrace_tracer.c, ptrace_reply.c), internal
 * to platform/. One tracer thread traces every guest task from birth and is
 * the only thread that makes ptrace requests (the kernel accepts them only
 * from the tracing thread). It runs the handlers that never wait for the
 * guest itself; workers run the others, and whatever must touch a tracee
 * they send to the tracer as a command, which runs there, in order, while
 * the tracee waits in its stop. */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "platform/platform.h"
#include "platform/ptrace_inject.h"

/* A traced task, as the tracer knows it. Owned by the tracer thread; the
 * table lock guards lookups from workers (ptrace_req_valid). */
struct ptracee {
	pid_t tid;
	pid_t tgid;             /* 0 until needed (ptracee_tgid) */
	uint64_t id;            /* the request it is stopped in, or 0 */
	struct user_regs_struct regs; /* at that request's seccomp stop */
	/* A new task: kept in its first stop until its creator's handler
	 * registered it (released). */
	bool held, released, start_seen;
	/* In a group-stop, held there with PTRACE_LISTEN (tlock). */
	bool listening;
	/* Its clone, fork or vfork runs with the tracer watching: the
	 * handler waits in follow for the new tid or the call's end. */
	struct ptrace_follow *follow;
	/* Co-location (ptrace_tracer.c, colocate): the CPU it is pinned to,
	 * or -1, and the mask it had, which the guest keeps seeing. */
	int pin_cpu;
	cpu_set_t guest_mask;
	uint64_t last_stop_ns; /* its last seccomp stop, CLOCK_MONOTONIC */
	struct ptracee *next;
};

struct ptrace_follow {
	pid_t child;            /* > 0: made (the creator waits at its event) */
	int result;             /* 0, or -ESRCH: the creator is gone */
	bool done;
};

/* Run fn(t, arg) on the tracer thread while r's task waits in r's stop;
 * returns fn's result, or -ENOENT if the task has left that stop (killed).
 * fn may resume the task: it then clears t->id. */
int ptrace_call(struct sysreq *r, int (*fn)(struct ptracee *t, void *arg), void *arg);
/* The same without waiting for it (an answer whose outcome nobody needs):
 * fn gets a pointer to a copy of val. 0, or -ENOENT if the guest is gone. */
int ptrace_post(struct sysreq *r, int (*fn)(struct ptracee *t, void *arg), long val);
/* The same by tid; id 0 runs fn whatever the task does (t may then be
 * NULL: the task is gone). */
int ptrace_call_tid(pid_t tid, uint64_t id, int (*fn)(struct ptracee *t, void *arg), void *arg);
/* Wait (a worker) until the tracer has filled in f. */
void ptrace_follow_wait(struct ptrace_follow *f);

/* On the tracer thread only. */
struct ptracee *ptracee_find(pid_t tid);
/* A task the tracer now knows as held (a new one whose first stop may
 * come before or after this). */
struct ptracee *ptracee_add_held(pid_t tid, pid_t tgid);
void ptracee_forget(struct ptracee *t);
/* Re-key t (an exec from a non-leader thread completes on the leader's
 * tid; the leader is gone without a report). */
void ptracee_rekey(struct ptracee *t, pid_t tid);
pid_t ptracee_tgid(struct ptracee *t);
/* Let a held task go once it has reached its first stop. */
void ptracee_release(struct ptracee *t);
/* For ptrace_inject.c: wait for tr's next stop, keeping the other tasks'
 * stops for the main loop. */
pid_t ptrace_wait_for(struct tracee *tr, int *status);
/* The tracee, stopped at its seccomp stop, skips the call and stops right
 * after it with every blockable signal blocked (the guest's mask in
 * *ret_mask): the state ptrace_inject.c's calls start from. 0 or -ESRCH. */
int ptrace_skip_call(struct ptracee *t, struct tracee *tr, uint64_t *ret_mask);
/* Install host fd `fd` in the stopped tracee (ptrace_fd.c); the guest's fd
 * number or -errno (-ESRCH: gone). */
int ptrace_install_fd(struct tracee *tr, const struct user_regs_struct *saved, int fd,
		      bool cloexec);
/* The same from t's seccomp stop: the trapped call is replaced by the
 * first of the installing calls, with every blockable signal blocked (the
 * guest's mask in *ret_mask); afterwards t is stopped right after the call,
 * as after ptrace_skip_call. */
/* The receiving sockets of ptrace_fd.c: tgid made a task (child_tgid; its
 * own tgid for a thread) that has a copy of its fd table unless
 * files_shared (CLONE_FILES); tgid is gone. */
void ptrace_rx_cloned(pid_t tgid, pid_t child_tgid, bool files_shared);
void ptrace_rx_forget(pid_t tgid);
int ptrace_install_fd_at_entry(struct ptracee *t, struct tracee *tr, uint64_t *ret_mask, int fd,
			       bool cloexec);
/* The one-stop way, from t's seccomp stop: t is resumed in a recvmsg whose
 * result is the number the fd gets. That number, -EMFILE (none free below
 * its RLIMIT_NOFILE: nothing done), -ESRCH (gone) or -EAGAIN (not
 * possible here: use ptrace_install_fd_at_entry). */
int ptrace_install_fd_fast(struct ptracee *t, struct tracee *tr, int fd, bool cloexec);
/* The platform ops that answer a request (ptrace_reply.c); the table that
 * names them is ptrace_tracer.c's. */
int ptrace_op_reply(struct sysreq *r, long val);
int ptrace_op_continue(struct sysreq *r);
int ptrace_op_reply_fd(struct sysreq *r, int fd, bool cloexec);
int ptrace_op_reply_fd_at(struct sysreq *r, int fd, int target, bool cloexec, long val);
int ptrace_op_restart(struct sysreq *r);
int ptrace_op_follow_clone(struct sysreq *r, const struct clone_follow *f);
int ptrace_op_exec(struct sysreq *r, struct exec_image *img);
void ptrace_unpin(pid_t tid);
bool ptrace_guest_affinity(pid_t tid, cpu_set_t *mask);
void ptrace_op_done(struct sysreq *r);
