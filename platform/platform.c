/* SPDX-License-Identifier: MIT */
/* The req_* calls of platform.h, answered by the platform the sandbox runs
 * on. One indirect call each: the seccomp platform's cost is unchanged. */
#include "platform.h"

#include <errno.h>
#include <string.h>

const struct platform_ops *platform = &notify_platform_ops;

int platform_parse(const char *name, enum platform_kind *ret)
{
	if (!strcmp(name, "auto"))
		*ret = PLATFORM_AUTO;
	else if (!strcmp(name, "seccomp") || !strcmp(name, "seccomp-unotify"))
		*ret = PLATFORM_SECCOMP;
	else if (!strcmp(name, "ptrace"))
		*ret = PLATFORM_PTRACE;
	else
		return -EINVAL;
	return 0;
}

void platform_set(enum platform_kind kind)
{
	platform = kind == PLATFORM_PTRACE ? &ptrace_platform_ops : &notify_platform_ops;
}

int req_id_valid(struct sysreq *r) { return platform->id_valid(r); }
int req_reply(struct sysreq *r, long val) { return platform->reply(r, val); }
int req_reply_continue(struct sysreq *r) { return platform->reply_continue(r); }
int req_reply_fd(struct sysreq *r, int fd, bool cloexec) { return platform->reply_fd(r, fd, cloexec); }
int req_reply_fd_at(struct sysreq *r, int fd, int target, bool cloexec, long val)
{
	return platform->reply_fd_at(r, fd, target, cloexec, val);
}
int req_reply_restart(struct sysreq *r) { return platform->reply_restart(r); }
int req_follow_clone(struct sysreq *r, const struct clone_follow *f) { return platform->follow_clone(r, f); }
int req_exec(struct sysreq *r, struct exec_image *img) { return platform->exec(r, img); }
void req_unpin(pid_t tid)
{
	if (platform->unpin)
		platform->unpin(tid);
}
bool req_guest_affinity(pid_t tid, cpu_set_t *mask)
{
	return platform->guest_affinity && platform->guest_affinity(tid, mask);
}
