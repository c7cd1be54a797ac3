/* SPDX-License-Identifier: MIT */
/* The ptrace platform's tracer thread (ptrace_platform.h). It seizes pid 1
 * before pid 1 installs its filter, with options that attach every task
 * pid 1's tree makes from birth (fork, vfork, clone events), report the
 * filter's SECCOMP_RET_TRACE as a PTRACE_EVENT_SECCOMP stop, and kill every
 * tracee if the tracer dies (EXITKILL). A guest task cannot leave: it is
 * never detached, and a traced task cannot be attached by anyone else.
 *
 * The loop: a seccomp stop becomes a request (the registers read once,
 * PTRACE_GETREGS), which the tracer answers itself when the handler never
 * waits for the guest (ptrace_set_inline: its answer then runs at once),
 * else puts on the workers' queue, and the task stays stopped until a
 * worker's command answers it; a signal-delivery-stop is resumed with its
 * signal; a group-stop is left in place with PTRACE_LISTEN; a new task is
 * held at its first stop until its creator's handler registered it.
 *
 * Waking: every thread blocks SIGCHLD (sandbox.c, before any thread), so the
 * kernel's SIGCHLD for a tracee's stop stays pending until the tracer takes
 * it with sigtimedwait; a worker that queues a command sends SIGCHLD to the
 * tracer thread itself (a standard signal: never refused for the per-user
 * queue limit, which the guest shares). Each wake-up drains commands and
 * every waitable stop, so coalesced signals lose nothing.
 *
 * Lock order: the sentry lock before tlock. The tracer only tries the
 * sentry lock (an inline handler) and never waits for a worker; it may
 * wait for the lock after a gofer round trip of an inline handler, which
 * is safe because no thread waits for the tracer holding it. */
#include "platform/ptrace_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

#define NBUCKETS 1024
#define OPTIONS                                                                       \
	(PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |           \
	 PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD |           \
	 PTRACE_O_EXITKILL)

struct cmd {
	uint64_t id;
	pid_t tid;
	int (*fn)(struct ptracee *t, void *arg);
	void *arg;
	int result;
	bool done;
	/* Posted (ptrace_post): nobody waits; the tracer frees it. */
	bool detached;
	long val;               /* a posted command's argument (arg = &val) */
	struct cmd *next;
};

struct queued {
	struct sysreq r;
	struct queued *next;
};

/* A stop the tracer collected while it waited for another task's. */
struct stashed {
	pid_t pid;
	int status;
	struct stashed *next;
};

static pthread_mutex_t tlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cond = PTHREAD_COND_INITIALIZER;  /* requests queued */
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER; /* commands done, follows */
static struct ptracee *table[NBUCKETS];
static unsigned npinned; /* tasks pinned by colocate(); tracer thread only */
static struct queued *req_head, **req_tail = &req_head;
static struct cmd *cmd_head, **cmd_tail = &cmd_head;
static struct stashed *stash_head, **stash_tail = &stash_head;
static bool ended;
static pid_t tracer_tid;
static uint64_t next_id;
/* The tracer thread itself: it runs some handlers (ptrace_set_inline), and
 * their answers then run at once instead of as queued commands. */
static _Thread_local bool on_tracer;
static bool (*inline_fn)(struct sysreq *r);

/* Tracer setup handshake. */
static pid_t seize_pid;
static int seize_result = 1; /* 1: not yet */

static unsigned bucket(pid_t tid) { return (unsigned)tid % NBUCKETS; }

struct ptracee *ptracee_find(pid_t tid)
{
	for (struct ptracee *t = table[bucket(tid)]; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

static struct ptracee *ptracee_new(pid_t tid)
{
	struct ptracee *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->tid = tid;
	t->pin_cpu = -1;
	pthread_mutex_lock(&tlock);
	t->next = table[bucket(tid)];
	table[bucket(tid)] = t;
	pthread_mutex_unlock(&tlock);
	return t;
}

static void unlink_locked(struct ptracee *t)
{
	for (struct ptracee **pp = &table[bucket(t->tid)]; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

void ptracee_forget(struct ptracee *t)
{
	if (t->pin_cpu >= 0)
		npinned--;
	pthread_mutex_lock(&tlock);
	unlink_locked(t);
	if (t->follow) {
		t->follow->result = -ESRCH;
		t->follow->done = true;
		pthread_cond_broadcast(&done_cond);
	}
	pthread_mutex_unlock(&tlock);
	free(t);
}

void ptracee_rekey(struct ptracee *t, pid_t tid)
{
	struct ptracee *old = ptracee_find(tid);
	if (old && old != t)
		ptracee_forget(old);
	pthread_mutex_lock(&tlock);
	unlink_locked(t);
	t->tid = tid;
	t->tgid = tid;
	t->next = table[bucket(tid)];
	table[bucket(tid)] = t;
	pthread_mutex_unlock(&tlock);
}

struct ptracee *ptracee_add_held(pid_t tid, pid_t tgid)
{
	struct ptracee *t = ptracee_find(tid);
	if (!t && !(t = ptracee_new(tid)))
		return NULL;
	if (!t->start_seen)
		t->held = true;
	if (tgid)
		t->tgid = tgid;
	return t;
}

pid_t ptracee_tgid(struct ptracee *t)
{
	if (t->tgid)
		return t->tgid;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", t->tid);
	_cleanup_free_ char *st = NULL;
	if (read_file_at(AT_FDCWD, path, &st, 1 << 16) < 0)
		return t->tid;
	const char *p = strstr(st, "\nTgid:\t");
	t->tgid = p ? (pid_t)atoi(p + 7) : t->tid;
	return t->tgid;
}

void ptracee_release(struct ptracee *t)
{
	t->released = true;
	if (t->held && t->start_seen) {
		t->held = false;
		(void)ptrace(PTRACE_CONT, t->tid, 0, 0);
	}
}

/* --- the workers' side ------------------------------------------------ */

static int ptrace_receive(struct sysreq *r)
{
	pthread_mutex_lock(&tlock);
	while (!req_head && !ended)
		pthread_cond_wait(&req_cond, &tlock);
	struct queued *q = req_head;
	if (q) {
		req_head = q->next;
		if (!req_head)
			req_tail = &req_head;
	}
	pthread_mutex_unlock(&tlock);
	if (!q)
		return -EPIPE;
	*r = q->r;
	free(q);
	return 0;
}

static void wake_tracer(void)
{
	(void)syscall(SYS_tgkill, getpid(), tracer_tid, SIGCHLD);
}

int ptrace_call(struct sysreq *r, int (*fn)(struct ptracee *t, void *arg), void *arg)
{
	return ptrace_call_tid(r->tid, r->id, fn, arg);
}

int ptrace_post(struct sysreq *r, int (*fn)(struct ptracee *t, void *arg), long val)
{
	if (on_tracer)
		return ptrace_call(r, fn, &val);
	struct cmd *c = calloc(1, sizeof(*c));
	if (!c)
		return ptrace_call(r, fn, &val);
	*c = (struct cmd){ .id = r->id, .tid = r->tid, .fn = fn, .detached = true, .val = val };
	c->arg = &c->val;
	pthread_mutex_lock(&tlock);
	if (ended) {
		pthread_mutex_unlock(&tlock);
		free(c);
		return -ENOENT;
	}
	*cmd_tail = c;
	cmd_tail = &c->next;
	pthread_mutex_unlock(&tlock);
	wake_tracer();
	return 0;
}

int ptrace_call_tid(pid_t tid, uint64_t id, int (*fn)(struct ptracee *t, void *arg), void *arg)
{
	if (on_tracer) {
		/* A handler the tracer runs itself: no queue, no wake-up. */
		pthread_mutex_lock(&tlock);
		struct ptracee *t = ptracee_find(tid);
		bool ok = id == 0 || (t && t->id == id);
		pthread_mutex_unlock(&tlock);
		return ok ? fn(t, arg) : -ENOENT;
	}
	struct cmd c = { .id = id, .tid = tid, .fn = fn, .arg = arg };
	pthread_mutex_lock(&tlock);
	if (ended) {
		pthread_mutex_unlock(&tlock);
		return -ENOENT;
	}
	*cmd_tail = &c;
	cmd_tail = &c.next;
	pthread_mutex_unlock(&tlock);
	wake_tracer();
	pthread_mutex_lock(&tlock);
	while (!c.done)
		pthread_cond_wait(&done_cond, &tlock);
	pthread_mutex_unlock(&tlock);
	return c.result;
}

/* Never on the tracer thread, which fills f in: the handlers that follow
 * clones are not among those it runs itself (SYSF_INLINE). */
void ptrace_follow_wait(struct ptrace_follow *f)
{
	pthread_mutex_lock(&tlock);
	while (!f->done)
		pthread_cond_wait(&done_cond, &tlock);
	pthread_mutex_unlock(&tlock);
}

bool ptrace_task_group_stopped(pid_t tid)
{
	pthread_mutex_lock(&tlock);
	struct ptracee *t = ptracee_find(tid);
	bool r = t && t->listening;
	pthread_mutex_unlock(&tlock);
	return r;
}

static int ptrace_id_valid(struct sysreq *r)
{
	pthread_mutex_lock(&tlock);
	struct ptracee *t = ptracee_find(r->tid);
	bool ok = t && t->id == r->id;
	pthread_mutex_unlock(&tlock);
	return ok ? 0 : -ENOENT;
}

/* --- the tracer's side ------------------------------------------------ */

static void follow_done(struct ptracee *t, pid_t child, int result)
{
	pthread_mutex_lock(&tlock);
	struct ptrace_follow *f = t->follow;
	t->follow = NULL;
	if (f) {
		f->child = child;
		f->result = result;
		f->done = true;
		pthread_cond_broadcast(&done_cond);
	}
	pthread_mutex_unlock(&tlock);
}

void ptrace_set_inline(bool (*fn)(struct sysreq *r)) { inline_fn = fn; }

/* Co-location. A stop and its answer are two wake-ups between the tracee
 * and this thread; across CPUs each is an inter-processor wake-up, which
 * on a VM can cost more than all the rest (bench/README.md: a trapped call
 * took 50 us with the two on different CPUs, 10 us on one). So a tracee
 * whose seccomp stops come less than HOT_NS apart is pinned to the CPU this
 * thread is on, where it then stops, wakes this thread and is resumed
 * without crossing CPUs, as gVisor's ptrace platform binds its stub
 * threads; one that then runs COLD_NS without a stop gets its own mask
 * back. Only the guest's own mask is ever narrowed (a CPU outside it is
 * never taken), and the guest does not see the pin: its affinity calls and
 * its /proc status are served unpinned (ptrace_unpin). */
#define HOT_NS 500000ULL
#define COLD_NS 10000000ULL

static void unpin(struct ptracee *t)
{
	if (t->pin_cpu < 0)
		return;
	(void)sched_setaffinity(t->tid, sizeof(t->guest_mask), &t->guest_mask);
	pthread_mutex_lock(&tlock);
	t->pin_cpu = -1;
	pthread_mutex_unlock(&tlock);
	npinned--;
}

/* A pinned task that has not stopped for COLD_NS is computing: its own
 * mask back, so that work it does without trapped calls (a compiler after
 * its start, a pool's new threads) spreads over the CPUs again. Run at
 * least every COLD_NS while any task is pinned (the loop's timeout). */
static void cool_down(void)
{
	static uint64_t last;
	uint64_t now = (uint64_t)now_ns();
	if (!npinned || now - last < COLD_NS)
		return;
	last = now;
	for (int i = 0; i < NBUCKETS && npinned; i++)
		for (struct ptracee *t = table[i]; t; t = t->next)
			if (t->pin_cpu >= 0 && now - t->last_stop_ns > COLD_NS)
				unpin(t);
}

static void colocate(struct ptracee *t)
{
	uint64_t now = (uint64_t)now_ns();
	uint64_t gap = t->last_stop_ns ? now - t->last_stop_ns : UINT64_MAX;
	t->last_stop_ns = now;
	if (gap > COLD_NS) {
		unpin(t);
		return;
	}
	if (gap > HOT_NS)
		return;
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE || cpu == t->pin_cpu)
		return;
	cpu_set_t mask = t->guest_mask;
	if (t->pin_cpu < 0 && sched_getaffinity(t->tid, sizeof(mask), &mask) < 0)
		return;
	if (!CPU_ISSET(cpu, &mask))
		return;
	if (t->pin_cpu < 0)
		t->guest_mask = mask; /* read by others only once pin_cpu >= 0 */
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(t->tid, sizeof(one), &one) == 0) {
		if (t->pin_cpu < 0)
			npinned++;
		pthread_mutex_lock(&tlock);
		t->pin_cpu = cpu;
		pthread_mutex_unlock(&tlock);
	}
}

bool ptrace_guest_affinity(pid_t tid, cpu_set_t *mask)
{
	pthread_mutex_lock(&tlock);
	struct ptracee *t = ptracee_find(tid);
	bool pinned = t && t->pin_cpu >= 0;
	if (pinned)
		*mask = t->guest_mask;
	pthread_mutex_unlock(&tlock);
	return pinned;
}

static int unpin_cmd(struct ptracee *t, void *arg)
{
	if (!*(bool *)arg) {
		if (t)
			unpin(t);
		return 0;
	}
	for (int i = 0; i < NBUCKETS; i++)
		for (struct ptracee *x = table[i]; x; x = x->next)
			unpin(x);
	return 0;
}

/* With tid 0 the command finds no task (t NULL) and unpins them all. */
void ptrace_unpin(pid_t tid)
{
	bool all = tid <= 0;
	(void)ptrace_call_tid(all ? 0 : tid, 0, unpin_cmd, &all);
}

static void start_request(struct ptracee *t)
{
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) < 0) {
		(void)kill(t->tid, SIGKILL); /* fail closed: never let it run unanswered */
		return;
	}
	colocate(t);
	const struct user_regs_struct *g = &t->regs;
	pthread_mutex_lock(&tlock);
	t->id = ++next_id;
	pthread_mutex_unlock(&tlock);
	struct sysreq r = {
		.id = t->id,
		.tid = t->tid,
		.nr = (int)g->orig_rax,
		.arch = AUDIT_ARCH_X86_64, /* the filter kills every other */
		.args = { g->rdi, g->rsi, g->rdx, g->r10, g->r8, g->r9 },
		.ip = g->rip,
		.listener = -1,
		.reply_fd = -1,
	};
	/* A handler that never waits for another guest task runs here: the
	 * stop, this thread, the answer; no worker, no command. t may be gone
	 * once it returns (the answer resumed the task). */
	if (inline_fn && inline_fn(&r)) {
		ptrace_op_done(&r);
		return;
	}
	struct queued *q = malloc(sizeof(*q));
	if (!q) {
		(void)kill(t->tid, SIGKILL);
		return;
	}
	q->r = r;
	q->next = NULL;
	pthread_mutex_lock(&tlock);
	*req_tail = q;
	req_tail = &q->next;
	pthread_cond_signal(&req_cond);
	pthread_mutex_unlock(&tlock);
}

/* Under PTRACE_SEIZE a group-stop is a PTRACE_EVENT_STOP with the stop
 * signal (an interrupt's has SIGTRAP, or the stop signal while the group
 * is stopped: a group-stop too). */
static bool is_group_stop(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void on_event(struct ptracee *t, int event)
{
	unsigned long msg = 0;
	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0)
		return;
	pid_t child = (pid_t)msg;
	/* The flags of the call it stopped in (fork and vfork: none). */
	uint64_t flags = t->regs.orig_rax == SYS_clone ? t->regs.rdi : 0;
	bool thread = event == PTRACE_EVENT_CLONE && (flags & CLONE_THREAD);
	pid_t tgid = event == PTRACE_EVENT_CLONE ? (thread ? t->tgid : 0) : child;
	pid_t ptgid = ptracee_tgid(t);
	ptrace_rx_cloned(ptgid, thread ? ptgid : child, flags & CLONE_FILES);
	struct ptracee *c = ptracee_add_held(child, tgid);
	if (c) {
		/* It has its creator's affinity, pinned or not. */
		if (t->pin_cpu >= 0 && c->pin_cpu < 0) {
			c->last_stop_ns = (uint64_t)now_ns();
			npinned++;
			pthread_mutex_lock(&tlock);
			c->guest_mask = t->guest_mask;
			c->pin_cpu = t->pin_cpu;
			pthread_mutex_unlock(&tlock);
		}
	}
	if (t->follow && c) {
		/* Held, with its creator, until the handler registered it. */
		follow_done(t, child, 0);
		return;
	}
	/* Nobody follows this call (it cannot be: every clone is trapped).
	 * Unregistered, the new task is killed at its first trapped call. */
	if (c)
		ptracee_release(c);
	(void)ptrace(PTRACE_CONT, t->tid, 0, 0);
}

static void on_stop(pid_t pid, int st)
{
	struct ptracee *t = ptracee_find(pid);
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		if (t)
			ptracee_forget(t);
		ptrace_rx_forget(pid); /* a leader ends last: its process's */
		return;
	}
	if (!WIFSTOPPED(st))
		return;
	if (!t && !(t = ptracee_add_held(pid, 0))) {
		/* A new task before its creator's event. */
		(void)kill(pid, SIGKILL);
		return;
	}
	int sig = WSTOPSIG(st), event = st >> 16;
	if (t->listening) {
		pthread_mutex_lock(&tlock);
		t->listening = false;
		pthread_mutex_unlock(&tlock);
	}
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		start_request(t);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		on_event(t, event);
		return;
	case PTRACE_EVENT_STOP:
		if (!t->start_seen) {
			/* A new task's first stop: before its first instruction. */
			t->start_seen = true;
			if (t->held && !t->released)
				return;
			t->held = false;
		} else if (is_group_stop(sig)) {
			pthread_mutex_lock(&tlock);
			t->listening = true;
			pthread_mutex_unlock(&tlock);
			(void)ptrace(PTRACE_LISTEN, pid, 0, 0);
			return;
		}
		(void)ptrace(PTRACE_CONT, pid, 0, 0);
		return;
	case 0:
		if (sig == (SIGTRAP | 0x80)) {
			/* The end of a followed clone that made nothing. */
			if (t->follow) {
				t->id = 0;
				follow_done(t, 0, 0);
			}
			(void)ptrace(PTRACE_CONT, pid, 0, 0);
			return;
		}
		if (!t->start_seen)
			t->start_seen = true;
		(void)ptrace(PTRACE_CONT, pid, 0, sig); /* deliver it */
		return;
	default:
		/* PTRACE_EVENT_EXEC of an exec the tracer did not make (there
		 * is none: the exec handler's own is awaited where it is made). */
		(void)ptrace(PTRACE_CONT, pid, 0, 0);
		return;
	}
}

static bool is_mine(const struct tracee *tr, pid_t p, int st)
{
	if (p == tr->tid)
		return true;
	if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXEC && p == tr->tgid) {
		/* An exec from a non-leader thread completes on the leader's
		 * tid; the message is the thread's former one. */
		unsigned long former = 0;
		return ptrace(PTRACE_GETEVENTMSG, p, 0, &former) == 0 && (pid_t)former == tr->tid;
	}
	return false;
}

pid_t ptrace_wait_for(struct tracee *tr, int *status)
{
	/* Its stop or end may have been collected already, while the tracer
	 * waited for another task's: the kernel reports each only once. */
	for (struct stashed **pp = &stash_head; *pp; pp = &(*pp)->next) {
		struct stashed *s = *pp;
		if (!is_mine(tr, s->pid, s->status))
			continue;
		*status = s->status;
		pid_t p = s->pid;
		/* An end stays stashed for the main loop, which forgets it. */
		if (!WIFEXITED(s->status) && !WIFSIGNALED(s->status)) {
			*pp = s->next;
			if (!*pp)
				stash_tail = pp;
			free(s);
		}
		return p;
	}
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, __WALL | __WNOTHREAD);
		if (p < 0 && errno == EINTR)
			continue; /* WAIT_SIGNAL, after a handler's gofer wait */
		if (p < 0)
			return p;
		bool mine = is_mine(tr, p, st);
		if (mine) {
			*status = st;
			/* Its end is also the main loop's, which forgets it. */
			if (!WIFEXITED(st) && !WIFSIGNALED(st))
				return p;
		}
		struct stashed *s = malloc(sizeof(*s));
		if (!s) {
			on_stop(p, st);
			continue;
		}
		*s = (struct stashed){ .pid = p, .status = st };
		*stash_tail = s;
		stash_tail = &s->next;
		if (mine)
			return p;
	}
}

int ptrace_skip_call(struct ptracee *t, struct tracee *tr, uint64_t *ret_mask)
{
	uint64_t all = ~0ULL;
	struct user_regs_struct regs = t->regs;
	regs.orig_rax = (uint64_t)-1;
	regs.rax = 0;
	if (ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(*ret_mask), ret_mask) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all) < 0 ||
	    ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(PTRACE_SINGLESTEP, t->tid, 0, 0) < 0)
		return tracee_gone(tr);
	int st = tracee_next_stop(tr, PTRACE_SINGLESTEP, STOP_STEP);
	return st < 0 ? st : 0;
}

static void run_commands(void)
{
	for (;;) {
		pthread_mutex_lock(&tlock);
		struct cmd *c = cmd_head;
		if (c) {
			cmd_head = c->next;
			if (!cmd_head)
				cmd_tail = &cmd_head;
		}
		struct ptracee *t = c ? ptracee_find(c->tid) : NULL;
		bool ok = c && (c->id == 0 || (t && t->id == c->id));
		pthread_mutex_unlock(&tlock);
		if (!c)
			return;
		int result = ok ? c->fn(t, c->arg) : -ENOENT;
		if (c->detached) {
			free(c);
			continue;
		}
		pthread_mutex_lock(&tlock);
		c->result = result;
		c->done = true;
		pthread_cond_broadcast(&done_cond);
		pthread_mutex_unlock(&tlock);
	}
}

static bool drain_stops(void)
{
	bool any = false;
	while (stash_head) {
		struct stashed *s = stash_head;
		stash_head = s->next;
		if (!stash_head)
			stash_tail = &stash_head;
		on_stop(s->pid, s->status);
		free(s);
		any = true;
	}
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, __WALL | __WNOTHREAD | WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0 && errno == ECHILD) {
			/* No tracee left: the guest is gone. */
			pthread_mutex_lock(&tlock);
			ended = true;
			pthread_cond_broadcast(&req_cond);
			pthread_mutex_unlock(&tlock);
			return any;
		}
		if (p <= 0)
			return any;
		on_stop(p, st);
		any = true;
	}
}

static void *tracer_main(void *arg)
{
	(void)arg;
	tracer_tid = gettid();
	on_tracer = true;
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	int r = ptrace(PTRACE_SEIZE, seize_pid, 0, OPTIONS) < 0 ? neg_errno() : 0;
	pthread_mutex_lock(&tlock);
	seize_result = r;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&tlock);
	if (r < 0)
		return NULL;
	struct ptracee *init = ptracee_new(seize_pid);
	if (!init) {
		(void)kill(seize_pid, SIGKILL);
		return NULL;
	}
	init->start_seen = true;
	init->tgid = seize_pid;
	for (;;) {
		run_commands();
		drain_stops();
		pthread_mutex_lock(&tlock);
		bool done = ended, more = cmd_head != NULL;
		pthread_mutex_unlock(&tlock);
		if (done)
			break;
		cool_down();
		if (more || stash_head)
			continue;
		/* The timeout bounds a wake-up lost to a bug, and while a task is
		 * pinned, how long it computes on its pinned CPU. */
		struct timespec ts = { 0, npinned ? (long)COLD_NS : 200 * 1000000L };
		(void)sigtimedwait(&chld, NULL, &ts);
	}
	/* Commands still queued find no task. */
	for (;;) {
		pthread_mutex_lock(&tlock);
		struct cmd *c = cmd_head;
		if (c)
			cmd_head = c->next;
		if (c && c->detached) {
			free(c);
		} else if (c) {
			c->result = -ENOENT;
			c->done = true;
			pthread_cond_broadcast(&done_cond);
		}
		pthread_mutex_unlock(&tlock);
		if (!c)
			break;
	}
	return NULL;
}

int ptrace_platform_start(pid_t init_pid)
{
	seize_pid = init_pid;
	pthread_attr_t attr;
	pthread_t th;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	int e = pthread_create(&th, &attr, tracer_main, NULL);
	pthread_attr_destroy(&attr);
	if (e)
		return -e;
	pthread_mutex_lock(&tlock);
	while (seize_result == 1)
		pthread_cond_wait(&done_cond, &tlock);
	int r = seize_result;
	pthread_mutex_unlock(&tlock);
	return r;
}

const struct platform_ops ptrace_platform_ops = {
	.kind = PLATFORM_PTRACE,
	.name = "ptrace",
	.receive = ptrace_receive,
	.id_valid = ptrace_id_valid,
	.reply = ptrace_op_reply,
	.reply_continue = ptrace_op_continue,
	.reply_fd = ptrace_op_reply_fd,
	.reply_fd_at = ptrace_op_reply_fd_at,
	.reply_restart = ptrace_op_restart,
	.follow_clone = ptrace_op_follow_clone,
	.exec = ptrace_op_exec,
	.unpin = ptrace_unpin,
	.guest_affinity = ptrace_guest_affinity,
	.done = ptrace_op_done,
};
