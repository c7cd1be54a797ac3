/* SPDX-License-Identifier: MIT */
/* `moat exec`: a new process in a running container's sandbox.
 *
 * The client (sentry/cmd/exec.c) connects to the container's control
 * socket, <root>/<id>/exec.sock, and sends the process (execsrv.h). The
 * sentry checks it, resolves its cwd in its own VFS, makes its credentials
 * and, for a terminal, a pty of the sandbox's devpts, then asks pid 1 to
 * fork it (spawn.h): so it enters the sandbox exactly as the command did,
 * in its namespaces, under its filter and the seccomp profile, as its host
 * uid, with the sandbox's limits. When pid 1's fork arrives as a
 * notification, the new task takes the exec's credentials and directories
 * instead of pid 1's (task_set_spawn): one spawn is in flight at a time,
 * the rest wait in order. pid 1 reports the process's exit, which goes
 * back to the client as its wait status.
 *
 * Everything here runs on the control thread (sentry_watch); the sentry
 * lock is taken only around the VFS and the task table. A connection is
 * freed only once it is no longer watched (the client hung up), so no
 * event of the same epoll batch can name a freed connection. */
#include "sentry/sandbox/execsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/fs/fs.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "sentry/sandbox/console.h"
#include "sentry/sandbox/spawn.h"
#include "sentry/vfs/namei.h"

struct conn {
	struct sentry_source src; /* first: the event names the connection */
	struct conn *next;        /* all connections */
	struct conn *qnext;       /* the spawn queue */
	uint32_t id;
	bool queued, running, finished;
	bool gone;                /* the client hung up: unwatched, fd closed */
	/* The request's "end_with_client": the client's hangup kills the
	 * process's group (moat cp: a stream nobody reads any more). */
	bool end_with_client;
	pid_t vpid;
	pid_t host;               /* its host pid, once it runs */
	int fds[3];               /* stdio for the process, until sent */
	int master;               /* its terminal, until sent to the client */
	struct fs_state *fs;
	struct cred *cred;
	char *req;                /* the spawn request for pid 1 */
	size_t reqlen;
};

static struct sentry_source listener, init_src;
static int devpts = -1;
static struct conn *conns, *queue_head, *inflight;
static uint32_t next_id = 1;

static void reply(struct conn *c, struct json_object *o, int fd)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	/* A client gone meanwhile: its hangup frees the connection. */
	(void)send_fds(c->src.fd, s, strlen(s), &fd, fd >= 0, MSG_DONTWAIT, NULL, 0);
	json_object_put(o);
}

static void reply_error(struct conn *c, const char *fmt, ...) _printf_(2, 3);
static void reply_error(struct conn *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(buf));
	reply(c, o, -1);
	c->finished = true;
}

static void conn_release(struct conn *c)
{
	for (int i = 0; i < 3; i++)
		safe_close(c->fds[i]);
	c->fds[0] = c->fds[1] = c->fds[2] = -1;
	c->master = safe_close(c->master);
	sentry_lock();
	if (c->fs)
		fs_state_unref(c->fs);
	if (c->cred)
		cred_unref(c->cred);
	sentry_unlock();
	c->fs = NULL;
	c->cred = NULL;
	free(c->req);
	c->req = NULL;
}

static void conn_free(struct conn *c)
{
	for (struct conn **pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	conn_release(c);
	free(c);
}

/* ---- the spawn queue --------------------------------------------------------- */

static void spawn_next(void)
{
	while (!inflight && queue_head) {
		struct conn *c = queue_head;
		queue_head = c->qnext;
		c->queued = false;
		if (c->gone) {
			conn_free(c);
			continue;
		}
		if (init_src.fd < 0) {
			reply_error(c, "the container's init is gone");
			conn_release(c);
			continue;
		}
		sentry_lock();
		task_set_spawn(c->fs, c->cred);
		sentry_unlock();
		ssize_t sent = send_fds(init_src.fd, c->req, c->reqlen, c->fds, 3, 0, NULL, 0);
		if (sent < 0) {
			int e = (int)-sent;
			sentry_lock();
			task_set_spawn(NULL, NULL);
			sentry_unlock();
			reply_error(c, "ask the container's init: %s", strerror(e));
			conn_release(c);
			continue;
		}
		/* pid 1 has its copies now. */
		for (int i = 0; i < 3; i++)
			c->fds[i] = safe_close(c->fds[i]);
		inflight = c;
	}
}

static struct conn *conn_by_vpid(pid_t vpid)
{
	for (struct conn *c = conns; c; c = c->next)
		if (c->running && c->vpid == vpid)
			return c;
	return NULL;
}

static void on_init(struct sentry_source *src, uint32_t events)
{
	struct spawn_msg m;
	/* recvmsg: the one receive call in the sentry's allowlist. */
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = recvmsg(src->fd, &msg, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != (ssize_t)sizeof(m)) {
		/* pid 1 is gone (the sandbox is ending): no more execs. */
		(void)events;
		sentry_unwatch(src);
		src->fd = safe_close(src->fd);
		if (inflight) {
			reply_error(inflight, "the container's init is gone");
			conn_release(inflight);
			if (inflight->gone)
				conn_free(inflight);
			inflight = NULL;
		}
		spawn_next(); /* fails the queued ones */
		return;
	}
	if (m.type == SPAWN_EXITED) {
		struct conn *c = conn_by_vpid(m.vpid);
		if (c) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "status", json_object_new_int(m.status));
			reply(c, o, -1);
			c->running = false;
			c->finished = true;
		}
		return;
	}
	struct conn *c = inflight;
	if (m.type != SPAWN_STARTED || !c || m.id != c->id)
		return;
	inflight = NULL;
	sentry_lock();
	task_set_spawn(NULL, NULL);
	pid_t host = 0;
	if (m.vpid > 0) {
		struct proc *p = proc_find_vpid(m.vpid);
		host = p ? p->tgid : 0;
	}
	sentry_unlock();
	if (m.vpid < 0) {
		reply_error(c, "fork: %s", strerror(-m.vpid));
	} else {
		c->vpid = m.vpid;
		c->host = host;
		c->running = true;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(host));
		json_object_object_add(o, "vpid", json_object_new_int(m.vpid));
		reply(c, o, c->master);
	}
	int fd = c->master;
	c->master = -1;
	safe_close(fd);
	conn_release(c);
	if (c->gone)
		conn_free(c);
	spawn_next();
}

/* ---- a request ------------------------------------------------------------- */

static int get_uint(struct json_object *o, const char *key, uint64_t max, uint64_t *ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (json_object_get_type(v) != json_type_int || json_object_get_int64(v) < 0 ||
	    (uint64_t)json_object_get_int64(v) > max)
		return -EINVAL;
	*ret = (uint64_t)json_object_get_int64(v);
	return 1;
}

/* Append the strings of array key to buf; their number in *n. */
static int put_strings(struct json_object *o, const char *key, char **buf, size_t *len,
		       uint32_t *n)
{
	struct json_object *a;
	if (!json_object_object_get_ex(o, key, &a))
		return 0;
	if (json_object_get_type(a) != json_type_array)
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		if (json_object_get_type(e) != json_type_string)
			return -EINVAL;
		const char *s = json_object_get_string(e);
		size_t l = strlen(s) + 1;
		if (*len + l > SPAWN_MAX_MSG)
			return -E2BIG;
		char *nb = realloc(*buf, *len + l);
		if (!nb)
			return -ENOMEM;
		memcpy(nb + *len, s, l);
		*buf = nb;
		*len += l;
		(*n)++;
	}
	return 0;
}

static int build(struct conn *c, struct json_object *o)
{
	struct spawn_req q = { .magic = SPAWN_MAGIC, .id = c->id };
	size_t len = sizeof(q);
	char *buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	int r = put_strings(o, "args", &buf, &len, &q.argc);
	if (r == 0)
		r = put_strings(o, "env", &buf, &len, &q.envc);
	if (r == 0 && q.argc == 0)
		r = -EINVAL;
	struct json_object *rl, *t;
	if (r == 0 && json_object_object_get_ex(o, "rlimits", &rl)) {
		if (json_object_get_type(rl) != json_type_array ||
		    json_object_array_length(rl) > SPAWN_MAX_RLIMITS)
			r = -EINVAL;
		for (size_t i = 0; r == 0 && i < json_object_array_length(rl); i++) {
			struct json_object *e = json_object_array_get_idx(rl, i);
			if (json_object_get_type(e) != json_type_array || json_object_array_length(e) != 3) {
				r = -EINVAL;
				break;
			}
			q.rlimits[i].resource = json_object_get_int(json_object_array_get_idx(e, 0));
			q.rlimits[i].soft = (uint64_t)json_object_get_int64(json_object_array_get_idx(e, 1));
			q.rlimits[i].hard = (uint64_t)json_object_get_int64(json_object_array_get_idx(e, 2));
			q.nrlimits++;
		}
	}
	if (r == 0 && json_object_object_get_ex(o, "terminal", &t) && json_object_get_boolean(t))
		q.flags |= SPAWN_TTY;
	if (r < 0) {
		free(buf);
		return r;
	}
	memcpy(buf, &q, sizeof(q));
	c->req = buf;
	c->reqlen = len;
	return 0;
}

/* The exec's credentials and directories, in the sentry's model. */
static int make_state(struct conn *c, struct json_object *o, char *why, size_t whylen)
{
	uint64_t uid = 0, gid = 0, umask = 022;
	struct json_object *cwdo, *groups = NULL;
	if (get_uint(o, "uid", UINT32_MAX - 1, &uid) < 0 || get_uint(o, "gid", UINT32_MAX - 1, &gid) < 0 ||
	    get_uint(o, "umask", 0777, &umask) < 0)
		return snprintf(why, whylen, "bad user"), -EINVAL;
	if (json_object_object_get_ex(o, "groups", &groups) &&
	    (json_object_get_type(groups) != json_type_array || json_object_array_length(groups) > 32))
		return snprintf(why, whylen, "bad additional groups"), -EINVAL;
	const char *cwd = "/";
	if (json_object_object_get_ex(o, "cwd", &cwdo))
		cwd = json_object_get_string(cwdo);
	if (!cwd || cwd[0] != '/')
		return snprintf(why, whylen, "cwd must be an absolute path"), -EINVAL;
	sentry_lock();
	struct vnode *root = task_init_root();
	if (!root) {
		sentry_unlock();
		return snprintf(why, whylen, "the container's init is gone"), -ESRCH;
	}
	struct nameidata nd = { .hostfd = -1 };
	int r = namei_at(root, root, cwd, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &nd);
	if (r < 0) {
		sentry_unlock();
		return snprintf(why, whylen, "chdir to cwd (\"%s\") set in config.json failed: %s", cwd,
				strerror(-r)), r;
	}
	c->fs = fs_state_new(root, nd.vn, (mode_t)umask);
	nd_release(&nd);
	c->cred = cred_new((uid_t)uid, (gid_t)gid);
	if (c->cred && groups) {
		for (size_t i = 0; i < json_object_array_length(groups); i++)
			c->cred->groups[i] = (gid_t)json_object_get_int64(json_object_array_get_idx(groups, i));
		c->cred->ngroups = (int)json_object_array_length(groups);
	}
	sentry_unlock();
	if (!c->fs || !c->cred)
		return snprintf(why, whylen, "out of memory"), -ENOMEM;
	return 0;
}

static int make_terminal(struct conn *c, struct json_object *o)
{
	uint64_t rows = 0, cols = 0;
	(void)get_uint(o, "rows", 65535, &rows);
	(void)get_uint(o, "cols", 65535, &cols);
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	int master, slave;
	int r = console_pty_new(devpts, &ws, &master, &slave);
	if (r < 0)
		return r;
	unsigned ptn;
	if (ioctl(master, TIOCGPTN, &ptn) == 0)
		devfs_pty_set_owner(ptn, c->cred->euid);
	c->master = master;
	c->fds[0] = slave;
	c->fds[1] = fcntl(slave, F_DUPFD_CLOEXEC, 3);
	c->fds[2] = fcntl(slave, F_DUPFD_CLOEXEC, 3);
	return c->fds[1] < 0 || c->fds[2] < 0 ? -EMFILE : 0;
}

static void handle_request(struct conn *c, const char *text, size_t len, int *fds, size_t nfds)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	if (tok)
		json_tokener_free(tok);
	char why[PATH_MAX + 128] = "bad request";
	struct json_object *t;
	bool tty = o && json_object_object_get_ex(o, "terminal", &t) && json_object_get_boolean(t);
	int r = -EINVAL;
	if (!o || json_object_get_type(o) != json_type_object || (!tty && nfds != 3))
		goto fail;
	if ((r = make_state(c, o, why, sizeof(why))) < 0)
		goto fail;
	c->end_with_client = json_object_object_get_ex(o, "end_with_client", &t) &&
			     json_object_get_boolean(t);
	if (tty) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		nfds = 0;
		if ((r = make_terminal(c, o)) < 0) {
			snprintf(why, sizeof(why), "make the terminal: %s", strerror(-r));
			goto fail;
		}
	} else {
		memcpy(c->fds, fds, sizeof(c->fds));
		nfds = 0;
	}
	if ((r = build(c, o)) < 0) {
		snprintf(why, sizeof(why), "bad process (args, env or rlimits): %s", strerror(-r));
		goto fail;
	}
	json_object_put(o);
	c->queued = true;
	struct conn **pp = &queue_head;
	while (*pp)
		pp = &(*pp)->qnext;
	*pp = c;
	spawn_next();
	return;
fail:
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	json_object_put(o);
	reply_error(c, "%s", why);
	conn_release(c);
}

static void on_conn(struct sentry_source *src, uint32_t events)
{
	struct conn *c = (struct conn *)src;
	static char buf[SPAWN_MAX_MSG];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(3 * sizeof(int))];
	} u;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			      .msg_controllen = sizeof(u.b) };
	ssize_t n = recvmsg(src->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	int fds[3];
	size_t nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n > 0 && cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (nfds < 3)
					fds[nfds++] = fd;
				else
					close(fd);
			}
		}
	if (n <= 0 || (events & (EPOLLHUP | EPOLLERR))) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		/* The client hung up: forget it. A process it started runs
		 * on, as a detached one (runc's and docker's exec do the
		 * same), unless the request said it ends with its client:
		 * then its process group goes (it leads one: guest.c). Still
		 * running means pid 1 has not reaped it, so its pid is still
		 * the group's. One pid 1 has yet to answer for is freed
		 * then. */
		if (c->running && c->end_with_client && c->host > 0)
			(void)kill(-c->host, SIGKILL);
		sentry_unwatch(src);
		src->fd = safe_close(src->fd);
		c->gone = true;
		if (c != inflight && !c->queued)
			conn_free(c);
		return;
	}
	if (c->req || c->queued || c->running || c->finished || c == inflight) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return; /* one request per connection */
	}
	handle_request(c, buf, (size_t)n, fds, nfds);
}

static void on_listen(struct sentry_source *src, uint32_t events)
{
	(void)events;
	int fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	*c = (struct conn){ .src = { .fd = fd, .fn = on_conn }, .id = next_id++,
			    .fds = { -1, -1, -1 }, .master = -1 };
	if (sentry_watch(&c->src) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = conns;
	conns = c;
}

int execsrv_start(int listen_fd, int init_sock, int devpts_mnt)
{
	listener = (struct sentry_source){ .fd = listen_fd, .fn = on_listen };
	init_src = (struct sentry_source){ .fd = init_sock, .fn = on_init };
	devpts = devpts_mnt;
	int r = sentry_watch(&listener);
	if (r == 0)
		r = sentry_watch(&init_src);
	return r;
}
