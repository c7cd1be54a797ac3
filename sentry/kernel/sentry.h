/* SPDX-License-Identifier: MIT */
/* The sentry: configuration of the running sandbox, the global lock, and the
 * worker threads that receive notifications (sentry.c). */
#pragma once
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct gofer_client;
struct vnode;

/* One lock protects the VFS and the task table. Handlers run with it held and
 * drop it only around waits (a gofer reply, a FIFO open, an exec's ptrace
 * stops), so one waiting guest call never stalls the others. */
void sentry_lock(void);
void sentry_unlock(void);
/* The unlock at the end of a handler, before its answer is sent: not a wait,
 * so it starts no worker (the caller goes back to receiving right after). */
void sentry_unlock_done(void);
/* The ptrace platform's tracer runs some handlers itself
 * (sys_dispatch_inline): it never waits for the lock (false: held), and
 * between inline_begin and inline_end a wait that only another guest task
 * can end is refused: sentry_may_wait() (vfs_may_wait() in filesystems)
 * says false, the caller fails without side effects, and inline_end says
 * the request must run again on a worker. Gofer round trips may wait: the
 * gofer answers whatever the guest does. */
bool sentry_trylock(void);
void sentry_inline_begin(void);
bool sentry_inline_end(void);
bool sentry_may_wait(void);

/* Kill the whole sandbox now (fail closed): something impossible happened,
 * e.g. the gofer broke its protocol. Logs and audits why. Safe from any
 * thread, with or without the lock. */
void sentry_fatal(const char *why);
/* True once the sandbox was killed (sentry_fatal, the gofer gone): from then
 * on no guest syscall is answered, so no guest task goes on past the
 * broken state while the kernel takes the pid namespace down. */
bool sentry_dead(void);

struct sandbox_identity {
	char hostname[65];
	char domainname[65];
	char release[65];   /* uname -r shown to the guest */
	char version[65];   /* uname -v */
};

/* Global state of the running sandbox, set up before the workers start. */
struct sentry_state {
	struct sandbox_identity ident;
	struct gofer_client *gofer;
	pid_t init_pid;        /* host pid of the sandbox's pid 1 */
	uint64_t pidns_ino;    /* inode of the sandbox's pid namespace */
	uid_t host_uid;        /* unprivileged host uid the guest runs as */
	gid_t host_gid;
	struct timespec start; /* CLOCK_MONOTONIC at start, for uptime */
	struct timespec boot_realtime;
	int audit_fd;          /* -1 when no audit log */
	/* --net=sandbox with the TCP fast path on: the sentry's end of its
	 * socketpair with the network helper (net/fastpath.h,
	 * syscalls/sys_inet.c); -1 otherwise. */
	int net_fp;
	int listener;          /* seccomp listener */
	char **interp_paths;   /* ELF interpreters bound in the guest's host root */
	size_t ninterp;
	/* --timeout: a timerfd made before the sentry confines itself, armed
	 * by sentry_run() for timeout_ms; timed_out once it ended the sandbox. */
	int timeout_fd;
	long timeout_ms;
	bool timed_out;
	/* A stop signal to moat starts stop_fd (a timerfd made before the
	 * sentry confines itself) for stop_grace_ms; stop_killed once it
	 * ended the sandbox because the command had not exited. */
	int stop_fd;
	long stop_grace_ms;
	/* The limits /proc and /sys show the guest (meminfo, cpuinfo, stat,
	 * /sys/fs/cgroup): memory in bytes (0: none), its use read through
	 * mem_current_fd (the cgroup's memory.current or v1's
	 * memory.usage_in_bytes, opened before confinement; -1: none), CPUs
	 * as ceil(--cpus) (0: none), and pids (0: none). */
	uint64_t mem_limit;
	int mem_current_fd;
	unsigned cpu_limit;
	uint64_t cpu_quota_us, cpu_period_us;
	uint64_t pids_limit;
	int stop_signal;
	bool stop_killed;
};
extern struct sentry_state sentry;

/* Another event source for the control thread (`moat exec`'s control
 * socket and its connections: sentry/sandbox/execsrv.c): fn runs on the
 * control thread, without the sentry lock, whenever fd is readable or
 * hung up. The struct must live until sentry_unwatch(). */
struct sentry_source {
	int fd;
	void (*fn)(struct sentry_source *src, uint32_t events);
};
int sentry_watch(struct sentry_source *src);
void sentry_unwatch(struct sentry_source *src);

/* Set up the control thread's event set; then sentry_run() until pid 1
 * reports the command's status on status_fd or exits (0), or the sandbox had
 * to be killed (-errno). */
int sentry_init_events(void);
/* fwd: the signals to forward to pid 1, blocked in every thread; the
 * control thread takes them only while it waits (a signalfd would wake it
 * for every signal the process gets: each of the ptrace platform's stops
 * raises a SIGCHLD). */
int sentry_run(int init_pidfd, int gofer_pidfd, const sigset_t *fwd, int status_fd, int nworkers_start);
