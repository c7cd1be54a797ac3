/* SPDX-License-Identifier: MIT */
/* Guest fds that name sentry objects. The guest never holds an fd of a host
 * directory: a directory it opens is a placeholder, one end of a socketpair
 * whose other end the sentry keeps. The placeholder's inode identifies the
 * open file description (shared across dup and fork exactly like the kernel's),
 * and the sentry learns that the guest closed its last copy when its own end
 * reports EPOLLHUP. Guest fds are looked up with one statx of
 * /proc/<tid>/fd/<n> (see ofd_from_guest). */
#pragma once
#include <stdint.h>
#include <sys/stat.h>
#include "vfs.h"

struct task;

struct ofd {
	uint64_t key;            /* placeholder socket's inode */
	struct vnode *vn;        /* reference */
	int flags;               /* guest open flags */
	int sentry_end;          /* our end of the socketpair */
	struct dirent_list dents;/* getdents snapshot, taken at first read */
	bool dents_valid;
	uint64_t pos;            /* getdents position: index into dents */
	struct ofd *hnext;
};

/* Make a placeholder for vn; *ret_guestfd is the fd to hand the guest (the
 * caller closes its copy after ADDFD). */
int ofd_new(struct vnode *vn, int flags, struct ofd **ret, int *ret_guestfd);
struct ofd *ofd_find(uint64_t key);
void ofd_hangup(int sentry_end);  /* the guest closed its last copy */

/* What guest fd `fd` of task t is, as far as the sentry knows:
 *  - a placeholder: *ret_ofd set (borrowed), *ret_vn = its vnode (borrowed);
 *  - a file moat handed out (gofer file, tmpfs memfd, proc file): *ret_vn set
 *    (borrowed), *ret_ofd NULL;
 *  - anything else (pipe, socket, a file of the guest's own making): both NULL.
 * *ret_st (if non-NULL) gets the host stat of the fd. -EBADF if no such fd. */
int ofd_from_guest(struct task *t, int fd, struct ofd **ret_ofd, struct vnode **ret_vn,
		   struct stat *ret_st);

/* Register the sentry end with the control loop's epoll (sentry.c provides). */
int sentry_watch_hangup(int fd);
