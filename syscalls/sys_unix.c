/* SPDX-License-Identifier: MIT */
/* AF_UNIX addresses that name paths: bind, connect, getsockname and
 * getpeername (sentry/kernel/unixaddr.h has the design); the sends that
 * carry one are in sys_unix_send.c.
 *
 * Every other address goes back to the kernel with CONTINUE. That is a
 * decision on guest memory, which the kernel then reads again; it is sound
 * here because the decision protects nothing: it only chooses between
 * emulating and letting the call run as if the filter had passed it. A
 * guest that rewrites the address in between gets what the filter would
 * have given it anyway: its own network namespace (the network helper
 * polices what leaves it, on packets), and for a path, the guest's empty,
 * read-only host root, where no socket exists. That holds only while every
 * socket the guest holds lives in its own namespace: with the TCP fast
 * path on (--net=sandbox), some are the host's, and connect and bind
 * CONTINUE nothing (syscalls/sys_inet.c).
 *
 * A path address is handled on the sentry's pidfd_getfd copy of the
 * guest's socket, with the address read once. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/unixaddr.h"
#include "sentry/kernel/unixpeer.h"
#include "syscalls/handlers.h"
#include "syscalls/sys_fs.h"
#include "syscalls/sys_inet.h"
#include "syscalls/sys_unix.h"

int unix_addr_path(const struct sockaddr_un *sun, size_t len, char *path)
{
	const size_t base = offsetof(struct sockaddr_un, sun_path);
	/* Autobind, too short, too long (unix_validate_addr: EINVAL, which
	 * the kernel gives), another family, an abstract name. */
	if (len <= base || len > sizeof(*sun) || sun->sun_family != AF_UNIX || sun->sun_path[0] == 0)
		return 0;
	/* unix_mkname_bsd: the path ends at the length or its first NUL. */
	size_t plen = strnlen(sun->sun_path, len - base);
	if (plen >= sizeof(sun->sun_path))
		plen = sizeof(sun->sun_path) - 1;
	memcpy(path, sun->sun_path, plen);
	path[plen] = 0;
	return 1;
}

int unix_read_path_addr(struct sysreq *r, uint64_t uaddr, uint64_t ulen, char *path)
{
	int len = (int)ulen;
	if (len < 0 || (size_t)len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	const size_t base = offsetof(struct sockaddr_un, sun_path);
	if ((size_t)len <= base)
		return 0; /* autobind, or too short: the kernel answers */
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	size_t n = (size_t)len < sizeof(sun) ? (size_t)len : sizeof(sun);
	if (sys_get(r, uaddr, &sun, n) < 0)
		return -EFAULT;
	return unix_addr_path(&sun, n, path);
}

int guest_socket_copy(struct sysreq *r, int fd, int *ret_domain)
{
	if (!r->task)
		return -ESRCH;
	if (fd < 0)
		return -EBADF;
	_cleanup_close_ int s = task_file_dup(r->task, fd);
	if (s < 0)
		return s;
	struct stat st;
	if (fstat(s, &st) < 0)
		return neg_errno();
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	socklen_t dl = sizeof(*ret_domain);
	if (getsockopt(s, SOL_SOCKET, SO_DOMAIN, ret_domain, &dl) < 0)
		return neg_errno();
	return TAKE_FD(s);
}

int unix_socket_copy(struct sysreq *r, int fd, int *ret)
{
	*ret = -1;
	int domain;
	int s = guest_socket_copy(r, fd, &domain);
	if (s < 0)
		return s;
	if (domain == AF_UNIX)
		*ret = s;
	else
		close(s);
	return 0;
}

int unix_resolve_socket(struct task *t, const char *path, struct sockaddr_un *ret,
			  socklen_t *ret_len)
{
	struct nameidata nd;
	int err = namei(t, AT_FDCWD, path, LOOKUP_FOLLOW, &nd);
	if (err < 0)
		return err;
	struct stat st;
	if (!nd.vn)
		err = -ECONNREFUSED; /* a magic link to a host fd */
	else if ((err = vfs_permission(nd.vn, t->cred, W_OK)) == 0 &&
		 (err = vfs_getattr(nd.vn, &st)) == 0)
		err = nd.vn->type != VSOCK ? -ECONNREFUSED
					   : unixaddr_find(st.st_dev, st.st_ino, ret, ret_len);
	nd_release(&nd);
	return err;
}

long unix_bind_path(struct sysreq *r, int s, const char *path)
{
	/* A socket binds once (unix_bind: EINVAL when it has an address). */
	struct sockaddr_storage cur;
	socklen_t cl = sizeof(cur);
	if (getsockname(s, (struct sockaddr *)&cur, &cl) < 0)
		return neg_errno();
	if (cl > sizeof(sa_family_t))
		return -EINVAL;

	struct task *t = r->task;
	struct nameidata nd;
	int err = namei(t, AT_FDCWD, path, LOOKUP_PARENT, &nd);
	if (err < 0)
		return err;
	/* A socket inode's mode is 0777; the file gets it less the umask. */
	err = sys_mknod_at(t, &nd, S_IFSOCK | 0777);
	if (err < 0) {
		nd_release(&nd);
		return err == -EEXIST ? -EADDRINUSE : err;
	}
	struct vnode *vn = NULL;
	struct stat st;
	err = vfs_lookup_one(nd.root, nd.dir, nd.last, &vn);
	if (err == 0) {
		err = vfs_getattr(vn, &st);
		vn_unref(vn);
	}
	struct sockaddr_un abs;
	socklen_t al;
	if (err == 0)
		err = unixaddr_add(st.st_dev, st.st_ino, path, &abs, &al);
	if (err == 0 && bind(s, (struct sockaddr *)&abs, al) < 0) {
		err = neg_errno();
		unixaddr_forget(st.st_dev, st.st_ino);
	}
	if (err < 0)
		sys_unlink_at(t, &nd); /* bind failed: the file goes, as in Linux */
	nd_release(&nd);
	return err;
}

long sys_bind(struct sysreq *r)
{
	if (inet_fastpath_on())
		return inet_bind(r);
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int err = unix_read_path_addr(r, r->args[1], r->args[2], path);
	if (err <= 0)
		return err ? err : SYSRET_CONTINUE;
	_cleanup_close_ int s = -1;
	err = unix_socket_copy(r, (int)r->args[0], &s);
	if (err < 0)
		return err;
	if (s < 0)
		return SYSRET_CONTINUE;
	return unix_bind_path(r, s, path);
}

long unix_connect_path(struct sysreq *r, int s, const char *path)
{
	struct sockaddr_un abs;
	socklen_t al;
	int err = unix_resolve_socket(r->task, path, &abs, &al);
	if (err < 0)
		return err;
	/* The kernel will name the sentry as the connecting peer: note who
	 * asked, before the accepting side can ask back (unixpeer.h). */
	struct stat st;
	if (fstat(s, &st) == 0)
		unixpeer_connected(st.st_ino, r->task->proc->vpid, r->task->cred);
	/* A stream connect waits while the listener's backlog is full; a
	 * signal to the guest thread ends the wait with EINTR. */
	vfs_block_begin();
	int rc = connect(s, (struct sockaddr *)&abs, al);
	err = rc < 0 ? neg_errno() : 0;
	vfs_block_end();
	return err;
}

long sys_connect(struct sysreq *r)
{
	/* With the TCP fast path on, host-namespace sockets exist in the
	 * guest: nothing is CONTINUEd (sys_inet.c). */
	if (inet_fastpath_on())
		return inet_connect(r);
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int err = unix_read_path_addr(r, r->args[1], r->args[2], path);
	if (err <= 0)
		return err ? err : SYSRET_CONTINUE;
	_cleanup_close_ int s = -1;
	err = unix_socket_copy(r, (int)r->args[0], &s);
	if (err < 0)
		return err;
	if (s < 0)
		return SYSRET_CONTINUE;
	return unix_connect_path(r, s, path);
}

/* getsockname, getpeername: the kernel's answer, with the sentry's
 * abstract names shown as the paths the guest bound. */
long sys_sockname(struct sysreq *r)
{
	if (!r->task)
		return -ESRCH;
	if ((int)r->args[0] < 0)
		return -EBADF;
	_cleanup_close_ int s = task_file_dup(r->task, (int)r->args[0]);
	if (s < 0)
		return s;
	int ulen;
	if (sys_get(r, r->args[2], &ulen, sizeof(ulen)) < 0)
		return -EFAULT;
	if (ulen < 0)
		return -EINVAL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = r->nr == __NR_getpeername ? getpeername(s, (struct sockaddr *)&ss, &len)
					   : getsockname(s, (struct sockaddr *)&ss, &len);
	if (rc < 0)
		return neg_errno();
	unixaddr_translate((struct sockaddr_un *)&ss, &len);
	if (r->nr == __NR_getsockname)
		inet_sockname_fix(s, &ss, len);
	/* move_addr_to_user: copy what fits, report the full length. */
	size_t n = (size_t)ulen < len ? (size_t)ulen : len;
	if (n && sys_put(r, r->args[1], &ss, n) < 0)
		return -EFAULT;
	int out = (int)len;
	if (sys_put(r, r->args[2], &out, sizeof(out)) < 0)
		return -EFAULT;
	return 0;
}
