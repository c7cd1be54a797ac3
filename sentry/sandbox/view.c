/* SPDX-License-Identifier: MIT */
/* The sandbox's filesystem view: which host directories the gofer exports
 * (the embedded default: the host's system directories with /etc's secrets
 * masked, or a whole --rootfs; plus --bind sources), and the sentry's mount
 * tree built over them. The host's part is a read-only tree: for the
 * default view an in-memory root holding the mountpoints and symlinks with
 * a gofer mount per system directory, for --rootfs one gofer mount. By
 * default that tree is the lower layer of an overlay (sentry/fs/overlay.c),
 * in mounts of its own that only the overlay reaches, and the overlay is
 * the root: the guest writes anywhere, in memory. With --read-only the tree
 * itself is the root. On top: /tmp, /root, /dev, /dev/shm, /proc, --tmpfs
 * and --bind mounts, and the sandbox's own /etc/hosts, hostname,
 * resolv.conf and machine-id mounted over the host's. */
#include "sentry/sandbox/view.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/fs/fs.h"
#include "sentry/vfs/namei.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/unixaddr.h"
#include "sentry/vfs/vfs.h"


static int exports_add(struct exports *e, const char *host, bool rw, const char *const *masks)
{
	struct gofer_export *n = realloc(e->v, (e->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	e->v = n;
	struct gofer_export *x = &e->v[e->n];
	*x = (struct gofer_export){ .host_path = strdup(host), .rw = rw };
	if (!x->host_path)
		return -ENOMEM;
	size_t nm = 0;
	while (masks && masks[nm])
		nm++;
	x->masks = calloc(nm + 1, sizeof(char *));
	if (!x->masks)
		return -ENOMEM;
	for (size_t i = 0; i < nm; i++)
		x->masks[i] = (char *)masks[i];
	x->nmasks = nm;
	return (int)e->n++;
}

/* Masks relative to an export: etc masks apply under "etc" of a rootfs and
 * directly to an /etc export. For a whole host root, the host's own
 * /proc, /sys and /dev are never served (moat mounts its own). */
static const char **masks_for(const char *prefix, bool whole_root)
{
	size_t n = 0;
	while (etc_masks[n])
		n++;
	const char **m = calloc(n + 4, sizeof(char *));
	if (!m)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (prefix) {
			char *s;
			if (asprintf(&s, "%s/%s", prefix, etc_masks[i]) < 0)
				return NULL;
			m[k++] = s;
		} else {
			m[k++] = etc_masks[i];
		}
	}
	if (whole_root) {
		m[k++] = "proc";
		m[k++] = "sys";
		m[k++] = "dev";
	}
	return m;
}

/* Is DIR the host's own root (whatever spelling)? */
static bool rootfs_is_host(const char *dir)
{
	struct stat a, b;
	return stat(dir, &a) == 0 && stat("/", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int mount_gofer(struct gofer_client *gc, int idx, const struct gofer_export *x,
		       struct vnode *mp, unsigned flags, const char *src, const char *const *allow)
{
	struct vnode *root;
	int r = gofer_fs_new(gc, (uint32_t)idx, (const char *const *)x->masks, x->nmasks, &root);
	if (r < 0)
		return r;
	if (allow && (r = gofer_fs_set_allow(root, allow)) < 0) {
		vn_unref(root);
		return r;
	}
	r = vfs_mount(root, mp, flags, src, "gofer", NULL);
	if (r < 0)
		vn_unref(root);
	return r;
}

/* A --bind, mounted above whatever the root is (the overlay included, which
 * so sees it as a mount of its own): read-only, or rw with its owner. */
static int mount_bind(struct gofer_client *gc, int idx, const struct mount_spec *m, struct vnode *mp)
{
	struct vnode *root;
	int r = gofer_fs_new(gc, (uint32_t)idx, NULL, 0, &root);
	if (r < 0)
		return r;
	if (!m->ro && (r = gofer_fs_set_owner(root, m->owner_uid, m->owner_gid)) < 0) {
		vn_unref(root);
		return r;
	}
	unsigned flags = MNT_NOSUID | MNT_NODEV | (m->ro ? MNT_RDONLY : 0);
	r = vfs_mount(root, mp, flags, m->src, "gofer", NULL);
	if (r < 0)
		vn_unref(root);
	return r;
}

/* size: a store of its own of that many bytes; 0: the sandbox's disk. */
static int mount_new_tmpfs(struct vnode *mp, mode_t mode, unsigned flags, const char *src,
			   uint64_t size)
{
	struct vnode *root;
	int r = tmpfs_new(mode, 0, 0, &root);
	if (r < 0)
		return r;
	if (size) {
		struct tmpfs_store *st = NULL;
		r = tmpfs_store_new(size, sentry.host_uid, sentry.host_gid, &st);
		/* Without stores, the byte limit of the instance at least
		 * bounds truncate growth and shows in statfs. */
		if (r == 0)
			r = st ? tmpfs_set_store(root, st) : tmpfs_set_limits(root, size, 0);
		tmpfs_store_unref(st);
		if (r < 0) {
			vn_unref(root);
			return r;
		}
	}
	r = vfs_mount(root, mp, flags, src, "tmpfs", NULL);
	if (r < 0)
		vn_unref(root);
	return r;
}

/* Find (or, in the synthesized root, make) the directory dst. */
static int mountpoint_get(struct vnode *root, const char *dst, struct vnode **ret)
{
	struct nameidata nd;
	int r = namei_at(root, root, dst, LOOKUP_FOLLOW, &nd);
	if (r == 0) {
		*ret = vn_ref(nd.vn);
		nd_release(&nd);
		return 0;
	}
	if (r != -ENOENT)
		return r;
	/* Make missing components where the tree is ours (tmpfs). */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", dst);
	struct vnode *cur = vn_ref(root);
	for (char *save, *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		struct vnode *next;
		r = vfs_lookup_one(root, cur, c, &next);
		if (r == -ENOENT) {
			r = tmpfs_add_dir(cur, c, 0755, &next);
			/* The overlay root makes it in its upper layer. */
			if (r == -EINVAL && cur->ops->mkdir && !(cur->mnt->flags & MNT_RDONLY) &&
			    (r = cur->ops->mkdir(cur, c, 0755, NULL)) == 0)
				r = vfs_lookup_one(root, cur, c, &next);
			if (r < 0)
				r = -ENOENT; /* not ours to create */
		}
		vn_unref(cur);
		if (r < 0)
			return r;
		cur = next;
	}
	*ret = cur;
	return 0;
}

/* dst's parent directory (made where the tree is ours, as a mountpoint
 * is) and its last component, which points into dst. */
static int mountpoint_parent(struct vnode *root, const char *dst, struct vnode **ret_dir,
			     const char **ret_name)
{
	const char *slash = strrchr(dst, '/');
	if (!slash || !is_single_component(slash + 1))
		return -EINVAL;
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dst), dst);
	*ret_name = slash + 1;
	return mountpoint_get(root, parent[0] ? parent : "/", ret_dir);
}

/* The name a file bind's file has in the gofer's directory for it. */
#define FILE_BIND_NAME "file"

/* A file at dst to mount a file on: there already (not a directory), or
 * made empty in its parent where the tree is ours to change. */
static int file_mountpoint(struct vnode *root, const char *dst, struct vnode **ret)
{
	struct nameidata nd;
	int r = namei_at(root, root, dst, LOOKUP_FOLLOW, &nd);
	if (r == 0) {
		bool dir = nd.vn->type == VDIR;
		if (!dir)
			*ret = vn_ref(nd.vn);
		nd_release(&nd);
		return dir ? -EISDIR : 0;
	}
	if (r != -ENOENT)
		return r;
	struct vnode *dir;
	const char *name;
	if ((r = mountpoint_parent(root, dst, &dir, &name)) < 0)
		return r;
	struct vnode *made = NULL;
	if (devfs_is_root(dir))
		r = devfs_add_spot(dir, name, ret); /* /dev/termination-log */
	else if (!dir->ops->create || (dir->mnt->flags & MNT_RDONLY))
		r = -EROFS;
	else if ((r = dir->ops->create(dir, name, S_IFREG | 0644, NULL, &made)) == 0)
		/* Found again as a lookup finds it: in the tree, with its
		 * parent (what create gives need not be). */
		r = vfs_lookup_one(root, dir, name, ret);
	if (made)
		vn_unref(made);
	/* Kept for the sandbox's life, as the mount is: an overlay's upper
	 * file shows its overlay directory in paths only while that
	 * directory's vnode lives (fs_ops.shadow is weak). */
	if (r < 0)
		vn_unref(dir);
	return r;
}

/* A single-file bind: the gofer serves the file alone in a directory of its
 * own (gofer/setup.c), kept detached; the file is mounted on a file at
 * dst, as runc binds a file on a file. */
static int mount_file_bind(struct gofer_client *gc, int idx, const struct mount_spec *m,
			   struct vnode *root)
{
	struct vnode *dir, *f = NULL, *mp;
	int r = gofer_fs_new(gc, (uint32_t)idx, NULL, 0, &dir);
	if (r < 0)
		return r;
	if ((r = gofer_fs_set_file_bind(dir, !m->ro)) < 0 ||
	    (!m->ro && (r = gofer_fs_set_owner(dir, m->owner_uid, m->owner_gid)) < 0)) {
		vn_unref(dir);
		return r;
	}
	unsigned flags = MNT_NOSUID | MNT_NODEV | (m->ro ? MNT_RDONLY : 0);
	if ((r = vfs_mount(dir, NULL, flags | MNT_DETACHED, m->src, "gofer", NULL)) < 0) {
		vn_unref(dir);
		return r;
	}
	if ((r = vfs_lookup_one(dir, dir, FILE_BIND_NAME, &f)) < 0)
		return r;
	if (f->type != VREG)
		r = -EISDIR;
	else if ((r = file_mountpoint(root, m->dst, &mp)) == 0) {
		r = vfs_mount(f, mp, flags, m->src, "gofer", NULL);
		vn_unref(mp);
		if (r == 0)
			return 0;
	}
	vn_unref(f);
	return r;
}

static int add_file(struct vnode *dir, const char *name, const char *content)
{
	struct vnode *vn;
	int r = dir->ops->create(dir, name, S_IFREG | 0644, NULL, &vn);
	if (r < 0)
		return r;
	int fd = -1;
	r = vn->ops->open(vn, O_WRONLY, &fd);
	if (r == 0) {
		r = write_all(fd, content, strlen(content));
		close(fd);
	}
	vn_unref(vn);
	return r;
}

/* The sandbox's own identity files, mounted over the host's in /etc. */
/* /etc/resolv.conf for the network mode: the helper's forwarder for
 * --net=sandbox, the host's own file for --net=host, empty without a
 * network. */
static char *resolv_conf(const struct net_config *net)
{
	char *s = NULL;
	if (net->mode == NET_SANDBOX && net->dns_set)
		return strdup("# moat --net=sandbox: forwarded to the host's resolver (or --dns)\n"
			      "nameserver " NET_DNS4 "\n");
	if (net->mode == NET_HOST && read_file_at(AT_FDCWD, "/etc/resolv.conf", &s, 65536) >= 0)
		return s;
	return strdup("");
}

static int mount_identity_files(struct vnode *root, const char *hostname, const struct net_config *net)
{
	struct vnode *store;
	int r = tmpfs_new(0755, 0, 0, &store);
	if (r < 0)
		return r;
	/* The store itself is not reachable: it only lends its files. */
	if ((r = vfs_mount(store, NULL, MNT_RDONLY | MNT_DETACHED, "moat", "tmpfs", NULL)) < 0) {
		vn_unref(store);
		return r;
	}
	char hosts[512], mid[64];
	/* The hostname names the guest's own address, as Docker's does. */
	snprintf(hosts, sizeof(hosts),
		 "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
		 net->mode == NET_SANDBOX ? NET_GUEST4 : "127.0.1.1", hostname);
	_cleanup_free_ char *resolv = resolv_conf(net);
	if (!resolv)
		return -ENOMEM;
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	for (int i = 0; i < 16; i++)
		snprintf(mid + 2 * i, 3, "%02x", rnd[i]);
	mid[32] = '\n', mid[33] = 0;
	char hn[80];
	snprintf(hn, sizeof(hn), "%s\n", hostname);
	struct {
		const char *name, *content;
	} files[] = {
		{ "hosts", hosts }, { "hostname", hn }, { "resolv.conf", resolv }, { "machine-id", mid },
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if ((r = add_file(store, files[i].name, files[i].content)) < 0)
			return r;
		char path[64];
		snprintf(path, sizeof(path), "/etc/%s", files[i].name);
		struct nameidata nd;
		if (namei_at(root, root, path, 0, &nd) < 0)
			continue; /* the view has no such file: nothing to hide */
		if (nd.vn->mnt && nd.vn->mnt->root == nd.vn) {
			nd_release(&nd);
			continue; /* the user bound a file of theirs there */
		}
		struct vnode *f;
		if (vfs_lookup_one(store, store, files[i].name, &f) == 0) {
			if (vfs_mount(f, nd.vn, MNT_RDONLY, "moat", "tmpfs", NULL) < 0)
				vn_unref(f);
		}
		nd_release(&nd);
	}
	return 0;
}


/* The default view's host tree: an in-memory root with a gofer mount per
 * system directory and the host's symlinks among them (/bin -> usr/bin).
 * `detach`: MNT_DETACHED when the tree is an overlay's lower layer.
 * *ret is the root (owned by its mount). */
static int build_default_root(struct view *v, struct gofer_client *gc, unsigned detach,
			      struct vnode **ret)
{
	struct vnode *root;
	int r = tmpfs_new(0755, 0, 0, &root);
	if (r < 0)
		return r;
	if ((r = vfs_mount(root, NULL, MNT_RDONLY | detach, "moat", "tmpfs", NULL)) < 0) {
		vn_unref(root);
		return r;
	}
	for (size_t i = 0; i < v->ex.n; i++) {
		const char *name = v->ex.v[i].host_path + 1;
		if (strchr(name, '/'))
			continue; /* a --bind export: mounted later */
		struct vnode *mp;
		if ((r = tmpfs_add_dir(root, name, 0755, &mp)) < 0)
			return r;
		r = mount_gofer(gc, (int)i, &v->ex.v[i], mp,
				MNT_RDONLY | MNT_NODEV | MNT_NOSUID | MNT_HOSTPERM | detach,
				v->ex.v[i].host_path, !strcmp(name, "etc") ? etc_allow : NULL);
		vn_unref(mp);
		if (r < 0)
			return r;
	}
	for (const char *const *d = default_system_dirs; *d; d++) {
		char host[64], target[PATH_MAX];
		snprintf(host, sizeof(host), "/%s", *d);
		ssize_t n = readlink(host, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if ((r = tmpfs_add_symlink(root, *d, target)) < 0)
			return r;
	}
	*ret = root;
	return 0;
}

/* --rootfs DIR's host tree: one gofer mount. */
static int build_rootfs_root(struct sandbox_config *cfg, struct view *v, struct gofer_client *gc,
			     unsigned detach, struct vnode **ret)
{
	/* The gofer serves the host's /proc and /dev empty; the sentry still
	 * shows them, as mountpoints for its own procfs and devfs. */
	struct gofer_export *x = &v->ex.v[0];
	_cleanup_free_ const char **m = calloc(x->nmasks + 1, sizeof(char *));
	size_t n = 0;
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < x->nmasks; i++)
		if (strcmp(x->masks[i], "proc") && strcmp(x->masks[i], "dev"))
			m[n++] = x->masks[i];
	struct vnode *root;
	int r = gofer_fs_new(gc, 0, m, n, &root);
	if (r < 0)
		return r;
	/* The host's own root holds the host's secrets: host permissions
	 * (MNT_HOSTPERM). A container image's root is the container's. */
	unsigned hostperm = rootfs_is_host(cfg->rootfs) ? MNT_HOSTPERM : 0;
	if ((r = vfs_mount(root, NULL, MNT_RDONLY | MNT_NODEV | MNT_NOSUID | hostperm | detach,
			   cfg->rootfs, "gofer", NULL)) < 0) {
		vn_unref(root);
		return r;
	}
	*ret = root;
	return 0;
}

/* The guest's root: the host tree itself (--read-only), or an overlay with
 * the host tree as its read-only lower layer and memory as its upper. */
static int build_root(struct sandbox_config *cfg, struct view *v, struct gofer_client *gc)
{
	unsigned detach = cfg->read_only ? 0 : MNT_DETACHED;
	struct vnode *host;
	int r = cfg->rootfs ? build_rootfs_root(cfg, v, gc, detach, &host)
			    : build_default_root(v, gc, detach, &host);
	if (r < 0 || cfg->read_only) {
		v->root = r < 0 ? NULL : host;
		return r;
	}
	struct vnode *ovl;
	if (v->upper_idx >= 0) {
		/* --upper: the upper layer is an rw export, written through. */
		const struct gofer_export *x = &v->ex.v[v->upper_idx];
		struct vnode *up;
		if ((r = gofer_fs_new(gc, (uint32_t)v->upper_idx, NULL, 0, &up)) < 0)
			return r;
		if ((r = gofer_fs_set_owner(up, x->owner_uid, x->owner_gid)) < 0 ||
		    (r = gofer_fs_set_upper(up)) < 0) {
			vn_unref(up);
			return r;
		}
		r = overlay_new_host(host, up, &ovl);
	} else {
		r = overlay_new(host, &ovl);
	}
	if (r < 0)
		return r;
	if ((r = vfs_mount(ovl, NULL, MNT_NODEV | MNT_NOSUID, "overlay", "overlay", NULL)) < 0) {
		vn_unref(ovl);
		return r;
	}
	v->root = ovl;
	return 0;
}

int view_exports(struct sandbox_config *cfg, struct view *v, struct gofer_config *gcfg)
{
	int r;
	if (cfg->rootfs) {
		_cleanup_free_ const char **m = masks_for("etc", true);
		if (!m || (r = exports_add(&v->ex, cfg->rootfs, false, m)) < 0)
			return -ENOMEM;
	} else {
		for (const char *const *d = default_system_dirs; *d; d++) {
			char host[64];
			struct stat st;
			snprintf(host, sizeof(host), "/%s", *d);
			if (lstat(host, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			if ((r = exports_add(&v->ex, host, false, !strcmp(*d, "etc") ? etc_masks : NULL)) < 0)
				return r;
		}
	}
	for (size_t i = 0; i < cfg->nmounts; i++) {
		struct mount_spec *m = &cfg->mounts[i];
		if (m->kind != MOUNT_BIND)
			continue;
		struct stat st;
		if (stat(m->src, &st) < 0 || (m->file ? !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode))) {
			log_warnx("--bind %s: no longer a %s", m->src, m->file ? "file" : "directory");
			return m->file ? -EISDIR : -ENOTDIR;
		}
		if ((r = exports_add(&v->ex, m->src, !m->ro, NULL)) < 0)
			return r;
		if (m->file && !(v->ex.v[r].file_name = strdup(FILE_BIND_NAME)))
			return -ENOMEM;
		v->ex.v[r].owner_uid = m->owner_uid;
		v->ex.v[r].owner_gid = m->owner_gid;
	}
	v->upper_idx = -1;
	if (cfg->upper) {
		if ((r = exports_add(&v->ex, cfg->upper, true, NULL)) < 0)
			return r;
		v->ex.v[r].owner_uid = cfg->upper_uid;
		v->ex.v[r].owner_gid = cfg->upper_gid;
		v->upper_idx = r;
	}
	gcfg->exports = v->ex.v;
	gcfg->nexports = v->ex.n;
	return 0;
}

void view_finish(struct view *v)
{
	if (v->upper_idx >= 0 && v->root)
		overlay_finish(v->root);
}

/* --bind-socket: a socket file at m->dst (made in the view, as a mountpoint
 * would be) that leads to the host socket m->src, reached later through an
 * O_PATH fd taken now, while the sentry still sees the host. */
static int bind_host_socket(struct vnode *root, const struct mount_spec *m)
{
	struct vnode *dir;
	const char *name;
	int r = mountpoint_parent(root, m->dst, &dir, &name);
	if (r < 0)
		return r;
	struct vnode *vn = NULL;
	struct stat st;
	if (!dir->ops->mknod)
		r = -EROFS;
	else if ((r = dir->ops->mknod(dir, name, S_IFSOCK | 0777, 0, NULL)) == 0 &&
		 (r = vfs_lookup_one(root, dir, name, &vn)) == 0)
		r = vfs_getattr(vn, &st);
	if (vn)
		vn_unref(vn);
	vn_unref(dir);
	if (r < 0)
		return r;
	int fd = open(m->src, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	r = unixaddr_add_host(st.st_dev, st.st_ino, fd, m->src, m->dst);
	if (r < 0)
		close(fd);
	return r;
}

/* One line for a user's mount that cannot be made: which, and why. */
static int bind_failed(const struct mount_spec *m, int r)
{
	const char *opt = m->kind == MOUNT_TMPFS ? "--tmpfs" : "--bind";
	if (m->kind == MOUNT_TMPFS)
		log_errorx("%s %s: %s", opt, m->dst, strerror(-r));
	else if (r == -EISDIR && m->file)
		log_errorx("%s %s:%s: %s is a directory in the sandbox; a file binds on a file", opt,
			  m->src, m->dst, m->dst);
	else if (r == -ENOTDIR || r == -EISDIR)
		log_errorx("%s %s:%s: %s is a file in the sandbox; a directory binds on a directory",
			  opt, m->src, m->dst, m->dst);
	else if (r == -EROFS || r == -ENOENT)
		log_errorx("%s %s:%s: %s cannot be made in the sandbox's view (%s)", opt, m->src, m->dst,
			  m->dst, strerror(-r));
	else
		log_errorx("%s %s:%s: %s", opt, m->src, m->dst, strerror(-r));
	return VIEW_REPORTED;
}

int view_mount(struct sandbox_config *cfg, struct view *v, struct gofer_client *gc)
{
	int r = build_root(cfg, v, gc);
	if (r < 0)
		return r;
	static const struct {
		const char *dst;
		int kind; /* 0 tmpfs, 1 devfs, 2 procfs, 3 sysfs, 4 the cgroup */
		mode_t mode;
		unsigned flags;
	} std_mounts[] = {
		{ "/proc", 2, 0555, MNT_NOSUID | MNT_NODEV | MNT_NOEXEC },
		{ "/sys", 3, 0555, MNT_RDONLY | MNT_NOSUID | MNT_NODEV | MNT_NOEXEC },
		{ "/sys/fs/cgroup", 4, 0555, MNT_RDONLY | MNT_NOSUID | MNT_NODEV | MNT_NOEXEC },
		{ "/dev", 1, 0755, MNT_NOSUID },
		{ "/dev/shm", 0, 01777, MNT_NOSUID | MNT_NODEV | MNT_NOEXEC },
		{ "/tmp", 0, 01777, MNT_NOSUID | MNT_NODEV },
		{ "/root", 0, 0700, MNT_NOSUID | MNT_NODEV },
	};
	for (size_t i = 0; i < ARRAY_SIZE(std_mounts); i++) {
		struct vnode *mp, *fsroot;
		if ((r = mountpoint_get(v->root, std_mounts[i].dst, &mp)) < 0) {
			log_debug("no mountpoint %s in the view: %s", std_mounts[i].dst, strerror(-r));
			continue;
		}
		switch (std_mounts[i].kind) {
		case 0:
			r = mount_new_tmpfs(mp, std_mounts[i].mode, std_mounts[i].flags, "tmpfs", 0);
			break;
		case 1:
			if ((r = devfs_new(&fsroot)) == 0 &&
			    (r = vfs_mount(fsroot, mp, std_mounts[i].flags, "devfs", "devtmpfs", NULL)) < 0)
				vn_unref(fsroot);
			break;
		case 2:
			if ((r = procfs_new(&fsroot)) == 0 &&
			    (r = vfs_mount(fsroot, mp, std_mounts[i].flags, "proc", "proc", NULL)) < 0)
				vn_unref(fsroot);
			break;
		case 3:
			if ((r = sysfs_new(&fsroot)) == 0 &&
			    (r = vfs_mount(fsroot, mp, std_mounts[i].flags, "sysfs", "sysfs", NULL)) < 0)
				vn_unref(fsroot);
			break;
		default:
			if ((r = cgroupfs_new(&fsroot)) == 0 &&
			    (r = vfs_mount(fsroot, mp, std_mounts[i].flags, "cgroup2", "cgroup2", NULL)) < 0)
				vn_unref(fsroot);
			break;
		}
		vn_unref(mp);
		if (r < 0)
			return r;
	}
	/* The user's mounts, in order; binds are the exports after the view's. */
	size_t bind_idx = v->upper_idx >= 0 ? (size_t)v->upper_idx : v->ex.n;
	for (size_t i = cfg->nmounts; i-- > 0;)
		if (cfg->mounts[i].kind == MOUNT_BIND)
			bind_idx--;
	for (size_t i = 0; i < cfg->nmounts; i++) {
		struct mount_spec *m = &cfg->mounts[i];
		struct vnode *mp;
		if (m->kind == MOUNT_SOCKET) {
			if ((r = bind_host_socket(v->root, m)) < 0)
				return log_error_errno(r, "--bind-socket %s:%s", m->src, m->dst);
			continue;
		}
		if (m->kind == MOUNT_BIND && m->file) {
			if ((r = mount_file_bind(gc, (int)bind_idx++, m, v->root)) < 0)
				return bind_failed(m, r);
			continue;
		}
		if ((r = mountpoint_get(v->root, m->dst, &mp)) < 0)
			return bind_failed(m, r);
		if (m->kind == MOUNT_TMPFS)
			r = mount_new_tmpfs(mp, m->mode, MNT_NOSUID | MNT_NODEV | m->flags, "tmpfs",
					    m->size);
		else
			r = mount_bind(gc, (int)bind_idx++, m, mp);
		vn_unref(mp);
		if (r < 0)
			return bind_failed(m, r);
	}
	return mount_identity_files(v->root, sentry.ident.hostname, &cfg->net);
}

int view_disk_init(const struct sandbox_config *cfg)
{
	uint64_t disk = cfg->disk_bytes, own = 0;
	if (!disk) {
		struct sysinfo si;
		disk = sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit / 2 : 1ULL << 30;
	}
	for (size_t i = 0; i < cfg->nmounts; i++)
		if (cfg->mounts[i].kind == MOUNT_TMPFS)
			own += cfg->mounts[i].size;
	if (own && own >= disk) {
		char a[32], b[32];
		snprintf(a, sizeof(a), "%llu", (unsigned long long)own);
		snprintf(b, sizeof(b), "%llu", (unsigned long long)disk);
		log_warnx("the --tmpfs sizes add up to %s bytes, not less than the disk's %s", a, b);
		return -EINVAL;
	}
	struct tmpfs_store *st = NULL;
	int r = tmpfs_store_new(disk - own, sentry.host_uid, sentry.host_gid, &st);
	if (r < 0)
		return r;
	tmpfs_set_default_store(st);
	tmpfs_store_unref(st);
	return 0;
}

bool view_needs_host_dac(const struct sandbox_config *cfg)
{
	if ((cfg->rootfs && !rootfs_is_host(cfg->rootfs)) || cfg->upper)
		return true;
	/* A bound host socket is connected to with the sentry's DAC rights:
	 * the user named it, whatever its mode says to the sandbox's uid. */
	for (size_t i = 0; i < cfg->nmounts; i++)
		if (cfg->mounts[i].kind == MOUNT_BIND || cfg->mounts[i].kind == MOUNT_SOCKET)
			return true;
	return false;
}
