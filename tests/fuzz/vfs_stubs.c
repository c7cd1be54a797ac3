/* SPDX-License-Identifier: MIT */
/* What the VFS harnesses (fuzz_namei.c) link instead of the rest of the
 * sentry: the VFS, tmpfs and the overlay reach the gofer filesystem, the
 * guest's fd table and inotify only through these, and a harness without
 * a gofer, a guest or watches must never get there: each aborts, so that
 * a walk reaching one is a crash the fuzzer reports. */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sentry/fs/fs.h"
#include "sentry/fs/notify.h"
#include "sentry/vfs/ofd.h"

/* No vnode here is a gofer upper layer's. */
bool gofer_fs_is_upper(const struct vnode *vn) { return false; }
int gofer_fs_upper_lookup(struct vnode *dir, const char *name, struct vnode **ret) { abort(); }
int gofer_fs_mkwhiteout(struct vnode *dir, const char *name) { abort(); }
bool gofer_fs_is_whiteout(const struct vnode *vn) { abort(); }
int gofer_fs_set_opaque(struct vnode *dir, bool opaque) { abort(); }
bool gofer_fs_is_opaque(const struct vnode *dir) { abort(); }
struct vnode *gofer_fs_shadow(const struct vnode *vn) { abort(); }
void gofer_fs_set_shadow(struct vnode *vn, struct vnode *shadow) { abort(); }
int gofer_fs_set_ino(struct vnode *vn, uint64_t ino) { abort(); }
int gofer_fs_rmdir(struct vnode *dir, const char *name) { abort(); }

int ofd_from_guest(struct task *t, int fd, struct ofd **ret_ofd, struct vnode **ret_vn,
		   struct stat *ret_st)
{
	abort();
}

int vnotify_reopen(struct vnode *vn, int hostfd, int flags) { abort(); }
void vnotify_free(struct vnode *vn) { abort(); }
