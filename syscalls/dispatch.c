/* SPDX-License-Identifier: MIT */
/* See dispatch.h. Locking: the handler runs with the sentry lock held (it
 * may drop it to wait, see sentry.h); an fd result is installed after the
 * lock is dropped, so the guest it wakes never finds the lock held. */
#include "syscalls/dispatch.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <unistd.h>

#include "platform/platform.h"
#include "common/log.h"
#include "sentry/kernel/audit.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/trace.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs.h"
#include "syscalls/table.h"

long sys_errno_filter(long ret)
{
	if (ret >= 0)
		return ret;
	switch (-ret) {
	case EPERM: case ENOENT: case ESRCH: case EINTR: case EIO: case ENXIO: case E2BIG:
	case ENOEXEC: case EBADF: case ECHILD: case EAGAIN: case ENOMEM: case EACCES:
	case EFAULT: case EBUSY: case EEXIST: case EXDEV: case ENODEV: case ENOTDIR:
	case EISDIR: case EINVAL: case ENFILE: case EMFILE: case ENOTTY: case ETXTBSY:
	case EFBIG: case ENOSPC: case ESPIPE: case EROFS: case EMLINK: case EPIPE:
	case ERANGE: case ENAMETOOLONG: case ENOSYS: case ENOTEMPTY: case ELOOP:
	case ENODATA: case EOPNOTSUPP: case EOVERFLOW: case ENOTSOCK: case EAFNOSUPPORT:
	case EDQUOT: case ESTALE: case EBADFD: case ENOTCONN: case ECONNREFUSED:
	case EPROTONOSUPPORT: case EADDRINUSE: case EDEADLK: case ENOLCK:
	/* what a send the sentry makes for the guest can meet */
	case EMSGSIZE: case ENOBUFS: case EISCONN: case EDESTADDRREQ: case EPROTOTYPE:
	case ECONNRESET: case ETOOMANYREFS:
	/* what a connect or bind the sentry makes for the guest can meet */
	case EINPROGRESS: case EALREADY: case ENETUNREACH: case EHOSTUNREACH: case ETIMEDOUT:
	case EADDRNOTAVAIL: case ECONNABORTED: case ENETDOWN: case EHOSTDOWN:
		return ret;
	}
	return -EIO;
}

/* The guest's open-file limit (RLIMIT_NOFILE, --nofile) met by an fd the
 * sentry installs (open, openat, accept of an emulated socket, ...): the
 * kernel refuses the install with EMFILE, which the guest gets. The first
 * refusal is audited at once, the count at the end (sys_nofile_report).
 * Fds the kernel makes for calls that pass through (pipe, socket, dup)
 * meet the same limit unseen. */
static _Atomic uint64_t nofile_refused;

static void nofile_hit(void)
{
	if (atomic_fetch_add(&nofile_refused, 1) != 0)
		return;
	struct json_object *f = audit_fields("limit", "nofile", NULL);
	json_object_object_add(f, "first", json_object_new_boolean(true));
	audit_event("limit", f);
}

void sys_nofile_report(uint64_t max)
{
	uint64_t n = atomic_load(&nofile_refused);
	if (!n)
		return;
	log_warnx("the sandbox reached its open-file limit: %" PRIu64 " open%s by moat refused (EMFILE)", n,
		  n == 1 ? "" : "s");
	struct json_object *f = audit_fields("limit", "nofile", NULL);
	if (max)
		json_object_object_add(f, "max", json_object_new_int64((int64_t)max));
	json_object_object_add(f, "refused", json_object_new_int64((int64_t)n));
	audit_event("limit", f);
}

/* With the sentry lock held, which it drops. inl: on the ptrace tracer
 * (sys_dispatch_inline); false then means the handler met a wait it may
 * not make there and nothing was answered. */
static bool dispatch_locked(struct sysreq *r, struct sys_outcome *out,
			    void (*hook)(enum sys_hook stage, const struct sys_outcome *out, void *ctx),
			    void *ctx, bool inl)
{
	*out = (struct sys_outcome){ 0 };
	vfs_call_begin();
	const struct sys_entry *e = sys_lookup(r->nr);
	r->entry = e;
	struct task *t = task_get(r->tid);
	if (!t) {
		/* Gone, or of unknown origin and killed: nobody to answer. */
		sentry_unlock_done();
		(void)req_reply(r, -ESRCH);
		return true;
	}
	/* t stays ours until task_unref, even if the thread exits while the
	 * handler waits with the lock dropped. */
	current = t;
	r->task = t;
	out->pid = t->proc->vpid;
	out->tid = t->vtid;
	(void)wait_take_cancelled(); /* a mark left by an earlier request */
	if (inl)
		sentry_inline_begin();
	long ret = sys_entry_handler(e)(r);
	bool deferred = inl && sentry_inline_end();
	current = NULL;
	r->task = NULL;
	task_unref(t);
	sentry_unlock_done();
	if (deferred && !r->replied)
		return false;
	/* The sandbox is being killed (the handler may have met the broken
	 * state itself, e.g. a spoiled gofer reply): no answer, not even
	 * the error, lets this task go on, nor its parent (which a kill of
	 * this one alone would wake). It stays in its notification or its
	 * stop until pid 1's end takes the pid namespace down: marked
	 * answered, so the ptrace platform does not resume it (ptrace_op_done),
	 * and the sentry keeps the listener until then (sandbox.c). */
	if (sentry_dead()) {
		r->replied = true;
		return true;
	}
	if (wait_take_cancelled() && ret == -EINTR && !r->replied) {
		/* A signal to the guest thread ended the handler's wait (see
		 * sentry/kernel/wait.c): Linux's -ERESTARTSYS. */
		out->known = true;
		out->val = -EINTR;
		if (hook)
			hook(SYS_HOOK_BEFORE, out, ctx);
		(void)req_reply_restart(r);
		return true;
	}
	if (ret == SYSRET_FD) {
		int fd = r->reply_fd;
		if (hook)
			hook(SYS_HOOK_HOLD, out, ctx);
		int n = req_reply_fd(r, fd, r->reply_cloexec);
		close(fd);
		if (n == -EMFILE)
			nofile_hit();
		out->known = true;
		out->val = n < 0 ? sys_errno_filter(n) : n;
		if (n < 0 && !r->replied)
			(void)req_reply(r, out->val);
		if (hook)
			hook(SYS_HOOK_AFTER, out, ctx);
		return true;
	}
	if (ret == SYSRET_DONE || r->replied) {
		out->known = r->result_known;
		out->val = r->result;
		return true;
	}
	if (ret == SYSRET_CONTINUE) {
		out->continued = true;
		if (hook)
			hook(SYS_HOOK_BEFORE, out, ctx);
		(void)req_reply_continue(r);
		return true;
	}
	out->known = true;
	out->val = sys_errno_filter(ret);
	if (hook)
		hook(SYS_HOOK_BEFORE, out, ctx);
	(void)req_reply(r, out->val);
	return true;
}

/* What the guest got, as far as the dispatcher knows: the value or
 * -errno it answered, the fd it installed, or (for a CONTINUE, or a reply
 * the handler sent itself without noting it) nothing. */
void sys_dispatch_one(struct sysreq *r, struct sys_outcome *out,
		      void (*hook)(enum sys_hook stage, const struct sys_outcome *out, void *ctx), void *ctx)
{
	sentry_lock();
	(void)dispatch_locked(r, out, hook, ctx, false);
}

bool sys_dispatch_inline(struct sysreq *r)
{
	if (__builtin_expect(trace_active, 0))
		return false;
	const struct sys_entry *e = sys_lookup(r->nr);
	if (!e || !(e->flags & SYSF_INLINE) || !sentry_trylock())
		return false;
	struct sys_outcome out;
	return dispatch_locked(r, &out, NULL, NULL, true);
}

void sys_dispatch(struct sysreq *r)
{
	/* The only cost of tracing when it is off. */
	if (__builtin_expect(trace_active, 0)) {
		sys_dispatch_traced(r);
		return;
	}
	struct sys_outcome out;
	sys_dispatch_one(r, &out, NULL, NULL);
}
