/* SPDX-License-Identifier: MIT */
/* procfs: fd/ and fdinfo/ (see internal.h for the design). */
#include "sentry/fs/procfs/internal.h"
#include "platform/kfeatures.h"
#include "sentry/kernel/procwatch.h"

/* ---- fds ------------------------------------------------------------------- */

/* What a guest fd is, as far as the sentry knows (see ofd_from_guest). */

int fd_view(const struct pctx *c, struct fdview *ret)
{
	int fd = c->pn->fd;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "fd/%d", fd);
	struct stat lst;
	if (fstatat(c->hdir, path, &lst, AT_SYMLINK_NOFOLLOW) < 0)
		return -ENOENT;
	struct fdview v = { .access = lst.st_mode & (S_IRUSR | S_IWUSR) };
	if (c->task) {
		int r = ofd_from_guest(c->task, fd, &v.ofd, &v.vn, &v.st);
		if (r < 0)
			return r == -EBADF ? -ENOENT : r;
	} else {
		/* A process the sentry has not met yet: the same identification,
		 * through the directory we checked. */
		if (fstatat(c->hdir, path, &v.st, 0) < 0)
			return -ENOENT;
		if (S_ISREG(v.st.st_mode)) {
			v.ofd = ofd_find(v.st.st_dev, v.st.st_ino); /* placeholders are memfds */
			v.vn = v.ofd ? v.ofd->vn : vfs_hostino_lookup(v.st.st_dev, v.st.st_ino);
		}
	}
	if (v.ofd) {
		int acc = v.ofd->flags & O_ACCMODE;
		v.access = (v.ofd->flags & O_PATH) ? 0
			   : acc == O_RDWR	   ? S_IRUSR | S_IWUSR
			   : acc == O_WRONLY	   ? S_IWUSR
						   : S_IRUSR;
	}
	*ret = v;
	return 0;
}

/* Device files a guest may hold from its invoker (a terminal, /dev/null):
 * named by their number, so no host path is shown. */
static bool chardev_name(dev_t rdev, char *buf, size_t len)
{
	unsigned ma = major(rdev), mi = minor(rdev);
	static const char *const mem[] = { [3] = "null", [5] = "zero", [7] = "full",
					   [8] = "random", [9] = "urandom" };
	if (ma >= 136 && ma <= 143)
		snprintf(buf, len, "/dev/pts/%u", (ma - 136) * 256 + mi);
	else if (ma == 1 && mi < ARRAY_SIZE(mem) && mem[mi])
		snprintf(buf, len, "/dev/%s", mem[mi]);
	else if (ma == 5 && mi <= 2)
		snprintf(buf, len, "/dev/%s", mi == 0 ? "tty" : mi == 1 ? "console" : "ptmx");
	else if (ma == 4 && mi < 64)
		snprintf(buf, len, "/dev/tty%u", mi);
	else
		return false;
	return true;
}

/* A duplicate of the guest's fd, for re-opening it (pipes, terminals). */
static int fd_dup_from_guest(const struct pctx *c)
{
	if (c->task) {
		int fd = task_file_dup(c->task, c->pn->fd);
		return fd < 0 ? -ENOENT : fd;
	}
	int pidfd = c->proc ? c->proc->pidfd : -1;
	_cleanup_close_ int own = -1;
	if (pidfd < 0) {
		/* Before Linux 6.9 a thread's files are reached through its
		 * process (they are the same unless it was cloned without
		 * CLONE_FILES). */
		const struct pnode *pn = c->pn;
		bool thread = pn->vtid && kfeature_has(KF_PIDFD_THREAD);
		own = (int)syscall(SYS_pidfd_open, thread ? pn->htid : pn->hpid,
				   thread ? PIDFD_THREAD : 0);
		if (own < 0)
			return -ENOENT;
		/* The pid may have been reused before pidfd_open: our checked
		 * directory still answers only if it is the same process. */
		struct stat st;
		if (fstatat(c->hdir, "stat", &st, 0) < 0)
			return -ENOENT;
		pidfd = own;
	}
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, c->pn->fd, 0);
	return fd < 0 ? -ENOENT : fd;
}

int link_set(struct linkres *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(res->text, sizeof(res->text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(res->text))
		return -ENAMETOOLONG;
	res->len = (size_t)n;
	return 0;
}

int link_set_vnode(struct linkres *res, struct vnode *vn)
{
	struct vnode *root = reader_root();
	ssize_t n = root ? vfs_path(root, vn, res->text, sizeof(res->text), true) : -ENOENT;
	if (n < 0)
		return link_set(res, "%s", UNKNOWN_PATH);
	res->len = (size_t)n;
	res->vn = vn;
	return 0;
}

int link_fd(const struct pctx *c, bool want_target, struct linkres *res)
{
	struct fdview v;
	int r = fd_view(c, &v);
	if (r < 0)
		return r;
	res->magic = true;
	if (v.vn)
		return link_set_vnode(res, v.vn);
	char path[HOSTPATH_MAX], host[PATH_MAX];
	snprintf(path, sizeof(path), "fd/%d", c->pn->fd);
	ssize_t n = readlinkat(c->hdir, path, host, sizeof(host) - 1);
	if (n < 0)
		return -ENOENT;
	host[n] = 0;
	/* Re-opening through the link never grants more than the guest's own
	 * fd has: do_open (sys_open.c) checks the access mode against it. */
	bool reopen = true;
	if (host[0] != '/')
		r = link_set(res, "%s", host); /* pipe:[N], socket:[N], anon_inode:[eventfd] */
	else if (S_ISCHR(v.st.st_mode) && chardev_name(v.st.st_rdev, host, sizeof(host)))
		r = link_set(res, "%s", host);
	else if (!strncmp(host, "/memfd:", 7) && S_ISREG(v.st.st_mode))
		r = link_set(res, "%s", host); /* the guest's own memfd */
	else
		r = link_set(res, "%s", UNKNOWN_PATH);
	if (r == 0 && want_target && reopen) {
		int fd = fd_dup_from_guest(c);
		if (fd < 0)
			return fd;
		res->hostfd = fd;
	}
	return r;
}

static bool fdinfo_line_ok(const char *line, size_t len)
{
	static const char *const keys[] = {
		"pos", "flags", "eventfd-count", "eventfd-id", "eventfd-semaphore", "tfd",
		"sigmask", "clockid", "ticks", "settime flags", "it_value", "it_interval", "lock",
	};
	const char *colon = memchr(line, ':', len);
	for (size_t i = 0; colon && i < ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == (size_t)(colon - line) && !memcmp(keys[i], line, colon - line))
			return true;
	return false;
}

/* fdinfo: the host's text where it is about the guest's own fd (position,
 * flags, eventfd count...); mount ids and inode numbers the sandbox's. */
int gen_fdinfo(const struct pctx *c, struct strbuf *sb)
{
	struct fdview v;
	int r = fd_view(c, &v);
	if (r < 0)
		return r;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "fdinfo/%d", c->pn->fd);
	_cleanup_free_ char *text = NULL;
	if (read_file_at(c->hdir, path, &text, SMALL_MAX) < 0)
		return -ENOENT;
	int mnt = v.vn ? mount_id(v.vn->mnt) : 0;
	if (v.ofd) {
		/* The host would describe the placeholder memfd; its position
		 * is the directory position. */
		long host_flags = 0;
		uint64_t pos = 0;
		size_t n;
		const char *f = kv_get(text, "flags", &n);
		if (f)
			host_flags = strtol(f, NULL, 8);
		const char *p = kv_get(text, "pos", &n);
		if (p)
			pos = strtoull(p, NULL, 10);
		return sb_printf(sb, "pos:\t%" PRIu64 "\nflags:\t0%o\nmnt_id:\t%d\nino:\t%" PRIu64 "\n",
				 pos, (unsigned)((v.ofd->flags & ~O_CLOEXEC) | (host_flags & O_CLOEXEC)),
				 mnt, v.vn->ino);
	}
	for (char *l = text; r == 0 && l && *l;) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
		if (!strncmp(l, "mnt_id:", 7)) {
			r = sb_printf(sb, "mnt_id:\t%d\n", mnt);
		} else if (!strncmp(l, "ino:", 4)) {
			/* A host file's inode number is the host's business; a pipe's
			 * is already in its link text. */
			r = v.vn		     ? sb_printf(sb, "ino:\t%" PRIu64 "\n", v.vn->ino)
			    : S_ISREG(v.st.st_mode) ? sb_puts(sb, "ino:\t0\n")
						     : sb_append(sb, l, len);
		} else if (!strncmp(l, "tfd:", 4)) {
			/* epoll targets: the host inode and device are not the guest's business. */
			const char *ino = memmem(l, len, " ino:", 5);
			size_t keep = ino ? (size_t)(ino - l) : len - (nl ? 1 : 0);
			r = sb_append(sb, l, keep);
			if (r == 0)
				r = sb_puts(sb, "\n");
		} else if (fdinfo_line_ok(l, len)) {
			r = sb_append(sb, l, len);
		}
		l = nl ? nl + 1 : NULL;
	}
	return r;
}
