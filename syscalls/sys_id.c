/* SPDX-License-Identifier: MIT */
/* Identity: get*id, set*id, getgroups/setgroups, capget.
 *
 * Credentials live in the sentry and only steer the sentry's own permission
 * checks; the guest's host uid never changes. Creds are shared between
 * tasks copy-on-write, so a change builds a new cred (cred_copy), applies
 * the kernel's rules to it (setid.h) and swaps it in. Like the kernel, each
 * thread has its own creds: glibc makes every thread call set*id itself. */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "syscalls/handlers.h"
#include "syscalls/setid.h"
#include "syscalls/sys_fs.h"

long sys_getid(struct sysreq *r)
{
	const struct cred *c = r->task->cred;
	switch (r->nr) {
	case __NR_getuid:
		return c->ruid;
	case __NR_geteuid:
		return c->euid;
	case __NR_getgid:
		return c->rgid;
	case __NR_getegid:
		return c->egid;
	}
	return -ENOSYS;
}

long sys_getresid(struct sysreq *r)
{
	const struct cred *c = r->task->cred;
	uint32_t ids[3];
	switch (r->nr) {
	case __NR_getresuid:
		ids[0] = c->ruid, ids[1] = c->euid, ids[2] = c->suid;
		break;
	case __NR_getresgid:
		ids[0] = c->rgid, ids[1] = c->egid, ids[2] = c->sgid;
		break;
	default:
		return -ENOSYS;
	}
	/* Three separate pointers, each written once, as the kernel does. */
	for (int i = 0; i < 3; i++) {
		int err = sys_put(r, r->args[i], &ids[i], sizeof ids[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

long sys_getgroups(struct sysreq *r)
{
	const struct cred *c = r->task->cred;
	int size = (int)r->args[0];
	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return c->ngroups;
	if (size < c->ngroups)
		return -EINVAL;
	int err = sys_put(r, r->args[1], c->groups, (size_t)c->ngroups * sizeof(gid_t));
	return err < 0 ? err : c->ngroups;
}

/* Swap in t's new cred; the old one goes when its last sharer lets go. */
static void cred_commit(struct task *t, struct cred *new)
{
	struct cred *old = t->cred;
	t->cred = new;
	cred_unref(old);
}

/* Apply one set*id call (not setgroups, setfsuid, setfsgid) to c, a
 * private copy. Returns 0 or -errno. */
static int setid_apply(struct cred *c, int nr, const uint64_t *a)
{
	bool priv = cred_privileged(c);
	switch (nr) {
	case __NR_setuid:
		return setid_setuid(c, (uid_t)a[0]);
	case __NR_setgid:
		return setid_setgid(c, (gid_t)a[0]);
	case __NR_setreuid:
		return setid_setre(setid_uids(c), priv, (uint32_t)a[0], (uint32_t)a[1]);
	case __NR_setregid:
		return setid_setre(setid_gids(c), priv, (uint32_t)a[0], (uint32_t)a[1]);
	case __NR_setresuid:
		return setid_setres(setid_uids(c), priv, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
	case __NR_setresgid:
		return setid_setres(setid_gids(c), priv, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
	}
	return -ENOSYS;
}

/* setfsuid/setfsgid cannot fail: they return the old id, changed or not. */
static long do_setfs(struct task *t, bool gid, uint32_t id)
{
	const struct cred *c = t->cred;
	uint32_t old = gid ? c->fsgid : c->fsuid;
	struct cred *new = cred_copy(c);
	if (!new)
		return old;
	setid_setfs(gid ? setid_gids(new) : setid_uids(new), cred_privileged(c), id);
	if ((gid ? new->fsgid : new->fsuid) == old)
		cred_unref(new);
	else
		cred_commit(t, new);
	return old;
}

static int do_setgroups(struct sysreq *r, struct cred *new)
{
	int n = (int)r->args[0];
	/* The kernel checks privilege before the size, and the size before
	 * reading the list. */
	if (!cred_privileged(new))
		return -EPERM;
	if (n < 0 || n > SETID_NGROUPS_MAX)
		return -EINVAL;
	gid_t groups[SETID_NGROUPS_MAX];
	if (n > 0) {
		int err = sys_get(r, r->args[1], groups, (size_t)n * sizeof(gid_t));
		if (err < 0)
			return err;
	}
	return setid_setgroups(new, groups, n);
}

long sys_setid(struct sysreq *r)
{
	struct task *t = r->task;
	if (r->nr == __NR_setfsuid || r->nr == __NR_setfsgid)
		return do_setfs(t, r->nr == __NR_setfsgid, (uint32_t)r->args[0]);
	struct cred *new = cred_copy(t->cred);
	if (!new)
		return -ENOMEM;
	int err = r->nr == __NR_setgroups ? (int)do_setgroups(r, new) : setid_apply(new, r->nr, r->args);
	/* setgroups read guest memory: act only if the caller is still there. */
	if (err == 0 && r->nr == __NR_setgroups)
		err = req_id_valid(r);
	if (err < 0) {
		cred_unref(new);
		return err;
	}
	cred_commit(t, new);
	return 0;
}

/* Full capability sets for this kernel's CAP_LAST_CAP. Newer kernels may
 * know more caps than the headers; the guest's root has all it can name. */
#define CAPS_LOW 0xffffffffu
#define CAPS_HIGH ((1u << (CAP_LAST_CAP - 31)) - 1)

long sys_capget(struct sysreq *r)
{
	struct __user_cap_header_struct hdr;
	int err = sys_get(r, r->args[0], &hdr, sizeof hdr);
	if (err < 0)
		return err;
	unsigned words;
	switch (hdr.version) {
	case _LINUX_CAPABILITY_VERSION_1:
		words = _LINUX_CAPABILITY_U32S_1;
		break;
	case _LINUX_CAPABILITY_VERSION_2:
	case _LINUX_CAPABILITY_VERSION_3:
		words = _LINUX_CAPABILITY_U32S_3;
		break;
	default: {
		/* Tell the caller the version we speak, as the kernel does. */
		uint32_t v = _LINUX_CAPABILITY_VERSION_3;
		err = sys_put(r, r->args[0], &v, sizeof v);
		return err < 0 ? err : -EINVAL;
	}
	}
	if (hdr.pid < 0)
		return -EINVAL;
	/* Only a probe of the version: no data pointer. */
	if (!r->args[1])
		return 0;
	/* Other processes: the sentry keeps creds per task, not per pid; a
	 * known pid reports no capabilities (a safe under-statement). */
	bool full = cred_privileged(r->task->cred);
	if (hdr.pid != 0 && hdr.pid != r->task->proc->vpid && hdr.pid != r->task->vtid) {
		if (!proc_find_vpid(hdr.pid))
			return -ESRCH;
		full = false;
	}
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	if (full) {
		data[0].effective = data[0].permitted = CAPS_LOW;
		data[1].effective = data[1].permitted = CAPS_HIGH;
	}
	return sys_put(r, r->args[1], data, words * sizeof data[0]);
}
