/* SPDX-License-Identifier: MIT */
/* The TCP fast path of --net=sandbox (docs/networking.md, "The TCP fast
 * path"), and what keeps the host-namespace sockets it hands out from
 * doing more than carry their one connection.
 *
 * connect: with the fast path on, the sentry performs every connect itself
 * on its pidfd_getfd copy of the guest's socket, with the address it read
 * once; nothing is CONTINUEd. A TCP connect of an unbound Internet socket
 * to an address outside the sandbox (not loopback, not 0/8 or ::, not the
 * sandbox's own subnets, not link-local, not IPv4-mapped or NAT64) goes to
 * the network helper (net/fastpath.h), which judges it with its live
 * policy, audits it and, allowed, sends back a socket of the host's
 * namespace connecting to that address. The sentry waits for the connect
 * where the guest would have (a blocking socket: an interruptible wait,
 * SO_SNDTIMEO honoured) and puts the socket in the guest at the guest's
 * own fd number (ADDFD with SETFD), keeping FD_CLOEXEC. A refused connect
 * gets ECONNREFUSED at once, a failed one its error, and the guest keeps
 * its own unconnected socket. Every other connect (a path, an abstract
 * name, a datagram socket, an inside address) is made by the sentry on its
 * copy: a CONTINUE would let the kernel look up the fd and read the
 * address again, and a sibling thread could by then have put a
 * host-namespace socket at that number and another address in the
 * buffer.
 *
 * Host-namespace sockets in the guest. The guest must never use one to
 * reach another address, listen on the host, or learn the host's
 * addresses. Linux lets a TCP socket connect again or listen only once it
 * is SS_UNCONNECTED; the helper hands it over connecting, and only a
 * connect, a MSG_FASTOPEN send, or a shutdown while the SYN is out bring a
 * socket back to SS_UNCONNECTED. So: connect on such a socket is answered
 * by the sentry from the socket's state (0 once connected, EALREADY, a
 * wait, its error) or, once it has failed, made again as a new fast-path
 * connect with a new socket; never passed to the kernel. MSG_FASTOPEN is refused
 * by a filter stacked on the table's (sentry/sandbox/guest.c, register
 * only). shutdown is performed by the sentry, and refused (ENOTCONN) on a
 * host socket whose SYN is still out. bind is performed by the sentry and
 * refused (EINVAL) on a host socket, whose port would be the host's.
 * A socket whose guest set TCP_FASTOPEN_CONNECT keeps the old path: its
 * deferred connect is made by a later write, which could fail and leave
 * the socket SS_UNCONNECTED.
 *
 * What they would show of the host: getsockname answers the sandbox's
 * address with the real port; the interface ioctls (SIOCGIF*) are notified
 * and performed by the sentry, on its copy of the socket, or for a host
 * one on a guest-namespace socket of the same family it kept (the first
 * one it replaced); SO_BINDTODEVICE and SO_BINDTOIFINDEX are accepted and
 * not applied (sys_socket.c). A host socket is known by its network
 * namespace: SO_NETNS_COOKIE equal to that of the sockets the helper
 * sends. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "net/fastpath.h"
#include "net/net.h"
#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/unixpeer.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs.h"
#include "syscalls/handlers.h"
#include "syscalls/sys_fs.h"
#include "syscalls/sys_inet.h"
#include "syscalls/sys_unix.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* The host namespace's cookie, learnt from the first socket the helper
 * sends: until then no guest holds a host socket. */
static _Atomic uint64_t host_cookie;
/* A guest-namespace socket of each family (the first one the fast path
 * replaced), for the interface ioctls on host sockets. Under the sentry
 * lock. */
static int kept_inet = -1, kept_inet6 = -1;

bool inet_fastpath_on(void)
{
	return sentry.net_fp >= 0;
}

bool inet_is_host_socket(int s)
{
	uint64_t want = atomic_load(&host_cookie), c = 0;
	socklen_t l = sizeof(c);
	return want && getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &c, &l) == 0 && c == want;
}

static int sockopt_int(int s, int level, int name, int *ret)
{
	socklen_t l = sizeof(*ret);
	return getsockopt(s, level, name, ret, &l) < 0 ? neg_errno() : 0;
}

static int tcp_state(int s)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	return getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0 ? -1 : ti.tcpi_state;
}

/* --- the destination ----------------------------------------------------- */

struct fp_dest {
	int family;
	uint8_t addr[16];
	uint16_t port;
};

static bool in4(const uint8_t *a, uint32_t net, unsigned plen)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	uint32_t mask = plen ? ~0U << (32 - plen) : 0;
	return (v & mask) == (net & mask);
}

/* Does a connect to d leave the sandbox through slirp (and so may take the
 * fast path)? What stays inside keeps the guest's own stack: loopback and
 * "this host" (0/8, ::), the sandbox's subnets (the gateway's way to the
 * host's loopback is judged as 127.0.0.1 there), link-local (its scope is
 * a guest interface), and IPv4 carried in IPv6 (slirp, not the host,
 * reaches what those name). */
bool inet_leaves_sandbox(int family, const uint8_t *a)
{
	if (family == AF_INET)
		return !in4(a, 0x00000000, 8) && !in4(a, 0x7f000000, 8) && !in4(a, 0x0a000200, NET_PREFIXLEN4);
	static const uint8_t sandbox6[8] = { 0xfd, 0x6d, 0x6f, 0x61, 0x74, 0x00, 0, 0 };
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t zero[10] = { 0 };
	if (!memcmp(a, zero, 10) && ((a[10] == 0 && a[11] == 0) || (a[10] == 0xff && a[11] == 0xff)))
		return false; /* ::/96 (::, ::1, IPv4-compatible) and ::ffff:0:0/96 */
	if (!memcmp(a, nat64, 12) || !memcmp(a, sandbox6, 8))
		return false;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return false; /* fe80::/10 */
	return true;
}

static bool dest_of(const struct sockaddr_storage *ss, int len, int domain, struct fp_dest *d)
{
	if (ss->ss_family != domain)
		return false;
	if (domain == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		if ((size_t)len < sizeof(*sin))
			return false;
		*d = (struct fp_dest){ .family = AF_INET, .port = ntohs(sin->sin_port) };
		memcpy(d->addr, &sin->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		if ((size_t)len < sizeof(*sin6))
			return false;
		*d = (struct fp_dest){ .family = AF_INET6, .port = ntohs(sin6->sin6_port) };
		memcpy(d->addr, &sin6->sin6_addr, 16);
	}
	return inet_leaves_sandbox(d->family, d->addr);
}

/* A TCP socket the guest has not bound, connected, or asked for a
 * deferred (TCP_FASTOPEN_CONNECT) connect on. A bound one keeps the old
 * path: its port is a port of the guest's namespace, which a host socket
 * cannot have. */
static bool takes_fastpath(int s)
{
	int type, proto, tfo = 0, listening = 0;
	if (sockopt_int(s, SOL_SOCKET, SO_TYPE, &type) < 0 || type != SOCK_STREAM ||
	    sockopt_int(s, SOL_SOCKET, SO_PROTOCOL, &proto) < 0 || proto != IPPROTO_TCP ||
	    sockopt_int(s, SOL_SOCKET, SO_ACCEPTCONN, &listening) < 0 || listening)
		return false;
	(void)sockopt_int(s, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &tfo);
	if (tfo || tcp_state(s) != TCP_CLOSE)
		return false;
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	if (getsockname(s, (struct sockaddr *)&ss, &l) < 0)
		return false;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_port == 0 &&
		       ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss.ss_family == AF_INET6)
		return ((struct sockaddr_in6 *)&ss)->sin6_port == 0 &&
		       IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	return false;
}

/* --- the request to the helper ------------------------------------------- */

static void opt_add(struct net_fp_req *q, int level, int name, const void *val, size_t len)
{
	if (q->nopt >= NET_FP_MAXOPT || len > sizeof(q->opt[0].val))
		return;
	struct net_fp_opt *o = &q->opt[q->nopt++];
	o->level = level, o->name = name, o->len = (uint32_t)len;
	memcpy(o->val, val, len);
}

/* An int option, handed on when it is not `unset` (the value a socket
 * nobody set it on reads; ALWAYS: every value). */
#define ALWAYS INT32_MIN
static void opt_int(struct net_fp_req *q, int s, int level, int name, int unset)
{
	int v;
	if (sockopt_int(s, level, name, &v) == 0 && (unset == ALWAYS || v != unset))
		opt_add(q, level, name, &v, sizeof(v));
}

/* The guest socket's state that matters on the connection (net/helper.c
 * sets what it recognises). Buffer sizes: the kernel doubled what was set,
 * and a size nobody set (the namespace's tcp_rmem/tcp_wmem defaults of a
 * new namespace) is not handed on, so the host socket keeps autotuning. */
static void collect_options(struct net_fp_req *q, int s, int family)
{
	opt_int(q, s, SOL_SOCKET, SO_KEEPALIVE, 0);
	opt_int(q, s, SOL_SOCKET, SO_REUSEADDR, 0);
	opt_int(q, s, SOL_SOCKET, SO_PRIORITY, 0);
	opt_int(q, s, SOL_SOCKET, SO_OOBINLINE, 0);
	struct linger lg;
	socklen_t l = sizeof(lg);
	if (getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 && lg.l_onoff)
		opt_add(q, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	int v;
	if (sockopt_int(s, SOL_SOCKET, SO_RCVBUF, &v) == 0 && v != 131072) {
		v /= 2;
		opt_add(q, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	}
	if (sockopt_int(s, SOL_SOCKET, SO_SNDBUF, &v) == 0 && v != 16384) {
		v /= 2;
		opt_add(q, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	}
	static const int timeos[] = { SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD };
	for (size_t i = 0; i < ARRAY_SIZE(timeos); i++) {
		struct timeval tv = { 0 };
		l = sizeof(tv);
		if (getsockopt(s, SOL_SOCKET, timeos[i], &tv, &l) == 0 && (tv.tv_sec || tv.tv_usec))
			opt_add(q, SOL_SOCKET, timeos[i], &tv, sizeof(tv));
	}
	opt_int(q, s, IPPROTO_TCP, TCP_NODELAY, 0);
	opt_int(q, s, IPPROTO_TCP, TCP_CORK, 0);
	opt_int(q, s, IPPROTO_TCP, TCP_KEEPIDLE, ALWAYS);
	opt_int(q, s, IPPROTO_TCP, TCP_KEEPINTVL, ALWAYS);
	opt_int(q, s, IPPROTO_TCP, TCP_KEEPCNT, ALWAYS);
	opt_int(q, s, IPPROTO_TCP, TCP_USER_TIMEOUT, 0);
	opt_int(q, s, IPPROTO_TCP, TCP_NOTSENT_LOWAT, ALWAYS);
	opt_int(q, s, IPPROTO_TCP, TCP_MAXSEG, 536); /* TCP_MSS_DEFAULT: none set */
	char cc[16] = "";
	l = sizeof(cc);
	if (getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cc, &l) == 0 && cc[0])
		opt_add(q, IPPROTO_TCP, TCP_CONGESTION, cc, strnlen(cc, sizeof(cc)));
	if (family == AF_INET) {
		opt_int(q, s, IPPROTO_IP, IP_TOS, 0);
		opt_int(q, s, IPPROTO_IP, IP_TTL, 64); /* ip_default_ttl: none set */
	} else {
		opt_int(q, s, IPPROTO_IPV6, IPV6_V6ONLY, 0);
		opt_int(q, s, IPPROTO_IPV6, IPV6_TCLASS, 0);
	}
}

static pthread_mutex_t fp_lock = PTHREAD_MUTEX_INITIALIZER;

/* One request and its answer (with the socket, when there is one). The
 * sentry lock is dropped meanwhile; the exchange is not a wait a signal
 * ends (the helper answers whatever the guest does). */
static int fp_ask(const struct net_fp_req *q, struct net_fp_ans *a, int *ret_fd)
{
	*ret_fd = -1;
	sentry_unlock();
	pthread_mutex_lock(&fp_lock);
	ssize_t n;
	do
		n = send(sentry.net_fp, q, sizeof(*q), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	int err = n == (ssize_t)sizeof(*q) ? 0 : -EPIPE;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { a, sizeof(*a) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	if (err == 0) {
		do
			n = recvmsg(sentry.net_fp, &msg, MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
		err = n == (ssize_t)sizeof(*a) ? 0 : -EPIPE;
	}
	pthread_mutex_unlock(&fp_lock);
	sentry_lock();
	struct cmsghdr *cm = err == 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	return err;
}

/* A blocking connect's wait, on the host socket: 0 once connected, its
 * error, -EINPROGRESS when SO_SNDTIMEO ran out (Linux's answer), -EINTR
 * when a signal to the guest thread ended it. */
static int wait_connected(int hs, int timeout_ms)
{
	struct pollfd p = { .fd = hs, .events = POLLOUT };
	int n;
	vfs_block_begin();
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR && !wait_is_cancelled());
	int err = n < 0 ? neg_errno() : 0;
	vfs_block_end();
	if (err < 0)
		return err;
	if (n == 0)
		return -EINPROGRESS;
	int soerr = 0;
	if (sockopt_int(hs, SOL_SOCKET, SO_ERROR, &soerr) < 0)
		return -EIO;
	return -soerr;
}

static int sndtimeo_ms(int s)
{
	struct timeval tv = { 0 };
	socklen_t l = sizeof(tv);
	if (getsockopt(s, SOL_SOCKET, SO_SNDTIMEO_OLD, &tv, &l) < 0 || (!tv.tv_sec && !tv.tv_usec))
		return -1;
	long long ms = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	return ms > 0x7fffffff ? -1 : ms < 1 ? 1 : (int)ms;
}

/* FD_CLOEXEC of the guest's fd, from its fdinfo (the sentry's copy has
 * its own). */
static bool guest_cloexec(pid_t tid, int fd)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", tid, fd);
	_cleanup_close_ int f = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = 0;
	const char *fl = strstr(buf, "flags:");
	return fl && (strtoul(fl + 6, NULL, 8) & O_CLOEXEC);
}

static void keep_guest_socket(int family, int s)
{
	int *k = family == AF_INET ? &kept_inet : &kept_inet6;
	if (*k < 0)
		*k = fcntl(s, F_DUPFD_CLOEXEC, 3);
}

/* The fast path proper: s is the sentry's copy of guest fd `fd` (its own
 * socket or, reconnecting, a host one whose connect failed). */
static long fastpath_connect(struct sysreq *r, int s, int fd, const struct fp_dest *d)
{
	struct net_fp_req q;
	memset(&q, 0, sizeof(q));
	q.family = (uint32_t)d->family;
	memcpy(q.addr, d->addr, 16);
	q.port = d->port;
	collect_options(&q, s, d->family);
	int fl = fcntl(s, F_GETFL);
	if (fl < 0)
		return neg_errno();
	int timeout = sndtimeo_ms(s);
	struct net_fp_ans a;
	int hs;
	int err = fp_ask(&q, &a, &hs);
	_cleanup_close_ int host = hs;
	if (err < 0)
		return -ENETUNREACH; /* no helper: no network */
	if (a.err != 0 && a.err != EINPROGRESS)
		return -a.err; /* refused: ECONNREFUSED, audited by the helper */
	int dom, type;
	if (host < 0 || sockopt_int(host, SOL_SOCKET, SO_DOMAIN, &dom) < 0 || dom != d->family ||
	    sockopt_int(host, SOL_SOCKET, SO_TYPE, &type) < 0 || type != SOCK_STREAM)
		return -EIO;
	uint64_t c = 0, zero = 0;
	socklen_t cl = sizeof(c);
	if (getsockopt(host, SOL_SOCKET, SO_NETNS_COOKIE, &c, &cl) < 0)
		return -EIO;
	atomic_compare_exchange_strong(&host_cookie, &zero, c);
	long val = -a.err;
	if (val == -EINPROGRESS && !(fl & O_NONBLOCK)) {
		int w = wait_connected(host, timeout);
		/* Failed or interrupted: the guest keeps its own socket, as
		 * Linux leaves it reusable (an interrupted one is restarted
		 * from the start, with a new handshake). */
		if (w < 0 && w != -EINPROGRESS)
			return w;
		val = w;
	}
	/* The helper's socket is non-blocking; the guest's file says. */
	int hfl = fcntl(host, F_GETFL);
	if (hfl < 0 || fcntl(host, F_SETFL, (hfl & ~O_NONBLOCK) | (fl & O_NONBLOCK)) < 0)
		return -EIO;
	if (!inet_is_host_socket(s))
		keep_guest_socket(d->family, s);
	int rc = req_reply_fd_at(r, host, fd, guest_cloexec(r->tid, fd), val);
	if (rc < 0 && !r->replied)
		return rc == -ENOENT ? rc : -EIO;
	req_note_result(r, val);
	return SYSRET_DONE;
}

/* connect on a host socket the guest holds: answered from its state, never
 * passed to the kernel (which would take it back to SS_UNCONNECTED once it
 * has failed, and then connect it anywhere, or let it listen). */
static long host_connect(struct sysreq *r, int s, int fd, const struct sockaddr_storage *ss, int len)
{
	if (len >= (int)sizeof(sa_family_t) && ss->ss_family == AF_UNSPEC)
		return -EOPNOTSUPP; /* no disconnect: see the top of the file */
	int st = tcp_state(s), soerr = 0, fl = fcntl(s, F_GETFL), err;
	switch (st) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		if (fl < 0 || (fl & O_NONBLOCK))
			return -EALREADY;
		/* Still connecting when SO_SNDTIMEO runs out: Linux's second
		 * connect says EALREADY (the first, EINPROGRESS). */
		err = wait_connected(s, sndtimeo_ms(s));
		return err == -EINPROGRESS ? -EALREADY : err;
	case TCP_CLOSE:
		if (sockopt_int(s, SOL_SOCKET, SO_ERROR, &soerr) == 0 && soerr)
			return -soerr; /* Linux's answer to the connect after a failed one */
		break;
	default:
		/* Connected. Linux answers 0 to the first connect after a
		 * non-blocking one completed (the usual way to learn the
		 * outcome) and EISCONN after; the kernel's own answer cannot be
		 * asked for safely (a RST in between would unconnect the
		 * socket), so the first one's, always. */
		return 0;
	}
	int domain;
	struct fp_dest d;
	if (sockopt_int(s, SOL_SOCKET, SO_DOMAIN, &domain) < 0)
		return -EIO;
	if (len < (int)sizeof(sa_family_t) || ss->ss_family != domain)
		return ss->ss_family == domain ? -EINVAL : -EAFNOSUPPORT;
	if (!dest_of(ss, len, domain, &d))
		return -ENETUNREACH; /* a host socket cannot reach inside the sandbox */
	return fastpath_connect(r, s, fd, &d);
}

/* The kernel's connect, on the sentry's copy: a stream connect waits as the
 * guest's would, and a signal to the guest thread ends the wait with EINTR
 * (the guest's restarted call then finds the connect under way, as in
 * Linux). */
static long plain_connect(int s, const struct sockaddr_storage *ss, int len)
{
	vfs_block_begin();
	int rc = connect(s, (const struct sockaddr *)ss, (socklen_t)len);
	long err = rc < 0 ? neg_errno() : 0;
	vfs_block_end();
	return err;
}

/* The guest's sockaddr, read once (move_addr_to_kernel's rules). */
static int read_addr(struct sysreq *r, struct sockaddr_storage *ss, int *ret_len)
{
	int len = (int)r->args[2];
	if (len < 0 || (size_t)len > sizeof(*ss))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (len > 0 && sys_get(r, r->args[1], ss, (size_t)len) < 0)
		return -EFAULT;
	*ret_len = len;
	return 0;
}

long inet_connect(struct sysreq *r)
{
	struct sockaddr_storage ss;
	int len, domain;
	int err = read_addr(r, &ss, &len);
	if (err < 0)
		return err;
	_cleanup_close_ int s = guest_socket_copy(r, (int)r->args[0], &domain);
	if (s < 0)
		return s;
	int fd = (int)r->args[0];
	if (domain == AF_UNIX) {
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
		if (unix_addr_path((struct sockaddr_un *)&ss, (size_t)len, path) == 1)
			return unix_connect_path(r, s, path);
		/* An abstract name: the kernel names the sentry as the peer. */
		struct stat st;
		if (fstat(s, &st) == 0)
			unixpeer_connected(st.st_ino, r->task->proc->vpid, r->task->cred);
		return plain_connect(s, &ss, len);
	}
	if (domain == AF_INET || domain == AF_INET6) {
		if (inet_is_host_socket(s))
			return host_connect(r, s, fd, &ss, len);
		struct fp_dest d;
		if (dest_of(&ss, len, domain, &d) && takes_fastpath(s))
			return fastpath_connect(r, s, fd, &d);
	}
	return plain_connect(s, &ss, len);
}

long inet_bind(struct sysreq *r)
{
	struct sockaddr_storage ss;
	int len, domain;
	int err = read_addr(r, &ss, &len);
	if (err < 0)
		return err;
	_cleanup_close_ int s = guest_socket_copy(r, (int)r->args[0], &domain);
	if (s < 0)
		return s;
	if (domain == AF_UNIX) {
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
		if (unix_addr_path((struct sockaddr_un *)&ss, (size_t)len, path) == 1)
			return unix_bind_path(r, s, path);
	} else if (inet_is_host_socket(s)) {
		return -EINVAL; /* it has its (host) address: as a connected socket */
	}
	return bind(s, (const struct sockaddr *)&ss, (socklen_t)len) < 0 ? neg_errno() : 0;
}

long sys_shutdown(struct sysreq *r)
{
	if (!inet_fastpath_on())
		return SYSRET_CONTINUE; /* no host socket to guard: registers only */
	int domain;
	_cleanup_close_ int s = guest_socket_copy(r, (int)r->args[0], &domain);
	if (s < 0)
		return s;
	if (inet_is_host_socket(s)) {
		int st = tcp_state(s);
		if (st == TCP_SYN_SENT || st == TCP_SYN_RECV)
			return -ENOTCONN; /* Linux would abort the connect, unconnecting it */
	}
	return shutdown(s, (int)r->args[1]) < 0 ? neg_errno() : 0;
}

/* --- what a host socket would show ---------------------------------------- */

void inet_sockname_fix(int s, struct sockaddr_storage *ss, socklen_t len)
{
	if (!inet_is_host_socket(s))
		return;
	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		inet_pton(AF_INET, NET_GUEST4, &sin->sin_addr);
	} else if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		inet_pton(AF_INET6, NET_GUEST6, &sin6->sin6_addr);
		sin6->sin6_flowinfo = 0;
		sin6->sin6_scope_id = 0;
	}
}

#define IFCONF_MAX (64 * 1024)

/* SIOCGIF*: performed on the sentry's copy of the socket, whose namespace
 * answers (the guest's), or for a host socket on a guest-namespace socket
 * of the same family; the results copied out as the kernel would. */
long sys_sockioctl(struct sysreq *r)
{
	unsigned req = (unsigned)r->args[1];
	int domain;
	_cleanup_close_ int s = guest_socket_copy(r, (int)r->args[0], &domain);
	if (s == -ENOTSOCK)
		return -ENOTTY;
	if (s < 0)
		return s;
	int use = s;
	if (inet_is_host_socket(s)) {
		use = domain == AF_INET ? kept_inet : kept_inet6;
		if (use < 0)
			return -ENOTTY;
	}
	if (req == SIOCGIFCONF) {
		struct ifconf ic;
		if (sys_get(r, r->args[2], &ic, sizeof(ic)) < 0)
			return -EFAULT;
		uint64_t ubuf = (uint64_t)(uintptr_t)ic.ifc_buf;
		if (ic.ifc_len < 0)
			ic.ifc_len = 0;
		size_t room = (size_t)ic.ifc_len < IFCONF_MAX ? (size_t)ic.ifc_len : IFCONF_MAX;
		_cleanup_free_ char *buf = ubuf && room ? calloc(1, room) : NULL;
		if (ubuf && room && !buf)
			return -ENOMEM;
		struct ifconf mine = { .ifc_len = ubuf ? (int)room : 0, .ifc_buf = ubuf ? buf : NULL };
		if (ioctl(use, SIOCGIFCONF, &mine) < 0)
			return neg_errno();
		if (ubuf && mine.ifc_len > 0 && sys_put(r, ubuf, buf, (size_t)mine.ifc_len) < 0)
			return -EFAULT;
		ic.ifc_len = mine.ifc_len;
		return sys_put(r, r->args[2], &ic.ifc_len, sizeof(ic.ifc_len)) < 0 ? -EFAULT : 0;
	}
	struct ifreq ifr;
	if (sys_get(r, r->args[2], &ifr, sizeof(ifr)) < 0)
		return -EFAULT;
	if (ioctl(use, req, &ifr) < 0)
		return neg_errno();
	return sys_put(r, r->args[2], &ifr, sizeof(ifr)) < 0 ? -EFAULT : 0;
}
