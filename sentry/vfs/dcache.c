/* SPDX-License-Identifier: MIT */
/* The dentry cache: (parent vnode, name) -> child vnode, hashed with XXH3.
 * Used by filesystems whose lookups are worth remembering (the gofer fs: a
 * lookup there may cost a gofer round trip). Negative entries remember
 * -ENOENT, which makes PATH searches cheap. Called with the sentry lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/cleanup.h"
#include "sentry/vfs/vfs.h"

struct dentry {
	struct vnode *dir;   /* not referenced: entries die with dcache_remove_children */
	struct vnode *child; /* referenced; NULL = negative */
	uint64_t hash;
	struct dentry *next;
	char name[];
};

static struct dentry **tab;
static size_t nbuckets, nentries;

static uint64_t dhash(const struct vnode *dir, const char *name)
{
	return XXH3_64bits_withSeed(name, strlen(name), (uint64_t)(uintptr_t)dir);
}

static int grow(void)
{
	size_t nb = nbuckets ? nbuckets * 2 : 1024;
	struct dentry **nt = calloc(nb, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < nbuckets; i++)
		for (struct dentry *d = tab[i], *next; d; d = next) {
			next = d->next;
			d->next = nt[d->hash & (nb - 1)];
			nt[d->hash & (nb - 1)] = d;
		}
	free(tab);
	tab = nt;
	nbuckets = nb;
	return 0;
}

static struct dentry **find(struct vnode *dir, const char *name, uint64_t h)
{
	if (!nbuckets)
		return NULL;
	for (struct dentry **pp = &tab[h & (nbuckets - 1)]; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->dir == dir && !strcmp((*pp)->name, name))
			return pp;
	return NULL;
}

struct vnode *dcache_lookup(struct vnode *dir, const char *name, bool *ret_negative)
{
	struct dentry **pp = find(dir, name, dhash(dir, name));
	*ret_negative = false;
	if (!pp)
		return NULL;
	if (!(*pp)->child) {
		*ret_negative = true;
		return NULL;
	}
	return vn_ref((*pp)->child);
}

int dcache_insert(struct vnode *dir, const char *name, struct vnode *child)
{
	uint64_t h = dhash(dir, name);
	struct dentry **pp = find(dir, name, h);
	if (pp) {
		struct vnode *old = (*pp)->child;
		(*pp)->child = vn_ref(child);
		vn_unref(old);
		return 0;
	}
	if (nentries >= nbuckets && grow() < 0)
		return -ENOMEM;
	size_t len = strlen(name);
	struct dentry *d = malloc(sizeof(*d) + len + 1);
	if (!d)
		return -ENOMEM;
	d->dir = dir;
	d->child = vn_ref(child);
	d->hash = h;
	memcpy(d->name, name, len + 1);
	d->next = tab[h & (nbuckets - 1)];
	tab[h & (nbuckets - 1)] = d;
	nentries++;
	return 0;
}

void dcache_remove(struct vnode *dir, const char *name)
{
	struct dentry **pp = find(dir, name, dhash(dir, name));
	if (!pp)
		return;
	struct dentry *d = *pp;
	*pp = d->next;
	vn_unref(d->child);
	free(d);
	nentries--;
}

void dcache_remove_children(struct vnode *dir)
{
	for (size_t i = 0; i < nbuckets; i++)
		for (struct dentry **pp = &tab[i]; *pp;) {
			struct dentry *d = *pp;
			if (d->dir != dir) {
				pp = &d->next;
				continue;
			}
			*pp = d->next;
			vn_unref(d->child);
			free(d);
			nentries--;
		}
}
