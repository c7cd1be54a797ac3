/* SPDX-License-Identifier: MIT */
/* Writes the seed corpus of the gofer protocol fuzzers: one valid frame of
 * each kind, made by the protocol's own encoders, into DIR/req and
 * DIR/reply (a reply seed starts with the op byte fuzz_gofer_reply.c reads
 * first). Regenerate after a protocol change:
 *   tests/fuzz/proto.sh --seeds   (or build this with gofer/proto.c and run it
 *   with tests/fuzz/corpus). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gofer/proto.h"

static const char *dir;

static void put(const char *sub, const char *name, int op, const void *frame, ssize_t len)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
	FILE *f = fopen(p, "wb");
	if (!f || len < 0) {
		perror(p);
		return;
	}
	if (op >= 0)
		fputc(op, f);
	fwrite(frame, 1, (size_t)len, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	static uint8_t b[GOFER_MAX_REQUEST];
	dir = argc > 1 ? argv[1] : "corpus";
	char p[4096];
	snprintf(p, sizeof(p), "%s/req", dir);
	mkdir(dir, 0755);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/reply", dir);
	mkdir(p, 0755);

	put("req", "attach", -1, b, gofer_req_attach(b, sizeof(b), 7, 1));
	put("req", "walk", -1, b, gofer_req_walk(b, sizeof(b), 8, 42, "etc"));
	put("req", "release", -1, b, gofer_req_release(b, sizeof(b), 42));
	struct gofer_mut m = { .dir_id = 42, .name = "f", .name_len = 1, .flags = O_WRONLY | O_CREAT | O_EXCL,
			       .mode = 0644 };
	put("req", "open", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_OPEN, 10, &m));
	m = (struct gofer_mut){ .dir_id = 42, .name = "d", .name_len = 1, .mode = 0755 };
	put("req", "mkdir", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_MKDIR, 11, &m));
	m = (struct gofer_mut){ .dir_id = 42, .name = "l", .name_len = 1, .name2 = "../t", .name2_len = 4 };
	put("req", "symlink", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_SYMLINK, 12, &m));
	m = (struct gofer_mut){ .dir_id = 42, .name = "p", .name_len = 1, .mode = S_IFIFO | 0600 };
	put("req", "mknod", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_MKNOD, 17, &m));
	m = (struct gofer_mut){ .dir_id = 42, .dir2_id = 43, .ino = 5, .name = "a", .name_len = 1,
				.name2 = "b", .name2_len = 1 };
	put("req", "link", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_LINK, 18, &m));
	m = (struct gofer_mut){ .dir_id = 42, .dir2_id = 43, .name = "a", .name_len = 1, .name2 = "b",
				.name2_len = 1 };
	put("req", "rename", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_RENAME, 13, &m));
	m = (struct gofer_mut){ .dir_id = 42, .name = "a", .name_len = 1 };
	put("req", "unlink", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_UNLINK, 14, &m));
	m = (struct gofer_mut){ .dir_id = 42, .name = "a", .name_len = 1, .flags = GOFER_SA_MODE | GOFER_SA_SIZE,
				.mode = 0600, .size = 10 };
	put("req", "setattr", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_SETATTR, 15, &m));
	m = (struct gofer_mut){ .dir_id = 42, .name = "a", .name_len = 1, .name2 = "user.x", .name2_len = 6,
				.data = (const uint8_t *)"v", .data_len = 1 };
	put("req", "setxattr", -1, b, gofer_req_mut(b, sizeof(b), GOFER_OP_SETXATTR, 16, &m));

	struct stat st = { .st_mode = S_IFDIR | 0755, .st_ino = 5, .st_nlink = 2, .st_size = 4096 };
	put("reply", "ready", GOFER_OP_READY, b, gofer_reply_status(b, sizeof(b), GOFER_OP_READY, 0, 0));
	put("reply", "error", GOFER_OP_WALK, b, gofer_reply_status(b, sizeof(b), GOFER_OP_WALK, 8, -2));
	put("reply", "attach", GOFER_OP_ATTACH, b,
	    gofer_reply_node(b, sizeof(b), GOFER_OP_ATTACH, 7, 1, &st, true));
	st.st_mode = S_IFREG | 0644;
	put("reply", "walk", GOFER_OP_WALK, b, gofer_reply_node(b, sizeof(b), GOFER_OP_WALK, 8, 0, &st, false));
	put("reply", "open", GOFER_OP_OPEN, b, gofer_reply_node(b, sizeof(b), GOFER_OP_OPEN, 10, 0, &st, true));
	return 0;
}
