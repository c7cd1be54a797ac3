/* SPDX-License-Identifier: MIT */
/* getdents record packing (syscalls/dirent_pack.h): field layout, padding,
 * the "does not fit" answer, and byte-for-byte agreement with what this
 * kernel's own getdents64 and getdents write for a real directory. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls/dirent_pack.h"
#include "tests/tap.h"

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint16_t get_u16(const unsigned char *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

TEST(dirent64_layout)
{
	unsigned char buf[64];
	memset(buf, 0xaa, sizeof buf);
	size_t rl = dirent64_pack(buf, sizeof buf, 1234, 7, DT_REG, "a");
	ASSERT_EQ(rl, 24); /* 19 + "a" + NUL = 21, aligned to 8 */
	EXPECT_EQ(get_u64(buf), 1234);
	EXPECT_EQ(get_u64(buf + 8), 7);
	EXPECT_EQ(get_u16(buf + 16), 24);
	EXPECT_EQ(buf[18], DT_REG);
	EXPECT_EQ(buf[19], 'a');
	for (size_t i = 20; i < rl; i++)
		EXPECT_EQ(buf[i], 0); /* NUL and padding: no stale bytes */
	EXPECT_EQ(buf[rl], 0xaa);  /* nothing written past the record */
}

TEST(dirent_old_layout)
{
	unsigned char buf[64];
	memset(buf, 0xaa, sizeof buf);
	size_t rl = dirent_old_pack(buf, sizeof buf, 99, 3, DT_DIR, "abcd");
	ASSERT_EQ(rl, 24); /* 18 + 4 + NUL + type = 24 */
	EXPECT_EQ(get_u64(buf), 99);
	EXPECT_EQ(get_u64(buf + 8), 3);
	EXPECT_EQ(get_u16(buf + 16), 24);
	EXPECT_EQ(memcmp(buf + 18, "abcd", 4), 0);
	EXPECT_EQ(buf[22], 0);
	EXPECT_EQ(buf[23], DT_DIR); /* d_type is the record's last byte */
	EXPECT_EQ(buf[24], 0xaa);
}

TEST(dirent_exact_fit)
{
	unsigned char buf[32];
	size_t need = dirent64_reclen(5);
	EXPECT_EQ(dirent64_pack(buf, need, 1, 1, DT_REG, "hello"), need);
	EXPECT_EQ(dirent64_pack(buf, need - 1, 1, 1, DT_REG, "hello"), 0);
	need = dirent_old_reclen(5);
	EXPECT_EQ(dirent_old_pack(buf, need, 1, 1, DT_REG, "hello"), need);
	EXPECT_EQ(dirent_old_pack(buf, need - 1, 1, 1, DT_REG, "hello"), 0);
	EXPECT_EQ(dirent64_pack(buf, 0, 1, 1, DT_REG, "x"), 0);
}

TEST(dirent_long_name)
{
	char name[256];
	memset(name, 'n', 255);
	name[255] = 0;
	EXPECT_EQ(dirent64_reclen(255), 280);
	EXPECT_EQ(dirent_old_reclen(255), 280);
	unsigned char buf[300];
	EXPECT_EQ(dirent64_pack(buf, sizeof buf, 1, 1, DT_REG, name), 280);
	EXPECT_EQ(buf[19 + 255], 0);
}

/* A scratch directory with names of every length class around the 8-byte
 * alignment boundaries. */
static int make_dir(char *tmpl)
{
	if (!mkdtemp(tmpl))
		return -1;
	static const char *const names[] = { "f", "ab", "abcde", "abcdefgh", "abcdefghijklm",
					     "sub", "link" };
	for (size_t i = 0; i < 5; i++) {
		char p[256];
		snprintf(p, sizeof p, "%s/%s", tmpl, names[i]);
		int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	char p[256];
	snprintf(p, sizeof p, "%s/sub", tmpl);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/link", tmpl);
	if (symlink("f", p) < 0)
		return -1;
	return 0;
}

static void rm_dir(const char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* Read the directory with the real syscall into a zeroed buffer, then pack
 * the same entries ourselves: the bytes must be identical. */
static void compare_with_kernel(long nr, bool is64)
{
	char dir[] = "/tmp/moat-dirent-XXXXXX";
	ASSERT_EQ(make_dir(dir), 0);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	static unsigned char kbuf[8192], ours[8192];
	memset(kbuf, 0, sizeof kbuf);
	long n = syscall(nr, fd, kbuf, sizeof kbuf);
	close(fd);
	ASSERT_TRUE(n > 0);
	size_t used = 0;
	for (long off = 0; off < n;) {
		unsigned char *rec = kbuf + off;
		uint16_t rl = get_u16(rec + 16);
		const char *name = (const char *)rec + (is64 ? 19 : 18);
		unsigned char type = is64 ? rec[18] : rec[rl - 1];
		size_t got = is64 ? dirent64_pack(ours + used, sizeof ours - used, get_u64(rec),
						  (int64_t)get_u64(rec + 8), type, name)
				  : dirent_old_pack(ours + used, sizeof ours - used, get_u64(rec),
						    (int64_t)get_u64(rec + 8), type, name);
		EXPECT_EQ(got, rl);
		if (got != rl)
			break;
		used += got;
		off += rl;
	}
	EXPECT_EQ(used, n);
	EXPECT_EQ(memcmp(kbuf, ours, (size_t)n), 0);
	rm_dir(dir);
}

TEST(dirent64_matches_kernel)
{
	compare_with_kernel(SYS_getdents64, true);
}

TEST(dirent_old_matches_kernel)
{
	compare_with_kernel(SYS_getdents, false);
}
