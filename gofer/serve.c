/* SPDX-License-Identifier: MIT */
/* The gofer's event loop: requests decoded as they arrive, host work on
 * io_uring (or synchronously), replies in completion order (see server.h). */
#include "gofer/server.h"
#include "common/util.h"

static const struct open_how walk_how = {
	.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
	.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
};
/* ------------------------------------------------------------------------
 * Small helpers */

/* why == NULL: the sentry went away (exit 0). Otherwise it broke the
 * protocol (exit 2). Either way the connection ends, and with it the gofer:
 * there is nothing else for it to do. */
_Noreturn void srv_die(const char *why)
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
int srv_map_err(int err)
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

static int slot_alloc(struct srv *s, int fd, uint32_t export, uint64_t *ret_id)
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
	sl->export = export;
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

/* Tests only (tests/integration/failclosed.sh), like MOAT_TEST_GOFERFILTER:
 * with MOAT_TEST_GOFERREPLY=tag or =garbage, the reply to a walk of the
 * name "moat-test-spoil" is spoiled, as a compromised gofer could: sent
 * under a tag nobody asked for (out of order), or with a header that does
 * not parse. The sentry must end the sandbox. */
static enum { SPOIL_OFF, SPOIL_TAG, SPOIL_GARBAGE } test_spoil_mode;
static bool test_spoil_next;

void srv_test_init(void)
{
	const char *t = getenv("MOAT_TEST_GOFERREPLY");
	if (t && !strcmp(t, "tag"))
		test_spoil_mode = SPOIL_TAG;
	else if (t && !strcmp(t, "garbage"))
		test_spoil_mode = SPOIL_GARBAGE;
}

static void test_spoil_mark(const struct gofer_request *rq)
{
	test_spoil_next = test_spoil_mode != SPOIL_OFF && rq->hdr.op == GOFER_OP_WALK &&
			  !strcmp(rq->walk.name, "moat-test-spoil");
}

static void test_spoil(struct srv *s, size_t len)
{
	if (!test_spoil_next)
		return;
	test_spoil_next = false;
	struct gofer_hdr h;
	if (test_spoil_mode == SPOIL_TAG && gofer_hdr_decode(s->txbuf, len, &h) == 0) {
		h.tag ^= 0x40000000u;
		gofer_hdr_encode(s->txbuf, &h);
	} else {
		memset(s->txbuf, 0xa5, len < GOFER_HDR_SIZE ? len : GOFER_HDR_SIZE);
	}
}

void srv_send(struct srv *s, ssize_t len, int fd)
{
	if (len < 0)
		srv_die("cannot encode a reply");
	test_spoil(s, (size_t)len);
	for (;;) {
		ssize_t n = send_fds(s->sock, s->txbuf, (size_t)len, &fd, fd >= 0, 0, NULL, 0);
		if (n == len)
			return;
		if (n != -EINTR)
			srv_die(NULL); /* the sentry is gone */
	}
}

static void reply_status(struct srv *s, const struct gofer_request *rq, int status)
{
	test_spoil_mark(rq);
	srv_send(s, gofer_reply_status(s->txbuf, sizeof(s->txbuf), rq->hdr.op, rq->hdr.tag, status), -1);
}

static void reply_node(struct srv *s, const struct gofer_request *rq, uint64_t id, const struct stat *st,
		       int fd)
{
	test_spoil_mark(rq);
	srv_send(s, gofer_reply_node(s->txbuf, sizeof(s->txbuf), rq->hdr.op, rq->hdr.tag, id, st, fd >= 0),
		 fd);
}

/* ------------------------------------------------------------------------
 * Requests and their ops */

static void op_queue(struct srv *s, struct srv_op *op)
{
	op->next = NULL;
	*s->q_tail = op;
	s->q_tail = &op->next;
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
	free(req);
}

/* The slot a request names; an id we never issued is a protocol violation. */
uint32_t srv_req_slot(const struct srv *s, uint64_t id)
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
	uint32_t i = srv_req_slot(s, rq->release.id);
	if (i < s->nfixed)
		return; /* export roots stay; attach hands them out again */
	s->slots[i].released = true;
	slot_put(s, i);
}

static void start_walk(struct srv *s, const struct gofer_request *rq)
{
	uint32_t slot = srv_req_slot(s, rq->walk.dir_id);
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
		r = slot_alloc(s, fd, s->slots[req->slot].export, &id);
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

static void op_done(struct srv *s, struct srv_op *op)
{
	struct srv_req *req = op->req;
	if (walk_op_done(s, req, op))
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
	case GOFER_OP_RELEASE: do_release(s, &rq); break;
	default: srv_mutate(s, &rq); break; /* the decoder let only mutations through */
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

_Noreturn void srv_serve_ring(struct srv *s)
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

_Noreturn void srv_serve_sync(struct srv *s)
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

