/* SPDX-License-Identifier: MIT */
/* Path walk over a tmpfs tree with a second mount: "..", symlinks (relative,
 * absolute, loops, dangling), mount crossing both ways, RESOLVE_* flags, and
 * that nothing walks out of the task's root. */
#include <errno.h>
#include <string.h>

#include "sentry/fs/fs.h"
#include "sentry/vfs/namei.h"
#include "sentry/vfs/vfs.h"
#include "tests/tap.h"

static struct vnode *root, *sub; /* sub: the root of a tmpfs mounted at /mnt */

/* Tree:
 *   /a/b/c          dir
 *   /a/up -> ..     symlink
 *   /a/abs -> /a/b  symlink
 *   /loop -> loop   symlink
 *   /dangling -> nowhere
 *   /esc -> ../../../../a
 *   /mnt            mountpoint -> tmpfs with /x and /x/back -> ../..
 */
static void setup(void)
{
	struct vnode *a, *b, *c, *mp, *x;
	ASSERT_EQ(tmpfs_new(0755, 0, 0, &root), 0);
	ASSERT_EQ(vfs_mount(root, NULL, 0, "t", "tmpfs", NULL), 0);
	ASSERT_EQ(tmpfs_add_dir(root, "a", 0755, &a), 0);
	ASSERT_EQ(tmpfs_add_dir(a, "b", 0755, &b), 0);
	ASSERT_EQ(tmpfs_add_dir(b, "c", 0755, &c), 0);
	ASSERT_EQ(tmpfs_add_symlink(a, "up", ".."), 0);
	ASSERT_EQ(tmpfs_add_symlink(a, "abs", "/a/b"), 0);
	ASSERT_EQ(tmpfs_add_symlink(root, "loop", "loop"), 0);
	ASSERT_EQ(tmpfs_add_symlink(root, "dangling", "nowhere"), 0);
	ASSERT_EQ(tmpfs_add_symlink(root, "esc", "../../../../a"), 0);
	ASSERT_EQ(tmpfs_add_dir(root, "mnt", 0755, &mp), 0);
	ASSERT_EQ(tmpfs_new(0755, 0, 0, &sub), 0);
	ASSERT_EQ(vfs_mount(sub, mp, 0, "s", "tmpfs", NULL), 0);
	ASSERT_EQ(tmpfs_add_dir(sub, "x", 0755, &x), 0);
	ASSERT_EQ(tmpfs_add_symlink(x, "back", "../.."), 0);
}

/* Resolve and return the result's path, or the error as "E<n>". */
static const char *walk(struct vnode *start, const char *path, unsigned flags)
{
	static char buf[4096 + 1 + 256]; /* a path, "|" and a last component */
	struct nameidata nd;
	int r = namei_at(root, start, path, flags, &nd);
	if (r < 0) {
		snprintf(buf, sizeof(buf), "E%d", -r);
		return buf;
	}
	if (flags & LOOKUP_PARENT) {
		char p[4096];
		vfs_path(root, nd.dir, p, sizeof(p), false);
		snprintf(buf, sizeof(buf), "%s|%s", p, nd.last);
	} else {
		vfs_path(root, nd.vn, buf, sizeof(buf), false);
	}
	nd_release(&nd);
	return buf;
}

#define F LOOKUP_FOLLOW

TEST(plain_and_dotdot)
{
	setup();
	EXPECT_STREQ(walk(root, "/a/b/c", F), "/a/b/c");
	EXPECT_STREQ(walk(root, "a/b/../b/./c/", F), "/a/b/c");
	EXPECT_STREQ(walk(root, "/..", F), "/");
	EXPECT_STREQ(walk(root, "/../../a/../../a", F), "/a");
	EXPECT_STREQ(walk(root, "//a///b", F), "/a/b");
	EXPECT_STREQ(walk(root, "/nope", F), "E2");
	EXPECT_STREQ(walk(root, "/a/b/c/nope/x", F), "E2");
	EXPECT_STREQ(walk(root, "", F), "E2");
}

TEST(symlinks)
{
	setup();
	EXPECT_STREQ(walk(root, "/a/up/a/b", F), "/a/b");
	EXPECT_STREQ(walk(root, "/a/abs/c", F), "/a/b/c");
	EXPECT_STREQ(walk(root, "/a/abs", 0), "/a/abs");
	EXPECT_STREQ(walk(root, "/a/abs/", 0), "/a/b");     /* trailing slash follows */
	EXPECT_STREQ(walk(root, "/loop", F), "E40");        /* ELOOP */
	EXPECT_STREQ(walk(root, "/dangling", F), "E2");
	EXPECT_STREQ(walk(root, "/dangling", 0), "/dangling");
	EXPECT_STREQ(walk(root, "/esc/b", F), "/a/b");      /* clamped at the root */
	EXPECT_STREQ(walk(root, "/a/abs/c", F | LOOKUP_NO_SYMLINKS), "E40");
}

TEST(mounts)
{
	setup();
	EXPECT_STREQ(walk(root, "/mnt/x", F), "/mnt/x");
	EXPECT_STREQ(walk(root, "/mnt/x/../..", F), "/");
	EXPECT_STREQ(walk(root, "/mnt/x/back/a", F), "/a");
	EXPECT_STREQ(walk(root, "/mnt/x", F | LOOKUP_NO_XDEV), "E18");
	/* RESOLVE_NO_XDEV refuses ".." out of a mount and an absolute
	 * symlink's jump to another mount's root, as the kernel does. */
	EXPECT_STREQ(walk(sub, "x/..", F | LOOKUP_NO_XDEV), "/mnt");
	EXPECT_STREQ(walk(sub, "x/../..", F | LOOKUP_NO_XDEV), "E18");
	EXPECT_STREQ(walk(sub, "x/back", F | LOOKUP_NO_XDEV), "E18");
	ASSERT_EQ(tmpfs_add_symlink(sub, "abs", "/a"), 0);
	EXPECT_STREQ(walk(sub, "abs", F | LOOKUP_NO_XDEV), "E18");
	EXPECT_STREQ(walk(sub, "/a", F | LOOKUP_NO_XDEV), "/a");
}

TEST(parent_mode)
{
	setup();
	EXPECT_STREQ(walk(root, "/a/b/new", LOOKUP_PARENT), "/a/b|new");
	EXPECT_STREQ(walk(root, "/a/abs/new", LOOKUP_PARENT), "/a/b|new");
	EXPECT_STREQ(walk(root, "/", LOOKUP_PARENT), "/|");
	EXPECT_STREQ(walk(root, "/nope/new", LOOKUP_PARENT), "E2");
}

TEST(beneath_and_in_root)
{
	setup();
	struct nameidata nd;
	ASSERT_EQ(namei_at(root, root, "/a", F, &nd), 0);
	struct vnode *a = vn_ref(nd.vn);
	nd_release(&nd);
	EXPECT_STREQ(walk(a, "b/c", F | LOOKUP_BENEATH), "/a/b/c");
	EXPECT_STREQ(walk(a, "../a", F | LOOKUP_BENEATH), "E18");
	uint32_t refs = root->refcnt;
	EXPECT_STREQ(walk(a, "/a", F | LOOKUP_BENEATH), "E18");
	EXPECT_EQ(root->refcnt, refs); /* the refused walk keeps no reference */
	EXPECT_STREQ(walk(a, "abs", F | LOOKUP_BENEATH), "E18");
	/* IN_ROOT: a is the root, so "/b" is a/b and ".." stays in a. */
	EXPECT_STREQ(walk(a, "/b/../../b", F | LOOKUP_IN_ROOT), "/a/b");
	vn_unref(a);
}

TEST(not_a_directory)
{
	setup();
	struct vnode *f;
	ASSERT_EQ(root->ops->create(root, "file", S_IFREG | 0644, NULL, &f), 0);
	vn_unref(f);
	EXPECT_STREQ(walk(root, "/file/x", F), "E20");
	EXPECT_STREQ(walk(root, "/file/", F), "E20");
	EXPECT_STREQ(walk(root, "/file", F | LOOKUP_DIRECTORY), "E20");
	EXPECT_STREQ(walk(root, "/file", F), "/file");
}
