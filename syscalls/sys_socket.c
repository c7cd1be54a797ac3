/* SPDX-License-Identifier: MIT */
/* socket and setsockopt (docs/networking.md, "Sockets").
 *
 * socket: the table lets AF_UNIX through in the filter and sends AF_INET,
 * AF_INET6, AF_NETLINK and AF_PACKET here. Raw and packet-type sockets of
 * the Internet families, and packet sockets, are refused with EPERM, what
 * an unprivileged process gets from Linux, whatever the guest's
 * capabilities: the network helper's policy judges TCP, UDP and ICMP echo,
 * and a raw socket could send anything else.
 * Netlink families other than route and sock_diag reach state that is not
 * per network namespace: uevent sockets receive the host's device events,
 * and audit, netfilter queues, connector and the rest are host-wide or need
 * privileges the guest must not probe. These decisions rest on registers
 * alone (domain, type, protocol), so CONTINUE is within the design's rule:
 * the kernel re-reads nothing from guest memory.
 *
 * setsockopt: options that reach beyond the socket are refused on their
 * (level, name) registers; SO_BINDTODEVICE names a device in guest memory,
 * so the sentry reads it once, checks it is one of the sandbox's own
 * interfaces and sets it itself on its copy of the socket (the same open
 * socket; a sibling thread swapping the name or the fd afterwards changes
 * nothing). SO_BINDTOIFINDEX likewise. On a TCP fast-path socket (one of
 * the host's namespace, syscalls/sys_inet.c) both are accepted and not
 * applied: the names and indexes would be the host's interfaces.
 *
 * getsockopt: SO_PEERCRED and SO_PEERGROUPS would give the host's uid and
 * gids of the peer (every guest process runs as the sandbox's one host
 * uid, with no user namespace to translate it). The sentry asks the kernel
 * on its copy of the socket who the peer is and answers with that task's
 * sandbox pid and credentials: euid/egid now, where Linux keeps those of
 * connect() time (they differ only if the peer changed ids since). Where
 * the kernel names the sentry itself (the accepting side of a path
 * connection the sentry made), the guest that asked for the connect,
 * with its ids of that moment (sentry/kernel/unixpeer.h). A peer outside
 * the sandbox (a --bind-socket) shows as the overflow ids and pid 0, as a
 * process of an unmapped user in another pid namespace would. */
#include <errno.h>
#include <json-c/json.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/kernel/audit.h"
#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/unixpeer.h"
#include "syscalls/handlers.h"
#include "syscalls/sys_inet.h"

static long refuse(struct sysreq *r, const char *call, const char *what, int value, int err)
{
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "syscall", json_object_new_string(call));
	json_object_object_add(f, "pid", json_object_new_int(r->task ? r->task->vtid : 0));
	json_object_object_add(f, what, json_object_new_int(value));
	json_object_object_add(f, "errno", json_object_new_int(err));
	audit_event("deny", f);
	return -err;
}

long sys_socket(struct sysreq *r)
{
	int domain = (int)r->args[0], type = (int)r->args[1] & 0xf, protocol = (int)r->args[2];
	if (domain == AF_INET || domain == AF_INET6) {
		if (type == SOCK_RAW || type == SOCK_PACKET)
			return refuse(r, "socket", "socket_type", type, EPERM);
		return SYSRET_CONTINUE;
	}
	if (domain == AF_PACKET)
		return refuse(r, "socket", "family", domain, EPERM);
	if (domain != AF_NETLINK)
		return -EAFNOSUPPORT; /* the filter sends nothing else here */
	if (protocol == NETLINK_ROUTE || protocol == NETLINK_SOCK_DIAG)
		return SYSRET_CONTINUE;
	return refuse(r, "socket", "protocol", protocol, EPROTONOSUPPORT);
}

/* The interfaces a sandbox has in its own network namespace (net/net.h). */
static const char *const own_ifaces[] = { "lo", "eth0", NULL };

static long bind_to_device(struct sysreq *r)
{
	int fd = (int)r->args[0];
	socklen_t len = (socklen_t)r->args[4];
	char name[IFNAMSIZ + 1] = "";
	if (len > IFNAMSIZ)
		len = IFNAMSIZ; /* the kernel reads at most that much, too */
	if (len > 0 && req_read(r, r->args[3], name, len) != (ssize_t)len)
		return -EFAULT;
	name[len] = 0;
	bool ok = !name[0]; /* "" unbinds */
	for (const char *const *i = own_ifaces; *i && !ok; i++)
		ok = !strcmp(name, *i);
	if (!ok)
		return -ENODEV;
	if (fd < 0 || !r->task)
		return -EBADF;
	_cleanup_close_ int s = task_file_dup(r->task, fd);
	if (s < 0)
		return s;
	if (req_id_valid(r) < 0)
		return -ENOENT;
	/* A TCP fast-path socket lives in the host's namespace, where these
	 * names are the host's interfaces: accepted and not applied (its
	 * connection leaves through the host's routes, which the sandbox
	 * sees as eth0). */
	if (inet_is_host_socket(s))
		return 0;
	if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name)) < 0)
		return neg_errno();
	return 0;
}

/* SO_BINDTOIFINDEX: the index is in guest memory, read once and set on the
 * sentry's copy, so that it can never reach a host socket (above). */
static long bind_to_ifindex(struct sysreq *r)
{
	int fd = (int)r->args[0], idx;
	if ((socklen_t)r->args[4] < sizeof(idx))
		return -EINVAL;
	if (req_read(r, r->args[3], &idx, sizeof(idx)) != (ssize_t)sizeof(idx))
		return -EFAULT;
	if (fd < 0 || !r->task)
		return -EBADF;
	_cleanup_close_ int s = task_file_dup(r->task, fd);
	if (s < 0)
		return s;
	if (inet_is_host_socket(s))
		return 0;
	return setsockopt(s, SOL_SOCKET, SO_BINDTOIFINDEX, &idx, sizeof(idx)) < 0 ? neg_errno() : 0;
}

long sys_setsockopt(struct sysreq *r)
{
	int level = (int)r->args[1], name = (int)r->args[2];
	switch (level) {
	case SOL_SOCKET:
		if (name == SO_BINDTODEVICE)
			return bind_to_device(r);
		if (name == SO_BINDTOIFINDEX)
			return bind_to_ifindex(r);
		if (name == SO_MARK || name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE)
			return refuse(r, "setsockopt", "optname", name, EPERM);
		break;
	case SOL_IP:
		if (name == IP_TRANSPARENT)
			return refuse(r, "setsockopt", "optname", name, EPERM);
		break;
	case SOL_IPV6:
		if (name == IPV6_TRANSPARENT)
			return refuse(r, "setsockopt", "optname", name, EPERM);
		break;
	}
	return SYSRET_CONTINUE; /* another level's option of the same number */
}

#define OVERFLOW_ID 65534

/* The sandbox's view of the peer of socket s: the task whose host pid the
 * kernel gives, or, where the kernel names the sentry itself (a path
 * connection it made), the guest that asked for it (unixpeer.h). False:
 * no peer of the sandbox's (not connected, or outside it). */
static bool peer_of(int s, struct unixpeer *ret)
{
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0)
		return false;
	if (uc.pid > 0 && uc.pid == getpid()) {
		struct stat st;
		return fstat(s, &st) == 0 && unixpeer_find(st.st_ino, ret);
	}
	const struct task *t = uc.pid > 0 ? task_find(uc.pid) : NULL;
	if (!t)
		return false;
	const struct cred *c = t->cred;
	*ret = (struct unixpeer){ .vpid = t->proc->vpid, .euid = c->euid, .egid = c->egid };
	ret->ngroups = c->ngroups < 32 ? c->ngroups : 32;
	memcpy(ret->groups, c->groups, (size_t)ret->ngroups * sizeof(gid_t));
	return true;
}

static long peercred(struct sysreq *r, int s, int len)
{
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0)
		return neg_errno();
	struct unixpeer p;
	bool known = peer_of(s, &p);
	/* No peer (not connected), or one outside the sandbox: pid 0 and the
	 * overflow ids, as for an unmapped user in another pid namespace. */
	struct ucred out = { .pid = known ? p.vpid : 0, .uid = known ? p.euid : OVERFLOW_ID,
			     .gid = known ? p.egid : OVERFLOW_ID };
	size_t n = (size_t)len < sizeof(out) ? (size_t)len : sizeof(out);
	if (req_write(r, r->args[3], &out, n) != (ssize_t)n)
		return -EFAULT;
	int nl = (int)n;
	if (req_write(r, r->args[4], &nl, sizeof(nl)) != (ssize_t)sizeof(nl))
		return -EFAULT;
	return 0;
}

static long peergroups(struct sysreq *r, int s, int len)
{
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	/* The groups are the peer's: who that is, the kernel says. */
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0)
		return neg_errno();
	struct unixpeer p;
	bool known = peer_of(s, &p);
	int n = known ? p.ngroups : 0;
	int need = n * (int)sizeof(gid_t);
	if (req_write(r, r->args[4], &need, sizeof(need)) != (ssize_t)sizeof(need))
		return -EFAULT;
	if (len < need)
		return -ERANGE; /* with the size it needs, as Linux answers */
	if (need && req_write(r, r->args[3], p.groups, (size_t)need) != need)
		return -EFAULT;
	return 0;
}

long sys_getsockopt(struct sysreq *r)
{
	int fd = (int)r->args[0], level = (int)r->args[1], name = (int)r->args[2];
	if (level != SOL_SOCKET || (name != SO_PEERCRED && name != SO_PEERGROUPS))
		return SYSRET_CONTINUE; /* another level's option of the same number */
	if (fd < 0 || !r->task)
		return -EBADF;
	int len;
	if (req_read(r, r->args[4], &len, sizeof(len)) != (ssize_t)sizeof(len))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	_cleanup_close_ int s = task_file_dup(r->task, fd);
	if (s < 0)
		return s;
	return name == SO_PEERCRED ? peercred(r, s, len) : peergroups(r, s, len);
}
