/* SPDX-License-Identifier: MIT */
/* Sends the kernel cannot be left to judge: sendto with a path AF_UNIX
 * address, sendmsg and sendmmsg with one in msg_name, and sendmsg with
 * SCM_CREDENTIALS (docs/architecture.md, "Unix sockets bound to paths").
 *
 * The filter cannot see into a msghdr, so every sendmsg and sendmmsg is
 * notified (sendto only with an address: that is a register), which costs
 * each a notification (about 12 us; bench numbers in the commit). The
 * handler reads the message once. Without a path name or control data it
 * answers CONTINUE after that one read; with control data but no
 * SCM_CREDENTIALS, too. That is sound on the ground sys_unix.c gives: the
 * decision protects nothing, and whatever a sibling thread writes there
 * meanwhile, the kernel gives the guest what a passed call would (its own
 * netns; for a path, its empty host root: ENOENT; for credentials, the
 * host's check, which lets it name only its host uid). The network helper
 * polices what leaves on packets, never on a sockaddr. A path given to a
 * stream or seqpacket socket is not resolved (Linux never does: EISCONN,
 * EOPNOTSUPP, or ignored).
 *
 * Otherwise the sentry sends on its pidfd_getfd copy of the guest's
 * socket, with the data, name and control data it read: a path becomes
 * the abstract address its socket file stands for; SCM_RIGHTS fds become
 * the sentry's copies of the guest's files (the kernel passes the same
 * open files); SCM_CREDENTIALS are checked against the guest's sandbox
 * credentials as Linux checks them (scm_check_creds: its pid, its real,
 * effective or saved ids; root inside names anyone) and then left out,
 * since the kernel would check them against the sentry. A receiver with
 * SO_PASSCRED therefore sees the sentry as the sender of these (pid 0,
 * the sandbox's host uid), as for sendto to a path; the receiving side is
 * not trapped (recvmsg stays native). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers.h"
#include "syscalls/sys_fs.h"
#include "syscalls/sys_unix.h"

#ifndef SCM_MAX_FD
#define SCM_MAX_FD 253
#endif
/* Control data a guest may send: the kernel's bound is net.core.optmem_max
 * (20 KiB to 128 KiB), ENOBUFS past it; below ours, the sentry's own
 * sendmsg meets it. */
#define CONTROL_MAX (128u << 10)
/* sendmmsg's bound (UIO_MAXIOV, as the kernel's). */
#define MMSG_MAX 1024
/* The kernel's bound on one read or write (MAX_RW_COUNT). */
#define MAX_RW ((size_t)0x7ffff000)

/* x86-64's access_ok on a range (4-level paging): it may not wrap or end
 * past the last user page's start (a hole below faults later, at the
 * copy). */
static bool range_ok(uintptr_t b, size_t l)
{
	return b + l >= b && b + l <= 0x7ffffffff000ULL;
}

/* A message's name, read once from the guest. */
struct uname {
	struct sockaddr_storage name;
	socklen_t namelen;
	bool has_path;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One message, read once from the guest. */
struct umsg {
	struct uname n;
	struct iovec *iov; /* the guest's, as read */
	size_t niov;
	char *data;
	size_t len;
	char *control; /* SCM_RIGHTS holding the sentry's fds; no SCM_CREDENTIALS */
	size_t controllen;
	int fds[SCM_MAX_FD];
	size_t nfds;
};

static void umsg_free(struct umsg *m)
{
	free(m->iov);
	free(m->data);
	free(m->control);
	for (size_t i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->iov = NULL;
	m->data = m->control = NULL;
	m->nfds = 0;
}

/* The name only: enough to decide whether the sentry sends at all. */
static int read_name(struct sysreq *r, const struct msghdr *mh, struct uname *m)
{
	m->namelen = 0;
	m->has_path = false;
	if (!mh->msg_name)
		return 0;
	int len = (int)mh->msg_namelen;
	if (len < 0)
		return -EINVAL;
	/* copy_msghdr_from_user: a longer name is cut, not refused. */
	if ((size_t)len > sizeof(m->name))
		len = sizeof(m->name);
	if (len && sys_get(r, (uint64_t)(uintptr_t)mh->msg_name, &m->name, (size_t)len) < 0)
		return -EFAULT;
	m->namelen = (socklen_t)len;
	m->has_path = unix_addr_path((const struct sockaddr_un *)&m->name, (size_t)len, m->path) > 0;
	return 0;
}

/* The iovec array, read once and checked as import_iovec does, in its
 * order: a negative length, then a range outside user space; the total
 * is cut at MAX_RW_COUNT. */
static int umsg_read_iov(struct sysreq *r, const struct msghdr *mh, struct umsg *m)
{
	if (mh->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	size_t n = mh->msg_iovlen;
	if (!(m->iov = calloc(n ? n : 1, sizeof(*m->iov))))
		return -ENOMEM;
	if (n && sys_get(r, (uint64_t)(uintptr_t)mh->msg_iov, m->iov, n * sizeof(*m->iov)) < 0)
		return -EFAULT;
	for (size_t i = 0; i < n; i++)
		if ((ssize_t)m->iov[i].iov_len < 0)
			return -EINVAL;
	/* One segment takes import_ubuf's way: cut first, then checked. */
	if (n == 1 && m->iov[0].iov_len > MAX_RW)
		m->iov[0].iov_len = MAX_RW;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		uintptr_t b = (uintptr_t)m->iov[i].iov_base;
		size_t l = m->iov[i].iov_len;
		if (!range_ok(b, l))
			return -EFAULT;
		if (l > MAX_RW - total)
			l = m->iov[i].iov_len = MAX_RW - total;
		total += l;
	}
	m->niov = n;
	m->len = total;
	return 0;
}

/* The data, after the checks the kernel makes before it copies any: for
 * a datagram, EMSGSIZE past the send buffer (len > sk_sndbuf - 32); a
 * stream send past UNIX_SEND_MAX is cut short, as a stream may be. */
static int umsg_read_data(struct sysreq *r, int s, int type, struct umsg *m)
{
	size_t max = UNIX_SEND_MAX;
	if (type == SOCK_DGRAM) {
		int sndbuf;
		socklen_t sl = sizeof(sndbuf);
		if (getsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) == 0 && sndbuf > 32 &&
		    (size_t)sndbuf - 32 < max)
			max = (size_t)sndbuf - 32;
		if (m->len > max)
			return -EMSGSIZE;
	} else if (m->len > max) {
		m->len = max;
	}
	if (!(m->data = malloc(m->len ? m->len : 1)))
		return -ENOMEM;
	size_t off = 0;
	for (size_t i = 0; i < m->niov && off < m->len; i++) {
		size_t l = m->iov[i].iov_len < m->len - off ? m->iov[i].iov_len : m->len - off;
		if (l && sys_get(r, (uint64_t)(uintptr_t)m->iov[i].iov_base, m->data + off, l) < 0)
			return -EFAULT;
		off += l;
	}
	return 0;
}

/* scm_check_creds on the sandbox's credentials: the sender's own pid, one
 * of its real, effective or saved ids; root inside (who holds
 * CAP_SYS_ADMIN, CAP_SETUID and CAP_SETGID there) any that exist. */
static int check_creds(const struct task *t, const struct ucred *uc)
{
	if (uc->uid == (uid_t)-1 || uc->gid == (gid_t)-1)
		return -EINVAL;
	const struct cred *c = t->cred;
	bool root = c->euid == 0;
	if (uc->pid != t->proc->vpid) {
		if (!root)
			return -EPERM;
		if (uc->pid <= 0 || !proc_find_vpid(uc->pid))
			return -ESRCH; /* find_get_pid found none */
	}
	if (!root && uc->uid != c->ruid && uc->uid != c->euid && uc->uid != c->suid)
		return -EPERM;
	if (!root && uc->gid != c->rgid && uc->gid != c->egid && uc->gid != c->sgid)
		return -EPERM;
	return 0;
}

/* The control data as the guest wrote it, read once into *ret (NULL for
 * none). */
static int read_control(struct sysreq *r, const struct msghdr *mh, char **ret, size_t *ret_len)
{
	*ret = NULL;
	*ret_len = 0;
	size_t len = mh->msg_controllen;
	if (!len)
		return 0;
	if (len > CONTROL_MAX)
		return -ENOBUFS;
	_cleanup_free_ char *in = malloc(len);
	if (!in)
		return -ENOMEM;
	if (sys_get(r, (uint64_t)(uintptr_t)mh->msg_control, in, len) < 0)
		return -EFAULT;
	*ret = TAKE_PTR(in);
	*ret_len = len;
	return 0;
}

/* Whether control data read by read_control holds SCM_CREDENTIALS. */
static bool has_creds(char *in, size_t len)
{
	struct msghdr h = { .msg_control = in, .msg_controllen = len };
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&h); cm; cm = CMSG_NXTHDR(&h, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS)
			return true;
	return false;
}

/* The control data read by read_control, for the sentry's send, judged
 * as __scm_send does, in order: the guest's fds in SCM_RIGHTS become the
 * sentry's copies, SCM_CREDENTIALS are checked and dropped, another
 * SOL_SOCKET type is EINVAL, other levels are kept (AF_UNIX ignores
 * them). */
static int umsg_control(struct sysreq *r, char *in, size_t len, struct umsg *m)
{
	if (!len)
		return 0;
	if (!(m->control = calloc(1, len)))
		return -ENOMEM;
	struct msghdr hin = { .msg_control = in, .msg_controllen = len };
	size_t out = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&hin); cm; cm = CMSG_NXTHDR(&hin, cm)) {
		/* CMSG_OK */
		if (cm->cmsg_len < sizeof(*cm) || cm->cmsg_len > len - (size_t)((char *)cm - in))
			return -EINVAL;
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;
			if (cm->cmsg_len != CMSG_LEN(sizeof(uc)))
				return -EINVAL;
			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			int err = check_creds(r->task, &uc);
			if (err < 0)
				return err;
			continue;
		}
		struct cmsghdr *o = (struct cmsghdr *)(m->control + out);
		memcpy(o, cm, cm->cmsg_len);
		out += CMSG_ALIGN(cm->cmsg_len);
		if (out > len)
			out = len;
		if (cm->cmsg_level != SOL_SOCKET)
			continue; /* ignored by AF_UNIX, as by the kernel */
		if (cm->cmsg_type != SCM_RIGHTS)
			return -EINVAL; /* __scm_send's default */
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (m->nfds + k > SCM_MAX_FD)
			return -EINVAL;
		for (size_t i = 0; i < k; i++) {
			int gfd;
			memcpy(&gfd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			int fd = gfd < 0 ? -EBADF : task_file_dup(r->task, gfd);
			if (fd < 0)
				return fd == -ESRCH ? fd : -EBADF;
			m->fds[m->nfds++] = fd;
			memcpy(CMSG_DATA(o) + i * sizeof(int), &fd, sizeof(int));
		}
	}
	m->controllen = out;
	return 0;
}

static int umsg_read_control(struct sysreq *r, const struct msghdr *mh, struct umsg *m)
{
	_cleanup_free_ char *in = NULL;
	size_t len;
	int err = read_control(r, mh, &in, &len);
	return err < 0 ? err : umsg_control(r, in, len, m);
}

/* Send m on s (the sentry's copy of the guest's socket): to the socket
 * file's abstract address for a path, else to the name as read. */
static long umsg_send(struct sysreq *r, int s, struct umsg *m, int flags)
{
	struct sockaddr_un abs;
	socklen_t al = 0;
	if (m->n.has_path) {
		int err = unix_resolve_socket(r->task, m->n.path, &abs, &al);
		if (err < 0)
			return err;
	}
	struct iovec iov = { m->data, m->len };
	struct msghdr out = {
		.msg_name = m->n.has_path ? (void *)&abs : m->n.namelen ? (void *)&m->n.name : NULL,
		.msg_namelen = m->n.has_path ? al : m->n.namelen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = m->controllen ? m->control : NULL,
		.msg_controllen = m->controllen,
	};
	/* A full receiver makes a blocking send wait; a signal to the guest
	 * thread ends the wait with EINTR. */
	vfs_block_begin();
	ssize_t n = sendmsg(s, &out, flags | MSG_NOSIGNAL);
	long ret = n < 0 ? neg_errno() : n;
	vfs_block_end();
	/* The sentry never takes SIGPIPE for the guest; the guest does, as
	 * the kernel would have sent it, unless it asked for MSG_NOSIGNAL. */
	if (ret == -EPIPE && !(flags & MSG_NOSIGNAL))
		syscall(SYS_tgkill, r->task->proc->tgid, r->tid, SIGPIPE);
	return ret;
}

/* The sentry's copy of the guest's AF_UNIX socket, and its type. 0 with
 * *ret -1: another family, the kernel's to answer. */
static int unix_copy_type(struct sysreq *r, int fd, int *ret, int *ret_type)
{
	_cleanup_close_ int s = -1;
	int err = unix_socket_copy(r, fd, &s);
	*ret = -1;
	if (err < 0 || s < 0)
		return err;
	socklen_t tl = sizeof(*ret_type);
	if (getsockopt(s, SOL_SOCKET, SO_TYPE, ret_type, &tl) < 0)
		return neg_errno();
	*ret = TAKE_FD(s);
	return 0;
}

/* The copy when the sentry must resolve a path for it: an AF_UNIX
 * datagram socket (Linux resolves no name a stream or seqpacket socket is
 * given). 0 with *ret -1: let the kernel have the call. */
static int dgram_copy(struct sysreq *r, int fd, int *ret)
{
	int type, err = unix_copy_type(r, fd, ret, &type);
	if (err == 0 && *ret >= 0 && type != SOCK_DGRAM)
		*ret = safe_close(*ret);
	return err;
}

/* sendto with an address (the filter passes it without one). */
long sys_sendto(struct sysreq *r)
{
	struct umsg m = { 0 };
	int err = unix_read_path_addr(r, r->args[4], r->args[5], m.n.path);
	if (err <= 0)
		return err ? err : SYSRET_CONTINUE;
	_cleanup_close_ int s = -1;
	if ((err = dgram_copy(r, (int)r->args[0], &s)) < 0)
		return err;
	if (s < 0)
		return SYSRET_CONTINUE;
	m.n.has_path = true;
	/* sendto's buffer is registers: import_ubuf cuts it at MAX_RW_COUNT
	 * and checks the range. */
	uintptr_t b = (uintptr_t)r->args[1];
	size_t l = (size_t)r->args[2] > MAX_RW ? MAX_RW : (size_t)r->args[2];
	if (!range_ok(b, l))
		return -EFAULT;
	if (!(m.iov = malloc(sizeof(*m.iov))))
		return -ENOMEM;
	m.iov[0] = (struct iovec){ (void *)b, l };
	m.niov = 1;
	m.len = l;
	long ret = umsg_read_data(r, s, SOCK_DGRAM, &m);
	if (ret == 0)
		ret = umsg_send(r, s, &m, (int)r->args[3]);
	umsg_free(&m);
	return ret;
}

long sys_sendmsg(struct sysreq *r)
{
	if (!r->task)
		return -ESRCH;
	struct msghdr mh;
	if (sys_get(r, r->args[1], &mh, sizeof(mh)) < 0)
		return -EFAULT;
	struct umsg m = { 0 };
	int err = read_name(r, &mh, &m.n);
	if (err < 0)
		return err;
	if (!m.n.has_path && !mh.msg_controllen)
		return SYSRET_CONTINUE; /* the common case: one read */
	_cleanup_close_ int s = -1;
	int type;
	if ((err = unix_copy_type(r, (int)r->args[0], &s, &type)) < 0)
		return err;
	if (s < 0)
		return SYSRET_CONTINUE;
	/* Linux resolves a name only for a datagram socket; a stream or
	 * seqpacket socket is given it as read (EISCONN, EOPNOTSUPP or
	 * ignored). */
	if (type != SOCK_DGRAM)
		m.n.has_path = false;
	_cleanup_free_ char *ctl = NULL;
	size_t ctllen;
	if ((err = read_control(r, &mh, &ctl, &ctllen)) < 0)
		return err;
	/* Credentials the guest names are its sandbox ids, which the kernel
	 * would refuse (it knows only the host uid): the sentry checks them
	 * and sends, whatever the socket's type. */
	if (!m.n.has_path && !has_creds(ctl, ctllen))
		return SYSRET_CONTINUE;
	/* In the kernel's order: the iovec, the control data (scm_send),
	 * the size, the data; the path's lookup comes last (umsg_send). */
	long ret = umsg_read_iov(r, &mh, &m);
	if (ret == 0)
		ret = umsg_control(r, ctl, ctllen, &m);
	if (ret == 0)
		ret = umsg_read_data(r, s, type, &m);
	if (ret == 0)
		ret = umsg_send(r, s, &m, (int)r->args[2]);
	umsg_free(&m);
	return ret;
}

/* sendmmsg: continued unless one of its messages names a path; then the
 * sentry sends them all, in order, as the kernel would: the number sent,
 * or the first one's error. Each message and name is read once. */
long sys_sendmmsg(struct sysreq *r)
{
	if (!r->task)
		return -ESRCH;
	unsigned vlen = (unsigned)r->args[2];
	if (vlen > MMSG_MAX)
		vlen = MMSG_MAX;
	if (!vlen)
		return SYSRET_CONTINUE;
	_cleanup_free_ struct mmsghdr *v = calloc(vlen, sizeof(*v));
	_cleanup_free_ struct uname *names = calloc(vlen, sizeof(*names));
	if (!v || !names)
		return -ENOMEM;
	if (sys_get(r, r->args[1], v, vlen * sizeof(*v)) < 0)
		return -EFAULT;
	bool any = false;
	unsigned bad = vlen; /* the first message whose name is unreadable */
	int bad_err = 0;
	for (unsigned i = 0; i < vlen && bad == vlen; i++) {
		if ((bad_err = read_name(r, &v[i].msg_hdr, &names[i])) < 0)
			bad = i;
		else
			any |= names[i].has_path;
	}
	if (!any)
		return SYSRET_CONTINUE;
	_cleanup_close_ int s = -1;
	int err = dgram_copy(r, (int)r->args[0], &s);
	if (err < 0)
		return err;
	if (s < 0)
		return SYSRET_CONTINUE;
	long sent = 0, first = 0;
	for (unsigned i = 0; i < vlen; i++) {
		struct umsg m = { .n = names[i] };
		long ret = i == bad ? bad_err : umsg_read_iov(r, &v[i].msg_hdr, &m);
		if (ret == 0)
			ret = umsg_read_control(r, &v[i].msg_hdr, &m);
		if (ret == 0)
			ret = umsg_read_data(r, s, SOCK_DGRAM, &m);
		if (ret == 0)
			ret = umsg_send(r, s, &m, (int)r->args[3]);
		umsg_free(&m);
		if (ret < 0) {
			first = ret;
			break;
		}
		unsigned n = (unsigned)ret;
		uint64_t at = r->args[1] + i * sizeof(*v) + offsetof(struct mmsghdr, msg_len);
		if (sys_put(r, at, &n, sizeof(n)) < 0) {
			first = -EFAULT;
			break;
		}
		sent++;
	}
	return sent ? sent : first;
}
