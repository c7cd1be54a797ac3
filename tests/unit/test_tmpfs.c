/* SPDX-License-Identifier: MIT */
/* tmpfs and devfs against their fs_ops interface (no guest, no seccomp):
 * the tree, names, link counts and errnos as the kernel gives them, data
 * through the host fds the filesystem hands out, exec of a tmpfs file,
 * FIFO open semantics, unlinked-file reclamation, and devfs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <pty.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "common/cleanup.h"
#include "sentry/fs/fs.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "sentry/sandbox/console.h"
#include "sentry/vfs/vfs.h"
#include "tests/tap.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

extern char **environ;

static struct cred root_cred; /* all ids 0 */

static struct vnode *t_fs(void)
{
	struct vnode *root = NULL;
	ASSERT_EQ(tmpfs_new(0755, 0, 0, &root), 0);
	ASSERT_TRUE(root != NULL);
	return root;
}

/* A lookup that must succeed; a new reference. */
static struct vnode *t_look(struct vnode *dir, const char *name)
{
	struct vnode *vn = NULL;
	int r = dir->ops->lookup(dir, name, &vn);
	TAP_CHECK(r == 0, 1, "lookup %s: %d", name, r);
	return vn;
}

static int t_look_err(struct vnode *dir, const char *name)
{
	struct vnode *vn = NULL;
	int r = dir->ops->lookup(dir, name, &vn);
	if (r == 0)
		vn_unref(vn);
	return r;
}

static struct vnode *t_create(struct vnode *dir, const char *name, mode_t mode)
{
	struct vnode *vn = NULL;
	int r = dir->ops->create(dir, name, S_IFREG | mode, &root_cred, &vn);
	TAP_CHECK(r == 0, 1, "create %s: %d", name, r);
	return vn;
}

static int t_open(struct vnode *vn, int flags)
{
	int fd = -1;
	int r = vn->ops->open(vn, flags, &fd);
	TAP_CHECK(r == 0, 1, "open: %d", r);
	return fd;
}

static struct stat t_stat(struct vnode *vn)
{
	struct stat st;
	ASSERT_EQ(vn->ops->getattr(vn, &st), 0);
	return st;
}

static void t_write_file(struct vnode *vn, const char *s)
{
	int fd = t_open(vn, O_WRONLY | O_TRUNC);
	ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void t_expect_content(struct vnode *vn, const char *s)
{
	int fd = t_open(vn, O_RDONLY);
	char buf[256] = { 0 };
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_EQ(n, (ssize_t)strlen(s));
	EXPECT_STREQ(buf, s);
}

static double t_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Names of a directory, in readdir order, joined by ','. */
static void t_list(struct vnode *dir, char *out, size_t len)
{
	struct dirent_list l = { 0 };
	ASSERT_EQ(dir->ops->readdir(dir, &l), 0);
	out[0] = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (i)
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, l.ents[i].name, len - strlen(out) - 1);
	}
	dirent_list_free(&l);
}

/* ---- tmpfs ------------------------------------------------------------- */

TEST(create_write_read)
{
	struct vnode *root = t_fs();
	struct cred user = { .fsuid = 1000, .fsgid = 100 };
	struct vnode *f = NULL;
	ASSERT_EQ(root->ops->create(root, "f", S_IFREG | 0640, &user, &f), 0);
	ASSERT_EQ(f->type, VREG);
	EXPECT_STREQ(f->name, "f");
	EXPECT_TRUE(f->parent == root);
	int fd = t_open(f, O_RDWR);
	ASSERT_EQ(write(fd, "hello", 5), 5);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	struct stat st = t_stat(f);
	EXPECT_EQ(st.st_size, 5);
	EXPECT_EQ(st.st_mode, S_IFREG | 0640);
	EXPECT_EQ(st.st_nlink, 1);
	EXPECT_EQ(st.st_uid, 1000);
	EXPECT_EQ(st.st_gid, 100);
	EXPECT_EQ(st.st_ino, f->ino);
	t_expect_content(f, "hello");

	/* The name is there, once; a second create fails. */
	struct vnode *again = t_look(root, "f");
	EXPECT_TRUE(again == f);
	vn_unref(again);
	struct vnode *dup = NULL;
	EXPECT_EQ(root->ops->create(root, "f", S_IFREG | 0644, &root_cred, &dup), -EEXIST);
	EXPECT_EQ(t_look_err(root, "nope"), -ENOENT);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	EXPECT_EQ(t_look_err(root, longname), -ENAMETOOLONG);
	EXPECT_EQ(root->ops->create(root, longname, S_IFREG | 0644, &root_cred, &dup), -ENAMETOOLONG);

	/* Read-only fds are read-only; O_APPEND appends; O_TRUNC truncates. */
	int ro = t_open(f, O_RDONLY);
	EXPECT_EQ(write(ro, "x", 1), -1);
	EXPECT_EQ(errno, EBADF);
	close(ro);
	int ap = t_open(f, O_WRONLY | O_APPEND);
	ASSERT_EQ(write(ap, "!", 1), 1);
	close(ap);
	t_expect_content(f, "hello!");
	close(t_open(f, O_RDONLY | O_TRUNC)); /* the kernel truncates this too */
	EXPECT_EQ(t_stat(f).st_size, 0);

	/* The host inode of the guest's fd maps back to the node. */
	struct stat hs;
	ASSERT_EQ(fstat(fd, &hs), 0);
	EXPECT_TRUE(vfs_hostino_lookup(hs.st_dev, hs.st_ino) == f);
	close(fd);
	vn_unref(f);
}

TEST(dir_times_and_sizes)
{
	struct vnode *root = t_fs();
	struct stat before = t_stat(root);
	EXPECT_EQ(before.st_nlink, 2);
	EXPECT_EQ(before.st_size, 40);
	struct timespec pause = { 0, 2000000 };
	nanosleep(&pause, NULL);
	ASSERT_EQ(root->ops->mkdir(root, "d", 0700, &root_cred), 0);
	struct stat after = t_stat(root);
	EXPECT_EQ(after.st_nlink, 3);
	EXPECT_EQ(after.st_size, 60);
	EXPECT_TRUE(after.st_mtim.tv_sec > before.st_mtim.tv_sec ||
		    after.st_mtim.tv_nsec > before.st_mtim.tv_nsec);
	EXPECT_TRUE(after.st_ctim.tv_nsec == after.st_mtim.tv_nsec);
	struct vnode *d = t_look(root, "d");
	EXPECT_EQ(t_stat(d).st_mode, S_IFDIR | 0700);
	EXPECT_EQ(t_stat(d).st_nlink, 2);
	EXPECT_EQ(root->ops->mkdir(root, "d", 0700, &root_cred), -EEXIST);
	vn_unref(d);
}

TEST(readdir_order_and_types)
{
	struct vnode *root = t_fs();
	vn_unref(t_create(root, "c", 0644));
	ASSERT_EQ(root->ops->mkdir(root, "a", 0755, &root_cred), 0);
	ASSERT_EQ(root->ops->symlink(root, "b", "/x", &root_cred), 0);
	ASSERT_EQ(root->ops->mknod(root, "p", S_IFIFO | 0644, 0, &root_cred), 0);
	ASSERT_EQ(root->ops->mknod(root, "s", S_IFSOCK | 0644, 0, &root_cred), 0);
	struct dirent_list l = { 0 };
	ASSERT_EQ(root->ops->readdir(root, &l), 0);
	ASSERT_EQ(l.n, 5);
	const char *names[] = { "c", "a", "b", "p", "s" };
	const unsigned char types[] = { DT_REG, DT_DIR, DT_LNK, DT_FIFO, DT_SOCK };
	for (size_t i = 0; i < 5; i++) {
		EXPECT_STREQ(l.ents[i].name, names[i]);
		EXPECT_EQ(l.ents[i].type, types[i]);
	}
	dirent_list_free(&l);
	ASSERT_EQ(root->ops->unlink(root, "b"), 0);
	char list[128];
	t_list(root, list, sizeof(list));
	EXPECT_STREQ(list, "c,a,p,s");

	/* A socket node has no host object yet. */
	struct vnode *s = t_look(root, "s");
	int fd;
	EXPECT_EQ(s->ops->open(s, O_RDWR, &fd), -ENXIO);
	EXPECT_EQ(t_stat(s).st_mode, S_IFSOCK | 0644);
	vn_unref(s);
}

TEST(symlink_and_mknod)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->symlink(root, "l", "../some/where", &root_cred), 0);
	struct vnode *l = t_look(root, "l");
	char buf[64];
	ssize_t n = l->ops->readlink(l, buf, sizeof(buf));
	ASSERT_EQ(n, 13);
	buf[n] = 0;
	EXPECT_STREQ(buf, "../some/where");
	EXPECT_EQ(l->ops->readlink(l, buf, 4), 4); /* truncated, as readlink(2) */
	EXPECT_EQ(t_stat(l).st_size, 13);
	EXPECT_EQ(t_stat(l).st_mode, S_IFLNK | 0777);
	int fd;
	EXPECT_EQ(l->ops->open(l, O_RDONLY, &fd), -ELOOP);
	vn_unref(l);
	EXPECT_EQ(root->ops->symlink(root, "l", "x", &root_cred), -EEXIST);
	EXPECT_EQ(root->ops->symlink(root, "e", "", &root_cred), -ENOENT);
	EXPECT_EQ(root->ops->mknod(root, "c", S_IFCHR | 0666, makedev(1, 3), &root_cred), -EPERM);
	EXPECT_EQ(root->ops->mknod(root, "b", S_IFBLK | 0666, makedev(8, 0), &root_cred), -EPERM);
	ASSERT_EQ(root->ops->mknod(root, "r", S_IFREG | 0600, 0, &root_cred), 0);
	struct vnode *r = t_look(root, "r");
	EXPECT_EQ(r->type, VREG);
	t_write_file(r, "regular");
	t_expect_content(r, "regular");
	vn_unref(r);
	struct vnode *f = t_create(root, "f", 0644);
	EXPECT_EQ(root->ops->readlink(f, buf, sizeof(buf)), -EINVAL);
	vn_unref(f);
}

TEST(hard_links)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mkdir(root, "d", 0755, &root_cred), 0);
	struct vnode *d = t_look(root, "d");
	struct vnode *f = t_create(root, "f", 0644);
	ASSERT_EQ(root->ops->link(d, "g", f), 0);
	EXPECT_EQ(t_stat(f).st_nlink, 2);
	struct vnode *g = t_look(d, "g");
	EXPECT_TRUE(g == f); /* one inode, two names */
	vn_unref(g);
	t_write_file(f, "shared");
	int keep = t_open(f, O_RDONLY);

	/* Losing the name the vnode goes by moves it to the other one. */
	ASSERT_EQ(root->ops->unlink(root, "f"), 0);
	EXPECT_EQ(t_stat(f).st_nlink, 1);
	EXPECT_TRUE(!f->unlinked);
	EXPECT_TRUE(f->parent == d);
	EXPECT_STREQ(f->name, "g");
	t_expect_content(f, "shared");
	ASSERT_EQ(root->ops->unlink(d, "g"), 0);
	EXPECT_EQ(t_stat(f).st_nlink, 0);
	EXPECT_TRUE(f->unlinked);
	char buf[16] = { 0 };
	EXPECT_EQ(pread(keep, buf, sizeof(buf), 0), 6);
	EXPECT_STREQ(buf, "shared");

	/* No links to directories, to the unlinked, over names, or out of the fs. */
	EXPECT_EQ(root->ops->link(root, "x", d), -EPERM);
	EXPECT_EQ(root->ops->link(root, "x", f), -ENOENT);
	struct vnode *h = t_create(root, "h", 0644);
	EXPECT_EQ(root->ops->link(root, "d", h), -EEXIST);
	struct vnode *other = t_fs();
	EXPECT_EQ(root->ops->link(other, "h", h), -EXDEV);
	close(keep);
	vn_unref(h);
	vn_unref(f);
	vn_unref(d);
}

TEST(unlink_rmdir_errnos)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mkdir(root, "d", 0755, &root_cred), 0);
	struct vnode *d = t_look(root, "d");
	vn_unref(t_create(d, "f", 0644));
	EXPECT_EQ(root->ops->rmdir(root, "d"), -ENOTEMPTY);
	EXPECT_EQ(root->ops->unlink(root, "d"), -EISDIR);
	EXPECT_EQ(root->ops->rmdir(d, "f"), -ENOTDIR);
	EXPECT_EQ(root->ops->unlink(root, "nope"), -ENOENT);
	EXPECT_EQ(root->ops->rmdir(root, "nope"), -ENOENT);
	ASSERT_EQ(root->ops->unlink(d, "f"), 0);
	EXPECT_EQ(t_stat(root).st_nlink, 3);
	ASSERT_EQ(root->ops->rmdir(root, "d"), 0);
	EXPECT_EQ(t_stat(root).st_nlink, 2);
	EXPECT_TRUE(d->unlinked);
	EXPECT_EQ(t_stat(d).st_nlink, 0);
	/* A removed directory (someone's cwd) takes no new entries. */
	struct vnode *x = NULL;
	EXPECT_EQ(root->ops->create(d, "new", S_IFREG | 0644, &root_cred, &x), -ENOENT);
	EXPECT_EQ(root->ops->mkdir(d, "new", 0755, &root_cred), -ENOENT);
	EXPECT_EQ(t_look_err(root, "d"), -ENOENT);
	vn_unref(d);
}

TEST(unlink_while_open)
{
	struct vnode *root = t_fs();
	struct vnode *f = t_create(root, "f", 0644);
	int fd = t_open(f, O_RDWR);
	ASSERT_EQ(write(fd, "still here", 10), 10);
	ASSERT_EQ(root->ops->unlink(root, "f"), 0);
	EXPECT_TRUE(f->unlinked);
	EXPECT_EQ(t_look_err(root, "f"), -ENOENT);
	/* The data stays readable and writable through the open fd, and
	 * fstat of it still translates to the (unlinked) node. */
	ASSERT_EQ(write(fd, "!", 1), 1);
	char buf[32] = { 0 };
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 11);
	EXPECT_STREQ(buf, "still here!");
	struct stat st = t_stat(f);
	EXPECT_EQ(st.st_nlink, 0);
	EXPECT_EQ(st.st_size, 11);
	struct stat hs;
	ASSERT_EQ(fstat(fd, &hs), 0);
	EXPECT_TRUE(vfs_hostino_lookup(hs.st_dev, hs.st_ino) == f);
	close(fd);
	vn_unref(f);
}

TEST(rename_basic)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mkdir(root, "a", 0755, &root_cred), 0);
	ASSERT_EQ(root->ops->mkdir(root, "b", 0755, &root_cred), 0);
	struct vnode *a = t_look(root, "a"), *b = t_look(root, "b");
	struct vnode *f = t_create(a, "f", 0644);
	t_write_file(f, "moved");
	struct timespec ctime0 = t_stat(f).st_ctim;
	struct timespec pause = { 0, 2000000 };
	nanosleep(&pause, NULL);

	ASSERT_EQ(root->ops->rename(a, "f", b, "g", 0), 0);
	EXPECT_EQ(t_look_err(a, "f"), -ENOENT);
	struct vnode *g = t_look(b, "g");
	EXPECT_TRUE(g == f);
	vn_unref(g);
	EXPECT_TRUE(f->parent == b);
	EXPECT_STREQ(f->name, "g");
	struct stat st = t_stat(f);
	EXPECT_TRUE(st.st_ctim.tv_sec != ctime0.tv_sec || st.st_ctim.tv_nsec != ctime0.tv_nsec);
	t_expect_content(f, "moved");

	/* Over an existing file: the victim loses its name and stays open. */
	struct vnode *v = t_create(b, "victim", 0644);
	t_write_file(v, "old");
	int vfd = t_open(v, O_RDONLY);
	ASSERT_EQ(root->ops->rename(b, "g", b, "victim", 0), 0);
	EXPECT_TRUE(v->unlinked);
	EXPECT_EQ(t_stat(v).st_nlink, 0);
	struct vnode *now = t_look(b, "victim");
	EXPECT_TRUE(now == f);
	vn_unref(now);
	char buf[8] = { 0 };
	EXPECT_EQ(pread(vfd, buf, sizeof(buf), 0), 3);
	close(vfd);
	char list[64];
	t_list(b, list, sizeof(list));
	EXPECT_STREQ(list, "victim");

	/* A directory moving between parents carries its ".." link. */
	ASSERT_EQ(root->ops->mkdir(a, "sub", 0755, &root_cred), 0);
	EXPECT_EQ(t_stat(a).st_nlink, 3);
	ASSERT_EQ(root->ops->rename(a, "sub", b, "sub2", 0), 0);
	EXPECT_EQ(t_stat(a).st_nlink, 2);
	EXPECT_EQ(t_stat(b).st_nlink, 3);
	struct vnode *sub = t_look(b, "sub2");
	EXPECT_TRUE(sub->parent == b);
	EXPECT_STREQ(sub->name, "sub2");

	/* The paths getcwd and /proc show follow. */
	ASSERT_EQ(vfs_mount(vn_ref(root), NULL, 0, "tmpfs", "tmpfs", NULL), 0);
	char path[256];
	ASSERT_TRUE(vfs_path(root, sub, path, sizeof(path), true) > 0);
	EXPECT_STREQ(path, "/b/sub2");
	ASSERT_EQ(root->ops->rename(root, "b", root, "c", 0), 0);
	ASSERT_TRUE(vfs_path(root, sub, path, sizeof(path), true) > 0);
	EXPECT_STREQ(path, "/c/sub2");
	ASSERT_EQ(root->ops->rmdir(b, "sub2"), 0);
	ASSERT_TRUE(vfs_path(root, sub, path, sizeof(path), true) > 0);
	EXPECT_STREQ(path, "/c/sub2 (deleted)");
	vn_unref(sub);
	vn_unref(v);
	vn_unref(f);
	vn_unref(a);
	vn_unref(b);
}

TEST(rename_errnos)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mkdir(root, "d", 0755, &root_cred), 0);
	ASSERT_EQ(root->ops->mkdir(root, "full", 0755, &root_cred), 0);
	ASSERT_EQ(root->ops->mkdir(root, "empty", 0755, &root_cred), 0);
	struct vnode *d = t_look(root, "d"), *full = t_look(root, "full");
	ASSERT_EQ(root->ops->mkdir(d, "child", 0755, &root_cred), 0);
	struct vnode *child = t_look(d, "child");
	vn_unref(t_create(full, "x", 0644));
	vn_unref(t_create(root, "f", 0644));
	vn_unref(t_create(d, "df", 0644));

	EXPECT_EQ(root->ops->rename(root, "nope", root, "x", 0), -ENOENT);
	EXPECT_EQ(root->ops->rename(root, "d", root, "full", 0), -ENOTEMPTY);
	EXPECT_EQ(root->ops->rename(root, "d", root, "f", 0), -ENOTDIR);
	EXPECT_EQ(root->ops->rename(root, "f", root, "empty", 0), -EISDIR);
	EXPECT_EQ(root->ops->rename(root, "d", child, "x", 0), -EINVAL);    /* into itself */
	EXPECT_EQ(root->ops->rename(root, "d", d, "x", 0), -EINVAL);
	EXPECT_EQ(root->ops->rename(d, "df", root, "d", 0), -ENOTEMPTY);    /* over its ancestor */
	EXPECT_EQ(root->ops->rename(d, "df", root, "d", RENAME_EXCHANGE), -EINVAL);
	EXPECT_EQ(root->ops->rename(root, "f", root, "full", RENAME_NOREPLACE), -EEXIST);
	EXPECT_EQ(root->ops->rename(root, "f", root, "none", RENAME_EXCHANGE), -ENOENT);
	EXPECT_EQ(root->ops->rename(root, "f", root, "g", RENAME_EXCHANGE | RENAME_NOREPLACE), -EINVAL);
	EXPECT_EQ(root->ops->rename(root, "f", root, "g", 1u << 7), -EINVAL);
	struct vnode *other = t_fs();
	EXPECT_EQ(root->ops->rename(root, "f", other, "f", 0), -EXDEV);

	/* Onto itself, or between two names of one inode: nothing happens. */
	EXPECT_EQ(root->ops->rename(root, "f", root, "f", 0), 0);
	struct vnode *f = t_look(root, "f");
	ASSERT_EQ(root->ops->link(root, "f2", f), 0);
	EXPECT_EQ(root->ops->rename(root, "f", root, "f2", 0), 0);
	EXPECT_EQ(t_look_err(root, "f"), 0);
	EXPECT_EQ(t_stat(f).st_nlink, 2);
	EXPECT_EQ(t_stat(root).st_nlink, 5); /* nothing above moved a directory */
	vn_unref(f);
	vn_unref(child);
	vn_unref(full);
	vn_unref(d);
}

TEST(rename_over_empty_dir)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mkdir(root, "src", 0755, &root_cred), 0);
	ASSERT_EQ(root->ops->mkdir(root, "dst", 0755, &root_cred), 0);
	struct vnode *src = t_look(root, "src"), *dst = t_look(root, "dst");
	EXPECT_EQ(t_stat(root).st_nlink, 4);
	ASSERT_EQ(root->ops->rename(root, "src", root, "dst", 0), 0);
	EXPECT_EQ(t_stat(root).st_nlink, 3);
	EXPECT_TRUE(dst->unlinked);
	EXPECT_EQ(t_stat(dst).st_nlink, 0);
	EXPECT_STREQ(src->name, "dst");
	struct vnode *now = t_look(root, "dst");
	EXPECT_TRUE(now == src);
	vn_unref(now);
	vn_unref(src);
	vn_unref(dst);
}

TEST(rename_exchange)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mkdir(root, "a", 0755, &root_cred), 0);
	ASSERT_EQ(root->ops->mkdir(root, "b", 0755, &root_cred), 0);
	struct vnode *a = t_look(root, "a"), *b = t_look(root, "b");
	ASSERT_EQ(root->ops->mkdir(a, "dir", 0755, &root_cred), 0);
	struct vnode *dir = t_look(a, "dir");
	struct vnode *file = t_create(b, "file", 0644);
	EXPECT_EQ(t_stat(a).st_nlink, 3);
	EXPECT_EQ(t_stat(b).st_nlink, 2);

	ASSERT_EQ(root->ops->rename(a, "dir", b, "file", RENAME_EXCHANGE), 0);
	struct vnode *x = t_look(a, "dir"), *y = t_look(b, "file");
	EXPECT_TRUE(x == file);
	EXPECT_TRUE(y == dir);
	vn_unref(x);
	vn_unref(y);
	EXPECT_TRUE(dir->parent == b);
	EXPECT_STREQ(dir->name, "file");
	EXPECT_TRUE(file->parent == a);
	EXPECT_STREQ(file->name, "dir");
	EXPECT_EQ(t_stat(a).st_nlink, 2);
	EXPECT_EQ(t_stat(b).st_nlink, 3);
	EXPECT_TRUE(!dir->unlinked && !file->unlinked);

	/* Exchange within a directory keeps readdir positions. */
	vn_unref(t_create(a, "z", 0644));
	ASSERT_EQ(root->ops->rename(a, "dir", a, "z", RENAME_EXCHANGE), 0);
	char list[64];
	t_list(a, list, sizeof(list));
	EXPECT_STREQ(list, "dir,z");
	EXPECT_STREQ(file->name, "z");
	vn_unref(file);
	vn_unref(dir);
	vn_unref(a);
	vn_unref(b);
}

TEST(setattr)
{
	struct vnode *root = t_fs();
	struct vnode *f = t_create(root, "f", 0644);
	struct setattr sa = { .valid = SA_MODE, .mode = 04755 };
	ASSERT_EQ(f->ops->setattr(f, &sa), 0);
	EXPECT_EQ(t_stat(f).st_mode, S_IFREG | 04755);
	/* chown drops set-user-ID. */
	sa = (struct setattr){ .valid = SA_UID | SA_GID, .uid = 5, .gid = 6 };
	ASSERT_EQ(f->ops->setattr(f, &sa), 0);
	struct stat st = t_stat(f);
	EXPECT_EQ(st.st_mode, S_IFREG | 0755);
	EXPECT_EQ(st.st_uid, 5);
	EXPECT_EQ(st.st_gid, 6);

	sa = (struct setattr){ .valid = SA_SIZE, .size = 10000 };
	ASSERT_EQ(f->ops->setattr(f, &sa), 0);
	EXPECT_EQ(t_stat(f).st_size, 10000);
	sa.size = 3;
	ASSERT_EQ(f->ops->setattr(f, &sa), 0);
	EXPECT_EQ(t_stat(f).st_size, 3);
	sa.size = -1;
	EXPECT_EQ(f->ops->setattr(f, &sa), -EINVAL);

	sa = (struct setattr){ .valid = SA_ATIME | SA_MTIME,
			       .atime = { 1000, 1 }, .mtime = { 2000, 2 } };
	ASSERT_EQ(f->ops->setattr(f, &sa), 0);
	st = t_stat(f);
	EXPECT_EQ(st.st_atim.tv_sec, 1000);
	EXPECT_EQ(st.st_atim.tv_nsec, 1);
	EXPECT_EQ(st.st_mtim.tv_sec, 2000);
	EXPECT_EQ(st.st_mtim.tv_nsec, 2);
	EXPECT_TRUE(st.st_ctim.tv_sec > 2000);

	ASSERT_EQ(root->ops->mkdir(root, "d", 0755, &root_cred), 0);
	struct vnode *d = t_look(root, "d");
	sa = (struct setattr){ .valid = SA_SIZE, .size = 0 };
	EXPECT_EQ(d->ops->setattr(d, &sa), -EISDIR);
	sa = (struct setattr){ .valid = SA_MTIME, .mtime = { 3000, 0 } };
	ASSERT_EQ(d->ops->setattr(d, &sa), 0);
	EXPECT_EQ(t_stat(d).st_mtim.tv_sec, 3000);
	vn_unref(d);
	vn_unref(f);
}

TEST(setgid_directory)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mkdir(root, "g", 02775, &root_cred), 0);
	struct vnode *g = t_look(root, "g");
	struct setattr sa = { .valid = SA_GID, .gid = 50 };
	ASSERT_EQ(g->ops->setattr(g, &sa), 0);
	struct cred user = { .fsuid = 1000, .fsgid = 100 };
	struct vnode *f = NULL;
	ASSERT_EQ(g->ops->create(g, "f", S_IFREG | 0644, &user, &f), 0);
	EXPECT_EQ(t_stat(f).st_gid, 50);
	EXPECT_EQ(t_stat(f).st_uid, 1000);
	ASSERT_EQ(g->ops->mkdir(g, "sub", 0755, &user), 0);
	struct vnode *sub = t_look(g, "sub");
	EXPECT_EQ(t_stat(sub).st_gid, 50);
	EXPECT_EQ(t_stat(sub).st_mode, S_IFDIR | 02755);
	/* A set-group-ID executable for a group its creator is not in: the
	 * bit goes (root may). Outside the directory it is the creator's own
	 * group: kept. */
	struct vnode *h = NULL;
	ASSERT_EQ(g->ops->create(g, "h", S_IFREG | 02755, &user, &h), 0);
	EXPECT_EQ(t_stat(h).st_mode, S_IFREG | 0755);
	vn_unref(h);
	ASSERT_EQ(g->ops->create(g, "r", S_IFREG | 02755, &root_cred, &h), 0);
	EXPECT_EQ(t_stat(h).st_mode, S_IFREG | 02755);
	vn_unref(h);
	ASSERT_EQ(root->ops->create(root, "h", S_IFREG | 02755, &user, &h), 0);
	EXPECT_EQ(t_stat(h).st_mode, S_IFREG | 02755);
	EXPECT_EQ(t_stat(h).st_gid, 100);
	vn_unref(h);
	vn_unref(sub);
	vn_unref(f);
	vn_unref(g);
}

/* Copy /bin/true into a tmpfs file and run it from the fd the fs hands out. */
static int t_fexecve_status(int fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { "true", NULL };
		fexecve(fd, argv, environ);
		_exit(errno == ETXTBSY ? 100 : 101);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(exec_tmpfs_file)
{
	struct vnode *root = t_fs();
	struct vnode *f = t_create(root, "true", 0755);
	int in = open("/bin/true", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		SKIP("no /bin/true");
	int out = t_open(f, O_WRONLY);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(write(out, buf, n), n);
	close(in);
	/* While the guest holds it writable, exec is busy (as the kernel). */
	int ro = t_open(f, O_RDONLY);
	EXPECT_EQ(t_fexecve_status(ro), 100);
	close(out);
	/* Then it runs: the filesystem keeps no writable fd of its own. */
	EXPECT_EQ(t_fexecve_status(ro), 0);
	close(ro);
	vn_unref(f);
}

TEST(exec_busy_truncate)
{
	struct vnode *root = t_fs();
	struct vnode *f = t_create(root, "sleep", 0755);
	int in = open("/bin/sleep", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		SKIP("no /bin/sleep");
	int out = t_open(f, O_WRONLY);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(write(out, buf, n), n);
	close(in);
	close(out);
	int ro = t_open(f, O_RDONLY);
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { "sleep", "2", NULL };
		fexecve(ro, argv, environ);
		_exit(101);
	}
	struct timespec pause = { 0, 300000000 };
	nanosleep(&pause, NULL);
	int fd = -1;
	EXPECT_EQ(f->ops->open(f, O_WRONLY, &fd), -ETXTBSY);
	struct setattr sa = { .valid = SA_SIZE, .size = 0 };
	EXPECT_EQ(f->ops->setattr(f, &sa), -ETXTBSY);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(ro);
	vn_unref(f);
}

/* ---- FIFOs ------------------------------------------------------------- */

struct opener {
	struct vnode *vn;
	int flags;
	int r, fd;
	atomic_bool done;
	pthread_t th;
};

static void *opener_main(void *arg)
{
	struct opener *o = arg;
	sentry_lock();
	o->r = o->vn->ops->open(o->vn, o->flags, &o->fd);
	sentry_unlock();
	atomic_store(&o->done, true);
	return NULL;
}

static void opener_start(struct opener *o, struct vnode *vn, int flags)
{
	*o = (struct opener){ .vn = vn, .flags = flags, .fd = -1 };
	ASSERT_EQ(pthread_create(&o->th, NULL, opener_main, o), 0);
}

static void t_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

TEST(fifo_nonblocking)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mknod(root, "p", S_IFIFO | 0644, 0, &root_cred), 0);
	struct vnode *p = t_look(root, "p");
	EXPECT_EQ(t_stat(p).st_mode, S_IFIFO | 0644);
	int fd = -1;
	sentry_lock();
	/* No reader: a non-blocking writer is refused... */
	EXPECT_EQ(p->ops->open(p, O_WRONLY | O_NONBLOCK, &fd), -ENXIO);
	/* ...a non-blocking reader is not, and then a writer is welcome. */
	int rd = -1, wr = -1;
	ASSERT_EQ(p->ops->open(p, O_RDONLY | O_NONBLOCK, &rd), 0);
	ASSERT_EQ(p->ops->open(p, O_WRONLY | O_NONBLOCK, &wr), 0);
	/* O_RDWR never blocks. */
	int rw = -1;
	ASSERT_EQ(p->ops->open(p, O_RDWR, &rw), 0);
	sentry_unlock();
	ASSERT_EQ(write(wr, "ping", 4), 4);
	char buf[8] = { 0 };
	EXPECT_EQ(read(rd, buf, sizeof(buf)), 4);
	EXPECT_STREQ(buf, "ping");
	struct stat hs;
	ASSERT_EQ(fstat(rd, &hs), 0);
	EXPECT_TRUE(S_ISFIFO(hs.st_mode));
	EXPECT_TRUE(vfs_hostino_lookup(hs.st_dev, hs.st_ino) == p);
	close(rd);
	close(wr);
	close(rw);
	vn_unref(p);
}

TEST(fifo_blocking_open_drops_lock)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(root->ops->mknod(root, "p", S_IFIFO | 0600, 0, &root_cred), 0);
	struct vnode *p = t_look(root, "p");
	uint32_t refs = p->refcnt;

	struct opener rd;
	opener_start(&rd, p, O_RDONLY);
	t_msleep(100);
	EXPECT_TRUE(!atomic_load(&rd.done)); /* waits for a writer */
	/* ...without the sentry lock (a deadlock here ends in the timeout),
	 * holding a reference on the node. */
	sentry_lock();
	EXPECT_EQ(p->refcnt, refs + 1);
	sentry_unlock();

	struct opener wr;
	opener_start(&wr, p, O_WRONLY);
	pthread_join(rd.th, NULL);
	pthread_join(wr.th, NULL);
	ASSERT_EQ(rd.r, 0);
	ASSERT_EQ(wr.r, 0);
	EXPECT_EQ(p->refcnt, refs);
	ASSERT_EQ(write(wr.fd, "x", 1), 1);
	char c = 0;
	EXPECT_EQ(read(rd.fd, &c, 1), 1);
	EXPECT_EQ(c, 'x');
	close(rd.fd);
	close(wr.fd);

	/* A blocked writer is released by a non-blocking reader. */
	opener_start(&wr, p, O_WRONLY);
	t_msleep(100);
	EXPECT_TRUE(!atomic_load(&wr.done));
	int nbr = -1;
	sentry_lock();
	ASSERT_EQ(p->ops->open(p, O_RDONLY | O_NONBLOCK, &nbr), 0);
	sentry_unlock();
	pthread_join(wr.th, NULL);
	EXPECT_EQ(wr.r, 0);
	close(wr.fd);
	close(nbr);
	vn_unref(p);
}

/* ---- reclamation, limits, statfs ---------------------------------------- */

static int t_count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *de; d && (de = readdir(d));)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

TEST(unlinked_files_are_reclaimed)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(tmpfs_set_limits(root, 0, 8), 0);
	int fds0 = t_count_fds();
	/* Many more create/unlink rounds than inodes: closed, unlinked files
	 * must give back their inode and their host fd. */
	for (int i = 0; i < 100; i++) {
		struct vnode *f = t_create(root, "tmp", 0600);
		t_write_file(f, "data");
		vn_unref(f);
		ASSERT_EQ(root->ops->unlink(root, "tmp"), 0);
	}
	EXPECT_EQ(t_count_fds(), fds0);

	/* One held open (or mapped) survives until let go. */
	struct vnode *f = t_create(root, "held", 0600);
	t_write_file(f, "keep me");
	int fd = t_open(f, O_RDONLY);
	void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	close(fd);
	ASSERT_EQ(root->ops->unlink(root, "held"), 0);
	/* Held by the sentry (an O_PATH placeholder, say): kept. */
	struct statfs sfs;
	ASSERT_EQ(root->ops->statfs(root, &sfs), 0); /* forces a sweep */
	EXPECT_EQ(t_count_fds(), fds0 + 1);
	struct stat hs;
	ASSERT_EQ(fstat(fd = t_open(f, O_RDONLY), &hs), 0);
	close(fd);
	vn_unref(f);
	/* Held only by the guest's mapping: kept, and fstat still works. */
	ASSERT_EQ(root->ops->statfs(root, &sfs), 0);
	EXPECT_EQ(memcmp(map, "keep me", 7), 0);
	EXPECT_EQ(t_count_fds(), fds0 + 1);
	f = vfs_hostino_lookup(hs.st_dev, hs.st_ino);
	ASSERT_TRUE(f != NULL);
	EXPECT_EQ(t_stat(f).st_size, 7);
	EXPECT_EQ(t_stat(f).st_nlink, 0);
	munmap(map, 4096);
	ASSERT_EQ(root->ops->statfs(root, &sfs), 0);
	EXPECT_EQ(t_count_fds(), fds0);
	int dummy;
	EXPECT_EQ(f->ops->open(f, O_RDONLY, &dummy), -ENOENT);

	/* FIFOs too. */
	for (int i = 0; i < 20; i++) {
		ASSERT_EQ(root->ops->mknod(root, "p", S_IFIFO | 0600, 0, &root_cred), 0);
		ASSERT_EQ(root->ops->unlink(root, "p"), 0);
		EXPECT_EQ(t_count_fds(), fds0);
	}
}

TEST(limits_and_statfs)
{
	struct vnode *root = t_fs();
	ASSERT_EQ(tmpfs_set_limits(root, 1 << 20, 4), 0); /* the root counts */
	vn_unref(t_create(root, "a", 0644));
	ASSERT_EQ(root->ops->mkdir(root, "b", 0755, &root_cred), 0);
	ASSERT_EQ(root->ops->symlink(root, "c", "a", &root_cred), 0);
	struct vnode *x = NULL;
	EXPECT_EQ(root->ops->create(root, "d", S_IFREG | 0644, &root_cred, &x), -ENOSPC);
	EXPECT_EQ(root->ops->mkdir(root, "d", 0755, &root_cred), -ENOSPC);
	ASSERT_EQ(root->ops->unlink(root, "c"), 0);
	ASSERT_EQ(root->ops->mkdir(root, "d", 0755, &root_cred), 0);

	struct vnode *a = t_look(root, "a");
	struct setattr sa = { .valid = SA_SIZE, .size = 2 << 20 };
	EXPECT_EQ(a->ops->setattr(a, &sa), -ENOSPC);
	sa.size = 512 << 10;
	EXPECT_EQ(a->ops->setattr(a, &sa), 0);
	int fd = t_open(a, O_WRONLY);
	char block[4096];
	memset(block, 'x', sizeof(block));
	for (int i = 0; i < 64; i++)
		ASSERT_EQ(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
	close(fd);

	struct statfs st;
	ASSERT_EQ(root->ops->statfs(root, &st), 0);
	EXPECT_EQ(st.f_type, TMPFS_MAGIC);
	EXPECT_EQ(st.f_bsize, 4096);
	EXPECT_EQ(st.f_blocks, 256);
	EXPECT_EQ(st.f_bfree, 256 - 64);
	EXPECT_EQ(st.f_files, 4);
	EXPECT_EQ(st.f_ffree, 0);
	EXPECT_EQ(st.f_namelen, 255);
	vn_unref(a);

	/* Defaults: half of RAM, 65536 inodes. */
	ASSERT_EQ(tmpfs_set_limits(root, 0, 0), 0);
	ASSERT_EQ(root->ops->statfs(root, &st), 0);
	EXPECT_EQ(st.f_files, 65536);
	EXPECT_TRUE(st.f_blocks > 1000);
}

TEST(build_helpers)
{
	struct vnode *root = t_fs();
	struct vnode *usr = NULL, *again = NULL;
	ASSERT_EQ(tmpfs_add_dir(root, "usr", 0755, &usr), 0);
	ASSERT_EQ(tmpfs_add_dir(root, "usr", 0700, &again), 0); /* idempotent */
	EXPECT_TRUE(usr == again);
	vn_unref(again);
	ASSERT_EQ(tmpfs_add_dir(usr, "bin", 0755, NULL), 0);
	ASSERT_EQ(tmpfs_add_symlink(root, "bin", "usr/bin"), 0);
	EXPECT_EQ(tmpfs_add_symlink(root, "bin", "usr/bin"), -EEXIST);
	EXPECT_EQ(tmpfs_add_dir(root, "bin", 0755, NULL), -EEXIST);
	EXPECT_EQ(tmpfs_add_dir(root, "a/b", 0755, NULL), -EINVAL);
	EXPECT_EQ(tmpfs_add_dir(root, "..", 0755, NULL), -EINVAL);
	struct vnode *bin = t_look(root, "bin");
	char buf[32];
	ssize_t n = bin->ops->readlink(bin, buf, sizeof(buf));
	ASSERT_EQ(n, 7);
	buf[n] = 0;
	EXPECT_STREQ(buf, "usr/bin");
	vn_unref(bin);

	/* Nodes made before the mount learn it at lookup. */
	struct mount *m = NULL;
	ASSERT_EQ(vfs_mount(vn_ref(root), NULL, MNT_RDONLY, "none", "tmpfs", &m), 0);
	struct vnode *u = t_look(root, "usr");
	EXPECT_TRUE(u->mnt == m);
	struct stat st;
	ASSERT_EQ(vfs_getattr(u, &st), 0);
	EXPECT_EQ(st.st_dev, m->dev);
	vn_unref(u);
	vn_unref(usr);
	struct statfs sfs;
	ASSERT_EQ(root->ops->statfs(root, &sfs), 0);
	EXPECT_TRUE(sfs.f_flags & ST_RDONLY);
}

TEST(memfd_from_buf_sealed)
{
	const char text[] = "synthesized\n";
	int fd = memfd_from_buf("proc-version", text, sizeof(text) - 1);
	ASSERT_TRUE(fd >= 0);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	char buf[32] = { 0 };
	EXPECT_EQ(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(text) - 1);
	EXPECT_STREQ(buf, text);
	EXPECT_EQ(write(fd, "x", 1), -1);
	EXPECT_EQ(errno, EBADF);
	int seals = fcntl(fd, F_GET_SEALS);
	int want = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
	EXPECT_EQ(seals & want, want);
	/* Even a writable reopen cannot change it. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int w = open(path, O_RDWR | O_CLOEXEC);
	if (w >= 0) {
		EXPECT_EQ(write(w, "x", 1), -1);
		EXPECT_EQ(errno, EPERM);
		close(w);
	}
	close(fd);
	int empty = memfd_from_buf("empty", "", 0);
	ASSERT_TRUE(empty >= 0);
	close(empty);
}

TEST(big_directory)
{
	struct vnode *root = t_fs();
	enum { N = 50000 };
	char name[32];
	double t0 = t_now_us();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "entry-%d", i);
		ASSERT_EQ(root->ops->symlink(root, name, "target", &root_cred), 0);
	}
	double t1 = t_now_us();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "entry-%d", (i * 7919) % N);
		struct vnode *vn = NULL;
		ASSERT_EQ(root->ops->lookup(root, name, &vn), 0);
		vn_unref(vn);
	}
	double t2 = t_now_us();
	EXPECT_EQ(t_look_err(root, "entry-x"), -ENOENT);
	struct dirent_list l = { 0 };
	ASSERT_EQ(root->ops->readdir(root, &l), 0);
	EXPECT_EQ(l.n, N);
	EXPECT_STREQ(l.ents[0].name, "entry-0");
	EXPECT_STREQ(l.ents[N - 1].name, "entry-49999");
	dirent_list_free(&l);
	double t3 = t_now_us();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "entry-%d", i);
		ASSERT_EQ(root->ops->unlink(root, name), 0);
	}
	double t4 = t_now_us();
	printf("# %d entries: symlink %.2f us, lookup %.3f us, unlink %.2f us each\n", N,
	       (t1 - t0) / N, (t2 - t1) / N, (t4 - t3) / N);
	EXPECT_TRUE((t2 - t1) / N < 5.0); /* hashed, not a scan */
	EXPECT_EQ(t_stat(root).st_size, 40);
}

TEST(file_costs)
{
	struct vnode *root = t_fs();
	enum { N = 2000 };
	char name[32];
	struct vnode *keep = NULL;
	double t0 = t_now_us();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		struct vnode *vn = t_create(root, name, 0644);
		if (i == 0)
			keep = vn_ref(vn);
		vn_unref(vn);
	}
	double t1 = t_now_us();
	for (int i = 0; i < N; i++)
		close(t_open(keep, O_RDWR));
	double t2 = t_now_us();
	for (int i = 0; i < N; i++) {
		struct stat st;
		ASSERT_EQ(keep->ops->getattr(keep, &st), 0);
	}
	double t3 = t_now_us();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ASSERT_EQ(root->ops->unlink(root, name), 0);
	}
	double t4 = t_now_us();
	printf("# regular files: create %.1f us, open+close %.1f us, getattr %.2f us, "
	       "unlink+reclaim %.1f us\n",
	       (t1 - t0) / N, (t2 - t1) / N, (t3 - t2) / N, (t4 - t3) / N);
	vn_unref(keep);
}

/* ---- devfs ------------------------------------------------------------- */

TEST(devfs_tree)
{
	struct vnode *dev = NULL;
	ASSERT_EQ(devfs_new(&dev), 0);
	struct { const char *name; unsigned ma, mi; } devs[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
		struct vnode *vn = t_look(dev, devs[i].name);
		struct stat st = t_stat(vn);
		EXPECT_EQ(st.st_mode, S_IFCHR | 0666);
		EXPECT_EQ(major(st.st_rdev), devs[i].ma);
		EXPECT_EQ(minor(st.st_rdev), devs[i].mi);
		EXPECT_EQ(vn->type, VCHR);
		vn_unref(vn);
	}
	struct { const char *name, *target; } links[] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		struct vnode *vn = t_look(dev, links[i].name);
		char buf[64];
		ssize_t n = vn->ops->readlink(vn, buf, sizeof(buf));
		ASSERT_TRUE(n > 0);
		buf[n] = 0;
		EXPECT_STREQ(buf, links[i].target);
		EXPECT_EQ(vn->type, VLNK);
		vn_unref(vn);
	}
	struct vnode *shm = t_look(dev, "shm"), *pts = t_look(dev, "pts");
	EXPECT_EQ(t_stat(shm).st_mode, S_IFDIR | 01777);
	EXPECT_EQ(t_stat(pts).st_mode, S_IFDIR | 0755);
	EXPECT_EQ(t_look_err(shm, "anything"), -ENOENT);
	struct dirent_list l = { 0 };
	ASSERT_EQ(shm->ops->readdir(shm, &l), 0);
	EXPECT_EQ(l.n, 0);
	dirent_list_free(&l);
	vn_unref(shm);
	vn_unref(pts);
	/* No devpts instance: ptmx is there but opens nothing. */
	struct vnode *ptmx = t_look(dev, "ptmx");
	int pfd = -1;
	EXPECT_EQ(t_stat(ptmx).st_rdev, makedev(5, 2));
	EXPECT_EQ(ptmx->ops->open(ptmx, O_RDWR, &pfd), -ENOENT);
	vn_unref(ptmx);
	EXPECT_EQ(t_look_err(dev, "sda"), -ENOENT);
	char list[256];
	t_list(dev, list, sizeof(list));
	EXPECT_STREQ(list, "null,zero,full,random,urandom,tty,ptmx,fd,stdin,stdout,stderr,shm,pts");
	EXPECT_EQ(t_stat(dev).st_mode, S_IFDIR | 0755);
	EXPECT_EQ(t_stat(dev).st_nlink, 4);
	/* Read-only: no mutation operations at all (the VFS says -EROFS). */
	EXPECT_TRUE(!dev->ops->create && !dev->ops->mkdir && !dev->ops->mknod &&
		    !dev->ops->symlink && !dev->ops->link && !dev->ops->unlink &&
		    !dev->ops->rmdir && !dev->ops->rename && !dev->ops->setattr);
	struct statfs sfs;
	ASSERT_EQ(dev->ops->statfs(dev, &sfs), 0);
	EXPECT_EQ(sfs.f_type, TMPFS_MAGIC);
}

TEST(devfs_open)
{
	struct vnode *dev = NULL;
	ASSERT_EQ(devfs_new(&dev), 0);
	struct vnode *null = t_look(dev, "null"), *zero = t_look(dev, "zero"),
		     *full = t_look(dev, "full"), *urandom = t_look(dev, "urandom");
	int fd = t_open(null, O_RDWR);
	EXPECT_EQ(write(fd, "abc", 3), 3);
	char buf[16];
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 0);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	struct stat hs;
	ASSERT_EQ(fstat(fd, &hs), 0);
	EXPECT_TRUE(vfs_hostino_lookup(hs.st_dev, hs.st_ino) == null);
	close(fd);
	fd = t_open(zero, O_RDONLY);
	memset(buf, 1, sizeof(buf));
	EXPECT_EQ(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	EXPECT_EQ(buf[0] | buf[7] | buf[15], 0);
	EXPECT_EQ(write(fd, "x", 1), -1); /* the guest's access mode */
	close(fd);
	fd = t_open(full, O_WRONLY);
	EXPECT_EQ(write(fd, "x", 1), -1);
	EXPECT_EQ(errno, ENOSPC);
	close(fd);
	fd = t_open(urandom, O_RDONLY);
	EXPECT_EQ(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	struct vnode *shm = t_look(dev, "shm"), *in = t_look(dev, "stdin");
	EXPECT_EQ(shm->ops->open(shm, O_RDONLY, &fd), -EISDIR);
	EXPECT_EQ(in->ops->open(in, O_RDONLY, &fd), -ELOOP);
	vn_unref(shm);
	vn_unref(in);
	vn_unref(null);
	vn_unref(zero);
	vn_unref(full);
	vn_unref(urandom);
}

/* ptmx and pts/N are the sandbox's own devpts instance: numbered from 0,
 * listed while they exist, fstat of an fd on a slave is its node's host
 * inode. */
TEST(devfs_ptys)
{
	int mnt = -1;
	int r = console_devpts_new(getuid(), getgid(), 4, &mnt);
	if (r < 0)
		SKIP("no devpts instance: %s", strerror(-r));
	devfs_set_devpts(mnt);
	struct vnode *dev = NULL;
	ASSERT_EQ(devfs_new(&dev), 0);
	struct vnode *ptmx = t_look(dev, "ptmx"), *pts = t_look(dev, "pts");
	EXPECT_EQ(t_look_err(pts, "0"), -ENOENT);
	int master = -1;
	ASSERT_EQ(ptmx->ops->open(ptmx, O_RDWR, &master), 0);
	unsigned idx = 99;
	ASSERT_EQ(ioctl(master, TIOCGPTN, &idx), 0);
	EXPECT_EQ(idx, 0u);
	char list[64];
	t_list(pts, list, sizeof(list));
	EXPECT_STREQ(list, "0");
	EXPECT_EQ(t_look_err(pts, "00"), -ENOENT);
	EXPECT_EQ(t_look_err(pts, "1"), -ENOENT);
	struct vnode *p0 = t_look(pts, "0");
	EXPECT_EQ(t_stat(p0).st_rdev, makedev(136, 0));
	EXPECT_EQ(t_stat(p0).st_mode, S_IFCHR | 0620);
	int unlock = 0, slave = -1;
	ASSERT_EQ(ioctl(master, TIOCSPTLCK, &unlock), 0);
	ASSERT_EQ(p0->ops->open(p0, O_RDWR, &slave), 0);
	struct stat st;
	ASSERT_EQ(fstat(slave, &st), 0);
	EXPECT_TRUE(vfs_hostino_lookup(st.st_dev, st.st_ino) == p0);
	/* The instance's max (4) bounds what the guest can take. */
	int more[4], n = 0;
	for (; n < 4; n++)
		if (ptmx->ops->open(ptmx, O_RDWR, &more[n]) < 0)
			break;
	EXPECT_EQ(n, 3);
	for (int i = 0; i < n; i++)
		close(more[i]);
	close(slave);
	close(master);
	vn_unref(p0);
	vn_unref(pts);
	vn_unref(ptmx);
	devfs_set_devpts(-1);
	close(mnt);
}

/* /dev/tty is the calling guest task's controlling terminal, not the
 * sentry's: a child in its own session with a pty as its terminal. */
TEST(devfs_tty_is_the_guests)
{
	struct vnode *dev = NULL;
	ASSERT_EQ(devfs_new(&dev), 0);
	struct vnode *tty = t_look(dev, "tty");
	int master = -1, slave = -1;
	if (openpty(&master, &slave, NULL, NULL, NULL) < 0)
		SKIP("no ptys: %s", strerror(errno));
	struct stat sst;
	ASSERT_EQ(fstat(slave, &sst), 0);
	int ready[2];
	ASSERT_EQ(pipe(ready), 0);
	pid_t child = fork();
	if (child == 0) {
		setsid();
		if (ioctl(slave, TIOCSCTTY, 0) < 0)
			_exit(1);
		dup2(slave, 0);
		(void)write(ready[1], "r", 1);
		pause();
		_exit(0);
	}
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);

	struct task guest = { .tid = child };
	current = &guest;
	int fd = -1;
	ASSERT_EQ(tty->ops->open(tty, O_RDWR, &fd), 0);
	struct stat st;
	ASSERT_EQ(fstat(fd, &st), 0);
	EXPECT_EQ(st.st_rdev, sst.st_rdev);
	close(fd);

	/* A task without a controlling terminal gets ENXIO. */
	pid_t loner = fork();
	if (loner == 0) {
		setsid();
		(void)write(ready[1], "r", 1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	struct task other = { .tid = loner };
	current = &other;
	EXPECT_EQ(tty->ops->open(tty, O_RDWR, &fd), -ENXIO);
	current = NULL;
	kill(child, SIGKILL);
	kill(loner, SIGKILL);
	waitpid(child, NULL, 0);
	waitpid(loner, NULL, 0);
	vn_unref(tty);
}
