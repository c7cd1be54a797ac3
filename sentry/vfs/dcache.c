/* SPDX-License-Identifier: MIT */
/* The dentry cache: (parent vnode, name) -> child vnode, hashed with XXH3.
 * Used by filesystems whose lookups are worth remembering (the gofer fs: a
 * lookup there may cost a gofer round trip). Negative entries remember
 * -ENOENT, which makes PATH searches cheap. Called with the sentry lock.
 *
 * Bounded. Positive and negative entries are on separate LRU lists, each
 * with its own cap, so a flood of failed lookups can push out only other
 * negative entries, never the positive ones a workload lives on. An insert
 * over a cap evicts from the cold end of its list:
 *  - a negative entry always goes;
 *  - a positive entry goes only if the cache holds the one reference to
 *    its child (nothing else uses the vnode: no task's cwd, no open
 *    placeholder, no cached child, no file in the host-inode map), and
 *    then the vnode is released with whatever it holds: a gofer directory
 *    gives back its donated fd and gofer id, which bounds those too. An
 *    entry still in use is moved to the warm end (second chance).
 * Each insert examines at most DCACHE_EVICT_SCAN entries, so the work is
 * O(1) per insert; entries in use can take the positive list past its cap
 * by as many as there are, which is bounded by what holds them.
 *
 * Each directory vnode heads the list of entries under it (vn->dentries),
 * so dropping a directory's entries costs O(its entries), not a walk of
 * the whole cache. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/cleanup.h"
#include "sentry/vfs/vfs.h"

/* Caps. A positive gofer entry costs about 300 bytes plus, for a directory,
 * one host fd while it is cached; 8192 of them cover a large working set
 * (a compiler's include tree, a Python stdlib) with a few MiB and leave
 * most of the sentry's fd limit (RLIMIT_NOFILE, often 1024 soft raised to
 * the hard limit) to placeholders and files. Negative entries only make
 * repeated misses (PATH and library searches) cheap: a few thousand cover
 * those; more would only keep a flood's garbage. */
#define DCACHE_POS_MAX 8192
#define DCACHE_NEG_MAX 4096
#define DCACHE_EVICT_SCAN 8
/* Fixed table: a power of two at least the caps' sum (load <= ~1). */
#define DCACHE_BUCKETS 16384

struct dentry {
	struct vnode *dir;   /* not referenced: entries die with dcache_remove_children */
	struct vnode *child; /* referenced; NULL = negative */
	uint64_t hash;
	struct dentry *hnext;               /* hash chain */
	struct dentry *lru_prev, *lru_next; /* its LRU list; prev is warmer */
	struct dentry *sib_prev, *sib_next; /* entries of the same dir */
	char name[];
};

struct lru {
	struct dentry *head, *tail; /* warm, cold */
	size_t n;
};

static struct dentry *tab[DCACHE_BUCKETS];
static struct lru pos_lru, neg_lru;

static struct lru *lru_of(const struct dentry *d) { return d->child ? &pos_lru : &neg_lru; }

static void lru_unlink(struct lru *l, struct dentry *d)
{
	if (d->lru_prev)
		d->lru_prev->lru_next = d->lru_next;
	else
		l->head = d->lru_next;
	if (d->lru_next)
		d->lru_next->lru_prev = d->lru_prev;
	else
		l->tail = d->lru_prev;
	d->lru_prev = d->lru_next = NULL;
	l->n--;
}

static void lru_push(struct lru *l, struct dentry *d)
{
	d->lru_prev = NULL;
	d->lru_next = l->head;
	if (l->head)
		l->head->lru_prev = d;
	else
		l->tail = d;
	l->head = d;
	l->n++;
}

static uint64_t dhash(const struct vnode *dir, const char *name)
{
	return XXH3_64bits_withSeed(name, strlen(name), (uint64_t)(uintptr_t)dir);
}

static struct dentry **find(struct vnode *dir, const char *name, uint64_t h)
{
	for (struct dentry **pp = &tab[h & (DCACHE_BUCKETS - 1)]; *pp; pp = &(*pp)->hnext)
		if ((*pp)->hash == h && (*pp)->dir == dir && !strcmp((*pp)->name, name))
			return pp;
	return NULL;
}

/* Take d out of every list and free it; the reference it held on its
 * child is dropped last, when the cache is consistent again (releasing the
 * child may come back here through dcache_remove_children). */
static void dentry_drop(struct dentry *d)
{
	struct dentry **pp = &tab[d->hash & (DCACHE_BUCKETS - 1)];
	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	lru_unlink(lru_of(d), d);
	if (d->sib_prev)
		d->sib_prev->sib_next = d->sib_next;
	else
		d->dir->dentries = d->sib_next;
	if (d->sib_next)
		d->sib_next->sib_prev = d->sib_prev;
	struct vnode *child = d->child;
	free(d);
	vn_unref(child);
}

/* Make room on list l (DCACHE_EVICT_SCAN looks at most). */
static void evict(struct lru *l, size_t max)
{
	for (int scanned = 0; l->n >= max && l->tail && scanned < DCACHE_EVICT_SCAN; scanned++) {
		struct dentry *d = l->tail;
		if (d->child && d->child->refcnt > 1) {
			lru_unlink(l, d); /* in use: second chance */
			lru_push(l, d);
			continue;
		}
		dentry_drop(d);
	}
}

struct vnode *dcache_lookup(struct vnode *dir, const char *name, bool *ret_negative)
{
	struct dentry **pp = find(dir, name, dhash(dir, name));
	*ret_negative = false;
	if (!pp)
		return NULL;
	struct dentry *d = *pp;
	lru_unlink(lru_of(d), d);
	lru_push(lru_of(d), d);
	if (!d->child) {
		*ret_negative = true;
		return NULL;
	}
	return vn_ref(d->child);
}

int dcache_insert(struct vnode *dir, const char *name, struct vnode *child)
{
	uint64_t h = dhash(dir, name);
	struct dentry **pp = find(dir, name, h);
	if (pp) {
		struct dentry *d = *pp;
		struct vnode *old = d->child;
		lru_unlink(lru_of(d), d);
		d->child = vn_ref(child);
		lru_push(lru_of(d), d);
		vn_unref(old);
		return 0;
	}
	if (child)
		evict(&pos_lru, DCACHE_POS_MAX);
	else
		evict(&neg_lru, DCACHE_NEG_MAX);
	size_t len = strlen(name);
	struct dentry *d = malloc(sizeof(*d) + len + 1);
	if (!d)
		return -ENOMEM;
	*d = (struct dentry){ .dir = dir, .child = vn_ref(child), .hash = h };
	memcpy(d->name, name, len + 1);
	d->hnext = tab[h & (DCACHE_BUCKETS - 1)];
	tab[h & (DCACHE_BUCKETS - 1)] = d;
	d->sib_next = dir->dentries;
	if (dir->dentries)
		dir->dentries->sib_prev = d;
	dir->dentries = d;
	lru_push(lru_of(d), d);
	return 0;
}

void dcache_remove(struct vnode *dir, const char *name)
{
	struct dentry **pp = find(dir, name, dhash(dir, name));
	if (pp)
		dentry_drop(*pp);
}

void dcache_remove_children(struct vnode *dir)
{
	/* Re-read the head each time: dropping may release vnodes. */
	while (dir->dentries)
		dentry_drop(dir->dentries);
}

void dcache_stats(size_t *ret_positive, size_t *ret_negative)
{
	*ret_positive = pos_lru.n;
	*ret_negative = neg_lru.n;
}
