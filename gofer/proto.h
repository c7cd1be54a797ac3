/* SPDX-License-Identifier: MIT */
/* The sentry <-> gofer wire format (docs/gofer-protocol.md).
 *
 * Every frame is one SOCK_SEQPACKET message (so frames are atomic) and starts
 * with a fixed little-endian header of fixed-width integers:
 *
 *   u32 len     whole frame, header included
 *   u16 op      GOFER_OP_*; a reply carries its request's op
 *   u16 flags   GOFER_F_*
 *   u32 tag     chosen by the sentry, echoed in the reply
 *   i32 status  0, or -errno in a reply (an error reply has no body)
 *
 * then an op-specific fixed body, then variable data (names) addressed by
 * offset/length pairs inside the frame. Everything here is pure: no I/O, no
 * global state, so every check is unit-testable. Decoders trust nothing:
 * lengths, offsets, reserved fields and names are all checked, and a frame
 * that fails any check is rejected as a whole with -EBADMSG. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/types.h>

#define GOFER_HDR_SIZE 16u
#define GOFER_STAT_SIZE 112u
#define GOFER_NAME_MAX 255u
/* Longest symlink target (PATH_MAX less its NUL) and xattr value. */
#define GOFER_TARGET_MAX 4095u
#define GOFER_XATTR_NAME_MAX 255u
#define GOFER_XATTR_SIZE_MAX 65536u
/* Largest request (a SETXATTR with the longest name and value); the gofer's
 * receive buffer. */
#define GOFER_MAX_REQUEST (GOFER_MUT_REQ_FIXED + GOFER_NAME_MAX + GOFER_XATTR_NAME_MAX + \
			   GOFER_XATTR_SIZE_MAX)
/* Largest reply (a node: id and stat); the sentry's receive buffer. */
#define GOFER_MAX_REPLY GOFER_NODE_REPLY_SIZE
/* Largest frame either side accepts. */
#define GOFER_MAX_FRAME GOFER_MAX_REQUEST

enum gofer_op {
	GOFER_OP_READY = 1,   /* gofer -> sentry, once, after setup: status only */
	GOFER_OP_ATTACH = 2,  /* export idx -> root {id, stat} + fd */
	GOFER_OP_WALK = 3,    /* (dir id, name) -> {id, stat} [+ fd if a directory] */
	/* 4 was READDIR: listings are read by the sentry itself, with
	 * getdents64 on the fds the gofer donated. Never reused; a frame with
	 * op 4 is malformed. */
	GOFER_OP_RESERVED_4 = 4,
	GOFER_OP_RELEASE = 5, /* id -> nothing: one-way, the gofer never replies */
	/* Mutations of rw exports: one request layout (struct gofer_mut). */
	GOFER_OP_OPEN = 6,        /* (dir, name, flags, mode) -> stat + fd of a regular file */
	GOFER_OP_MKDIR = 7,       /* (dir, name, mode) -> stat */
	GOFER_OP_MKNOD = 8,       /* (dir, name, mode: FIFO, socket, whiteout) -> stat */
	GOFER_OP_SYMLINK = 9,     /* (dir, name, target) -> stat */
	GOFER_OP_LINK = 10,       /* (dir, name, ino) -> (dir2, name2) -> stat */
	GOFER_OP_UNLINK = 11,     /* (dir, name, flags: AT_REMOVEDIR) -> status */
	GOFER_OP_RENAME = 12,     /* (dir, name) -> (dir2, name2), RENAME_* -> status */
	GOFER_OP_SETATTR = 13,    /* (dir, name or "" for dir, ino, valid, ...) -> stat */
	GOFER_OP_SETXATTR = 14,   /* (dir, name or "", ino, attr name, value, flags) -> status */
	GOFER_OP_REMOVEXATTR = 15,/* (dir, name or "", ino, attr name) -> status */
	GOFER_OP_MAX_ = GOFER_OP_REMOVEXATTR,
};

/* Header flags */
#define GOFER_F_FD 0x0001u /* exactly one fd rides with this frame (SCM_RIGHTS) */
#define GOFER_F_ALL GOFER_F_FD

/* Frame sizes (header included) */
#define GOFER_ATTACH_REQ_SIZE (GOFER_HDR_SIZE + 8)      /* u32 idx, u32 reserved */
#define GOFER_WALK_REQ_FIXED (GOFER_HDR_SIZE + 16)      /* u64 dir_id, u32 name_off, u32 name_len */
#define GOFER_RELEASE_REQ_SIZE (GOFER_HDR_SIZE + 8)     /* u64 id */
#define GOFER_NODE_REPLY_SIZE (GOFER_HDR_SIZE + 8 + GOFER_STAT_SIZE) /* u64 id, stat */
/* Mutation requests: u64 dir_id, u64 dir2_id, u64 ino, u32 flags, u32 mode,
 * u32 uid, u32 gid, i64 size, atime, mtime (16 each, as in stat), then
 * (u32 off, u32 len) of name, name2 and data, which follow packed in that
 * order to the end of the frame. */
#define GOFER_MUT_REQ_FIXED (GOFER_HDR_SIZE + 104)

/* OPEN: the open flags the gofer accepts (it adds O_NOFOLLOW, O_CLOEXEC,
 * O_NOCTTY and O_NONBLOCK itself; O_CREAT needs O_EXCL). */
#define GOFER_OPEN_FLAGS                                                                   \
	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | \
	 O_DIRECT | O_LARGEFILE)
/* SETATTR: which fields apply (the sentry's SA_* values). */
#define GOFER_SA_MODE 0x1u
#define GOFER_SA_UID 0x2u
#define GOFER_SA_GID 0x4u
#define GOFER_SA_SIZE 0x8u
#define GOFER_SA_ATIME 0x10u
#define GOFER_SA_MTIME 0x20u
#define GOFER_SA_ALL 0x3fu

/* Ids: 0 is never issued. A WALK reply for a non-directory carries id 0. */
#define GOFER_ID_NONE 0

struct gofer_hdr {
	uint32_t len;
	uint16_t op;
	uint16_t flags;
	uint32_t tag;
	int32_t status;
};

/* A decoded mutation request: a view into the frame, which must stay alive.
 * Strings are not NUL-terminated; which fields an op uses is in proto.c
 * (mut_rules), and every field an op does not use is 0. */
struct gofer_mut {
	uint64_t dir_id, dir2_id, ino;
	uint32_t flags, mode, uid, gid;
	int64_t size;
	struct timespec atime, mtime;
	const char *name, *name2;
	const uint8_t *data;
	uint32_t name_len, name2_len, data_len;
};

/* A decoded request. */
struct gofer_request {
	struct gofer_hdr hdr;
	union {
		struct {
			uint32_t idx;
		} attach;
		struct {
			uint64_t dir_id;
			char name[GOFER_NAME_MAX + 1]; /* NUL-terminated copy */
		} walk;
		struct {
			uint64_t id;
		} release;
		struct gofer_mut mut;
	};
};

/* One path component as the gofer accepts it: 1..GOFER_NAME_MAX bytes, no
 * '/' and no NUL, not "." or "..". */
bool gofer_name_valid(const char *name, size_t len);

/* Header: checks len against the received size and the limits, the op (a
 * reserved one is refused) and the flags; nothing op-specific. 0 or
 * -EBADMSG. */
int gofer_hdr_decode(const void *buf, size_t len, struct gofer_hdr *ret);
void gofer_hdr_encode(void *buf, const struct gofer_hdr *h);

/* Requests (sentry side). Each returns the frame length or -errno
 * (-ENOBUFS: cap too small; -EINVAL: a name gofer_name_valid refuses). */
ssize_t gofer_req_attach(void *buf, size_t cap, uint32_t tag, uint32_t idx);
ssize_t gofer_req_walk(void *buf, size_t cap, uint32_t tag, uint64_t dir_id, const char *name);
ssize_t gofer_req_release(void *buf, size_t cap, uint64_t id);
/* A mutation request of op (GOFER_OP_OPEN..REMOVEXATTR) from m; the
 * strings are taken with their lengths. -EINVAL for a frame the gofer
 * would refuse (bad name, flags, field not used by op). */
ssize_t gofer_req_mut(void *buf, size_t cap, uint16_t op, uint32_t tag, const struct gofer_mut *m);
bool gofer_op_is_mut(uint16_t op);
/* Gofer side: the whole request, or -EBADMSG. A request never carries an fd
 * flag or a status; RELEASE carries no tag. */
int gofer_req_decode(const void *buf, size_t len, struct gofer_request *ret);

/* Replies (gofer side); frame length or -errno. */
ssize_t gofer_reply_status(void *buf, size_t cap, uint16_t op, uint32_t tag, int status);
ssize_t gofer_reply_node(void *buf, size_t cap, uint16_t op, uint32_t tag, uint64_t id,
			 const struct stat *st, bool with_fd);

/* Reply checks (sentry side). gofer_reply_check: the frame answers `op` and
 * is well formed as a reply: status <= 0, an error reply is a bare header
 * with no fd. Returns the status (0 or the -errno received) or -EBADMSG. */
int gofer_reply_check(const struct gofer_hdr *h, uint16_t op);
/* Bodies of successful replies; 0 or -EBADMSG. */
int gofer_reply_node_decode(const void *buf, size_t len, uint64_t *ret_id, struct stat *ret_st);

/* Stat on the wire (exposed for tests). */
void gofer_stat_encode(void *p, const struct stat *st);
int gofer_stat_decode(const void *p, struct stat *ret);
