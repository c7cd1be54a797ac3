/* SPDX-License-Identifier: MIT */
/* Where the sandbox's in-memory files keep their data (fs.h, "tmpfs
 * stores"). A store is a host tmpfs of its own, made with the new mount
 * API and never attached to any mount namespace: fsopen, fsconfig(size),
 * fsmount give a detached mount whose root fd is all there is of it.
 * Each file is an O_TMPFILE in it, so the host kernel itself counts every
 * byte the guest writes through its own fds and answers ENOSPC at the
 * limit, exactly as a tmpfs of that size would, with no write trapped.
 *
 * The root belongs to the sandbox's host uid (0700), so the sentry can
 * still make files there after it has dropped its privileges; nothing
 * else can reach it (it has no path).
 *
 * Its one named directory, "notify", holds inotify stand-ins (notify.c),
 * made when something is first watched.
 *
 * Without a store (fsopen refused, or MOAT_TEST_FORCE_FALLBACK=tmpfs_store)
 * files are memfds: no byte limit on data, as before. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "platform/kfeatures.h"

struct tmpfs_store {
	unsigned refs;
	int root; /* the detached mount's root */
	uint64_t bytes;
	uid_t uid; /* the sandbox's host uid: owner of every file */
	gid_t gid;
	int notify; /* the inotify stand-ins' directory (notify.c), -1 until made */
};

static int fsconfig_str(int fs, const char *key, const char *val)
{
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, val, 0) < 0)
		return neg_errno();
	return 0;
}

int tmpfs_store_new(uint64_t bytes, uid_t uid, gid_t gid, struct tmpfs_store **ret)
{
	*ret = NULL;
	if (!kfeature_has(KF_TMPFS_STORE))
		return 0;
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0) {
		log_debug("tmpfs store: fsopen: %m; files are memfds without a byte limit");
		return 0;
	}
	char size[32], u[16], g[16];
	snprintf(size, sizeof(size), "%" PRIu64, bytes);
	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	snprintf(g, sizeof(g), "%u", (unsigned)gid);
	int r;
	/* nr_inodes=0: no inode limit of the host's; the sentry counts
	 * inodes itself (every file it makes here is one it tracks). */
	if ((r = fsconfig_str(fs, "size", size)) < 0 || (r = fsconfig_str(fs, "nr_inodes", "0")) < 0 ||
	    (r = fsconfig_str(fs, "mode", "0700")) < 0 || (r = fsconfig_str(fs, "uid", u)) < 0 ||
	    (r = fsconfig_str(fs, "gid", g)) < 0)
		return log_error_errno(r, "tmpfs store: configure");
	/* Huge pages for files big enough to fill them: a 1 MiB read from
	 * small pages costs twice what ext4's large folios do (measured: 60
	 * vs 31 us); with them the same. A kernel without THP refuses the
	 * option, and small pages do. */
	(void)fsconfig_str(fs, "huge", "within_size");
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return log_error_errno(neg_errno(), "tmpfs store: create");
	int root = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
				MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME);
	if (root < 0)
		return log_error_errno(neg_errno(), "tmpfs store: mount");
	struct tmpfs_store *s = calloc(1, sizeof(*s));
	if (!s) {
		close(root);
		return -ENOMEM;
	}
	*s = (struct tmpfs_store){
		.refs = 1, .root = root, .bytes = bytes, .uid = uid, .gid = gid, .notify = -1
	};
	*ret = s;
	return 0;
}

struct tmpfs_store *tmpfs_store_ref(struct tmpfs_store *s)
{
	if (s)
		s->refs++;
	return s;
}

void tmpfs_store_unref(struct tmpfs_store *s)
{
	if (!s || --s->refs)
		return;
	close(s->root);
	safe_close(s->notify);
	free(s);
}

int tmpfs_store_file(struct tmpfs_store *s)
{
	/* 0700 as a memfd is 0777: the guest (the same host uid) may exec
	 * it; permissions inside are the sentry's, on its own node. */
	_cleanup_close_ int fd = openat(s->root, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0700);
	if (fd < 0)
		return neg_errno();
	/* Made during setup, while the sentry is still root (the identity
	 * files): the sentry must reopen it once it runs as the host uid. */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return neg_errno();
	if (st.st_uid != s->uid && fchown(fd, s->uid, s->gid) < 0)
		return neg_errno();
	return TAKE_FD(fd);
}

int tmpfs_store_usage(struct tmpfs_store *s, uint64_t *ret_total, uint64_t *ret_free)
{
	struct statfs st;
	if (fstatfs(s->root, &st) < 0)
		return neg_errno();
	*ret_total = (uint64_t)st.f_blocks * (uint64_t)st.f_bsize;
	*ret_free = (uint64_t)st.f_bfree * (uint64_t)st.f_bsize;
	return 0;
}

int tmpfs_store_notify_dir(struct tmpfs_store *s)
{
	if (s->notify >= 0)
		return s->notify;
	/* Made after the sentry dropped its privileges: it belongs to the
	 * sandbox's host uid, as the store's root does. */
	if (mkdirat(s->root, "notify", 0700) < 0 && errno != EEXIST)
		return neg_errno();
	int fd = openat(s->root, "notify", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	s->notify = fd;
	return fd;
}
