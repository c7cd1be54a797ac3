/* SPDX-License-Identifier: MIT */
/* socket: the table lets AF_UNIX, AF_INET and AF_INET6 through in the
 * filter and sends AF_NETLINK here. Netlink families other than route and
 * sock_diag reach state that is not per network namespace: uevent sockets
 * receive the host's device events, and audit, netfilter queues, connector
 * and the rest are host-wide or need privileges the guest must not probe.
 * The decision rests on registers (domain, protocol) alone, so CONTINUE is
 * within the design's rule: the kernel re-reads nothing from guest memory. */
#include <errno.h>
#include <json-c/json.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "sentry/kernel/audit.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers.h"

long sys_socket(struct sysreq *r)
{
	int domain = (int)r->args[0], protocol = (int)r->args[2];
	if (domain != AF_NETLINK)
		return -EAFNOSUPPORT; /* the filter sends nothing else here */
	if (protocol == NETLINK_ROUTE || protocol == NETLINK_SOCK_DIAG)
		return SYSRET_CONTINUE;
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "syscall", json_object_new_string("socket"));
	json_object_object_add(f, "pid", json_object_new_int(r->task ? r->task->vtid : 0));
	json_object_object_add(f, "family", json_object_new_string("AF_NETLINK"));
	json_object_object_add(f, "protocol", json_object_new_int(protocol));
	json_object_object_add(f, "errno", json_object_new_int(EPROTONOSUPPORT));
	audit_event("deny", f);
	return -EPROTONOSUPPORT;
}
