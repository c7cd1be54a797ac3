/* SPDX-License-Identifier: MIT */
/* vnodes, mounts and path names. See vfs.h for locking and lifetime rules. */
#include "sentry/vfs/vfs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <xxhash.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "sentry/fs/notify.h"

static uint64_t next_ino = 1000;
static struct mount *mount_list, **mount_tail = &mount_list;
static struct mount *root_mount;
static unsigned next_minor = 1;

static void (*block_begin)(void), (*block_end)(void);

void vfs_set_block_ops(void (*begin)(void), void (*end)(void))
{
	block_begin = begin;
	block_end = end;
}

static bool (*wait_check)(void);

void vfs_set_wait_check(bool (*may_wait)(void)) { wait_check = may_wait; }

bool vfs_may_wait(void) { return !wait_check || wait_check(); }

void vfs_block_begin(void)
{
	if (block_begin)
		block_begin();
}

void vfs_block_end(void)
{
	if (block_end)
		block_end();
}

static uint64_t call_seq;
static _Thread_local uint64_t call_cur;

void vfs_call_begin(void) { call_cur = __atomic_add_fetch(&call_seq, 1, __ATOMIC_RELAXED); }
uint64_t vfs_call_id(void) { return call_cur; }

uint64_t vfs_next_ino(void) { return __atomic_add_fetch(&next_ino, 1, __ATOMIC_RELAXED); }

/* Anonymous-device-like numbers (major 0, as the kernel gives tmpfs/proc). */
dev_t vfs_new_dev(void) { return makedev(0, 100 + next_minor++); }

unsigned char vtype_to_dt(enum vtype t)
{
	static const unsigned char dt[] = {
		[VNON] = DT_UNKNOWN, [VREG] = DT_REG, [VDIR] = DT_DIR, [VLNK] = DT_LNK,
		[VCHR] = DT_CHR,     [VBLK] = DT_BLK, [VFIFO] = DT_FIFO, [VSOCK] = DT_SOCK,
	};
	return t < ARRAY_SIZE(dt) ? dt[t] : DT_UNKNOWN;
}

int dirent_list_add(struct dirent_list *l, uint64_t ino, unsigned char type, const char *name)
{
	return dirent_list_add_at(l, 0, ino, type, name);
}

int dirent_list_add_at(struct dirent_list *l, uint64_t off, uint64_t ino, unsigned char type,
		       const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct vdirent *ne = realloc(l->ents, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		l->ents = ne;
		l->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	l->ents[l->n++] = (struct vdirent){ .ino = ino, .off = off, .type = type, .name = copy };
	return 0;
}

int dirent_list_copy(struct dirent_list *dst, const struct dirent_list *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int r = dirent_list_add_at(dst, src->ents[i].off, src->ents[i].ino, src->ents[i].type,
					   src->ents[i].name);
		if (r < 0)
			return r;
	}
	return 0;
}

void dirent_list_free(struct dirent_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->ents[i].name);
	free(l->ents);
	*l = (struct dirent_list){ 0 };
}

struct vnode *vn_alloc(const struct fs_ops *ops, struct mount *mnt, enum vtype type, uint64_t ino,
		       struct vnode *parent, const char *name)
{
	struct vnode *vn = calloc(1, sizeof(*vn));
	if (!vn)
		return NULL;
	vn->name = strdup(name ? name : "/");
	if (!vn->name) {
		free(vn);
		return NULL;
	}
	vn->refcnt = 1;
	vn->ops = ops;
	vn->mnt = mnt;
	vn->type = type;
	vn->ino = ino ? ino : vfs_next_ino();
	vn->parent = parent ? vn_ref(parent) : NULL;
	return vn;
}

struct vnode *vn_ref(struct vnode *vn)
{
	if (vn)
		vn->refcnt++;
	return vn;
}

void vn_set_name(struct vnode *vn, struct vnode *dir, char *name)
{
	free(vn->name);
	vn->name = name;
	if (vn->parent != dir) {
		struct vnode *old = vn->parent;
		vn->parent = vn_ref(dir);
		vn_unref(old);
	}
}

void vn_unref(struct vnode *vn)
{
	/* Iterative, so dropping a deep chain of parents does not recurse. */
	while (vn && --vn->refcnt == 0) {
		struct vnode *parent = vn->parent;
		/* Only negative entries can be left: a positive one holds a
		 * reference on its child, and the child one on us. */
		if (vn->dentries)
			dcache_remove_children(vn);
		if (vn->notify)
			vnotify_free(vn);
		if (vn->ops && vn->ops->release)
			vn->ops->release(vn);
		free(vn->name);
		free(vn);
		vn = parent;
	}
}

struct mount *vfs_root_mount(void) { return root_mount; }
struct mount *vfs_mounts(void) { return mount_list; }

int vfs_mount(struct vnode *root, struct vnode *mountpoint, unsigned flags, const char *source,
	      const char *fstype, struct mount **ret)
{
	bool detached = flags & MNT_DETACHED;
	if (!mountpoint && root_mount && !detached)
		return -EBUSY;
	/* Files may be mounted on files (the sandbox's own /etc/hosts). */
	if (mountpoint && (mountpoint->type == VDIR) != (root->type == VDIR))
		return mountpoint->type == VDIR ? -ENOTDIR : -EISDIR;
	struct mount *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->source = strdup(source ? source : "none");
	if (!m->source) {
		free(m);
		return -ENOMEM;
	}
	m->root = root;
	m->flags = flags;
	m->fstype = fstype;
	m->dev = vfs_new_dev();
	/* The fs built its root with mnt unset or provisional; bind it now. */
	root->mnt = m;
	if (mountpoint) {
		/* Stack on the topmost mount already there. */
		while (mountpoint->mounted)
			mountpoint = mountpoint->mounted->root;
		m->mountpoint = vn_ref(mountpoint);
		m->parent = mountpoint->mnt;
		mountpoint->mounted = m;
	} else if (!detached) {
		root_mount = m;
	}
	if (!detached) {
		*mount_tail = m;
		mount_tail = &m->next;
	}
	if (ret)
		*ret = m;
	return 0;
}

int vfs_getattr(struct vnode *vn, struct stat *st)
{
	if (!vn->ops->getattr)
		return -EIO;
	int r = vn->ops->getattr(vn, st);
	if (r < 0)
		return r;
	st->st_dev = vn->mnt ? vn->mnt->dev : 0;
	st->st_ino = vn->ino;
	return 0;
}

/* The vnode that ".." of vn names, crossing mount roots upwards. */
static struct vnode *vn_dotdot(struct vnode *root, struct vnode *vn)
{
	for (;;) {
		if (vn == root)
			return vn;
		if (vn->mnt && vn == vn->mnt->root && vn->mnt->mountpoint) {
			vn = vn->mnt->mountpoint;
			continue;
		}
		return vn->parent ? vn->parent : vn;
	}
}

int vfs_lookup_one(struct vnode *root, struct vnode *dir, const char *name, struct vnode **ret)
{
	if (dir->type != VDIR)
		return -ENOTDIR;
	struct vnode *vn;
	if (!strcmp(name, ".")) {
		vn = vn_ref(dir);
	} else if (!strcmp(name, "..")) {
		vn = vn_ref(vn_dotdot(root, dir));
	} else {
		if (!dir->ops->lookup)
			return -ENOENT;
		bool neg = false;
		vn = dir->ops->cache_lookups ? dcache_lookup(dir, name, &neg) : NULL;
		/* A mountpoint stays what it is whatever the host does. */
		if ((vn || neg) && dir->ops->revalidate && !(vn && vn->mounted)) {
			int v = dir->ops->revalidate(dir, name, vn);
			if (v < 0) {
				vn_unref(vn);
				return v;
			}
			if (v == 0) {
				vn_unref(vn);
				vn = NULL;
				neg = false;
				dcache_remove(dir, name);
			}
		}
		if (neg)
			return -ENOENT;
		if (!vn) {
			int r = dir->ops->lookup(dir, name, &vn);
			if (r == -ENOENT && dir->ops->cache_lookups)
				(void)dcache_insert(dir, name, NULL);
			if (r < 0)
				return r;
			if (dir->ops->cache_lookups)
				(void)dcache_insert(dir, name, vn);
		}
	}
	/* Cross into whatever is mounted here (mounts stack). */
	while (vn->mounted) {
		struct vnode *top = vn_ref(vn->mounted->root);
		vn_unref(vn);
		vn = top;
	}
	*ret = vn;
	return 0;
}

struct vnode *vfs_path_parent(const struct vnode *vn)
{
	struct vnode *p = vn->parent;
	struct vnode *s = p && p->ops->shadow ? p->ops->shadow(p) : NULL;
	return s ? s : p;
}

ssize_t vfs_path(struct vnode *root, struct vnode *vn, char *buf, size_t len, bool deleted_suffix)
{
	if (len < 2)
		return -ENAMETOOLONG;
	/* Build right to left. */
	size_t pos = len - 1;
	buf[pos] = 0;
	bool unlinked = vn->unlinked;
	struct vnode *cur = vn;
	while (cur != root) {
		if (cur->mnt && cur == cur->mnt->root) {
			if (!cur->mnt->mountpoint)
				break; /* the global root, but not the task's: outside its root */
			cur = cur->mnt->mountpoint;
			continue;
		}
		if (!cur->parent)
			break;
		size_t n = strlen(cur->name);
		if (pos < n + 1)
			return -ENAMETOOLONG;
		pos -= n;
		memcpy(buf + pos, cur->name, n);
		buf[--pos] = '/';
		cur = vfs_path_parent(cur);
	}
	if (pos == len - 1)
		buf[--pos] = '/';
	size_t plen = len - 1 - pos;
	memmove(buf, buf + pos, plen + 1);
	if (deleted_suffix && unlinked) {
		const char *suffix = " (deleted)";
		if (plen + strlen(suffix) + 1 > len)
			return -ENAMETOOLONG;
		strcpy(buf + plen, suffix);
		plen += strlen(suffix);
	}
	return plen;
}

/* ---- host (dev, ino) -> vnode ------------------------------------------ */

/* Cached (gofer) entries kept at most: the guest's open files it is likely
 * to fstat again. Each pins a vnode and with it the parent directories'
 * vnodes; 4096 is more than a typical process holds open (RLIMIT_NOFILE's
 * usual soft limit is 1024) and keeps the pinned memory to about a MiB. */
#define HOSTINO_CACHE_MAX 4096
#define HOSTINO_BUCKETS 4096

struct hostino {
	dev_t dev;
	ino_t ino;
	struct vnode *vn;
	struct hostino *next;
	bool cached;                        /* evictable, on the LRU list */
	struct hostino *lru_prev, *lru_next; /* prev is warmer */
};
static struct hostino *hostino_tab[HOSTINO_BUCKETS];
static struct hostino *lru_head, *lru_tail;
static size_t hostino_n, hostino_ncached;

static unsigned hostino_hash(dev_t dev, ino_t ino)
{
	uint64_t k[2] = { dev, ino };
	return XXH3_64bits(k, sizeof(k)) % HOSTINO_BUCKETS;
}

static void hostino_lru_unlink(struct hostino *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void hostino_lru_push(struct hostino *e)
{
	e->lru_prev = NULL;
	e->lru_next = lru_head;
	if (lru_head)
		lru_head->lru_prev = e;
	else
		lru_tail = e;
	lru_head = e;
}

static struct hostino *hostino_find(dev_t dev, ino_t ino)
{
	for (struct hostino *e = hostino_tab[hostino_hash(dev, ino)]; e; e = e->next)
		if (e->dev == dev && e->ino == ino)
			return e;
	return NULL;
}

static void hostino_evict_one(void)
{
	struct hostino *e = lru_tail;
	hostino_lru_unlink(e);
	for (struct hostino **pp = &hostino_tab[hostino_hash(e->dev, e->ino)]; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	hostino_n--;
	hostino_ncached--;
	struct vnode *vn = e->vn;
	free(e);
	vn_unref(vn);
}

static void hostino_put(dev_t dev, ino_t ino, struct vnode *vn, bool cached)
{
	struct hostino *e = hostino_find(dev, ino);
	if (e) {
		if (e->vn != vn) {
			struct vnode *old = e->vn;
			e->vn = vn_ref(vn);
			vn_unref(old);
		}
		if (e->cached) {
			hostino_lru_unlink(e);
			if (cached) {
				hostino_lru_push(e);
			} else {
				e->cached = false; /* now owned by a bounded filesystem */
				hostino_ncached--;
			}
		}
		return;
	}
	if (cached && hostino_ncached >= HOSTINO_CACHE_MAX)
		hostino_evict_one();
	e = malloc(sizeof(*e));
	if (!e)
		return; /* only loses a translation, never correctness of access */
	unsigned h = hostino_hash(dev, ino);
	*e = (struct hostino){ .dev = dev, .ino = ino, .vn = vn_ref(vn), .next = hostino_tab[h],
			       .cached = cached };
	hostino_tab[h] = e;
	hostino_n++;
	if (cached) {
		hostino_lru_push(e);
		hostino_ncached++;
	}
}

void vfs_hostino_add(dev_t dev, ino_t ino, struct vnode *vn) { hostino_put(dev, ino, vn, false); }

void vfs_hostino_cache(dev_t dev, ino_t ino, struct vnode *vn) { hostino_put(dev, ino, vn, true); }

struct vnode *vfs_hostino_lookup(dev_t dev, ino_t ino)
{
	struct hostino *e = hostino_find(dev, ino);
	if (!e)
		return NULL;
	if (e->cached) {
		hostino_lru_unlink(e);
		hostino_lru_push(e);
	}
	return e->vn;
}

size_t vfs_hostino_count(void) { return hostino_n; }
