/* SPDX-License-Identifier: MIT */
/* The sandbox's processes, found from the sandbox itself (pidwalk.c). */
#pragma once
#include <sys/types.h>

enum {
	PIDWALK_DESCEND = 0, /* go on, and into this process's children */
	PIDWALK_SKIP = 1,    /* go on, but not into its children (gone, not ours) */
	PIDWALK_STOP = 2,    /* done */
};

/* Visit every process of the sandbox, breadth-first from its pid 1, with
 * its host pid; visit returns one of the above or -errno (which ends the
 * walk and is returned). Returns 0 when the walk ended, PIDWALK_STOP when
 * visit stopped it, or -errno. Sentry lock held. */
int pidwalk(int (*visit)(pid_t hpid, void *ctx), void *ctx);
/* The same from any host pid (the OCI commands walk a container they are
 * not the sentry of); needs no lock. */
int pidwalk_from(pid_t root, int (*visit)(pid_t hpid, void *ctx), void *ctx);
