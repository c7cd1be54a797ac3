/* SPDX-License-Identifier: MIT */
/* The gofer's server state, shared by its process setup (gofer/setup.c:
 * gofer_spawn, the child's confinement) and its event loop (gofer/serve.c).
 *
The gofer process: gofer_spawn() forks it, it confines itself, then serves
 * the sentry on a SOCK_SEQPACKET socket until the socket closes.
 *
 * Trust: the sentry may be compromised. The gofer serves only the exports it
 * was started with (its mount namespace holds nothing else), resolves one
 * component at a time below a directory fd it issued, never follows a
 * symlink, checks every frame completely, and ends the connection (exits) on
 * any malformed frame or unknown id: a correct sentry never sends one.
 *
 * Setup, in the child, in this order (each step needs the ones before):
 *   1. die with the parent (PDEATHSIG, then getppid against the race);
 *   2. private mount namespace; clone each export's mount tree with
 *      open_tree() while the host's root is still visible, recursively
 *      read-only (unless rw), nosuid, nodev;
 *   3. a small tmpfs becomes "/" (pivot_root), the old root is detached;
 *      the export trees are attached as /<idx>; masks are bind mounts of an
 *      empty, mode-000, read-only file or directory over the masked paths;
 *   4. the tmpfs root turns read-only; export roots are opened;
 *   5. every other fd is closed; capabilities are dropped to
 *      DAC_OVERRIDE + DAC_READ_SEARCH (root-only files read as for root),
 *      plus SETUID, SETGID, FOWNER, CHOWN with an rw export (mutate.c);
 *   6. an io_uring restricted to OPENAT2/STATX/RECVMSG; no_new_privs; a
 *      seccomp allowlist (kill the process on anything else);
 *   7. READY is sent: status 0, or the -errno of the step that failed.
 *
 * Mutations of rw exports (mutate.c) run synchronously as they arrive,
 * as the export's owner (fsuid/fsgid).
 *
 * Serving: one thread, an event loop over io_uring. Requests are decoded as
 * they arrive; their host work (openat2, statx) goes on the ring, so many
 * requests are in flight and replies go out in completion order, each with
 * its request's tag. Directories are listed by the sentry itself, on the
 * fds the gofer donated: nothing here reads one. If io_uring is unavailable
 * (disabled by sysctl), the same state machine runs its ops synchronously. */
#pragma once
#include "gofer/gofer.h"
#include "gofer/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SRV_RING_ENTRIES 256u   /* SQ size; also the cap on ops in flight */
#define SRV_MAX_REQS 64u        /* requests in flight before we stop reading */
#define SRV_MAX_IDS (1u << 16)  /* issued directory ids (each holds an fd) */
#define SRV_WALK_TRIES 3
#define SRV_SOCKBUF (1024 * 1024)

/* Directory ids: (generation << 32) | slot, never 0. Export roots occupy the
 * first slots with generation 1 and are never freed. */
struct srv_slot {
	int fd;         /* -1: free */
	uint32_t gen;
	uint32_t busy;  /* requests in flight that use fd */
	uint32_t next_free;
	uint32_t export; /* the export the directory belongs to */
	bool released;  /* RELEASEd while busy: close when idle */
};

/* What the gofer keeps of each export after setup. */
struct srv_export {
	bool rw;
	uid_t uid; /* rw: owner of what is created (never 0) */
	gid_t gid;
};

enum op_kind { OP_OPEN_DIR, OP_STAT };

/* One host operation; on the ring its user_data is this pointer. */
struct srv_op {
	struct srv_req *req;
	struct srv_op *next;
	enum op_kind kind;
	int dirfd;
	const char *name;
	int32_t res;
	struct statx stx;
};

/* A WALK in progress: one op at a time (open, then stat if not a directory). */
struct srv_req {
	struct gofer_request rq;
	uint32_t slot;
	int tries;
	struct srv_op op;
};

struct srv {
	int sock;
	struct io_uring ring;
	bool use_ring;
	struct srv_slot *slots;
	uint32_t nslots, nfixed, free_head;
	struct srv_export *exports; /* nfixed of them */
	bool any_rw;
	struct srv_op *q_head, **q_tail;       /* ops waiting for the ring */
	struct srv_op *done_head, **done_tail; /* synchronous mode completions */
	unsigned inflight;                     /* SQEs not yet completed */
	unsigned nreqs;
	bool recv_armed;
	struct msghdr rxmsg;
	struct iovec rxiov;
	uint8_t rxbuf[GOFER_MAX_REQUEST + 1]; /* +1: an oversized frame shows */
	uint8_t txbuf[GOFER_MAX_REPLY];
	/* The objects masks are made of: anything with this (dev, ino) is a mask. */
	dev_t maskf_dev, maskd_dev;
	ino_t maskf_ino, maskd_ino;
};

#define SLOT_NONE UINT32_MAX

#define STAT_FLAGS (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)

/* The event loop (serve.c): serve the sentry until the socket closes, then
 * exit. srv_serve_ring falls back to srv_serve_sync if the ring fails. */
_Noreturn void srv_serve_ring(struct srv *s);
_Noreturn void srv_serve_sync(struct srv *s);

/* Shared by serve.c and mutate.c. */
_Noreturn void srv_die(const char *why);
void srv_send(struct srv *s, ssize_t len, int fd);
/* MOAT_TEST_GOFERREPLY (tests only): read once, before serving. */
void srv_test_init(void);
int srv_map_err(int err);
/* The slot of an issued id; an id never issued ends the connection. */
uint32_t srv_req_slot(const struct srv *s, uint64_t id);
/* A mutation of a rw export (mutate.c): performed synchronously, in the
 * gofer's thread, as the export's owner (fsuid/fsgid); replied to. */
void srv_mutate(struct srv *s, const struct gofer_request *rq);
