/* SPDX-License-Identifier: MIT */
/* The gofer process: gofer_spawn() forks it, it confines itself, then serves
 * the sentry on a SOCK_SEQPACKET socket until the socket closes.
 *
 * Trust: the sentry may be compromised. The gofer serves only the exports it
 * was started with (its mount namespace holds nothing else), resolves one
 * component at a time below a directory fd it issued, never follows a
 * symlink, checks every frame completely, and ends the connection (exits) on
 * any malformed frame or unknown id: a correct sentry never sends one.
 *
 * Setup, in the child, in this order (each step needs the ones before):
 *   1. die with the parent (PDEATHSIG, then getppid against the race);
 *   2. private mount namespace; clone each export's mount tree with
 *      open_tree() while the host's root is still visible, recursively
 *      read-only (unless rw), nosuid, nodev;
 *   3. a small tmpfs becomes "/" (pivot_root), the old root is detached;
 *      the export trees are attached as /<idx>; masks are bind mounts of an
 *      empty, mode-000, read-only file or directory over the masked paths;
 *   4. the tmpfs root turns read-only; export roots are opened;
 *   5. every other fd is closed; capabilities are dropped to
 *      DAC_OVERRIDE + DAC_READ_SEARCH (root-only files read as for root);
 *   6. an io_uring restricted to OPENAT2/STATX/RECVMSG; no_new_privs; a
 *      seccomp allowlist (kill the process on anything else);
 *   7. READY is sent: status 0, or the -errno of the step that failed.
 *
 * Serving: one thread, an event loop over io_uring. Requests are decoded as
 * they arrive; their host work (openat2, statx) goes on the ring, so many
 * requests are in flight and replies go out in completion order, each with
 * its request's tag. READDIR reads a page with getdents64 (no ring op for
 * it) and then stats every entry in one batch. If io_uring is unavailable
 * (disabled by sysctl), the same state machine runs its ops synchronously. */
#include "gofer.h"
#include "proto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <malloc.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SRV_RING_ENTRIES 256u   /* SQ size; also the cap on ops in flight */
#define SRV_MAX_REQS 64u        /* requests in flight before we stop reading */
#define SRV_MAX_IDS (1u << 16)  /* issued directory ids (each holds an fd) */
#define SRV_READDIR_PAGE (64u * 1024) /* target READDIR reply size (see docs) */
#define SRV_DENTS_BUF (32u * 1024)
#define SRV_WALK_TRIES 3
#define SRV_SOCKBUF (1024 * 1024)

/* Directory ids: (generation << 32) | slot, never 0. Export roots occupy the
 * first slots with generation 1 and are never freed. */
struct srv_slot {
	int fd;         /* -1: free */
	uint32_t gen;
	uint32_t busy;  /* requests in flight that use fd */
	uint32_t next_free;
	bool released;  /* RELEASEd while busy: close when idle */
};

enum op_kind { OP_OPEN_DIR, OP_STAT };

/* One host operation; on the ring its user_data is this pointer. */
struct srv_op {
	struct srv_req *req;
	struct srv_op *next;
	enum op_kind kind;
	int dirfd;
	const char *name;
	int32_t res;
	struct statx stx;
};

struct srv_req {
	struct gofer_request rq;
	uint32_t slot;
	unsigned pending;   /* ops queued or in flight */
	int tries;
	struct srv_op op;   /* WALK */
	struct srv_op *ents; /* READDIR: one op per entry, names in `names` */
	size_t nents;
	char *names;
	uint64_t next_cookie;
	bool eof;
};

struct srv {
	int sock;
	struct io_uring ring;
	bool use_ring;
	struct srv_slot *slots;
	uint32_t nslots, nfixed, free_head;
	struct srv_op *q_head, **q_tail;       /* ops waiting for the ring */
	struct srv_op *done_head, **done_tail; /* synchronous mode completions */
	unsigned inflight;                     /* SQEs not yet completed */
	unsigned nreqs;
	bool recv_armed;
	struct msghdr rxmsg;
	struct iovec rxiov;
	uint8_t rxbuf[GOFER_MAX_REQUEST + 1]; /* +1: an oversized frame shows */
	uint8_t *txbuf;
	char *dents;
	/* The objects masks are made of: anything with this (dev, ino) is a mask. */
	dev_t maskf_dev, maskd_dev;
	ino_t maskf_ino, maskd_ino;
};

#define SLOT_NONE UINT32_MAX

static const struct open_how walk_how = {
	.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
	.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
};
#define STAT_FLAGS (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)

/* ------------------------------------------------------------------------
 * Small helpers */

/* why == NULL: the sentry went away (exit 0). Otherwise it broke the
 * protocol (exit 2). Either way the connection ends, and with it the gofer:
 * there is nothing else for it to do. */
_Noreturn static void srv_die(const char *why)
{
	if (why)
		log_debug("gofer: %s, exiting", why);
	_exit(why ? 2 : 0);
}

static void statx_to_stat(const struct statx *sx, struct stat *st)
{
	*st = (struct stat){
		.st_dev = makedev(sx->stx_dev_major, sx->stx_dev_minor),
		.st_ino = sx->stx_ino,
		.st_mode = sx->stx_mode,
		.st_nlink = sx->stx_nlink,
		.st_uid = sx->stx_uid,
		.st_gid = sx->stx_gid,
		.st_rdev = makedev(sx->stx_rdev_major, sx->stx_rdev_minor),
		.st_size = (off_t)sx->stx_size,
		.st_blksize = sx->stx_blksize,
		.st_blocks = (blkcnt_t)sx->stx_blocks,
		.st_atim = { sx->stx_atime.tv_sec, sx->stx_atime.tv_nsec },
		.st_mtim = { sx->stx_mtime.tv_sec, sx->stx_mtime.tv_nsec },
		.st_ctim = { sx->stx_ctime.tv_sec, sx->stx_ctime.tv_nsec },
	};
}

/* A masked directory is served as what it now is, an empty directory: the
 * sentry mounts its own procfs and devfs over the host's /proc and /dev of a
 * whole-root export. A masked file is refused. */
static bool srv_is_file_mask(const struct srv *s, const struct stat *st)
{
	return st->st_dev == s->maskf_dev && st->st_ino == s->maskf_ino;
}

/* Errors the gofer itself runs into that mean "out of resources". */
static int srv_map_err(int err)
{
	return (err == -EMFILE || err == -ENFILE) ? -ENOMEM : err;
}

/* ------------------------------------------------------------------------
 * Id table */

static uint64_t slot_id(const struct srv *s, uint32_t i)
{
	return ((uint64_t)s->slots[i].gen << 32) | i;
}

/* The slot of an id we issued and have not released, or SLOT_NONE. */
static uint32_t slot_lookup(const struct srv *s, uint64_t id)
{
	uint32_t i = (uint32_t)id, gen = (uint32_t)(id >> 32);
	if (i >= s->nslots || gen == 0)
		return SLOT_NONE;
	const struct srv_slot *sl = &s->slots[i];
	if (sl->fd < 0 || sl->gen != gen || sl->released)
		return SLOT_NONE;
	return i;
}

static int slot_alloc(struct srv *s, int fd, uint64_t *ret_id)
{
	uint32_t i = s->free_head;
	if (i == SLOT_NONE) {
		if (s->nslots >= SRV_MAX_IDS)
			return -ENOMEM;
		i = s->nslots++;
		s->slots[i] = (struct srv_slot){ .fd = -1, .gen = 0 };
	} else {
		s->free_head = s->slots[i].next_free;
	}
	struct srv_slot *sl = &s->slots[i];
	/* A new generation per use: a stale id never names a new directory. */
	if (++sl->gen == 0)
		sl->gen = 1;
	sl->fd = fd;
	sl->busy = 0;
	sl->released = false;
	*ret_id = slot_id(s, i);
	return 0;
}

static void slot_put(struct srv *s, uint32_t i)
{
	struct srv_slot *sl = &s->slots[i];
	if (sl->busy > 0 || !sl->released)
		return;
	sl->fd = safe_close(sl->fd);
	sl->next_free = s->free_head;
	s->free_head = i;
}

/* ------------------------------------------------------------------------
 * Replies */

static void srv_send(struct srv *s, ssize_t len, int fd)
{
	if (len < 0)
		srv_die("cannot encode a reply");
	struct iovec iov = { .iov_base = s->txbuf, .iov_len = (size_t)len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		if (sendmsg(s->sock, &msg, MSG_NOSIGNAL) == len)
			return;
		if (errno != EINTR)
			srv_die(NULL); /* the sentry is gone */
	}
}

static void reply_status(struct srv *s, const struct gofer_request *rq, int status)
{
	srv_send(s, gofer_reply_status(s->txbuf, GOFER_MAX_FRAME, rq->hdr.op, rq->hdr.tag, status), -1);
}

static void reply_node(struct srv *s, const struct gofer_request *rq, uint64_t id, const struct stat *st,
		       int fd)
{
	srv_send(s, gofer_reply_node(s->txbuf, GOFER_MAX_FRAME, rq->hdr.op, rq->hdr.tag, id, st, fd >= 0),
		 fd);
}

/* ------------------------------------------------------------------------
 * Requests and their ops */

static void op_queue(struct srv *s, struct srv_op *op)
{
	op->next = NULL;
	*s->q_tail = op;
	s->q_tail = &op->next;
	op->req->pending++;
}

static struct srv_req *req_new(struct srv *s, const struct gofer_request *rq, uint32_t slot)
{
	struct srv_req *req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	req->rq = *rq;
	req->slot = slot;
	s->slots[slot].busy++;
	s->nreqs++;
	return req;
}

static void req_free(struct srv *s, struct srv_req *req)
{
	s->slots[req->slot].busy--;
	slot_put(s, req->slot);
	s->nreqs--;
	free(req->ents);
	free(req->names);
	free(req);
}

/* The slot a request names; an id we never issued is a protocol violation. */
static uint32_t req_slot(const struct srv *s, uint64_t id)
{
	uint32_t i = slot_lookup(s, id);
	if (i == SLOT_NONE)
		srv_die("request for an id the gofer did not issue");
	return i;
}

static void do_attach(struct srv *s, const struct gofer_request *rq)
{
	if (rq->attach.idx >= s->nfixed) {
		reply_status(s, rq, -ENOENT);
		return;
	}
	struct stat st;
	int fd = s->slots[rq->attach.idx].fd;
	if (fstat(fd, &st) < 0) {
		reply_status(s, rq, neg_errno());
		return;
	}
	reply_node(s, rq, slot_id(s, rq->attach.idx), &st, fd);
}

static void do_release(struct srv *s, const struct gofer_request *rq)
{
	uint32_t i = req_slot(s, rq->release.id);
	if (i < s->nfixed)
		return; /* export roots stay; attach hands them out again */
	s->slots[i].released = true;
	slot_put(s, i);
}

static void start_walk(struct srv *s, const struct gofer_request *rq)
{
	uint32_t slot = req_slot(s, rq->walk.dir_id);
	struct srv_req *req = req_new(s, rq, slot);
	if (!req) {
		reply_status(s, rq, -ENOMEM);
		return;
	}
	req->op = (struct srv_op){
		.req = req,
		.kind = OP_OPEN_DIR,
		.dirfd = s->slots[slot].fd,
		.name = req->rq.walk.name,
	};
	op_queue(s, &req->op);
}

/* A directory opened by a WALK: stat it, issue an id, donate the fd. */
static void walk_got_dir(struct srv *s, struct srv_req *req, int fd)
{
	struct stat st;
	uint64_t id;
	int r = fstat(fd, &st) < 0 ? neg_errno() : 0;
	if (r == 0 && srv_is_file_mask(s, &st))
		r = -EACCES;
	if (r == 0)
		r = slot_alloc(s, fd, &id);
	if (r < 0) {
		safe_close(fd);
		reply_status(s, &req->rq, r);
		return;
	}
	reply_node(s, &req->rq, id, &st, fd);
}

/* Returns true when the request is finished. */
static bool walk_op_done(struct srv *s, struct srv_req *req, struct srv_op *op)
{
	if (op->kind == OP_OPEN_DIR) {
		if (op->res >= 0) {
			walk_got_dir(s, req, op->res);
			return true;
		}
		/* Not a directory (ENOTDIR) or a symlink (ELOOP): report its
		 * lstat instead, without opening it. */
		if (op->res == -ENOTDIR || op->res == -ELOOP) {
			op->kind = OP_STAT;
			op_queue(s, op);
			return false;
		}
		reply_status(s, &req->rq, srv_map_err(op->res));
		return true;
	}
	if (op->res < 0) {
		reply_status(s, &req->rq, op->res);
		return true;
	}
	struct stat st;
	statx_to_stat(&op->stx, &st);
	if (S_ISDIR(st.st_mode)) {
		/* Replaced by a directory between the two ops: a directory
		 * must come with its fd, so open it again. */
		if (++req->tries < SRV_WALK_TRIES) {
			op->kind = OP_OPEN_DIR;
			op_queue(s, op);
			return false;
		}
		reply_status(s, &req->rq, -EIO);
		return true;
	}
	if (srv_is_file_mask(s, &st))
		reply_status(s, &req->rq, -EACCES);
	else
		reply_node(s, &req->rq, GOFER_ID_NONE, &st, -1);
	return true;
}

/* One page of the listing: NUL-terminated names into req->names and one
 * OP_STAT per name into req->ents. Every accepted entry costs its record in
 * the reply, so the reply cannot outgrow the page. */
static int readdir_collect(struct srv *s, struct srv_req *req, int dirfd)
{
	const size_t budget = SRV_READDIR_PAGE - GOFER_READDIR_REPLY_FIXED;
	const size_t max_n = budget / GOFER_DIRENT_REC_SIZE;
	_cleanup_free_ struct srv_op *ents = malloc(max_n * sizeof(*ents));
	_cleanup_free_ char *names = malloc(budget + max_n);
	if (!ents || !names)
		return -ENOMEM;
	size_t n = 0, used = 0, name_used = 0;
	uint64_t cookie = req->rq.readdir.cookie;
	bool full = false, eof = false;

	/* The cookie is a d_off we handed out; a forged one only garbles the
	 * listing of a directory the sentry may list anyway. */
	if (lseek(dirfd, (off_t)cookie, SEEK_SET) < 0)
		return neg_errno();
	while (!full) {
		ssize_t got = syscall(SYS_getdents64, dirfd, s->dents, SRV_DENTS_BUF);
		if (got < 0)
			return neg_errno();
		if (got == 0) {
			eof = true;
			break;
		}
		for (ssize_t pos = 0; pos < got;) {
			struct dirent64 *d = (struct dirent64 *)(s->dents + pos);
			size_t nlen = strnlen(d->d_name, GOFER_NAME_MAX + 1);
			pos += d->d_reclen;
			if (!gofer_name_valid(d->d_name, nlen)) {
				cookie = (uint64_t)d->d_off; /* ".", "..": skip */
				continue;
			}
			size_t need = GOFER_DIRENT_REC_SIZE + nlen;
			if (used + need > budget || n == max_n) {
				full = true;
				break;
			}
			char *name = names + name_used;
			memcpy(name, d->d_name, nlen);
			name[nlen] = '\0';
			name_used += nlen + 1;
			used += need;
			ents[n++] = (struct srv_op){ .req = req, .kind = OP_STAT, .dirfd = dirfd, .name = name };
			cookie = (uint64_t)d->d_off;
		}
	}
	req->next_cookie = cookie;
	req->eof = eof;
	req->names = TAKE_PTR(names);
	req->ents = TAKE_PTR(ents);
	req->nents = n;
	return 0;
}

static void readdir_finish(struct srv *s, struct srv_req *req)
{
	_cleanup_free_ struct gofer_dirent_in *out = calloc(req->nents ? req->nents : 1, sizeof(*out));
	if (!out) {
		reply_status(s, &req->rq, -ENOMEM);
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < req->nents; i++) {
		struct srv_op *op = &req->ents[i];
		if (op->res < 0)
			continue; /* gone since getdents */
		out[n].name = op->name;
		out[n].name_len = strlen(op->name);
		statx_to_stat(&op->stx, &out[n].st);
		if (srv_is_file_mask(s, &out[n].st))
			continue;
		n++;
	}
	srv_send(s, gofer_reply_readdir(s->txbuf, GOFER_MAX_FRAME, req->rq.hdr.tag, req->next_cookie,
					req->eof, out, n),
		 -1);
}

static void start_readdir(struct srv *s, const struct gofer_request *rq)
{
	uint32_t slot = req_slot(s, rq->readdir.dir_id);
	struct srv_req *req = req_new(s, rq, slot);
	if (!req) {
		reply_status(s, rq, -ENOMEM);
		return;
	}
	int r = readdir_collect(s, req, s->slots[slot].fd);
	if (r < 0 || req->nents == 0) {
		if (r < 0)
			reply_status(s, rq, r);
		else
			readdir_finish(s, req);
		req_free(s, req);
		return;
	}
	for (size_t i = 0; i < req->nents; i++)
		op_queue(s, &req->ents[i]);
}

static void op_done(struct srv *s, struct srv_op *op)
{
	struct srv_req *req = op->req;
	req->pending--;
	bool finished;
	if (req->rq.hdr.op == GOFER_OP_WALK) {
		finished = walk_op_done(s, req, op);
	} else {
		finished = req->pending == 0;
		if (finished)
			readdir_finish(s, req);
	}
	if (finished)
		req_free(s, req);
}

static void handle_frame(struct srv *s, size_t len)
{
	struct gofer_request rq;
	if (len > GOFER_MAX_REQUEST || gofer_req_decode(s->rxbuf, len, &rq) < 0)
		srv_die("malformed request");
	switch (rq.hdr.op) {
	case GOFER_OP_ATTACH: do_attach(s, &rq); break;
	case GOFER_OP_WALK: start_walk(s, &rq); break;
	case GOFER_OP_READDIR: start_readdir(s, &rq); break;
	case GOFER_OP_RELEASE: do_release(s, &rq); break;
	}
}

/* ------------------------------------------------------------------------
 * Running ops: on the ring, or synchronously when there is no ring */

static void op_run_sync(struct srv_op *op)
{
	long r;
	if (op->kind == OP_OPEN_DIR)
		r = syscall(SYS_openat2, op->dirfd, op->name, &walk_how, sizeof(walk_how));
	else
		r = statx(op->dirfd, op->name, STAT_FLAGS, STATX_BASIC_STATS, &op->stx);
	op->res = r < 0 ? neg_errno() : (int32_t)r;
}

static void op_prep(struct io_uring_sqe *sqe, struct srv_op *op)
{
	if (op->kind == OP_OPEN_DIR)
		io_uring_prep_openat2(sqe, op->dirfd, op->name, (struct open_how *)&walk_how);
	else
		io_uring_prep_statx(sqe, op->dirfd, op->name, STAT_FLAGS, STATX_BASIC_STATS, &op->stx);
	io_uring_sqe_set_data(sqe, op);
}

static struct io_uring_sqe *srv_get_sqe(struct srv *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
	}
	return sqe;
}

static void pump(struct srv *s)
{
	while (s->q_head) {
		struct io_uring_sqe *sqe = NULL;
		if (s->use_ring && (s->inflight >= SRV_RING_ENTRIES || !(sqe = srv_get_sqe(s))))
			return;
		struct srv_op *op = s->q_head;
		s->q_head = op->next;
		if (!s->q_head)
			s->q_tail = &s->q_head;
		op->next = NULL;
		if (sqe) {
			op_prep(sqe, op);
			s->inflight++;
		} else {
			op_run_sync(op);
			*s->done_tail = op;
			s->done_tail = &op->next;
		}
	}
}

/* ------------------------------------------------------------------------
 * Event loops */

static void arm_recv(struct srv *s)
{
	struct io_uring_sqe *sqe = srv_get_sqe(s);
	if (!sqe)
		return;
	/* No control buffer: fds a sentry might send are dropped by the
	 * kernel, never installed here. */
	io_uring_prep_recvmsg(sqe, s->sock, &s->rxmsg, 0);
	io_uring_sqe_set_data(sqe, NULL);
	s->inflight++;
	s->recv_armed = true;
}

static void on_recv(struct srv *s, int res)
{
	if (res == -EINTR || res == -EAGAIN)
		return; /* re-armed by the loop */
	if (res <= 0)
		srv_die(NULL); /* the sentry closed its end: we are done */
	handle_frame(s, (size_t)res);
}

#define CQE_BATCH 64u

_Noreturn static void serve_ring(struct srv *s)
{
	for (;;) {
		if (!s->recv_armed && s->nreqs < SRV_MAX_REQS && s->inflight < SRV_RING_ENTRIES)
			arm_recv(s);
		pump(s);
		int r = io_uring_submit_and_wait(&s->ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			srv_die("io_uring_enter failed");
		struct io_uring_cqe *cqes[CQE_BATCH];
		struct {
			void *data;
			int res;
		} got[CQE_BATCH];
		unsigned n = io_uring_peek_batch_cqe(&s->ring, cqes, CQE_BATCH);
		for (unsigned i = 0; i < n; i++) {
			got[i].data = io_uring_cqe_get_data(cqes[i]);
			got[i].res = cqes[i]->res;
		}
		/* Consume before handling: handlers may submit more. */
		io_uring_cq_advance(&s->ring, n);
		for (unsigned i = 0; i < n; i++) {
			s->inflight--;
			if (!got[i].data) {
				s->recv_armed = false;
				on_recv(s, got[i].res);
				continue;
			}
			struct srv_op *op = got[i].data;
			op->res = got[i].res;
			op_done(s, op);
		}
	}
}

_Noreturn static void serve_sync(struct srv *s)
{
	for (;;) {
		pump(s);
		if (s->done_head) {
			struct srv_op *op = s->done_head;
			s->done_head = op->next;
			if (!s->done_head)
				s->done_tail = &s->done_head;
			op_done(s, op);
			continue;
		}
		ssize_t n = recvmsg(s->sock, &s->rxmsg, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			srv_die(NULL);
		handle_frame(s, (size_t)n);
	}
}

/* ------------------------------------------------------------------------
 * Setup (child) */

static int die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return neg_errno();
	/* The parent may have died before PDEATHSIG was armed. */
	if (getppid() != parent)
		return -ESRCH;
	return 0;
}

static void reset_signals(void)
{
	/* Handlers inherited from the sentry would run syscalls our filter
	 * kills for; default actions are what a helper process wants. */
	struct sigaction sa = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A private, detached copy of an export's mount tree, captured while the
 * host's root is still our root (host_path resolves as the host sees it). */
static int clone_export(const struct gofer_export *ex, int *ret_tree)
{
	if (!ex->host_path || ex->host_path[0] != '/')
		return -EINVAL;
	_cleanup_close_ int t =
		open_tree(AT_FDCWD, ex->host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (t < 0)
		return neg_errno();
	/* AT_RECURSIVE: submounts too, which a remount(MS_RDONLY) would miss. */
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ex->rw ? 0 : MOUNT_ATTR_RDONLY),
		.propagation = MS_PRIVATE,
	};
	if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return neg_errno();
	*ret_tree = TAKE_FD(t);
	return 0;
}

/* Make a small tmpfs our root and detach the old one. Every host path we
 * need was captured with open_tree() before this. */
static int make_root(size_t nexports)
{
	static const char *const spots[] = { "/tmp", "/mnt", "/dev" };
	char opts[64];
	snprintf(opts, sizeof(opts), "size=16k,nr_inodes=%zu,mode=0755", nexports + 8);
	const char *where = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(spots) && !where; i++)
		if (mount("moat-gofer", spots[i], "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) == 0)
			where = spots[i];
	if (!where)
		return neg_errno();
	if (chdir(where) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
	    chdir("/") < 0)
		return neg_errno();
	return 0;
}

static int mask_objects(struct srv *s)
{
	_cleanup_close_ int f = open("/.mask", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	struct stat st;
	if (f < 0 || fstat(f, &st) < 0)
		return neg_errno();
	s->maskf_dev = st.st_dev;
	s->maskf_ino = st.st_ino;
	if (mkdir("/.maskdir", 0) < 0 || stat("/.maskdir", &st) < 0)
		return neg_errno();
	s->maskd_dev = st.st_dev;
	s->maskd_ino = st.st_ino;
	return 0;
}

/* Cover one masked path of an export. Missing paths are fine (nothing to
 * hide); a path through a symlink is a configuration error (the sentry
 * matches masks against real paths, so it would never apply). */
static int apply_mask(int root, const char *mask)
{
	while (*mask == '/')
		mask++;
	if (!*mask)
		return -EINVAL;
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int t = syscall(SYS_openat2, root, mask, &how, sizeof(how));
	if (t < 0)
		return errno == ENOENT ? 0 : neg_errno();
	struct stat st;
	if (fstat(t, &st) < 0)
		return neg_errno();
	if (S_ISLNK(st.st_mode))
		return 0; /* never followed by the gofer; the sentry hides the name */
	_cleanup_close_ int src = open_tree(AT_FDCWD, S_ISDIR(st.st_mode) ? "/.maskdir" : "/.mask",
					    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (src < 0)
		return neg_errno();
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	if (mount_setattr(src, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ||
	    move_mount(src, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return neg_errno();
	return 0;
}

static int attach_exports(struct srv *s, const struct gofer_config *cfg, int *trees)
{
	for (size_t i = 0; i < cfg->nexports; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/%zu", i);
		if (mkdir(path, 0755) < 0 ||
		    move_mount(trees[i], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return neg_errno();
		trees[i] = safe_close(trees[i]);
		_cleanup_close_ int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return neg_errno();
		const struct gofer_export *ex = &cfg->exports[i];
		for (size_t m = 0; m < ex->nmasks; m++) {
			int r = apply_mask(root, ex->masks[m]);
			if (r < 0)
				return log_error_errno(r, "gofer: cannot mask %s in %s", ex->masks[m],
						       ex->host_path);
		}
	}
	/* The gofer has no business writing to its own root. */
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		return neg_errno();
	/* Served roots: fixed ids, generation 1, slot = export index. */
	for (size_t i = 0; i < cfg->nexports; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/%zu", i);
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return neg_errno();
		s->slots[i] = (struct srv_slot){ .fd = fd, .gen = 1 };
	}
	s->nslots = s->nfixed = (uint32_t)cfg->nexports;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* close_range() every fd but the socket, stderr and the export roots. */
static int close_other_fds(const struct srv *s)
{
	size_t n = 0;
	_cleanup_free_ int *keep = calloc(s->nfixed + 2, sizeof(int));
	if (!keep)
		return -ENOMEM;
	keep[n++] = STDERR_FILENO;
	keep[n++] = s->sock;
	for (uint32_t i = 0; i < s->nfixed; i++)
		keep[n++] = s->slots[i].fd;
	qsort(keep, n, sizeof(int), cmp_int);
	unsigned lo = 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo && syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0) < 0)
			return neg_errno();
		lo = (unsigned)keep[i] + 1;
	}
	return syscall(SYS_close_range, lo, ~0u, 0) < 0 ? neg_errno() : 0;
}

static int raise_nofile(void)
{
	/* Every issued id holds an fd: allow as many as the hard limit. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return neg_errno();
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? neg_errno() : 0;
}

/* Keep only what serving needs: reading files that only root may read. */
static int drop_caps(void)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return neg_errno();
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return neg_errno();
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };
	if (syscall(SYS_capget, &h, d) < 0)
		return neg_errno();
	uint32_t keep = d[0].permitted & ((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = keep;
	return syscall(SYS_capset, &h, d) < 0 ? neg_errno() : 0;
}

/* A ring that can only open, stat and receive: the kernel's io-wq workers
 * that run our ops are not under our seccomp filter, so the ring itself is
 * restricted to the opcodes we use. */
static int setup_ring(struct srv *s)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	};
	int r = io_uring_queue_init_params(SRV_RING_ENTRIES, &s->ring, &p);
	if (r == -EINVAL) {
		p = (struct io_uring_params){ .flags = IORING_SETUP_R_DISABLED };
		r = io_uring_queue_init_params(SRV_RING_ENTRIES, &s->ring, &p);
	}
	if (r < 0)
		return r;
	struct io_uring_restriction res[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_OPENAT2 },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_STATX },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_RECVMSG },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = 0 },
	};
	/* The raw syscall: some liburing builds (Debian's 2.3) declare but do
	 * not export io_uring_register_restrictions/io_uring_enable_rings. */
	if (syscall(SYS_io_uring_register, s->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res,
		    ARRAY_SIZE(res)) < 0 ||
	    syscall(SYS_io_uring_register, s->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		r = neg_errno();
	if (r < 0) {
		io_uring_queue_exit(&s->ring);
		return r;
	}
	s->use_ring = true;
	return 0;
}

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* The gofer's allowlist; anything else kills the process. */
static int install_seccomp(const struct srv *s)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	static const int plain[] = {
		/* serving */
		SCMP_SYS(openat2), SCMP_SYS(statx), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
		SCMP_SYS(getdents64), SCMP_SYS(lseek), SCMP_SYS(close),
		/* malloc */
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
		/* the rest of a process's life */
		SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(rt_sigreturn), SCMP_SYS(exit),
		SCMP_SYS(exit_group),
#if defined(__SANITIZE_ADDRESS__)
		/* AddressSanitizer's runtime reads the signal stack before every
		 * noreturn call (a --enable-asan test build only). */
		SCMP_SYS(sigaltstack),
#endif
	};
	for (size_t i = 0; i < ARRAY_SIZE(plain) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	/* Memory, never executable. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Only our socket, only stderr, only our ring. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)s->sock));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)s->sock));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
				     SCMP_A0(SCMP_CMP_EQ, STDERR_FILENO));
	if (r == 0 && s->use_ring)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(io_uring_enter), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)s->ring.ring_fd));
	if (r == 0)
		r = seccomp_load(ctx);
	return r;
}

static int child_setup(struct srv *s, const struct gofer_config *cfg)
{
	/* Keep freed memory: trimming or unmapping it costs TLB shootdowns
	 * across the io-wq worker threads on every READDIR. */
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
	s->q_tail = &s->q_head;
	s->done_tail = &s->done_head;
	s->free_head = SLOT_NONE;
	s->rxiov = (struct iovec){ .iov_base = s->rxbuf, .iov_len = sizeof(s->rxbuf) };
	s->rxmsg = (struct msghdr){ .msg_iov = &s->rxiov, .msg_iovlen = 1 };
	s->slots = calloc(SRV_MAX_IDS, sizeof(*s->slots));
	s->txbuf = malloc(GOFER_MAX_FRAME);
	s->dents = malloc(SRV_DENTS_BUF);
	_cleanup_free_ int *trees = calloc(cfg->nexports ? cfg->nexports : 1, sizeof(int));
	if (!s->slots || !s->txbuf || !s->dents || !trees)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nexports; i++)
		trees[i] = -1;

	int r = 0;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return neg_errno();
	for (size_t i = 0; i < cfg->nexports && r == 0; i++) {
		r = clone_export(&cfg->exports[i], &trees[i]);
		if (r < 0)
			log_error_errno(r, "gofer: cannot export %s", cfg->exports[i].host_path);
	}
	if (r == 0)
		r = make_root(cfg->nexports);
	if (r == 0)
		r = mask_objects(s);
	if (r == 0)
		r = attach_exports(s, cfg, trees);
	for (size_t i = 0; i < cfg->nexports; i++)
		safe_close(trees[i]);
	if (r == 0)
		r = close_other_fds(s);
	if (r == 0)
		r = raise_nofile();
	if (r == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		r = neg_errno();
	if (r == 0)
		r = drop_caps();
	if (r < 0)
		return r;
	r = setup_ring(s);
	if (r < 0)
		log_debug("gofer: no io_uring (%s), serving synchronously", strerror(-r));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return neg_errno();
	return install_seccomp(s);
}

static void send_ready(int sock, int status)
{
	uint8_t buf[GOFER_HDR_SIZE];
	ssize_t n = gofer_reply_status(buf, sizeof(buf), GOFER_OP_READY, 0, status);
	struct iovec iov = { .iov_base = buf, .iov_len = n > 0 ? (size_t)n : 0 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	/* sendmsg, not send: send() is sendto(), which the filter kills for. */
	if (n > 0)
		(void)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

_Noreturn static void gofer_child(const struct gofer_config *cfg, int sock, pid_t parent)
{
	int r = die_with_parent(parent);
	if (r < 0)
		_exit(1);
	reset_signals();
	/* If the sentry runs with 0-2 closed, the socket may be fd 2, where
	 * the log writes: move it out of the way. */
	if (sock <= STDERR_FILENO) {
		int nfd = fcntl(sock, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		if (nfd < 0)
			_exit(1);
		safe_close(sock);
		sock = nfd;
	}
	(void)prctl(PR_SET_NAME, "moat-gofer", 0, 0, 0);
	log_init("moat-gofer", cfg->debug ? 2 : log_verbose);
	struct srv *s = calloc(1, sizeof(*s));
	if (!s) {
		send_ready(sock, -ENOMEM);
		_exit(1);
	}
	s->sock = sock;
	r = child_setup(s, cfg);
	send_ready(sock, r);
	if (r < 0)
		_exit(1);
	if (s->use_ring)
		serve_ring(s);
	serve_sync(s);
}

/* ------------------------------------------------------------------------
 * Parent */

static void sock_bufsize(int fd)
{
	/* Unix datagrams must fit the sender's buffer whole. */
	int sz = SRV_SOCKBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int wait_ready(int sock)
{
	uint8_t buf[GOFER_HDR_SIZE + 1];
	ssize_t n;
	do
		n = recv(sock, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return neg_errno();
	struct gofer_hdr h;
	if (n == 0 || gofer_hdr_decode(buf, (size_t)n, &h) < 0 || h.op != GOFER_OP_READY ||
	    h.len != GOFER_HDR_SIZE || h.flags != 0 || h.status > 0)
		return -EIO;
	return h.status;
}

int gofer_spawn(const struct gofer_config *cfg, pid_t *ret_pid, int *ret_pidfd, int *ret_sock)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return neg_errno();
	_cleanup_close_ int mine = sv[0];
	_cleanup_close_ int theirs = sv[1];
	sock_bufsize(mine);
	sock_bufsize(theirs);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return neg_errno();
	if (pid == 0) {
		mine = safe_close(mine);
		gofer_child(cfg, theirs, parent);
	}
	theirs = safe_close(theirs);
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int r = pidfd < 0 ? neg_errno() : wait_ready(mine);
	if (r < 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return r;
	}
	*ret_pid = pid;
	*ret_pidfd = TAKE_FD(pidfd);
	*ret_sock = TAKE_FD(mine);
	return 0;
}
