/* SPDX-License-Identifier: MIT */
/* Installing a host fd in a stopped tracee without seccomp's ADDFD
 * (ptrace_install_fd). ptrace cannot add an fd to another process's table;
 * only the process itself can, and SCM_RIGHTS is the way a process
 * receives one. So the tracee receives it: each process keeps a receiving
 * socket, one end of a datagram socketpair at a high number (RX_BASE or
 * above, CLOEXEC), whose other end only the sentry holds, so nothing but
 * the sentry can send to it. An install is then one injected call,
 *   recvmsg(num, MSG_DONTWAIT [|MSG_CMSG_CLOEXEC]) -> the fd, numbered by
 *   the kernel as any new fd: the lowest free (MSG_CTRUNC with none free:
 *   EMFILE)
 * after the sentry sent the fd on its end. At a seccomp stop that call
 * takes the place of the trapped call (ptrace_install_fd_at_entry): the
 * kernel runs the call the tracer set, and the single step that follows
 * stops right after it, so an fd costs one stop (ADDFD: none).
 * ptrace_install_fd_fast saves that stop where the number is known before
 * the call: with one thread and a table nobody else shares, nothing can
 * take the lowest free number between the sentry's look at /proc/<tid>/fd
 * and the recvmsg, so the payload is made that many bytes long and the
 * call's own result is the number; the task simply runs on.
 *
 * The socket is made at the process's first install (socketpair, moved up
 * with F_DUPFD_CLOEXEC, the pair's low numbers closed: four stops with the
 * recvmsg) and again whenever it is no longer there (exec closes it; the
 * guest may close it or put something else at its number: checked with
 * kcmp before each use). A copy of it must never serve two processes, or
 * one could take the other's fds: a clone without CLONE_FILES marks it
 * shared (ptrace_rx_cloned), and a shared one is never sent to again; each
 * side makes a new one at its next install, in place of the copy. If none
 * can be placed (RLIMIT_NOFILE at or below RX_BASE), a socket of the
 * call's own carries the one fd (install_once).
 *
 * Scratch (the msghdr, the control buffer, the pair's numbers) lies below
 * the red zone of the stack, with every blockable signal blocked, so
 * nothing of the guest's runs meanwhile on this thread. A sibling thread
 * could meddle with the scratch or with the numbers: then the fd lands
 * elsewhere in the guest's own table or nowhere, and the check at the end
 * (kcmp: the guest's fd must be the very file the sentry sent) turns any
 * difference into -EIO. Only a unix datagram socket the guest holds ever
 * gets the fd; nothing the guest does makes the kernel act on a path or
 * send the fd outside the guest's reach. The visible difference: the
 * receiving socket in the guest's table (and in /proc/self/fd), at RX_BASE
 * or above. */
#include "platform/ptrace_platform.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/pidfd.h"
#include "common/util.h"
#include "platform/kfeatures.h"

/* Where a process's receiving socket goes: above what programs use, below
 * the default RLIMIT_NOFILE (1024). */
#define RX_BASE 1000

/* The scratch, as the guest sees it (one write, one read back). */
struct scratch {
	struct msghdr msg;
	struct iovec iov;
	char byte;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
};

/* A process's receiving socket. Made, changed and freed on the tracer
 * thread only (every install runs there), under rx_lock, which other
 * threads take to look (ptrace_fd_is_moat). */
struct rxsock {
	pid_t tgid;
	int num;        /* its number in the guest's table */
	int a;          /* the sentry's copy of it (kcmp) */
	int b;          /* the sentry's end of the pair */
	bool shared;    /* a clone copied it: never sent to again */
	/* Another process shares the fd table (CLONE_FILES without
	 * CLONE_THREAD): no install_fast, whose number could be taken. */
	bool table_shared;
	/* install_fast's views of it: its /proc task directory (whose link
	 * count tells its threads) and a thread's fd directory; -1 until
	 * needed. */
	int taskdir, fddir;
	pid_t fddir_tid;
	/* Its fds filled every number below FAST_MAX_FD at the last look: the
	 * next this many installs take the stepped way without looking. */
	unsigned fast_skip;
	struct rxsock *next;
};

#define RX_BUCKETS 256
static struct rxsock *rx_table[RX_BUCKETS];
static pthread_mutex_t rx_lock = PTHREAD_MUTEX_INITIALIZER;

/* The sentry's pid, for kcmp (one syscall fewer per check). */
static pid_t self_pid(void)
{
	static _Atomic pid_t pid;
	pid_t p = pid;
	if (!p)
		pid = p = getpid();
	return p;
}

static unsigned rx_bucket(pid_t tgid) { return (unsigned)tgid % RX_BUCKETS; }

static struct rxsock *rx_find(pid_t tgid)
{
	for (struct rxsock *x = rx_table[rx_bucket(tgid)]; x; x = x->next)
		if (x->tgid == tgid)
			return x;
	return NULL;
}

static struct rxsock *rx_new(pid_t tgid)
{
	struct rxsock *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	*x = (struct rxsock){ .tgid = tgid, .a = -1, .b = -1, .taskdir = -1, .fddir = -1,
			      .next = rx_table[rx_bucket(tgid)] };
	pthread_mutex_lock(&rx_lock);
	rx_table[rx_bucket(tgid)] = x;
	pthread_mutex_unlock(&rx_lock);
	return x;
}

bool ptrace_fd_is_moat(pid_t tgid, pid_t tid, int fd)
{
	if (fd < RX_BASE)
		return false;
	pthread_mutex_lock(&rx_lock);
	struct rxsock *x = rx_find(tgid);
	bool mine = x && x->num == fd && syscall(SYS_kcmp, self_pid(), tid, KCMP_FILE, x->a, fd) == 0;
	pthread_mutex_unlock(&rx_lock);
	return mine;
}

void ptrace_rx_forget(pid_t tgid)
{
	for (struct rxsock **pp = &rx_table[rx_bucket(tgid)]; *pp; pp = &(*pp)->next) {
		struct rxsock *x = *pp;
		if (x->tgid != tgid)
			continue;
		pthread_mutex_lock(&rx_lock);
		*pp = x->next;
		pthread_mutex_unlock(&rx_lock);
		safe_close(x->a);
		safe_close(x->b);
		safe_close(x->taskdir);
		safe_close(x->fddir);
		free(x);
		return;
	}
}

static void mark_table_shared(pid_t tgid)
{
	struct rxsock *x = rx_find(tgid);
	if (!x && !(x = rx_new(tgid)))
		return;
	pthread_mutex_lock(&rx_lock);
	x->table_shared = true;
	pthread_mutex_unlock(&rx_lock);
}

void ptrace_rx_cloned(pid_t tgid, pid_t child_tgid, bool files_shared)
{
	if (files_shared) {
		if (child_tgid != tgid) {
			mark_table_shared(tgid);
			mark_table_shared(child_tgid);
		}
		return;
	}
	struct rxsock *x = rx_find(tgid);
	if (!x)
		return;
	x->shared = true;
	/* The child's copy sits at the same number: its own new socket goes
	 * there (rx_make checks it is still this one). */
	if (child_tgid == tgid || rx_find(child_tgid))
		return;
	int copy = fcntl(x->a, F_DUPFD_CLOEXEC, 3);
	struct rxsock *c = copy >= 0 ? rx_new(child_tgid) : NULL;
	if (!c) {
		safe_close(copy);
		return;
	}
	pthread_mutex_lock(&rx_lock);
	c->a = copy;
	c->num = x->num;
	c->shared = true;
	pthread_mutex_unlock(&rx_lock);
}

static int guest_write(pid_t tid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len }, remote = { (void *)(uintptr_t)addr, len };
	return process_vm_writev(tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

static int guest_read(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* A copy of the guest's fd n, which must be a unix datagram socket
 * (whatever a sibling put there, it is the guest's own, but only such a
 * socket gets an fd: no stream to a service, no network). Taken through a
 * pidfd: the thread's own where the kernel has thread pidfds, 6.9, else
 * its process's, whose files are out of reach once the leader has exited,
 * the limit the notify platform has for fstat and listings too: -EIO.
 * -ESRCH: gone. */
static int take_copy(pid_t tgid, pid_t tid, int n, int *ret)
{
	_cleanup_close_ int pidfd = kfeature_has(KF_PIDFD_THREAD)
					    ? (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD)
					    : (int)syscall(SYS_pidfd_open, tgid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? -ESRCH : neg_errno();
	_cleanup_close_ int mine = (int)syscall(SYS_pidfd_getfd, pidfd, n, 0);
	if (mine < 0)
		return -EIO;
	int dom = 0, type = 0;
	socklen_t l1 = sizeof(dom), l2 = sizeof(type);
	if (getsockopt(mine, SOL_SOCKET, SO_DOMAIN, &dom, &l1) < 0 ||
	    getsockopt(mine, SOL_SOCKET, SO_TYPE, &type, &l2) < 0 || dom != AF_UNIX || type != SOCK_DGRAM)
		return -EIO;
	*ret = TAKE_FD(mine);
	return 0;
}

/* Send fd to the guest's socket number a (install_once): through an
 * autobound abstract name, in the guest's netns where the socket lives. */
static int send_fd(pid_t tgid, pid_t tid, int a, int fd)
{
	_cleanup_close_ int mine = -1;
	int rc = take_copy(tgid, tid, a, &mine);
	if (rc < 0)
		return rc;
	/* Autobind: an abstract name the kernel picks, unique in the netns. */
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t alen = sizeof(addr);
	if (bind(mine, (struct sockaddr *)&addr, sizeof(sa_family_t)) < 0 ||
	    getsockname(mine, (struct sockaddr *)&addr, &alen) < 0)
		return -EIO;
	return send_fds(mine, "", 1, &fd, 1, MSG_DONTWAIT, (struct sockaddr *)&addr, alen) == 1 ? 0 : -EIO;
}

/* Where the installing calls run: the first in place of the trapped call
 * (entry: saved are the registers at its seccomp stop), the others
 * injected at the syscall instruction the tracee stopped after. */
struct inj {
	struct tracee *tr;
	const struct user_regs_struct *saved;
	bool entry;
};

/* 0 with the call's result in *ret, or -ESRCH (the task is gone). At
 * entry ret may be NULL: the result is not read (recv_fd looks at what
 * the call wrote instead). */
static int inj_call(struct inj *in, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		    long *ret)
{
	if (!in->entry)
		return tracee_inject_call(in->tr, in->saved, nr, a0, a1, a2, a3, 0, ret);
	in->entry = false;
	struct user_regs_struct regs = *in->saved;
	regs.orig_rax = (uint64_t)nr;
	regs.rdi = a0, regs.rsi = a1, regs.rdx = a2, regs.r10 = a3, regs.r8 = 0, regs.r9 = 0;
	if (ptrace(PTRACE_SETREGS, in->tr->tid, 0, &regs) < 0 ||
	    ptrace(PTRACE_SINGLESTEP, in->tr->tid, 0, 0) < 0)
		return tracee_gone(in->tr);
	int st = tracee_next_stop(in->tr, PTRACE_SINGLESTEP, STOP_STEP);
	if (st < 0)
		return st;
	return ret ? tracee_result(in->tr, ret) : 0;
}

/* The scratch of a recvmsg at guest address base, for a payload of len
 * bytes at data, as the guest sees it. */
static void scratch_init(struct scratch *s, uint64_t base, uint64_t data, size_t len)
{
	*s = (struct scratch){ 0 };
	s->iov = (struct iovec){ (void *)(uintptr_t)data, len };
	s->msg.msg_iov = (void *)(uintptr_t)(base + offsetof(struct scratch, iov));
	s->msg.msg_iovlen = 1;
	s->msg.msg_control = (void *)(uintptr_t)(base + offsetof(struct scratch, ctl));
	s->msg.msg_controllen = sizeof(s->ctl.buf);
}

/* The msghdr of an injected recvmsg at base, read back after the call:
 * the fd it received, -EMFILE (none free: the kernel dropped it) or -EIO. */
static int recv_fd(struct tracee *tr, struct inj *in, long sock, uint64_t base, bool cloexec,
		   int *ret_fd)
{
	struct scratch s;
	scratch_init(&s, base, base + offsetof(struct scratch, byte), 1);
	*ret_fd = -EIO;
	if (guest_write(tr->tid, base, &s, sizeof(s)) < 0)
		return 0;
	/* At entry its result is not read: a failed call leaves the
	 * control buffer as written (empty), which gives -EIO below. */
	long v = 1;
	int flags = MSG_DONTWAIT | (cloexec ? MSG_CMSG_CLOEXEC : 0);
	int rc = inj_call(in, SYS_recvmsg, (uint64_t)sock, base + offsetof(struct scratch, msg),
			  (uint64_t)flags, 0, in->entry ? NULL : &v);
	if (rc < 0)
		return rc;
	struct scratch back;
	if (v != 1 || guest_read(tr->tid, base, &back, sizeof(back)) < 0)
		; /* -EIO */
	else if (back.msg.msg_flags & MSG_CTRUNC)
		*ret_fd = -EMFILE; /* no free fd number: the kernel dropped it */
	else if (back.ctl.h.cmsg_level == SOL_SOCKET && back.ctl.h.cmsg_type == SCM_RIGHTS &&
		 back.ctl.h.cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(ret_fd, CMSG_DATA(&back.ctl.h), sizeof(int));
	return 0;
}

/* The very file the sentry sent, whatever a sibling did meanwhile? */
static int same_file(const struct tracee *tr, int mine, int theirs)
{
	return syscall(SYS_kcmp, self_pid(), tr->tid, KCMP_FILE, mine, theirs) == 0;
}

static int send_on(int b, int fd)
{
	return send_fds(b, "", 1, &fd, 1, MSG_DONTWAIT, NULL, 0) == 1 ? 0 : -EIO;
}

/* The fall-back (no receiving socket could be placed: RLIMIT_NOFILE below
 * RX_BASE): a socket of its own for this one fd, sent to through its
 * autobound name. The fd lands above the socket, so it is moved down to
 * the socket's number (dup3 closes the socket), which is the number the
 * call would have had. Four stops. */
static int install_once(struct tracee *tr, struct inj *in, uint64_t base, int fd, bool cloexec)
{
	long a, v;
	int rc = inj_call(in, SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, &a);
	if (rc < 0)
		return rc;
	if (a < 0)
		return (int)a; /* EMFILE, ENFILE: the guest's own limits */
	rc = send_fd(tr->tgid, tr->tid, (int)a, fd);
	if (rc == -ESRCH)
		return tracee_gone(tr);
	int got = -EIO;
	if (rc == 0 && (rc = recv_fd(tr, in, a, base, cloexec, &got)) < 0)
		return rc;
	if (got >= 0) {
		if ((rc = inj_call(in, SYS_dup3, (uint64_t)got, (uint64_t)a, cloexec ? O_CLOEXEC : 0, 0, &v)) < 0)
			return rc;
		if (v == a) {
			if ((rc = inj_call(in, SYS_close, (uint64_t)got, 0, 0, 0, &v)) < 0)
				return rc;
			got = (int)a;
			a = -1;
		}
	}
	if (a >= 0 && (rc = inj_call(in, SYS_close, (uint64_t)a, 0, 0, 0, &v)) < 0)
		return rc;
	if (got < 0)
		return got;
	return same_file(tr, fd, got) ? got : -EIO;
}

/* A new receiving socket for the process (the state after the first call
 * is that after any injected call). Returns 0 with *ret set, 1 when none
 * could be placed (the caller falls back), or -errno (-ESRCH: gone; else
 * what the guest gets: its fd limit). */
static int rx_make(struct tracee *tr, struct inj *in, uint64_t base, struct rxsock **ret)
{
	long v;
	int rc = inj_call(in, SYS_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, base, &v);
	if (rc < 0)
		return rc;
	if (v < 0)
		return (int)v; /* EMFILE, ENFILE */
	int sv[2];
	if (guest_read(tr->tid, base, sv, sizeof(sv)) < 0)
		return -EIO; /* the guest's own memory: its threads' doing */
	_cleanup_close_ int a = -1, b = -1;
	int grc = take_copy(tr->tgid, tr->tid, sv[0], &a);
	if (grc == 0)
		grc = take_copy(tr->tgid, tr->tid, sv[1], &b);
	if (grc == -ESRCH)
		return tracee_gone(tr);
	/* Its number: where the process's previous one is (ours, checked:
	 * a fork's copy, closed by the exec, or gone stale), else the lowest
	 * free from RX_BASE up. Never over a file of the guest's. */
	struct rxsock *old = rx_find(tr->tgid);
	long n = -EBADF;
	if (grc == 0) {
		if (old && same_file(tr, old->a, old->num))
			rc = inj_call(in, SYS_dup3, (uint64_t)sv[0], (uint64_t)old->num, O_CLOEXEC, 0, &n);
		else
			rc = inj_call(in, SYS_fcntl, (uint64_t)sv[0], F_DUPFD_CLOEXEC, RX_BASE, 0, &n);
		if (rc < 0)
			return rc;
	}
	if (sv[1] == sv[0] + 1)
		rc = inj_call(in, SYS_close_range, (uint64_t)sv[0], (uint64_t)sv[1], 0, 0, &v);
	else if ((rc = inj_call(in, SYS_close, (uint64_t)sv[0], 0, 0, 0, &v)) == 0)
		rc = inj_call(in, SYS_close, (uint64_t)sv[1], 0, 0, 0, &v);
	if (rc < 0)
		return rc;
	if (grc < 0)
		return -EIO;
	if (n < 0 || !same_file(tr, a, (int)n))
		return 1; /* below RX_BASE's limit, or meddled with */
	struct rxsock *x = old ? old : rx_new(tr->tgid);
	if (!x)
		return 1;
	pthread_mutex_lock(&rx_lock);
	safe_close(x->a);
	safe_close(x->b);
	x->num = (int)n;
	x->a = TAKE_FD(a);
	x->b = TAKE_FD(b);
	x->shared = false;
	pthread_mutex_unlock(&rx_lock);
	*ret = x;
	return 0;
}

static int install(struct tracee *tr, struct inj *in, int fd, bool cloexec)
{
	uint64_t base = (in->saved->rsp - 256 - sizeof(struct scratch)) & ~15ULL;
	struct rxsock *x = rx_find(tr->tgid);
	if (!x || x->shared || !same_file(tr, x->a, x->num)) {
		x = NULL;
		int rc = rx_make(tr, in, base, &x);
		if (rc == 1)
			return install_once(tr, in, base, fd, cloexec);
		if (rc < 0)
			return rc;
	}
	if (send_on(x->b, fd) < 0) {
		x->shared = true; /* never again: make another next time */
		return -EIO;
	}
	int got;
	int rc = recv_fd(tr, in, x->num, base, cloexec, &got);
	if (rc < 0 || got < 0)
		x->shared = true; /* the message may still be queued */
	if (rc < 0)
		return rc;
	if (got < 0)
		return got;
	return same_file(tr, fd, got) ? got : -EIO;
}

int ptrace_install_fd(struct tracee *tr, const struct user_regs_struct *saved, int fd, bool cloexec)
{
	struct inj in = { .tr = tr, .saved = saved };
	return install(tr, &in, fd, cloexec);
}

/* The number the next new fd of the process will get, where nothing else
 * can take it first: one thread (a task directory's link count is 2 plus
 * its threads) and a table no other process shares. The lowest free number
 * below FAST_MAX_FD, or -EMFILE if that is at or above its RLIMIT_NOFILE
 * (Linux's answer then), or -EAGAIN when it cannot be known so. */
#define FAST_MAX_FD 1024

static int next_fd(struct rxsock *x, pid_t tid)
{
	char path[48];
	struct stat st;
	if (x->taskdir < 0) {
		snprintf(path, sizeof(path), "/proc/%d/task", x->tgid);
		x->taskdir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (x->taskdir < 0 || fstat(x->taskdir, &st) < 0 || st.st_nlink != 3)
		return -EAGAIN;
	if (x->fddir < 0 || x->fddir_tid != tid) {
		safe_close(x->fddir);
		snprintf(path, sizeof(path), "/proc/%d/fd", tid);
		x->fddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		x->fddir_tid = tid;
	} else if (lseek(x->fddir, 0, SEEK_SET) < 0) {
		return -EAGAIN;
	}
	if (x->fddir < 0)
		return -EAGAIN;
	/* The kernel lists a task's fds in ascending order, so the first
	 * number missing from the listing is the lowest free one: read only
	 * as far as that (never the whole table of a process with thousands
	 * of fds open, which made each open O(fds)). */
	static char buf[32768]; /* the tracer thread's alone */
	int free_fd = 0;
	for (bool gap = false; !gap;) {
		long n = syscall(SYS_getdents64, x->fddir, buf, sizeof(buf));
		if (n < 0)
			return -EAGAIN;
		for (long off = 0; off < n && !gap;) {
			struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; }
				*d = (void *)(buf + off);
			off += d->reclen;
			char *end;
			unsigned long v = strtoul(d->name, &end, 10);
			if (end == d->name || *end)
				continue; /* "." and ".." */
			if (v != (unsigned long)free_fd)
				gap = true;
			else if (++free_fd >= FAST_MAX_FD) {
				x->fast_skip = 64;
				return -EAGAIN;
			}
		}
		/* The kernel fills the buffer while the next entry fits (at
		 * most 32 bytes for an fd's): room left means the end. */
		if (n <= (long)sizeof(buf) - 64)
			break;
	}
	struct rlimit lim;
	if (prlimit(tid, RLIMIT_NOFILE, NULL, &lim) < 0)
		return -EAGAIN;
	return (rlim_t)free_fd < lim.rlim_cur ? free_fd : -EMFILE;
}

int ptrace_install_fd_fast(struct ptracee *t, struct tracee *tr, int fd, bool cloexec)
{
	struct rxsock *x = rx_find(tr->tgid);
	if (!x || x->shared || x->table_shared)
		return -EAGAIN;
	if (x->fast_skip) {
		x->fast_skip--;
		return -EAGAIN;
	}
	if (!same_file(tr, x->a, x->num))
		return -EAGAIN;
	int n = next_fd(x, tr->tid);
	if (n < 0)
		return n;
	/* The payload's length is the number: recvmsg's result. Its bytes
	 * land below the scratch, under the red zone. */
	static const char zeros[FAST_MAX_FD];
	struct scratch s;
	uint64_t base = (t->regs.rsp - 256 - sizeof(s) - (uint64_t)n) & ~15ULL;
	scratch_init(&s, base, base + sizeof(s), (size_t)n);
	if (guest_write(tr->tid, base, &s, sizeof(s)) < 0)
		return -EAGAIN;
	if (send_fds(x->b, zeros, (size_t)n, &fd, 1, MSG_DONTWAIT, NULL, 0) != n) {
		x->shared = true; /* never again: make another next time */
		return -EAGAIN;
	}
	struct user_regs_struct regs = t->regs;
	regs.orig_rax = SYS_recvmsg;
	regs.rdi = (uint64_t)x->num;
	regs.rsi = base + offsetof(struct scratch, msg);
	regs.rdx = (uint64_t)(MSG_DONTWAIT | (cloexec ? MSG_CMSG_CLOEXEC : 0));
	t->id = 0;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(PTRACE_CONT, t->tid, 0, 0) < 0) {
		x->shared = true; /* the message may still be queued */
		return -ESRCH;
	}
	return n;
}

int ptrace_install_fd_at_entry(struct ptracee *t, struct tracee *tr, uint64_t *ret_mask, int fd,
			       bool cloexec)
{
	uint64_t all = ~0ULL;
	if (ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(*ret_mask), ret_mask) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all) < 0)
		return tracee_gone(tr);
	struct inj in = { .tr = tr, .saved = &t->regs, .entry = true };
	return install(tr, &in, fd, cloexec);
}
