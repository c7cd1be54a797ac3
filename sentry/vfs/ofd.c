/* SPDX-License-Identifier: MIT */
/* Placeholder fds for directories and the lookup of guest fds (see ofd.h). */
#include "sentry/vfs/ofd.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "platform/platform.h"
#include "sentry/kernel/audit.h"
#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/task.h"

#define OFD_BUCKETS 1024
static struct ofd *ofd_tab[OFD_BUCKETS]; /* by (dev, ino) */
static struct ofd *wd_tab[OFD_BUCKETS];  /* by inotify watch */
static int inofd = -1;
static bool overflowed;
/* Live placeholders, the most there may be (ofd_limit_init) and the opens
 * refused at it. */
static size_t ofd_live;
static size_t ofd_max = OFD_MAX;
static uint64_t ofd_refused;

void ofd_limit_init(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur == RLIM_INFINITY)
		return;
	/* A reserve stays for tmpfs files, gofer directories and pidfds,
	 * so that a guest holding directories makes its own opens fail,
	 * not the sentry's. */
	size_t lim = (size_t)r.rlim_cur, reserve = lim / 16 > 1024 ? lim / 16 : 1024;
	size_t n = lim > reserve ? lim - reserve : 0;
	ofd_max = n < OFD_MIN ? OFD_MIN : n < OFD_MAX ? n : OFD_MAX;
}

static unsigned ofd_bucket(dev_t dev, ino_t ino)
{
	return (unsigned)((ino ^ ((uint64_t)dev * 0x9e3779b97f4a7c15ull)) % OFD_BUCKETS);
}

int ofd_notify_fd(void)
{
	if (inofd < 0)
		inofd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	return inofd < 0 ? neg_errno() : inofd;
}

struct ofd *ofd_find(dev_t dev, ino_t ino)
{
	for (struct ofd *o = ofd_tab[ofd_bucket(dev, ino)]; o; o = o->hnext)
		if (o->ino == ino && o->dev == dev)
			return o;
	return NULL;
}

/* At the limit: first free what the guest closed but the control thread
 * has not seen yet, so a guest that closes as fast as it opens is never
 * refused; then refuse as Linux does when its file table is full. The
 * first refusal is audited at once (a sandbox killed later still has it);
 * the count is told at the end (ofd_limit_report). */
static int ofd_at_limit(void)
{
	if (ofd_live < ofd_max)
		return 0;
	ofd_events();
	if (ofd_live < ofd_max)
		return 0;
	if (ofd_refused++ == 0) {
		struct json_object *f = audit_fields("limit", "open_files", NULL);
		json_object_object_add(f, "max", json_object_new_int64((int64_t)ofd_max));
		json_object_object_add(f, "first", json_object_new_boolean(true));
		audit_event("limit", f);
	}
	return -ENFILE;
}

void ofd_limit_report(void)
{
	if (!ofd_refused)
		return;
	log_warnx("the sandbox reached moat's limit of %zu open directories and O_PATH files: "
		  "%" PRIu64 " open%s refused (ENFILE)",
		  ofd_max, ofd_refused, ofd_refused == 1 ? "" : "s");
	struct json_object *f = audit_fields("limit", "open_files", NULL);
	json_object_object_add(f, "max", json_object_new_int64((int64_t)ofd_max));
	json_object_object_add(f, "refused", json_object_new_int64((int64_t)ofd_refused));
	audit_event("limit", f);
}

/* Placeholder inodes whose guest file is gone, kept for the next directory
 * open: making one (a sealed memfd, two opens through /proc/self/fd, an
 * fstat, an inotify watch) and giving it back (the watch removed, the
 * memfd closed) cost about 30 us of CPU here, most of a directory open,
 * while a spare needs one open for the guest's new file. A spare keeps
 * its watch: the only file left on its inode is the sentry's own, which
 * it never closes while the inode is spare. */
#define OFD_SPARES 32
struct ofd_spare {
	dev_t dev;
	ino_t ino;
	int memfd, wd;
};
static struct ofd_spare spares[OFD_SPARES];
static size_t nspares;
/* /proc/self/fd, opened once: a new file on a memfd is an open of its
 * magic link, and one component is cheaper to walk than four. */
static int self_fds = -1;

/* A new read-only open file description of the memfd held as fd. */
static int ofd_reopen(int fd)
{
	char name[16];
	if (self_fds < 0) {
		self_fds = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (self_fds < 0)
			return neg_errno();
	}
	snprintf(name, sizeof(name), "%d", fd);
	int r = openat(self_fds, name, O_RDONLY | O_CLOEXEC);
	return r < 0 ? neg_errno() : r;
}

/* A fresh placeholder inode: the sentry's read-only reference and its
 * close watch. */
static int ofd_spare_make(struct ofd_spare *ret)
{
	_cleanup_close_ int mfd = memfd_create("moat-dir", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return neg_errno();
	/* Nothing the guest does can give the placeholder content. */
	(void)fcntl(mfd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	/* Ours is read-only, so that a write lease on it tells whether the
	 * guest's is still open (ofd_closed); it is closed only after the
	 * watch is gone. The read-write memfd itself goes away here (its
	 * close is an IN_CLOSE_WRITE, not watched). */
	_cleanup_close_ int ours = ofd_reopen(mfd);
	if (ours < 0)
		return ours;
	struct stat st;
	if (fstat(ours, &st) < 0)
		return neg_errno();
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", ours);
	int wd = inotify_add_watch(inofd, self, IN_CLOSE_NOWRITE);
	if (wd < 0)
		return neg_errno();
	*ret = (struct ofd_spare){ .dev = st.st_dev, .ino = st.st_ino, .memfd = TAKE_FD(ours), .wd = wd };
	return 0;
}

static void ofd_spare_drop(struct ofd_spare *s)
{
	(void)inotify_rm_watch(inofd, s->wd);
	safe_close(s->memfd);
}

int ofd_new(struct vnode *vn, int flags, struct ofd **ret, int *ret_guestfd)
{
	int r = ofd_notify_fd();
	if (r < 0)
		return r;
	if ((r = ofd_at_limit()) < 0)
		return r;
	struct ofd_spare s;
	/* Closes the control thread has not read yet may give a spare
	 * (one read takes them all). */
	if (nspares == 0)
		ofd_events();
	if (nspares > 0)
		s = spares[--nspares];
	else if ((r = ofd_spare_make(&s)) < 0)
		return r;
	/* The guest's own open file description: read-only, so its last
	 * close is an IN_CLOSE_NOWRITE. */
	_cleanup_close_ int guest = ofd_reopen(s.memfd);
	struct ofd *o = guest >= 0 ? calloc(1, sizeof(*o)) : NULL;
	if (!o) {
		r = guest < 0 ? guest : -ENOMEM;
		if (nspares < OFD_SPARES)
			spares[nspares++] = s;
		else
			ofd_spare_drop(&s);
		return r;
	}
	o->dev = s.dev;
	o->ino = s.ino;
	o->vn = vn_ref(vn);
	o->flags = flags;
	o->memfd = s.memfd;
	o->wd = s.wd;
	o->hnext = ofd_tab[ofd_bucket(o->dev, o->ino)];
	ofd_tab[ofd_bucket(o->dev, o->ino)] = o;
	o->wnext = wd_tab[(unsigned)o->wd % OFD_BUCKETS];
	wd_tab[(unsigned)o->wd % OFD_BUCKETS] = o;
	ofd_live++;
	*ret = o;
	*ret_guestfd = TAKE_FD(guest);
	return 0;
}

/* Forget placeholder o, whose guest file is gone. Its inode becomes a
 * spare if spare is set and there is room; else the watch and the memfd
 * go. */
static void ofd_free(struct ofd *o, bool spare)
{
	for (struct ofd **pp = &ofd_tab[ofd_bucket(o->dev, o->ino)]; *pp; pp = &(*pp)->hnext)
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	for (struct ofd **pp = &wd_tab[(unsigned)o->wd % OFD_BUCKETS]; *pp; pp = &(*pp)->wnext)
		if (*pp == o) {
			*pp = o->wnext;
			break;
		}
	struct ofd_spare s = { .dev = o->dev, .ino = o->ino, .memfd = o->memfd, .wd = o->wd };
	if (spare && nspares < OFD_SPARES)
		spares[nspares++] = s;
	else
		ofd_spare_drop(&s);
	dirent_list_free(&o->dents);
	vn_unref(o->vn);
	free(o);
	ofd_live--;
}

/* Has the guest closed its last copy? A write lease is granted only when no
 * other open file description of the inode exists than the one asking
 * (ours, read-only), so this needs no event. */
static bool ofd_closed(const struct ofd *o)
{
	if (fcntl(o->memfd, F_SETLEASE, F_WRLCK) < 0)
		return false; /* EAGAIN: still open (or no leases: keep it) */
	(void)fcntl(o->memfd, F_SETLEASE, F_UNLCK);
	return true;
}

/* The inotify queue overflowed: close events were lost. Look at every live
 * placeholder once. O(live placeholders), at most once per
 * max_queued_events (16384 by default) events, so amortized O(1) each. */
static void ofd_recheck_all(void)
{
	size_t freed = 0;
	for (size_t i = 0; i < OFD_BUCKETS; i++)
		for (struct ofd *o = ofd_tab[i], *next; o; o = next) {
			next = o->hnext;
			/* Not kept as a spare: the close event of the
			 * file may still come, and must not name a
			 * placeholder made on the inode since. */
			if (ofd_closed(o)) {
				ofd_free(o, false);
				freed++;
			}
		}
	log_debug("placeholder events overflowed: %zu closed placeholders found", freed);
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
			if (ev->mask & IN_Q_OVERFLOW) {
				/* After what is still queued, which frees only
				 * what it names. */
				overflowed = true;
				continue;
			}
			if (!(ev->mask & IN_CLOSE_NOWRITE))
				continue;
			for (struct ofd *o = wd_tab[(unsigned)ev->wd % OFD_BUCKETS]; o; o = o->wnext)
				if (o->wd == ev->wd) {
					ofd_free(o, true);
					break;
				}
		}
		if (overflowed) {
			overflowed = false;
			ofd_recheck_all();
		}
	}
}

/* What the sentry knows of a guest file with host identity st. */
static void ofd_identify(const struct stat *st, struct ofd **ret_ofd, struct vnode **ret_vn)
{
	struct ofd *o = NULL;
	struct vnode *vn = NULL;
	if (S_ISREG(st->st_mode)) {
		o = ofd_find(st->st_dev, st->st_ino);
		vn = o ? o->vn : vfs_hostino_lookup(st->st_dev, st->st_ino);
	} else if (S_ISCHR(st->st_mode)) {
		/* devfs's devices, the sandbox's ptys among them: glibc's
		 * ttyname wants fstat and stat of the name to agree. */
		vn = vfs_hostino_lookup(st->st_dev, st->st_ino);
	}
	*ret_ofd = o;
	*ret_vn = vn;
}

int ofd_guest_file(struct task *t, int fd, struct ofd **ret_ofd, struct vnode **ret_vn,
		   struct stat *ret_st, int *ret_file)
{
	/* The ptrace platform's receiving socket is moat's, not the guest's
	 * (procfs does not list it either). */
	if (fd < 0 || (t->proc && ptrace_fd_is_moat(t->proc->tgid, t->tid, fd)))
		return -EBADF;
	struct stat st;
	_cleanup_close_ int f = -1;
	if (t->pidfd >= 0) {
		/* A thread pidfd names this very thread's file table: a copy
		 * of the file and its fstat cost about two thirds of a stat
		 * through /proc/<tid>/fd/<n> (a procfs walk and a magic link),
		 * and getdents needs the copy anyway (its position). */
		f = (int)syscall(SYS_pidfd_getfd, t->pidfd, fd, 0);
		if (f < 0)
			return errno == EBADF ? -EBADF : neg_errno();
		if (fstat(f, &st) < 0)
			return neg_errno();
	} else {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", t->tid, fd);
		/* One stat through the magic link names the guest's open file
		 * itself. */
		if (stat(path, &st) < 0)
			return errno == ENOENT ? -EBADF : neg_errno();
		if (ret_file && (f = task_file_dup(t, fd)) < 0)
			return f;
	}
	ofd_identify(&st, ret_ofd, ret_vn);
	if (ret_st)
		*ret_st = st;
	if (ret_file)
		*ret_file = TAKE_FD(f);
	return 0;
}

int ofd_from_guest(struct task *t, int fd, struct ofd **ret_ofd, struct vnode **ret_vn,
		   struct stat *ret_st)
{
	return ofd_guest_file(t, fd, ret_ofd, ret_vn, ret_st, NULL);
}
