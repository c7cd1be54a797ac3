/* SPDX-License-Identifier: MIT */
/* The dispatcher's traced path (sentry/kernel/trace.h, docs/tracing.md).
 *
 * Under `moat trace` the guest's filter notifies every call the table's
 * filter would have allowed or refused with an errno. The answer to each
 * is the table's filter's own verdict on the call's registers, computed
 * here by running that very program (sys_filter_eval) over the
 * notification's seccomp_data:
 *   ALLOW      -> CONTINUE, so tracing never lets through anything the
 *                 untraced sandbox would not: the decision rests on the
 *                 registers alone, and guest memory is never consulted;
 *   ERRNO(e)   -> -e, as the filter would have answered;
 *   USER_NOTIF -> the ordinary dispatcher and handler;
 *   anything else (the evaluator could not run an instruction; kills never
 *   reach here, they stay in the filter) -> the process is killed.
 * The arguments are decoded for the record from a separate, bounded read of
 * guest memory, which nothing decides on. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "platform/platform.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/trace.h"
#include "syscalls/dispatch.h"
#include "syscalls/table.h"
#include "syscalls/trace_decode.h"

#ifndef SECCOMP_RET_ACTION_FULL
#define SECCOMP_RET_ACTION_FULL 0xffff0000U
#endif

static uint32_t table_verdict(const struct sysreq *r)
{
	const struct sock_filter *prog;
	unsigned short len;
	trace_normal_filter(&prog, &len);
	struct seccomp_data d = {
		.nr = r->nr,
		.arch = r->arch,
		.instruction_pointer = r->ip,
	};
	memcpy(d.args, r->args, sizeof(d.args));
	return sys_filter_eval(prog, len, &d);
}

/* The sandbox's numbers of a thread the handler did not look up. */
static void task_numbers(pid_t tid, pid_t *pid, pid_t *vtid)
{
	sentry_lock();
	struct task *t = task_find(tid);
	*pid = t ? t->proc->vpid : tid;
	*vtid = t ? t->vtid : tid;
	sentry_unlock();
}

static bool is_clone(int nr)
{
	return nr == __NR_clone || nr == __NR_fork || nr == __NR_vfork;
}

struct traced {
	struct sysreq *r;
	struct trace_rec rec;
	uint64_t start;
	bool want, emitted, held_off;
};

static void emit(struct traced *t, bool held)
{
	if (!t->want || t->emitted)
		return;
	t->emitted = true;
	t->rec.sentry_ns = trace_now_ns() - t->start;
	t->rec.start_ns = t->start - trace_start_ns();
	if (!t->rec.tid)
		task_numbers(t->r->tid, &t->rec.pid, &t->rec.tid);
	trace_emit(&t->rec, held);
}

/* The handler's outcome, as moat's answer to the call. */
static void take_outcome(struct traced *t, const struct sys_outcome *out)
{
	const struct sys_entry *e = sys_lookup(t->r->nr);
	/* The sentry's own calls: an exec's rewritten execveat and a followed
	 * clone's restart, both armed by the call already recorded. */
	if (out->continued && e && (e->disp == SYS_EXEC || is_clone(t->r->nr)))
		t->want = false;
	t->rec.pid = out->pid;
	t->rec.tid = out->tid;
	t->rec.known = out->known;
	t->rec.ret = out->val;
	if (!e || e->disp == SYS_DENY || e->disp == SYS_UNKNOWN)
		t->rec.disp = TRACE_DENY;
	else if (e->disp == SYS_PASS)
		/* A rule sent it to the handler (socket's AF_NETLINK, fcntl's
		 * locks, an audited refusal). */
		t->rec.disp = out->continued ? TRACE_PASS
			    : (e->flags & SYSF_AUDIT) ? TRACE_DENY : TRACE_EMULATE;
	else
		t->rec.disp = TRACE_EMULATE;
}

/* Written before the answer where the answer is the dispatcher's, so the
 * records of one thread come out in the order its calls ran. An fd's
 * number is known only once it is installed, and the guest runs on at
 * once: the sink's lock is held across, so no later record gets out
 * first. */
static void reply_hook(enum sys_hook stage, const struct sys_outcome *out, void *ctx)
{
	struct traced *t = ctx;
	switch (stage) {
	case SYS_HOOK_BEFORE:
		take_outcome(t, out);
		emit(t, false);
		break;
	case SYS_HOOK_HOLD:
		/* The record of a sandbox thread whose numbers are not known
		 * yet would need the sentry lock under the sink's. */
		if (t->want && out->tid)
			trace_hold(true);
		else
			t->held_off = true;
		break;
	case SYS_HOOK_AFTER:
		take_outcome(t, out);
		emit(t, !t->held_off && t->want);
		if (!t->held_off && t->want)
			trace_hold(false);
		break;
	}
}

void sys_dispatch_traced(struct sysreq *r)
{
	struct traced t = { .r = r, .start = trace_now_ns() };
	uint32_t verdict = table_verdict(r);
	uint32_t action = verdict & SECCOMP_RET_ACTION_FULL;
	t.want = trace_wanted(r->tid, r->nr) && trace_selected(r->nr);
	struct trace_args *text = t.want ? malloc(sizeof(*text)) : NULL;
	if (text)
		trace_decode(r, trace_strsize(), text);
	t.rec.nr = r->nr;
	t.rec.text = text;
	memcpy(t.rec.args, r->args, sizeof(t.rec.args));
	switch (action) {
	case SECCOMP_RET_ALLOW:
		t.rec.disp = TRACE_PASS;
		emit(&t, false);
		(void)req_reply_continue(r);
		break;
	case SECCOMP_RET_ERRNO:
		t.rec.disp = TRACE_DENY;
		t.rec.known = true;
		t.rec.ret = -(long)(verdict & SECCOMP_RET_DATA);
		emit(&t, false);
		(void)req_reply(r, t.rec.ret);
		break;
	case SECCOMP_RET_USER_NOTIF: {
		struct sys_outcome out;
		sys_dispatch_one(r, &out, reply_hook, &t);
		if (!t.emitted)
			take_outcome(&t, &out);
		emit(&t, false);
		break;
	}
	default:
		/* Never: the trace filter keeps the table's kills. Fail closed. */
		t.rec.disp = TRACE_KILL;
		kill(r->tid, SIGKILL);
		emit(&t, false);
		(void)req_reply(r, -ENOSYS);
		break;
	}
	free(text);
}
