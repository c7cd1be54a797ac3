/* SPDX-License-Identifier: MIT */
/* Path AF_UNIX addresses, shared by sys_unix.c (bind, connect, names) and
 * sys_unix_send.c (sendto, sendmsg, sendmmsg). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct sysreq;
struct task;

/* Linux's limit on a datagram the sentry forwards: a unix socket's
 * largest send buffer (net.core.wmem_max's default is smaller still). */
#define UNIX_SEND_MAX (4u << 20)

/* 1 if sun (len bytes, already read from the guest) is a path AF_UNIX
 * address: its path, NUL-terminated, in path (room for sun_path); 0 for
 * anything else (another family, an abstract name, autobind). */
int unix_addr_path(const struct sockaddr_un *sun, size_t len, char *path);

/* The guest's sockaddr at uaddr, read once: 1 and its path as above, 0,
 * or -errno as the kernel gives it (move_addr_to_kernel). */
int unix_read_path_addr(struct sysreq *r, uint64_t uaddr, uint64_t ulen, char *path);

/* The sentry's copy of the guest's socket fd (pidfd_getfd), with its
 * family in *ret_domain; -ENOTSOCK for other files. */
int guest_socket_copy(struct sysreq *r, int fd, int *ret_domain);
/* The same for AF_UNIX only: 0 (with *ret -1) when it is a socket of
 * another family, whose kernel refuses an AF_UNIX address itself. */
int unix_socket_copy(struct sysreq *r, int fd, int *ret);

/* The socket file `path` names, for connect and the sends: its abstract
 * address, with the kernel's errors (unix_find_bsd: the walk's, EACCES
 * without write permission, ECONNREFUSED for what is not a bound socket). */
int unix_resolve_socket(struct task *t, const char *path, struct sockaddr_un *ret,
			socklen_t *ret_len);

/* connect and bind of the sentry's copy s of an AF_UNIX socket to the
 * socket file `path` (read once from the guest). */
long unix_connect_path(struct sysreq *r, int s, const char *path);
long unix_bind_path(struct sysreq *r, int s, const char *path);
