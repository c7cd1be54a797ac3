/* SPDX-License-Identifier: MIT */
/* sentry/kernel/hostfilter.c, gofer/filter.c, net/filter.c: the allowlists
 * of moat's own processes. The sentry's own allowlist, loaded into a
 * forked child, which then makes one call: an allowed one returns, a call
 * outside the list or outside its argument rules kills the child with
 * SIGSYS. The argument rules are the point (issue 9: ioctl requests,
 * socket families, clone flags, mmap PROT_EXEC, the process_vm and pidfd
 * calls): each is tried on both sides of its rule. The gofer's and the
 * network helper's argument rules likewise. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/pidfd.h"
#include "gofer/filter.h"
#include "net/filter.h"
#include "sentry/kernel/hostfilter.h"
#include "tests/tap.h"

#define KILLED -1000

static int pipefd[2] = { -1, -1 }, sock = -1;
static pid_t parent; /* getppid is not on the list */
static char buf[64];

static int install_sentry(void)
{
	struct sock_filter *prog = NULL;
	unsigned short len = 0;
	if (sentry_hostfilter_build(&prog, &len) < 0)
		return -1;
	struct sock_fprog fp = { .len = len, .filter = prog };
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -1
	       : (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp);
}

/* The gofer's with an rw export owned by 1000, serving on sock. */
static int install_gofer(void)
{
	uid_t u = 1000;
	gid_t g = 1000;
	struct gofer_filter_env env = { .sock = sock, .ring_fd = -1, .any_rw = true,
					.uids = &u, .gids = &g, .nowners = 1 };
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -1 : gofer_filter_install(&env);
}

static int install_net(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -1 : net_filter_install();
}

static int (*install)(void) = install_sentry;

/* The child's status after loading the filter and making call(): its exit
 * code (0 when the call returned), or KILLED when SIGSYS ended it. */
static int under_filter(void (*call)(void))
{
	ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(sock >= 0);
	parent = getpid();
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		if (install() < 0)
			_exit(99);
		call();
		_exit(0);
	}
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	close(pipefd[0]);
	close(pipefd[1]);
	close(sock);
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSYS ? KILLED : -WTERMSIG(st);
	return WEXITSTATUS(st);
}

#define CALL(name, expr)                   \
	static void c_##name(void)         \
	{                                  \
		(void)(expr);              \
	}

static struct iovec iov_l = { buf, 8 }, iov_r = { buf + 8, 8 };

/* allowed */
CALL(getpid, syscall(SYS_getpid))
CALL(mmap_rw, mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
CALL(ioctl_fionread, ioctl(pipefd[0], FIONREAD, buf))
CALL(vm_readv, syscall(SYS_process_vm_readv, parent, &iov_l, 1, &iov_r, 1, 0))
CALL(pidfd_open, syscall(SYS_pidfd_open, parent, 0))
CALL(pidfd_open_thread, syscall(SYS_pidfd_open, syscall(SYS_gettid), PIDFD_THREAD))
CALL(pidfd_getfd, syscall(SYS_pidfd_getfd, -1, 0, 0))
CALL(pidfd_signal_thread, syscall(SYS_pidfd_send_signal, -1, 0, NULL, 1))
CALL(kcmp_file, syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 0, 0))
CALL(bindtodevice, setsockopt(sock, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3))
CALL(prlimit_get_nofile, syscall(SYS_prlimit64, parent, RLIMIT_NOFILE, NULL, buf))
CALL(bindtoifindex, setsockopt(sock, SOL_SOCKET, SO_BINDTOIFINDEX, &(int){ 1 }, sizeof(int)))
CALL(ioctl_siocgifindex, ioctl(sock, SIOCGIFINDEX, buf))
CALL(ioctl_siocgifconf, ioctl(sock, SIOCGIFCONF, buf))
CALL(shutdown, shutdown(sock, SHUT_RDWR))
/* refused by its argument rule */
CALL(mmap_exec, mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
CALL(mprotect_exec, mprotect(buf - ((uintptr_t)buf & 4095), 4096, PROT_READ | PROT_WRITE | PROT_EXEC))
CALL(ioctl_tiocsti, ioctl(pipefd[0], TIOCSTI, "x"))
CALL(ioctl_fionbio, ioctl(pipefd[0], FIONBIO, buf))
CALL(clone_process, syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0))
CALL(clone_ns, syscall(SYS_clone, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWNS, NULL, NULL, NULL, 0))
CALL(vm_readv_flags, syscall(SYS_process_vm_readv, parent, &iov_l, 1, &iov_r, 1, 1))
CALL(vm_writev_flags, syscall(SYS_process_vm_writev, parent, &iov_l, 1, &iov_r, 1, 1))
CALL(pidfd_open_nonblock, syscall(SYS_pidfd_open, parent, PIDFD_NONBLOCK))
CALL(pidfd_getfd_flags, syscall(SYS_pidfd_getfd, -1, 0, 1))
CALL(pidfd_signal_group, syscall(SYS_pidfd_send_signal, -1, 0, NULL, 4))
CALL(kcmp_vm, syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM, 0, 0))
CALL(so_mark, setsockopt(sock, SOL_SOCKET, SO_MARK, buf, 4))
CALL(ioctl_siocsifflags, ioctl(sock, SIOCSIFFLAGS, buf))
CALL(prlimit_set_nofile, syscall(SYS_prlimit64, parent, RLIMIT_NOFILE, buf, NULL))
CALL(prlimit_get_nproc, syscall(SYS_prlimit64, parent, RLIMIT_NPROC, NULL, buf))
/* not in the list at all */
CALL(socket_inet, socket(AF_INET, SOCK_STREAM, 0))
CALL(socket_unix, socket(AF_UNIX, SOCK_STREAM, 0))
CALL(execve, syscall(SYS_execve, "/bin/true", NULL, NULL))
CALL(unshare, syscall(SYS_unshare, 0))
CALL(mount, syscall(SYS_mount, NULL, NULL, NULL, 0, NULL))
CALL(setuid, syscall(SYS_setuid, 0))
CALL(prctl, syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0))

static void c_clone3_enosys(void)
{
	/* clone3 answers ENOSYS (its flags are in memory a filter cannot read) */
	long r = syscall(SYS_clone3, NULL, 0);
	_exit(r < 0 && errno == ENOSYS ? 0 : 1);
}

/* Each call made under the current filter (install), with the status it
 * must end in: 0 (it returned) or KILLED. */
struct filter_case {
	const char *name;
	void (*fn)(void);
	int want;
};

static void expect_cases(const char *who, const struct filter_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int st = under_filter(c[i].fn);
		if (st != c[i].want)
			printf("# %s, %s: status %d, want %d\n", who, c[i].name, st, c[i].want);
		EXPECT_EQ(st, c[i].want);
	}
}
#define EXPECT_CASES(who, c) expect_cases((who), (c), sizeof(c) / sizeof((c)[0]))

TEST(allowed_calls_return)
{
	const struct filter_case ok[] = {
		{ "getpid", c_getpid, 0 },
		{ "mmap PROT_READ|PROT_WRITE", c_mmap_rw, 0 },
		{ "ioctl FIONREAD", c_ioctl_fionread, 0 },
		{ "process_vm_readv", c_vm_readv, 0 },
		{ "pidfd_open", c_pidfd_open, 0 },
		{ "pidfd_open PIDFD_THREAD", c_pidfd_open_thread, 0 },
		{ "pidfd_getfd", c_pidfd_getfd, 0 },
		{ "pidfd_send_signal PIDFD_SIGNAL_THREAD", c_pidfd_signal_thread, 0 },
		{ "kcmp KCMP_FILE", c_kcmp_file, 0 },
		{ "setsockopt SO_BINDTODEVICE", c_bindtodevice, 0 },
		{ "prlimit64 reading RLIMIT_NOFILE", c_prlimit_get_nofile, 0 },
		{ "setsockopt SO_BINDTOIFINDEX", c_bindtoifindex, 0 },
		{ "ioctl SIOCGIFINDEX", c_ioctl_siocgifindex, 0 },
		{ "ioctl SIOCGIFCONF", c_ioctl_siocgifconf, 0 },
		{ "shutdown", c_shutdown, 0 },
		{ "clone3 (ENOSYS)", c_clone3_enosys, 0 },
	};
	EXPECT_CASES("sentry", ok);
}

TEST(argument_rules_kill)
{
	const struct filter_case bad[] = {
		{ "mmap PROT_EXEC", c_mmap_exec, KILLED },
		{ "mprotect PROT_EXEC", c_mprotect_exec, KILLED },
		{ "ioctl TIOCSTI", c_ioctl_tiocsti, KILLED },
		{ "ioctl FIONBIO", c_ioctl_fionbio, KILLED },
		{ "clone of a process", c_clone_process, KILLED },
		{ "clone with CLONE_NEWNS", c_clone_ns, KILLED },
		{ "process_vm_readv with flags", c_vm_readv_flags, KILLED },
		{ "process_vm_writev with flags", c_vm_writev_flags, KILLED },
		{ "pidfd_open PIDFD_NONBLOCK", c_pidfd_open_nonblock, KILLED },
		{ "pidfd_getfd with flags", c_pidfd_getfd_flags, KILLED },
		{ "pidfd_send_signal PIDFD_SIGNAL_PROCESS_GROUP", c_pidfd_signal_group, KILLED },
		{ "kcmp KCMP_VM", c_kcmp_vm, KILLED },
		{ "setsockopt SO_MARK", c_so_mark, KILLED },
		{ "ioctl SIOCSIFFLAGS (a setter)", c_ioctl_siocsifflags, KILLED },
		{ "prlimit64 setting RLIMIT_NOFILE", c_prlimit_set_nofile, KILLED },
		{ "prlimit64 reading RLIMIT_NPROC", c_prlimit_get_nproc, KILLED },
	};
	EXPECT_CASES("sentry", bad);
}

TEST(unlisted_calls_kill)
{
	const struct filter_case bad[] = {
		{ "socket AF_INET", c_socket_inet, KILLED },
		{ "socket AF_UNIX", c_socket_unix, KILLED },
		{ "execve", c_execve, KILLED },
		{ "unshare", c_unshare, KILLED },
		{ "mount", c_mount, KILLED },
		{ "setuid", c_setuid, KILLED },
		{ "prctl", c_prctl, KILLED },
	};
	EXPECT_CASES("sentry", bad);
}

/* the gofer's */
static struct msghdr g_msg;
static struct iovec g_iov = { buf, 1 };
CALL(g_sendmsg_sock, (g_msg.msg_iov = &g_iov, g_msg.msg_iovlen = 1, sendmsg(sock, &g_msg, MSG_DONTWAIT)))
CALL(g_sendmsg_other, (g_msg.msg_iov = &g_iov, g_msg.msg_iovlen = 1, sendmsg(pipefd[1], &g_msg, MSG_DONTWAIT)))
CALL(g_write_stderr, write(2, "", 0))
CALL(g_write_stdout, write(1, "", 0))
CALL(g_write_pipe, write(pipefd[1], "x", 1))
CALL(g_setfsuid_owner, syscall(SYS_setfsuid, 1000))
CALL(g_setfsuid_root, syscall(SYS_setfsuid, 0))
CALL(g_setfsuid_other, syscall(SYS_setfsuid, 1001))
CALL(g_mknod_fifo, syscall(SYS_mknodat, AT_FDCWD, "/nonexistent/fifo", S_IFIFO | 0600, 0))
CALL(g_mknod_dev, syscall(SYS_mknodat, AT_FDCWD, "/nonexistent/dev", S_IFCHR | 0600, 0x0103))
CALL(g_fcntl_getfl, fcntl(sock, F_GETFL))
CALL(g_fcntl_setfd, fcntl(sock, F_SETFD, 0))
CALL(g_openat2, syscall(SYS_openat2, AT_FDCWD, "/nonexistent", NULL, 0))
CALL(g_openat, syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY))

TEST(gofer_rules)
{
	install = install_gofer;
	const struct filter_case c[] = {
		{ "sendmsg on its socket", c_g_sendmsg_sock, 0 },
		{ "sendmsg on another fd", c_g_sendmsg_other, KILLED },
		{ "write to stderr", c_g_write_stderr, 0 },
		{ "write to stdout", c_g_write_stdout, KILLED },
		{ "write to a pipe", c_g_write_pipe, KILLED },
		{ "setfsuid to the owner", c_g_setfsuid_owner, 0 },
		{ "setfsuid to 0", c_g_setfsuid_root, 0 },
		{ "setfsuid to another uid", c_g_setfsuid_other, KILLED },
		{ "mknodat of a FIFO (dev 0)", c_g_mknod_fifo, 0 },
		{ "mknodat of a device", c_g_mknod_dev, KILLED },
		{ "fcntl F_GETFL", c_g_fcntl_getfl, 0 },
		{ "fcntl F_SETFD", c_g_fcntl_setfd, KILLED },
		{ "openat2", c_g_openat2, 0 },
		{ "openat", c_g_openat, KILLED },
		{ "mmap PROT_EXEC", c_mmap_exec, KILLED },
		{ "socket", c_socket_unix, KILLED },
		{ "ioctl", c_ioctl_fionread, KILLED },
		{ "clone of a process", c_clone_process, KILLED },
		{ "process_vm_readv", c_vm_readv, KILLED },
		{ "pidfd_open", c_pidfd_open, KILLED },
		{ "execve", c_execve, KILLED },
	};
	EXPECT_CASES("gofer", c);
}

/* the network helper's */
CALL(n_socket_inet, socket(AF_INET, SOCK_DGRAM, 0))
CALL(n_socket_inet6, socket(AF_INET6, SOCK_DGRAM, 0))
CALL(n_socket_netlink, socket(AF_NETLINK, SOCK_RAW, 0))
CALL(n_socket_packet, socket(AF_PACKET, SOCK_RAW, 0))
CALL(n_sendmsg, sendmsg(-1, &(struct msghdr){ 0 }, 0))

TEST(network_helper_rules)
{
	install = install_net;
	const struct filter_case c[] = {
		{ "socket AF_INET", c_n_socket_inet, 0 },
		{ "socket AF_INET6", c_n_socket_inet6, 0 },
		{ "socket AF_UNIX", c_socket_unix, KILLED },
		{ "socket AF_NETLINK", c_n_socket_netlink, KILLED },
		{ "socket AF_PACKET", c_n_socket_packet, KILLED },
		{ "ioctl FIONREAD", c_ioctl_fionread, 0 },
		{ "ioctl TIOCSTI", c_ioctl_tiocsti, KILLED },
		{ "ioctl SIOCGIFCONF", c_ioctl_siocgifconf, KILLED },
		{ "sendmsg (the fast path's answers)", c_n_sendmsg, 0 },
		{ "mmap PROT_EXEC", c_mmap_exec, KILLED },
		{ "openat", c_g_openat, KILLED },
		{ "clone of a process", c_clone_process, KILLED },
		{ "execve", c_execve, KILLED },
	};
	EXPECT_CASES("network helper", c);
}
