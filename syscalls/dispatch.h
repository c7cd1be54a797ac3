/* SPDX-License-Identifier: MIT */
/* The one entry from the sentry's notification loop into the syscall layer:
 * find the table entry and the calling task, run the handler (or the
 * table's default, an audited denial), pass every errno through the
 * whitelist, and answer. The kernel core (sentry/kernel/) includes this and
 * no handler. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct sysreq;

/* Handle one notification, from its lookup to its reply. Takes the sentry
 * lock for the handler and holds a reference on the calling task for the
 * handler's whole life (task.h). */
void sys_dispatch(struct sysreq *r);
/* On the ptrace platform's tracer thread: run r's handler there if its
 * entry says it never waits for another guest task (SYSF_INLINE), the
 * sentry lock is free and tracing is off. false: nothing was answered, a
 * worker must take r (also when the handler met such a wait after all:
 * sentry_may_wait). */
bool sys_dispatch_inline(struct sysreq *r);

/* For `moat trace`: sys_dispatch without the tracing test, telling what
 * the guest got. hook, if set, is called with the outcome right before an
 * answer the dispatcher sends itself (SYS_HOOK_BEFORE), so a record can be
 * written before the guest runs on; for an installed fd, whose number is
 * known only once sent, with SYS_HOOK_HOLD before and SYS_HOOK_AFTER after
 * it. Handlers' own replies (exec, clone) are known only on return. */
enum sys_hook { SYS_HOOK_BEFORE, SYS_HOOK_HOLD, SYS_HOOK_AFTER };
struct sys_outcome {
	bool known;      /* val is what the guest got */
	bool continued;  /* answered CONTINUE: the kernel ran the call */
	long val;
	int pid, tid;    /* the caller's sandbox numbers (0: unknown) */
};
void sys_dispatch_one(struct sysreq *r, struct sys_outcome *out,
		      void (*hook)(enum sys_hook stage, const struct sys_outcome *out, void *ctx), void *ctx);
/* trace_dispatch.c: the traced path (sentry/kernel/trace.h). */
void sys_dispatch_traced(struct sysreq *r);

/* The errnos a guest may see from an emulated call; anything else becomes
 * -EIO (values >= 0 pass unchanged). */
long sys_errno_filter(long ret);

/* At the end: a `limit` `nofile` record when installs met the guest's
 * open-file limit (max: the --nofile soft limit, 0 when moat's own). */
void sys_nofile_report(uint64_t max);
