/* SPDX-License-Identifier: MIT */
/* The seccomp user-notification platform: receive, read guest memory, reply.
 * The kernel's samples/seccomp/user-trap.c rules apply: read every pointer
 * argument before deciding, check the id is still valid after reading, treat
 * ENOENT on send as "the task went away". Fd results are installed with
 * ADDFD|SEND so the fd and the syscall's return happen atomically. */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "platform/kfeatures.h"

/* Linux 6.6; Debian 12's headers predate it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int notify_set_sync_wakeup(int listener)
{
	/* Wake the supervisor on the caller's CPU and the caller on ours: a
	 * cross-CPU wakeup costs far more than the call itself. */
	if (!kfeature_has(KF_SYNC_WAKE_UP))
		return -EOPNOTSUPP;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		return neg_errno();
	return 0;
}

int notify_sizes_get(struct notify_sizes *ret)
{
	struct seccomp_notif_sizes sz;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return neg_errno();
	*ret = (struct notify_sizes){ sz.seccomp_notif, sz.seccomp_notif_resp, sz.seccomp_data };
	return 0;
}

int notify_receive(int listener, struct sysreq *r)
{
	/* The kernel's struct may be larger than ours in the future; it writes
	 * what GET_NOTIF_SIZES reports, which sandbox_run checks fits here. */
	union {
		struct seccomp_notif n;
		char pad[256];
	} u;
	memset(&u, 0, sizeof(u));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &u.n) < 0)
		return neg_errno();
	*r = (struct sysreq){
		.id = u.n.id,
		.tid = u.n.pid,
		.nr = u.n.data.nr,
		.arch = u.n.data.arch,
		.ip = u.n.data.instruction_pointer,
		.listener = listener,
		.reply_fd = -1,
	};
	memcpy(r->args, u.n.data.args, sizeof(r->args));
	return 0;
}

ssize_t req_read(struct sysreq *r, uint64_t addr, void *buf, size_t len)
{
	if (!len)
		return 0;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(r->tid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return errno == ESRCH ? -ENOENT : -EFAULT;
	if ((size_t)n < len)
		return -EFAULT;
	return n;
}

#define STR_FIRST_READ 256

ssize_t req_read_str(struct sysreq *r, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;
	if (!addr)
		return -EFAULT;
	while (got < len) {
		/* Never cross a page boundary in one read: the next page may be
		 * unmapped while the string ends before it. The first read is
		 * short: most paths are, and a read costs by the byte too. */
		uint64_t cur = addr + got;
		size_t chunk = 4096 - (cur & 4095);
		if (got == 0 && chunk > STR_FIRST_READ)
			chunk = STR_FIRST_READ;
		if (chunk > len - got)
			chunk = len - got;
		struct iovec local = { buf + got, chunk }, remote = { (void *)(uintptr_t)cur, chunk };
		ssize_t n = process_vm_readv(r->tid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return n < 0 && errno == ESRCH ? -ENOENT : -EFAULT;
		char *nul = memchr(buf + got, 0, n);
		if (nul)
			return nul - buf;
		got += n;
	}
	return -ENAMETOOLONG;
}

ssize_t req_write(struct sysreq *r, uint64_t addr, const void *buf, size_t len)
{
	if (!len)
		return 0;
	struct iovec local = { (void *)buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_writev(r->tid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return errno == ESRCH ? -ENOENT : -EFAULT;
	return (size_t)n < len ? -EFAULT : n;
}

int notify_id_valid(struct sysreq *r)
{
	uint64_t id = r->id;
	return ioctl(r->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 ? -ENOENT : 0;
}

static int send_resp(struct sysreq *r, int64_t val, int32_t err, uint32_t flags)
{
	struct seccomp_notif_resp resp = { .id = r->id, .val = val, .error = err, .flags = flags };
	r->replied = true;
	if (ioctl(r->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
		return neg_errno();
	return 0;
}

int notify_reply(struct sysreq *r, long val)
{
	if (val < 0)
		return send_resp(r, 0, (int32_t)val, 0);
	return send_resp(r, val, 0, 0);
}

int notify_reply_continue(struct sysreq *r)
{
	return send_resp(r, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

static int addfd(struct sysreq *r, int fd, int target, bool cloexec, uint32_t flags)
{
	struct seccomp_notif_addfd addfd = {
		.id = r->id,
		.flags = flags,
		.srcfd = (uint32_t)fd,
		.newfd = (uint32_t)target,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int n = ioctl(r->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	return n < 0 ? neg_errno() : n;
}

int notify_reply_fd(struct sysreq *r, int fd, bool cloexec)
{
	int n = addfd(r, fd, 0, cloexec, SECCOMP_ADDFD_FLAG_SEND);
	if (n >= 0)
		r->replied = true;
	return n;
}

/* ADDFD with SETFD, then the answer: no SEND, whose result would be the
 * fd's number. The task waits killably in its notification (the filter's
 * WAIT_KILLABLE_RECV), so nothing of the guest runs between the two; if
 * it dies in between, the fd went with its table. */
int notify_reply_fd_at(struct sysreq *r, int fd, int target, bool cloexec, long val)
{
	int n = addfd(r, fd, target, cloexec, SECCOMP_ADDFD_FLAG_SETFD);
	if (n < 0)
		return n;
	return notify_reply(r, val);
}

int notify_addfd(struct sysreq *r, int fd, bool cloexec)
{
	return addfd(r, fd, 0, cloexec, 0);
}

static int notify_listener = -1;

void notify_set_listener(int listener)
{
	notify_listener = listener;
}

static int notify_receive_one(struct sysreq *r)
{
	return notify_receive(notify_listener, r);
}

const struct platform_ops notify_platform_ops = {
	.kind = PLATFORM_SECCOMP,
	.name = "seccomp",
	.receive = notify_receive_one,
	.id_valid = notify_id_valid,
	.reply = notify_reply,
	.reply_continue = notify_reply_continue,
	.reply_fd = notify_reply_fd,
	.reply_fd_at = notify_reply_fd_at,
	.reply_restart = notify_reply_restart,
	.follow_clone = notify_follow_clone,
	.exec = notify_exec,
};
