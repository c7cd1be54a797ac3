/* SPDX-License-Identifier: MIT */
/* The TCP fast path and the guards on host-namespace sockets
 * (sys_inet.c), for the socket handlers of sys_unix.c and sys_socket.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct sysreq;

/* --net=sandbox with the fast path on (sentry.net_fp). */
bool inet_fastpath_on(void);
/* Is s (the sentry's copy of a guest socket) a socket of the host's
 * network namespace, i.e. one the fast path installed? */
bool inet_is_host_socket(int s);
/* Does a TCP connect to addr (4 bytes for AF_INET, 16 for AF_INET6) leave
 * the sandbox through slirp, and so take the fast path? Not loopback,
 * 0/8 or ::, the sandbox's subnets, link-local, IPv4 in IPv6. */
bool inet_leaves_sandbox(int family, const uint8_t *addr);
/* connect and bind with the fast path on: performed by the sentry on its
 * copy of the socket, whatever the address (never CONTINUEd). */
long inet_connect(struct sysreq *r);
long inet_bind(struct sysreq *r);
/* getsockname of s: a host socket shows the sandbox's address. */
void inet_sockname_fix(int s, struct sockaddr_storage *ss, socklen_t len);
