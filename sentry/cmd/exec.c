/* SPDX-License-Identifier: MIT */
/* `moat exec [OPTIONS] ID COMMAND [ARGS...]` or `moat exec -p FILE ID`:
 * runc's exec. A new process in the running container's sandbox, started
 * by its sentry (sentry/sandbox/execsrv.c: the request travels over
 * <root>/<id>/exec.sock with our stdio attached). In the foreground moat
 * forwards signals to it, relays its terminal (--tty without
 * --console-socket) and exits with its status, as runc does (128+N for a
 * signal N); --detach returns once it runs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"
#include "sentry/oci/spec.h"
#include "sentry/sandbox/console.h"
#include "sentry/sandbox/spawn.h"

static void usage(FILE *f)
{
	fputs("Usage: moat exec [OPTIONS] CONTAINER-ID COMMAND [ARGS...]\n"
	      "       moat exec [OPTIONS] -p process.json CONTAINER-ID\n"
	      "Run a new process inside a running container's sandbox, under its filter\n"
	      "and limits, served by its sentry.\n"
	      "\n"
	      "Options:\n"
	      "  -p, --process FILE      the process, as config.json's \"process\" object\n"
	      "  -t, --tty               give it a terminal of the sandbox's own\n"
	      "  -d, --detach            return once it runs\n"
	      "  -e, --env KEY=VALUE     add to (or replace in) the container's environment\n"
	      "      --cwd DIR           its working directory (default: the container's)\n"
	      "  -u, --user UID[:GID]    its identity in the sandbox (default: the container's)\n"
	      "  -g, --additional-gids GID  a supplementary group (repeatable)\n"
	      "      --console-socket PATH  with --tty, send the terminal's master there\n"
	      "      --pid-file FILE     write its host pid there\n"
	      "      --end-with-client   kill it (its process group) if this moat exec ends\n"
	      "                          first, killed or not (moat cp's streams)\n"
	      "  --cap, --apparmor, --process-label, --no-new-privs, --preserve-fds, --cgroup,\n"
	      "  --ignore-paused, --pidfd-socket  accepted, no effect (see docs/oci.md)\n",
	      f);
}

struct exec_opts {
	const char *process, *cwd, *user, *console_socket, *pid_file;
	bool tty, detach, ignore_paused, end_with_client;
	char **env;
	size_t nenv;
	gid_t groups[32];
	size_t ngroups;
};

static int add_env(struct sandbox_config *c, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -EINVAL;
	/* Replace a variable the container has, as runc does. */
	for (size_t i = 0; i < c->nenv; i++)
		if (!strncmp(c->env[i], kv, (size_t)(eq - kv) + 1)) {
			char *d = strdup(kv);
			if (!d)
				return -ENOMEM;
			free(c->env[i]);
			c->env[i] = d;
			return 0;
		}
	return config_add_env(c, kv);
}

/* The process to run: --process, else the container's own with the
 * command line's changes. */
static int make_process(const struct oci_state *st, const struct exec_opts *o, char **argv,
			struct oci_spec *ret)
{
	char err[PATH_MAX + 512];
	int r;
	if (o->process) {
		if ((r = oci_process_load(o->process, ret, err, sizeof(err))) < 0)
			return oci_fail("exec failed: %s", err);
	} else {
		/* A named sandbox (run_named.c) keeps its process's defaults
		 * beside its state; a container's are in its bundle. */
		char named[PATH_MAX];
		if (oci_path(named, sizeof(named), st->id, "process.json") == 0 && access(named, F_OK) == 0)
			r = oci_process_load(named, ret, err, sizeof(err));
		else
			r = oci_spec_load(st->bundle, ret, err, sizeof(err));
		if (r < 0)
			return oci_fail("exec failed: the container's %s", err);
		char **a = strv_dup(argv);
		if (!a)
			return oci_fail("exec failed: out of memory");
		strv_free(ret->cfg.argv);
		ret->cfg.argv = a;
		ret->cfg.tty = o->tty;
		ret->cfg.console_rows = ret->cfg.console_cols = 0;
	}
	struct sandbox_config *c = &ret->cfg;
	for (size_t i = 0; i < o->nenv; i++)
		if (add_env(c, o->env[i]) < 0)
			return oci_fail("exec failed: --env %s: expected KEY=VALUE", o->env[i]);
	if (o->cwd) {
		free(c->cwd);
		if (!(c->cwd = strdup(o->cwd)))
			return oci_fail("exec failed: out of memory");
	}
	if (o->user) {
		char *end;
		unsigned long uid = strtoul(o->user, &end, 10), gid = 0;
		if (end == o->user || (*end && *end != ':'))
			return oci_fail("exec failed: --user %s: expected UID[:GID] (numbers)", o->user);
		if (*end == ':') {
			const char *g = end + 1;
			gid = strtoul(g, &end, 10);
			if (end == g || *end)
				return oci_fail("exec failed: --user %s: expected UID[:GID] (numbers)", o->user);
		}
		if (uid >= UINT32_MAX || gid >= UINT32_MAX)
			return oci_fail("exec failed: --user %s: out of range", o->user);
		c->uid = (uid_t)uid;
		c->gid = (gid_t)gid;
	}
	if (o->ngroups) {
		free(c->groups);
		if (!(c->groups = calloc(o->ngroups, sizeof(gid_t))))
			return oci_fail("exec failed: out of memory");
		memcpy(c->groups, o->groups, o->ngroups * sizeof(gid_t));
		c->ngroups = o->ngroups;
	}
	return 0;
}

static struct json_object *request_json(const struct sandbox_config *c, const struct winsize *ws,
					 bool end_with_client)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (char **p = c->argv; *p; p++)
		json_object_array_add(a, json_object_new_string(*p));
	json_object_object_add(o, "args", a);
	a = json_object_new_array();
	bool home = false;
	for (size_t i = 0; i < c->nenv; i++) {
		json_object_array_add(a, json_object_new_string(c->env[i]));
		home |= !strncmp(c->env[i], "HOME=", 5);
	}
	/* As the container's own process gets it (sandbox.c). */
	if (!home)
		json_object_array_add(a, json_object_new_string(c->uid == 0 ? "HOME=/root" : "HOME=/"));
	json_object_object_add(o, "env", a);
	json_object_object_add(o, "cwd", json_object_new_string(c->cwd ? c->cwd : "/"));
	json_object_object_add(o, "uid", json_object_new_int64(c->uid));
	json_object_object_add(o, "gid", json_object_new_int64(c->gid));
	a = json_object_new_array();
	for (size_t i = 0; i < c->ngroups; i++)
		json_object_array_add(a, json_object_new_int64(c->groups[i]));
	json_object_object_add(o, "groups", a);
	if (c->umask_set)
		json_object_object_add(o, "umask", json_object_new_int(c->umask));
	json_object_object_add(o, "terminal", json_object_new_boolean(c->tty));
	if (c->tty) {
		json_object_object_add(o, "rows", json_object_new_int(c->console_rows ? c->console_rows : ws->ws_row));
		json_object_object_add(o, "cols", json_object_new_int(c->console_cols ? c->console_cols : ws->ws_col));
	}
	a = json_object_new_array();
	for (size_t i = 0; i < c->nrlimits && i < SPAWN_MAX_RLIMITS; i++) {
		struct json_object *e = json_object_new_array();
		json_object_array_add(e, json_object_new_int(c->rlimits[i].resource));
		json_object_array_add(e, json_object_new_int64((int64_t)c->rlimits[i].lim.rlim_cur));
		json_object_array_add(e, json_object_new_int64((int64_t)c->rlimits[i].lim.rlim_max));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "rlimits", a);
	if (end_with_client)
		json_object_object_add(o, "end_with_client", json_object_new_boolean(true));
	return o;
}

static int send_request(int sock, struct json_object *req, bool tty)
{
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	int fds[3] = { 0, 1, 2 };
	ssize_t n = send_fds(sock, s, strlen(s), fds, tty ? 0 : 3, 0, NULL, 0);
	return n < 0 ? (int)n : 0;
}

/* One answer of the sentry, and the fd attached to it (or -1). NULL when
 * the sentry is gone. */
static struct json_object *receive(int sock, int *ret_fd)
{
	char buf[4096];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			      .msg_controllen = sizeof(u.b) };
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	*ret_fd = -1;
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return json_tokener_parse(buf);
}

static int status_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
}

static struct termios saved_tio;
static bool raw_set;

static void restore_terminal(void)
{
	if (raw_set)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	raw_set = false;
}

static void copy_once(int from, int to, bool *open_)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			*open_ = false;
		return;
	}
	(void)write_all(to, buf, (size_t)n);
}

/* Foreground: forward signals to the process, relay its terminal, wait
 * for its status. */
static int foreground(int sock, int pidfd, int master)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
				   SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaddset(&sigs, fwd[i]);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	_cleanup_close_ int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	bool in_open = master >= 0, out_open = master >= 0;
	if (master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		cfmakeraw(&raw);
		raw_set = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		atexit(restore_terminal);
	}
	int status = -1;
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = out_open ? master : -1, .events = POLLIN },
		};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[3].revents)
			copy_once(master, STDOUT_FILENO, &out_open);
		if (p[2].revents)
			copy_once(STDIN_FILENO, master, &in_open);
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				int sig = (int)si.ssi_signo;
				struct winsize ws;
				if (sig == SIGWINCH && master >= 0) {
					if (console_user_winsize(&ws) == 0)
						(void)ioctl(master, TIOCSWINSZ, &ws);
				} else if (sig != SIGPIPE && pidfd >= 0) {
					(void)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
				}
			}
		}
		if (p[0].revents) {
			int fd;
			struct json_object *o = receive(sock, &fd);
			safe_close(fd);
			struct json_object *v;
			if (o && json_object_object_get_ex(o, "status", &v))
				status = status_code(json_object_get_int(v));
			json_object_put(o);
			/* The sentry gone without a status: the sandbox ended,
			 * and SIGKILL took every process in it. */
			if (status < 0)
				status = 128 + SIGKILL;
			break;
		}
	}
	/* What it wrote last, once it is gone. */
	if (master >= 0) {
		int fl = fcntl(master, F_GETFL);
		(void)fcntl(master, F_SETFL, fl | O_NONBLOCK);
		while (out_open) {
			char buf[8192];
			ssize_t n = read(master, buf, sizeof(buf));
			if (n <= 0)
				break;
			(void)write_all(STDOUT_FILENO, buf, (size_t)n);
		}
	}
	restore_terminal();
	return status;
}

int command_exec(int argc, char **argv)
{
	enum { O_CWD = 256, O_CONSOLE, O_PIDFILE, O_IGNORE, O_ARG, O_PAUSED, O_END };
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "env", required_argument, NULL, 'e' },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "cap", required_argument, NULL, 'c' },
		{ "apparmor", required_argument, NULL, O_ARG },
		{ "process-label", required_argument, NULL, O_ARG },
		{ "preserve-fds", required_argument, NULL, O_ARG },
		{ "cgroup", required_argument, NULL, O_ARG },
		{ "pidfd-socket", required_argument, NULL, O_ARG },
		{ "no-new-privs", no_argument, NULL, O_IGNORE },
		{ "ignore-paused", no_argument, NULL, O_PAUSED },
		{ "end-with-client", no_argument, NULL, O_END },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	struct exec_opts o = { 0 };
	_cleanup_free_ char **env = calloc((size_t)argc + 1, sizeof(char *));
	o.env = env;
	int c;
	opterr = 0;
	optind = 0;
	/* Options end at the container id: the command's own follow it. */
	while ((c = getopt_long(argc, argv, "+p:tde:u:g:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.process = optarg;
			break;
		case 't':
			o.tty = true;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'e':
			o.env[o.nenv++] = optarg;
			break;
		case O_CWD:
			o.cwd = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'g': {
			char *end;
			unsigned long g = strtoul(optarg, &end, 10);
			if (end == optarg || *end || g >= UINT32_MAX || o.ngroups == ARRAY_SIZE(o.groups))
				return oci_fail("exec: --additional-gids %s: expected a gid", optarg);
			o.groups[o.ngroups++] = (gid_t)g;
			break;
		}
		case O_CONSOLE:
			o.console_socket = optarg;
			break;
		case O_PIDFILE:
			o.pid_file = optarg;
			break;
		case O_PAUSED:
			o.ignore_paused = true;
			break;
		case O_END:
			o.end_with_client = true;
			break;
		case 'c':
		case O_ARG:
		case O_IGNORE:
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return oci_fail("exec: flag provided but not defined or without its value: %s",
					argv[optind - 1]);
		}
	}
	int r = oci_check_args("exec", argc - optind, o.process ? 1 : 2, OCI_ARGS_MIN);
	if (r)
		return r;
	struct oci_state st;
	if ((r = oci_container_get(argv[optind], &st)))
		return r;
	enum oci_status s = oci_state_status(&st);
	if (s == OCI_STOPPED) {
		oci_state_free(&st);
		return oci_fail("cannot exec in a stopped container");
	}
	if (s == OCI_PAUSED && !o.ignore_paused) {
		oci_state_free(&st);
		return oci_fail("cannot exec in a paused container (use --ignore-paused to override)");
	}
	struct oci_spec proc;
	r = make_process(&st, &o, argv + optind + 1, &proc);
	if (r) {
		oci_state_free(&st);
		return r;
	}
	struct sandbox_config *cfg = &proc.cfg;
	if (cfg->tty && o.detach && !o.console_socket)
		r = oci_fail("exec failed: cannot allocate tty if moat will detach without setting console socket");
	else if (!cfg->tty && o.console_socket)
		r = oci_fail("exec failed: cannot use console socket if moat will not detach or allocate tty");
	if (r) {
		oci_spec_free(&proc);
		oci_state_free(&st);
		return r;
	}
	_cleanup_close_ int sock = oci_exec_socket(st.id, false);
	if (sock < 0) {
		oci_spec_free(&proc);
		oci_state_free(&st);
		return oci_fail("exec failed: the container's sentry: %s", strerror(-sock));
	}
	struct winsize ws = { 24, 80, 0, 0 };
	if (cfg->tty)
		(void)console_user_winsize(&ws);
	struct json_object *req = request_json(cfg, &ws, o.end_with_client);
	r = send_request(sock, req, cfg->tty);
	json_object_put(req);
	oci_spec_free(&proc);
	if (r < 0) {
		oci_state_free(&st);
		return oci_fail("exec failed: send the process to the container's sentry: %s", strerror(-r));
	}
	int master;
	struct json_object *ans = receive(sock, &master), *v;
	_cleanup_close_ int mfd = master;
	if (!ans || !json_object_object_get_ex(ans, "pid", &v)) {
		const char *why = "the container's sentry ended";
		if (ans && json_object_object_get_ex(ans, "error", &v))
			why = json_object_get_string(v);
		r = oci_fail("exec failed: %s", why);
		json_object_put(ans);
		oci_state_free(&st);
		return r;
	}
	pid_t pid = json_object_get_int(v);
	json_object_put(ans);
	/* A pidfd now, while pid 1 cannot have reaped it (it reports the
	 * exit first): signals then never reach a reused pid. */
	_cleanup_close_ int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	oci_state_free(&st);
	if (mfd >= 0 && o.console_socket) {
		r = console_send_master(o.console_socket, mfd);
		mfd = safe_close(mfd);
		if (r < 0)
			return oci_fail("exec failed: --console-socket %s: %s", o.console_socket, strerror(-r));
	}
	if (o.detach) {
		/* An engine waits for the pid of --pid-file as its child
		 * (conmon and containerd's shim are subreapers): the process,
		 * a grandchild of the sandbox's pid 1, never can be. A waiter
		 * forked here is, once we exit: it gets the status from the
		 * sentry, forwards signals, and exits with the status, as the
		 * container's sentry does for its command (docs/oci.md). */
		fflush(NULL);
		pid_t w = fork();
		if (w < 0)
			return oci_fail("exec failed: fork: %m");
		if (w == 0) {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			for (int fd = 0; null >= 0 && fd < 3; fd++)
				(void)dup2(null, fd);
			/* It outlives us: holding the caller's other fds
			 * (a pipe a shell waits on to end) would keep
			 * them open as long as the process runs. */
			int s2 = fcntl(sock, F_DUPFD_CLOEXEC, 10);
			int p2 = pidfd >= 0 ? fcntl(pidfd, F_DUPFD_CLOEXEC, 10) : -1;
			if (s2 < 0 || dup2(s2, 3) < 0 || (p2 >= 0 && dup2(p2, 4) < 0))
				_exit(125);
			syscall(SYS_close_range, 5, ~0U, 0);
			_exit(foreground(3, p2 >= 0 ? 4 : -1, -1));
		}
		pid = w;
	}
	if (o.pid_file && (r = oci_write_pid_file(o.pid_file, pid)) < 0)
		return oci_fail("exec failed: --pid-file %s: %s", o.pid_file, strerror(-r));
	if (o.detach)
		return 0;
	return foreground(sock, pidfd, mfd);
}
