/* SPDX-License-Identifier: MIT */
/* clone, fork, vfork: the kernel does the clone (the decision rests on the
 * flags register alone, so CONTINUE is safe; namespace flags never get this
 * far, the filter answers EPERM), and the platform follows the call to the
 * task it creates (req_follow_clone), which is registered with its
 * creator's creds and fs state before it runs. So CLONE_PARENT is
 * emulated exactly: the child's creds are its creator's whatever its PPid.
 * Also the audited denial used for refused syscalls. */
#include <errno.h>
#include <json-c/json.h>
#include <linux/prctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>

#include "sentry/kernel/audit.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/trace.h"
#include "syscalls/handlers.h"
#include "syscalls/table.h"

struct clone_ctx {
	struct task *creator; /* the handler's reference */
	uint64_t flags;
	struct exec_arena *arena;
	struct sysreq *req;
};

/* Runs without the sentry lock, while the new task is stopped. */
static int clone_register(void *ctx, pid_t tid)
{
	struct clone_ctx *c = ctx;
	sentry_lock();
	int r = task_register_child(c->creator, tid, c->flags);
	struct task *child = r < 0 || !trace_active ? NULL : task_find(tid);
	if (child)
		req_note_result(c->req, child->vtid); /* what the creator gets */
	sentry_unlock();
	return r;
}

/* The creator's memory has the arena now (before the new task is made). */
static void clone_arena_mapped(void *ctx)
{
	struct clone_ctx *c = ctx;
	sentry_lock();
	struct proc *p = c->creator->proc;
	exec_arena_unref(p->arena);
	p->arena = exec_arena_ref(c->arena);
	sentry_unlock();
}

/* Whether the creator's process should get an arena with this call: it
 * makes a process (which will exec, most likely) and has none. An arena
 * costs a memfd handed over and two injected calls once, and saves each exec
 * of the process and of what it forks a memfd, an ADDFD and an injected mmap.
 * The caller makes it once the sentry lock is dropped. */
static bool wants_arena(struct task *t, uint64_t flags)
{
	struct proc *p = t->proc;
	if ((flags & CLONE_THREAD) || p->arena || p->arena_tries >= 2)
		return false;
	p->arena_tries++;
	return true;
}

static void clone_arm(void *ctx, bool on)
{
	struct clone_ctx *c = ctx;
	sentry_lock();
	c->creator->clone_armed = on;
	sentry_unlock();
}

long sys_clone(struct sysreq *r)
{
	struct task *t = r->task;
	uint64_t flags;
	switch (r->nr) {
	case SYS_fork:
		flags = SIGCHLD;
		break;
	case SYS_vfork:
		flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
		break;
	default:
		flags = r->args[0];
		break;
	}
	if (t->clone_armed) {
		/* The restart of a call this task's tracer follows: the thread
		 * ran no code since its registers were checked. */
		t->clone_armed = false;
		return SYSRET_CONTINUE;
	}
	/* A task made with CLONE_UNTRACED could not be followed. */
	if (flags & CLONE_UNTRACED)
		return -EPERM;
	bool arena = wants_arena(t, flags);
	sentry_unlock();
	struct clone_ctx c = { .creator = t, .flags = flags,
			       .arena = arena ? exec_arena_new() : NULL, .req = r };
	struct clone_follow f = {
		.on_child = clone_register, .arm = clone_arm,
		.arena = c.arena, .arena_mapped = clone_arena_mapped, .ctx = &c,
	};
	int rc = req_follow_clone(r, &f);
	exec_arena_unref(c.arena);
	sentry_lock();
	if (r->replied)
		return SYSRET_DONE;
	/* Nothing ran: the creator is gone, or cannot be followed (refuse). */
	return rc == -ESRCH ? SYSRET_DONE : -EAGAIN;
}

/* sched_getaffinity, sched_setaffinity: the kernel's answer (the decision
 * rests on registers: a pid of the guest's own namespace), once the
 * platform has given back what it changed of the tasks' affinity (the
 * ptrace platform pins a task that stops often to its tracer's CPU), so
 * that the guest sees and changes its own masks: the caller's alone when
 * it names itself, else every task's (the pid is the guest's number).
 * The lock is dropped meanwhile: that may wait for the ptrace tracer. */
long sys_sched_affinity(struct sysreq *r)
{
	pid_t pid = (pid_t)r->args[0];
	bool self = pid == 0 || (r->task && pid == r->task->vtid);
	sentry_unlock();
	req_unpin(self ? r->tid : 0);
	sentry_lock();
	return SYSRET_CONTINUE;
}

long sys_deny(struct sysreq *r)
{
	const struct sys_entry *e = r->entry;
	int err = e && e->err ? e->err : ENOSYS;
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "syscall", json_object_new_string(sys_name(r->nr)));
	json_object_object_add(f, "nr", json_object_new_int(r->nr));
	json_object_object_add(f, "pid", json_object_new_int(r->task ? r->task->vtid : 0));
	struct json_object *args = json_object_new_array();
	for (int i = 0; i < 6; i++)
		json_object_array_add(args, json_object_new_uint64(r->args[i]));
	json_object_object_add(f, "args", args);
	json_object_object_add(f, "errno", json_object_new_int(err));
	audit_event("deny", f);
	return -err;
}

/* prctl(PR_GET_DUMPABLE) and prctl(PR_SET_DUMPABLE): the sandbox's flag
 * (struct proc), the host process left dumpable (see task.h). What the
 * flag guards inside the sandbox, another user's look at the process's
 * private /proc files, procfs checks with it (may_inspect). */
long sys_prctl_dumpable(struct sysreq *r)
{
	struct proc *p = r->task->proc;
	if ((int)r->args[0] == PR_GET_DUMPABLE)
		return p->nondumpable ? 0 : 1;
	/* As the kernel: 0 or 1 (SUID_DUMP_DISABLE, SUID_DUMP_USER). */
	if (r->args[1] > 1)
		return -EINVAL;
	p->nondumpable = r->args[1] == 0;
	return 0;
}
