/* SPDX-License-Identifier: MIT */
/* req_exec() on the notify platform: completing an exec through ptrace
 * (docs/architecture.md, "Exec"). The guest thread, still inside its execve
 * notification, is seized and handed the binary's fd (ADDFD|SEND); "" and
 * the argv the sentry decided are in a slot of its process's exec arena
 * (exec_arena.h: read-only for the guest, mapped at its parent's first fork
 * and inherited), or, where it has none, in a sealed memfd handed over with
 * ADDFD and mapped read-only at the interrupt stop (an injected mmap; below
 * the stack pointer for a vfork child, whose mappings would outlive it in
 * its parent). Then
 * its registers become execveat(fd, "", argv, envp, AT_EMPTY_PATH), a fresh
 * syscall that passes the filter again. The kernel never resolves a guest
 * path.
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
#include "platform/exec_arena.h"
#include "platform/ptrace_inject.h"

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTART_RESTARTBLOCK 516
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Kill the task before it runs another instruction and wait for the end. */
static int kill_tracee(struct tracee *tr, const struct exec_image *img)
{
	if (img && img->finish)
		img->finish(img->ctx, REQ_EXEC_KILLED);
	tracee_kill(tr);
	return REQ_EXEC_KILLED;
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
bool exec_matches(const struct tracee *tr, const struct exec_image *img)
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

/* The image for guest address base: "" at 0, argv's pointers at 8, then
 * the strings. */
size_t exec_image_len(const struct exec_image *img)
{
	return 8 + (img->argc + 1) * 8 + img->args_len;
}

static void image_write(const struct exec_image *img, uint64_t base, char *buf)
{
	size_t strs_off = 8 + (img->argc + 1) * 8;
	memset(buf, 0, strs_off);
	uint64_t *ptrs = (uint64_t *)(buf + 8);
	const char *s = img->args;
	for (size_t i = 0; i < img->argc; i++) {
		ptrs[i] = base + strs_off + (uint64_t)(s - img->args);
		s += strlen(s) + 1;
	}
	memcpy(buf + strs_off, img->args, img->args_len);
}

static char *image_build(const struct exec_image *img, uint64_t base, size_t *ret_len)
{
	size_t len = exec_image_len(img);
	char *buf = malloc(len);
	if (!buf)
		return NULL;
	image_write(img, base, buf);
	*ret_len = len;
	return buf;
}

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
int exec_image_memfd(const struct exec_image *img, uint64_t base, size_t *ret_len)
{
	size_t len;
	_cleanup_free_ char *buf = image_build(img, base, &len);
	if (!buf)
		return -ENOMEM;
	_cleanup_close_ int mem = memfd_new();
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
int exec_image_map(struct tracee *tr, const struct user_regs_struct *saved,
		   const struct exec_image *img, int mfd, uint64_t want, size_t len,
		   uint64_t *ret_base)
{
	long v;
	int st = tracee_inject_call(tr, saved, SYS_mmap, want, len, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE,
			     (uint64_t)mfd, &v);
	if (st < 0)
		return st;
	if ((uint64_t)v == want) {
		*ret_base = want;
		return 0;
	}
	log_debug("exec: %d: image address taken (%ld)", tr->tid, v);
	st = tracee_inject_call(tr, saved, SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
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

/* The image written in a slot of the process's arena, if it has one with
 * room: its guest address (0 if not). Read back through the guest first:
 * the process may have lost the mapping (it was made after this process's
 * memory was copied from its parent's, or the program unmapped or replaced
 * it), and then it goes the per-exec way and the sentry forgets the arena. */
static uint64_t image_in_arena(pid_t tid, struct exec_image *img, int *slot)
{
	size_t len = exec_image_len(img);
	uint64_t base;
	char *mem;
	if ((*slot = exec_arena_slot_get(img->arena, len, &base, &mem)) < 0)
		return 0;
	image_write(img, base, mem);
	_cleanup_free_ char *seen = malloc(len);
	struct iovec local = { seen, len }, remote = { (void *)(uintptr_t)base, len };
	if (seen && process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len &&
	    !memcmp(seen, mem, len))
		return base;
	if (seen)
		img->arena_stale = true;
	exec_arena_slot_put(img->arena, *slot);
	*slot = -1;
	return 0;
}

/* The image for a process that shares its memory with the one that made it
 * (vfork, posix_spawn) and has no arena: anything mapped for it would stay
 * in that other process after the exec, so it goes below the red zone of the
 * stack it runs on, which the exec leaves behind. Guest memory: only the
 * check at the exec event guards it. */
int exec_image_on_stack(struct tracee *tr, const struct user_regs_struct *saved,
			const struct exec_image *img, uint64_t *ret_base)
{
	size_t len;
	uint64_t base = (saved->rsp - 256 - exec_image_len(img)) & ~15ULL;
	_cleanup_free_ char *buf = image_build(img, base, &len);
	if (!buf)
		return -ENOMEM;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)base, len };
	if (process_vm_writev(tr->tid, &local, 1, &remote, 1, 0) == (ssize_t)len) {
		*ret_base = base;
		return 0;
	}
	/* A big argv reaches below the stack's mapping, and a write from
	 * outside does not grow a stack (GUP stopped expanding them in Linux
	 * 6.5): have the thread fill the range itself, with a call whose
	 * copy to user memory faults the stack down as its own touch would. */
	for (size_t done = 0; done < len;) {
		long v;
		int st = tracee_inject_call(tr, saved, SYS_getrandom, base + done, len - done,
					    GRND_NONBLOCK, 0, 0, &v);
		if (st < 0)
			return st;
		if (v <= 0)
			return -EFAULT;
		done += (size_t)v;
	}
	if (process_vm_writev(tr->tid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return -EFAULT;
	*ret_base = base;
	return 0;
}

static int exec_run(struct sysreq *r, struct exec_image *img, uint64_t arena_base)
{
	size_t len = exec_image_len(img);
	uint64_t want = 0;
	_cleanup_close_ int mem = -1;
	if (!arena_base && !img->mm_shared) {
		want = exec_image_address(len);
		if ((mem = exec_image_memfd(img, want, &len)) < 0)
			return mem;
	}
	int rc = 0;

	struct tracee tr = { .tid = r->tid, .tgid = img->tgid };
	if (ptrace(PTRACE_SEIZE, tr.tid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) < 0)
		return errno == ESRCH ? -ESRCH : neg_errno();
	if (ptrace(PTRACE_INTERRUPT, tr.tid, 0, 0) < 0)
		return tracee_gone(&tr);
	/* The thread stops at the interrupt only once its call is answered:
	 * from here on every way out answers it, waits for that stop and
	 * undoes what the guest got there. */
	int mfd = mem >= 0 ? notify_addfd(r, mem, true) : -EBADF;
	int gfd = mfd < 0 && mem >= 0 ? mfd : notify_reply_fd(r, img->hostfd, true);
	if (gfd < 0) {
		if (gfd == -ENOENT || notify_reply(r, gfd) < 0)
			return tracee_gone(&tr); /* the task was killed */
		rc = gfd;
	}
	int st = tracee_next_stop(&tr, PTRACE_CONT, STOP_INTERRUPT);
	if (st < 0)
		return st;
	struct user_regs_struct saved;
	if (ptrace(PTRACE_GETREGS, tr.tid, 0, &saved) < 0)
		return tracee_gone(&tr);
	if ((long)saved.rax != (gfd < 0 ? rc : gfd)) {
		log_warnx("exec: tracee %d stopped with rax %lld, expected %d", tr.tid,
			  (long long)saved.rax, gfd);
		return kill_tracee(&tr, img);
	}
	uint64_t mask, all = ~0ULL;
	if (ptrace(PTRACE_GETSIGMASK, tr.tid, sizeof(mask), &mask) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, tr.tid, sizeof(all), &all) < 0)
		return tracee_gone(&tr);

	uint64_t base = arena_base, mapped = 0;
	long v;
	if (rc == 0 && !base && img->mm_shared)
		rc = exec_image_on_stack(&tr, &saved, img, &base);
	else if (rc == 0 && !base && (rc = exec_image_map(&tr, &saved, img, mfd, want, len, &mapped)) == -ESRCH)
		return rc;
	if (mapped)
		base = mapped;
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
		if ((st = tracee_inject(&tr, &saved, &regs)) < 0)
			return st;
		if ((st >> 16) == PTRACE_EVENT_EXEC) {
			if (!exec_matches(&tr, img))
				return kill_tracee(&tr, img);
			if (ptrace(PTRACE_SETSIGMASK, tr.tid, sizeof(mask), &mask) < 0)
				return tracee_gone(&tr);
			if (img->finish)
				img->finish(img->ctx, 0);
			tracee_release(tr.tid, 0);
			return 0;
		}
		if ((st = tracee_result(&tr, &v)) < 0)
			return st;
		rc = v < 0 && v > -4096 ? (int)v : -EIO;
		/* Interrupted before the sentry saw it (a stop signal): the
		 * guest's execve starts over. */
		if (-rc >= ERESTARTSYS && -rc <= ERESTART_RESTARTBLOCK)
			rc = -ERESTARTNOINTR;
	}
	/* The exec did not happen: undo what the guest got, then restore every
	 * register with the error as the execve's result, and its mask. */
	if (mapped && (st = tracee_inject_call(&tr, &saved, SYS_munmap, mapped, len, 0, 0, 0, &v)) < 0)
		return st;
	if (mfd >= 0 && (st = tracee_inject_call(&tr, &saved, SYS_close, (uint64_t)mfd, 0, 0, 0, 0, &v)) < 0)
		return st;
	if (gfd >= 0 && (st = tracee_inject_call(&tr, &saved, SYS_close, (uint64_t)gfd, 0, 0, 0, 0, &v)) < 0)
		return st;
	saved.rax = (uint64_t)(long)rc;
	if (ptrace(PTRACE_SETREGS, tr.tid, 0, &saved) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, tr.tid, sizeof(mask), &mask) < 0)
		return tracee_gone(&tr);
	if (img->finish)
		img->finish(img->ctx, rc);
	tracee_release(tr.tid, 0);
	return rc;
}

int notify_exec(struct sysreq *r, struct exec_image *img)
{
	int slot = -1;
	uint64_t base = img->arena ? image_in_arena(r->tid, img, &slot) : 0;
	int rc = exec_run(r, img, base);
	exec_arena_slot_put(img->arena, slot);
	return rc;
}
