/* SPDX-License-Identifier: MIT */
/* Guest fds that name sentry objects. The guest never holds an fd of a host
 * directory: a directory it opens is a placeholder, a read-only open of an
 * empty memfd the sentry made. Its inode identifies the placeholder; its file
 * position is the directory position (so lseek, rewinddir, telldir and
 * seekdir run natively and are shared across dup and fork exactly like the
 * kernel's f_pos); and an inotify IN_CLOSE_NOWRITE watch on it tells the
 * sentry that the guest closed its last copy. If the inotify queue overflows
 * and close events are lost, every live placeholder is checked with a write
 * lease on the sentry's own read-only copy (granted only once the guest's
 * is gone), so none leaks. A placeholder the guest closed leaves its inode
 * (and watch) as a spare for the next directory open. Guest fds are looked
 * up with a pidfd_getfd copy and its fstat (before Linux 6.9, one stat of
 * /proc/<tid>/fd/<n>; see ofd_guest_file). */
#pragma once
#include <stdint.h>
#include <sys/stat.h>
#include "sentry/vfs/vfs.h"

struct task;

struct ofd {
	dev_t dev;               /* placeholder memfd's device and inode: */
	ino_t ino;               /* the key (an inode number alone is not unique) */
	struct vnode *vn;        /* reference */
	int flags;               /* guest open flags */
	int memfd;               /* the sentry's own reference to the inode (read-only) */
	int wd;                  /* inotify watch */
	struct dirent_list dents;/* getdents snapshot, taken at position 0 */
	bool dents_valid;
	struct ofd *hnext, *wnext;
};

/* Live placeholders per sandbox, at most: each holds a sentry fd, an inotify
 * watch and a memfd inode in the host kernel (about 1.5 KiB there, charged
 * to the sentry, not to the guest's memory limit), so without a cap a guest
 * with many processes could grow them up to the sentry's RLIMIT_NOFILE
 * (up to 2^20) or its uid's inotify watches. The cap is OFD_MAX or the
 * sentry's RLIMIT_NOFILE less a reserve (a sixteenth, at least 1024),
 * whichever is lower (not below OFD_MIN). Beyond
 * it, opening a directory (or anything with O_PATH) fails with ENFILE, as
 * Linux's open does when its file table is full. */
#define OFD_MAX 65536
#define OFD_MIN 256
/* Set the cap from the sentry's RLIMIT_NOFILE: once, before the sentry
 * confines itself (getrlimit is not in its allowlist). */
void ofd_limit_init(void);

/* Make a placeholder for vn; *ret_guestfd is the fd to hand the guest (the
 * caller closes its copy after ADDFD). -ENFILE at OFD_MAX. */
int ofd_new(struct vnode *vn, int flags, struct ofd **ret, int *ret_guestfd);
/* At the sandbox's end: a line and an audit record if OFD_MAX refused any
 * open. */
void ofd_limit_report(void);
struct ofd *ofd_find(dev_t dev, ino_t ino);
/* The inotify fd of the close watches; ofd_events() reads it: the control
 * thread, at most DIRCLOSE_DELAY_MS (sentry.c) after the first close it
 * sees, so that a burst of closes costs one wake-up; ofd_new when no spare
 * inode is left; the limit (ofd_at_limit) before refusing an open. */
int ofd_notify_fd(void);
void ofd_events(void);

/* What guest fd `fd` of task t is, as far as the sentry knows:
 *  - a placeholder: *ret_ofd set (borrowed), *ret_vn = its vnode (borrowed);
 *  - a file moat handed out (gofer file, tmpfs memfd, proc file): *ret_vn set
 *    (borrowed), *ret_ofd NULL;
 *  - anything else (pipe, socket, a file of the guest's own making): both NULL.
 * *ret_st (if non-NULL) gets the host stat of the fd. -EBADF if no such fd. */
int ofd_from_guest(struct task *t, int fd, struct ofd **ret_ofd, struct vnode **ret_vn,
		   struct stat *ret_st);
/* The same, and *ret_file a copy of the guest's file (the same open file
 * description: for a placeholder, its position is the directory
 * position), which the caller closes. */
int ofd_guest_file(struct task *t, int fd, struct ofd **ret_ofd, struct vnode **ret_vn,
		   struct stat *ret_st, int *ret_file);
