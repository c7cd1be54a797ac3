/* SPDX-License-Identifier: MIT */
/* sentry/kernel/hostfilter.c: the sentry's own allowlist, loaded into a
 * forked child, which then makes one call: an allowed one returns, a call
 * outside the list or outside its argument rules kills the child with
 * SIGSYS. The argument rules are the point (issue 9: ioctl requests,
 * socket families, clone flags, mmap PROT_EXEC, the process_vm and pidfd
 * calls): each is tried on both sides of its rule. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sentry/kernel/hostfilter.h"
#include "tests/tap.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

#define KILLED -1000

static int pipefd[2] = { -1, -1 }, sock = -1;
static pid_t parent; /* getppid is not on the list */
static char buf[64];

/* The child's status after loading the filter and making call(): its exit
 * code (0 when the call returned), or KILLED when SIGSYS ended it. */
static int under_filter(void (*call)(void))
{
	struct sock_filter *prog = NULL;
	unsigned short len = 0;
	ASSERT_EQ(sentry_hostfilter_build(&prog, &len), 0);
	ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(sock >= 0);
	parent = getpid();
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct sock_fprog fp = { .len = len, .filter = prog };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
			_exit(99);
		call();
		_exit(0);
	}
	free(prog);
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

TEST(allowed_calls_return)
{
	void (*ok[])(void) = { c_getpid, c_mmap_rw, c_ioctl_fionread, c_vm_readv, c_pidfd_open,
			       c_pidfd_open_thread, c_pidfd_getfd, c_pidfd_signal_thread, c_kcmp_file,
			       c_bindtodevice, c_clone3_enosys };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int st = under_filter(ok[i]);
		if (st != 0)
			printf("# allowed call %zu: status %d\n", i, st);
		EXPECT_EQ(st, 0);
	}
}

TEST(argument_rules_kill)
{
	struct {
		const char *name;
		void (*fn)(void);
	} bad[] = {
		{ "mmap PROT_EXEC", c_mmap_exec },
		{ "mprotect PROT_EXEC", c_mprotect_exec },
		{ "ioctl TIOCSTI", c_ioctl_tiocsti },
		{ "ioctl FIONBIO", c_ioctl_fionbio },
		{ "clone of a process", c_clone_process },
		{ "clone with CLONE_NEWNS", c_clone_ns },
		{ "process_vm_readv with flags", c_vm_readv_flags },
		{ "process_vm_writev with flags", c_vm_writev_flags },
		{ "pidfd_open PIDFD_NONBLOCK", c_pidfd_open_nonblock },
		{ "pidfd_getfd with flags", c_pidfd_getfd_flags },
		{ "pidfd_send_signal PIDFD_SIGNAL_PROCESS_GROUP", c_pidfd_signal_group },
		{ "kcmp KCMP_VM", c_kcmp_vm },
		{ "setsockopt SO_MARK", c_so_mark },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = under_filter(bad[i].fn);
		if (st != KILLED)
			printf("# %s: status %d, not killed\n", bad[i].name, st);
		EXPECT_EQ(st, KILLED);
	}
}

TEST(unlisted_calls_kill)
{
	struct {
		const char *name;
		void (*fn)(void);
	} bad[] = {
		{ "socket AF_INET", c_socket_inet }, { "socket AF_UNIX", c_socket_unix },
		{ "execve", c_execve },              { "unshare", c_unshare },
		{ "mount", c_mount },                { "setuid", c_setuid },
		{ "prctl", c_prctl },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st = under_filter(bad[i].fn);
		if (st != KILLED)
			printf("# %s: status %d, not killed\n", bad[i].name, st);
		EXPECT_EQ(st, KILLED);
	}
}
