/* SPDX-License-Identifier: MIT */
/* Encoding and checking of gofer frames (see proto.h for the layout).
 * Pure functions: the server and the client do the I/O. Little-endian on
 * the wire whatever the host, through the put/get helpers below, so no
 * struct is ever sent as it lies in memory (no padding, no host layout). */
#include "proto.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

static inline void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static inline uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

bool gofer_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > GOFER_NAME_MAX)
		return false;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return false;
	return true;
}

/* --- stat ------------------------------------------------------------------
 * off size field            off size field
 *   0  8   ino               56  4   blksize
 *   8  8   dev               60  4   reserved (0)
 *  16  8   rdev              64 16   atime {i64 sec, u32 nsec, u32 0}
 *  24  8   size (i64)        80 16   mtime
 *  32  8   blocks (i64)      96 16   ctime
 *  40  4   mode             112      end
 *  44  4   nlink
 *  48  4   uid
 *  52  4   gid */

static void put_time(uint8_t *p, const struct timespec *ts)
{
	put64(p, (uint64_t)ts->tv_sec);
	put32(p + 8, (uint32_t)ts->tv_nsec);
	put32(p + 12, 0);
}

static int get_time(const uint8_t *p, struct timespec *ts)
{
	uint32_t nsec = get32(p + 8);
	if (nsec >= 1000000000u || get32(p + 12) != 0)
		return -EBADMSG;
	ts->tv_sec = (time_t)get64(p);
	ts->tv_nsec = nsec;
	return 0;
}

void gofer_stat_encode(void *buf, const struct stat *st)
{
	uint8_t *p = buf;
	put64(p + 0, st->st_ino);
	put64(p + 8, st->st_dev);
	put64(p + 16, st->st_rdev);
	put64(p + 24, (uint64_t)st->st_size);
	put64(p + 32, (uint64_t)st->st_blocks);
	put32(p + 40, st->st_mode);
	put32(p + 44, (uint32_t)st->st_nlink);
	put32(p + 48, st->st_uid);
	put32(p + 52, st->st_gid);
	put32(p + 56, (uint32_t)st->st_blksize);
	put32(p + 60, 0);
	put_time(p + 64, &st->st_atim);
	put_time(p + 80, &st->st_mtim);
	put_time(p + 96, &st->st_ctim);
}

int gofer_stat_decode(const void *buf, struct stat *ret)
{
	const uint8_t *p = buf;
	struct stat st = { 0 };
	if (get32(p + 60) != 0)
		return -EBADMSG;
	st.st_ino = get64(p + 0);
	st.st_dev = get64(p + 8);
	st.st_rdev = get64(p + 16);
	st.st_size = (off_t)get64(p + 24);
	st.st_blocks = (blkcnt_t)get64(p + 32);
	st.st_mode = get32(p + 40);
	st.st_nlink = get32(p + 44);
	st.st_uid = get32(p + 48);
	st.st_gid = get32(p + 52);
	st.st_blksize = (blksize_t)get32(p + 56);
	if (st.st_size < 0 || st.st_blocks < 0)
		return -EBADMSG;
	if (get_time(p + 64, &st.st_atim) < 0 || get_time(p + 80, &st.st_mtim) < 0 ||
	    get_time(p + 96, &st.st_ctim) < 0)
		return -EBADMSG;
	*ret = st;
	return 0;
}

/* --- header --------------------------------------------------------------- */

void gofer_hdr_encode(void *buf, const struct gofer_hdr *h)
{
	uint8_t *p = buf;
	put32(p + 0, h->len);
	put16(p + 4, h->op);
	put16(p + 6, h->flags);
	put32(p + 8, h->tag);
	put32(p + 12, (uint32_t)h->status);
}

int gofer_hdr_decode(const void *buf, size_t len, struct gofer_hdr *ret)
{
	const uint8_t *p = buf;
	if (len < GOFER_HDR_SIZE || len > GOFER_MAX_FRAME)
		return -EBADMSG;
	struct gofer_hdr h = {
		.len = get32(p + 0),
		.op = get16(p + 4),
		.flags = get16(p + 6),
		.tag = get32(p + 8),
		.status = (int32_t)get32(p + 12),
	};
	/* The length field must describe exactly what arrived: a frame is one
	 * datagram, so any difference is a lie or a truncation. */
	if (h.len != len)
		return -EBADMSG;
	if (h.op == 0 || h.op > GOFER_OP_MAX_ || h.op == GOFER_OP_RESERVED_4 ||
	    (h.flags & ~GOFER_F_ALL))
		return -EBADMSG;
	*ret = h;
	return 0;
}

static ssize_t put_hdr(void *buf, size_t cap, size_t len, uint16_t op, uint16_t flags, uint32_t tag,
		       int status)
{
	if (len > cap || len > GOFER_MAX_FRAME)
		return -ENOBUFS;
	struct gofer_hdr h = { .len = (uint32_t)len, .op = op, .flags = flags, .tag = tag, .status = status };
	gofer_hdr_encode(buf, &h);
	return (ssize_t)len;
}

/* --- requests ------------------------------------------------------------- */

ssize_t gofer_req_attach(void *buf, size_t cap, uint32_t tag, uint32_t idx)
{
	ssize_t n = put_hdr(buf, cap, GOFER_ATTACH_REQ_SIZE, GOFER_OP_ATTACH, 0, tag, 0);
	if (n < 0)
		return n;
	uint8_t *b = (uint8_t *)buf + GOFER_HDR_SIZE;
	put32(b, idx);
	put32(b + 4, 0);
	return n;
}

ssize_t gofer_req_walk(void *buf, size_t cap, uint32_t tag, uint64_t dir_id, const char *name)
{
	size_t nlen = strnlen(name, GOFER_NAME_MAX + 1);
	if (!gofer_name_valid(name, nlen))
		return -EINVAL;
	ssize_t n = put_hdr(buf, cap, GOFER_WALK_REQ_FIXED + nlen, GOFER_OP_WALK, 0, tag, 0);
	if (n < 0)
		return n;
	uint8_t *b = (uint8_t *)buf + GOFER_HDR_SIZE;
	put64(b, dir_id);
	put32(b + 8, GOFER_WALK_REQ_FIXED);
	put32(b + 12, (uint32_t)nlen);
	memcpy((uint8_t *)buf + GOFER_WALK_REQ_FIXED, name, nlen);
	return n;
}

ssize_t gofer_req_release(void *buf, size_t cap, uint64_t id)
{
	ssize_t n = put_hdr(buf, cap, GOFER_RELEASE_REQ_SIZE, GOFER_OP_RELEASE, 0, 0, 0);
	if (n < 0)
		return n;
	put64((uint8_t *)buf + GOFER_HDR_SIZE, id);
	return n;
}

/* --- mutation requests ----------------------------------------------------
 * One layout for every mutation (proto.h); which fields an op uses: */
enum {
	M_DIR2 = 1 << 0,     /* dir2_id */
	M_INO = 1 << 1,      /* ino (0: any) */
	M_FLAGS = 1 << 2,
	M_MODE = 1 << 3,
	M_IDS = 1 << 4,      /* uid, gid */
	M_SIZE = 1 << 5,
	M_TIMES = 1 << 6,
	M_NAME_OPT = 1 << 7, /* name may be "": the directory itself */
	M_N2_NAME = 1 << 8,  /* name2 is a component */
	M_N2_TARGET = 1 << 9,/* name2 is a symlink target */
	M_N2_XATTR = 1 << 10,/* name2 is a user.* attribute name */
	M_DATA = 1 << 11,
};

static unsigned mut_rules(uint16_t op)
{
	switch (op) {
	case GOFER_OP_OPEN: return M_FLAGS | M_MODE;
	case GOFER_OP_MKDIR: return M_MODE;
	case GOFER_OP_MKNOD: return M_MODE;
	case GOFER_OP_SYMLINK: return M_N2_TARGET;
	case GOFER_OP_LINK: return M_INO | M_DIR2 | M_N2_NAME;
	case GOFER_OP_UNLINK: return M_FLAGS;
	case GOFER_OP_RENAME: return M_FLAGS | M_DIR2 | M_N2_NAME;
	case GOFER_OP_SETATTR:
		return M_NAME_OPT | M_INO | M_FLAGS | M_MODE | M_IDS | M_SIZE | M_TIMES;
	case GOFER_OP_SETXATTR: return M_NAME_OPT | M_INO | M_FLAGS | M_N2_XATTR | M_DATA;
	case GOFER_OP_REMOVEXATTR: return M_NAME_OPT | M_INO | M_N2_XATTR;
	}
	return 0;
}

bool gofer_op_is_mut(uint16_t op)
{
	return op >= GOFER_OP_OPEN && op <= GOFER_OP_REMOVEXATTR;
}

static bool xattr_name_ok(const char *n, size_t len)
{
	return len > 5 && len <= GOFER_XATTR_NAME_MAX && !memchr(n, '\0', len) &&
	       !memcmp(n, "user.", 5);
}

static bool target_ok(const char *t, size_t len)
{
	return len >= 1 && len <= GOFER_TARGET_MAX && !memchr(t, '\0', len);
}

/* The op-specific values: flags and modes an op takes, and that every field
 * the op does not use is zero. */
static bool mut_values_ok(uint16_t op, const struct gofer_mut *m)
{
	unsigned u = mut_rules(op);
	if (!u)
		return false;
	if ((!(u & M_DIR2) && m->dir2_id) || ((u & M_DIR2) && !m->dir2_id) || !m->dir_id ||
	    (!(u & M_INO) && m->ino) || (!(u & M_FLAGS) && m->flags) || (!(u & M_MODE) && m->mode) ||
	    (!(u & M_IDS) && (m->uid || m->gid)) || (!(u & M_SIZE) && m->size) ||
	    (!(u & M_TIMES) && (m->atime.tv_sec || m->atime.tv_nsec || m->mtime.tv_sec ||
				m->mtime.tv_nsec)) ||
	    (!(u & M_DATA) && m->data_len))
		return false;
	if (m->name_len == 0 ? !(u & M_NAME_OPT) : !gofer_name_valid(m->name, m->name_len))
		return false;
	if ((u & M_N2_NAME) && !gofer_name_valid(m->name2, m->name2_len))
		return false;
	if ((u & M_N2_TARGET) && !target_ok(m->name2, m->name2_len))
		return false;
	if ((u & M_N2_XATTR) && !xattr_name_ok(m->name2, m->name2_len))
		return false;
	if (!(u & (M_N2_NAME | M_N2_TARGET | M_N2_XATTR)) && m->name2_len)
		return false;
	if (m->data_len > GOFER_XATTR_SIZE_MAX)
		return false;
	switch (op) {
	case GOFER_OP_OPEN:
		/* A create is always exclusive: the gofer creates only what the
		 * sentry decided to create. */
		if ((m->flags & ~(uint32_t)GOFER_OPEN_FLAGS) || (m->flags & O_ACCMODE) == O_ACCMODE ||
		    !!(m->flags & O_CREAT) != !!(m->flags & O_EXCL) || m->mode > 07777 ||
		    (!(m->flags & O_CREAT) && m->mode))
			return false;
		break;
	case GOFER_OP_MKDIR:
		if (m->mode > 07777)
			return false;
		break;
	case GOFER_OP_MKNOD:
		/* FIFOs and sockets; the one character device is an overlay
		 * whiteout (0/0, no permission bits), which opens nothing. */
		if ((m->mode & ~(uint32_t)(S_IFMT | 07777)) ||
		    ((m->mode & S_IFMT) != S_IFIFO && (m->mode & S_IFMT) != S_IFSOCK &&
		     m->mode != S_IFCHR))
			return false;
		break;
	case GOFER_OP_UNLINK:
		if (m->flags & ~(uint32_t)AT_REMOVEDIR)
			return false;
		break;
	case GOFER_OP_RENAME:
		if (m->flags > 2) /* 0, RENAME_NOREPLACE (1), RENAME_EXCHANGE (2) */
			return false;
		break;
	case GOFER_OP_SETATTR:
		if (!m->flags || (m->flags & ~GOFER_SA_ALL) || m->mode > 07777 || m->size < 0 ||
		    (!(m->flags & GOFER_SA_MODE) && m->mode) ||
		    (!(m->flags & GOFER_SA_UID) && m->uid) || (!(m->flags & GOFER_SA_GID) && m->gid) ||
		    (!(m->flags & GOFER_SA_SIZE) && m->size))
			return false;
		break;
	case GOFER_OP_SETXATTR:
		if (m->flags & ~3u) /* XATTR_CREATE, XATTR_REPLACE */
			return false;
		break;
	}
	return true;
}

ssize_t gofer_req_mut(void *buf, size_t cap, uint16_t op, uint32_t tag, const struct gofer_mut *m)
{
	if (!gofer_op_is_mut(op) || !mut_values_ok(op, m))
		return -EINVAL;
	size_t len = (size_t)GOFER_MUT_REQ_FIXED + m->name_len + m->name2_len + m->data_len;
	ssize_t n = put_hdr(buf, cap, len, op, 0, tag, 0);
	if (n < 0)
		return n;
	uint8_t *p = buf;
	uint8_t *b = p + GOFER_HDR_SIZE;
	put64(b, m->dir_id);
	put64(b + 8, m->dir2_id);
	put64(b + 16, m->ino);
	put32(b + 24, m->flags);
	put32(b + 28, m->mode);
	put32(b + 32, m->uid);
	put32(b + 36, m->gid);
	put64(b + 40, (uint64_t)m->size);
	put_time(b + 48, &m->atime);
	put_time(b + 64, &m->mtime);
	uint32_t off = GOFER_MUT_REQ_FIXED;
	put32(b + 80, off);
	put32(b + 84, m->name_len);
	if (m->name_len) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(p + off, m->name, m->name_len);
	off += m->name_len;
	put32(b + 88, off);
	put32(b + 92, m->name2_len);
	if (m->name2_len)
		memcpy(p + off, m->name2, m->name2_len);
	off += m->name2_len;
	put32(b + 96, off);
	put32(b + 100, m->data_len);
	if (m->data_len)
		memcpy(p + off, m->data, m->data_len);
	return n;
}

static int decode_mut(const uint8_t *p, size_t len, uint16_t op, struct gofer_mut *m)
{
	if (len < GOFER_MUT_REQ_FIXED)
		return -EBADMSG;
	const uint8_t *b = p + GOFER_HDR_SIZE;
	*m = (struct gofer_mut){
		.dir_id = get64(b),
		.dir2_id = get64(b + 8),
		.ino = get64(b + 16),
		.flags = get32(b + 24),
		.mode = get32(b + 28),
		.uid = get32(b + 32),
		.gid = get32(b + 36),
		.size = (int64_t)get64(b + 40),
	};
	if (get_time(b + 48, &m->atime) < 0 || get_time(b + 64, &m->mtime) < 0)
		return -EBADMSG;
	/* name, name2, data: packed in order right after the fixed part, up
	 * to the end of the frame (no slack, no overlap). */
	size_t off = GOFER_MUT_REQ_FIXED;
	uint32_t lens[3];
	for (int i = 0; i < 3; i++) {
		if (get32(b + 80 + 8 * i) != off)
			return -EBADMSG;
		lens[i] = get32(b + 84 + 8 * i);
		if (lens[i] > len - off)
			return -EBADMSG;
		off += lens[i];
	}
	if (off != len)
		return -EBADMSG;
	m->name = (const char *)p + GOFER_MUT_REQ_FIXED;
	m->name_len = lens[0];
	m->name2 = m->name + lens[0];
	m->name2_len = lens[1];
	m->data = (const uint8_t *)m->name2 + lens[1];
	m->data_len = lens[2];
	return mut_values_ok(op, m) ? 0 : -EBADMSG;
}

/* Is [off, off+len) inside a frame of frame_len bytes and after its fixed
 * part? Written so that no addition can overflow. */
static bool range_ok(uint32_t off, uint32_t len, size_t fixed_end, size_t frame_len)
{
	return off >= fixed_end && off <= frame_len && len <= frame_len - off;
}

static int decode_walk(const uint8_t *p, size_t len, struct gofer_request *r)
{
	if (len < GOFER_WALK_REQ_FIXED)
		return -EBADMSG;
	const uint8_t *b = p + GOFER_HDR_SIZE;
	uint32_t off = get32(b + 8), nlen = get32(b + 12);
	if (!range_ok(off, nlen, GOFER_WALK_REQ_FIXED, len))
		return -EBADMSG;
	/* No slack: every byte of a request is accounted for, the name
	 * right after the fixed part (a gap before it was accepted, and
	 * the fuzzer's round trip through the encoder caught it). */
	if (off != GOFER_WALK_REQ_FIXED || (size_t)off + nlen != len)
		return -EBADMSG;
	const char *name = (const char *)p + off;
	if (!gofer_name_valid(name, nlen))
		return -EBADMSG;
	r->walk.dir_id = get64(b);
	memcpy(r->walk.name, name, nlen);
	r->walk.name[nlen] = '\0';
	return 0;
}

int gofer_req_decode(const void *buf, size_t len, struct gofer_request *ret)
{
	const uint8_t *p = buf;
	struct gofer_request r;
	if (len > GOFER_MAX_REQUEST || gofer_hdr_decode(buf, len, &r.hdr) < 0)
		return -EBADMSG;
	/* The sentry never donates fds and never sends a status. */
	if (r.hdr.flags != 0 || r.hdr.status != 0)
		return -EBADMSG;
	const uint8_t *b = p + GOFER_HDR_SIZE;
	switch (r.hdr.op) {
	case GOFER_OP_ATTACH:
		if (len != GOFER_ATTACH_REQ_SIZE || get32(b + 4) != 0)
			return -EBADMSG;
		r.attach.idx = get32(b);
		break;
	case GOFER_OP_WALK:
		if (decode_walk(p, len, &r) < 0)
			return -EBADMSG;
		break;
	case GOFER_OP_RELEASE:
		if (len != GOFER_RELEASE_REQ_SIZE || r.hdr.tag != 0)
			return -EBADMSG;
		r.release.id = get64(b);
		break;
	default: /* READY is gofer -> sentry only */
		if (!gofer_op_is_mut(r.hdr.op) || decode_mut(p, len, r.hdr.op, &r.mut) < 0)
			return -EBADMSG;
		break;
	}
	*ret = r;
	return 0;
}

/* --- replies -------------------------------------------------------------- */

ssize_t gofer_reply_status(void *buf, size_t cap, uint16_t op, uint32_t tag, int status)
{
	if (status > 0)
		return -EINVAL;
	return put_hdr(buf, cap, GOFER_HDR_SIZE, op, 0, tag, status);
}

ssize_t gofer_reply_node(void *buf, size_t cap, uint16_t op, uint32_t tag, uint64_t id,
			 const struct stat *st, bool with_fd)
{
	ssize_t n = put_hdr(buf, cap, GOFER_NODE_REPLY_SIZE, op, with_fd ? GOFER_F_FD : 0, tag, 0);
	if (n < 0)
		return n;
	uint8_t *b = (uint8_t *)buf + GOFER_HDR_SIZE;
	put64(b, id);
	gofer_stat_encode(b + 8, st);
	return n;
}

int gofer_reply_check(const struct gofer_hdr *h, uint16_t op)
{
	if (h->op != op || h->op == GOFER_OP_RELEASE)
		return -EBADMSG;
	if (h->status > 0)
		return -EBADMSG;
	if (h->status < 0 && (h->len != GOFER_HDR_SIZE || h->flags != 0))
		return -EBADMSG;
	return h->status;
}

int gofer_reply_node_decode(const void *buf, size_t len, uint64_t *ret_id, struct stat *ret_st)
{
	struct gofer_hdr h;
	if (gofer_hdr_decode(buf, len, &h) < 0 || len != GOFER_NODE_REPLY_SIZE || h.status != 0)
		return -EBADMSG;
	const uint8_t *b = (const uint8_t *)buf + GOFER_HDR_SIZE;
	struct stat st;
	if (gofer_stat_decode(b + 8, &st) < 0)
		return -EBADMSG;
	*ret_id = get64(b);
	*ret_st = st;
	return 0;
}

