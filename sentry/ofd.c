/* SPDX-License-Identifier: MIT */
/* Placeholder fds for directories and the lookup of guest fds (see ofd.h). */
#include "ofd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "task.h"

#define OFD_BUCKETS 1024
static struct ofd *ofd_tab[OFD_BUCKETS];
/* Our socket ends are small fd numbers: index them directly for hangups. */
static struct ofd **by_end;
static size_t by_end_cap;

static int by_end_set(int end, struct ofd *o)
{
	if ((size_t)end >= by_end_cap) {
		size_t cap = by_end_cap ? by_end_cap : 256;
		while (cap <= (size_t)end)
			cap *= 2;
		struct ofd **n = realloc(by_end, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = by_end_cap; i < cap; i++)
			n[i] = NULL;
		by_end = n;
		by_end_cap = cap;
	}
	by_end[end] = o;
	return 0;
}

static struct ofd *ofd_by_end_find(int end)
{
	return end >= 0 && (size_t)end < by_end_cap ? by_end[end] : NULL;
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
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return neg_errno();
	_cleanup_close_ int guest = sv[0], ours = sv[1];
	/* Reads on the guest's end see EOF at once; nothing it writes is kept. */
	(void)shutdown(ours, SHUT_WR);
	struct stat st;
	if (fstat(guest, &st) < 0)
		return neg_errno();
	struct ofd *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	int r = by_end_set(ours, o);
	if (r < 0 || (r = sentry_watch_hangup(ours)) < 0) {
		(void)by_end_set(ours, NULL);
		free(o);
		return r;
	}
	o->key = st.st_ino;
	o->vn = vn_ref(vn);
	o->flags = flags;
	o->sentry_end = TAKE_FD(ours);
	o->hnext = ofd_tab[o->key % OFD_BUCKETS];
	ofd_tab[o->key % OFD_BUCKETS] = o;
	*ret = o;
	*ret_guestfd = TAKE_FD(guest);
	return 0;
}

void ofd_hangup(int sentry_end)
{
	struct ofd *o = ofd_by_end_find(sentry_end);
	if (!o)
		return;
	for (struct ofd **pp = &ofd_tab[o->key % OFD_BUCKETS]; *pp; pp = &(*pp)->hnext)
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	(void)by_end_set(o->sentry_end, NULL);
	safe_close(o->sentry_end);
	dirent_list_free(&o->dents);
	vn_unref(o->vn);
	free(o);
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
	if (S_ISSOCK(st.st_mode)) {
		o = ofd_find(st.st_ino);
		vn = o ? o->vn : NULL;
	} else if (S_ISREG(st.st_mode)) {
		vn = vfs_hostino_lookup(st.st_dev, st.st_ino);
	}
	*ret_ofd = o;
	*ret_vn = vn;
	if (ret_st)
		*ret_st = st;
	return 0;
}
