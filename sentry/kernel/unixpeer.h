/* SPDX-License-Identifier: MIT */
/* Who connected a path AF_UNIX connection the sentry made (unixpeer.c).
 *
 * The sentry connects a guest's socket to a path on its own copy
 * (syscalls/sys_unix.c), so the kernel records the sentry as the
 * connecting peer: SO_PEERCRED on the accepted socket would name it. The
 * sentry notes who asked for each such connect, by the connecting
 * socket's inode, and finds it again from the accepted side through the
 * kernel's sock_diag (UNIX_DIAG_PEER: the inode of a socket's peer), on a
 * NETLINK_SOCK_DIAG socket pid 1 made in the guest's network namespace.
 *
 * All under the sentry lock. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

struct cred;

struct unixpeer {
	pid_t vpid;
	uid_t euid;
	gid_t egid;
	int ngroups;
	gid_t groups[32];
};

/* The sock_diag socket (taken; -1: none, and lookups find nothing). */
void unixpeer_set_diag(int fd);

/* The guest task (sandbox pid vpid, credentials c) connected the socket
 * with inode ino through the sentry: Linux keeps the connecting side's
 * credentials of that moment. The table is bounded; the oldest entry
 * goes first. */
void unixpeer_connected(ino_t ino, pid_t vpid, const struct cred *c);

/* The guest behind the peer of the socket with inode ino, if that peer
 * is a connection the sentry made for it: true and *ret. */
bool unixpeer_find(ino_t ino, struct unixpeer *ret);
