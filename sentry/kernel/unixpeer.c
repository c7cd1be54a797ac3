/* SPDX-License-Identifier: MIT */
/* The connecting guests of the path connections the sentry made
 * (unixpeer.h). A ring of the latest connects, searched newest first:
 * lookups happen only when the kernel names the sentry as a peer. */
#include "sentry/kernel/unixpeer.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/unix_diag.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/kernel/task.h"

/* Connects whose accepting side may still ask; older ones show as the
 * overflow ids (pid 0), as before. */
#define RING 1024

struct entry {
	ino_t ino;
	struct unixpeer who;
};

static struct entry ring[RING];
static size_t next, used;
static int diag = -1;

void unixpeer_set_diag(int fd)
{
	safe_close(diag);
	diag = fd;
}

void unixpeer_connected(ino_t ino, pid_t vpid, const struct cred *c)
{
	struct entry *e = &ring[next];
	next = (next + 1) % RING;
	if (used < RING)
		used++;
	*e = (struct entry){ .ino = ino, .who = { .vpid = vpid, .euid = c->euid, .egid = c->egid } };
	int n = c->ngroups < 32 ? c->ngroups : 32;
	memcpy(e->who.groups, c->groups, (size_t)n * sizeof(gid_t));
	e->who.ngroups = n;
}

/* The inode of the peer of socket ino, from the kernel: 0 if none. */
static uint32_t diag_peer(ino_t ino)
{
	if (diag < 0)
		return 0;
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req r;
	} q = {
		.nh = { .nlmsg_len = sizeof(q), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0U, .udiag_ino = (uint32_t)ino,
		       .udiag_show = UDIAG_SHOW_PEER,
		       .udiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE } },
	};
	struct iovec iov = { &q, sizeof(q) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	/* Answers left from an earlier query that failed half-way. */
	char buf[1024];
	struct iovec riov = { buf, sizeof(buf) };
	struct msghdr rm = { .msg_iov = &riov, .msg_iovlen = 1 };
	while (recvmsg(diag, &rm, MSG_DONTWAIT) > 0)
		;
	if (sendmsg(diag, &m, MSG_NOSIGNAL) != (ssize_t)sizeof(q))
		return 0;
	/* The kernel answers at once, in the call; a short wait covers a
	 * delayed wakeup, never a guest. */
	struct pollfd pfd = { diag, POLLIN, 0 };
	if (poll(&pfd, 1, 100) != 1)
		return 0;
	ssize_t n = recvmsg(diag, &rm, MSG_DONTWAIT);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
		return 0;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 0;
	struct unix_diag_msg *dm = NLMSG_DATA(h);
	if (dm->udiag_ino != (uint32_t)ino)
		return 0;
	size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*dm));
	for (struct rtattr *a = (struct rtattr *)(dm + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			uint32_t peer;
			memcpy(&peer, RTA_DATA(a), sizeof(peer));
			return peer;
		}
	return 0;
}

bool unixpeer_find(ino_t ino, struct unixpeer *ret)
{
	if (!used)
		return false;
	uint32_t peer = diag_peer(ino);
	if (!peer)
		return false;
	for (size_t k = 0; k < used; k++) {
		const struct entry *e = &ring[(next + RING - 1 - k) % RING];
		if (e->ino == peer) {
			*ret = e->who;
			return true;
		}
	}
	return false;
}
