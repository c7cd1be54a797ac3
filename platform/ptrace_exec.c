/* SPDX-License-Identifier: MIT */
/* req_exec() on the notify platform: completing an exec through ptrace
 * (docs/architecture.md, "Exec"). The guest thread, still inside its execve
 * notification, is seized, handed a sealed memfd holding "" and the argv the
 * sentry decided (ADDFD) and the binary's fd (ADDFD|SEND); at the interrupt
 * stop it maps the memfd read-only at the address its pointers were written
 * for (an injected mmap); then its registers become
 * execveat(fd, "", argv, envp, AT_EMPTY_PATH), a fresh syscall that passes
 * the filter again. The kernel never resolves a guest path.
 *
 * What a hostile sibling thread can still do (swap the fd number with dup2,
 * unmap the memfd and map its own memory there) is caught at the exec event:
 * the new program must be the sentry's file (dev, ino) with the sentry's
 * argv, else the task is killed before it runs an instruction.
 *
 * Pitfalls handled here (all seen on this kernel):
 *  - the thread waits killably in its notification (WAIT_KILLABLE_RECV), so
 *    PTRACE_INTERRUPT stops it only once ADDFD|SEND has completed the call;
 *  - a rewritten call must be a fresh syscall (rip -= 2) so seccomp checks
 *    it again; injected calls are single-stepped, one stop each;
 *  - signals: every blockable signal is blocked from the interrupt stop on
 *    and the guest's mask restored before detaching, so signals that arrive
 *    meanwhile stay pending in the kernel, siginfo and all, and are delivered
 *    after the exec or the failed call (the mask is restored at the exec
 *    event, as execve keeps it, and no signal can cut the re-issued call's
 *    notification wait short before the sentry sees it); SIGSTOP is delivered as it comes (a
 *    group-stop is resumed and re-entered after detaching);
 *  - a failed exec unmaps the memfd, closes both fds and restores every
 *    register, with -ERESTARTNOINTR when the call was interrupted;
 *  - exec from a non-leader thread completes on the leader's tid. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "platform.h"

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTART_RESTARTBLOCK 516
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

struct tracee {
	pid_t tid, tgid;
};

/* What next_stop() waits for, beside the exec event. */
enum stop_kind {
	STOP_INTERRUPT, /* the PTRACE_INTERRUPT stop */
	STOP_STEP,      /* the end of a single step (over an injected syscall) */
	STOP_EXIT,      /* the end of the task */
};

/* Wait for the next stop of the given kind, or the exec event; resume_req
 * says how to let the tracee go on past anything else. Returns the wait
 * status or -ESRCH (it died). */
static int next_stop(struct tracee *tr, int resume_req, enum stop_kind kind)
{
	for (;;) {
		int st;
		/* This worker thread traces exactly one task and has no children
		 * (__WNOTHREAD), so any event is our tracee's. Waiting by tid would
		 * hang on an exec from a non-leader thread, which takes over the
		 * leader's tid in the middle of the exec. */
		pid_t p = waitpid(-1, &st, __WALL | __WNOTHREAD);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -ESRCH : neg_errno();
		}
		tr->tid = p;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), event = (unsigned)st >> 16;
		if (event == PTRACE_EVENT_EXEC)
			return st;
		if (event == PTRACE_EVENT_STOP && kind == STOP_INTERRUPT)
			return st;
		/* The trap that ends a single step over a syscall: the signal
		 * is dropped when the tracee is resumed. Any other SIGTRAP is
		 * blocked meanwhile. */
		if (!event && sig == SIGTRAP && kind == STOP_STEP)
			return st;
		/* A group-stop (run on: detaching puts the thread back into it),
		 * or a signal-delivery-stop. With every blockable signal blocked
		 * that is SIGSTOP or a synchronous signal: deliver it. */
		if (event)
			sig = 0;
		if (ptrace(resume_req, tr->tid, 0, sig) < 0)
			return -ESRCH;
	}
}

/* A ptrace request failed: the tracee was killed meanwhile. Wait for its
 * end, which only the tracer can collect before its parent sees it. */
static int gone(struct tracee *tr)
{
	while (next_stop(tr, PTRACE_CONT, STOP_EXIT) >= 0)
		;
	return -ESRCH;
}

/* Kill the task before it runs another instruction and wait for the end. */
static int kill_tracee(struct tracee *tr, const struct exec_image *img)
{
	if (img && img->finish)
		img->finish(img->ctx, REQ_EXEC_KILLED);
	(void)kill(tr->tgid, SIGKILL);
	if (tr->tid != tr->tgid)
		(void)kill(tr->tid, SIGKILL);
	(void)gone(tr);
	return REQ_EXEC_KILLED;
}

/* Run one syscall in the tracee, stopped at the interrupt stop or after an
 * earlier injected call: saved are the registers there, regs the call. A
 * single step over the syscall instruction costs one stop (PTRACE_SYSCALL
 * would cost two). Returns the stop that ended it (after the syscall, or the
 * exec event) or -ESRCH. */
static int inject(struct tracee *tr, const struct user_regs_struct *saved,
		  struct user_regs_struct *regs)
{
	regs->rip = saved->rip - 2;
	regs->orig_rax = regs->rax;
	if (ptrace(PTRACE_SETREGS, tr->tid, 0, regs) < 0 || ptrace(PTRACE_SINGLESTEP, tr->tid, 0, 0) < 0)
		return gone(tr);
	return next_stop(tr, PTRACE_SINGLESTEP, STOP_STEP);
}

/* The result of the call the tracee, stopped right after it, made. */
static int syscall_result(struct tracee *tr, long *ret)
{
	errno = 0;
	long v = ptrace(PTRACE_PEEKUSER, tr->tid, offsetof(struct user_regs_struct, rax), 0);
	if (errno)
		return gone(tr);
	*ret = v;
	return 0;
}

/* inject() for a call other than execveat. Returns 0 with its result in
 * *ret, or -ESRCH (the task is gone). */
static int inject_call(struct tracee *tr, const struct user_regs_struct *saved, long nr,
		       uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, long *ret)
{
	struct user_regs_struct regs = *saved;
	regs.rax = (uint64_t)nr;
	regs.rdi = a0, regs.rsi = a1, regs.rdx = a2, regs.r10 = a3, regs.r8 = a4, regs.r9 = 0;
	int st = inject(tr, saved, &regs);
	if (st < 0)
		return st;
	if ((st >> 16) == PTRACE_EVENT_EXEC) /* cannot be: fail closed */
		return kill_tracee(tr, NULL), -ESRCH;
	return syscall_result(tr, ret);
}

/* Is the argv on the new program's stack (argc, the pointers, the strings
 * as the kernel laid them out) the one in img? */
static bool argv_matches(pid_t tid, const struct exec_image *img)
{
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0)
		return false;
	size_t n = img->argc + 2; /* argc, argv[], NULL */
	_cleanup_free_ uint64_t *v = malloc(n * sizeof(*v));
	_cleanup_free_ char *s = malloc(img->args_len);
	if (!v || !s)
		return false;
	struct iovec local = { v, n * sizeof(*v) }, remote = { (void *)(uintptr_t)regs.rsp, local.iov_len };
	if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)local.iov_len ||
	    v[0] != img->argc || v[n - 1] != 0)
		return false;
	local = (struct iovec){ s, img->args_len };
	remote = (struct iovec){ (void *)(uintptr_t)v[1], img->args_len };
	if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)img->args_len ||
	    memcmp(s, img->args, img->args_len))
		return false;
	for (size_t i = 0, off = 0; i < img->argc; off += strlen(img->args + off) + 1, i++)
		if (v[1 + i] != v[1] + off)
			return false;
	return true;
}

/* Is the program the tracee now runs the one the sentry chose, with its
 * argv? Checked at the exec event, when no other thread of it is left and
 * the new program has not run an instruction. */
static bool exec_matches(const struct tracee *tr, const struct exec_image *img)
{
	if (tr->tid != img->tgid) {
		log_debug("exec: event on %d, expected %d", tr->tid, img->tgid);
		return false;
	}
	struct stat want, got;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/exe", tr->tid);
	if (fstat(img->hostfd, &want) < 0 || stat(p, &got) < 0 || want.st_dev != got.st_dev ||
	    want.st_ino != got.st_ino) {
		log_debug("exec: %d runs another file", tr->tid);
		return false;
	}
	if (!argv_matches(tr->tid, img)) {
		log_debug("exec: %d runs with another argv", tr->tid);
		return false;
	}
	return true;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? neg_errno() : -EIO;
		p += n, len -= n, off += n;
	}
	return 0;
}

/* Where the guest maps "" and argv (MAP_FIXED_NOREPLACE): a random page in
 * a range no default layout uses (PIE binaries load at 0x55..., mmap grows
 * down from 0x7f..., sanitizers leave it to the program), so its pointers
 * can be written, and the memfd sealed, before the guest maps it. */
#define IMAGE_LO 0x510000000000ULL
#define IMAGE_SPAN 0x040000000000ULL

static uint64_t image_address(size_t len)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint64_t)now_ns();
	uint64_t pages = (IMAGE_SPAN - len) >> 12;
	return IMAGE_LO + ((r % pages) << 12);
}

/* The image at guest address base: "" at 0, argv's pointers at 8, then the
 * strings. */
static char *image_build(const struct exec_image *img, uint64_t base, size_t *ret_len)
{
	size_t strs_off = 8 + (img->argc + 1) * 8, len = strs_off + img->args_len;
	char *buf = calloc(1, len);
	if (!buf)
		return NULL;
	uint64_t *ptrs = (uint64_t *)(buf + 8);
	const char *s = img->args;
	for (size_t i = 0; i < img->argc; i++) {
		ptrs[i] = base + strs_off + (uint64_t)(s - img->args);
		s += strlen(s) + 1;
	}
	memcpy(buf + strs_off, img->args, img->args_len);
	*ret_len = len;
	return buf;
}

/* An empty memfd with its first page allocated, made by a worker thread
 * after an exec is done, so that its next exec does not wait for that. */
static __thread int spare_memfd = -1;

static int memfd_new(void)
{
	_cleanup_close_ int fd = memfd_create("moat-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return neg_errno();
	if (fallocate(fd, 0, 0, 4096) < 0)
		return neg_errno();
	return TAKE_FD(fd);
}

/* A sealed memfd holding the image for base: nobody can change it, and a
 * shared mapping of it can never be made writable. */
static int image_memfd(const struct exec_image *img, uint64_t base, size_t *ret_len)
{
	size_t len;
	_cleanup_free_ char *buf = image_build(img, base, &len);
	if (!buf)
		return -ENOMEM;
	_cleanup_close_ int mem = spare_memfd >= 0 ? TAKE_FD(spare_memfd) : memfd_new();
	if (mem < 0)
		return mem;
	int rc = pwrite_all(mem, buf, len, 0);
	if (rc < 0)
		return rc;
	if (fcntl(mem, F_ADD_SEALS, SEALS) < 0)
		return neg_errno();
	*ret_len = len;
	return TAKE_FD(mem);
}

/* Map the image in the tracee: the sealed memfd at its address, or where
 * that is taken (by the program, or on purpose), private memory written by
 * the sentry, which the guest could change: the check at the exec event
 * decides either way. Returns 0 with the address in *ret_base, or -errno
 * (-ESRCH: the task is gone). */
static int image_map(struct tracee *tr, const struct user_regs_struct *saved,
		     const struct exec_image *img, int mfd, uint64_t want, size_t len,
		     uint64_t *ret_base)
{
	long v;
	int st = inject_call(tr, saved, SYS_mmap, want, len, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE,
			     (uint64_t)mfd, &v);
	if (st < 0)
		return st;
	if ((uint64_t)v == want) {
		*ret_base = want;
		return 0;
	}
	log_debug("exec: %d: image address taken (%ld)", tr->tid, v);
	st = inject_call(tr, saved, SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, &v);
	if (st < 0)
		return st;
	if (v < 0 && v > -4096)
		return (int)v;
	size_t n;
	_cleanup_free_ char *buf = image_build(img, (uint64_t)v, &n);
	struct iovec local = { buf, n }, remote = { (void *)(uintptr_t)v, n };
	*ret_base = (uint64_t)v; /* to be unmapped on failure */
	if (!buf)
		return -ENOMEM;
	if (process_vm_writev(tr->tid, &local, 1, &remote, 1, 0) != (ssize_t)n)
		return -EFAULT;
	return 0;
}

static int exec_run(struct sysreq *r, const struct exec_image *img)
{
	size_t len;
	uint64_t want = image_address(8 + (img->argc + 1) * 8 + img->args_len);
	_cleanup_close_ int mem = image_memfd(img, want, &len);
	if (mem < 0)
		return mem;
	int rc = 0;

	struct tracee tr = { .tid = r->tid, .tgid = img->tgid };
	if (ptrace(PTRACE_SEIZE, tr.tid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) < 0)
		return errno == ESRCH ? -ESRCH : neg_errno();
	if (ptrace(PTRACE_INTERRUPT, tr.tid, 0, 0) < 0)
		return gone(&tr);
	/* The thread stops at the interrupt only once its call is answered:
	 * from here on every way out answers it, waits for that stop and
	 * undoes what the guest got there. */
	int mfd = notify_addfd(r, mem, true);
	int gfd = mfd < 0 ? mfd : req_reply_fd(r, img->hostfd, true);
	if (gfd < 0) {
		if (gfd == -ENOENT || req_reply(r, gfd) < 0)
			return gone(&tr); /* the task was killed */
		rc = gfd;
	}
	int st = next_stop(&tr, PTRACE_CONT, STOP_INTERRUPT);
	if (st < 0)
		return st;
	struct user_regs_struct saved;
	if (ptrace(PTRACE_GETREGS, tr.tid, 0, &saved) < 0)
		return gone(&tr);
	if ((long)saved.rax != (gfd < 0 ? rc : gfd)) {
		log_warnx("exec: tracee %d stopped with rax %lld, expected %d", tr.tid,
			  (long long)saved.rax, gfd);
		return kill_tracee(&tr, img);
	}
	uint64_t mask, all = ~0ULL;
	if (ptrace(PTRACE_GETSIGMASK, tr.tid, sizeof(mask), &mask) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, tr.tid, sizeof(all), &all) < 0)
		return gone(&tr);

	uint64_t base = 0;
	long v;
	if (rc == 0 && (rc = image_map(&tr, &saved, img, mfd, want, len, &base)) == -ESRCH)
		return rc;
	if (rc == 0) {
		struct exec_call call = {
			.fd = gfd, .path = base, .argv = base + 8, .envp = img->envp,
		};
		if (img->arm)
			img->arm(img->ctx, &call);
		struct user_regs_struct regs = saved;
		regs.rax = SYS_execveat;
		regs.rdi = (uint64_t)gfd;
		regs.rsi = call.path;
		regs.rdx = call.argv;
		regs.r10 = call.envp;
		regs.r8 = AT_EMPTY_PATH;
		if ((st = inject(&tr, &saved, &regs)) < 0)
			return st;
		if ((st >> 16) == PTRACE_EVENT_EXEC) {
			if (!exec_matches(&tr, img))
				return kill_tracee(&tr, img);
			if (ptrace(PTRACE_SETSIGMASK, tr.tid, sizeof(mask), &mask) < 0)
				return gone(&tr);
			if (img->finish)
				img->finish(img->ctx, 0);
			(void)ptrace(PTRACE_DETACH, tr.tid, 0, 0);
			return 0;
		}
		if ((st = syscall_result(&tr, &v)) < 0)
			return st;
		rc = v < 0 && v > -4096 ? (int)v : -EIO;
		/* Interrupted before the sentry saw it (a stop signal): the
		 * guest's execve starts over. */
		if (-rc >= ERESTARTSYS && -rc <= ERESTART_RESTARTBLOCK)
			rc = -ERESTARTNOINTR;
	}
	/* The exec did not happen: undo what the guest got, then restore every
	 * register with the error as the execve's result, and its mask. */
	if (base && (st = inject_call(&tr, &saved, SYS_munmap, base, len, 0, 0, 0, &v)) < 0)
		return st;
	if (mfd >= 0 && (st = inject_call(&tr, &saved, SYS_close, (uint64_t)mfd, 0, 0, 0, 0, &v)) < 0)
		return st;
	if (gfd >= 0 && (st = inject_call(&tr, &saved, SYS_close, (uint64_t)gfd, 0, 0, 0, 0, &v)) < 0)
		return st;
	saved.rax = (uint64_t)(long)rc;
	if (ptrace(PTRACE_SETREGS, tr.tid, 0, &saved) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, tr.tid, sizeof(mask), &mask) < 0)
		return gone(&tr);
	if (img->finish)
		img->finish(img->ctx, rc);
	(void)ptrace(PTRACE_DETACH, tr.tid, 0, 0);
	return rc;
}

int req_exec(struct sysreq *r, const struct exec_image *img)
{
	int rc = exec_run(r, img);
	if (spare_memfd < 0)
		spare_memfd = memfd_new();
	return rc;
}
