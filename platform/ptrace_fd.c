/* SPDX-License-Identifier: MIT */
/* Installing a host fd in a stopped tracee without seccomp's ADDFD
 * (ptrace_install_fd). ptrace cannot add an fd to another process's table;
 * only the process itself can, and SCM_RIGHTS is the way a process
 * receives one. So the tracee is made to run, as injected calls:
 *   socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC) -> a (its number in rax)
 *   (the sentry takes a copy of a with pidfd_getfd, binds it to an
 *   autobound abstract name, in the guest's netns where the socket lives,
 *   and sends the fd to that name: to a itself)
 *   recvmsg(a, MSG_DONTWAIT [|MSG_CMSG_CLOEXEC]) -> the fd, numbered by the
 *   kernel as any new fd (MSG_CTRUNC with none free: EMFILE)
 *   close(a)
 * At a seccomp stop the socket call takes the place of the trapped call
 * (ptrace_install_fd_at_entry): the kernel runs the call the tracer set,
 * and the single step that follows stops right after it, so the skip costs
 * no stop of its own. Its scratch (the msghdr, the control buffer) lies
 * below the red zone of its stack, with every blockable signal blocked, so
 * nothing of the guest's runs meanwhile on this thread. A sibling thread
 * could meddle with the scratch, close a or put another file at its number,
 * or send to a's name: then the fd lands elsewhere in the guest's own table
 * or nowhere, and the check at the end (kcmp: the guest's fd must be the
 * very file the sentry sent) turns any difference into -EIO. Only a unix
 * datagram socket the guest holds ever gets the fd; nothing the guest does
 * makes the kernel act on a path or send the fd outside the guest's reach.
 * Cost: three stops (the socket call's step, two injected calls) and five
 * calls of the sentry's; bench/README.md compares it with ADDFD. */
#include "platform/ptrace_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "platform/kfeatures.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

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

/* Send fd to the guest's socket number a (a copy taken through a pidfd:
 * the thread's own where the kernel has thread pidfds, 6.9, else its
 * process's, whose files are out of reach once the leader has exited, the
 * limit the notify platform has for fstat and listings too: -EIO). */
static int send_fd(pid_t tgid, pid_t tid, int a, int fd)
{
	_cleanup_close_ int pidfd = kfeature_has(KF_PIDFD_THREAD)
					    ? (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD)
					    : (int)syscall(SYS_pidfd_open, tgid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? -ESRCH : neg_errno();
	_cleanup_close_ int mine = (int)syscall(SYS_pidfd_getfd, pidfd, a, 0);
	if (mine < 0)
		return -EIO;
	/* A sibling may have put another file at that number meanwhile:
	 * whatever it is, it is the guest's own, but only an unbound unix
	 * datagram socket gets the fd (no stream to a service, no network). */
	int dom = 0, type = 0;
	socklen_t l1 = sizeof(dom), l2 = sizeof(type);
	if (getsockopt(mine, SOL_SOCKET, SO_DOMAIN, &dom, &l1) < 0 ||
	    getsockopt(mine, SOL_SOCKET, SO_TYPE, &type, &l2) < 0 || dom != AF_UNIX || type != SOCK_DGRAM)
		return -EIO;
	/* Autobind: an abstract name the kernel picks, unique in the netns. */
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t alen = sizeof(addr);
	if (bind(mine, (struct sockaddr *)&addr, sizeof(sa_family_t)) < 0 ||
	    getsockname(mine, (struct sockaddr *)&addr, &alen) < 0)
		return -EIO;
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = { .msg_name = &addr, .msg_namelen = alen, .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(mine, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ? 0 : -EIO;
}

/* From right after the socket call (its result in a): the rest. */
static int install_tail(struct tracee *tr, const struct user_regs_struct *saved, long a, int fd,
			bool cloexec)
{
	if (a < 0)
		return (int)a; /* EMFILE, ENFILE: the guest's own limits */
	uint64_t base = (saved->rsp - 256 - sizeof(struct scratch)) & ~15ULL;
	struct scratch s = { 0 };
	int rc = send_fd(tr->tgid, tr->tid, (int)a, fd);
	if (rc == -ESRCH)
		return tracee_gone(tr);
	if (rc == 0) {
		s.iov = (struct iovec){ (void *)(uintptr_t)(base + offsetof(struct scratch, byte)), 1 };
		s.msg.msg_iov = (void *)(uintptr_t)(base + offsetof(struct scratch, iov));
		s.msg.msg_iovlen = 1;
		s.msg.msg_control = (void *)(uintptr_t)(base + offsetof(struct scratch, ctl));
		s.msg.msg_controllen = sizeof(s.ctl.buf);
		rc = guest_write(tr->tid, base, &s, sizeof(s));
	}
	int got = -EIO;
	long v;
	if (rc == 0) {
		int flags = MSG_DONTWAIT | (cloexec ? MSG_CMSG_CLOEXEC : 0);
		if ((rc = tracee_inject_call(tr, saved, SYS_recvmsg, (uint64_t)a,
					     base + offsetof(struct scratch, msg), (uint64_t)flags, 0, 0,
					     &v)) < 0)
			return rc;
		struct scratch back;
		if (v != 1 || guest_read(tr->tid, base, &back, sizeof(back)) < 0)
			; /* -EIO */
		else if (back.msg.msg_flags & MSG_CTRUNC)
			got = -EMFILE; /* no free fd number: the kernel dropped it */
		else if (back.ctl.h.cmsg_level == SOL_SOCKET && back.ctl.h.cmsg_type == SCM_RIGHTS &&
			 back.ctl.h.cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&got, CMSG_DATA(&back.ctl.h), sizeof(int));
	}
	if ((rc = tracee_inject_call(tr, saved, SYS_close, (uint64_t)a, 0, 0, 0, 0, &v)) < 0)
		return rc;
	if (got < 0)
		return got;
	/* The very file the sentry sent, whatever a sibling did meanwhile. */
	if (syscall(SYS_kcmp, getpid(), tr->tid, KCMP_FILE, fd, got) != 0)
		return -EIO;
	return got;
}

int ptrace_install_fd(struct tracee *tr, const struct user_regs_struct *saved, int fd, bool cloexec)
{
	long a;
	int rc = tracee_inject_call(tr, saved, SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0, &a);
	if (rc < 0)
		return rc;
	return install_tail(tr, saved, a, fd, cloexec);
}

int ptrace_install_fd_at_entry(struct ptracee *t, struct tracee *tr, uint64_t *ret_mask, int fd,
			       bool cloexec)
{
	uint64_t all = ~0ULL;
	struct user_regs_struct regs = t->regs;
	regs.orig_rax = SYS_socket;
	regs.rdi = AF_UNIX;
	regs.rsi = SOCK_DGRAM | SOCK_CLOEXEC;
	regs.rdx = 0;
	if (ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(*ret_mask), ret_mask) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all) < 0 ||
	    ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(PTRACE_SINGLESTEP, t->tid, 0, 0) < 0)
		return tracee_gone(tr);
	int st = tracee_next_stop(tr, PTRACE_SINGLESTEP, STOP_STEP);
	if (st < 0)
		return st;
	long a;
	if ((st = tracee_result(tr, &a)) < 0)
		return st;
	return install_tail(tr, &t->regs, a, fd, cloexec);
}
