/* SPDX-License-Identifier: MIT */
/* The sandbox's cgroup (docs/limits.md): cgroup v2 where the caller's cgroup
 * delegates the controllers, v1 otherwise, and for what neither offers the
 * rlimits of limits.c. One cgroup per sandbox, `moat-<sentry pid>`, a child
 * of the cgroup moat was started in; the guest (pid 1 and everything it
 * starts) runs in it, the sentry and the gofer do not. A small privileged
 * helper process removes it when the sentry ends, however it ends; a start
 * removes what a crashed sandbox left. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sentry/sandbox/config.h"

enum cgroup_ctl { CG_MEMORY, CG_PIDS, CG_CPU, CG__MAX };
enum cgroup_mode { CGROUP_NONE, CGROUP_V1, CGROUP_V2 };

struct sandbox_cgroup {
	enum cgroup_mode mode;
	char name[32];            /* moat-<pid> */
	/* The sandbox's cgroup directory per controller (v2: the same one for
	 * all); NULL where that controller is not used. */
	char *dir[CG__MAX];
	/* Kept open from before the sentry confines itself, read at the end. */
	int memory_events_fd;     /* v2 memory.events, v1 memory.oom_control */
	int pids_events_fd;       /* pids.events */
	int helper_go;            /* write a byte: clean up now */
	/* v2 where the kernel has CLONE_INTO_CGROUP: the cgroup's directory,
	 * for cloning pid 1 into it (guest_start); -1 otherwise. */
	int clone_fd;
};

/* For the tests only: MOAT_TEST_FORCE_FALLBACK=cgroup_v2 (use v1),
 * cgroup_v1, or both/all (the rlimits) -- see platform/kfeatures.h. */

/* Probe, create and configure the sandbox's cgroup for the limits in l (in
 * the caller's cgroup: v2 if it delegates every controller needed, else v1
 * where it has them), and start the cleanup helper. With l->defaults_only,
 * only a cgroup pid 1 can be cloned into (v2, no move of moat, controllers
 * already enabled for children). Sets l->fallback to the limits no cgroup
 * enforces. Call before any thread and before the guest
 * and gofer start. Returns 0 (ret->mode CGROUP_NONE when nothing could be
 * used), or -errno when a limit asked for explicitly cannot be enforced at
 * all (--cpus without a cpu controller), after saying so. */
int cgroup_setup(struct sandbox_limits *l, struct sandbox_cgroup *ret);
/* Put pid (the guest's pid 1, before it runs anything of the guest's) in
 * the cgroup: nothing to do when it was cloned into cg->clone_fd (which is
 * closed), else a move. */
int cgroup_attach(struct sandbox_cgroup *cg, pid_t pid);
/* "cgroup v2", "cgroup v1", "rlimits" (+ one another stands in for, ", memory
 * unenforced"): what enforces the limits. */
const char *cgroup_mechanism(const struct sandbox_cgroup *cg, const struct sandbox_limits *l);

struct cgroup_events {
	uint64_t oom_kills;       /* processes the kernel killed at the memory limit */
	uint64_t pids_refused;    /* forks refused at the pids limit */
};
/* Read the counters through the fds kept open (works confined). */
int cgroup_read_events(const struct sandbox_cgroup *cg, struct cgroup_events *ret);
/* Tell the helper to remove the cgroup (killing anything left in it), which
 * it does as soon as the kernel has emptied it, after moat is gone. Works
 * confined. */
void cgroup_finish(struct sandbox_cgroup *cg);

/* For `moat events` (issue 11): the memory in use (bytes) and the number
 * of tasks in the cgroup of host process pid (a sandbox's pid 1), and
 * their limits (0: none), read from outside; only from the sandbox's own
 * cgroups (moat-<sentry_pid>). -ENOENT when it has none. */
struct cgroup_stats {
	uint64_t memory_current, memory_max;
	uint64_t pids_current, pids_max;
	bool has_memory, has_pids;
};
int cgroup_stats_of(pid_t pid, pid_t sentry_pid, struct cgroup_stats *ret);

/* `moat pause`/`resume`: freeze or thaw, from outside, the sandbox whose
 * pid 1 is init and whose sentry is sentry_pid, and wait until the kernel
 * says it is done: cgroup.freeze of its own v2 cgroup (moat-<sentry
 * pid>), else a v1 freezer cgroup of that name, made at the first pause
 * with init and pids (the sandbox's other processes) moved into it. The
 * cgroup's directory in *ret_dir (malloc'd; may be NULL). -ENOENT: no
 * freezer here (the caller stops the processes with signals). */
int cgroup_freeze(pid_t init, pid_t sentry_pid, const pid_t *pids, size_t npids, bool freeze,
		  char **ret_dir);

/* Exposed for tests/unit/test_cgroup.c: the mount point of a controller
 * ("memory"...; NULL: the cgroup2 mount) in /proc/self/mounts text, and a
 * process's cgroup path for it in /proc/PID/cgroup text. Return malloc'd
 * strings or NULL. */
char *cgroup_mount_of(const char *mounts, const char *ctl);
char *cgroup_path_of(const char *proc_cgroup, const char *ctl);
