/* SPDX-License-Identifier: MIT */
/* The gofer: wire format (pure encode/decode), then the gofer process and its
 * client end to end on a temporary tree. The end-to-end tests need root (a
 * mount namespace); without it they skip. */
#include "tests/tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <seccomp.h>

#include "gofer/gofer.h"
#include "gofer/proto.h"
#include "common/util.h"

/* ------------------------------------------------------------------------
 * Helpers */

static uint8_t fbuf[GOFER_MAX_FRAME + 64];

static void t_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); } /* x86-64: LE */
static void t_put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static int req_decode(size_t len)
{
	struct gofer_request rq;
	return gofer_req_decode(fbuf, len, &rq);
}

static struct stat t_stat(void)
{
	struct stat st = { 0 };
	st.st_ino = 0x1122334455667788ull;
	st.st_dev = makedev(259, 3);
	st.st_rdev = makedev(4, 64);
	st.st_size = 123456789012ll;
	st.st_blocks = 8;
	st.st_mode = S_IFREG | 0644;
	st.st_nlink = 3;
	st.st_uid = 1000;
	st.st_gid = 100;
	st.st_blksize = 4096;
	st.st_atim = (struct timespec){ 1700000000, 1 };
	st.st_mtim = (struct timespec){ -5, 999999999 };
	st.st_ctim = (struct timespec){ 42, 500 };
	return st;
}

static int stat_eq(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_rdev == b->st_rdev &&
	       a->st_size == b->st_size && a->st_blocks == b->st_blocks && a->st_mode == b->st_mode &&
	       a->st_nlink == b->st_nlink && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_blksize == b->st_blksize && a->st_atim.tv_sec == b->st_atim.tv_sec &&
	       a->st_atim.tv_nsec == b->st_atim.tv_nsec && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A WALK frame with raw name bytes, bypassing the encoder's checks. */
static size_t raw_walk(uint32_t tag, uint64_t dir, const char *name, size_t nlen)
{
	size_t len = GOFER_WALK_REQ_FIXED + nlen;
	memset(fbuf, 0, len);
	t_put32(fbuf, (uint32_t)len);
	t_put16(fbuf + 4, GOFER_OP_WALK);
	t_put32(fbuf + 8, tag);
	memcpy(fbuf + 16, &dir, 8);
	t_put32(fbuf + 24, GOFER_WALK_REQ_FIXED);
	t_put32(fbuf + 28, (uint32_t)nlen);
	memcpy(fbuf + GOFER_WALK_REQ_FIXED, name, nlen);
	return len;
}

/* ------------------------------------------------------------------------
 * Wire format */

TEST(name_rules)
{
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	EXPECT_TRUE(gofer_name_valid("a", 1));
	EXPECT_TRUE(gofer_name_valid("...", 3));
	EXPECT_TRUE(gofer_name_valid(".hidden", 7));
	EXPECT_TRUE(gofer_name_valid(longname, 255));
	EXPECT_TRUE(!gofer_name_valid(longname, 256));
	EXPECT_TRUE(!gofer_name_valid("", 0));
	EXPECT_TRUE(!gofer_name_valid(".", 1));
	EXPECT_TRUE(!gofer_name_valid("..", 2));
	EXPECT_TRUE(!gofer_name_valid("a/b", 3));
	EXPECT_TRUE(!gofer_name_valid("/", 1));
	EXPECT_TRUE(!gofer_name_valid("a\0b", 3));
}

TEST(request_round_trips)
{
	struct gofer_request rq;
	ssize_t n = gofer_req_attach(fbuf, sizeof(fbuf), 7, 3);
	ASSERT_EQ(n, GOFER_ATTACH_REQ_SIZE);
	ASSERT_EQ(gofer_req_decode(fbuf, n, &rq), 0);
	EXPECT_EQ(rq.hdr.op, GOFER_OP_ATTACH);
	EXPECT_EQ(rq.hdr.tag, 7);
	EXPECT_EQ(rq.attach.idx, 3);

	char longname[256];
	memset(longname, 'x', 255);
	longname[255] = 0;
	const char *names[] = { "a", "...", "file.txt", longname };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		n = gofer_req_walk(fbuf, sizeof(fbuf), 0xdeadbeef, 0x100000002ull, names[i]);
		ASSERT_EQ(n, GOFER_WALK_REQ_FIXED + strlen(names[i]));
		ASSERT_EQ(gofer_req_decode(fbuf, n, &rq), 0);
		EXPECT_EQ(rq.hdr.tag, 0xdeadbeef);
		EXPECT_EQ(rq.walk.dir_id, 0x100000002ull);
		EXPECT_STREQ(rq.walk.name, names[i]);
	}

	n = gofer_req_release(fbuf, sizeof(fbuf), 0x300000001ull);
	ASSERT_EQ(gofer_req_decode(fbuf, n, &rq), 0);
	EXPECT_EQ(rq.release.id, 0x300000001ull);
}

TEST(encoder_refuses_bad_names_and_small_buffers)
{
	const char *bad[] = { "", ".", "..", "a/b", "../x", "/" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(gofer_req_walk(fbuf, sizeof(fbuf), 1, 1, bad[i]), -EINVAL);
	char longname[300];
	memset(longname, 'y', 299);
	longname[299] = 0;
	EXPECT_EQ(gofer_req_walk(fbuf, sizeof(fbuf), 1, 1, longname), -EINVAL);
	EXPECT_EQ(gofer_req_walk(fbuf, GOFER_WALK_REQ_FIXED, 1, 1, "ab"), -ENOBUFS);
	EXPECT_EQ(gofer_req_attach(fbuf, 4, 1, 1), -ENOBUFS);
	EXPECT_EQ(gofer_reply_status(fbuf, sizeof(fbuf), GOFER_OP_WALK, 1, 5), -EINVAL);
}

TEST(node_reply_round_trip)
{
	struct stat st = t_stat(), got;
	uint64_t id = 0;
	struct gofer_hdr h;
	ssize_t n = gofer_reply_node(fbuf, sizeof(fbuf), GOFER_OP_WALK, 77, 0x500000009ull, &st, true);
	ASSERT_EQ(n, GOFER_NODE_REPLY_SIZE);
	ASSERT_EQ(gofer_hdr_decode(fbuf, n, &h), 0);
	EXPECT_EQ(h.flags, GOFER_F_FD);
	EXPECT_EQ(h.tag, 77);
	EXPECT_EQ(gofer_reply_check(&h, GOFER_OP_WALK), 0);
	EXPECT_EQ(gofer_reply_check(&h, GOFER_OP_ATTACH), -EBADMSG);
	ASSERT_EQ(gofer_reply_node_decode(fbuf, n, &id, &got), 0);
	EXPECT_EQ(id, 0x500000009ull);
	EXPECT_TRUE(stat_eq(&st, &got));

	/* nsec out of range, reserved bits set, negative size */
	uint8_t *sp = fbuf + GOFER_HDR_SIZE + 8;
	t_put32(sp + 72, 1000000000u);
	EXPECT_EQ(gofer_reply_node_decode(fbuf, n, &id, &got), -EBADMSG);
	gofer_stat_encode(sp, &st);
	t_put32(sp + 60, 1);
	EXPECT_EQ(gofer_reply_node_decode(fbuf, n, &id, &got), -EBADMSG);
	gofer_stat_encode(sp, &st);
	t_put32(sp + 92, 1);
	EXPECT_EQ(gofer_reply_node_decode(fbuf, n, &id, &got), -EBADMSG);
	st.st_size = -1;
	gofer_stat_encode(sp, &st);
	EXPECT_EQ(gofer_reply_node_decode(fbuf, n, &id, &got), -EBADMSG);
	EXPECT_EQ(gofer_reply_node_decode(fbuf, n - 1, &id, &got), -EBADMSG);
}

TEST(error_replies)
{
	struct gofer_hdr h;
	ssize_t n = gofer_reply_status(fbuf, sizeof(fbuf), GOFER_OP_WALK, 5, -ENOENT);
	ASSERT_EQ(n, GOFER_HDR_SIZE);
	ASSERT_EQ(gofer_hdr_decode(fbuf, n, &h), 0);
	EXPECT_EQ(gofer_reply_check(&h, GOFER_OP_WALK), -ENOENT);
	/* positive status, an error with an fd or a body, a reply to RELEASE */
	h.status = 3;
	EXPECT_EQ(gofer_reply_check(&h, GOFER_OP_WALK), -EBADMSG);
	h.status = -ENOENT;
	h.flags = GOFER_F_FD;
	EXPECT_EQ(gofer_reply_check(&h, GOFER_OP_WALK), -EBADMSG);
	h.flags = 0;
	h.len = GOFER_HDR_SIZE + 8;
	EXPECT_EQ(gofer_reply_check(&h, GOFER_OP_WALK), -EBADMSG);
	h.len = GOFER_HDR_SIZE;
	h.op = GOFER_OP_RELEASE;
	EXPECT_EQ(gofer_reply_check(&h, GOFER_OP_RELEASE), -EBADMSG);
}

/* Op 4 was READDIR (the sentry now lists directories itself): reserved,
 * so a frame that names it is malformed either way, in its old layout or
 * any other. */
TEST(reserved_op_is_malformed)
{
	struct gofer_hdr h;
	/* the old request: u64 dir_id, u64 cookie */
	memset(fbuf, 0, GOFER_HDR_SIZE + 16);
	t_put32(fbuf, GOFER_HDR_SIZE + 16);
	t_put16(fbuf + 4, GOFER_OP_RESERVED_4);
	t_put32(fbuf + 8, 9);
	t_put32(fbuf + 16, 1);
	EXPECT_EQ(req_decode(GOFER_HDR_SIZE + 16), -EBADMSG);
	EXPECT_EQ(gofer_hdr_decode(fbuf, GOFER_HDR_SIZE + 16, &h), -EBADMSG);
	/* the same frame as any other op decodes as far as its header */
	t_put16(fbuf + 4, GOFER_OP_WALK);
	EXPECT_EQ(gofer_hdr_decode(fbuf, GOFER_HDR_SIZE + 16, &h), 0);
	/* replies: an error reply, and a body the size of a node reply */
	ssize_t n = gofer_reply_status(fbuf, sizeof(fbuf), GOFER_OP_RESERVED_4, 9, -ENOENT);
	ASSERT_EQ(n, GOFER_HDR_SIZE);
	EXPECT_EQ(gofer_hdr_decode(fbuf, (size_t)n, &h), -EBADMSG);
	struct stat st = t_stat();
	uint64_t id;
	n = gofer_reply_node(fbuf, sizeof(fbuf), GOFER_OP_RESERVED_4, 9, 5, &st, false);
	ASSERT_EQ(n, GOFER_NODE_REPLY_SIZE);
	EXPECT_EQ(gofer_hdr_decode(fbuf, (size_t)n, &h), -EBADMSG);
	EXPECT_EQ(gofer_reply_node_decode(fbuf, (size_t)n, &id, &st), -EBADMSG);
	t_put16(fbuf + 4, GOFER_OP_WALK);
	EXPECT_EQ(gofer_reply_node_decode(fbuf, (size_t)n, &id, &st), 0);
}

TEST(rejects_short_and_bad_len)
{
	ssize_t n = gofer_req_attach(fbuf, sizeof(fbuf), 1, 0);
	ASSERT_TRUE(n > 0);
	for (size_t len = 0; len < (size_t)n; len++)
		EXPECT_EQ(req_decode(len), -EBADMSG); /* len field no longer matches */
	/* len field larger/smaller than what arrived */
	t_put32(fbuf, (uint32_t)n + 1);
	EXPECT_EQ(req_decode(n), -EBADMSG);
	EXPECT_EQ(req_decode(n + 1), -EBADMSG); /* right len, attach has a fixed size */
	t_put32(fbuf, (uint32_t)n - 1);
	EXPECT_EQ(req_decode(n), -EBADMSG);
	t_put32(fbuf, 0);
	EXPECT_EQ(req_decode(n), -EBADMSG);
	/* a frame beyond the maximum (the largest request) */
	struct gofer_hdr h;
	t_put32(fbuf, GOFER_MAX_FRAME + 1);
	t_put16(fbuf + 4, GOFER_OP_WALK);
	EXPECT_EQ(gofer_hdr_decode(fbuf, GOFER_MAX_FRAME + 1, &h), -EBADMSG);
	EXPECT_EQ(req_decode(GOFER_MAX_REQUEST + 1), -EBADMSG);
}

TEST(rejects_bad_op_flags_status)
{
	ssize_t n = gofer_req_attach(fbuf, sizeof(fbuf), 1, 0);
	ASSERT_EQ(req_decode(n), 0);
	uint16_t ops[] = { 0, GOFER_OP_READY, GOFER_OP_RESERVED_4, GOFER_OP_MAX_ + 1, 0xffff };
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		t_put16(fbuf + 4, ops[i]);
		EXPECT_EQ(req_decode(n), -EBADMSG);
	}
	t_put16(fbuf + 4, GOFER_OP_ATTACH);
	t_put16(fbuf + 6, GOFER_F_FD); /* the sentry never sends fds */
	EXPECT_EQ(req_decode(n), -EBADMSG);
	t_put16(fbuf + 6, 0x100);
	EXPECT_EQ(req_decode(n), -EBADMSG);
	t_put16(fbuf + 6, 0);
	t_put32(fbuf + 12, (uint32_t)-ENOENT); /* status in a request */
	EXPECT_EQ(req_decode(n), -EBADMSG);
	t_put32(fbuf + 12, 0);
	t_put32(fbuf + 20, 1); /* reserved field */
	EXPECT_EQ(req_decode(n), -EBADMSG);
	n = gofer_req_release(fbuf, sizeof(fbuf), 5);
	t_put32(fbuf + 8, 3); /* RELEASE is one-way: no tag */
	EXPECT_EQ(req_decode(n), -EBADMSG);
}

TEST(rejects_walk_offsets)
{
	size_t n = raw_walk(1, 1, "name", 4);
	ASSERT_EQ(req_decode(n), 0);
	uint8_t *off = fbuf + 24, *len = fbuf + 28;
	struct {
		uint32_t off, len;
	} cases[] = {
		{ 0, 4 },                          /* inside the header */
		{ GOFER_WALK_REQ_FIXED - 1, 4 },   /* overlapping the body */
		{ GOFER_WALK_REQ_FIXED + 1, 4 },   /* past the end */
		{ GOFER_WALK_REQ_FIXED, 5 },       /* longer than the frame */
		{ GOFER_WALK_REQ_FIXED, 3 },       /* slack byte left over */
		{ GOFER_WALK_REQ_FIXED, 0 },       /* empty */
		{ 0xffffffffu, 4 },                /* offset overflow */
		{ GOFER_WALK_REQ_FIXED, 0xffffffffu }, /* length overflow */
		{ 0xfffffff0u, 0x20 },             /* sum wraps */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		raw_walk(1, 1, "name", 4);
		t_put32(off, cases[i].off);
		t_put32(len, cases[i].len);
		EXPECT_EQ(req_decode(n), -EBADMSG);
	}
	/* a WALK shorter than its fixed part */
	raw_walk(1, 1, "", 0);
	t_put32(fbuf, GOFER_WALK_REQ_FIXED - 4);
	EXPECT_EQ(req_decode(GOFER_WALK_REQ_FIXED - 4), -EBADMSG);
}

TEST(rejects_walk_names)
{
	char longname[256];
	memset(longname, 'z', sizeof(longname));
	struct {
		const char *name;
		size_t len;
	} bad[] = {
		{ "", 0 }, { ".", 1 }, { "..", 2 }, { "a/b", 3 }, { "../x", 4 }, { "/etc", 4 },
		{ "x/", 2 }, { "a\0b", 3 }, { "\0", 1 }, { longname, 256 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t n = raw_walk(1, 1, bad[i].name, bad[i].len);
		EXPECT_EQ(req_decode(n), -EBADMSG);
	}
	EXPECT_EQ(req_decode(raw_walk(1, 1, longname, 255)), 0);
}

TEST(decoders_survive_random_frames)
{
	/* Mutated valid frames: no decoder may crash, and anything accepted
	 * must re-encode to a frame of the same length. */
	srand(1);
	const struct stat st0 = t_stat();
	const struct gofer_mut m = { .dir_id = 7, .dir2_id = 8, .name = "a", .name_len = 1,
				     .name2 = "bee", .name2_len = 3 };
	for (int iter = 0; iter < 200000; iter++) {
		ssize_t n;
		switch (iter % 3) {
		case 0: n = gofer_req_walk(fbuf, sizeof(fbuf), 1, 2, "somename"); break;
		case 1: n = gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_RENAME, 1, &m); break;
		default: n = gofer_reply_node(fbuf, sizeof(fbuf), GOFER_OP_WALK, 1, 2, &st0, false); break;
		}
		ASSERT_TRUE(n > 0);
		int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++)
			fbuf[rand() % n] ^= (uint8_t)(1u << (rand() % 8));
		size_t len = (size_t)n;
		if (rand() % 8 == 0)
			len = (size_t)(rand() % (n + 1));
		struct gofer_request rq;
		struct stat st;
		uint64_t id;
		if (gofer_req_decode(fbuf, len, &rq) == 0) {
			if (rq.hdr.op == GOFER_OP_WALK)
				EXPECT_EQ(GOFER_WALK_REQ_FIXED + strlen(rq.walk.name), len);
			if (rq.hdr.op == GOFER_OP_RENAME) {
				EXPECT_EQ(GOFER_MUT_REQ_FIXED + rq.mut.name_len + rq.mut.name2_len, len);
				EXPECT_TRUE(gofer_name_valid(rq.mut.name, rq.mut.name_len));
				EXPECT_TRUE(gofer_name_valid(rq.mut.name2, rq.mut.name2_len));
			}
		}
		(void)gofer_reply_node_decode(fbuf, len, &id, &st);
	}
}

/* Mutation requests: what each op may carry, and nothing else. */
TEST(mutation_requests)
{
	struct gofer_request rq;
	struct gofer_mut m = { .dir_id = 7, .flags = O_WRONLY | O_CREAT | O_EXCL, .mode = 0644,
			       .name = "new", .name_len = 3 };
	ssize_t n = gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_OPEN, 9, &m);
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(gofer_req_decode(fbuf, (size_t)n, &rq), 0);
	EXPECT_EQ(rq.hdr.op, GOFER_OP_OPEN);
	EXPECT_EQ(rq.mut.dir_id, 7);
	EXPECT_EQ(rq.mut.mode, 0644);
	EXPECT_EQ(rq.mut.name_len, 3);
	EXPECT_TRUE(!memcmp(rq.mut.name, "new", 3));
	/* a create is always exclusive; O_PATH, O_DIRECTORY never */
	m.flags = O_WRONLY | O_CREAT;
	EXPECT_EQ(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_OPEN, 9, &m), -EINVAL);
	m.flags = O_RDONLY | O_DIRECTORY;
	m.mode = 0;
	EXPECT_EQ(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_OPEN, 9, &m), -EINVAL);
	/* a field the op does not use must be 0 */
	m = (struct gofer_mut){ .dir_id = 7, .mode = 0755, .uid = 1, .name = "d", .name_len = 1 };
	EXPECT_EQ(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_MKDIR, 1, &m), -EINVAL);
	/* devices are not nodes the gofer makes */
	m = (struct gofer_mut){ .dir_id = 7, .mode = S_IFCHR | 0600, .name = "c", .name_len = 1 };
	EXPECT_EQ(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_MKNOD, 1, &m), -EINVAL);
	m.mode = S_IFBLK;
	EXPECT_EQ(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_MKNOD, 1, &m), -EINVAL);
	/* ... but for an overlay whiteout: S_IFCHR exactly (0/0) */
	m.mode = S_IFCHR;
	EXPECT_TRUE(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_MKNOD, 1, &m) > 0);
	m.mode = S_IFIFO | 0600;
	EXPECT_TRUE(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_MKNOD, 1, &m) > 0);
	/* rename: a second directory and name; names are components */
	m = (struct gofer_mut){ .dir_id = 7, .dir2_id = 8, .flags = 1, .name = "a", .name_len = 1,
				.name2 = "b", .name2_len = 1 };
	n = gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_RENAME, 1, &m);
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(gofer_req_decode(fbuf, (size_t)n, &rq), 0);
	EXPECT_EQ(rq.mut.dir2_id, 8);
	m.name2 = "..";
	m.name2_len = 2;
	EXPECT_EQ(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_RENAME, 1, &m), -EINVAL);
	/* xattrs: user.* only */
	m = (struct gofer_mut){ .dir_id = 7, .name2 = "trusted.x", .name2_len = 9, .data = (const uint8_t *)"v",
				.data_len = 1 };
	EXPECT_EQ(gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_SETXATTR, 1, &m), -EINVAL);
	m.name2 = "user.x";
	m.name2_len = 6;
	n = gofer_req_mut(fbuf, sizeof(fbuf), GOFER_OP_SETXATTR, 1, &m);
	ASSERT_TRUE(n > 0);
	ASSERT_EQ(gofer_req_decode(fbuf, (size_t)n, &rq), 0);
	EXPECT_EQ(rq.mut.data_len, 1);
	/* a frame whose strings do not reach its end exactly is refused */
	EXPECT_EQ(gofer_req_decode(fbuf, (size_t)n - 1, &rq), -EBADMSG);
	t_put32(fbuf + GOFER_HDR_SIZE + 88, GOFER_MUT_REQ_FIXED + 1); /* name2's offset */
	EXPECT_EQ(gofer_req_decode(fbuf, (size_t)n, &rq), -EBADMSG);
}

/* ------------------------------------------------------------------------
 * The gofer process */

static char t_root[64];
static char t_outside[64];

static void t_write(const char *rel, const char *text, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", t_root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(p, mode);
}

static void t_mkdir(const char *rel, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", t_root, rel);
	ASSERT_EQ(mkdir(p, mode), 0);
	chmod(p, mode);
}

static void t_symlink(const char *target, const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", t_root, rel);
	ASSERT_EQ(symlink(target, p), 0);
}

static int t_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void t_cleanup(void)
{
	nftw(t_root, t_rm, 16, FTW_DEPTH | FTW_PHYS);
	nftw(t_outside, t_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Tests end with _exit() (no atexit), failing ones at any point: a helper
 * process removes the tree once the test process is gone (pipe EOF). */
static void t_janitor(void)
{
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) > 0 || errno == EINTR)
			;
		t_cleanup();
		_exit(0);
	}
	close(p[0]); /* p[1] stays open until this test process ends */
}

/* root/
 *   file.txt  dir/{nested/deep.txt, hidden.txt}  link -> <outside>/target
 *   linkdir -> dir  secret.txt  maskdir/inner.txt
 *   private/ (uid 1234, 0700) with key (0600)   f0..f49 */
static void t_tree(void)
{
	strcpy(t_root, "/tmp/moat-gofer-XXXXXX");
	strcpy(t_outside, "/tmp/moat-outside-XXXXXX");
	ASSERT_TRUE(mkdtemp(t_root) != NULL);
	ASSERT_TRUE(mkdtemp(t_outside) != NULL);
	t_janitor();
	char target[128];
	snprintf(target, sizeof(target), "%s/target", t_outside);
	int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	close(fd);

	t_write("file.txt", "hello\n", 0644);
	t_mkdir("dir", 0755);
	t_mkdir("dir/nested", 0755);
	t_write("dir/nested/deep.txt", "deep\n", 0644);
	t_write("dir/hidden.txt", "hidden\n", 0644);
	t_symlink(target, "link");
	t_symlink("dir", "linkdir");
	t_write("secret.txt", "secret\n", 0600);
	t_mkdir("maskdir", 0755);
	t_write("maskdir/inner.txt", "inner\n", 0644);
	t_mkdir("private", 0700);
	t_write("private/key", "key\n", 0600);
	char p[256];
	snprintf(p, sizeof(p), "%s/private/key", t_root);
	ASSERT_EQ(chown(p, 1234, 1234), 0);
	snprintf(p, sizeof(p), "%s/private", t_root);
	ASSERT_EQ(chown(p, 1234, 1234), 0);
	for (int i = 0; i < 50; i++) {
		char n[16];
		snprintf(n, sizeof(n), "f%d", i);
		t_write(n, n, 0644);
	}
}

static char *t_masks[] = { "secret.txt", "maskdir", "dir/hidden.txt", "does/not/exist" };

struct t_gofer {
	pid_t pid;
	int pidfd;
	int sock;
	struct gofer_client *gc;
};

static void t_spawn_cfg(struct t_gofer *g, bool rw, char **masks, size_t nmasks)
{
	struct gofer_export ex = { .host_path = t_root, .rw = rw, .masks = masks, .nmasks = nmasks,
				   .owner_uid = rw ? 4242 : 0, .owner_gid = rw ? 4343 : 0 };
	struct gofer_config cfg = { .exports = &ex, .nexports = 1 };
	int r = gofer_spawn(&cfg, &g->pid, &g->pidfd, &g->sock);
	if (r == -EPERM)
		SKIP("no privilege for a mount namespace");
	ASSERT_EQ(r, 0);
	g->gc = gofer_client_new(g->sock);
	ASSERT_TRUE(g->gc != NULL);
}

static void t_spawn(struct t_gofer *g)
{
	t_spawn_cfg(g, false, t_masks, ARRAY_SIZE(t_masks));
}

/* Host lstat of a path under the tree. */
static struct stat t_lstat(const char *rel)
{
	char p[256];
	struct stat st = { 0 };
	snprintf(p, sizeof(p), "%s/%s", t_root, rel);
	lstat(p, &st);
	return st;
}

static int t_exit_status(pid_t pid)
{
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(gofer_attach_walk)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root, n;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	ASSERT_TRUE(root.fd >= 0);
	EXPECT_TRUE(S_ISDIR(root.st.st_mode));
	EXPECT_EQ(root.st.st_ino, t_lstat("").st_ino);
	EXPECT_EQ(fcntl(root.fd, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(gofer_attach(g.gc, 1, &n), -ENOENT);

	ASSERT_EQ(gofer_walk(g.gc, root.id, "dir", &n), 0);
	EXPECT_TRUE(n.fd >= 0 && S_ISDIR(n.st.st_mode));
	EXPECT_EQ(n.st.st_ino, t_lstat("dir").st_ino);
	struct stat fst;
	ASSERT_EQ(fstat(n.fd, &fst), 0);
	EXPECT_EQ(fst.st_ino, n.st.st_ino);
	/* and one level further down through the new id */
	struct gofer_node nested, deep;
	ASSERT_EQ(gofer_walk(g.gc, n.id, "nested", &nested), 0);
	ASSERT_EQ(gofer_walk(g.gc, nested.id, "deep.txt", &deep), 0);
	EXPECT_EQ(deep.fd, -1);
	EXPECT_EQ(deep.id, GOFER_ID_NONE);
	EXPECT_EQ(deep.st.st_ino, t_lstat("dir/nested/deep.txt").st_ino);
	EXPECT_EQ(deep.st.st_size, 5);

	ASSERT_EQ(gofer_walk(g.gc, root.id, "file.txt", &n), 0);
	EXPECT_EQ(n.fd, -1);
	EXPECT_TRUE(S_ISREG(n.st.st_mode));
	EXPECT_EQ(gofer_walk(g.gc, root.id, "nope", &n), -ENOENT);
	EXPECT_EQ(gofer_walk(g.gc, root.id, "file.txt", &n), 0);
	/* the donated dir fd is in a read-only mount */
	EXPECT_EQ(openat(root.fd, "file.txt", O_WRONLY | O_CLOEXEC), -1);
	EXPECT_EQ(errno, EROFS);
	/* release, then the id is gone: using it again ends the connection */
	EXPECT_EQ(gofer_release(g.gc, nested.id), 0);
	EXPECT_EQ(gofer_release(g.gc, root.id), 0); /* roots stay */
	EXPECT_EQ(gofer_walk(g.gc, root.id, "dir", &n), 0);
	EXPECT_EQ(gofer_walk(g.gc, nested.id, "deep.txt", &n), -EIO);
	EXPECT_EQ(gofer_attach(g.gc, 0, &n), -EIO);
	EXPECT_EQ(t_exit_status(g.pid), 2);
	gofer_client_free(g.gc);
}

TEST(gofer_symlinks_not_followed)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root, n;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	ASSERT_EQ(gofer_walk(g.gc, root.id, "link", &n), 0);
	EXPECT_TRUE(S_ISLNK(n.st.st_mode));
	EXPECT_EQ(n.fd, -1);
	EXPECT_EQ(n.st.st_ino, t_lstat("link").st_ino);
	/* even a link to a directory inside the export stays a link */
	ASSERT_EQ(gofer_walk(g.gc, root.id, "linkdir", &n), 0);
	EXPECT_TRUE(S_ISLNK(n.st.st_mode));
	EXPECT_EQ(n.fd, -1);
	gofer_client_free(g.gc);
	EXPECT_EQ(t_exit_status(g.pid), 0);
}

/* Names in a directory, read as the sentry reads them: getdents64 on a
 * donated fd ("." and ".." left out). */
static int t_fd_names(int dirfd, char names[][64], int max)
{
	static char buf[32768] __attribute__((aligned(8)));
	int n = 0;
	ASSERT_TRUE(lseek(dirfd, 0, SEEK_SET) == 0);
	for (;;) {
		long got = syscall(SYS_getdents64, dirfd, buf, sizeof(buf));
		ASSERT_TRUE(got >= 0);
		if (got == 0)
			return n;
		for (long pos = 0; pos < got;) {
			const struct dirent64 *e = (const struct dirent64 *)(buf + pos);
			pos += e->d_reclen;
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && n < max)
				snprintf(names[n++], 64, "%.63s", e->d_name);
		}
	}
}

TEST(gofer_masks)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root, dir, n;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	EXPECT_EQ(gofer_walk(g.gc, root.id, "secret.txt", &n), -EACCES);
	/* A masked directory is served as the empty directory it now is: the
	 * sentry lists it through the donated fd and finds nothing. */
	ASSERT_EQ(gofer_walk(g.gc, root.id, "maskdir", &n), 0);
	char names[8][64];
	EXPECT_EQ(t_fd_names(n.fd, names, 8), 0);
	close(n.fd);
	gofer_release(g.gc, n.id);
	ASSERT_EQ(gofer_walk(g.gc, root.id, "dir", &dir), 0);
	EXPECT_EQ(gofer_walk(g.gc, dir.id, "hidden.txt", &n), -EACCES);
	/* Through a donated fd the sentry sees only the empty cover. */
	char buf[16];
	int fd = openat(root.fd, "secret.txt", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		EXPECT_EQ(read(fd, buf, sizeof(buf)), 0);
		close(fd);
	}
	struct stat st;
	ASSERT_EQ(fstatat(root.fd, "maskdir/inner.txt", &st, AT_SYMLINK_NOFOLLOW), -1);
	EXPECT_EQ(errno, ENOENT);
	gofer_client_free(g.gc);
}

TEST(gofer_root_only_files)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root, priv, n;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	ASSERT_EQ(gofer_walk(g.gc, root.id, "private", &priv), 0);
	EXPECT_EQ(priv.st.st_uid, 1234);
	ASSERT_EQ(gofer_walk(g.gc, priv.id, "key", &n), 0);
	EXPECT_EQ(n.st.st_size, 4);
	/* the sentry lists it through the fd, whatever its mode */
	char names[4][64];
	ASSERT_EQ(t_fd_names(priv.fd, names, 4), 1);
	EXPECT_STREQ(names[0], "key");
	gofer_client_free(g.gc);
}

struct t_thread {
	struct gofer_client *gc;
	uint64_t root;
	int failures;
};

static void *t_worker(void *arg)
{
	struct t_thread *t = arg;
	for (int i = 0; i < 50; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", (i * 7) % 50);
		struct gofer_node n;
		if (gofer_walk(t->gc, t->root, name, &n) != 0 || n.st.st_ino != t_lstat(name).st_ino ||
		    n.st.st_size != (off_t)strlen(name))
			t->failures++;
		if (i % 10 == 5) {
			struct gofer_node d;
			if (gofer_walk(t->gc, t->root, "dir", &d) != 0 || d.fd < 0)
				t->failures++;
			else {
				close(d.fd);
				gofer_release(t->gc, d.id);
			}
		}
	}
	return NULL;
}

TEST(gofer_concurrent_clients)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	pthread_t th[4];
	struct t_thread ts[4];
	for (int i = 0; i < 4; i++) {
		ts[i] = (struct t_thread){ .gc = g.gc, .root = root.id };
		ASSERT_EQ(pthread_create(&th[i], NULL, t_worker, &ts[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(ts[i].failures, 0);
	}
	gofer_client_free(g.gc);
	EXPECT_EQ(t_exit_status(g.pid), 0);
}

/* Raw protocol: NREQ WALKs sent at once on one socket, more than the gofer
 * takes in flight (it stops reading, then resumes); every reply must carry
 * its request's tag and answer that request. */
enum { NREQ = 300 };
struct t_rx {
	int sock;
	uint64_t ino_by_tag[NREQ + 1];
	int bad;
};

static void *t_raw_reader(void *arg)
{
	struct t_rx *rx = arg;
	static uint8_t buf[GOFER_MAX_FRAME];
	for (int i = 0; i < NREQ; i++) {
		ssize_t n = recv(rx->sock, buf, sizeof(buf), 0);
		struct gofer_hdr h;
		uint64_t id;
		struct stat st;
		if (n <= 0 || gofer_hdr_decode(buf, n, &h) < 0 || h.tag == 0 || h.tag > NREQ ||
		    gofer_reply_node_decode(buf, n, &id, &st) < 0 || rx->ino_by_tag[h.tag]) {
			rx->bad++;
			continue;
		}
		rx->ino_by_tag[h.tag] = st.st_ino;
	}
	return NULL;
}

TEST(gofer_pipelined_tags)
{
	t_tree();
	t_mkdir("many", 0755);
	for (int i = 0; i < NREQ; i++) {
		char n[32];
		snprintf(n, sizeof(n), "many/m%d", i);
		t_write(n, "", 0644);
	}
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root, many;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	ASSERT_EQ(gofer_walk(g.gc, root.id, "many", &many), 0);
	static struct t_rx rx;
	rx.sock = g.sock;
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, t_raw_reader, &rx), 0);
	for (uint32_t tag = 1; tag <= NREQ; tag++) {
		char name[16];
		snprintf(name, sizeof(name), "m%u", tag - 1);
		ssize_t n = gofer_req_walk(fbuf, sizeof(fbuf), tag, many.id, name);
		ASSERT_EQ(send(g.sock, fbuf, n, MSG_NOSIGNAL), n);
	}
	pthread_join(th, NULL);
	EXPECT_EQ(rx.bad, 0);
	for (uint32_t tag = 1; tag <= NREQ; tag++) {
		char name[32];
		snprintf(name, sizeof(name), "many/m%u", tag - 1);
		EXPECT_EQ(rx.ino_by_tag[tag], t_lstat(name).st_ino);
	}
	gofer_client_free(g.gc);
	EXPECT_EQ(t_exit_status(g.pid), 0);
}

TEST(gofer_refuses_bad_names)
{
	t_tree();
	struct {
		const char *name;
		size_t len;
	} bad[] = { { "../x", 4 }, { "a/b", 3 }, { "..", 2 }, { ".", 1 }, { "", 0 }, { "a\0b", 3 } };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct t_gofer g;
		t_spawn(&g);
		struct gofer_node root;
		ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
		size_t n = raw_walk(9, root.id, bad[i].name, bad[i].len);
		ASSERT_EQ(send(g.sock, fbuf, n, MSG_NOSIGNAL), (ssize_t)n);
		/* no reply: the connection ends */
		EXPECT_EQ(recv(g.sock, fbuf, sizeof(fbuf), 0), 0);
		EXPECT_EQ(t_exit_status(g.pid), 2);
		gofer_client_free(g.gc);
	}
	/* the client refuses them locally without bothering the gofer */
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root, n;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	EXPECT_EQ(gofer_walk(g.gc, root.id, "../x", &n), -EINVAL);
	EXPECT_EQ(gofer_walk(g.gc, root.id, "a/b", &n), -EINVAL);
	EXPECT_EQ(gofer_walk(g.gc, root.id, "file.txt", &n), 0);
	gofer_client_free(g.gc);
}

/* Op 4 (READDIR once) is not served: a sentry that asks for it is broken
 * or compromised, and the connection ends without a reply. */
TEST(gofer_refuses_reserved_op)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	memset(fbuf, 0, GOFER_HDR_SIZE + 16);
	t_put32(fbuf, GOFER_HDR_SIZE + 16);
	t_put16(fbuf + 4, GOFER_OP_RESERVED_4);
	t_put32(fbuf + 8, 0x7fffffff);
	memcpy(fbuf + GOFER_HDR_SIZE, &root.id, 8); /* the old layout: dir id, cookie 0 */
	ASSERT_EQ(send(g.sock, fbuf, GOFER_HDR_SIZE + 16, MSG_NOSIGNAL), (ssize_t)(GOFER_HDR_SIZE + 16));
	EXPECT_EQ(recv(g.sock, fbuf, sizeof(fbuf), 0), 0);
	EXPECT_EQ(t_exit_status(g.pid), 2);
	gofer_client_free(g.gc);
}

TEST(gofer_unissued_id)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node n;
	EXPECT_EQ(gofer_walk(g.gc, 0x1234500000001ull, "file.txt", &n), -EIO);
	EXPECT_EQ(gofer_walk(g.gc, 1, "file.txt", &n), -EIO); /* no second chance */
	EXPECT_EQ(t_exit_status(g.pid), 2);
	gofer_client_free(g.gc);
	/* each kind of forged id on a fresh gofer */
	uint64_t forged[] = { 0, 1, (2ull << 32) | 0, (1ull << 32) | 1, (1ull << 32) | 0xffff };
	for (size_t i = 0; i < ARRAY_SIZE(forged); i++) {
		t_spawn(&g);
		EXPECT_EQ(gofer_walk(g.gc, forged[i], "file.txt", &n), -EIO);
		EXPECT_EQ(t_exit_status(g.pid), 2);
		gofer_client_free(g.gc);
	}
}

TEST(gofer_death_fails_closed)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root, n;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	kill(g.pid, SIGKILL);
	t_exit_status(g.pid);
	EXPECT_EQ(gofer_walk(g.gc, root.id, "dir", &n), -EIO);
	EXPECT_EQ(gofer_attach(g.gc, 0, &n), -EIO);
	EXPECT_EQ(gofer_release(g.gc, root.id), -EIO);
	gofer_client_free(g.gc);
}

static int t_fatal_calls;
static void t_fatal(const char *why)
{
	(void)why;
	t_fatal_calls++;
}

/* A reply that breaks the protocol must end the sandbox at once (the fatal
 * hook), not only fail the call: a garbage frame, then a well-formed reply
 * under a tag nobody asked for (out of order). The test plays the gofer. */
TEST(gofer_bad_reply_is_fatal)
{
	/* garbage; an unasked-for tag; the reserved op 4 under the tag the
	 * client's first call uses; a frame larger than any reply, its
	 * header otherwise right for that call */
	for (int kind = 0; kind < 4; kind++) {
		int sv[2];
		ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		struct gofer_client *gc = gofer_client_new(sv[0]);
		ASSERT_TRUE(gc != NULL);
		gofer_client_set_fatal(gc, t_fatal);
		t_fatal_calls = 0;
		static uint8_t frame[GOFER_MAX_REPLY + 64];
		size_t len = GOFER_HDR_SIZE;
		memset(frame, 0xa5, sizeof(frame));
		struct gofer_hdr h = { .len = GOFER_HDR_SIZE, .op = GOFER_OP_WALK, .tag = 1, .status = -ENOENT };
		if (kind == 1)
			h.tag = 0x7fffffff;
		if (kind == 2)
			h.op = GOFER_OP_RESERVED_4;
		if (kind == 3) {
			len = sizeof(frame);
			h = (struct gofer_hdr){ .len = (uint32_t)len, .op = GOFER_OP_WALK, .tag = 1 };
		}
		if (kind > 0)
			gofer_hdr_encode(frame, &h);
		/* Queued before the request: the client reads it as the reply. */
		ASSERT_EQ(send(sv[1], frame, len, 0), (ssize_t)len);
		struct gofer_node n;
		EXPECT_EQ(gofer_walk(gc, 1, "x", &n), -EIO);
		EXPECT_EQ(t_fatal_calls, 1);
		EXPECT_EQ(gofer_walk(gc, 1, "x", &n), -EIO);
		EXPECT_EQ(t_fatal_calls, 1); /* once */
		gofer_client_free(gc);
		close(sv[1]);
	}
}

static int t_status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int found = -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			snprintf(out, len, "%s", line + strlen(key) + 1);
			out[strcspn(out, "\n")] = 0;
			memmove(out, out + strspn(out, " \t"), strlen(out + strspn(out, " \t")) + 1);
			found = 0;
		}
	fclose(f);
	return found;
}

TEST(gofer_confinement)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	char v[128];
	ASSERT_EQ(t_status_field(g.pid, "Seccomp", v, sizeof(v)), 0);
	EXPECT_STREQ(v, "2");
	ASSERT_EQ(t_status_field(g.pid, "NoNewPrivs", v, sizeof(v)), 0);
	EXPECT_STREQ(v, "1");
	ASSERT_EQ(t_status_field(g.pid, "CapEff", v, sizeof(v)), 0);
	EXPECT_STREQ(v, "0000000000000006"); /* DAC_OVERRIDE | DAC_READ_SEARCH */
	ASSERT_EQ(t_status_field(g.pid, "CapPrm", v, sizeof(v)), 0);
	EXPECT_STREQ(v, "0000000000000006");
	ASSERT_EQ(t_status_field(g.pid, "CapBnd", v, sizeof(v)), 0);
	EXPECT_STREQ(v, "0000000000000000");
	/* its root holds the export and the mask covers, nothing else */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", g.pid);
	DIR *d = opendir(path);
	ASSERT_TRUE(d != NULL);
	struct dirent *de;
	int other = 0, n = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (strcmp(de->d_name, "0") && strcmp(de->d_name, ".mask") && strcmp(de->d_name, ".maskdir")) {
			printf("# unexpected entry in the gofer's root: %s\n", de->d_name);
			other++;
		}
	}
	closedir(d);
	EXPECT_EQ(other, 0);
	EXPECT_EQ(n, 3);
	/* its mount table: the tmpfs root, the export, the three masks */
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", g.pid);
	FILE *f = fopen(path, "re");
	ASSERT_TRUE(f != NULL);
	char line[1024];
	int mounts = 0;
	while (fgets(line, sizeof(line), f)) {
		mounts++;
		printf("# gofer mount: %s", line);
	}
	fclose(f);
	EXPECT_EQ(mounts, 5);
	/* fds: stderr, socket, export root, io_uring (if any) */
	snprintf(path, sizeof(path), "/proc/%d/fd", g.pid);
	d = opendir(path);
	ASSERT_TRUE(d != NULL);
	int fds = 0;
	while ((de = readdir(d)))
		fds += de->d_name[0] != '.';
	closedir(d);
	EXPECT_TRUE(fds <= 4);
	/* a walk still works under the filter: the gofer is alive after it */
	struct gofer_node n2;
	ASSERT_EQ(gofer_walk(g.gc, root.id, "dir", &n2), 0);
	gofer_client_free(g.gc);
	EXPECT_EQ(t_exit_status(g.pid), 0);
}

TEST(gofer_rw_export)
{
	t_tree();
	struct t_gofer g;
	t_spawn_cfg(&g, true, NULL, 0);
	struct gofer_node root;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	int fd = openat(root.fd, "file.txt", O_WRONLY | O_APPEND | O_CLOEXEC);
	EXPECT_TRUE(fd >= 0);
	if (fd >= 0)
		close(fd);
	/* unmasked: the secret is served */
	struct gofer_node n;
	EXPECT_EQ(gofer_walk(g.gc, root.id, "secret.txt", &n), 0);
	gofer_client_free(g.gc);
}

/* Mutations of an rw export: made as its owner, never following a symlink,
 * and refused on a read-only export. */
TEST(gofer_mutations)
{
	t_tree();
	struct t_gofer g;
	t_spawn_cfg(&g, true, NULL, 0);
	struct gofer_node root;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	int fd = -1;
	struct stat st;
	struct gofer_mut m = { .dir_id = root.id, .flags = O_WRONLY | O_CREAT | O_EXCL, .mode = 04755,
			       .name = "made", .name_len = 4 };
	ASSERT_EQ(gofer_mutate(g.gc, GOFER_OP_OPEN, &m, &fd, &st), 0);
	EXPECT_TRUE(fd >= 0);
	EXPECT_EQ(write(fd, "abc", 3), 3);
	close(fd);
	st = t_lstat("made");
	EXPECT_EQ(st.st_uid, 4242);
	EXPECT_EQ(st.st_gid, 4343);
	EXPECT_EQ(st.st_size, 3);
	EXPECT_EQ(st.st_mode & 07000, 0); /* never set-id */
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_OPEN, &m, &fd, &st), -EEXIST);
	/* chown only to the owner; chmod u+s refused */
	struct gofer_mut sa = { .dir_id = root.id, .name = "made", .name_len = 4,
				.flags = GOFER_SA_UID, .uid = 0 };
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_SETATTR, &sa, NULL, &st), -EPERM);
	sa.flags = GOFER_SA_MODE;
	sa.uid = 0;
	sa.mode = 04755;
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_SETATTR, &sa, NULL, &st), -EPERM);
	sa.mode = 0600;
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_SETATTR, &sa, NULL, &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0600);
	/* a symlink in the name's place is never followed: "link" points at
	 * a file of the tree; a setattr or an open through it fails */
	struct gofer_mut sl = { .dir_id = root.id, .name = "esc", .name_len = 3, .name2 = "/etc/passwd",
				.name2_len = 11 };
	ASSERT_EQ(gofer_mutate(g.gc, GOFER_OP_SYMLINK, &sl, NULL, &st), 0);
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	struct gofer_mut op = { .dir_id = root.id, .flags = O_WRONLY, .name = "esc", .name_len = 3 };
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_OPEN, &op, &fd, &st), -ELOOP);
	/* rename, mkdir, unlink */
	struct gofer_mut md = { .dir_id = root.id, .mode = 0755, .name = "d", .name_len = 1 };
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_MKDIR, &md, NULL, &st), 0);
	EXPECT_EQ(st.st_uid, 4242);
	struct gofer_node d;
	ASSERT_EQ(gofer_walk(g.gc, root.id, "d", &d), 0);
	struct gofer_mut rn = { .dir_id = root.id, .name = "made", .name_len = 4, .dir2_id = d.id,
				.name2 = "moved", .name2_len = 5 };
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_RENAME, &rn, NULL, NULL), 0);
	EXPECT_EQ(t_lstat("d/moved").st_size, 3);
	struct gofer_mut un = { .dir_id = d.id, .name = "moved", .name_len = 5 };
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_UNLINK, &un, NULL, NULL), 0);
	EXPECT_EQ(t_lstat("d/moved").st_ino, 0);
	gofer_client_free(g.gc);
	EXPECT_EQ(t_exit_status(g.pid), 0); /* no call outside its filter */

	/* a read-only export refuses them all */
	t_spawn_cfg(&g, false, NULL, 0);
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	m.dir_id = root.id;
	m.name = "other";
	m.name_len = 5;
	EXPECT_EQ(gofer_mutate(g.gc, GOFER_OP_OPEN, &m, &fd, &st), -EROFS);
	gofer_client_free(g.gc);
}

TEST(gofer_bad_export)
{
	struct gofer_export ex = { .host_path = "/nonexistent/moat/path" };
	struct gofer_config cfg = { .exports = &ex, .nexports = 1 };
	pid_t pid;
	int pidfd, sock;
	int r = gofer_spawn(&cfg, &pid, &pidfd, &sock);
	if (r == -EPERM)
		SKIP("no privilege for a mount namespace");
	EXPECT_EQ(r, -ENOENT);
	ex.host_path = "relative/path";
	EXPECT_EQ(gofer_spawn(&cfg, &pid, &pidfd, &sock), -EINVAL);
}

/* Without io_uring (disabled by sysctl, or refused by a container's filter)
 * the gofer runs the same state machine synchronously. The filter installed
 * here is inherited by the gofer and refuses io_uring_setup. */
TEST(gofer_sync_fallback)
{
	t_tree();
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	ASSERT_TRUE(ctx != NULL);
	ASSERT_EQ(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0), 0);
	ASSERT_EQ(seccomp_load(ctx), 0);
	seccomp_release(ctx);
	struct t_gofer g;
	t_spawn(&g);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", g.pid);
	DIR *d = opendir(path);
	ASSERT_TRUE(d != NULL);
	struct dirent *de;
	int fds = 0;
	while ((de = readdir(d)))
		fds += de->d_name[0] != '.';
	closedir(d);
	EXPECT_EQ(fds, 3); /* stderr, socket, export root: no ring */
	struct gofer_node root, dir, n;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	ASSERT_EQ(gofer_walk(g.gc, root.id, "dir", &dir), 0);
	EXPECT_TRUE(dir.fd >= 0);
	ASSERT_EQ(gofer_walk(g.gc, root.id, "link", &n), 0);
	EXPECT_TRUE(S_ISLNK(n.st.st_mode));
	EXPECT_EQ(gofer_walk(g.gc, root.id, "secret.txt", &n), -EACCES);
	EXPECT_EQ(gofer_walk(g.gc, dir.id, "hidden.txt", &n), -EACCES);
	pthread_t th[4];
	struct t_thread ts[4];
	for (int i = 0; i < 4; i++) {
		ts[i] = (struct t_thread){ .gc = g.gc, .root = root.id };
		ASSERT_EQ(pthread_create(&th[i], NULL, t_worker, &ts[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(ts[i].failures, 0);
	}
	gofer_client_free(g.gc);
	EXPECT_EQ(t_exit_status(g.pid), 0);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

TEST(gofer_latency)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct gofer_node root, n;
	ASSERT_EQ(gofer_attach(g.gc, 0, &root), 0);
	enum { N = 2000 };
	static int64_t dt[N];
	/* directory walk (open + donate + release) */
	for (int i = 0; i < N; i++) {
		int64_t t0 = now_ns();
		ASSERT_EQ(gofer_walk(g.gc, root.id, "dir", &n), 0);
		dt[i] = now_ns() - t0;
		close(n.fd);
		gofer_release(g.gc, n.id);
	}
	qsort(dt, N, sizeof(dt[0]), cmp_i64);
	printf("# walk(dir) round trip: median %.1f us, p90 %.1f us\n", dt[N / 2] / 1e3, dt[N * 9 / 10] / 1e3);
	for (int i = 0; i < N; i++) {
		int64_t t0 = now_ns();
		ASSERT_EQ(gofer_walk(g.gc, root.id, "file.txt", &n), 0);
		dt[i] = now_ns() - t0;
	}
	qsort(dt, N, sizeof(dt[0]), cmp_i64);
	printf("# walk(file) round trip: median %.1f us, p90 %.1f us\n", dt[N / 2] / 1e3, dt[N * 9 / 10] / 1e3);
	for (int i = 0; i < N; i++) {
		struct stat st;
		int64_t t0 = now_ns();
		ASSERT_EQ(fstatat(root.fd, "file.txt", &st, AT_SYMLINK_NOFOLLOW), 0);
		dt[i] = now_ns() - t0;
	}
	qsort(dt, N, sizeof(dt[0]), cmp_i64);
	printf("# directfs fstatat in the sentry: median %.2f us\n", dt[N / 2] / 1e3);
	char names[64][64];
	for (int i = 0; i < 200; i++) {
		int64_t t0 = now_ns();
		ASSERT_EQ(t_fd_names(root.fd, names, 64), 57);
		dt[i] = now_ns() - t0;
	}
	qsort(dt, 200, sizeof(dt[0]), cmp_i64);
	printf("# directfs getdents64 in the sentry (57 entries): median %.1f us\n", dt[100] / 1e3);
	gofer_client_free(g.gc);
}

/* ------------------------------------------------------------------------
 * The sentry's gofer filesystem over a live gofer */

#include "sentry/fs/fs.h"
#include "sentry/kernel/sentry.h"
#include "sentry/vfs/vfs.h"

static struct vnode *t_fs_mount(struct t_gofer *g)
{
	struct vnode *root;
	sentry_lock();
	ASSERT_EQ(gofer_fs_new(g->gc, 0, (const char *const *)t_masks, ARRAY_SIZE(t_masks), &root), 0);
	ASSERT_EQ(vfs_mount(root, NULL, MNT_RDONLY, t_root, "gofer", NULL), 0);
	return root;
}

static int t_lookup(struct vnode *root, struct vnode *dir, const char *name, struct vnode **ret)
{
	return vfs_lookup_one(root, dir, name, ret);
}

TEST(gofer_fs_lookup_open_readlink)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct vnode *root = t_fs_mount(&g), *vn, *dir, *nested, *deep;
	struct stat st, host = t_lstat("file.txt");
	ASSERT_EQ(t_lookup(root, root, "file.txt", &vn), 0);
	EXPECT_EQ(vn->type, VREG);
	ASSERT_EQ(vfs_getattr(vn, &st), 0);
	EXPECT_EQ(st.st_ino, host.st_ino);
	EXPECT_EQ(st.st_size, 6);
	EXPECT_EQ(st.st_dev, root->mnt->dev);
	int fd = -1;
	ASSERT_EQ(vn->ops->open(vn, O_RDONLY, &fd), 0);
	char buf[16] = { 0 };
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 6);
	EXPECT_STREQ(buf, "hello\n");
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	struct stat fst;
	ASSERT_EQ(fstat(fd, &fst), 0);
	EXPECT_TRUE(vfs_hostino_lookup(fst.st_dev, fst.st_ino) == vn);
	close(fd);
	EXPECT_EQ(vn->ops->open(vn, O_WRONLY, &fd), -EROFS);
	EXPECT_EQ(vn->ops->open(vn, O_RDONLY | O_TRUNC, &fd), -EROFS);
	vn_unref(vn);

	/* masks: invisible at any depth */
	EXPECT_EQ(t_lookup(root, root, "secret.txt", &vn), -ENOENT);
	EXPECT_EQ(t_lookup(root, root, "maskdir", &vn), -ENOENT);
	ASSERT_EQ(t_lookup(root, root, "dir", &dir), 0);
	EXPECT_EQ(dir->type, VDIR);
	EXPECT_EQ(t_lookup(root, dir, "hidden.txt", &vn), -ENOENT);
	ASSERT_EQ(t_lookup(root, dir, "nested", &nested), 0);
	ASSERT_EQ(t_lookup(root, nested, "deep.txt", &deep), 0);
	ASSERT_EQ(vfs_getattr(deep, &st), 0);
	EXPECT_EQ(st.st_ino, t_lstat("dir/nested/deep.txt").st_ino);
	/* cached: the second lookup is the same vnode */
	ASSERT_EQ(t_lookup(root, dir, "nested", &vn), 0);
	EXPECT_TRUE(vn == nested);
	vn_unref(vn);
	EXPECT_EQ(t_lookup(root, root, "nope", &vn), -ENOENT);
	EXPECT_EQ(t_lookup(root, root, "file.txt/x", &vn), -ENOENT); /* never reaches a syscall as a path */
	EXPECT_EQ(root->ops->lookup(root, "dir/nested", &vn), -ENOENT);
	EXPECT_EQ(root->ops->lookup(root, "..", &vn), -ENOENT);
	EXPECT_EQ(root->ops->lookup(root, "", &vn), -ENOENT);

	/* symlinks: text only, never followed here */
	ASSERT_EQ(t_lookup(root, root, "link", &vn), 0);
	EXPECT_EQ(vn->type, VLNK);
	char target[128], expect[128];
	snprintf(expect, sizeof(expect), "%s/target", t_outside);
	ssize_t n = vn->ops->readlink(vn, target, sizeof(target) - 1);
	ASSERT_EQ(n, (ssize_t)strlen(expect));
	target[n] = 0;
	EXPECT_STREQ(target, expect);
	EXPECT_EQ(vn->ops->readlink(vn, target, 3), 3);
	EXPECT_EQ(vn->ops->open(vn, O_RDONLY, &fd), -ELOOP);
	vn_unref(vn);
	vn_unref(deep);
	vn_unref(nested);
	vn_unref(dir);
	sentry_unlock();
	gofer_client_free(g.gc);
}

static bool t_listed(const struct dirent_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->ents[i].name, name))
			return true;
	return false;
}

/* The listing is read by the sentry on the donated fd: names and types,
 * masks left out, and the numbers and types lookups give, without making a
 * vnode for any entry. */
TEST(gofer_fs_readdir_names_types)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct vnode *root = t_fs_mount(&g), *vn, *dir, *priv, *key;
	struct dirent_list l = { 0 };
	ASSERT_EQ(root->ops->readdir(root, &l), 0);
	EXPECT_EQ(l.n, 55); /* f0..f49, file.txt, dir, link, linkdir, private */
	EXPECT_TRUE(!t_listed(&l, "secret.txt"));
	EXPECT_TRUE(!t_listed(&l, "maskdir"));
	int seen = 0;
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.ents[i].name;
		unsigned char want = !strcmp(name, "dir") || !strcmp(name, "private") ? DT_DIR :
				     !strcmp(name, "link") || !strcmp(name, "linkdir") ? DT_LNK :
											   DT_REG;
		EXPECT_EQ(l.ents[i].type, want);
		seen += want != DT_REG;
		bool neg;
		vn = dcache_lookup(root, name, &neg);
		EXPECT_TRUE(vn == NULL);
		vn_unref(vn);
		ASSERT_EQ(t_lookup(root, root, name, &vn), 0);
		EXPECT_EQ(vn->ino, l.ents[i].ino);
		EXPECT_EQ(vtype_to_dt(vn->type), l.ents[i].type);
		vn_unref(vn);
	}
	EXPECT_EQ(seen, 4);
	dirent_list_free(&l);
	/* a mask below the root, and a root-only directory read through its fd */
	ASSERT_EQ(t_lookup(root, root, "dir", &dir), 0);
	ASSERT_EQ(dir->ops->readdir(dir, &l), 0);
	EXPECT_EQ(l.n, 1);
	EXPECT_TRUE(t_listed(&l, "nested"));
	dirent_list_free(&l);
	ASSERT_EQ(t_lookup(root, root, "private", &priv), 0);
	ASSERT_EQ(priv->ops->readdir(priv, &l), 0);
	ASSERT_EQ(l.n, 1);
	ASSERT_EQ(t_lookup(root, priv, "key", &key), 0);
	EXPECT_EQ(key->ino, l.ents[0].ino);
	EXPECT_EQ(l.ents[0].type, DT_REG);
	struct stat st;
	ASSERT_EQ(vfs_getattr(key, &st), 0);
	EXPECT_EQ(st.st_uid, 1234);
	dirent_list_free(&l);
	vn_unref(key);
	vn_unref(priv);
	vn_unref(dir);
	sentry_unlock();
	gofer_client_free(g.gc);
}

TEST(gofer_fs_fails_closed)
{
	t_tree();
	struct t_gofer g;
	/* A writable export: its directories are walked by the gofer (a
	 * read-only export's the sentry opens itself inside the fds it holds,
	 * so nothing there needs the gofer; the sandbox still ends with it,
	 * failclosed.sh). */
	t_spawn_cfg(&g, true, t_masks, ARRAY_SIZE(t_masks));
	struct vnode *root = t_fs_mount(&g), *vn, *dir;
	ASSERT_EQ(t_lookup(root, root, "dir", &dir), 0); /* walked: the sentry holds its fd */
	kill(g.pid, SIGKILL);
	t_exit_status(g.pid);
	/* A directory not walked yet needs the gofer. (A lookup walks a
	 * directory at once, so there is no directory vnode without its fd.) */
	EXPECT_EQ(t_lookup(root, root, "private", &vn), -EIO);
	EXPECT_EQ(t_lookup(root, dir, "nested", &vn), -EIO);
	/* Directories whose fds it holds are still listed through them, as
	 * files in them are still looked up. */
	struct dirent_list l = { 0 };
	ASSERT_EQ(root->ops->readdir(root, &l), 0);
	EXPECT_EQ(l.n, 55);
	dirent_list_free(&l);
	ASSERT_EQ(dir->ops->readdir(dir, &l), 0);
	EXPECT_EQ(l.n, 1);
	dirent_list_free(&l);
	ASSERT_EQ(t_lookup(root, root, "file.txt", &vn), 0);
	vn_unref(vn);
	vn_unref(dir);
	sentry_unlock();
	gofer_client_free(g.gc);
}

TEST(gofer_fs_latency)
{
	t_tree();
	struct t_gofer g;
	t_spawn(&g);
	struct vnode *root = t_fs_mount(&g), *vn;
	enum { N = 50 };
	int64_t file_ns = 0, open_ns = 0;
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", i);
		int64_t t0 = now_ns();
		ASSERT_EQ(t_lookup(root, root, name, &vn), 0); /* first lookup: fstatat only */
		int64_t t1 = now_ns();
		int fd;
		ASSERT_EQ(vn->ops->open(vn, O_RDONLY, &fd), 0);
		int64_t t2 = now_ns();
		file_ns += t1 - t0;
		open_ns += t2 - t1;
		close(fd);
		vn_unref(vn);
	}
	int64_t t0 = now_ns();
	ASSERT_EQ(t_lookup(root, root, "dir", &vn), 0); /* first lookup of a dir: one WALK */
	int64_t dir_ns = now_ns() - t0;
	vn_unref(vn);
	printf("# fs_gofer: first lookup of a file %.1f us, open %.1f us, first lookup of a dir %.1f us\n",
	       file_ns / 1e3 / N, open_ns / 1e3 / N, dir_ns / 1e3);
	sentry_unlock();
	gofer_client_free(g.gc);
}
