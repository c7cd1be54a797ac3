/* SPDX-License-Identifier: MIT */
/* pid 1's part of --net=sandbox (net.h): done while it is still root in the
 * guest's fresh network namespace, before it pivots into the empty root
 * (it opens /dev/net/tun and writes the namespace's sysctls by path). The
 * tap is made here rather than by the sentry entering the namespace: pid 1
 * is already there and privileged, and this runs while the sentry builds
 * its view, so it costs the start nothing. Plain ioctls, not rtnetlink:
 * a handful of fixed settings. */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

/* <linux/ipv6.h>'s, which clashes with glibc's headers. */
struct in6_ifreq_ {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static int write_sysctl(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	return write_all(fd, value, strlen(value));
}

static void sin_set(struct sockaddr *sa, const char *addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
}

#define FAIL(w)                   \
	do {                      \
		*what = (w);      \
		return neg_errno(); \
	} while (0)

int net_guest_setup(int sock, gid_t gid, const char **what)
{
	_cleanup_close_ int tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tap < 0)
		FAIL("open /dev/net/tun");
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, IFNAMSIZ, NET_IFNAME);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(tap, TUNSETIFF, &ifr) < 0)
		FAIL("make the tap device");
	/* Static addresses, set now: no duplicate detection to wait for, no
	 * second address from slirp's router advertisements. */
	int r;
	if ((r = write_sysctl("/proc/sys/net/ipv6/conf/" NET_IFNAME "/accept_dad", "0")) < 0 ||
	    (r = write_sysctl("/proc/sys/net/ipv6/conf/" NET_IFNAME "/accept_ra", "0")) < 0) {
		*what = "the tap's IPv6 settings";
		return r;
	}
	/* ICMP echo through datagram sockets (ping without privileges) for
	 * the guest's host gid only. */
	char range[64];
	snprintf(range, sizeof(range), "%u %u", (unsigned)gid, (unsigned)gid);
	if ((r = write_sysctl("/proc/sys/net/ipv4/ping_group_range", range)) < 0) {
		*what = "net.ipv4.ping_group_range";
		return r;
	}
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	_cleanup_close_ int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || s6 < 0)
		FAIL("a socket to configure the tap");
	ifr.ifr_mtu = NET_MTU;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		FAIL("the tap's MTU");
	sin_set(&ifr.ifr_addr, NET_GUEST4);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		FAIL("the tap's IPv4 address");
	sin_set(&ifr.ifr_netmask, "255.255.255.0");
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		FAIL("the tap's netmask");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		FAIL("the tap's flags");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		FAIL("bring the tap up");
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0)
		FAIL("the tap's index");
	int ifindex = ifr.ifr_ifindex;
	struct in6_ifreq_ i6 = { .prefixlen = NET_PREFIXLEN6, .ifindex = ifindex };
	inet_pton(AF_INET6, NET_GUEST6, &i6.addr);
	if (ioctl(s6, SIOCSIFADDR, &i6) < 0)
		FAIL("the tap's IPv6 address");
	struct rtentry rt = { .rt_flags = RTF_UP | RTF_GATEWAY, .rt_dev = (char *)NET_IFNAME };
	sin_set(&rt.rt_dst, "0.0.0.0");
	sin_set(&rt.rt_genmask, "0.0.0.0");
	sin_set(&rt.rt_gateway, NET_GATEWAY4);
	if (ioctl(s, SIOCADDRT, &rt) < 0)
		FAIL("the default IPv4 route");
	struct in6_rtmsg rt6 = { .rtmsg_flags = RTF_UP | RTF_GATEWAY, .rtmsg_metric = 1,
				 .rtmsg_ifindex = ifindex };
	inet_pton(AF_INET6, NET_GATEWAY6, &rt6.rtmsg_gateway);
	if (ioctl(s6, SIOCADDRT, &rt6) < 0)
		FAIL("the default IPv6 route");
	ssize_t sent = send_fds(sock, "T", 1, &tap, 1, 0, NULL, 0);
	if (sent != 1) {
		*what = "hand the tap to the network helper";
		return sent < 0 ? (int)sent : -EIO;
	}
	return 0;
}
