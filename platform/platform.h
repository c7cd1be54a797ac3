/* SPDX-License-Identifier: MIT */
/* How a trapped syscall arrives and is answered. Handlers in syscalls/ and
 * sentry/ see only struct sysreq and the req_* helpers below; they never call
 * a platform directly. Two platforms implement them (struct platform_ops):
 * seccomp user notification, the default (seccomp_notify.c; ptrace is used
 * briefly to complete execs and follow clones, ptrace_exec.c and
 * ptrace_clone.c), and ptrace, where every trapped call is a
 * PTRACE_EVENT_SECCOMP stop of a task the sentry traces from birth
 * (ptrace_platform.c; docs/architecture.md, "Platforms"). */
#pragma once
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct task;
struct sys_entry;

struct sysreq {
	uint64_t id;            /* notification cookie (ptrace: the stop's number) */
	pid_t tid;              /* host tid of the calling thread */
	int nr;                 /* x86-64 syscall number */
	uint32_t arch;          /* AUDIT_ARCH_* the call came in with */
	uint64_t args[6];
	uint64_t ip;
	struct task *task;      /* filled in by the sentry before dispatch */
	const struct sys_entry *entry;
	bool replied;           /* set once a reply (value, fd, continue) was sent */
	int listener;           /* seccomp listener fd (-1 under ptrace) */
	/* With SYSRET_FD: the host fd to install in the guest (owned by the
	 * request; the dispatcher installs it after dropping the sentry lock,
	 * so the woken guest never finds the lock held). */
	int reply_fd;
	bool reply_cloexec;
	/* For `moat trace` only: what the guest got when the handler answered
	 * through a path the dispatcher does not see (a followed clone's new
	 * tid, an exec's outcome). Never read to decide anything. */
	bool result_known;
	long result;
};

/* Note what the guest got, for tracing (see result_known). */
static inline void req_note_result(struct sysreq *r, long val)
{
	r->result_known = true;
	r->result = val;
}

/* Special handler results, beside a value >= 0 or -errno. */
#define SYSRET_DONE (-100000L)     /* the handler already replied */
#define SYSRET_CONTINUE (-100001L) /* let the kernel run the call: only for
				      decisions made on registers alone */
#define SYSRET_FD (-100002L)       /* install r->reply_fd as the result */

/* Guest memory. Each pointer argument is read exactly once; the copies are
 * what every decision is made on. Return bytes read or -errno (-EFAULT on an
 * unmapped guest address). */
ssize_t req_read(struct sysreq *r, uint64_t addr, void *buf, size_t len);
/* Read a NUL-terminated string of at most len-1 bytes; -ENAMETOOLONG if no NUL
 * within len, -EFAULT if unreadable. Returns the string length. */
ssize_t req_read_str(struct sysreq *r, uint64_t addr, char *buf, size_t len);
ssize_t req_write(struct sysreq *r, uint64_t addr, const void *buf, size_t len);
/* After reading guest memory: is the notification (and so the task) still
 * there? Returns 0 or -ENOENT. */
int req_id_valid(struct sysreq *r);

/* Replies. Each returns 0 or -errno (-ENOENT: the task went away). */
int req_reply(struct sysreq *r, long val);      /* val >= 0 or -errno */
int req_reply_continue(struct sysreq *r);
/* Install host fd `fd` in the guest (ADDFD + SEND: atomically installed and
 * returned as the syscall's result). `cloexec` sets O_CLOEXEC on the guest's
 * copy. Returns the guest's fd number or -errno. The caller keeps `fd`. */
int req_reply_fd(struct sysreq *r, int fd, bool cloexec);
/* Put host fd `fd` in the guest at number `target` (replacing what is
 * there, as dup3; `cloexec` for the new one) and answer val (>= 0 or
 * -errno): the TCP fast path swaps a guest's socket for the connected
 * one this way (syscalls/sys_inet.c). 0 or -errno; -ENOENT: the task went
 * away. The caller keeps `fd`. */
int req_reply_fd_at(struct sysreq *r, int fd, int target, bool cloexec, long val);
/* A wait cancelled by a signal: answer -ERESTARTSYS so that the kernel
 * applies Linux's rule (EINTR, or a restart with SA_RESTART); see
 * ptrace_restart.c. 0 or -errno. */
int req_reply_restart(struct sysreq *r);

/* clone, fork, vfork: answer with CONTINUE and follow the call to the task
 * it creates (ptrace_clone.c). on_child(ctx, tid) runs, without the sentry
 * lock, while the new task is stopped before its first instruction, so it
 * can be registered before any notification of it arrives; if it fails the
 * new task is killed. arm(ctx, true) means the call will be restarted and
 * its next notification must be answered with CONTINUE (arm(ctx, false)
 * withdraws it). Returns 0 once the call has run (on_child called, or no
 * task created), on_child's -errno, or -errno; r->replied says whether the
 * CONTINUE was sent (if not, the caller answers). */
struct clone_follow {
	int (*on_child)(void *ctx, pid_t tid);
	void (*arm)(void *ctx, bool on);
	/* With arena set, the creator maps it before the call restarts, so
	 * that the new task inherits it; arena_mapped(ctx) is called (before
	 * on_child) if that worked. */
	struct exec_arena *arena;
	void (*arena_mapped)(void *ctx);
	void *ctx;
};
int req_follow_clone(struct sysreq *r, const struct clone_follow *f);

/* Exec arenas (exec_arena.h): the sentry keeps one per process that has
 * one mapped (inherited by what it forks, gone with its exec). NULL from
 * exec_arena_new() means none can be made now. */
struct exec_arena;
struct exec_arena *exec_arena_new(void);
struct exec_arena *exec_arena_ref(struct exec_arena *a);
void exec_arena_unref(struct exec_arena *a);

/* Exec (docs/architecture.md, "Exec"). The sentry has resolved and checked
 * the program, opened it and decided its argv; the platform makes the calling
 * thread run exactly that, or fail with every register restored. */
struct exec_call {
	int fd;                 /* the guest's fd of the program */
	uint64_t path, argv, envp;
};
struct exec_image {
	pid_t tgid;             /* the calling thread's thread group */
	int hostfd;             /* the program (the last interpreter of a #! chain) */
	const char *args;       /* argv: argc NUL-terminated strings back to back */
	size_t args_len;        /* bytes in args, the NULs included */
	size_t argc;            /* >= 1 */
	uint64_t envp;          /* the guest's envp pointer, passed through */
	struct exec_arena *arena; /* the process's, or NULL */
	bool arena_stale;       /* set by req_exec: the process no longer has it */
	bool mm_shared;         /* its memory is another process's too (vfork) */
	/* Called with the arguments of the call the platform is about to
	 * issue, before it is let go: on the notify platform it arrives as a
	 * notification of its own, which the sentry answers with CONTINUE when
	 * the registers match (sys_execve). */
	void (*arm)(void *ctx, const struct exec_call *call);
	/* Called with what req_exec() will return (0, REQ_EXEC_KILLED or
	 * -errno after the rewrite) before the thread runs again or is
	 * killed; not when the task is gone. */
	void (*finish)(void *ctx, int result);
	void *ctx;
};
#define REQ_EXEC_KILLED 1
/* Returns 0 when the new program runs (checked: the file is img->hostfd's and
 * its argv is img->args); REQ_EXEC_KILLED when something else would have run
 * and the task was killed instead; -errno when the exec failed after the
 * rewrite (the guest got that error and all its registers back); or -errno
 * before anything was replied (r->replied false: the caller answers). A task
 * that dies on the way gives -ESRCH. */
int req_exec(struct sysreq *r, struct exec_image *img);
/* Before the guest looks at or sets a task's CPU affinity: the task's own
 * mask back, tid's or with tid 0 every task's. Its /proc status shows the
 * own mask through req_guest_affinity instead. */
void req_unpin(pid_t tid);
bool req_guest_affinity(pid_t tid, cpu_set_t *mask);

/* The seccomp notify platform. Its halves of the req_* calls, for the code
 * of platform/ that is the notify platform's own (the exec and clone
 * completions). */
int notify_id_valid(struct sysreq *r);
int notify_reply(struct sysreq *r, long val);
int notify_reply_continue(struct sysreq *r);
int notify_reply_fd(struct sysreq *r, int fd, bool cloexec);
int notify_reply_fd_at(struct sysreq *r, int fd, int target, bool cloexec, long val);
int notify_reply_restart(struct sysreq *r);
int notify_follow_clone(struct sysreq *r, const struct clone_follow *f);
int notify_exec(struct sysreq *r, struct exec_image *img);
/* The listener notify_platform_ops.receive reads from. */
void notify_set_listener(int listener);
struct notify_sizes {
	size_t notif, resp, data;
};
int notify_sizes_get(struct notify_sizes *ret);
/* Block for the next notification; fills r. Returns 0, -EINTR/-ENOENT to
 * retry, or another -errno when the listener is gone. */
int notify_receive(int listener, struct sysreq *r);
/* Install host fd `fd` in the guest without replying (ADDFD alone). For the
 * exec completion (ptrace_exec.c), which needs a second fd in the guest. */
int notify_addfd(struct sysreq *r, int fd, bool cloexec);
/* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP where the kernel has it (6.6+). */
int notify_set_sync_wakeup(int listener);

/* The platform the sandbox runs on: set once before the first request. */
/* AUTO: seccomp user notification where the kernel has it, else ptrace
 * (sentry/sandbox/sandbox.c, platform_choose). */
enum platform_kind { PLATFORM_AUTO, PLATFORM_SECCOMP, PLATFORM_PTRACE };
struct platform_ops {
	enum platform_kind kind;
	const char *name;
	/* Block for the next trapped call; fills r. 0, -EINTR/-ENOENT to
	 * retry, another -errno once no guest task is left. */
	int (*receive)(struct sysreq *r);
	int (*id_valid)(struct sysreq *r);
	int (*reply)(struct sysreq *r, long val);
	int (*reply_continue)(struct sysreq *r);
	int (*reply_fd)(struct sysreq *r, int fd, bool cloexec);
	int (*reply_fd_at)(struct sysreq *r, int fd, int target, bool cloexec, long val);
	int (*reply_restart)(struct sysreq *r);
	int (*follow_clone)(struct sysreq *r, const struct clone_follow *f);
	int (*exec)(struct sysreq *r, struct exec_image *img);
	/* After the dispatcher is done with r (replied or not). */
	void (*done)(struct sysreq *r);
	/* Undo what the platform did to a task's CPU affinity (the ptrace
	 * platform's co-location): tid's, or with tid 0 every task's. NULL
	 * where nothing is done. */
	void (*unpin)(pid_t tid);
	/* The affinity a pinned task had (its guest's own): true and *mask,
	 * or false when the platform did not change it. NULL: never. */
	bool (*guest_affinity)(pid_t tid, cpu_set_t *mask);
};
extern const struct platform_ops *platform;
extern const struct platform_ops notify_platform_ops, ptrace_platform_ops;
/* Parse "seccomp" (also "seccomp-unotify"), "ptrace" or "auto"; -EINVAL
 * otherwise. */
int platform_parse(const char *name, enum platform_kind *ret);
void platform_set(enum platform_kind kind);

/* The ptrace platform (ptrace_platform.c). Start the tracer thread, which
 * seizes pid 1 (stopped, about to install its filter) with every option
 * that follows its descendants from birth. 0 or -errno. */
int ptrace_platform_start(pid_t init_pid);
/* The ptrace platform's tracer runs a request's handler itself when this
 * says it could (returns true: answered or left to the handler's own
 * replies), saving the two thread hand-offs of a worker; false: the request
 * goes to the workers as usual. Set by the sentry before the tracer starts
 * (syscalls/dispatch.c, sys_dispatch_inline). */
void ptrace_set_inline(bool (*fn)(struct sysreq *r));
/* Is fd of the task (tid of process tgid) the ptrace platform's own
 * receiving socket (platform/ptrace_fd.c), which procfs leaves out? */
bool ptrace_fd_is_moat(pid_t tgid, pid_t tid, int fd);
/* Is the task in a group-stop (procfs: the host shows every traced stop as
 * 't', the guest must see T there and S while a call waits)? */
bool ptrace_task_group_stopped(pid_t tid);
