/* SPDX-License-Identifier: MIT */
/* The TCP fast path and the guards on host-namespace sockets
 * (sys_inet.c), for the socket handlers of sys_unix.c and sys_socket.c. */
#pragma once
#include <stdbool.h>
#include <sys/socket.h>

struct sysreq;

/* --net=sandbox with the fast path on (sentry.net_fp). */
bool inet_fastpath_on(void);
/* Is s (the sentry's copy of a guest socket) a socket of the host's
 * network namespace, i.e. one the fast path installed? */
bool inet_is_host_socket(int s);
/* connect and bind with the fast path on: performed by the sentry on its
 * copy of the socket, whatever the address (never CONTINUEd). */
long inet_connect(struct sysreq *r);
long inet_bind(struct sysreq *r);
/* getsockname of s: a host socket shows the sandbox's address. */
void inet_sockname_fix(int s, struct sockaddr_storage *ss, socklen_t len);
