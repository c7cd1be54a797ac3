/* SPDX-License-Identifier: MIT */
/* The overlay (sentry/fs/overlay.c) against its fs_ops interface, over a
 * lower tree that is a tmpfs in a detached, read-only mount (no gofer, no
 * guest): lookups through both layers, copy-up keeping data, mode, owner,
 * times and the inode number, whiteouts, opaque directories, the merged
 * listing and its stable positions, rename rules, host permissions. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/fs/fs.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/namei.h"
#include "sentry/vfs/vfs.h"
#include "tests/tap.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static struct cred root_cred; /* all ids 0 */

struct t_layers {
	struct vnode *lower; /* lower root (owned by its mount) */
	struct vnode *root;  /* overlay root (owned by its mount) */
};

static void t_write(struct vnode *vn, const char *s)
{
	int fd = -1;
	ASSERT_EQ(vn->ops->open(vn, O_WRONLY | O_TRUNC, &fd), 0);
	ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void t_lower_file(struct vnode *dir, const char *name, const char *content, mode_t mode)
{
	struct vnode *vn = NULL;
	ASSERT_EQ(dir->ops->create(dir, name, S_IFREG | mode, NULL, &vn), 0);
	t_write(vn, content);
	vn_unref(vn);
}

/* lower: /d/{a,b,c} files, /d/sub/x, /f (0640, uid 7, times 1000/2000),
 * /l -> f, /e (empty dir). */
static struct t_layers t_setup(unsigned lower_flags)
{
	struct t_layers t = { 0 };
	ASSERT_EQ(tmpfs_new(0755, 0, 0, &t.lower), 0);
	struct vnode *d = NULL, *sub = NULL;
	ASSERT_EQ(tmpfs_add_dir(t.lower, "d", 0755, &d), 0);
	t_lower_file(d, "a", "lower-a", 0644);
	t_lower_file(d, "b", "lower-b", 0644);
	t_lower_file(d, "c", "lower-c", 0644);
	ASSERT_EQ(tmpfs_add_dir(d, "sub", 0755, &sub), 0);
	t_lower_file(sub, "x", "x", 0644);
	vn_unref(sub);
	vn_unref(d);
	ASSERT_EQ(tmpfs_add_dir(t.lower, "e", 0755, NULL), 0);
	t_lower_file(t.lower, "f", "lower-f", 0640);
	struct vnode *f = NULL;
	ASSERT_EQ(t.lower->ops->lookup(t.lower, "f", &f), 0);
	struct setattr sa = { .valid = SA_UID | SA_GID | SA_ATIME | SA_MTIME, .uid = 7, .gid = 8,
			      .atime = { 1000, 0 }, .mtime = { 2000, 0 } };
	ASSERT_EQ(f->ops->setattr(f, &sa), 0);
	vn_unref(f);
	ASSERT_EQ(tmpfs_add_symlink(t.lower, "l", "f"), 0);
	ASSERT_EQ(vfs_mount(t.lower, NULL, MNT_RDONLY | MNT_DETACHED | lower_flags, "lower", "tmpfs", NULL), 0);
	ASSERT_EQ(overlay_new(t.lower, &t.root), 0);
	ASSERT_EQ(vfs_mount(t.root, NULL, MNT_NODEV | MNT_NOSUID, "overlay", "overlay", NULL), 0);
	return t;
}

/* A path from the overlay root; NULL if it does not resolve. */
static struct vnode *t_get(struct t_layers *t, const char *path)
{
	struct nameidata nd;
	if (namei_at(t->root, t->root, path, 0, &nd) < 0)
		return NULL;
	struct vnode *vn = vn_ref(nd.vn);
	nd_release(&nd);
	return vn;
}

static struct vnode *t_lower_get(struct t_layers *t, const char *path)
{
	struct nameidata nd;
	if (namei_at(t->lower, t->lower, path, 0, &nd) < 0)
		return NULL;
	struct vnode *vn = vn_ref(nd.vn);
	nd_release(&nd);
	return vn;
}

static void t_content(struct vnode *vn, const char *want)
{
	int fd = -1;
	ASSERT_EQ(vn->ops->open(vn, O_RDONLY, &fd), 0);
	char buf[256] = { 0 };
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_TRUE(n >= 0);
	EXPECT_STREQ(buf, want);
}

/* Names and positions of a listing, "name@pos,...". */
static void t_list(struct vnode *dir, char *out, size_t len, bool with_pos)
{
	struct dirent_list l = { 0 };
	ASSERT_EQ(dir->ops->readdir(dir, &l), 0);
	out[0] = 0;
	for (size_t i = 0; i < l.n; i++) {
		char item[300];
		snprintf(item, sizeof(item), "%s%s", i ? "," : "", l.ents[i].name);
		if (with_pos)
			snprintf(item + strlen(item), sizeof(item) - strlen(item), "@%llu",
				 (unsigned long long)l.ents[i].off);
		strncat(out, item, len - strlen(out) - 1);
	}
	dirent_list_free(&l);
}

TEST(lookup_through_both_layers)
{
	struct t_layers t = t_setup(0);
	struct vnode *a = t_get(&t, "/d/a");
	ASSERT_TRUE(a != NULL);
	t_content(a, "lower-a");
	EXPECT_TRUE(t_get(&t, "/d/nope") == NULL);
	struct vnode *l = t_get(&t, "/l");
	ASSERT_TRUE(l && l->type == VLNK);
	char buf[16] = { 0 };
	EXPECT_EQ(l->ops->readlink(l, buf, sizeof(buf)), 1);
	EXPECT_STREQ(buf, "f");
	/* One vnode per object while it is in use. */
	struct vnode *a2 = t_get(&t, "/d/a");
	EXPECT_TRUE(a2 == a);
	vn_unref(a2);
	vn_unref(a);
	vn_unref(l);
}

TEST(copy_up_keeps_data_mode_owner_times_ino)
{
	struct t_layers t = t_setup(0);
	struct vnode *f = t_get(&t, "/f");
	ASSERT_TRUE(f != NULL);
	struct stat before;
	ASSERT_EQ(vfs_getattr(f, &before), 0);
	int fd = -1;
	ASSERT_EQ(f->ops->open(f, O_RDWR, &fd), 0); /* copies up */
	ASSERT_EQ(lseek(fd, 0, SEEK_END), 7);
	ASSERT_EQ(write(fd, "+", 1), 1);
	close(fd);
	struct stat after;
	ASSERT_EQ(vfs_getattr(f, &after), 0);
	EXPECT_EQ(after.st_ino, before.st_ino);
	EXPECT_EQ(after.st_dev, before.st_dev);
	EXPECT_EQ(after.st_mode, before.st_mode);
	EXPECT_EQ(after.st_uid, 7);
	EXPECT_EQ(after.st_gid, 8);
	EXPECT_EQ(after.st_size, 8);
	t_content(f, "lower-f+");
	/* The lower file is untouched. */
	struct vnode *lf = t_lower_get(&t, "/f");
	t_content(lf, "lower-f");
	/* A new lookup gives the copy, same number. */
	vn_unref(f);
	f = t_get(&t, "/f");
	struct stat again;
	ASSERT_EQ(vfs_getattr(f, &again), 0);
	EXPECT_EQ(again.st_ino, before.st_ino);
	/* Times came along (before the write changed mtime). */
	struct vnode *g = t_get(&t, "/d/b");
	struct setattr sa = { .valid = SA_MODE, .mode = S_IFREG | 0600 };
	struct stat gb;
	ASSERT_EQ(vfs_getattr(g, &gb), 0);
	ASSERT_EQ(g->ops->setattr(g, &sa), 0);
	struct stat ga;
	ASSERT_EQ(vfs_getattr(g, &ga), 0);
	EXPECT_EQ(ga.st_mode & 07777, 0600);
	EXPECT_EQ(ga.st_mtim.tv_sec, gb.st_mtim.tv_sec);
	EXPECT_EQ(ga.st_ino, gb.st_ino);
	t_content(g, "lower-b");
	vn_unref(g);
	vn_unref(f);
	vn_unref(lf);
}

TEST(large_copy_up_through_the_work_directory)
{
	struct t_layers t = t_setup(0);
	/* A lower file of 3 MiB + 5 bytes, every byte telling its offset. */
	enum { SIZE = 3 * 1024 * 1024 + 5 };
	static unsigned char data[SIZE];
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i * 7 + i / 4096);
	struct vnode *big = NULL;
	ASSERT_EQ(t.lower->ops->create(t.lower, "big", S_IFREG | 0751, NULL, &big), 0);
	int fd = -1;
	ASSERT_EQ(big->ops->open(big, O_WRONLY, &fd), 0);
	ASSERT_EQ(write(fd, data, SIZE), SIZE);
	close(fd);
	vn_unref(big);
	big = t_get(&t, "/big");
	struct stat before, after;
	ASSERT_EQ(vfs_getattr(big, &before), 0);
	struct setattr sa = { .valid = SA_UID, .uid = 42 };
	ASSERT_EQ(big->ops->setattr(big, &sa), 0);
	ASSERT_EQ(vfs_getattr(big, &after), 0);
	EXPECT_EQ(after.st_ino, before.st_ino);
	EXPECT_EQ(after.st_size, SIZE);
	EXPECT_EQ(after.st_uid, 42);
	EXPECT_EQ(after.st_mode & 07777, 0751);
	static unsigned char back[SIZE + 1];
	ASSERT_EQ(big->ops->open(big, O_RDONLY, &fd), 0);
	ssize_t n = 0, k;
	while ((k = read(fd, back + n, sizeof(back) - (size_t)n)) > 0)
		n += k;
	close(fd);
	ASSERT_EQ(n, SIZE);
	EXPECT_TRUE(memcmp(back, data, SIZE) == 0);
	/* Nothing is left in sight but the file itself. */
	char list[256];
	t_list(t.root, list, sizeof(list), false);
	EXPECT_STREQ(list, "d,e,f,l,big");
	vn_unref(big);
}

TEST(truncating_open_copies_no_data)
{
	struct t_layers t = t_setup(0);
	struct vnode *a = t_get(&t, "/d/a");
	int fd = -1;
	ASSERT_EQ(a->ops->open(a, O_WRONLY | O_TRUNC, &fd), 0);
	close(fd);
	struct stat st;
	ASSERT_EQ(vfs_getattr(a, &st), 0);
	EXPECT_EQ(st.st_size, 0);
	struct vnode *la = t_lower_get(&t, "/d/a");
	t_content(la, "lower-a");
	vn_unref(la);
	vn_unref(a);
}

TEST(whiteouts_and_listing)
{
	struct t_layers t = t_setup(0);
	struct vnode *d = t_get(&t, "/d");
	char list[512];
	t_list(d, list, sizeof(list), true);
	EXPECT_STREQ(list, "a@3,b@4,c@5,sub@6");
	ASSERT_EQ(d->ops->unlink(d, "b"), 0);
	EXPECT_TRUE(t_get(&t, "/d/b") == NULL);
	struct vnode *n = NULL;
	ASSERT_EQ(d->ops->create(d, "new", S_IFREG | 0644, &root_cred, &n), 0);
	vn_unref(n);
	/* b gone, a and c keep their places, new comes after all lower ones. */
	t_list(d, list, sizeof(list), false);
	EXPECT_STREQ(list, "a,c,sub,new");
	/* b again: where b was (a copy keeps its lower place). */
	ASSERT_EQ(d->ops->create(d, "b", S_IFREG | 0644, &root_cred, &n), 0);
	struct stat st;
	ASSERT_EQ(vfs_getattr(n, &st), 0);
	EXPECT_TRUE(st.st_ino & (1ULL << 63)); /* an upper-only object's number */
	vn_unref(n);
	t_list(d, list, sizeof(list), true);
	EXPECT_TRUE(strncmp(list, "a@3,b@4,c@5,sub@6,new@", 22) == 0);
	/* The lower directory still has everything. */
	struct vnode *ld = t_lower_get(&t, "/d");
	t_list(ld, list, sizeof(list), false);
	EXPECT_STREQ(list, "a,b,c,sub");
	vn_unref(ld);
	vn_unref(d);
}

TEST(rmdir_then_mkdir_is_opaque)
{
	struct t_layers t = t_setup(0);
	struct vnode *d = t_get(&t, "/d"), *sub = t_get(&t, "/d/sub");
	EXPECT_EQ(t.root->ops->rmdir(t.root, "d"), -ENOTEMPTY);
	ASSERT_EQ(sub->ops->unlink(sub, "x"), 0);
	vn_unref(sub);
	ASSERT_EQ(d->ops->rmdir(d, "sub"), 0);
	for (const char *n = "abc"; *n; n++) {
		char nm[2] = { *n, 0 };
		ASSERT_EQ(d->ops->unlink(d, nm), 0);
	}
	ASSERT_EQ(t.root->ops->rmdir(t.root, "d"), 0);
	EXPECT_TRUE(d->unlinked);
	vn_unref(d);
	EXPECT_TRUE(t_get(&t, "/d") == NULL);
	char list[256];
	t_list(t.root, list, sizeof(list), false);
	EXPECT_STREQ(list, "e,f,l");
	ASSERT_EQ(t.root->ops->mkdir(t.root, "d", 0700, &root_cred), 0);
	d = t_get(&t, "/d");
	ASSERT_TRUE(d != NULL);
	t_list(d, list, sizeof(list), false);
	EXPECT_STREQ(list, "");
	EXPECT_TRUE(t_get(&t, "/d/a") == NULL);
	vn_unref(d);
}

TEST(rename_rules)
{
	struct t_layers t = t_setup(0);
	struct vnode *d = t_get(&t, "/d");
	struct stat a0;
	struct vnode *a = t_get(&t, "/d/a");
	ASSERT_EQ(vfs_getattr(a, &a0), 0);
	vn_unref(a);
	/* A lower file moves (copied up), its old name is whited out, and it
	 * keeps its number. */
	ASSERT_EQ(d->ops->rename(d, "a", t.root, "a2", 0), 0);
	EXPECT_TRUE(t_get(&t, "/d/a") == NULL);
	a = t_get(&t, "/a2");
	ASSERT_TRUE(a != NULL);
	struct stat a1;
	ASSERT_EQ(vfs_getattr(a, &a1), 0);
	EXPECT_EQ(a1.st_ino, a0.st_ino);
	t_content(a, "lower-a");
	vn_unref(a);
	/* Over a lower file. */
	ASSERT_EQ(t.root->ops->rename(t.root, "a2", d, "c", 0), 0);
	struct vnode *c = t_get(&t, "/d/c");
	t_content(c, "lower-a");
	vn_unref(c);
	/* Directories with a lower part do not move; upper-only ones do. */
	EXPECT_EQ(t.root->ops->rename(t.root, "d", t.root, "d2", 0), -EXDEV);
	EXPECT_EQ(t.root->ops->rename(t.root, "e", t.root, "e2", 0), -EXDEV);
	ASSERT_EQ(t.root->ops->mkdir(t.root, "u", 0755, &root_cred), 0);
	struct vnode *u = t_get(&t, "/u");
	ASSERT_EQ(t.root->ops->rename(t.root, "u", d, "u2", 0), 0);
	EXPECT_STREQ(u->name, "u2");
	EXPECT_TRUE(u->parent == d);
	/* Back over the name of a removed lower directory (a whiteout). */
	ASSERT_EQ(t.root->ops->rmdir(t.root, "e"), 0);
	ASSERT_EQ(d->ops->rename(d, "u2", t.root, "e", 0), 0);
	struct vnode *e = t_get(&t, "/e");
	EXPECT_TRUE(e == u);
	vn_unref(e);
	vn_unref(u);
	/* Exchange of two files across layers. */
	ASSERT_EQ(t.root->ops->rename(t.root, "f", d, "b", RENAME_EXCHANGE), 0);
	struct vnode *f = t_get(&t, "/f"), *b = t_get(&t, "/d/b");
	t_content(f, "lower-b");
	t_content(b, "lower-f");
	vn_unref(f);
	vn_unref(b);
	vn_unref(d);
}

TEST(link_copies_up)
{
	struct t_layers t = t_setup(0);
	struct vnode *f = t_get(&t, "/f");
	ASSERT_EQ(t.root->ops->link(t.root, "g", f), 0);
	struct vnode *g = t_get(&t, "/g");
	struct stat sf, sg;
	ASSERT_EQ(vfs_getattr(f, &sf), 0);
	ASSERT_EQ(vfs_getattr(g, &sg), 0);
	EXPECT_EQ(sf.st_ino, sg.st_ino);
	EXPECT_EQ(sg.st_nlink, 2);
	ASSERT_EQ(t.root->ops->unlink(t.root, "f"), 0);
	ASSERT_EQ(vfs_getattr(g, &sg), 0);
	EXPECT_EQ(sg.st_nlink, 1);
	EXPECT_TRUE(t_get(&t, "/f") == NULL);
	vn_unref(f);
	vn_unref(g);
}

TEST(host_permissions_follow_the_lower_file)
{
	struct t_layers t = t_setup(MNT_HOSTPERM);
	struct vnode *f = t_get(&t, "/f"); /* 0640: no "other" bits */
	EXPECT_EQ(vfs_permission(f, &root_cred, R_OK), -EACCES);
	struct setattr sa = { .valid = SA_MODE, .mode = S_IFREG | 0644 };
	/* Not copied: the sentry reads host system files as "other" (by the
	 * kernel's rule, or by the overlay's own where it holds DAC
	 * capabilities, as this test's root does). */
	EXPECT_EQ(f->ops->setattr(f, &sa), -EACCES);
	EXPECT_EQ(vfs_permission(f, &root_cred, R_OK), -EACCES);
	EXPECT_EQ(vfs_permission(f, &root_cred, W_OK), 0);
	/* The guest's own files are its own. */
	struct vnode *n = NULL;
	ASSERT_EQ(t.root->ops->create(t.root, "mine", S_IFREG | 0600, &root_cred, &n), 0);
	EXPECT_EQ(vfs_permission(n, &root_cred, R_OK | W_OK), 0);
	struct vnode *a = t_get(&t, "/d/a"); /* 0644 */
	EXPECT_EQ(vfs_permission(a, &root_cred, R_OK), 0);
	vn_unref(a);
	vn_unref(n);
	vn_unref(f);
}

TEST(statfs_is_the_overlays)
{
	struct t_layers t = t_setup(0);
	struct statfs st;
	ASSERT_EQ(t.root->ops->statfs(t.root, &st), 0);
	EXPECT_EQ(st.f_type, OVERLAYFS_SUPER_MAGIC);
	EXPECT_TRUE(st.f_blocks > st.f_bfree); /* the lower layer counts as used */
}


