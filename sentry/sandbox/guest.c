/* SPDX-License-Identifier: MIT */
/* The sandbox's pid 1. A fork of moat, in new pid, mount, net, ipc, uts and
 * cgroup namespaces. While still root it builds the guest's host root: an
 * empty read-only tmpfs holding only the ELF interpreters, bind-mounted
 * read-only (the kernel opens PT_INTERP by path; a bind from the gofer's
 * namespace is refused by the kernel, so pid 1 resolves them itself inside
 * the rootfs with RESOLVE_IN_ROOT and shows the sentry what it bound). It
 * brings loopback up, sets the hostname, builds the filter, drops to the
 * unprivileged host uid (every capability goes), sets no_new_privs, closes
 * every other fd, installs the filter and reports the listener. It is itself
 * under the filter from then on: its fork of the command is the sentry's
 * first notification. It forwards signals, reaps orphans, and reports the
 * command's wait status on a pipe; when it exits, the kernel kills the rest of
 * the pid namespace. PR_SET_PDEATHSIG ties it to the sentry: fail closed.
 * It leads its own host session, so the guest shares no process group with
 * the host. */
#include "sentry/sandbox/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "common/log.h"
#include "net/net.h"
#include "sentry/sandbox/limits.h"
#include "sentry/sandbox/spawn.h"
#include "syscalls/table.h"

static const char *const interp_candidates[] = {
	"/lib64/ld-linux-x86-64.so.2",
	"/lib/ld-linux-x86-64.so.2",
	"/lib/ld-musl-x86_64.so.1",
	NULL,
};

/* Fixed fd numbers in pid 1 after setup. */
enum { FD_SOCK = 3, FD_STATUS = 4, FD_UIDLOCK = 5, FD_START = 6, FD_TTY = 7, FD_INTERP0 = 8 };

struct setup {
	const struct sandbox_config *cfg;
	char **envp;
	const char *hostname;
	struct guest_ids ids;
	int sock, status;
	int start_fd; /* -1, or the command waits for a byte on it (`moat start`) */
	int tty;      /* -1, or the command's pty slave */
	int net_sock; /* --net=sandbox: the tap's fd goes to the network helper here */
	int ninterp;
	char interp[GUEST_MAX_INTERP][PATH_MAX];
	int interp_fd[GUEST_MAX_INTERP];
};

static _Noreturn void child_fail(const char *what)
{
	int e = errno;
	dprintf(2, "moat: sandbox setup: %s: %s\n", what, strerror(e));
	_exit(125);
}

static void bind_interpreters(struct setup *s, int hostroot)
{
	for (const char *const *c = interp_candidates; *c && s->ninterp < GUEST_MAX_INTERP; c++) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
		int fd = (int)syscall(SYS_openat2, hostroot, *c, &how, sizeof(how));
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			safe_close(fd);
			continue;
		}
		char dst[PATH_MAX], src[64];
		snprintf(dst, sizeof(dst), ".%s", *c);
		for (char *p = dst + 2; (p = strchr(p, '/')); p++) {
			*p = 0;
			(void)mkdir(dst, 0755);
			*p = '/';
		}
		int f = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
		if (f < 0)
			child_fail("make an interpreter mountpoint");
		close(f);
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
			child_fail("bind an ELF interpreter");
		snprintf(s->interp[s->ninterp], PATH_MAX, "%s", *c);
		s->interp_fd[s->ninterp++] = fd;
	}
}

static void guest_mounts(struct setup *s)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail("make / private");
	int hostroot = open(s->cfg->rootfs ? s->cfg->rootfs : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (hostroot < 0)
		child_fail("open the rootfs");
	/* The new root is built on a tmpfs over /tmp of this private namespace. */
	if (mount("moat", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
		child_fail("mount the guest's root");
	if (chdir("/tmp") < 0)
		child_fail("chdir");
	bind_interpreters(s, hostroot);
	close(hostroot);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		child_fail("detach the old root");
	if (chdir("/") < 0)
		child_fail("chdir /");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		child_fail("remount / read-only");
}

static void loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		child_fail("loopback");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		child_fail("loopback up");
	close(s);
}

/* Move what pid 1 keeps to fixed numbers and close everything else. */
static void keep_fds(struct setup *s)
{
	int src[5 + GUEST_MAX_INTERP], dst[5 + GUEST_MAX_INTERP], n = 0;
	src[n] = s->sock, dst[n++] = FD_SOCK;
	src[n] = s->status, dst[n++] = FD_STATUS;
	/* The uid reservation: held until pid 1 exits (O_CLOEXEC, so the
	 * command's exec drops its copy). */
	src[n] = s->ids.uid_lock, dst[n++] = FD_UIDLOCK;
	if (s->start_fd >= 0)
		src[n] = s->start_fd, dst[n++] = FD_START;
	if (s->tty >= 0)
		src[n] = s->tty, dst[n++] = FD_TTY;
	for (int i = 0; i < s->ninterp; i++)
		src[n] = s->interp_fd[i], dst[n++] = FD_INTERP0 + i;
	/* Dup above every target first so the moves cannot clobber each other. */
	int tmp[5 + GUEST_MAX_INTERP], base = FD_INTERP0 + GUEST_MAX_INTERP + 64;
	for (int i = 0; i < n; i++)
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base);
	for (int i = 0; i < n; i++)
		if (tmp[i] < 0 || dup3(tmp[i], dst[i], O_CLOEXEC) < 0)
			child_fail("arrange fds");
	if (s->start_fd < 0)
		(void)close(FD_START);
	if (s->tty < 0)
		(void)close(FD_TTY);
	syscall(SYS_close_range, FD_INTERP0 + s->ninterp, ~0U, 0);
	s->sock = FD_SOCK;
	s->status = FD_STATUS;
	s->ids.uid_lock = FD_UIDLOCK;
	if (s->start_fd >= 0)
		s->start_fd = FD_START;
	if (s->tty >= 0) {
		/* pid 1's own stdio too: nothing in the sandbox holds the
		 * user's terminal (a pidfd_getfd of pid 1's would reach it). */
		s->tty = FD_TTY;
		for (int fd = 0; fd <= 2; fd++)
			if (dup2(FD_TTY, fd) < 0)
				child_fail("make the terminal stdio");
	}
	for (int i = 0; i < s->ninterp; i++)
		s->interp_fd[i] = FD_INTERP0 + i;
}

/* One message: the interpreters' paths, NUL-separated, with the listener,
 * the sock_diag socket and the interpreters' O_PATH fds attached. On the
 * ptrace platform there is no listener (listener < 0): the message starts
 * with 'P' instead of 'R'; its second byte is 'D' when a diag socket
 * follows (-1: none, '-'). */
static int report_ready(struct setup *s, int listener, int diag)
{
	char data[GUEST_MAX_INTERP * PATH_MAX + 2];
	size_t len = 0;
	data[len++] = listener >= 0 ? 'R' : 'P';
	data[len++] = diag >= 0 ? 'D' : '-';
	for (int i = 0; i < s->ninterp; i++) {
		size_t l = strlen(s->interp[i]) + 1;
		memcpy(data + len, s->interp[i], l);
		len += l;
	}
	int fds[2 + GUEST_MAX_INTERP];
	size_t nfds = 0;
	if (listener >= 0)
		fds[nfds++] = listener;
	if (diag >= 0)
		fds[nfds++] = diag;
	for (int i = 0; i < s->ninterp; i++)
		fds[nfds++] = s->interp_fd[i];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(fds))];
	} u;
	struct iovec iov = { data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	msg_set_fds(&msg, u.buf, fds, nfds);
	/* The raw call: sendmsg ignores registers 4 to 6. The first holds
	 * the value that keeps the call out of the sentry's hands (nobody
	 * listens yet), the others the trace's tag (zero unless traced;
	 * syscalls/filter.c, sys_filter_notify_all). */
	const uint64_t *tag = s->cfg->report_tag;
	return syscall(SYS_sendmsg, s->sock, &msg, MSG_NOSIGNAL, SYS_SENDMSG_UNTRAPPED, tag[1], tag[2]) ==
			       (long)len ? 0 : -1;
}

static pid_t command_pid;
static void forward_signal(int sig)
{
	if (command_pid > 0)
		kill(command_pid, sig);
}

/* The container's rlimits, then its start: one byte from `moat start`
 * (runc's exec.fifo). The command is already the container's process, so
 * a signal sent to a created container reaches it with its default
 * action, as in runc. */
static void apply_limits(const struct sandbox_config *c)
{
	/* The sandbox's limits first, so a container's own rlimits win. */
	int r = limits_apply(&c->limits, c->limits.fallback);
	if (r < 0) {
		errno = -r;
		child_fail("apply the sandbox's limits");
	}
}

/* --seccomp-profile (or config.json's linux.seccomp): stacked on the
 * table's filter, so the kernel applies the stricter of the two verdicts
 * (an ERRNO or KILL of the profile beats the table's notification; its
 * ALLOW leaves the table's verdict). Only the command's and exec'd
 * processes are under it: pid 1 is moat's own. */
static void apply_profile(const struct sandbox_config *c)
{
	if (!c->profile_filter)
		return;
	struct sock_fprog fp = {
		.len = c->profile_filter_len,
		.filter = (struct sock_filter *)c->profile_filter,
	};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) {
		int e = errno;
		dprintf(2, "moat: install the seccomp profile: %s\n", strerror(e));
		_exit(125);
	}
}

/* A container's rlimit, set by the command itself without privilege:
 * above the hard limit it has (the sandbox's own --nofile or pids
 * fallback, or what the sentry could raise it to: sandbox.c), that one
 * stays the ceiling, as no unprivileged process can go past it. */
static int set_rlimit_capped(int resource, struct rlimit lim)
{
	struct rlimit cur;
	if (getrlimit(resource, &cur) == 0 && lim.rlim_max > cur.rlim_max) {
		lim.rlim_max = cur.rlim_max;
		if (lim.rlim_cur > lim.rlim_max)
			lim.rlim_cur = lim.rlim_max;
	}
	return setrlimit(resource, &lim);
}

static void before_exec(struct setup *s)
{
	const struct sandbox_config *c = s->cfg;
	apply_limits(c);
	for (size_t i = 0; i < c->nrlimits; i++)
		if (set_rlimit_capped(c->rlimits[i].resource, c->rlimits[i].lim) < 0)
			child_fail("apply the container's rlimits");
	if (s->start_fd < 0)
		return;
	char b;
	ssize_t n;
	do
		n = read(s->start_fd, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		child_fail("wait for the container's start");
	close(s->start_fd);
}

static _Noreturn void run_command(struct setup *s)
{
	/* The first exec is already the sentry's: nothing below resolves a
	 * path in the host kernel. execvpe searches pid 1's own PATH: the
	 * guest's, or the usual one when its environment has none (not the
	 * host's). */
	char **argv = s->cfg->argv;
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = s->envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	setenv("PATH", path, 1);
	signal(SIGPIPE, SIG_DFL);
	/* -t: a session of its own whose controlling terminal is the pty, as
	 * a login or `docker run -t` gives; its process group is the
	 * terminal's foreground one. */
	if (s->tty >= 0) {
		if (setsid() < 0 || ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
			child_fail("take the terminal");
		close(s->tty);
	} else if (setpgid(0, 0) < 0) {
		/* Else a process group of its own in pid 1's session, as a
		 * shell gives a job: pid 1's group is orphaned (its parent is
		 * outside the sandbox), and the kernel discards SIGTSTP,
		 * SIGTTIN and SIGTTOU sent to the members of an orphaned
		 * group instead of stopping them. */
		child_fail("setpgid");
	}
	before_exec(s);
	apply_profile(s->cfg);
	execvpe(argv[0], argv, s->envp);
	int e = errno;
	dprintf(2, "moat: %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* A named sandbox started without a command (`moat run --name N -d`):
 * pid 2 is this, a fork of pid 1 that waits to be signalled, so the
 * sandbox stays warm for `moat exec` and ends as any other when its
 * command does (`moat kill N`: SIGTERM, the default action). It runs
 * moat's code, which the guest's /proc shows as such (procfs
 * is_moat_code). */
static _Noreturn void idle_command(struct setup *s)
{
	if (setpgid(0, 0) < 0)
		child_fail("setpgid");
	before_exec(s);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; null >= 0 && fd < 3; fd++)
		(void)dup2(null, fd);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;)
		pause();
}

static void nop_handler(int sig)
{
	(void)sig;
}

/* The processes `moat exec` asked for, by pid: their exits go back to the
 * sentry (the others pid 1 reaps are orphans). */
#define MAX_EXECS 256
static pid_t exec_pids[MAX_EXECS];

static void exec_exited(struct setup *s, pid_t p, int st)
{
	for (size_t i = 0; i < MAX_EXECS; i++)
		if (exec_pids[i] == p) {
			exec_pids[i] = 0;
			struct spawn_msg m = { .type = SPAWN_EXITED, .vpid = p, .status = st };
			if (s->sock >= 0)
				(void)send(s->sock, &m, sizeof(m), MSG_NOSIGNAL);
			return;
		}
}

/* The exec'd process, between pid 1's fork and its exec: the request's
 * stdio, session, limits and the seccomp profile, as the command has. */
static _Noreturn void spawn_child(struct setup *s, const struct spawn_req *q, char **argv,
				  char **envp, const int *fds)
{
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			child_fail("exec: stdio");
	syscall(SYS_close_range, 3, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		signal(fwd[i], SIG_DFL);
	if (q->flags & SPAWN_TTY) {
		if (setsid() < 0 || ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
			child_fail("exec: take the terminal");
	} else if (setpgid(0, 0) < 0) {
		child_fail("exec: setpgid");
	}
	apply_limits(s->cfg);
	for (uint32_t i = 0; i < q->nrlimits; i++) {
		struct rlimit rl = { q->rlimits[i].soft, q->rlimits[i].hard };
		if (set_rlimit_capped(q->rlimits[i].resource, rl) < 0)
			child_fail("exec: apply the rlimits");
	}
	apply_profile(s->cfg);
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	setenv("PATH", path, 1);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(argv[0], argv, envp);
	int e = errno;
	dprintf(2, "moat: exec failed: %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* One request from the sentry: fork the process, answer with its pid. */
static void serve_spawn(struct setup *s)
{
	static char buf[SPAWN_MAX_MSG];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(3 * sizeof(int))];
	} u;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			      .msg_controllen = sizeof(u.b) };
	ssize_t n = recvmsg(s->sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* The sentry closed its end: no more execs. */
		close(s->sock);
		s->sock = -1;
		return;
	}
	if (n < 0)
		return;
	int fds[3] = { -1, -1, -1 };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(3 * sizeof(int)))
		memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	else if (cm && cm->cmsg_type == SCM_RIGHTS)
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
			close(((int *)CMSG_DATA(cm))[i]);
	struct spawn_req *q = (struct spawn_req *)buf;
	struct spawn_msg m = { .type = SPAWN_STARTED, .vpid = -EINVAL };
	char **argv = NULL, **envp = NULL;
	if ((size_t)n < sizeof(*q) || q->magic != SPAWN_MAGIC || fds[2] < 0 || q->argc == 0 ||
	    q->argc > SPAWN_MAX_MSG / 2 || q->envc > SPAWN_MAX_MSG / 2 ||
	    q->nrlimits > SPAWN_MAX_RLIMITS)
		goto reply;
	m.id = q->id;
	buf[n] = 0;
	argv = calloc(q->argc + 1, sizeof(char *));
	envp = calloc(q->envc + 1, sizeof(char *));
	if (!argv || !envp) {
		m.vpid = -ENOMEM;
		goto reply;
	}
	char *p = buf + sizeof(*q), *end = buf + n;
	for (uint32_t i = 0; i < q->argc + q->envc; i++) {
		if (p >= end)
			goto reply;
		if (i < q->argc)
			argv[i] = p;
		else
			envp[i - q->argc] = p;
		p += strlen(p) + 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(s->sock);
		close(s->status);
		spawn_child(s, q, argv, envp, fds);
	}
	m.vpid = pid < 0 ? -errno : pid;
	for (size_t i = 0; pid > 0 && i < MAX_EXECS; i++)
		if (!exec_pids[i]) {
			exec_pids[i] = pid;
			break;
		}
reply:
	free(argv);
	free(envp);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	(void)send(s->sock, &m, sizeof(m), MSG_NOSIGNAL);
}

/* With the TCP fast path (syscalls/sys_inet.c) the guest holds sockets of
 * the host's namespace, and a MSG_FASTOPEN send is a connect in disguise:
 * on a socket whose connect failed it connects to msg_name. The flag is a
 * register, so a filter stacked on the table's refuses it for every
 * socket, with what Linux answers when the host has TCP Fast Open's client
 * side off (EOPNOTSUPP): the table's own sendmsg has a value that passes
 * without the sentry (SYS_SENDMSG_UNTRAPPED), and a check in the sentry
 * would be on the fd number, which a sibling thread can change. */
static void refuse_fastopen(void)
{
	static const struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 8),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendmsg, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendto, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendmmsg, 2, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])), /* low half */
		BPF_STMT(BPF_JMP | BPF_JA, 1),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MSG_FASTOPEN, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP),
	};
	struct sock_fprog fp = { .len = ARRAY_SIZE(f), .filter = (struct sock_filter *)f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		child_fail("install the MSG_FASTOPEN filter");
}

static _Noreturn void pid1_main(struct setup *s)
{
	/* Its own host session and process group. Otherwise the guest's
	 * kill(0) reaches the process group of the shell that started moat
	 * (host processes, other sandboxes), and the guest could make itself
	 * the terminal's foreground group. With it, every group a guest can
	 * name is the sandbox's (syscalls/sys_signal.c). */
	if (setsid() < 0)
		child_fail("setsid");
	if (s->cfg->net.mode == NET_SANDBOX) {
		/* Before the pivot: it opens /dev/net/tun and the namespace's
		 * sysctls by path. */
		const char *what = NULL;
		int r = net_guest_setup(s->net_sock, s->ids.gid, &what);
		if (r < 0) {
			errno = -r;
			child_fail(what);
		}
		close(s->net_sock);
	}
	guest_mounts(s);
	/* --net=host: the host's own loopback, which is not the guest's to
	 * change. */
	if (s->cfg->net.mode != NET_HOST)
		loopback_up();
	if (sethostname(s->hostname, strlen(s->hostname)) < 0)
		child_fail("sethostname");
	/* The table's filter, or the one `moat trace` made of it. */
	const struct sock_filter *prog = s->cfg->guest_filter;
	unsigned short prog_len = s->cfg->guest_filter_len;
	if (!prog) {
		int r = sys_filter_default(&prog, &prog_len);
		if (r < 0) {
			errno = -r;
			child_fail("build the seccomp filter");
		}
	}
	/* The sandbox's own host uid (no other sandbox's, not the host's
	 * nobody): what passes through to the kernel by uid reaches nothing
	 * outside, and per-user limits are the sandbox's. */
	uid_t uid = s->ids.uid;
	gid_t gid = s->ids.gid;
	if (uid == 0 || gid == 0 || setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		child_fail("drop privileges");
	/* After the uid change, which clears it: if the sentry dies, pid 1
	 * dies, and with it the whole pid namespace (fail closed). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail("pdeathsig");
	/* The uid change also made pid 1 non-dumpable; the sentry, which runs
	 * as the same unprivileged uid without CAP_SYS_PTRACE, must still be
	 * able to read its memory and trace its forks. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		child_fail("dumpable");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail("no_new_privs");
	keep_fds(s);
	/* The sentry asks the kernel through it who the peer of a guest's
	 * unix socket is (sentry/kernel/unixpeer.h): sock_diag answers for
	 * the namespace the socket was made in, the guest's. Made before the
	 * filter, which would send the call to a sentry not listening yet. */
	int diag = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s->cfg->net.mode == NET_SANDBOX && !s->cfg->net.fastpath_off)
		refuse_fastopen();
	int listener = -1;
	if (s->cfg->platform == PLATFORM_PTRACE) {
		/* The sentry's tracer must hold pid 1 before the filter is in
		 * place: a TRACE verdict with no tracer fails the call with
		 * ENOSYS. Now that pid 1 runs as the sandbox's uid and is
		 * dumpable, the sentry (the same uid) may seize it; it says so
		 * with one byte. */
		char go;
		if (send(s->sock, "T", 1, MSG_NOSIGNAL) != 1 || recv(s->sock, &go, 1, 0) != 1 || go != 'G')
			child_fail("wait for the sentry's tracer");
		_cleanup_free_ struct sock_filter *traced = NULL;
		unsigned short traced_len = 0;
		int r = sys_filter_trace_variant(prog, prog_len, &traced, &traced_len);
		if (r == 0)
			r = sys_filter_install_traced(traced, traced_len);
		if (r < 0) {
			errno = -r;
			child_fail("install the seccomp filter");
		}
	} else if ((listener = sys_filter_install(prog, prog_len)) < 0) {
		errno = -listener;
		child_fail("install the seccomp filter");
	}
	if (report_ready(s, listener, diag) < 0)
		child_fail("report to the sentry");
	if (listener >= 0)
		close(listener);
	if (diag >= 0)
		close(diag);
	for (int i = 0; i < s->ninterp; i++)
		close(s->interp_fd[i]);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	pid_t pid = fork();
	if (pid < 0)
		child_fail("fork");
	if (pid == 0) {
		close(s->status);
		close(s->sock);
		if (!s->cfg->argv)
			idle_command(s);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		run_command(s);
	}
	/* Only the command waits for the start: once it has read its byte
	 * nobody holds the FIFO, and a later `moat start` finds no reader. */
	if (s->start_fd >= 0)
		close(s->start_fd);
	command_pid = pid;
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
	struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaction(fwd[i], &sa, NULL);
	/* SIGCHLD only interrupts the ppoll below (a handler: ignored, the
	 * kernel would reap the children itself). */
	struct sigaction chld = { .sa_handler = nop_handler };
	sigaction(SIGCHLD, &chld, NULL);
	sigset_t waitmask = all;
	sigdelset(&waitmask, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigdelset(&waitmask, fwd[i]);
	sigset_t run = waitmask;
	sigaddset(&run, SIGCHLD);
	sigprocmask(SIG_SETMASK, &run, NULL);
	/* From here pid 1 waits, for the sandbox's whole life: the heap it
	 * was forked with is mostly the sentry's freed setup (see main.c). */
	heap_trim();
	for (;;) {
		int st = 0;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p == pid) {
				(void)write(s->status, &st, sizeof(st));
				_exit(0);
			}
			exec_exited(s, p, st);
		}
		if (p < 0 && errno == ECHILD) {
			(void)write(s->status, &st, sizeof(st));
			_exit(0);
		}
		struct pollfd pfd = { .fd = s->sock, .events = POLLIN };
		int n = ppoll(&pfd, s->sock >= 0 ? 1 : 0, NULL, &waitmask);
		if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			serve_spawn(s);
	}
}

long guest_clone(unsigned long flags, int cgroup_fd, int *pidfd)
{
	struct clone_args a = { .flags = flags, .exit_signal = SIGCHLD };
	if (flags & CLONE_PIDFD)
		a.pidfd = (__u64)(uintptr_t)pidfd;
	if (cgroup_fd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (__u64)cgroup_fd;
	}
	return syscall(SYS_clone3, &a, sizeof(a));
}

int guest_start(const struct sandbox_config *cfg, char **envp, const char *hostname,
		const struct guest_ids *ids, int start_fd, int cgroup_fd, int tty_fd, int net_sock,
		struct guest *ret)
{
	int sv[2], pp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return neg_errno();
	if (pipe2(pp, O_CLOEXEC) < 0) {
		int r = neg_errno();
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	int pidfd = -1;
	/* --net=host (documented as unsafe): the host's network namespace. */
	unsigned long netns = cfg->net.mode == NET_HOST ? 0 : CLONE_NEWNET;
	long pid = guest_clone(CLONE_NEWPID | CLONE_NEWNS | netns | CLONE_NEWIPC | CLONE_NEWUTS |
				       CLONE_NEWCGROUP | CLONE_PIDFD,
			       cgroup_fd, &pidfd);
	if (pid == 0) {
		close(sv[0]);
		close(pp[0]);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		struct setup s = { .cfg = cfg, .envp = envp, .hostname = hostname, .ids = *ids,
				   .sock = sv[1], .status = pp[1], .start_fd = start_fd,
				   .tty = tty_fd, .net_sock = net_sock };
		pid1_main(&s);
	}
	close(sv[1]);
	close(pp[1]);
	if (pid < 0) {
		int r = neg_errno();
		close(sv[0]);
		close(pp[0]);
		return r;
	}
	*ret = (struct guest){ .pid = (pid_t)pid, .pidfd = pidfd, .sock = sv[0], .status = pp[0] };
	return 0;
}

int guest_wait_ready(struct guest *g, struct guest_ready *ret)
{
	char data[GUEST_MAX_INTERP * PATH_MAX + 2];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE((2 + GUEST_MAX_INTERP) * sizeof(int))];
	} u;
	struct iovec iov = { data, sizeof(data) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(g->sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 2 || (data[0] != 'R' && data[0] != 'P') || (data[1] != 'D' && data[1] != '-') ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -EPIPE;
	data[n] = 0;
	bool has_listener = data[0] == 'R';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	if (!cm && has_listener)
		return -EPROTO;
	bool has_diag = data[1] == 'D';
	int nfds = cm ? (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int)) : 0;
	int fds[2 + GUEST_MAX_INTERP];
	if (nfds > (int)ARRAY_SIZE(fds) || nfds < (int)has_listener + (int)has_diag)
		return -EPROTO;
	if (nfds)
		memcpy(fds, CMSG_DATA(cm), nfds * sizeof(int));
	int first = (int)has_listener + (int)has_diag;
	*ret = (struct guest_ready){ .listener = has_listener ? fds[0] : -1,
				     .diag = has_diag ? fds[has_listener ? 1 : 0] : -1 };
	const char *p = data + 2;
	for (int i = first; i < nfds; i++) {
		if (p >= data + n) {
			close(fds[i]);
			continue;
		}
		size_t l = strnlen(p, PATH_MAX);
		if (l == PATH_MAX) {
			close(fds[i]);
			break;
		}
		memcpy(ret->interp[ret->ninterp], p, l + 1);
		ret->interp_fd[ret->ninterp++] = fds[i];
		p += l + 1;
	}
	return 0;
}

int guest_wait_traceable(struct guest *g)
{
	char c;
	/* read/write: what the sentry's allowlist has for its sockets. */
	ssize_t n = read(g->sock, &c, 1);
	return n == 1 && c == 'T' ? 0 : -EPIPE;
}

int guest_release_to_tracer(struct guest *g)
{
	return write(g->sock, "G", 1) == 1 ? 0 : neg_errno();
}
