/* SPDX-License-Identifier: MIT */
/* A container's life.
 *
 * create: the command (P) reads the bundle, claims <root>/<id> with mkdir,
 * makes exec.fifo and forks the sentry (D), which leads a session of its
 * own and sets the sandbox up as `moat run` does, with two differences
 * (struct sandbox_hooks): the command, once pid 1 has forked it, waits for
 * one byte on the FIFO before its exec; and when everything is set up D
 * tells P the host pids of pid 1 and the gofer, then waits for P's answer.
 * P writes state.json (and --pid-file) and answers; only then does D start
 * serving. If P dies or fails first, D sees the socket close and tears the
 * sandbox down, so a container exists exactly when its state does. P then
 * exits and D, orphaned, lives on (adopted by the engine's subreaper, which
 * waits for it: D exits with the container's status).
 *
 * start writes the byte and removes the FIFO: from then on the state reads
 * "running". Later commands find the container from state.json alone: the
 * sentry's, pid 1's and the gofer's pids, each with its start time. */
#include "sentry/oci/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/kernel/pidwalk.h"
#include "sentry/oci/hooks.h"
#include "sentry/oci/spec.h"
#include "sentry/sandbox/cgroup.h"
#include "sentry/sandbox/sandbox.h"

/* What D tells P once the sandbox is ready. */
struct ready_msg {
	pid_t init_pid;
	pid_t gofer_pid;
};

int oci_container_get(const char *id, struct oci_state *ret)
{
	if (!id || !*id)
		return oci_fail("container id cannot be empty");
	if (!oci_id_valid(id))
		return oci_fail("invalid container ID format");
	int r = oci_state_load(id, ret);
	if (r == -ENOENT)
		return oci_fail("container does not exist");
	if (r < 0)
		return oci_fail("container %s: state: %s", id, strerror(-r));
	return 0;
}

int oci_exec_socket(const char *id, bool listen_)
{
	char dir[PATH_MAX];
	int r = oci_path(dir, sizeof(dir), id, NULL);
	if (r < 0)
		return r;
	/* Through the directory's fd: a --root of any length fits sun_path. */
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return neg_errno();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/exec.sock", dfd);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return neg_errno();
	if (listen_) {
		mode_t old = umask(0077);
		r = bind(s, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
		if (r < 0 || listen(s, 16) < 0)
			return neg_errno();
		/* accept4 in the sentry never waits on an empty queue. */
		if (fcntl(s, F_SETFL, O_NONBLOCK) < 0)
			return neg_errno();
	} else if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		return neg_errno();
	}
	return TAKE_FD(s);
}

/* ---- the daemon (D) ---------------------------------------------------------- */

/* D's side of the handshake, called with the sentry's filter on: sendmsg,
 * read and close only. */
static int ready_cb(void *ctx, pid_t init_pid, pid_t gofer_pid)
{
	int sock = *(int *)ctx;
	struct ready_msg m = { init_pid, gofer_pid };
	char ack;
	/* sendmsg, which the filter allows for the gofer's socket: with
	 * MSG_NOSIGNAL a create that died is an error, not a SIGPIPE. */
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	bool ok = sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(m) && read(sock, &ack, 1) == 1;
	close(sock);
	return ok ? 0 : -1;
}

static _Noreturn void daemon_main(struct oci_spec *spec, int sock, int start_fd, int exec_sock)
{
	/* Its own session: no terminal, no process group shared with the
	 * engine or shell that ran `moat create`. stdio stays: it is the
	 * container's. */
	(void)setsid();
	if (chdir("/") < 0)
		_exit(125);
	struct sandbox_hooks hooks = { .start_fd = start_fd, .ready = ready_cb, .ctx = &sock,
				       .exec_sock = exec_sock };
	int status = sandbox_run_hooks(&spec->cfg, &hooks);
	exit(status);
}

/* ---- the command (P) ------------------------------------------------------------ */

int oci_write_pid_file(const char *path, pid_t pid)
{
	/* runc's way: a hidden temporary beside it, renamed over it. */
	_cleanup_free_ char *copy = strdup(path), *tmp = NULL;
	if (!copy)
		return -ENOMEM;
	char *slash = strrchr(copy, '/');
	int n = slash ? (*slash = 0, asprintf(&tmp, "%s/.%s", copy, slash + 1))
		      : asprintf(&tmp, ".%s", copy);
	if (n < 0)
		return -ENOMEM;
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return neg_errno();
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", pid);
	int r = write_all(fd, buf, (size_t)len);
	if (r == 0 && fsync(fd) < 0)
		r = neg_errno();
	if (r == 0 && rename(tmp, path) < 0)
		r = neg_errno();
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static pid_t fg_child;
static void forward_signal(int sig)
{
	if (fg_child > 0)
		kill(fg_child, sig);
}

/* Foreground run: signals for the container go to its sentry, which hands
 * them to pid 1 and so to the command; its status is ours. */
static int run_foreground(pid_t d)
{
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
	fg_child = d;
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaction(fwd[i], &sa, NULL);
	return wait_child_status(d, 125);
}

static int make_state_dir(const char *id)
{
	char dir[PATH_MAX];
	int r = oci_path(dir, sizeof(dir), id, NULL);
	if (r < 0)
		return r;
	/* The root is private to root, as runc's; its parents are made as
	 * runc makes them (containerd gives /run/containerd/runc/<ns>). */
	char root[PATH_MAX];
	snprintf(root, sizeof(root), "%s", oci_globals.root);
	for (char *sl = strchr(root + 1, '/');; sl = strchr(sl + 1, '/')) {
		if (sl)
			*sl = 0;
		if (mkdir(root, sl ? 0711 : 0700) < 0 && errno != EEXIST)
			return neg_errno();
		if (!sl)
			break;
		*sl = '/';
	}
	return mkdir(dir, 0711) < 0 ? neg_errno() : 0;
}

/* The FIFO, opened read-write: a read then waits for data rather than
 * returning at once because nobody writes (see struct sandbox_hooks). */
static int make_fifo(const char *id)
{
	char path[PATH_MAX];
	int r = oci_path(path, sizeof(path), id, "exec.fifo");
	if (r < 0)
		return r;
	if (mkfifo(path, 0600) < 0)
		return neg_errno();
	int fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? neg_errno() : fd;
}

/* Everything after the fork: wait for D's report, record the container,
 * let D go. Returns 0 or the exit status of a failure (reported). */
static int record(const struct oci_launch *l, struct oci_spec *spec, pid_t d, int sock)
{
	struct ready_msg m;
	ssize_t n;
	do
		n = read(sock, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m)) {
		int st = wait_child_status(d, 125);
		return oci_fail("moat %s failed: the sandbox did not start (status %d)", l->verb, st);
	}
	struct oci_state st = { .id = (char *)l->id, .version = spec->version, .bundle = spec->bundle,
				.rootfs = spec->rootfs, .annotations = spec->annotations,
				.hooks = spec->hooks };
	char created[64];
	oci_time_now(created, sizeof(created));
	st.created = created;
	int r = oci_proc_read(d, &st.sentry);
	if (r == 0)
		r = oci_proc_read(m.init_pid, &st.init);
	if (r == 0)
		r = oci_proc_read(m.gofer_pid, &st.gofer);
	if (r < 0) {
		kill(d, SIGKILL);
		(void)wait_child_status(d, 125);
		return oci_fail("moat %s failed: the sandbox ended during its setup", l->verb);
	}
	/* The runtime-spec's create-time hooks, the sandbox's namespaces made
	 * and nothing of the container's run yet (its command waits for our
	 * answer, or the start). A failure stops the container, and the
	 * lifecycle goes on to its deletion: poststop. */
	static const char *const create_hooks[] = { "prestart", "createRuntime", "createContainer",
						    "startContainer" };
	char err[PATH_MAX + 256];
	size_t nhooks = l->mode == OCI_MODE_CREATE ? 3 : 4;
	for (size_t i = 0; i < nhooks; i++) {
		r = oci_hooks_run(spec->hooks, create_hooks[i], &st, i < 3 ? "creating" : "created", d,
				  m.init_pid, err, sizeof(err));
		if (r < 0) {
			kill(d, SIGKILL);
			(void)wait_child_status(d, 125);
			oci_hooks_poststop(spec->hooks, &st);
			return oci_fail("moat %s failed: %s", l->verb, err);
		}
	}
	if ((r = oci_state_save(&st)) < 0) {
		kill(d, SIGKILL);
		(void)wait_child_status(d, 125);
		return oci_fail("moat %s failed: write state.json: %s", l->verb, strerror(-r));
	}
	if (l->pid_file && (r = oci_write_pid_file(l->pid_file, d)) < 0) {
		kill(d, SIGKILL);
		(void)wait_child_status(d, 125);
		return oci_fail("moat %s failed: --pid-file %s: %s", l->verb, l->pid_file, strerror(-r));
	}
	if (send(sock, "1", 1, MSG_NOSIGNAL) != 1) {
		(void)wait_child_status(d, 125);
		if (l->pid_file)
			(void)unlink(l->pid_file);
		return oci_fail("moat %s failed: the sandbox ended during its setup", l->verb);
	}
	if (l->mode != OCI_MODE_CREATE)
		oci_hooks_poststart(spec->hooks, &st);
	return 0;
}

int oci_container_launch(const struct oci_launch *l)
{
	if (!l->id || !*l->id)
		return oci_fail("moat %s failed: container id cannot be empty", l->verb);
	if (!oci_id_valid(l->id))
		return oci_fail("moat %s failed: invalid container ID format", l->verb);
	if (geteuid() != 0)
		return oci_fail("moat %s failed: moat must run as root (namespaces and seccomp supervision)",
				l->verb);
	struct oci_spec spec;
	char err[PATH_MAX + 512];
	int r = 0;
	if (l->spec) {
		spec = *l->spec;
		*l->spec = (struct oci_spec){ 0 };
	} else if ((r = oci_spec_load(l->bundle ? l->bundle : ".", &spec, err, sizeof(err))) < 0) {
		return oci_fail("moat %s failed: %s", l->verb, err);
	}
	/* runc's rule: a detached container's terminal must go to the
	 * engine; a foreground run relays it to moat's own stdio. Without a
	 * terminal the socket is not used. */
	if (spec.cfg.tty && l->console_socket) {
		if (!(spec.cfg.console_socket = strdup(l->console_socket))) {
			oci_spec_free(&spec);
			return oci_fail("moat %s failed: out of memory", l->verb);
		}
	} else if (spec.cfg.tty && l->mode != OCI_MODE_RUN) {
		oci_spec_free(&spec);
		return oci_fail("moat %s failed: process.terminal is true: a detached container's terminal "
				"needs --console-socket",
				l->verb);
	}
	if ((r = make_state_dir(l->id)) < 0) {
		oci_spec_free(&spec);
		if (r == -EEXIST)
			return oci_fail("moat %s failed: container with given ID already exists", l->verb);
		return oci_fail("moat %s failed: %s/%s: %s", l->verb, oci_globals.root, l->id, strerror(-r));
	}
	int status = 1;
	_cleanup_close_ int fifo = -1, exec_sock = -1;
	int sv[2] = { -1, -1 };
	if (l->spec && (r = oci_process_save(l->id, &spec.cfg)) < 0) {
		status = oci_fail("moat %s failed: process.json: %s", l->verb, strerror(-r));
		goto out;
	}
	if ((exec_sock = oci_exec_socket(l->id, true)) < 0) {
		status = oci_fail("moat %s failed: exec.sock: %s", l->verb, strerror(-exec_sock));
		goto out;
	}
	if (l->mode == OCI_MODE_CREATE && (fifo = make_fifo(l->id)) < 0) {
		status = oci_fail("moat %s failed: exec.fifo: %s", l->verb, strerror(-fifo));
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		status = oci_fail("moat %s failed: socketpair: %m", l->verb);
		goto out;
	}
	fflush(NULL);
	pid_t d = fork();
	if (d < 0) {
		status = oci_fail("moat %s failed: fork: %m", l->verb);
		goto out;
	}
	if (d == 0) {
		close(sv[0]);
		daemon_main(&spec, sv[1], fifo, exec_sock);
	}
	safe_close(sv[1]);
	exec_sock = safe_close(exec_sock);
	fifo = safe_close(fifo);
	status = record(l, &spec, d, sv[0]);
	safe_close(sv[0]);
	if (status != 0)
		goto out;
	if (l->started)
		*l->started = true;
	if (l->mode == OCI_MODE_RUN) {
		status = run_foreground(d);
		if (!l->keep) {
			(void)oci_state_remove(l->id);
			struct oci_state st = { .id = (char *)l->id, .version = spec.version,
						.bundle = spec.bundle, .annotations = spec.annotations };
			oci_hooks_poststop(spec.hooks, &st);
		}
	}
	oci_spec_free(&spec);
	return status;
out:
	(void)oci_state_remove(l->id);
	oci_spec_free(&spec);
	return status;
}

/* ---- finding the container's processes again ------------------------------------ */

/* A pidfd for p if it is still the process state.json recorded (opened
 * first, checked after: the pidfd cannot come to name another process). */
static int proc_pidfd(const struct oci_proc *p)
{
	if (p->pid <= 0)
		return -ESRCH;
	int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (fd < 0)
		return neg_errno();
	if (!oci_proc_alive(p)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

struct walk {
	pid_t init;
	ino_t pidns;
	pid_t *v;
	size_t n, cap;
	pid_t command; /* pid 2 of the sandbox */
};

static ino_t pidns_of(pid_t pid)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* The process's pid in its innermost namespace (the last NSpid field). */
static pid_t inner_pid(pid_t pid)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file_at(AT_FDCWD, path, &text, 1 << 16) < 0)
		return 0;
	char *l = strstr(text, "\nNSpid:");
	if (!l)
		return 0;
	char *end = strchr(l + 1, '\n');
	if (end)
		*end = 0;
	char *last = strrchr(l, '\t');
	return last ? (pid_t)atoi(last + 1) : 0;
}

static int visit(pid_t h, void *ctx)
{
	struct walk *w = ctx;
	if (h == w->init)
		return PIDWALK_DESCEND;
	/* A pid reused by a process outside the sandbox: not ours. */
	if (pidns_of(h) != w->pidns)
		return PIDWALK_SKIP;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		pid_t *nv = realloc(w->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		w->v = nv;
		w->cap = cap;
	}
	w->v[w->n++] = h;
	if (!w->command && inner_pid(h) == 2)
		w->command = h;
	return PIDWALK_DESCEND;
}

static int walk_container(const struct oci_state *st, struct walk *w)
{
	*w = (struct walk){ .init = st->init.pid };
	if (!oci_proc_alive(&st->init) || !(w->pidns = pidns_of(st->init.pid)))
		return 0; /* no sandbox left: no processes */
	int r = pidwalk_from(st->init.pid, visit, w);
	if (r < 0) {
		free(w->v);
		*w = (struct walk){ 0 };
	}
	return r < 0 ? r : 0;
}

int oci_container_pids(const struct oci_state *st, pid_t **ret, size_t *n)
{
	struct walk w;
	int r = walk_container(st, &w);
	if (r < 0)
		return r;
	*ret = w.v;
	*n = w.n;
	return 0;
}

int oci_container_signal(const struct oci_state *st, int sig, bool all)
{
	struct walk w;
	int r = walk_container(st, &w);
	if (r < 0)
		return r;
	if (all) {
		int sent = 0;
		for (size_t i = 0; i < w.n; i++)
			sent += kill(w.v[i], sig) == 0;
		free(w.v);
		return sent ? 0 : -ESRCH;
	}
	free(w.v);
	if (w.command > 0)
		return kill(w.command, sig) < 0 ? neg_errno() : 0;
	/* No command (not forked yet, or gone while the sandbox ends): the
	 * sentry forwards the usual signals to pid 1, and SIGKILL ends it
	 * all. Sent through a pidfd checked against state.json. */
	_cleanup_close_ int pfd = proc_pidfd(&st->sentry);
	if (pfd < 0)
		return pfd;
	return syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0 ? neg_errno() : 0;
}

int oci_container_kill_wait(const struct oci_state *st)
{
	const struct oci_proc *procs[] = { &st->sentry, &st->init, &st->gofer };
	int fds[3];
	for (size_t i = 0; i < 3; i++)
		fds[i] = proc_pidfd(procs[i]);
	/* The sentry first: pid 1 and the gofer die with it
	 * (PR_SET_PDEATHSIG), and it can no longer restart anything. */
	for (size_t i = 0; i < 3; i++)
		if (fds[i] >= 0)
			(void)syscall(SYS_pidfd_send_signal, fds[i], SIGKILL, NULL, 0);
	int64_t deadline = now_ns() + 10 * 1000000000LL;
	int r = 0;
	for (size_t i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
		for (;;) {
			int64_t left = (deadline - now_ns()) / 1000000;
			int p = left > 0 ? poll(&pfd, 1, (int)left) : 0;
			if (p < 0 && errno == EINTR)
				continue;
			if (p == 0)
				r = -ETIMEDOUT;
			break;
		}
		close(fds[i]);
	}
	return r;
}

/* ---- pause and resume --------------------------------------------------------- */

static int write_state_file(const char *id, const char *name, const char *text)
{
	char path[PATH_MAX];
	int r = oci_path(path, sizeof(path), id, name);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return neg_errno();
	return write_all(fd, text, strlen(text));
}

int oci_container_pause(const struct oci_state *st, bool pause)
{
	struct walk w;
	int r = walk_container(st, &w);
	if (r < 0)
		return r;
	char path[PATH_MAX];
	_cleanup_free_ char *mech = NULL;
	if (!pause && oci_path(path, sizeof(path), st->id, "paused") == 0)
		(void)read_file_at(AT_FDCWD, path, &mech, 64);
	_cleanup_free_ char *dir = NULL;
	if (pause || (mech && strcmp(mech, "signals")))
		r = cgroup_freeze(st->init.pid, st->sentry.pid, w.v, w.n, pause, &dir);
	else
		r = -ENOENT;
	const char *how = "freezer";
	if (r == -ENOENT) {
		/* No freezer: stop every process, pid 1 first so that it reaps
		 * nothing meanwhile (from outside its namespace, SIGSTOP
		 * reaches it). A guest waiting with WUNTRACED sees its
		 * children stop and continue: docs/oci.md. */
		how = "signals";
		int sig = pause ? SIGSTOP : SIGCONT;
		r = 0;
		_cleanup_close_ int pfd = proc_pidfd(&st->init);
		if (pfd >= 0)
			(void)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
		for (size_t i = 0; i < w.n; i++)
			(void)kill(w.v[i], sig);
	}
	free(w.v);
	if (r < 0)
		return r;
	if (!pause)
		return oci_path(path, sizeof(path), st->id, "paused") == 0 && unlink(path) < 0 &&
				       errno != ENOENT ? neg_errno() : 0;
	if (dir && strstr(dir, "/freezer/") && (r = write_state_file(st->id, "freezer", dir)) < 0)
		return r;
	return write_state_file(st->id, "paused", how);
}
