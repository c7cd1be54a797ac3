/* SPDX-License-Identifier: MIT */
/* Sending signals: kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo,
 * pidfd_send_signal.
 *
 * Scope. pid 1 makes its own host session and process group (guest.c) and
 * every guest process lives in the sandbox's pid namespace, so any target the
 * kernel resolves from these calls' numbers is a sandbox process: pids and
 * process groups are looked up in the caller's namespace, kill(-1) visits
 * only the processes the caller can see (and never its pid 1), and a process
 * group can only be joined from its own session, which holds only sandbox
 * processes. (Before pid 1 had its own session, kill(0) reached the process
 * group of the shell that started moat: host processes and other sandboxes.)
 * The handlers check it again on their own: a target must be in the
 * sandbox's pid namespace, and the caller's process group must be one the
 * namespace can see.
 *
 * Permission. On the host all guest processes share one uid, so the kernel
 * lets any of them signal any other. The guest's credentials live in the
 * sentry, and the handlers apply Linux's rule (check_kill_permission) to
 * them: a sender may signal its own thread group; else, unless its euid is 0
 * (CAP_KILL in the guest's model), its real or effective uid must equal the
 * target's real or saved uid; SIGCONT within one session is always allowed.
 * kill(0), kill(-pgid) and kill(-1) check each target like the kernel and
 * answer as it does (a group: success if any was signalled; -1: success once
 * there was any target, even if none was permitted).
 *
 * CONTINUE. The decisions rest on registers (pid, tgid, tid, sig) and on
 * the sentry's task state, never on guest memory: rt_[tg]sigqueueinfo's
 * siginfo pointer is not read (the kernel applies its own rule to it: no
 * si_code >= 0 or SI_TKILL towards another process). So the kernel is let
 * to send the signal itself (CONTINUE), which keeps the receiver's siginfo
 * (si_pid, si_uid, si_code) what Linux gives. What remains: between the
 * decision and the kernel's lookup a target may exit and its number be taken
 * by a new process, which the kernel then signals; the namespace bounds that
 * to the sandbox, and only the guest-credential check can be missed.
 * Three cases are not CONTINUEd:
 *  - kill() of another process with a signal that ends it: the sentry sends
 *    it and waits for the process to go (see kill_and_wait: the SIGCHLD
 *    that follows must not land in the caller's next notified call);
 *  - a group or -1 with some targets permitted and some not: the kernel
 *    would reach them all, so the sentry signals the permitted ones itself
 *    (they see si_pid 0, as from outside the namespace);
 *  - pidfd_send_signal: what a pidfd number refers to is not a register (a
 *    sibling thread can dup2 another pidfd over it after the decision), so
 *    the sentry takes its own copy (pidfd_getfd), decides on it and sends the
 *    signal through it; the receiver sees si_pid 0 and si_uid 0.
 *
 * Targets are found through the host's /proc: the task table knows only
 * tasks that have made a notified call, a process that only forked does not
 * appear in it. The task table gives the likely host pid first; a walk of
 * the sandbox's process tree from its pid 1 is the fallback (never a scan
 * of the host's process list). A child forked or reparented during that
 * walk may be missed by it: a group kill by a non-root sender could then
 * reach one member that was not checked (always a sandbox process). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/pidfd.h"
#include "common/util.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/pidwalk.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/fs/fs.h"
#include "sentry/vfs/ofd.h"
#include "syscalls/handlers.h"

/* Lock: handlers run with the sentry lock; kill_and_wait() drops it while
 * it waits for the target to go, and nothing of the caller's task is used
 * after it. */

#define SIG_MAX 64 /* _NSIG */
#define STATUS_MAX (1 << 16)

/* A sandbox task as the host's /proc shows it. */
struct target {
	pid_t htid, htgid;          /* host ids */
	pid_t vtid, vtgid, vpgid, vsid; /* ids in the sandbox (0: not visible there) */
	uint64_t caught, ignored, blocked; /* SigCgt, SigIgn, SigBlk */
	uint64_t pending;                  /* SigPnd | ShdPnd */
	/* Taken from the task table without reading /proc: vpgid, vsid and
	 * the signal sets are not known (target_complete reads them). */
	bool partial;
};

/* The first number of "key:" in a /proc status text, or with last the
 * number for the innermost pid namespace (the sandbox's: the guest cannot
 * make pid namespaces). -1 if absent. */
static long status_num(const char *text, const char *key, bool last)
{
	size_t klen = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, key, klen) || l[klen] != ':')
			continue;
		long v = -1;
		for (const char *p = l + klen + 1;;) {
			char *q;
			long n = strtol(p, &q, 10);
			if (q == p)
				break;
			v = n;
			if (!last)
				break;
			p = q;
		}
		return v;
	}
	return -1;
}

/* A signal mask line of a /proc status text (hex); all ones if absent, so
 * that nothing is taken for fatal on a doubt. */
static uint64_t status_mask(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, key, klen) && l[klen] == ':')
			return strtoull(l + klen + 1, NULL, 16);
	return UINT64_MAX;
}

/* Read the task whose host /proc directory is dirfd; -ESRCH if it is gone
 * or not in the sandbox's pid namespace. */
static int target_read(int dirfd, struct target *ret)
{
	struct stat st;
	if (!sentry.pidns_ino || fstatat(dirfd, "ns/pid", &st, 0) < 0 ||
	    st.st_ino != sentry.pidns_ino)
		return -ESRCH;
	_cleanup_free_ char *buf = NULL;
	if (read_file_at(dirfd, "status", &buf, STATUS_MAX) < 0)
		return -ESRCH;
	long htid = status_num(buf, "Pid", false), htgid = status_num(buf, "Tgid", false);
	long vtid = status_num(buf, "NSpid", true), vtgid = status_num(buf, "NStgid", true);
	long vpgid = status_num(buf, "NSpgid", true), vsid = status_num(buf, "NSsid", true);
	if (htid <= 0 || htgid <= 0 || vtid <= 0 || vtgid <= 0 || vpgid < 0 || vsid < 0 ||
	    htid > INT_MAX || htgid > INT_MAX || vtid > INT_MAX || vtgid > INT_MAX ||
	    vpgid > INT_MAX || vsid > INT_MAX)
		return -ESRCH;
	*ret = (struct target){ (pid_t)htid, (pid_t)htgid, (pid_t)vtid, (pid_t)vtgid,
				(pid_t)vpgid, (pid_t)vsid, status_mask(buf, "SigCgt"),
				status_mask(buf, "SigIgn"), status_mask(buf, "SigBlk"),
				status_mask(buf, "SigPnd") | status_mask(buf, "ShdPnd") };
	return 0;
}

static int target_read_host(pid_t htid, struct target *ret)
{
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d", htid);
	_cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	return target_read(fd, ret);
}

/* Call fn on every thread of one sandbox process, in its host directory
 * /proc/<pid>/task, until it returns non-zero. */
static int scan(const char *dir, int (*fn)(const struct target *t, void *ctx), void *ctx)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	if (!d)
		return neg_errno();
	int dfd = TAKE_FD(fd);
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		_cleanup_close_ int td = openat(dfd, de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct target t;
		if (td < 0 || target_read(td, &t) < 0)
			continue;
		int r = fn(&t, ctx);
		if (r)
			return r;
	}
	return 0;
}

/* Call fn on every process of the sandbox until it returns non-zero. They
 * are found from the sandbox itself, never by scanning the host's process
 * list: sentry/kernel/pidwalk.c, as procfs finds them. The kernel may miss
 * a child that is forked or reparented during the walk; see the top for
 * what that leaves. */
struct walk_ctx {
	int (*fn)(const struct target *t, void *ctx);
	void *ctx;
	int ret;
};

static int walk_one(pid_t h, void *ctx)
{
	struct walk_ctx *w = ctx;
	struct target t;
	if (target_read_host(h, &t) < 0 || t.htid != t.htgid)
		return PIDWALK_SKIP; /* gone, or not ours: not descended into */
	if ((w->ret = w->fn(&t, w->ctx)) != 0)
		return w->ret < 0 ? w->ret : PIDWALK_STOP;
	return PIDWALK_DESCEND;
}

static int walk_processes(int (*fn)(const struct target *t, void *ctx), void *ctx)
{
	struct walk_ctx w = { .fn = fn, .ctx = ctx };
	int r = pidwalk(walk_one, &w);
	return r < 0 ? r : w.ret;
}

struct find_ctx {
	pid_t vtid, vtgid;
	struct target found;
};

static int find_match(const struct target *t, void *ctx)
{
	struct find_ctx *f = ctx;
	if (t->vtid != f->vtid || (f->vtgid && t->vtgid != f->vtgid))
		return 0;
	f->found = *t;
	return 1;
}

/* Remember what a full read showed of a process the table knows: which
 * signals it catches or ignores (see sig_fatal). */
static void note_handled(const struct target *t)
{
	struct proc *p = proc_find_vpid(t->vtgid);
	if (p && p->tgid == t->htgid) {
		p->sig_handled = t->caught | t->ignored;
		p->sig_handled_known = true;
	}
}

/* The sandbox process vpid (its thread group leader). One the task table
 * knows is taken from it without reading /proc (a kill costs a 4 KiB
 * status text otherwise, about half of an emulated kill): the table's
 * processes are the sandbox's by construction and linked until their
 * pidfd says they exited, and the kernel resolves the number again when
 * the call continues. */
static int find_process(pid_t vpid, struct target *ret)
{
	struct proc *p = current->proc->vpid == vpid ? current->proc : proc_find_vpid(vpid);
	if (p && p->linked && p->vpid == vpid) {
		*ret = (struct target){ .htid = p->tgid, .htgid = p->tgid, .vtid = vpid,
					.vtgid = vpid, .partial = true };
		return 0;
	}
	struct find_ctx f = { .vtid = vpid, .vtgid = vpid };
	if (walk_processes(find_match, &f) <= 0)
		return -ESRCH;
	*ret = f.found;
	return 0;
}

/* Read what a table-made target left out; -ESRCH if it is gone. */
static int target_complete(struct target *t)
{
	if (!t->partial)
		return 0;
	struct target full;
	if (target_read_host(t->htid, &full) < 0 || full.vtid != t->vtid || full.vtgid != t->vtgid)
		return -ESRCH;
	*t = full;
	note_handled(t);
	return 0;
}

static int find_in_tasks(const struct target *proc, void *ctx)
{
	char dir[48];
	snprintf(dir, sizeof(dir), "/proc/%d/task", proc->htgid);
	return scan(dir, find_match, ctx) > 0;
}

/* The sandbox thread vtid, of thread group vtgid (0: any). */
static int find_thread(pid_t vtgid, pid_t vtid, struct target *ret)
{
	struct target t;
	if (current->vtid == vtid && target_read_host(current->tid, &t) == 0 && t.vtid == vtid &&
	    (!vtgid || t.vtgid == vtgid)) {
		*ret = t;
		return 0;
	}
	/* A leader is found as a process. */
	if ((!vtgid || vtgid == vtid) && find_process(vtid, ret) == 0)
		return 0;
	struct find_ctx f = { .vtid = vtid, .vtgid = vtgid };
	if (vtgid) {
		struct target leader;
		if (find_process(vtgid, &leader) < 0 || find_in_tasks(&leader, &f) <= 0)
			return -ESRCH;
	} else if (walk_processes(find_in_tasks, &f) <= 0) {
		return -ESRCH;
	}
	*ret = f.found;
	return 0;
}

/* The sentry's credentials of a task, creating its record if it has made no
 * notified call yet (it inherits as at its first notification). */
static const struct cred *target_cred(const struct target *t)
{
	struct task *tk = task_find(t->htid);
	if (!tk)
		tk = task_get(t->htid);
	return tk ? tk->cred : NULL;
}

/* Linux's kill_ok_by_cred on the guest's credentials. */
static bool cred_may_kill(const struct cred *s, const struct cred *t)
{
	return s->euid == 0 || s->euid == t->suid || s->euid == t->ruid || s->ruid == t->suid ||
	       s->ruid == t->ruid;
}

/* The caller as /proc shows it (its session and process group), read once
 * per request. */
struct sender {
	bool known;
	struct target self;
};

static int sender_get(struct sender *s)
{
	if (!s->known) {
		int r = target_read_host(current->tid, &s->self);
		if (r < 0)
			return r;
		s->known = true;
	}
	return 0;
}

/* May the caller send sig to t? 0 or -EPERM (-ESRCH if t vanished). */
static int may_signal(struct target *t, int sig, struct sender *s)
{
	if (t->htgid == current->proc->tgid)
		return 0;
	const struct cred *tc = target_cred(t);
	if (!tc)
		return -ESRCH;
	if (cred_may_kill(current->cred, tc))
		return 0;
	if (sig == SIGCONT && target_complete(t) == 0 && sender_get(s) == 0 && t->vsid &&
	    t->vsid == s->self.vsid)
		return 0;
	return -EPERM;
}

static bool sig_valid(int sig) { return sig >= 0 && sig <= SIG_MAX; }

/* One process or thread by number: check, then let the kernel send it. */
static long signal_one(struct target *t, int sig)
{
	if (!sig_valid(sig))
		return -EINVAL;
	struct sender s = { 0 };
	int r = may_signal(t, sig, &s);
	return r < 0 ? r : SYSRET_CONTINUE;
}

/* Does sig end process t at once: its default action terminates, t neither
 * catches, ignores nor blocks it, and t is not the sandbox's pid 1 (which
 * ignores such signals from inside its namespace)?
 * A target from the task table whose last full read showed it catching or
 * ignoring sig is taken as still doing so, without reading /proc again:
 * only a sigaction back to SIG_DFL since (exec forgets what was seen) makes
 * that wrong, and then the kernel sends the signal itself, which loses only
 * kill_and_wait's care for the caller's next call. */
static bool sig_fatal(struct target *t, int sig)
{
	static const uint64_t not_fatal = 1ULL << (SIGCHLD - 1) | 1ULL << (SIGCONT - 1) |
		1ULL << (SIGSTOP - 1) | 1ULL << (SIGTSTP - 1) | 1ULL << (SIGTTIN - 1) |
		1ULL << (SIGTTOU - 1) | 1ULL << (SIGURG - 1) | 1ULL << (SIGWINCH - 1);
	if (sig <= 0 || t->vtgid == 1)
		return false;
	uint64_t bit = 1ULL << (sig - 1);
	if (sig == SIGKILL)
		return true;
	if (not_fatal & bit)
		return false;
	if (t->partial) {
		struct proc *p = proc_find_vpid(t->vtgid);
		if (p && p->tgid == t->htgid && p->sig_handled_known && (p->sig_handled & bit))
			return false;
		if (target_complete(t) < 0)
			return false; /* gone: the kernel answers */
	}
	return !((t->caught | t->ignored | t->blocked) & bit);
}

#define FATAL_WAIT_MS 100

/* A signal that ends another process is sent by the sentry, which then
 * waits (at most FATAL_WAIT_MS) until the process has gone before
 * answering. Why: a notified call fails with EINTR when a signal arrives
 * before the sentry has received it (only after that is the wait killable,
 * see WAIT_KILLABLE_RECV), and a handler without SA_RESTART sees it -
 * dash's SIGCHLD handler is one. Killing a child is the common way to make a
 * SIGCHLD arrive just then, at the caller's next notified call (`kill $a
 * $b`, `kill $a; [ -d x ]`). Sent this way, the SIGCHLD comes while the
 * caller waits killably in its kill and is handled when kill returns. The
 * target dies without handling the signal, so the siginfo, which names the
 * sentry, is seen by nobody; its parent sees the same wait status.
 * Drops the sentry lock while it waits: current must not be used after. */
static long kill_and_wait(const struct target *t, int sig)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, t->htgid, 0);
	struct target again;
	if (pfd < 0 || target_read_host(t->htgid, &again) < 0 || again.vtgid != t->vtgid)
		return -ESRCH;
	if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
		return neg_errno();
	sentry_unlock();
	/* Until the process is gone, but not for a signal it took instead: one
	 * it was waiting for in sigwaitinfo (/proc shows a signal unblocked
	 * while it is waited for, so sig_fatal took it for fatal) leaves the
	 * pending sets at once, where a fatal one stays in the shared set, with
	 * SIGKILL queued to each thread, until the process has exited. Waiting
	 * the whole FATAL_WAIT_MS for such a kill made a sigwaitinfo round
	 * trip cost 100 ms. */
	uint64_t bits = 1ULL << (sig - 1) | 1ULL << (SIGKILL - 1);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	for (long us = 0, step; us < FATAL_WAIT_MS * 1000L; us += step) {
		if (poll(&p, 1, 0) != 0)
			break;
		if (target_read_host(t->htgid, &again) < 0 || !(again.pending & bits))
			break;
		/* Fine steps first: a waiter takes its signal within microseconds. */
		step = us < 1000 ? 50 : 1000;
		struct timespec ts = { .tv_nsec = step * 1000 };
		(void)clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	}
	sentry_lock();
	return 0;
}

/* ---- kill(0), kill(-pgid), kill(-1) ---------------------------------------- */

struct group_ctx {
	pid_t vpgid;        /* members of this group; 0 for kill(-1) */
	int sig;
	struct sender *s;
	size_t total, permitted;
	struct target *ok;  /* the permitted targets */
	size_t cap;
	int err;
};

static int group_visit(const struct target *t, void *ctx)
{
	struct group_ctx *g = ctx;
	if (g->vpgid ? t->vpgid != g->vpgid : (t->vtgid <= 1 || t->htgid == current->proc->tgid))
		return 0;
	g->total++;
	struct target tt = *t;
	int r = may_signal(&tt, g->sig, g->s);
	if (r == -ESRCH) {
		g->total--; /* gone meanwhile: the kernel would not see it either */
		return 0;
	}
	if (r < 0)
		return 0;
	if (g->permitted == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct target *n = realloc(g->ok, cap * sizeof(*n));
		if (!n) {
			g->err = -ENOMEM;
			return 1;
		}
		g->ok = n;
		g->cap = cap;
	}
	g->ok[g->permitted++] = *t;
	return 0;
}

/* Send sig to a permitted target from the sentry, through a pidfd checked
 * to name the process that was examined. */
static int deliver(const struct target *t, int sig)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, t->htgid, 0);
	struct target again;
	if (pfd < 0 || target_read_host(t->htgid, &again) < 0 || again.vtgid != t->vtgid)
		return -ESRCH;
	return syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0 ? neg_errno() : 0;
}

static long signal_many(pid_t vpgid, int sig, struct sender *s)
{
	if (!sig_valid(sig))
		return -EINVAL;
	/* Guest root may signal every process (CAP_KILL), and the kernel's
	 * scope is the sandbox's: nothing to decide per target. */
	if (current->cred->euid == 0)
		return SYSRET_CONTINUE;
	struct group_ctx g = { .vpgid = vpgid, .sig = sig, .s = s };
	int r = walk_processes(group_visit, &g);
	_cleanup_free_ struct target *ok = g.ok;
	if (r < 0 || g.err < 0)
		return r < 0 ? r : g.err;
	if (!g.total)
		return -ESRCH;
	if (g.permitted == g.total)
		return SYSRET_CONTINUE;
	if (!g.permitted)
		return vpgid ? -EPERM : 0; /* kill(-1): Linux reports success */
	if (sig == 0)
		return 0;
	int delivered = 0, last = 0;
	for (size_t i = 0; i < g.permitted; i++) {
		last = deliver(&ok[i], sig);
		delivered += last == 0;
	}
	return delivered || !vpgid ? 0 : last;
}

/* ---- the calls -------------------------------------------------------------- */

static long do_kill(pid_t pid, int sig)
{
	struct target t;
	struct sender s = { 0 };
	if (pid > 0) {
		if (find_process(pid, &t) < 0)
			return -ESRCH;
		long r = signal_one(&t, sig);
		if (r == SYSRET_CONTINUE && t.htgid != current->proc->tgid && sig_fatal(&t, sig))
			/* Not on the ptrace tracer: the target may wait in a
			 * stop only the tracer ends. */
			return sentry_may_wait() ? kill_and_wait(&t, sig) : -EAGAIN;
		return r;
	}
	if (pid == -1)
		return signal_many(0, sig, &s);
	if (pid == INT_MIN)
		return -ESRCH; /* as the kernel: -INT_MIN does not exist */
	if (pid < 0)
		return signal_many(-pid, sig, &s);
	/* The caller's own group. Its leader must be visible in the sandbox:
	 * if it is not, the group is the host's (fail closed). */
	int r = sender_get(&s);
	if (r < 0)
		return r;
	if (!s.self.vpgid)
		return -EPERM;
	return signal_many(s.self.vpgid, sig, &s);
}

static long kill_family(struct sysreq *r);

/* A signal is on its way to a sandbox thread: if a handler waits on its
 * behalf (a FIFO open...), have the wait looked at now (wait.c). */
long sys_kill(struct sysreq *r)
{
	long ret = kill_family(r);
	if (ret == SYSRET_CONTINUE || ret == 0)
		wait_kick();
	return ret;
}

static long kill_family(struct sysreq *r)
{
	pid_t pid = (pid_t)r->args[0];
	int sig = (int)r->args[1];
	switch (r->nr) {
	case SYS_kill:
		return do_kill(pid, sig);
	case SYS_rt_sigqueueinfo: {
		/* The kernel finds no process for pid <= 0. */
		struct target t;
		if (pid <= 0 || find_process(pid, &t) < 0)
			return -ESRCH;
		return signal_one(&t, sig);
	}
	case SYS_tkill:
	case SYS_tgkill:
	case SYS_rt_tgsigqueueinfo: {
		pid_t tgid = r->nr == SYS_tkill ? 0 : pid;
		pid_t tid = (pid_t)r->args[r->nr == SYS_tkill ? 0 : 1];
		sig = (int)r->args[r->nr == SYS_tkill ? 1 : 2];
		if (tid <= 0 || (r->nr != SYS_tkill && tgid <= 0))
			return -EINVAL;
		struct target t;
		if (find_thread(tgid, tid, &t) < 0)
			return -ESRCH;
		return signal_one(&t, sig);
	}
	}
	return -ENOSYS;
}

/* The host pid a pidfd (the sentry's copy) refers to: -ESRCH once it has
 * exited, -EBADF if fd is not a pidfd. */
static int pidfd_host_pid(int fd, pid_t *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	_cleanup_free_ char *buf = NULL;
	if (read_file_at(AT_FDCWD, path, &buf, STATUS_MAX) < 0)
		return -EBADF;
	const char *l = strstr(buf, "\nPid:");
	if (!l)
		return -EBADF;
	long pid = strtol(l + 5, NULL, 10);
	if (pid <= 0 || pid > INT_MAX)
		return -ESRCH;
	*ret = (pid_t)pid;
	return 0;
}

long sys_pidfd_send_signal(struct sysreq *r)
{
	int gfd = (int)r->args[0], sig = (int)r->args[1];
	uint64_t uinfo = r->args[2];
	unsigned flags = (unsigned)r->args[3];
	/* PIDFD_SIGNAL_PROCESS_GROUP would reach a whole group through one
	 * pidfd: not offered (EINVAL, what kernels before 6.9 answer). */
	if (r->args[3] > UINT_MAX ||
	    (flags & ~(unsigned)(PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP)) ||
	    __builtin_popcount(flags) > 1)
		return -EINVAL;
	if (!sig_valid(sig))
		return -EINVAL;
	siginfo_t info;
	if (uinfo) {
		if (req_read(r, uinfo, &info, sizeof(info)) != (ssize_t)sizeof(info))
			return -EFAULT;
		if (req_id_valid(r) < 0)
			return -ESRCH;
	}
	if (gfd < 0)
		return -EBADF;
	/* The caller's fd table through a pidfd of its own thread, opened now
	 * and checked to be the caller's by the notification still being
	 * there (a kernel without PIDFD_THREAD: its process's). */
	_cleanup_close_ int self = (int)syscall(SYS_pidfd_open, r->tid, PIDFD_THREAD);
	if (self < 0 && errno == EINVAL)
		self = (int)syscall(SYS_pidfd_open, current->proc->tgid, 0);
	if (self < 0 || req_id_valid(r) < 0)
		return -ESRCH;
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_getfd, self, gfd, 0);
	if (fd < 0)
		return errno == EBADF ? -EBADF : -ESRCH;
	pid_t hpid;
	int ret = pidfd_host_pid(fd, &hpid);
	if (ret == -EBADF) {
		/* Linux also takes a /proc/<pid> directory's fd (Python's
		 * test_signal does): here a placeholder for procfs's vnode. */
		struct ofd *o;
		struct vnode *vn;
		if (ofd_from_guest(current, gfd, &o, &vn, NULL) < 0 || !vn)
			return -EBADF;
		int pfd;
		if ((ret = procfs_vnode_pidfd(vn, &pfd)) < 0)
			return ret;
		close(fd);
		fd = pfd;
		if ((ret = pidfd_host_pid(fd, &hpid)) < 0)
			return ret;
	}
	if (ret < 0)
		return ret;
	/* Only a task of the sandbox: a pidfd of anything else (one that
	 * reached the guest some other way) is refused. */
	struct target t;
	if (target_read_host(hpid, &t) < 0)
		return -ESRCH;
	struct sender s = { 0 };
	if ((ret = may_signal(&t, sig, &s)) < 0)
		return ret;
	if (syscall(SYS_pidfd_send_signal, fd, sig, uinfo ? &info : NULL, flags) < 0)
		return neg_errno();
	wait_kick();
	return 0;
}
