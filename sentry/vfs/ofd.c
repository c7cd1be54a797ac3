/* SPDX-License-Identifier: MIT */
/* Placeholder fds for directories and the lookup of guest fds (see ofd.h). */
#include "sentry/vfs/ofd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "sentry/kernel/task.h"

#define OFD_BUCKETS 1024
static struct ofd *ofd_tab[OFD_BUCKETS]; /* by key */
static struct ofd *wd_tab[OFD_BUCKETS];  /* by inotify watch */
static int inofd = -1;

int ofd_notify_fd(void)
{
	if (inofd < 0)
		inofd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	return inofd < 0 ? neg_errno() : inofd;
}

struct ofd *ofd_find(uint64_t key)
{
	for (struct ofd *o = ofd_tab[key % OFD_BUCKETS]; o; o = o->hnext)
		if (o->key == key)
			return o;
	return NULL;
}

int ofd_new(struct vnode *vn, int flags, struct ofd **ret, int *ret_guestfd)
{
	int r = ofd_notify_fd();
	if (r < 0)
		return r;
	_cleanup_close_ int ours = memfd_create("moat-dir", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (ours < 0)
		return neg_errno();
	/* Nothing the guest does can give the placeholder content. */
	(void)fcntl(ours, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", ours);
	/* The guest's own open file description: read-only, so its last close
	 * is an IN_CLOSE_NOWRITE (ours is read-write and never reports). */
	_cleanup_close_ int guest = open(self, O_RDONLY | O_CLOEXEC);
	if (guest < 0)
		return neg_errno();
	struct stat st;
	if (fstat(ours, &st) < 0)
		return neg_errno();
	int wd = inotify_add_watch(inofd, self, IN_CLOSE_NOWRITE);
	if (wd < 0)
		return neg_errno();
	struct ofd *o = calloc(1, sizeof(*o));
	if (!o) {
		inotify_rm_watch(inofd, wd);
		return -ENOMEM;
	}
	o->key = st.st_ino;
	o->vn = vn_ref(vn);
	o->flags = flags;
	o->memfd = TAKE_FD(ours);
	o->wd = wd;
	o->hnext = ofd_tab[o->key % OFD_BUCKETS];
	ofd_tab[o->key % OFD_BUCKETS] = o;
	o->wnext = wd_tab[(unsigned)wd % OFD_BUCKETS];
	wd_tab[(unsigned)wd % OFD_BUCKETS] = o;
	*ret = o;
	*ret_guestfd = TAKE_FD(guest);
	return 0;
}

static void ofd_free(struct ofd *o)
{
	for (struct ofd **pp = &ofd_tab[o->key % OFD_BUCKETS]; *pp; pp = &(*pp)->hnext)
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	for (struct ofd **pp = &wd_tab[(unsigned)o->wd % OFD_BUCKETS]; *pp; pp = &(*pp)->wnext)
		if (*pp == o) {
			*pp = o->wnext;
			break;
		}
	(void)inotify_rm_watch(inofd, o->wd);
	safe_close(o->memfd);
	dirent_list_free(&o->dents);
	vn_unref(o->vn);
	free(o);
}

void ofd_events(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(inofd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (!(ev->mask & IN_CLOSE_NOWRITE))
				continue;
			for (struct ofd *o = wd_tab[(unsigned)ev->wd % OFD_BUCKETS]; o; o = o->wnext)
				if (o->wd == ev->wd) {
					ofd_free(o);
					break;
				}
		}
	}
}

/* A copy of the guest's open file (same description, same position). */
static int guest_file(struct task *t, int fd)
{
	if (t->pidfd < 0)
		return -ESRCH;
	int f = (int)syscall(SYS_pidfd_getfd, t->pidfd, fd, 0);
	return f < 0 ? (errno == EBADF ? -EBADF : neg_errno()) : f;
}

int ofd_pos_get(struct task *t, int fd, uint64_t *ret)
{
	_cleanup_close_ int f = guest_file(t, fd);
	if (f < 0)
		return f;
	off_t pos = lseek(f, 0, SEEK_CUR);
	if (pos < 0)
		return neg_errno();
	*ret = (uint64_t)pos;
	return 0;
}

int ofd_pos_set(struct task *t, int fd, uint64_t pos)
{
	_cleanup_close_ int f = guest_file(t, fd);
	if (f < 0)
		return f;
	return lseek(f, (off_t)pos, SEEK_SET) < 0 ? neg_errno() : 0;
}

int ofd_from_guest(struct task *t, int fd, struct ofd **ret_ofd, struct vnode **ret_vn,
		   struct stat *ret_st)
{
	if (fd < 0)
		return -EBADF;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", t->tid, fd);
	struct stat st;
	/* One stat through the magic link names the guest's open file itself. */
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -EBADF : neg_errno();
	struct ofd *o = NULL;
	struct vnode *vn = NULL;
	if (S_ISREG(st.st_mode)) {
		o = ofd_find(st.st_ino);
		vn = o ? o->vn : vfs_hostino_lookup(st.st_dev, st.st_ino);
	}
	*ret_ofd = o;
	*ret_vn = vn;
	if (ret_st)
		*ret_st = st;
	return 0;
}
