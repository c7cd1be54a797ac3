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
 * nothing). */
#include <errno.h>
#include <json-c/json.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "sentry/kernel/audit.h"
#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers.h"

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
			return refuse(r, "socket", "type", type, EPERM);
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
	if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name)) < 0)
		return neg_errno();
	return 0;
}

long sys_setsockopt(struct sysreq *r)
{
	int level = (int)r->args[1], name = (int)r->args[2];
	switch (level) {
	case SOL_SOCKET:
		if (name == SO_BINDTODEVICE)
			return bind_to_device(r);
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
