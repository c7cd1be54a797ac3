/* SPDX-License-Identifier: MIT */
/* The sentry's own seccomp allowlist: the host syscalls it may make once the
 * sandbox is running. Installed by the setup thread (TSYNC, before any worker
 * exists) right after the sentry dropped its privileges; anything else kills
 * the whole sentry, and with it the sandbox (fail closed: pid 1 and the gofer
 * die with it). The table is data so that `moat syscalls --host` prints the
 * same list the filter is built from, with one line of why per entry.
 *
 * Argument rules where a call could widen what the sentry can do:
 *  - mmap/mprotect never executable (the sentry loads no code after setup);
 *  - clone only for threads (CLONE_THREAD set; no namespace flags), and
 *    clone3 answers ENOSYS so that glibc falls back to clone, whose flags the
 *    filter can see;
 *  - ioctl only the seccomp listener's requests, FIONREAD, the pty ones and
 *    the interface queries (SIOCGIF*) it makes for the guest;
 *  - process_vm_readv/writev and pidfd_getfd without flags, pidfd_open for
 *    a process or a thread, pidfd_send_signal never to a process group
 *    (their pid is beyond a filter: the kernel's same-uid and dumpable
 *    rules keep them to this sandbox's tasks);
 *  - no socket is created after setup: only sendmsg/recvmsg (the gofer's);
 *  - no path outside its own mount namespace can be named at all (see
 *    sentry/sandbox/confine.c), so openat, mkdirat and unlinkat reach only
 *    donated directories, /proc, its device nodes and its private /tmp.
 * The list was measured: the whole test suite run with every other call
 * logged (MOAT_TEST_HOSTFILTER=log) made no other call.
 * MOAT_TEST_HOSTFILTER (tests and development only): "log" logs calls that
 * are not listed instead of killing (a run then shows what is missing);
 * "selftest" makes one forbidden call right after installing, which must
 * kill the sentry (the test checks that from outside). */
#include "sentry/kernel/hostfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/sockios.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "common/util.h"
#include "syscalls/table.h"

#define A(n, o, v) { .arg = (n), .op = (o), .datum_a = (v) }
#define AM(n, mask, v) { .arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask), .datum_b = (v) }

#define CLONE_NS_ALL                                                                  \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
	 CLONE_NEWPID | CLONE_NEWNET)

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

/* One line per (syscall, rule set); several lines for one syscall allow it
 * when any of them matches. */
const struct host_rule sentry_host_rules[] = {
	/* serving notifications */
	{ "ioctl", "seccomp listener: RECV, SEND, ID_VALID, ADDFD", 1,
	  { A(1, SCMP_CMP_EQ, SECCOMP_IOCTL_NOTIF_RECV) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SECCOMP_IOCTL_NOTIF_SEND) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SECCOMP_IOCTL_NOTIF_ID_VALID) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SECCOMP_IOCTL_NOTIF_ADDFD) } },
	/* set once the listener arrives, after the filter is in place */
	{ "ioctl", "seccomp listener: SET_FLAGS with SYNC_WAKE_UP only", 2,
	  { A(1, SCMP_CMP_EQ, SECCOMP_IOCTL_NOTIF_SET_FLAGS), A(2, SCMP_CMP_EQ, 1) } },
	{ "ioctl", "FIONREAD: the placeholder watch's queue", 1, { A(1, SCMP_CMP_EQ, FIONREAD) } },
	{ "ioctl", "TIOCGPTN: the index of a pty the guest opened /dev/ptmx for (its pts/N node)", 1,
	  { A(1, SCMP_CMP_EQ, TIOCGPTN) } },
	{ "ioctl", "moat exec --tty: a new pty of the sandbox's devpts (unlock, open its slave, size it)", 1,
	  { A(1, SCMP_CMP_EQ, TIOCSPTLCK) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, TIOCGPTPEER) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, TIOCSWINSZ) } },
	/* The pid these name is beyond what a filter can compare: the kernel's
	 * ptrace access rule limits them to processes of the sentry's own host
	 * uid that are dumpable, which are this sandbox's guest tasks alone (the
	 * gofer and the network helper are not dumpable; another sandbox has
	 * another uid). */
	{ "process_vm_readv", "reading guest arguments, each pointer once (same-uid, dumpable targets only: this sandbox's tasks); no flags", 1,
	  { A(5, SCMP_CMP_EQ, 0) } },
	{ "process_vm_writev", "writing guest results; no flags", 1, { A(5, SCMP_CMP_EQ, 0) } },
	{ "pidfd_open", "watching guest tasks for exit: a process, or with PIDFD_THREAD a thread; nothing else", 1,
	  { A(1, SCMP_CMP_EQ, 0) } },
	{ "pidfd_open", NULL, 1, { A(1, SCMP_CMP_EQ, PIDFD_THREAD) } },
	{ "pidfd_getfd", "(same-uid, dumpable targets only) the guest's open files: placeholder positions, fstat; the ptrace platform's fd installs; no flags", 1,
	  { A(2, SCMP_CMP_EQ, 0) } },
	{ "ptrace", "completing execs (and clones): guest threads only, same host uid; the ptrace platform traces every guest task" },
	{ "sched_setaffinity", "the ptrace platform's co-location: pinning a guest thread that stops often to the tracer's CPU, and its own mask back" },
	{ "getcpu", "the ptrace platform's co-location: the tracer's CPU (where the vDSO does not answer)" },
	{ "prlimit64", "the ptrace platform's one-stop fd install: a guest's RLIMIT_NOFILE, read only", 2,
	  { A(1, SCMP_CMP_EQ, RLIMIT_NOFILE), A(2, SCMP_CMP_EQ, 0) } },
	{ "wait4", "the ptrace stops of the guest thread being traced" },
	{ "kill", "forwarding signals to pid 1; ending the sandbox" },
	{ "pidfd_send_signal", "signals sent for the guest (syscalls/sys_signal.c): pidfd_send_signal, a fatal kill, a partly permitted group; never PIDFD_SIGNAL_PROCESS_GROUP", 1,
	  { AM(3, ~(uint64_t)(PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP), 0) } },
	{ "poll", "a guest process it killed is gone; a process's pidfd said it exited; sock_diag's answer (unixpeer.c)" },
	{ "kcmp", "file locks: is an open file description holding locks still a guest's (KCMP_FILE only)", 1,
	  { A(2, SCMP_CMP_EQ, KCMP_FILE) } },
	{ "flock", "file locks: the guest's flock on a sandbox-only file (memfd, pipe, socket), on its own copy of the guest's file" },
	{ "tgkill", "waking a worker blocked on behalf of a guest thread; waking the ptrace platform's tracer" },
	{ "rt_sigtimedwait", "the ptrace platform's tracer waits for SIGCHLD (a stop, or a worker's command)" },
	{ "getpid", "tgkill's own pid" },
	{ "gettid", "the ptrace platform's tracer names its own thread, for tgkill" },
	/* files: relative to fds it holds, or in its own mount namespace */
	{ "openat", "inside donated directories; its /proc and /dev; reopening its memfds" },
	{ "openat2", "inside donated directories (RESOLVE_BENEATH)" },
	{ "close", "fds it holds: guest fd copies, memfds, placeholders" },
	{ "read", "the seccomp listener's pipes and eventfds, its memfds, files it serves" },
	{ "write", "its audit log and stderr (opened before confinement), memfds, a guest pipe's data" },
	{ "pread64", "reading ELF headers and #! lines of programs" },
	{ "pwrite64", "filling the sealed memfd of an exec's argv" },
	{ "lseek", "offsets of the memfds and host files it serves" },
	{ "fstat", "identity (dev, ino) of fds it holds: guest files, host files, memfds" },
	{ "newfstatat", "attributes below donated directories and of its /proc entries" },
	{ "statx", "attributes below donated directories (stat's mask and birth time)" },
	{ "fstatfs", "statfs of host files it serves" },
	{ "readlinkat", "symlinks inside donated directories; /proc links" },
	{ "getdents64", "listing its /proc; directories inside donated fds" },
	{ "fcntl", "fd flags, seals, leases on its own memfds, F_DUPFD_CLOEXEC" },
	{ "memfd_create", "tmpfs files, placeholders, generated /proc files" },
	{ "ftruncate", "tmpfs files" },
	{ "sendfile", "copy-up: a lower file's data into its overlay copy (a memfd), in the kernel" },
	{ "fallocate", "the sealed memfd of an exec's argv" },
	{ "utimensat", "tmpfs times" },
	{ "fgetxattr", "extended attributes of host files it serves" },
	{ "flistxattr", "extended attributes of host files it serves" },
	{ "mknodat", "host FIFOs behind tmpfs FIFOs, in its private /tmp" },
	{ "unlinkat", "its private /tmp (files and, with AT_REMOVEDIR, directories)" },
	{ "inotify_init1", "the placeholder close watch" },
	{ "inotify_add_watch", "the placeholder close watch; a guest's watch, on its own instance (syscalls/sys_inotify.c)" },
	/* inotify stand-ins (sentry/fs/notify.c). The arguments cannot be
	 * checked: the directory fds are the store's, but a dirfd is a number.
	 * Its mount namespace holds nothing writable but its private /tmp;
	 * like unlinkat and mknodat above, a compromised sentry could use them
	 * in a donated directory of an rw bind, which is the guest's anyway. */
	{ "linkat", "inotify: a store file linked into its directory's stand-in" },
	{ "mkdirat", "inotify: stand-in directories in the store; directories in its private /tmp (common/util.c, mkdtemp_at)" },
	{ "renameat2", "inotify: a rename done again to stand-ins (IN_MOVED_*, IN_MOVE_SELF)" },
	{ "fchmodat", "inotify: a stand-in chmod-ed to its own mode (IN_ATTRIB)" },
	{ "inotify_rm_watch", "the placeholder close watch and guest watches, when they go" },
	/* the event loop and threads */
	{ "epoll_pwait", "the control thread (forwarded signals are taken only during its wait)" },
	{ "timerfd_settime", "the tick that looks for signals ending a handler's wait" },
	{ "epoll_ctl", "the control thread's set of fds (listener, pidfds, the signal tick)" },
	{ "futex", "locks and condition variables between its threads" },
	{ "rt_sigprocmask", "workers block signals but their wake-up one" },
	{ "rt_sigaction", "a worker's wake-up signal handler (wait.c)" },
	{ "rt_sigreturn", "a worker's wake-up signal (wait.c) returns" },
	{ "restart_syscall", "a timed wait resumed after a stop (SIGSTOP/SIGCONT of moat, a tracer)" },
	{ "clone", "worker threads only: CLONE_THREAD, no namespace flags", 1,
	  { AM(0, CLONE_THREAD | CLONE_NS_ALL, CLONE_THREAD) } },
	{ "set_robust_list", "new threads" },
	{ "rseq", "new threads" },
	{ "exit", "a worker thread ends" },
	{ "exit_group", "the sentry ends, with the sandbox" },
	{ "clock_nanosleep", "short waits: a fatal signal reaching its target (sys_signal.c), a cgroup file's value (cgroup.c)" },
	{ "getrandom", "boot id, machine id" },
	{ "sysinfo", "memory and uptime for /proc and sysinfo" },
	{ "sched_getaffinity", "the sandbox's CPUs for /proc; the ptrace platform's co-location: a guest thread's own mask, kept while it is pinned" },
	{ "sendmsg", "the gofer socket; moat exec's answers and its requests to pid 1 (execsrv.c); on the ptrace platform an fd to a guest socket it made to receive it; a guest's datagram to a socket file's abstract name, or its message with SCM_CREDENTIALS (syscalls/sys_unix_send.c); a sock_diag query for a socket's peer (unixpeer.c)" },
	{ "accept4", "moat exec's control socket, bound and listening before confinement (execsrv.c)" },
	/* path AF_UNIX sockets (syscalls/sys_unix.c), on its copies of the
	 * guest's sockets, which live in the guest's netns; it makes none
	 * (the TCP fast path's sockets come from the network helper) */
	{ "bind", "a guest socket to the abstract name behind a socket file; with the TCP fast path on, every bind of a guest's (syscalls/sys_inet.c)" },
	{ "connect", "a guest socket to the abstract name behind a socket file; with the TCP fast path on, every connect of a guest's (syscalls/sys_inet.c)" },
	{ "sendto", "a guest datagram to a socket file's abstract name; a TCP fast-path request to the network helper (syscalls/sys_inet.c)" },
	{ "getsockname", "a guest socket's address, for getsockname and bind" },
	{ "getpeername", "a guest socket's peer, for getpeername" },
	{ "getsockopt", "SO_DOMAIN, SO_PEERCRED of a guest socket (and SO_TYPE: the ptrace platform's fd installs); the options, state and netns cookie of a guest socket for the TCP fast path" },
	{ "recvmsg", "the gofer socket; moat exec's requests (with stdio) and pid 1's answers; sock_diag's answer (unixpeer.c); the network helper's TCP fast-path answers, with their sockets (syscalls/sys_inet.c)" },
	{ "setsockopt", "SO_BINDTODEVICE on its copy of a guest socket, to a name it checked", 2,
	  { A(1, SCMP_CMP_EQ, SOL_SOCKET), A(2, SCMP_CMP_EQ, SO_BINDTODEVICE) } },
	{ "setsockopt", "SO_BINDTOIFINDEX on its copy of a guest socket (never a TCP fast-path one)", 2,
	  { A(1, SCMP_CMP_EQ, SOL_SOCKET), A(2, SCMP_CMP_EQ, SO_BINDTOIFINDEX) } },
	{ "shutdown", "--net=sandbox with the TCP fast path: a guest's shutdown, on its copy of the socket (syscalls/sys_inet.c)" },
	/* the interface queries of the guest's sockets, answered for its
	 * netns (syscalls/sys_inet.c) */
	{ "ioctl", "SIOCGIF* interface queries on its copy of a guest socket, or on a guest-netns socket it kept", 1,
	  { A(1, SCMP_CMP_EQ, SIOCGIFNAME) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFCONF) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFFLAGS) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFADDR) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFBRDADDR) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFNETMASK) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFMTU) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFHWADDR) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFINDEX) } },
	{ "ioctl", NULL, 1, { A(1, SCMP_CMP_EQ, SIOCGIFTXQLEN) } },
	/* memory, never executable */
	{ "mmap", "never PROT_EXEC", 1, { AM(2, PROT_EXEC, 0) } },
	{ "mprotect", "never PROT_EXEC", 1, { AM(2, PROT_EXEC, 0) } },
	{ "munmap", "malloc; the exec arena (platform/exec_arena.c)" },
	{ "mremap", "malloc" },
	{ "madvise", "malloc" },
	{ "brk", "malloc" },
#if defined(__SANITIZE_ADDRESS__)
	/* a --enable-asan test build only: the runtime reads the signal stack
	 * before every noreturn call */
	{ "sigaltstack", "AddressSanitizer's runtime (test builds only)" },
	/* its thread registry spins with sched_yield when a thread exits */
	{ "sched_yield", "AddressSanitizer's runtime, as a worker thread exits (test builds only)" },
	/* it names the memory it maps for a new thread */
	{ "prctl", "AddressSanitizer's runtime: PR_SET_VMA names (test builds only)", 1,
	  { A(0, SCMP_CMP_EQ, 0x53564d41 /* PR_SET_VMA */) } },
#endif
	{ NULL },
};

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* The allowlist as a libseccomp context with default action deflt. */
static int host_ctx(uint32_t deflt, scmp_filter_ctx *ret)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(deflt);
	if (!ctx)
		return -ENOMEM;
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/* A binary search over the syscall numbers instead of a linear chain:
	 * the calls with argument rules (ioctl, mmap, ...) are on every
	 * notification's path, and the kernel's action cache skips the
	 * filter only for the calls allowed whatever their arguments. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	/* clone3's flags live in memory the filter cannot read: ENOSYS makes
	 * glibc fall back to clone, whose flags it can. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	for (const struct host_rule *h = sentry_host_rules; h->name && r == 0; h++) {
		int nr = seccomp_syscall_resolve_name(h->name);
		if (nr == __NR_SCMP_ERROR) {
			log_warnx("sentry filter: unknown syscall %s", h->name);
			return -EINVAL;
		}
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, h->nargs, h->nargs ? h->args : NULL);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ctx);
	return 0;
}

int sentry_hostfilter_build(struct sock_filter **ret_prog, unsigned short *ret_len)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r = host_ctx(SCMP_ACT_KILL_PROCESS, &ctx);
	return r < 0 ? r : sys_filter_export(ctx, ret_prog, ret_len);
}

/* Built at compile time by syscalls/filter_gen, as the guest's filter is:
 * libseccomp takes a quarter of a millisecond of every start to make it. */
extern const struct sock_filter sentry_hostfilter_prebuilt[] __attribute__((weak));
extern const unsigned short sentry_hostfilter_prebuilt_len __attribute__((weak));

/* The compiled-in program, on every thread of the sentry (TSYNC; a thread
 * that cannot be synchronised is named by a positive return). */
static int load_prebuilt(void)
{
	struct sock_fprog prog = { .len = sentry_hostfilter_prebuilt_len,
				   .filter = (struct sock_filter *)sentry_hostfilter_prebuilt };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return neg_errno();
	long t = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	return t == 0 ? 0 : t < 0 ? neg_errno() : -EAGAIN;
}

int sentry_hostfilter_install(void)
{
	const char *mode = getenv("MOAT_TEST_HOSTFILTER");
	if (mode && !strcmp(mode, "off"))
		return 0;
	bool log_only = mode && !strcmp(mode, "log");
	int r;
	if (!log_only && sentry_hostfilter_prebuilt) {
		r = load_prebuilt();
	} else {
		_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
		r = host_ctx(log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS, &ctx);
		if (r == 0)
			r = seccomp_load(ctx);
	}
	if (r == 0 && mode && !strcmp(mode, "selftest"))
		(void)socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* must not return */
	return r < 0 ? r : 0;
}
