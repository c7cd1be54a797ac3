/* SPDX-License-Identifier: MIT */
/* The kernel's rules for changing credentials (kernel/sys.c, kernel/groups.c),
 * applied to a sentry struct cred. Each function updates *c in place, which
 * the caller must own (a fresh cred_copy: creds are shared copy-on-write),
 * or returns -EPERM/-EINVAL and leaves it as it was. "Privileged" is euid 0
 * (sys_fs.h: the guest's root holds all capabilities, and loses them with
 * its euid as the kernel's capability emulation of set*uid does).
 * Header-only and pure so tests/unit/test_setid.c checks the rules table by
 * table. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/types.h>
#include "syscalls/sys_fs.h"

#define ID_KEEP ((uint32_t)-1) /* -1: leave this id as it is */

static inline int setid_setuid(struct cred *c, uid_t uid)
{
	if (uid == ID_KEEP)
		return -EINVAL;
	if (cred_privileged(c)) {
		c->ruid = c->suid = uid;
	} else if (uid != c->ruid && uid != c->suid) {
		return -EPERM;
	}
	c->euid = c->fsuid = uid;
	return 0;
}

static inline int setid_setgid(struct cred *c, gid_t gid)
{
	if (gid == ID_KEEP)
		return -EINVAL;
	if (cred_privileged(c)) {
		c->rgid = c->sgid = gid;
	} else if (gid != c->rgid && gid != c->sgid) {
		return -EPERM;
	}
	c->egid = c->fsgid = gid;
	return 0;
}

/* The real and effective ids of setreuid/setregid, on uid_t-sized slots of
 * the cred so one function serves both (uid_t and gid_t are both u32). */
struct setid_ids {
	uint32_t *r, *e, *s, *fs;
};

static inline int setid_setre(struct setid_ids id, bool priv, uint32_t r, uint32_t e)
{
	uint32_t o_r = *id.r, o_e = *id.e, o_s = *id.s;
	if (r != ID_KEEP && r != o_r && r != o_e && !priv)
		return -EPERM;
	if (e != ID_KEEP && e != o_r && e != o_e && e != o_s && !priv)
		return -EPERM;
	if (r != ID_KEEP)
		*id.r = r;
	if (e != ID_KEEP)
		*id.e = e;
	/* The saved id follows the effective one whenever the real id is set
	 * or the effective one moves away from the old real id. */
	if (r != ID_KEEP || (e != ID_KEEP && e != o_r))
		*id.s = *id.e;
	*id.fs = *id.e;
	return 0;
}

static inline bool setid_one_of(uint32_t v, uint32_t a, uint32_t b, uint32_t c)
{
	return v == a || v == b || v == c;
}

static inline int setid_setres(struct setid_ids id, bool priv, uint32_t r, uint32_t e, uint32_t s)
{
	uint32_t o_r = *id.r, o_e = *id.e, o_s = *id.s;
	if (!priv && ((r != ID_KEEP && !setid_one_of(r, o_r, o_e, o_s)) ||
		      (e != ID_KEEP && !setid_one_of(e, o_r, o_e, o_s)) ||
		      (s != ID_KEEP && !setid_one_of(s, o_r, o_e, o_s))))
		return -EPERM;
	if (r != ID_KEEP)
		*id.r = r;
	if (e != ID_KEEP)
		*id.e = e;
	if (s != ID_KEEP)
		*id.s = s;
	*id.fs = *id.e;
	return 0;
}

/* setfsuid/setfsgid never fail: they return the old id, and change it only
 * to one of the caller's ids (or anything when privileged). */
static inline uint32_t setid_setfs(struct setid_ids id, bool priv, uint32_t v)
{
	uint32_t old = *id.fs;
	if (v == ID_KEEP)
		return old;
	if (priv || setid_one_of(v, *id.r, *id.e, *id.s) || v == old)
		*id.fs = v;
	return old;
}

static inline struct setid_ids setid_uids(struct cred *c)
{
	return (struct setid_ids){ &c->ruid, &c->euid, &c->suid, &c->fsuid };
}
static inline struct setid_ids setid_gids(struct cred *c)
{
	return (struct setid_ids){ &c->rgid, &c->egid, &c->sgid, &c->fsgid };
}

static inline int setid_gid_cmp(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return (x > y) - (x < y);
}

#define SETID_NGROUPS_MAX ((int)(sizeof(((struct cred *)0)->groups) / sizeof(gid_t)))

/* setgroups: privileged only; kept sorted as the kernel keeps them. The
 * sentry holds at most SETID_NGROUPS_MAX (the kernel allows 65536: larger
 * lists get -EINVAL here, an errno setgroups has). */
static inline int setid_setgroups(struct cred *c, const gid_t *groups, int n)
{
	if (!cred_privileged(c))
		return -EPERM;
	if (n < 0 || n > SETID_NGROUPS_MAX)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (groups[i] == ID_KEEP)
			return -EINVAL;
	for (int i = 0; i < n; i++)
		c->groups[i] = groups[i];
	c->ngroups = n;
	qsort(c->groups, n, sizeof(gid_t), setid_gid_cmp);
	return 0;
}
