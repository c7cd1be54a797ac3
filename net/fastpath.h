/* SPDX-License-Identifier: MIT */
/* The TCP fast path of --net=sandbox (docs/networking.md, "The TCP fast
 * path"): the sentry asks the network helper, on a socketpair made at
 * setup, for a connected host socket to an address outside the sandbox.
 * The helper judges the address with its live policy (the one DNS answers
 * teach), writes the same "connect" audit record a judged SYN gets, and if
 * allowed makes the socket in the host's namespace, sets the options the
 * guest's socket had, starts a non-blocking connect and sends the socket
 * back (SCM_RIGHTS). The sentry waits for the connect where the guest
 * would have and puts the socket in the guest in place of its own.
 *
 * Why the helper makes the socket and not the sentry: the verdict and the
 * connect then happen in one process on one copy of the address, the
 * helper already holds Internet sockets (its allowlist has socket and
 * connect for slirp), and the sentry's own allowlist keeps "no socket
 * after setup". Messages are fixed-size SOCK_SEQPACKET records; one
 * request at a time (the sentry serialises them). */
#pragma once
#include <stdint.h>

#define NET_FP_MAXOPT 24

/* A socket option to set on the new socket: (level, name) from the
 * helper's own list (anything else is ignored), value as getsockopt gave
 * it on the guest's socket (buffer sizes already halved). */
struct net_fp_opt {
	int32_t level, name;
	uint32_t len;
	uint8_t val[16];
};

struct net_fp_req {
	uint32_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
	uint16_t nopt;
	struct net_fp_opt opt[NET_FP_MAXOPT];
};

/* err: 0 (connected already), EINPROGRESS (connecting), both with the
 * socket attached; refused by the policy: ECONNREFUSED with refused set;
 * else the errno socket or connect gave (ENETUNREACH...), no socket. */
struct net_fp_ans {
	int32_t err;
	uint32_t refused;
};
