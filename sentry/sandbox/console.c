/* SPDX-License-Identifier: MIT */
/* Terminals (docs/terminals.md).
 *
 * Every sandbox gets a devpts instance of its own, mounted detached at
 * setup (it is in no mount namespace; the sentry reaches it through one fd)
 * with at most a few dozen ptys, all owned by the sandbox's host uid.
 * `moat run -t` makes the command's pty there; the guest's /dev/ptmx and
 * /dev/pts (sentry/fs/devfs.c) are the same instance. Its numbering starts
 * at 0 and is the sandbox's own, so nothing in it tells the guest about
 * the host's terminals.
 *
 * The master never enters the sandbox. For `moat run -t` a relay process
 * holds it: forked before the sentry confines itself, it copies the user's
 * keystrokes in and the guest's output out, keeps the user's terminal in
 * raw mode meanwhile (so Ctrl-C, Ctrl-Z and the rest are bytes the guest's
 * line discipline turns into signals for its foreground group), follows
 * SIGWINCH, and restores the terminal on every way out: the guest is gone
 * (every slave closed, the master reads EIO once the last byte is out),
 * the sentry asks it to stop, or the sentry died (PR_SET_PDEATHSIG). A
 * process rather than a thread of the sentry: the sentry can be killed by
 * its own seccomp allowlist, and the user's terminal must not stay raw;
 * and the sentry needs no terminal ioctls. It runs as the sandbox's host
 * uid, not dumpable, with no capability and an allowlist of its own: the
 * guest cannot name it (it is outside the sandbox's pid namespace) nor
 * trace it. */
#include "sentry/sandbox/console.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static int fsconfig_str(int fsfd, const char *key, const char *val)
{
	return syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, val, 0) < 0 ? neg_errno() : 0;
}

int console_devpts_new(uid_t uid, gid_t gid, unsigned max, int *ret_mnt)
{
	_cleanup_close_ int fsfd = (int)syscall(SYS_fsopen, "devpts", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return neg_errno();
	char u[16], g[16], m[16];
	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	snprintf(g, sizeof(g), "%u", (unsigned)gid);
	snprintf(m, sizeof(m), "%u", max);
	/* The slaves are the sandbox uid's (the sentry opens them for the
	 * guest after it dropped to that uid); the guest sees owners of its
	 * own (devfs). max bounds what a guest takes of the host's pty pool
	 * (kernel.pty.max, shared by every non-initial instance). */
	int r;
	if ((r = fsconfig_str(fsfd, "uid", u)) < 0 || (r = fsconfig_str(fsfd, "gid", g)) < 0 ||
	    (r = fsconfig_str(fsfd, "mode", "0600")) < 0 ||
	    (r = fsconfig_str(fsfd, "ptmxmode", "0666")) < 0 || (r = fsconfig_str(fsfd, "max", m)) < 0)
		return r;
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return neg_errno();
	int mnt = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC,
			       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return neg_errno();
	*ret_mnt = mnt;
	return 0;
}

int console_pty_new(int devpts_mnt, const struct winsize *ws, int *ret_master, int *ret_slave)
{
	if (devpts_mnt < 0)
		return -ENOENT;
	_cleanup_close_ int master = openat(devpts_mnt, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return neg_errno();
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return neg_errno();
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return neg_errno();
	if (ws && ws->ws_row && ws->ws_col && ioctl(master, TIOCSWINSZ, ws) < 0) {
		int r = neg_errno();
		close(slave);
		return r;
	}
	*ret_master = TAKE_FD(master);
	*ret_slave = slave;
	return 0;
}

int console_send_master(const char *path, int master)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return neg_errno();
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return neg_errno();
	/* runc sends the pty's name along with it; engines read and ignore it. */
	static const char name[] = "/dev/ptmx";
	ssize_t n = send_fds(s, name, sizeof(name) - 1, &master, 1, 0, NULL, 0);
	return n < 0 ? (int)n : 0;
}

int console_user_winsize(struct winsize *ret)
{
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, ret) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, ret) == 0)
		return 0;
	return -ENOTTY;
}

/* ---- the relay process ---- */

enum { R_MASTER = 3, R_SIG = 4 };

struct relay {
	int in, out;          /* the user's side; in < 0: not forwarded */
	bool raw;
	struct termios saved; /* in's settings before raw mode */
	bool restore;
	char inbuf[4096];     /* keystrokes not yet taken by the master */
	size_t inoff, inlen;
};

static void write_out(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* moat's stdout may be a non-blocking description. */
			struct pollfd pf = { fd, POLLOUT, 0 };
			(void)poll(&pf, 1, -1);
			continue;
		}
		if (w <= 0)
			return; /* the user's side is gone: output is dropped */
		p += w;
		n -= (size_t)w;
	}
}

/* Copy what the master has. Returns false once it reads EIO or EOF: every
 * slave is closed and nothing is left. */
static bool copy_out(struct relay *rl)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(R_MASTER, buf, sizeof(buf));
		if (n > 0) {
			write_out(rl->out, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

static void copy_in(struct relay *rl)
{
	if (rl->inlen == 0) {
		ssize_t n = read(rl->in, rl->inbuf, sizeof(rl->inbuf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {
			rl->in = -1; /* EOF or hangup: nothing more to forward */
			return;
		}
		rl->inoff = 0;
		rl->inlen = (size_t)n;
	}
	ssize_t w = write(R_MASTER, rl->inbuf + rl->inoff, rl->inlen);
	if (w > 0) {
		rl->inoff += (size_t)w;
		rl->inlen -= (size_t)w;
	}
}

static void copy_winsize(struct relay *rl)
{
	struct winsize ws;
	int fd = rl->in >= 0 ? rl->in : rl->out;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(R_MASTER, TIOCSWINSZ, &ws);
}

static _Noreturn void relay_end(struct relay *rl)
{
	if (rl->restore)
		(void)tcsetattr(rl->in, TCSADRAIN, &rl->saved);
	_exit(0);
}

static _Noreturn void relay_main(struct relay *rl, pid_t sentry_pid)
{
	for (;;) {
		struct pollfd p[3] = {
			{ R_SIG, POLLIN, 0 },
			{ R_MASTER, POLLIN | (rl->inlen ? POLLOUT : 0), 0 },
			{ rl->inlen == 0 ? rl->in : -1, POLLIN, 0 },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			relay_end(rl);
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			if (read(R_SIG, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH) {
					copy_winsize(rl);
				} else if (si.ssi_signo == SIGUSR1 || getppid() != sentry_pid) {
					/* The sentry is done (or dead): what the
					 * master holds is the guest's last output. */
					(void)copy_out(rl);
					relay_end(rl);
				}
				/* Other terminal signals are the sentry's
				 * to forward to the guest. */
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			if (!copy_out(rl))
				relay_end(rl);
		if ((p[1].revents & POLLOUT) || (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
			if (rl->in >= 0 || rl->inlen)
				copy_in(rl);
	}
}

/* The relay's own allowlist: copying, window sizes and the terminal's
 * restore. Anything else fails with EPERM rather than kill it, so that it
 * still restores the user's terminal. */
static int relay_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return -ENOMEM;
	static const char *const calls[] = {
		"read", "write", "poll", "close", "getppid", "rt_sigreturn", "restart_syscall", "exit",
		"exit_group",
#if defined(__SANITIZE_ADDRESS__)
		/* a --enable-asan test build only: the runtime reads the
		 * signal stack before every noreturn call */
		"sigaltstack",
#endif
	};
	/* glibc's tcsetattr reads the settings back (TCGETS) around its TCSETSW. */
	static const unsigned long ioctls[] = { TIOCGWINSZ, TIOCSWINSZ, TCSETSW, TCGETS };
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; i < ARRAY_SIZE(calls) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(calls[i]), 0);
	for (size_t i = 0; i < ARRAY_SIZE(ioctls) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU, ioctls[i]));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

/* In the new process: the fds it keeps, its signals, the user's terminal
 * in raw mode, then no privilege and its own seccomp allowlist. */
static _Noreturn void relay_child(int master, int in_fd, int out_fd, bool raw, uid_t uid,
				  gid_t gid, pid_t sentry_pid)
{
	struct relay rl = { .in = in_fd, .out = out_fd, .raw = raw };
	sigset_t sigs;
	sigemptyset(&sigs);
	int list[] = { SIGWINCH, SIGUSR1, SIGTERM, SIGHUP, SIGINT, SIGQUIT };
	for (size_t i = 0; i < ARRAY_SIZE(list); i++)
		sigaddset(&sigs, list[i]);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	/* Writes and mode changes of a background moat must not stop it. */
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	/* Both above their places first: either may have been given the
	 * other's number (the lowest free ones are R_MASTER and R_SIG when
	 * the sentry has no other fd there), and a dup3 onto it would close
	 * it. */
	int m = fcntl(master, F_DUPFD_CLOEXEC, R_SIG + 1);
	sfd = sfd < 0 ? sfd : fcntl(sfd, F_DUPFD_CLOEXEC, R_SIG + 1);
	if (sfd < 0 || m < 0 || dup3(m, R_MASTER, O_CLOEXEC) < 0 || dup3(sfd, R_SIG, O_CLOEXEC) < 0)
		_exit(1);
	syscall(SYS_close_range, R_SIG + 1, ~0U, 0);
	int fl = fcntl(R_MASTER, F_GETFL);
	(void)fcntl(R_MASTER, F_SETFL, fl | O_NONBLOCK);
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	/* After the uid change, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != sentry_pid)
		_exit(1);
	if (raw && rl.in >= 0 && tcgetattr(rl.in, &rl.saved) == 0) {
		struct termios t = rl.saved;
		cfmakeraw(&t);
		rl.restore = tcsetattr(rl.in, TCSANOW, &t) == 0;
	}
	if (relay_filter() < 0)
		relay_end(&rl);
	relay_main(&rl, sentry_pid);
}

int console_relay_start(int master, int in_fd, int out_fd, bool raw, uid_t uid, gid_t gid,
			struct console_relay *ret)
{
	pid_t me = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int r = neg_errno();
		close(master);
		return r;
	}
	if (pid == 0)
		relay_child(master, in_fd, out_fd, raw, uid, gid, me);
	close(master);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int r = neg_errno();
		kill(pid, SIGKILL);
		return r;
	}
	*ret = (struct console_relay){ .pid = pid, .pidfd = pidfd };
	return 0;
}

void console_relay_wait(struct console_relay *r, int timeout_ms)
{
	if (r->pid <= 0)
		return;
	struct pollfd p = { r->pidfd, POLLIN, 0 };
	if (poll(&p, 1, timeout_ms) == 0) {
		/* A slave still open somewhere: take what is there and stop.
		 * What is left is at most the pty's buffer, but stdout may be
		 * slow; a relay stuck on it for seconds more is given up. */
		kill(r->pid, SIGUSR1);
		if (poll(&p, 1, 5000) == 0)
			kill(r->pid, SIGKILL);
	}
	close(r->pidfd);
	r->pid = -1;
}
