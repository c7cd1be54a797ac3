/* SPDX-License-Identifier: MIT */
/* The VFS's tables are bounded and keyed right (issue 6): the dentry cache
 * and the host-inode map evict, placeholders are found by device and inode. */
#include "tests/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/ofd.h"
#include "sentry/vfs/vfs.h"

static int releases;
static void t_release(struct vnode *vn)
{
	(void)vn;
	releases++;
}
static const struct fs_ops t_ops = { .name = "test", .release = t_release, .cache_lookups = true };

static struct vnode *t_vnode(enum vtype type, struct vnode *parent, const char *name)
{
	struct vnode *vn = vn_alloc(&t_ops, NULL, type, 0, parent, name);
	ASSERT_TRUE(vn != NULL);
	return vn;
}

TEST(placeholder_keyed_on_device_and_inode)
{
	struct vnode *dir = t_vnode(VDIR, NULL, "/");
	struct ofd *o;
	int gfd;
	ASSERT_EQ(ofd_new(dir, O_RDONLY | O_DIRECTORY, &o, &gfd), 0);
	struct stat st;
	ASSERT_EQ(fstat(gfd, &st), 0);
	EXPECT_TRUE(ofd_find(st.st_dev, st.st_ino) == o);
	/* Another filesystem's file with the same inode number is not it. */
	EXPECT_TRUE(ofd_find(makedev(major(st.st_dev) + 1, minor(st.st_dev)), st.st_ino) == NULL);
	EXPECT_TRUE(ofd_find(st.st_dev, st.st_ino + 1) == NULL);
	/* The guest's last close gives it back. */
	close(gfd);
	ofd_events();
	EXPECT_TRUE(ofd_find(st.st_dev, st.st_ino) == NULL);
	vn_unref(dir);
}

/* A closed placeholder's inode is kept for the next directory open: the
 * new placeholder has that identity and its own vnode, a second close
 * frees it again, and placeholders open at once never share an inode. */
TEST(placeholder_inode_reused_after_close)
{
	struct vnode *a = t_vnode(VDIR, NULL, "a"), *b = t_vnode(VDIR, NULL, "b");
	struct ofd *o;
	int gfd;
	ASSERT_EQ(ofd_new(a, O_RDONLY | O_DIRECTORY, &o, &gfd), 0);
	struct stat first;
	ASSERT_EQ(fstat(gfd, &first), 0);
	close(gfd);
	ofd_events();
	EXPECT_TRUE(ofd_find(first.st_dev, first.st_ino) == NULL);
	ASSERT_EQ(ofd_new(b, O_RDONLY | O_DIRECTORY, &o, &gfd), 0);
	struct stat again;
	ASSERT_EQ(fstat(gfd, &again), 0);
	EXPECT_TRUE(again.st_dev == first.st_dev && again.st_ino == first.st_ino);
	EXPECT_TRUE(ofd_find(again.st_dev, again.st_ino) == o && o->vn == b);
	struct ofd *o2;
	int gfd2;
	ASSERT_EQ(ofd_new(a, O_RDONLY | O_DIRECTORY, &o2, &gfd2), 0);
	struct stat other;
	ASSERT_EQ(fstat(gfd2, &other), 0);
	EXPECT_TRUE(other.st_ino != again.st_ino);
	/* The second placeholder's close frees only it. */
	close(gfd2);
	ofd_events();
	EXPECT_TRUE(ofd_find(again.st_dev, again.st_ino) == o);
	EXPECT_TRUE(ofd_find(other.st_dev, other.st_ino) == NULL);
	close(gfd);
	ofd_events();
	EXPECT_TRUE(ofd_find(again.st_dev, again.st_ino) == NULL);
	vn_unref(a);
	vn_unref(b);
}

TEST(dcache_negative_entries_are_capped)
{
	struct vnode *dir = t_vnode(VDIR, NULL, "/");
	char name[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "missing-%d", i);
		ASSERT_EQ(dcache_insert(dir, name, NULL), 0);
	}
	size_t pos, neg;
	dcache_stats(&pos, &neg);
	EXPECT_TRUE(neg > 0 && neg <= 4096);
	/* The newest are remembered, the oldest forgotten. */
	bool negative;
	EXPECT_TRUE(dcache_lookup(dir, "missing-99999", &negative) == NULL && negative);
	EXPECT_TRUE(dcache_lookup(dir, "missing-0", &negative) == NULL && !negative);
	dcache_remove_children(dir);
	dcache_stats(&pos, &neg);
	EXPECT_EQ(neg, 0);
	vn_unref(dir);
}

TEST(dcache_evicts_only_unused_vnodes)
{
	struct vnode *dir = t_vnode(VDIR, NULL, "/");
	/* One child the "guest" keeps (a cwd, an open placeholder). */
	struct vnode *kept = t_vnode(VREG, dir, "kept");
	ASSERT_EQ(dcache_insert(dir, "kept", kept), 0);
	char name[32];
	releases = 0;
	for (int i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		struct vnode *c = t_vnode(VREG, dir, name);
		ASSERT_EQ(dcache_insert(dir, name, c), 0);
		vn_unref(c); /* the cache holds the only reference now */
	}
	size_t pos, neg;
	dcache_stats(&pos, &neg);
	EXPECT_TRUE(pos <= 8192 + 1);
	EXPECT_TRUE(releases >= 50000 - 8192); /* evicted vnodes were released */
	bool negative;
	struct vnode *v = dcache_lookup(dir, "kept", &negative);
	EXPECT_TRUE(v == kept); /* in use: never evicted */
	vn_unref(v);
	vn_unref(kept);
	dcache_remove_children(dir);
	vn_unref(dir);
}

TEST(hostino_cache_is_capped)
{
	struct vnode *dir = t_vnode(VDIR, NULL, "/");
	struct vnode *fixed = t_vnode(VREG, dir, "fixed");
	vfs_hostino_add(makedev(7, 7), 1, fixed); /* a bounded filesystem's: kept */
	for (ino_t i = 0; i < 20000; i++) {
		struct vnode *c = t_vnode(VREG, dir, "f");
		vfs_hostino_cache(makedev(8, 8), 100 + i, c);
		vn_unref(c);
	}
	EXPECT_TRUE(vfs_hostino_count() <= 4096 + 1);
	EXPECT_TRUE(vfs_hostino_lookup(makedev(7, 7), 1) == fixed);
	EXPECT_TRUE(vfs_hostino_lookup(makedev(8, 8), 100 + 19999) != NULL);
	EXPECT_TRUE(vfs_hostino_lookup(makedev(8, 8), 100) == NULL);
	vn_unref(fixed);
	vn_unref(dir);
}
