/* SPDX-License-Identifier: MIT */
/* The sentry's side of the gofer protocol.
 *
 * Concurrency: any number of threads may call at once. Each call registers a
 * waiter under a fresh tag, sends its frame (datagrams are atomic, so no send
 * lock), and waits. Replies are read by one thread at a time, "leader/
 * follower" style: whichever waiter finds nobody reading becomes the reader,
 * hands every frame it reads to the waiter with that tag (condvar), and when
 * its own reply has arrived passes the role to another waiter. Compared with a
 * dedicated reader thread this saves a thread wakeup (and a likely CPU
 * migration) on every uncontended round trip.
 *
 * Lock: gc->lock protects the waiter list, the reader role, the tag counter
 * and `dead`. It is never held across a syscall that can block.
 *
 * Failure: the gofer is part of the sandbox's trusted computing base, but a
 * reply that breaks the protocol, a closed socket or a failed send all mean
 * the same: the connection is dead, every pending and future call returns
 * -EIO, and the fatal hook the sentry installed (gofer_client_set_fatal)
 * ends the sandbox (fail closed) the moment that is found, not only when
 * some caller looks at the -EIO. */
#include "gofer.h"
#include "proto.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

/* Fds a frame may carry: one; room for a few more so extras are seen and closed. */
#define GC_MAX_FDS 4

struct gc_waiter {
	struct gc_waiter *next;
	uint32_t tag;
	uint16_t op;
	bool waiting;    /* in wait_locked: may take the reader role */
	bool done;
	int err;         /* set with done when the frame could not be handed over */
	pthread_cond_t cond;
	uint8_t *frame;  /* malloc'd copy of the reply */
	size_t len;
	int fd;
};

struct gofer_client {
	int sock;
	pthread_mutex_t lock;
	bool dead;
	bool reading;
	void (*fatal)(const char *why); /* called once, when dead is set */
	uint32_t next_tag;
	struct gc_waiter *waiters;
	/* Used only by the reader; +1: an oversized reply shows (MSG_TRUNC). */
	uint8_t rxbuf[GOFER_MAX_REPLY + 1];
};

struct gc_reply {
	uint8_t *frame;
	size_t len;
	int fd;
};

struct gofer_client *gofer_client_new(int sock)
{
	struct gofer_client *gc = calloc(1, sizeof(*gc));
	if (!gc)
		return NULL;
	if (pthread_mutex_init(&gc->lock, NULL) != 0) {
		free(gc);
		return NULL;
	}
	gc->sock = sock;
	gc->next_tag = 1;
	return gc;
}

void gofer_client_free(struct gofer_client *gc)
{
	if (!gc)
		return;
	/* Closing our end is what tells the gofer to exit. */
	safe_close(gc->sock);
	pthread_mutex_destroy(&gc->lock);
	free(gc);
}

/* Errnos the sentry may pass on; anything else becomes -EIO. */
static int gc_errno(int status)
{
	switch (-status) {
	case ENOENT:
	case EACCES:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case EPERM:
	case EROFS:
	case ENOMEM:
	case EIO:
	/* what mutations of rw exports may answer */
	case EEXIST:
	case ENOTEMPTY:
	case EISDIR:
	case EXDEV:
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
	case ETXTBSY:
	case EBUSY:
	case EINVAL:
	case EMLINK:
	case ENXIO:
	case ENODATA:
	case E2BIG:
	case ERANGE:
	case EOPNOTSUPP:
	case EAGAIN:
	case EOVERFLOW:
		return status;
	}
	return -EIO;
}

/* --- connection state (gc->lock held) ------------------------------------ */

void gofer_client_set_fatal(struct gofer_client *gc, void (*fn)(const char *why))
{
	pthread_mutex_lock(&gc->lock);
	gc->fatal = fn;
	pthread_mutex_unlock(&gc->lock);
}

static void kill_locked(struct gofer_client *gc)
{
	if (!gc->dead) {
		log_debug("gofer connection lost: failing all calls");
		if (gc->fatal)
			gc->fatal("the gofer connection broke (malformed or unexpected reply, or lost)");
	}
	gc->dead = true;
	for (struct gc_waiter *w = gc->waiters; w; w = w->next)
		pthread_cond_signal(&w->cond);
}

static void gc_kill(struct gofer_client *gc)
{
	pthread_mutex_lock(&gc->lock);
	kill_locked(gc);
	pthread_mutex_unlock(&gc->lock);
}

static struct gc_waiter *find_locked(struct gofer_client *gc, uint32_t tag, struct gc_waiter ***ret_link)
{
	for (struct gc_waiter **p = &gc->waiters; *p; p = &(*p)->next)
		if ((*p)->tag == tag) {
			if (ret_link)
				*ret_link = p;
			return *p;
		}
	return NULL;
}

static void unlink_locked(struct gofer_client *gc, struct gc_waiter *w)
{
	for (struct gc_waiter **p = &gc->waiters; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			return;
		}
}

static uint32_t tag_alloc_locked(struct gofer_client *gc)
{
	uint32_t tag;
	do
		tag = gc->next_tag++;
	while (tag == 0 || find_locked(gc, tag, NULL));
	return tag;
}

/* --- I/O ------------------------------------------------------------------ */

static int send_frame(int sock, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	for (;;) {
		/* sendmsg/recvmsg only: the pair the sentry's filter allows. */
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EIO;
		if (errno != EINTR)
			return neg_errno();
	}
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		safe_close(fds[i]);
}

/* One frame into gc->rxbuf; *ret_fd is the fd it carried or -1. A frame
 * whose fd flag does not match what arrived is refused. */
static int recv_frame(struct gofer_client *gc, size_t *ret_len, int *ret_fd)
{
	struct iovec iov = { .iov_base = gc->rxbuf, .iov_len = sizeof(gc->rxbuf) };
	union {
		char buf[CMSG_SPACE(sizeof(int) * GC_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;
	do
		n = recvmsg(gc->sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return neg_errno();
	if (n == 0)
		return -EPIPE; /* the gofer is gone */

	int fds[GC_MAX_FDS];
	size_t nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nfds < GC_MAX_FDS; i++)
			memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	struct gofer_hdr h;
	bool bad = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfds > 1 ||
		   gofer_hdr_decode(gc->rxbuf, (size_t)n, &h) < 0 ||
		   !!(h.flags & GOFER_F_FD) != (nfds == 1);
	if (bad) {
		close_fds(fds, nfds);
		return -EBADMSG;
	}
	*ret_len = (size_t)n;
	*ret_fd = nfds ? fds[0] : -1;
	return 0;
}

/* Hand the frame in rxbuf to its waiter. Consumes fd. */
static int dispatch_locked(struct gofer_client *gc, size_t len, int fd)
{
	struct gofer_hdr h;
	struct gc_waiter **link;
	(void)gofer_hdr_decode(gc->rxbuf, len, &h); /* checked by recv_frame */
	struct gc_waiter *w = find_locked(gc, h.tag, &link);
	if (!w || w->op != h.op) {
		safe_close(fd);
		return -EBADMSG; /* a reply nobody asked for */
	}
	*link = w->next; /* a second reply with this tag is now unknown */
	w->frame = malloc(len);
	if (w->frame) {
		memcpy(w->frame, gc->rxbuf, len);
		w->len = len;
		w->fd = fd;
	} else {
		safe_close(fd);
		w->err = -ENOMEM;
	}
	w->done = true;
	pthread_cond_signal(&w->cond);
	return 0;
}

/* Wait for w's reply, reading frames ourselves while nobody else does. */
static int wait_locked(struct gofer_client *gc, struct gc_waiter *w)
{
	w->waiting = true;
	while (!w->done) {
		if (gc->dead)
			return -EIO;
		if (gc->reading) {
			pthread_cond_wait(&w->cond, &gc->lock);
			continue;
		}
		gc->reading = true;
		pthread_mutex_unlock(&gc->lock);
		size_t len = 0;
		int fd = -1;
		int r = recv_frame(gc, &len, &fd);
		pthread_mutex_lock(&gc->lock);
		gc->reading = false;
		if (r == 0)
			r = dispatch_locked(gc, len, fd);
		if (r < 0) {
			kill_locked(gc);
			return -EIO;
		}
	}
	return w->err;
}

/* Someone must read for the waiters still queued when a reader leaves. Only
 * a thread already waiting can take the role: one still blocked in send()
 * would not read, and the gofer, blocked sending us replies nobody reads,
 * would never drain the queue that send() waits on. */
static void handoff_locked(struct gofer_client *gc)
{
	if (gc->reading)
		return;
	for (struct gc_waiter *w = gc->waiters; w; w = w->next)
		if (w->waiting) {
			pthread_cond_signal(&w->cond);
			return;
		}
}

/* One round trip. `req` was encoded with tag 0; the tag is set here. */
static int gc_call(struct gofer_client *gc, uint8_t *req, size_t len, uint16_t op, struct gc_reply *ret)
{
	struct gc_waiter w = { .op = op, .fd = -1 };
	pthread_cond_init(&w.cond, NULL);
	pthread_mutex_lock(&gc->lock);
	if (gc->dead) {
		pthread_mutex_unlock(&gc->lock);
		pthread_cond_destroy(&w.cond);
		return -EIO;
	}
	w.tag = tag_alloc_locked(gc);
	w.next = gc->waiters;
	gc->waiters = &w;
	pthread_mutex_unlock(&gc->lock);

	struct gofer_hdr h;
	(void)gofer_hdr_decode(req, len, &h);
	h.tag = w.tag;
	gofer_hdr_encode(req, &h);
	int r = send_frame(gc->sock, req, len);

	pthread_mutex_lock(&gc->lock);
	if (r < 0)
		kill_locked(gc);
	else
		r = wait_locked(gc, &w);
	if (!w.done)
		unlink_locked(gc, &w);
	handoff_locked(gc);
	pthread_mutex_unlock(&gc->lock);
	pthread_cond_destroy(&w.cond);

	if (r < 0) {
		free(w.frame);
		safe_close(w.fd);
		return r == -ENOMEM ? r : -EIO;
	}
	*ret = (struct gc_reply){ .frame = w.frame, .len = w.len, .fd = w.fd };
	return 0;
}

static void reply_free(struct gc_reply *rp)
{
	free(rp->frame);
	rp->frame = NULL;
	rp->fd = safe_close(rp->fd);
}

/* The status of a received reply: 0, a whitelisted -errno, or -EIO after
 * killing the connection if the frame is not a proper reply to op. */
static int reply_status(struct gofer_client *gc, const struct gc_reply *rp, uint16_t op)
{
	struct gofer_hdr h;
	int r = gofer_hdr_decode(rp->frame, rp->len, &h);
	if (r == 0)
		r = gofer_reply_check(&h, op);
	if (r == -EBADMSG) {
		gc_kill(gc);
		return -EIO;
	}
	return r < 0 ? gc_errno(r) : 0;
}

/* --- operations ----------------------------------------------------------- */

static int node_call(struct gofer_client *gc, uint8_t *req, size_t len, uint16_t op, struct gofer_node *ret)
{
	struct gc_reply rp;
	int r = gc_call(gc, req, len, op, &rp);
	if (r < 0)
		return r;
	r = reply_status(gc, &rp, op);
	if (r < 0) {
		reply_free(&rp);
		return r;
	}
	struct gofer_node n = { .fd = -1 };
	bool ok = gofer_reply_node_decode(rp.frame, rp.len, &n.id, &n.st) == 0;
	/* A directory comes with its fd and an id, anything else with
	 * neither; ATTACH always names a directory. */
	bool isdir = S_ISDIR(n.st.st_mode);
	ok = ok && isdir == (rp.fd >= 0) && isdir == (n.id != GOFER_ID_NONE);
	ok = ok && (op != GOFER_OP_ATTACH || isdir);
	if (!ok) {
		reply_free(&rp);
		gc_kill(gc);
		return -EIO;
	}
	n.fd = TAKE_FD(rp.fd);
	reply_free(&rp);
	*ret = n;
	return 0;
}

int gofer_attach(struct gofer_client *gc, uint32_t idx, struct gofer_node *ret)
{
	uint8_t req[GOFER_ATTACH_REQ_SIZE];
	ssize_t len = gofer_req_attach(req, sizeof(req), 0, idx);
	if (len < 0)
		return -EIO;
	return node_call(gc, req, (size_t)len, GOFER_OP_ATTACH, ret);
}

int gofer_walk(struct gofer_client *gc, uint64_t dir_id, const char *name, struct gofer_node *ret)
{
	uint8_t req[GOFER_MAX_REQUEST];
	size_t nlen = strnlen(name, GOFER_NAME_MAX + 1);
	if (nlen > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	/* "", ".", ".." or a '/': the VFS never passes these; refuse here
	 * rather than have the gofer end the connection over a local bug. */
	ssize_t len = gofer_req_walk(req, sizeof(req), 0, dir_id, name);
	if (len < 0)
		return -EINVAL;
	return node_call(gc, req, (size_t)len, GOFER_OP_WALK, ret);
}

int gofer_release(struct gofer_client *gc, uint64_t id)
{
	/* One-way: no reply to wait for, so vnode release never blocks on
	 * the gofer. */
	if (id == GOFER_ID_NONE)
		return 0; /* a WALK of a non-directory issues no id */
	uint8_t req[GOFER_RELEASE_REQ_SIZE];
	ssize_t len = gofer_req_release(req, sizeof(req), id);
	if (len < 0)
		return -EIO;
	pthread_mutex_lock(&gc->lock);
	bool dead = gc->dead;
	pthread_mutex_unlock(&gc->lock);
	if (dead)
		return -EIO;
	if (send_frame(gc->sock, req, (size_t)len) < 0) {
		gc_kill(gc);
		return -EIO;
	}
	return 0;
}

int gofer_mutate(struct gofer_client *gc, uint16_t op, const struct gofer_mut *m, int *ret_fd,
		 struct stat *ret_st)
{
	size_t cap = (size_t)GOFER_MUT_REQ_FIXED + m->name_len + m->name2_len + m->data_len;
	_cleanup_free_ uint8_t *req = malloc(cap);
	if (!req)
		return -ENOMEM;
	/* A request the gofer would refuse ends the connection there: refuse
	 * it here instead (a local bug, never the guest's doing). */
	ssize_t len = gofer_req_mut(req, cap, op, 0, m);
	if (len < 0)
		return -EINVAL;
	struct gc_reply rp;
	int r = gc_call(gc, req, (size_t)len, op, &rp);
	if (r < 0)
		return r;
	r = reply_status(gc, &rp, op);
	if (r < 0) {
		reply_free(&rp);
		return r;
	}
	/* OPEN answers with a stat and the fd; UNLINK, RENAME and the xattr
	 * ops with a bare header; the rest with a stat and no fd. */
	bool bare = op == GOFER_OP_UNLINK || op == GOFER_OP_RENAME || op == GOFER_OP_SETXATTR ||
		    op == GOFER_OP_REMOVEXATTR;
	bool want_fd = op == GOFER_OP_OPEN;
	uint64_t id = 0;
	struct stat st = { 0 };
	bool ok = (rp.fd >= 0) == want_fd;
	if (ok && bare)
		ok = rp.len == GOFER_HDR_SIZE;
	else if (ok)
		ok = gofer_reply_node_decode(rp.frame, rp.len, &id, &st) == 0 && id == GOFER_ID_NONE &&
		     (!want_fd || S_ISREG(st.st_mode));
	if (!ok) {
		reply_free(&rp);
		gc_kill(gc);
		return -EIO;
	}
	if (ret_fd)
		*ret_fd = TAKE_FD(rp.fd);
	if (ret_st)
		*ret_st = st;
	reply_free(&rp);
	return 0;
}
