/* SPDX-License-Identifier: MIT */
/* AF_UNIX sockets bound to paths (docs/architecture.md, "Unix sockets").
 *
 * The guest's host root is empty, so a path address never reaches a host
 * socket. A path-bound socket is a VSOCK vnode in the sentry's VFS; the
 * guest's socket itself is bound (by the sentry, on its pidfd_getfd copy)
 * to an abstract name in the guest's own network namespace. This table
 * says which abstract name stands for which socket file, by the file's
 * sandbox identity (st_dev, st_ino: hard links and renames keep it), and
 * which path the guest bound, for getsockname and getpeername.
 *
 * All under the sentry lock. */
#pragma once
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* The longest abstract name the table makes, with its leading NUL. */
#define UNIXADDR_ABSTRACT_LEN 22

/* A new abstract name for the socket file (dev, ino), which the guest bound
 * as `path` (NUL-terminated, as bind saw it). An older entry for the same
 * identity is replaced (its file is gone: a new file got its number).
 * Fills *ret and *ret_len with the abstract address. 0 or -errno
 * (-ENOSPC: the table is full). */
int unixaddr_add(dev_t dev, ino_t ino, const char *path, struct sockaddr_un *ret,
		 socklen_t *ret_len);

/* The abstract address of the socket file (dev, ino), for connect and
 * sendto. 0, or -ECONNREFUSED when no socket was ever bound to it here. */
int unixaddr_find(dev_t dev, ino_t ino, struct sockaddr_un *ret, socklen_t *ret_len);

/* The socket file is gone (its last name removed, or the bind failed). */
void unixaddr_forget(dev_t dev, ino_t ino);

/* If addr (as the kernel reports it) is one of the table's abstract names,
 * replace it with the path the guest bound and return 1; 0 leaves it. */
int unixaddr_translate(struct sockaddr_un *addr, socklen_t *len);

size_t unixaddr_count(void);
