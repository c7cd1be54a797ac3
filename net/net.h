/* SPDX-License-Identifier: MIT */
/* Networking of a sandbox (docs/networking.md): the modes, the guest's
 * addressing under --net=sandbox, and the network helper's interface.
 *
 * --net=sandbox: pid 1 (sentry/sandbox/guest.c), still root in the guest's
 * new network namespace, makes the tap device eth0, gives it the addresses
 * and routes below and hands its fd over a socketpair to the network
 * helper (net/helper.c). The helper, forked from moat before the sentry
 * confines itself, runs libslirp in the host's network namespace with no
 * filesystem, the sandbox's unprivileged host uid and its own seccomp
 * allowlist, and applies the egress policy (net/policy.h) to every packet
 * the guest sends before slirp sees it. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/policy.h"

enum net_mode { NET_NONE = 0, NET_SANDBOX, NET_HOST };

/* The guest's side of --net=sandbox (slirp's defaults for IPv4). */
#define NET_IFNAME "eth0"
#define NET_GUEST4 "10.0.2.15"
#define NET_GATEWAY4 "10.0.2.2" /* slirp itself; TCP/UDP to it reach the host's 127.0.0.1 */
#define NET_DNS4 "10.0.2.3"     /* the helper forwards DNS sent here */
#define NET_PREFIX4 "10.0.2.0"
#define NET_PREFIXLEN4 24
#define NET_GUEST6 "fd6d:6f61:7400::15" /* a ULA prefix of its own ("moat") */
#define NET_GATEWAY6 "fd6d:6f61:7400::2"
#define NET_DNS6 "fd6d:6f61:7400::3"
#define NET_PREFIX6 "fd6d:6f61:7400::"
#define NET_PREFIXLEN6 64
/* slirp ends every TCP connection and UDP flow itself and opens its own
 * host sockets, so the guest's MTU is never seen on a wire, and a larger
 * one means fewer frames through the tap and slirp per byte. But slirp's
 * TCP has no window scaling: its window toward the guest is at most 64 KiB,
 * and with an MSS above a third of that the guest's uploads stall on it
 * (measured with bench/net.sh: 1500: 300 MB/s up; 9000 and 16384: about
 * 1.1 GB/s up and 1.3 GB/s down; 32768 and slirp4netns's 65520: 20-40 MB/s
 * up; a later, noisier series did not show the stall, docs/networking.md).
 * 16384 keeps four full segments in that window. */
#define NET_MTU 16384

struct net_publish {
	struct net_addr host; /* default 127.0.0.1 */
	uint16_t host_port, guest_port;
	bool udp;
	char *spec; /* as given, for messages */
};

struct net_config {
	enum net_mode mode;
	struct net_policy policy;
	struct net_publish *publish;
	size_t npublish;
	bool dns_set;          /* --dns IP, else the host's first IPv4 nameserver */
	struct net_addr dns;
	bool fastpath_off;     /* --net-fastpath=off: every TCP connection through slirp */
};

/* "none", "sandbox", "host". */
int net_mode_parse(const char *s, enum net_mode *ret);
/* "[HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp]"; HOSTIP may be [v6]. */
int net_publish_parse(const char *spec, struct net_publish *ret);
/* Before the sandbox starts (moat still has the host's filesystem and
 * resolver): the default list and the host's own addresses, --allow-host
 * names resolved, the DNS upstream from /etc/resolv.conf. On error a
 * one-line message in why and -errno. */
int net_config_prepare(struct net_config *c, char *why, size_t len);
void net_config_free(struct net_config *c);

struct net_helper {
	pid_t pid;
	int pidfd;
	int ready; /* the helper writes "ok" or a one-line error, then closes it */
};

/* Fork the network helper. tap_sock: its end of the socketpair pid 1 sends
 * the tap's fd on; ctl_sock: its end of the TCP fast path's socketpair
 * with the sentry (net/fastpath.h), or -1 with the fast path off. uid/gid: the sandbox's host identity it drops to. The
 * audit log (sentry.audit_fd), if any, is inherited: it writes its own
 * records there. */
int net_helper_spawn(const struct net_config *c, int tap_sock, int ctl_sock, uid_t uid, gid_t gid,
		     struct net_helper *ret);
/* Wait for its setup (slirp, --publish listeners, confinement): 0, or
 * -errno with its message in why. */
int net_helper_wait_ready(struct net_helper *h, char *why, size_t len);

/* pid 1's part, as root in the guest's new network namespace: the tap,
 * its addresses and routes, the namespace's ping_group_range (gid..gid),
 * then the tap's fd sent on sock. Returns 0 or -errno with what failed in
 * *what. */
int net_guest_setup(int sock, gid_t gid, const char **what);
