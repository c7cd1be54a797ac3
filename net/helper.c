/* SPDX-License-Identifier: MIT */
/* The network helper of --net=sandbox (net.h): libslirp between the
 * guest's tap and the host's sockets, behind the egress policy.
 *
 * Why libslirp and not passt: the policy must see each packet before the
 * stack acts on it. libslirp is a library: the helper reads a frame from
 * the tap, judges it and calls slirp_input() in the same process, with no
 * copy or hop more than slirp alone. passt is a program of its own that
 * owns the tap; a policy in front of it would cost a second process and a
 * second copy of every frame, or a patched passt.
 *
 * Life: forked from moat before the sentry confines itself; as root it
 * makes the slirp instance and the --publish listeners (a port below 1024
 * needs it), then pivots into an empty read-only tmpfs, becomes the
 * sandbox's host uid with no capability and no_new_privs, installs its
 * seccomp allowlist (net/filter.c), reports ready, and takes the tap's fd
 * from pid 1. PR_SET_PDEATHSIG and the sentry's teardown end it.
 *
 * What it enforces on each frame from the guest (docs/networking.md):
 *  - TCP: a bare SYN (a new connection) is judged; a refused one is
 *    answered at once with a RST (the guest's connect fails with
 *    ECONNREFUSED). Other segments go to slirp, which opens a host
 *    connection only for a bare SYN and answers any other segment of an
 *    unknown connection with a RST (libslirp tcp_input), so they reach
 *    nothing the policy did not allow.
 *  - UDP: every datagram is judged (there is no handshake); a refused one
 *    gets ICMP port unreachable (ECONNREFUSED on a connected socket).
 *  - ICMP echo: judged; refused gets "administratively prohibited"
 *    unreachable (ECONNREFUSED for IPv4, EACCES for IPv6 ping sockets).
 *  - DNS to 10.0.2.3:53 (UDP and TCP) is rewritten to the upstream
 *    resolver and back; the answers teach the policy the addresses of
 *    --allow-host names before the guest reads them.
 *  - 10.0.2.2 / fd6d:6f61:7400::2 is slirp's way to the host's loopback:
 *    judged as 127.0.0.1 / ::1, so refused unless --allow-net names them.
 * Each new flow (a SYN, the first datagram of a UDP flow, an echo) leaves
 * a "connect" audit record with its verdict. */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "net/slirp_dl.h"
#include "common/log.h"
#include "common/util.h"
#include "net/dns.h"
#include "net/fastpath.h"
#include "net/filter.h"
#include "net/packet.h"
#include "sentry/kernel/audit.h"
#include "sentry/kernel/sentry.h"

#define MAX_TIMERS 8
#define FLOW_SLOTS 4096
#define FLOW_AUDIT_NS (10LL * 1000000000LL) /* a flow's record is not repeated within this */
#define PEER_SLOTS 64

struct timer {
	bool used, armed;
	int64_t expire_ms;
	SlirpTimerCb cb;
	void *cb_opaque;
};

struct flow {
	uint8_t key[24];
	int64_t when;
};

/* libslirp's entry points, loaded by helper_main (net/slirp_dl.c). */
static struct slirp_api slirp;

struct helper {
	Slirp *slirp;
	struct net_config *cfg;
	int tap;
	int ctl; /* the fast path's socketpair with the sentry (net/fastpath.h), or -1 */
	struct pollfd *pfd;
	size_t npfd, cap;
	struct timer timers[MAX_TIMERS];
	struct net_addr guest4, gw4, dns4, net4, guest6, gw6, dns6, net6, lo4, lo6;
	/* Guest ports with a DNS query to 10.0.2.3 forwarded: [0] UDP, [1] TCP. */
	uint8_t dns_nat[2][65536 / 8];
	struct flow flows[FLOW_SLOTS];
	/* Peers that sent to a --publish UDP port: its replies go back to them. */
	struct {
		struct net_addr addr;
		uint16_t port, guest_port;
	} peers[PEER_SLOTS];
	unsigned npeer;
	uint8_t in[PKT_MAX], out[PKT_MAX], dnsbuf[PKT_MAX];
};

static int64_t now_ms(void) { return now_ns() / 1000000; }

/* --- slirp's callbacks ------------------------------------------------ */

static void learn_dns(struct helper *h, struct pkt *p)
{
	const uint8_t *l4 = p->frame + p->l4;
	if (p->proto == IPPROTO_UDP) {
		dns_learn(&h->cfg->policy, l4 + 8, p->l4len - 8);
		return;
	}
	/* TCP: a whole message in one segment (the answers the guest waits
	 * on are small); a split one is not learned from. */
	size_t doff = (size_t)(l4[12] >> 4) * 4;
	if (doff < 20 || p->l4len < doff + 2)
		return;
	size_t mlen = (size_t)(l4[doff] << 8 | l4[doff + 1]);
	if (mlen && doff + 2 + mlen <= p->l4len)
		dns_learn(&h->cfg->policy, l4 + doff + 2, mlen);
}

static bool same(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && !memcmp(a->a, b->a, a->family == AF_INET ? 4 : 16);
}

static bool bit_get(const uint8_t *b, uint16_t i) { return b[i / 8] & (1 << (i % 8)); }
static void bit_set(uint8_t *b, uint16_t i) { b[i / 8] |= (uint8_t)(1 << (i % 8)); }

static bool published_udp(const struct helper *h, uint16_t guest_port)
{
	for (size_t i = 0; i < h->cfg->npublish; i++)
		if (h->cfg->publish[i].udp && h->cfg->publish[i].guest_port == guest_port)
			return true;
	return false;
}

/* A frame slirp sends to the guest: DNS answers are learned from and get
 * 10.0.2.3 back as their source; senders to a published UDP port are
 * remembered so the guest can answer them. */
static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct helper *h = opaque;
	struct pkt p;
	const void *out = buf;
	/* pkt_parse only reads; slirp's buffer is lent read-only, so a frame
	 * to rewrite is copied first. */
	if (pkt_parse((uint8_t *)buf, len, &p) == PKT_IP && p.has_ports && !p.fragment) {
		if (h->cfg->dns_set && p.sport == 53 && same(&p.src, &h->cfg->dns) &&
		    bit_get(h->dns_nat[p.proto == IPPROTO_TCP], p.dport) && len <= sizeof(h->dnsbuf)) {
			memcpy(h->dnsbuf, buf, len);
			pkt_parse(h->dnsbuf, len, &p);
			learn_dns(h, &p);
			pkt_set_src(&p, &h->dns4);
			out = h->dnsbuf;
		} else if (p.proto == IPPROTO_UDP && published_udp(h, p.dport)) {
			unsigned i = h->npeer++ % PEER_SLOTS;
			h->peers[i].addr = p.src;
			h->peers[i].port = p.sport;
			h->peers[i].guest_port = p.dport;
		}
	}
	/* A full tap queue drops the frame, as a wire would. */
	(void)write(h->tap, out, len);
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque) { log_debug("net: slirp: %s", msg); }
static int64_t clock_get_ns(void *opaque) { return now_ns(); }

static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct helper *h = opaque;
	for (int i = 0; i < MAX_TIMERS; i++)
		if (!h->timers[i].used) {
			h->timers[i] = (struct timer){ .used = true, .cb = cb, .cb_opaque = cb_opaque };
			return &h->timers[i];
		}
	log_warnx("net: out of timers");
	abort(); /* slirp cannot take a NULL timer */
}

static void timer_free(void *t, void *opaque) { *(struct timer *)t = (struct timer){ 0 }; }

static void timer_mod(void *t, int64_t expire_ms, void *opaque)
{
	struct timer *tm = t;
	tm->armed = true;
	tm->expire_ms = expire_ms;
}

static void register_poll_fd(int fd, void *opaque) {}
static void unregister_poll_fd(int fd, void *opaque) {}
static void notify(void *opaque) {}

static int add_poll(int fd, int events, void *opaque)
{
	struct helper *h = opaque;
	if (h->npfd == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct pollfd *n = realloc(h->pfd, cap * sizeof(*n));
		if (!n)
			abort();
		h->pfd = n, h->cap = cap;
	}
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	h->pfd[h->npfd] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)h->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct helper *h = opaque;
	short r = h->pfd[idx].revents;
	int ev = 0;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

static const SlirpCb slirp_cb = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_get_ns,
	.timer_new = timer_new,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = register_poll_fd,
	.unregister_poll_fd = unregister_poll_fd,
	.notify = notify,
};

/* --- the policy on the guest's frames ----------------------------------- */

static const char *proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return "icmp";
	}
	return "ip-fragment";
}

/* Has this flow had its record lately? (TCP SYN retransmissions and the
 * datagrams of one UDP flow share one.) */
static bool flow_seen(struct helper *h, const struct pkt *p, bool remember)
{
	struct flow f = { 0 };
	memcpy(f.key, p->dst.a, 16);
	f.key[16] = (uint8_t)p->proto;
	f.key[17] = (uint8_t)(p->sport >> 8), f.key[18] = (uint8_t)p->sport;
	f.key[19] = (uint8_t)(p->dport >> 8), f.key[20] = (uint8_t)p->dport;
	f.key[21] = (uint8_t)p->family;
	uint32_t hsh = 2166136261u;
	for (size_t i = 0; i < sizeof(f.key); i++)
		hsh = (hsh ^ f.key[i]) * 16777619u;
	struct flow *slot = &h->flows[hsh % FLOW_SLOTS];
	int64_t now = now_ns();
	bool seen = !memcmp(slot->key, f.key, sizeof(f.key)) && now - slot->when < FLOW_AUDIT_NS;
	if (remember && !seen) {
		memcpy(slot->key, f.key, sizeof(f.key));
		slot->when = now;
	}
	return seen;
}

static void audit_connect(const struct pkt *p, const struct net_addr *judged, struct net_verdict v)
{
	if (sentry.audit_fd < 0)
		return;
	char dst[INET6_ADDRSTRLEN], via[INET6_ADDRSTRLEN];
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "proto", json_object_new_string(proto_name(p->proto)));
	json_object_object_add(f, "dst", json_object_new_string(net_addr_str(judged, dst, sizeof(dst))));
	if (p->has_ports)
		json_object_object_add(f, "port", json_object_new_int(p->dport));
	if (judged != &p->dst)
		json_object_object_add(f, "via", json_object_new_string(net_addr_str(&p->dst, via, sizeof(via))));
	json_object_object_add(f, "verdict", json_object_new_string(v.allow ? "allow" : "refuse"));
	json_object_object_add(f, "reason", json_object_new_string(v.reason));
	audit_event("connect", f);
}

static void reply(struct helper *h, size_t len)
{
	if (len)
		(void)write(h->tap, h->out, len);
}

static void refuse(struct helper *h, const struct pkt *p)
{
	bool v4 = p->family == AF_INET;
	if (p->proto == IPPROTO_TCP && p->has_ports)
		reply(h, pkt_tcp_rst(p, h->out));
	else if (p->proto == IPPROTO_UDP && p->has_ports)
		reply(h, pkt_unreach(p, v4 ? 3 : 4, h->out)); /* port unreachable */
	else if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6)
		reply(h, pkt_unreach(p, v4 ? 9 : 1, h->out)); /* administratively prohibited */
	/* A later fragment: dropped; its first one had the answer. */
}

static bool is_echo(const struct pkt *p)
{
	return !p->fragment && ((p->proto == IPPROTO_ICMP && p->icmp_type == 8) ||
				(p->proto == IPPROTO_ICMPV6 && p->icmp_type == 128));
}

static bool udp_reply_to_peer(const struct helper *h, const struct pkt *p)
{
	for (unsigned i = 0; i < PEER_SLOTS && i < h->npeer; i++)
		if (h->peers[i].guest_port == p->sport && h->peers[i].port == p->dport &&
		    same(&h->peers[i].addr, &p->dst))
			return true;
	return false;
}

static void guest_frame(struct helper *h, size_t len)
{
	struct pkt p;
	switch (pkt_parse(h->in, len, &p)) {
	case PKT_DROP:
		return;
	case PKT_PASS:
		slirp.input(h->slirp, h->in, (int)len);
		return;
	case PKT_IP:
		break;
	}
	bool v4 = p.family == AF_INET;
	/* Linux's TCP never fragments (DF, MSS): a fragmented segment is made
	 * by hand, and reassembly could give slirp flags no fragment showed. */
	if (p.proto == IPPROTO_TCP && p.fragment)
		return;
	/* Not a new flow: see the top of the file for why these may pass. */
	if (p.proto == IPPROTO_TCP && p.has_ports && (p.tcp_flags & (TCPF_SYN | TCPF_ACK)) != TCPF_SYN) {
		if (v4 && h->cfg->dns_set && same(&p.dst, &h->dns4) && p.dport == 53) {
			bit_set(h->dns_nat[1], p.sport);
			pkt_set_dst(&p, &h->cfg->dns);
		}
		slirp.input(h->slirp, h->in, (int)len);
		return;
	}
	if ((p.proto == IPPROTO_ICMP || p.proto == IPPROTO_ICMPV6) && !is_echo(&p) && !p.fragment) {
		slirp.input(h->slirp, h->in, (int)len); /* ARP's IPv6 twin (NDP), errors */
		return;
	}
	if (p.proto == IPPROTO_UDP && p.has_ports && published_udp(h, p.sport) && udp_reply_to_peer(h, &p)) {
		slirp.input(h->slirp, h->in, (int)len);
		return;
	}
	const struct net_addr *judged = &p.dst;
	struct net_verdict v;
	bool inside = v4 ? net_addr_in(&p.dst, &h->net4, NET_PREFIXLEN4) : net_addr_in(&p.dst, &h->net6, NET_PREFIXLEN6);
	if (inside) {
		const struct net_addr *gw = v4 ? &h->gw4 : &h->gw6, *dns = v4 ? &h->dns4 : &h->dns6;
		if (v4 && same(&p.dst, dns) && p.has_ports && p.dport == 53 && h->cfg->dns_set &&
		    (p.proto == IPPROTO_UDP || p.proto == IPPROTO_TCP)) {
			/* The sandbox's resolver: forwarded, not judged. */
			bit_set(h->dns_nat[p.proto == IPPROTO_TCP], p.sport);
			pkt_set_dst(&p, &h->cfg->dns);
			slirp.input(h->slirp, h->in, (int)len);
			return;
		}
		if (is_echo(&p) && (same(&p.dst, gw) || same(&p.dst, dns))) {
			slirp.input(h->slirp, h->in, (int)len); /* slirp answers these itself */
			return;
		}
		if (same(&p.dst, gw) && p.has_ports) {
			judged = v4 ? &h->lo4 : &h->lo6;
			v = net_policy_check(&h->cfg->policy, judged, p.proto, p.dport);
		} else {
			v = (struct net_verdict){ false, "sandbox-net" };
		}
	} else {
		v = net_policy_check(&h->cfg->policy, &p.dst, p.has_ports ? p.proto : is_echo(&p) ? p.proto : 0,
				     p.has_ports ? p.dport : 0);
	}
	bool first = !(p.fragment && !p.has_ports);
	if (first && (!v.allow || !flow_seen(h, &p, true)))
		audit_connect(&p, judged, v);
	if (v.allow)
		slirp.input(h->slirp, h->in, (int)len);
	else
		refuse(h, &p);
}

/* --- the TCP fast path (net/fastpath.h) ---------------------------------- */

/* The options the guest's socket may hand on: what the guest set on its
 * socket and expects to hold on the connection. Nothing here reaches
 * beyond the socket (the sentry refuses those when the guest sets them),
 * and nothing defers the connect (TCP_FASTOPEN_CONNECT: the first write
 * would make it, and a failure there leaves the socket free to connect
 * anywhere; the sentry keeps such sockets on slirp's path). */
static bool fp_option_ok(int level, int name)
{
	switch (level) {
	case SOL_SOCKET:
		return name == SO_KEEPALIVE || name == SO_LINGER || name == SO_RCVBUF || name == SO_SNDBUF ||
		       name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD || name == SO_REUSEADDR ||
		       name == SO_PRIORITY || name == SO_OOBINLINE;
	case IPPROTO_TCP:
		return name == TCP_NODELAY || name == TCP_CORK || name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
		       name == TCP_KEEPCNT || name == TCP_USER_TIMEOUT || name == TCP_CONGESTION ||
		       name == TCP_NOTSENT_LOWAT || name == TCP_MAXSEG;
	case IPPROTO_IP:
		return name == IP_TOS || name == IP_TTL;
	case IPPROTO_IPV6:
		return name == IPV6_V6ONLY || name == IPV6_TCLASS;
	}
	return false;
}

static void fp_answer(struct helper *h, int err, bool refused, int fd)
{
	struct net_fp_ans a = { .err = err, .refused = refused };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { &a, sizeof(a) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	/* The sentry waits for this answer; if it is gone, so is the sandbox. */
	(void)sendmsg(h->ctl, &msg, MSG_NOSIGNAL);
}

/* One request: judged exactly as a SYN to the same address would be
 * (guest_frame), recorded alike, then the socket. */
static void fp_request(struct helper *h)
{
	struct net_fp_req q;
	ssize_t n = recv(h->ctl, &q, sizeof(q), MSG_DONTWAIT);
	if (n == 0) {
		h->ctl = -1; /* the sentry is gone; the tap tells the rest */
		return;
	}
	if (n != (ssize_t)sizeof(q) || (q.family != AF_INET && q.family != AF_INET6) || q.nopt > NET_FP_MAXOPT) {
		if (n > 0)
			fp_answer(h, EINVAL, false, -1);
		return;
	}
	struct pkt p = { .family = (int)q.family, .proto = IPPROTO_TCP, .has_ports = true, .dport = q.port };
	p.dst.family = (int)q.family;
	memcpy(p.dst.a, q.addr, 16);
	bool v4 = q.family == AF_INET;
	/* The sentry sends only addresses that leave the sandbox; anything
	 * else is its bug, and the answer slirp's path would give. */
	struct net_verdict v;
	if (v4 ? net_addr_in(&p.dst, &h->net4, NET_PREFIXLEN4) : net_addr_in(&p.dst, &h->net6, NET_PREFIXLEN6))
		v = (struct net_verdict){ false, "sandbox-net" };
	else
		v = net_policy_check(&h->cfg->policy, &p.dst, IPPROTO_TCP, q.port);
	audit_connect(&p, &p.dst, v);
	if (!v.allow) {
		fp_answer(h, ECONNREFUSED, true, -1);
		return;
	}
	int s = socket((int)q.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
	if (s < 0) {
		fp_answer(h, errno, false, -1);
		return;
	}
	for (unsigned i = 0; i < q.nopt; i++) {
		const struct net_fp_opt *o = &q.opt[i];
		if (fp_option_ok(o->level, o->name) && o->len <= sizeof(o->val))
			(void)setsockopt(s, o->level, o->name, o->val, o->len); /* as the guest's kernel took it */
	}
	int err = 0;
	if (v4) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(q.port) };
		memcpy(&sin.sin_addr, q.addr, 4);
		err = connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? errno : 0;
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(q.port) };
		memcpy(&sin6.sin6_addr, q.addr, 16);
		err = connect(s, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 ? errno : 0;
	}
	bool sent = err == 0 || err == EINPROGRESS;
	fp_answer(h, err, false, sent ? s : -1);
	close(s);
}

/* --- the process ------------------------------------------------------- */

static int recv_tap(int sock)
{
	char byte;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct cmsghdr *cm = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPIPE;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void run_timers(struct helper *h)
{
	int64_t now = now_ms();
	for (int i = 0; i < MAX_TIMERS; i++) {
		struct timer *t = &h->timers[i];
		if (t->used && t->armed && t->expire_ms <= now) {
			t->armed = false;
			t->cb(t->cb_opaque);
		}
	}
}

static uint32_t next_timeout(struct helper *h)
{
	int64_t now = now_ms(), next = 1000;
	for (int i = 0; i < MAX_TIMERS; i++) {
		const struct timer *t = &h->timers[i];
		if (t->used && t->armed && t->expire_ms - now < next)
			next = t->expire_ms - now;
	}
	return next < 0 ? 0 : (uint32_t)next;
}

static _Noreturn void serve(struct helper *h)
{
	int fl = fcntl(h->tap, F_GETFL);
	if (fl < 0 || fcntl(h->tap, F_SETFL, fl | O_NONBLOCK) < 0)
		_exit(1);
	for (;;) {
		h->npfd = 0;
		add_poll(h->tap, SLIRP_POLL_IN, h);
		/* Always at index 1 (-1 is skipped by poll). */
		add_poll(h->ctl, SLIRP_POLL_IN, h);
		uint32_t timeout = next_timeout(h);
		slirp.pollfds_fill(h->slirp, &timeout, add_poll, h);
		int r = poll(h->pfd, h->npfd, (int)timeout);
		if (r < 0 && errno != EINTR)
			_exit(1);
		if (r > 0 && (h->pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)))
			_exit(0); /* the guest's namespace is gone */
		if (r > 0 && (h->pfd[0].revents & POLLIN)) {
			/* A batch, then slirp's sockets get their turn. */
			for (int i = 0; i < 64; i++) {
				ssize_t n = read(h->tap, h->in, sizeof(h->in));
				if (n <= 0)
					break;
				guest_frame(h, (size_t)n);
			}
		}
		if (r > 0 && (h->pfd[1].revents & (POLLIN | POLLHUP)))
			fp_request(h);
		slirp.pollfds_poll(h->slirp, r < 0, get_revents, h);
		run_timers(h);
	}
}

static void addr_init(struct net_addr *a, const char *s) { net_addr_parse(s, a); }

static Slirp *make_slirp(struct helper *h, char *why, size_t len)
{
	SlirpConfig sc = {
		.version = 4,
		.in_enabled = true,
		.in6_enabled = true,
		.vprefix_len = NET_PREFIXLEN6,
		.if_mtu = NET_MTU,
		.if_mru = NET_MTU,
		.disable_dns = true,  /* the helper forwards DNS itself */
		.disable_dhcp = true, /* pid 1 set the addresses */
	};
	inet_pton(AF_INET, NET_PREFIX4, &sc.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &sc.vnetmask);
	inet_pton(AF_INET, NET_GATEWAY4, &sc.vhost);
	inet_pton(AF_INET, NET_DNS4, &sc.vnameserver);
	inet_pton(AF_INET, NET_GUEST4, &sc.vdhcp_start);
	inet_pton(AF_INET6, NET_PREFIX6, &sc.vprefix_addr6);
	inet_pton(AF_INET6, NET_GATEWAY6, &sc.vhost6);
	inet_pton(AF_INET6, NET_DNS6, &sc.vnameserver6);
	Slirp *s = slirp.new_(&sc, &slirp_cb, h);
	if (!s) {
		snprintf(why, len, "--net=sandbox: libslirp refused its configuration");
		return NULL;
	}
	h->slirp = s;
	for (size_t i = 0; i < h->cfg->npublish; i++) {
		const struct net_publish *p = &h->cfg->publish[i];
		int r;
		if (p->host.family == AF_INET) {
			struct in_addr ha, ga;
			memcpy(&ha, p->host.a, 4);
			inet_pton(AF_INET, NET_GUEST4, &ga);
			r = slirp.add_hostfwd(s, p->udp, ha, p->host_port, ga, p->guest_port);
		} else {
			struct sockaddr_in6 ha = { .sin6_family = AF_INET6, .sin6_port = htons(p->host_port) };
			struct sockaddr_in6 ga = { .sin6_family = AF_INET6, .sin6_port = htons(p->guest_port) };
			memcpy(&ha.sin6_addr, p->host.a, 16);
			inet_pton(AF_INET6, NET_GUEST6, &ga.sin6_addr);
			r = slirp.add_hostxfwd(s, (struct sockaddr *)&ha, sizeof(ha), (struct sockaddr *)&ga,
					       sizeof(ga), (p->udp ? SLIRP_HOSTFWD_UDP : 0) | SLIRP_HOSTFWD_V6ONLY);
		}
		if (r < 0) {
			snprintf(why, len, "--publish %s: cannot listen on the host port (in use?)", p->spec);
			return NULL;
		}
	}
	return s;
}

/* An empty read-only tmpfs as root: nothing of the host's files by path. */
static int drop_filesystem(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("moat-net", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2,mode=0555") < 0 ||
	    chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
	    chdir("/") < 0 ||
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return neg_errno();
	return 0;
}

/* Close every fd but the ones kept (sorted, ascending). */
static void close_others(const int *keep, size_t n)
{
	unsigned from = 0;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static _Noreturn void helper_main(struct net_config *cfg, int tap_sock, int ctl_sock, int ready, uid_t uid,
				  gid_t gid, pid_t parent)
{
	char why[512] = "";
	int keep[] = { STDERR_FILENO, sentry.audit_fd, tap_sock, ctl_sock, ready };
	qsort(keep, ARRAY_SIZE(keep), sizeof(int), cmp_int);
	close_others(keep, ARRAY_SIZE(keep));
	struct sigaction sa = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* SIGPIPE: a host peer that went away is slirp's to handle (EPIPE). */
	signal(SIGPIPE, SIG_IGN);
	/* Stop signals sent to moat's whole process group (Ctrl-C, a hangup,
	 * timeout(1)) are the sentry's: the guest gets them and a grace
	 * period, with its network; this helper ends with the sentry. */
	static const int stop_sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		signal(stop_sigs[i], SIG_IGN);
	struct helper *h = calloc(1, sizeof(*h));
	if (!h)
		_exit(1);
	h->cfg = cfg;
	h->tap = -1;
	h->ctl = ctl_sock;
	addr_init(&h->guest4, NET_GUEST4), addr_init(&h->gw4, NET_GATEWAY4);
	addr_init(&h->dns4, NET_DNS4), addr_init(&h->net4, NET_PREFIX4);
	addr_init(&h->guest6, NET_GUEST6), addr_init(&h->gw6, NET_GATEWAY6);
	addr_init(&h->dns6, NET_DNS6), addr_init(&h->net6, NET_PREFIX6);
	addr_init(&h->lo4, "127.0.0.1"), addr_init(&h->lo6, "::1");
	int r = 0;
	if (slirp_api_load(&slirp, why, sizeof(why)) < 0 || !make_slirp(h, why, sizeof(why)))
		goto fail;
	/* json-c seeds its string hash on first use from /dev/urandom: done
	 * now, while there is a /dev. */
	struct json_object *warm = json_object_new_object();
	json_object_object_add(warm, "seed", NULL);
	json_object_put(warm);
	/* And the audit record's strftime reads the zone file once. */
	tzset();
	if ((r = drop_filesystem()) < 0) {
		snprintf(why, sizeof(why), "network helper: confine its filesystem: %s", strerror(-r));
		goto fail;
	}
	/* Every capability goes with the uid change (no keepcaps). */
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
	    /* The uid change made it undumpable only where fs.suid_dumpable
	     * is 0 or 2: the sentry and the guest share its uid, and must
	     * not trace it or read its memory whatever the host's setting. */
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(why, sizeof(why), "network helper: drop privileges: %s", strerror(errno));
		goto fail;
	}
	if ((r = net_filter_install()) < 0) {
		snprintf(why, sizeof(why), "network helper: install its seccomp allowlist: %s", strerror(-r));
		goto fail;
	}
	(void)write_all(ready, "ok", 2);
	close(ready);
	h->tap = recv_tap(tap_sock);
	close(tap_sock);
	if (h->tap < 0)
		_exit(0); /* pid 1 failed, and said why */
	serve(h);
fail:
	(void)write_all(ready, why, strlen(why));
	_exit(1);
}

int net_helper_spawn(const struct net_config *c, int tap_sock, int ctl_sock, uid_t uid, gid_t gid,
		     struct net_helper *ret)
{
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0)
		return neg_errno();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int r = neg_errno();
		close(pp[0]);
		close(pp[1]);
		return r;
	}
	if (pid == 0) {
		close(pp[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		helper_main((struct net_config *)c, tap_sock, ctl_sock, pp[1], uid, gid, parent);
	}
	close(pp[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	*ret = (struct net_helper){ .pid = pid, .pidfd = pidfd, .ready = pp[0] };
	return 0;
}

int net_helper_wait_ready(struct net_helper *h, char *why, size_t len)
{
	char buf[512];
	ssize_t n;
	do
		n = read(h->ready, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	h->ready = safe_close(h->ready);
	if (n == 2 && !memcmp(buf, "ok", 2))
		return 0;
	if (n > 0) {
		buf[n] = 0;
		snprintf(why, len, "%s", buf);
	} else {
		/* Not reaped (WNOWAIT): the sentry's exit path still waits for it. */
		siginfo_t si = { 0 };
		int sig = h->pidfd >= 0 && waitid(P_PIDFD, (id_t)h->pidfd, &si, WEXITED | WNOWAIT) == 0 &&
				  si.si_code != CLD_EXITED ? si.si_status : 0;
		if (sig)
			snprintf(why, len, "the network helper was killed by SIG%s during its setup%s",
				 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
				 sig == SIGSYS ? ": a call outside its seccomp allowlist" : "");
		else
			snprintf(why, len, "the network helper died during its setup");
	}
	return -EIO;
}
