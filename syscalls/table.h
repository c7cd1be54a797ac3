/* SPDX-License-Identifier: MIT */
/* The syscall table is data (docs/architecture.md, "The syscall table").
 * One entry per x86-64 syscall number; from it come the BPF filter, the
 * `moat syscalls` listing, the docs' compatibility table and the handler
 * dispatch of the sentry. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct sysreq;

enum sys_disp {
	SYS_UNKNOWN = 0, /* not in the table: ENOSYS from the filter, no notification */
	SYS_PASS,        /* host kernel runs it (subject to argument rules) */
	SYS_EMULATE,     /* user notification; the sentry's handler performs it */
	SYS_EXEC,        /* notified, then completed through ptrace (execve/execveat) */
	SYS_DENY,        /* fails with .err */
	SYS_KILL,        /* kills the process */
};

/* One argument rule: the call matches when (arg[argno] & mask) == value
 * (mask 0 means "compare the whole 64-bit register"). In a PASS entry a rule
 * may say `notify`: a call it matches goes to the entry's handler, which
 * looks at the other registers (socket's protocol for AF_NETLINK). */
struct sys_argrule {
	uint8_t argno;
	bool notify;     /* a PASS entry's match that the handler decides instead */
	uint64_t mask;
	uint64_t value;
};

/* ioctl's list is the longest: terminal, pty and socket requests. (A
 * bound for the filter's generator, which emits one comparison per rule.) */
#define SYS_MAX_RULES 48

/* Flags */
#define SYSF_AUDIT 0x1    /* notify even when denying, so an audit record is written */
#define SYSF_PATH 0x2     /* takes a guest path (documentation / tracing class) */
#define SYSF_FD 0x4       /* acts on an fd */
/* A PASS entry whose rules all say `notify`, and whose calls no rule
 * matches run natively: "send these values to the handler, pass the rest"
 * (fcntl's lock commands; every other command stays at native speed).
 * .err is 0: nothing is refused. filter.c's entry_check() refuses any
 * other combination. */
#define SYSF_ELSE_PASS 0x8
/* A PASS entry whose plain rules pass, and whose calls no rule matches go
 * to the handler instead of being refused: "pass these values, trap the
 * rest" (sendto with no address runs natively, one with an address may
 * name a path socket). .err is 0. */
#define SYSF_ELSE_NOTIFY 0x10
/* Its handler never waits for another guest task (at most for the gofer,
 * or it refuses such a wait where it would come: sentry_may_wait), so the
 * ptrace platform's tracer thread may run it itself instead of handing it
 * to a worker (docs/architecture.md, "Platforms"). */
#define SYSF_INLINE 0x20

/* sendmsg and sendmmsg are notified (a path in msg_name resolves in the
 * sentry's VFS), except with this value in their first unused argument
 * register (r10 for sendmsg, r8 for sendmmsg): pid 1's report to the
 * sentry, made before anyone listens. A guest that uses it gets its
 * sendmsg passed, as before this trap existed: paths then resolve in its
 * empty host root (ENOENT); it gains nothing. */
#define SYS_SENDMSG_UNTRAPPED 0x6d6f61742d736e64ULL /* "moat-snd" */

typedef long (*sys_handler_fn)(struct sysreq *req);

struct sys_entry {
	const char *name;
	enum sys_disp disp;
	int err;              /* errno for SYS_DENY, and for PASS calls whose rules do not match */
	unsigned flags;
	/* PASS with rules: allowed when ANY rule matches (an allowlist); else
	 * the call gets `err` (or, with SYSF_AUDIT, is notified and denied).
	 * With SYSF_ELSE_PASS the rules are a notify list and the rest pass;
	 * with SYSF_ELSE_NOTIFY the rest go to the handler. */
	unsigned nrules;
	/* Out of line, in .rodata: inline, every entry carried room for
	 * SYS_MAX_RULES and the table was 600 KiB of relocated data, a
	 * private copy of which every moat process (sentry, gofer, pid 1,
	 * network helper) dirtied at load. */
	const struct sys_argrule *rules;
	sys_handler_fn handler; /* EMULATE/EXEC; NULL means "answer -err" */
	const char *note;       /* one line for docs and `moat syscalls` */
};

#define SYS_TABLE_SIZE 512
extern const struct sys_entry sys_table[SYS_TABLE_SIZE];

const struct sys_entry *sys_lookup(long nr);
/* What answers a notification for entry e (which may be NULL): its handler,
 * or the table's default, an audited denial with e's errno (ENOSYS without
 * an entry). Never NULL. */
sys_handler_fn sys_entry_handler(const struct sys_entry *e);
const char *sys_disp_name(enum sys_disp d);
const char *sys_name(long nr); /* "unknown" for numbers not in the table */

/* Build and export the guest filter as classic BPF (via libseccomp), for
 * x86-64 with the 32-bit and x32 entry points killed. On success *ret_prog
 * (malloc'd sock_filter array) and *ret_len are set. Returns 0 or -errno. */
struct sock_filter;
int sys_filter_build(struct sock_filter **ret_prog, unsigned short *ret_len);

/* The guest filter moat installs: the one built at compile time, or built
 * now (and kept) where none was linked in. Not to be freed. */
int sys_filter_default(const struct sock_filter **ret_prog, unsigned short *ret_len);

/* Trace mode (docs/tracing.md). sys_filter_notify_all() copies prog with
 * every ALLOW and ERRNO outcome turned into USER_NOTIF (kills stay), so
 * every call the guest may make reaches the sentry, except pid 1's report
 * to the sentry (a sendmsg carrying `tag` in its unused argument
 * registers, made before anyone listens); -EOPNOTSUPP if prog
 * holds an instruction sys_filter_eval() cannot run. sys_filter_eval()
 * runs prog over one call's registers and returns the SECCOMP_RET_* value
 * the kernel would (0, a kill, for anything it cannot evaluate): the
 * sentry's answer to a traced call is the untraced filter's verdict. */
struct seccomp_data;
int sys_filter_notify_all(const struct sock_filter *prog, unsigned short len,
			  const uint64_t tag[3], struct sock_filter **ret_prog,
			  unsigned short *ret_len);
uint32_t sys_filter_eval(const struct sock_filter *prog, unsigned short len,
			 const struct seccomp_data *d);

/* Export a libseccomp context (scmp_filter_ctx) as a malloc'd program. */
int sys_filter_export(void *scmp_ctx, struct sock_filter **ret_prog, unsigned short *ret_len);

/* Install the program with SECCOMP_FILTER_FLAG_NEW_LISTENER and
 * WAIT_KILLABLE_RECV; returns the listener fd or -errno. Caller must have
 * set no_new_privs. */
int sys_filter_install(const struct sock_filter *prog, unsigned short len);
/* The ptrace platform (docs/architecture.md, "Platforms"): a copy of prog
 * in which every SECCOMP_RET_USER_NOTIF is SECCOMP_RET_TRACE, so each call
 * the sentry would be notified of is a PTRACE_EVENT_SECCOMP stop instead;
 * every other verdict is the table's. */
int sys_filter_trace_variant(const struct sock_filter *prog, unsigned short len,
			     struct sock_filter **ret_prog, unsigned short *ret_len);
/* A --seccomp-profile's program for the ptrace platform: prog behind a
 * prefix that allows the calls the platform injects to install an fd
 * (socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC), recvmsg with
 * MSG_DONTWAIT[|MSG_CMSG_CLOEXEC]), as profiles allow moat's execveat. */
int sys_filter_profile_for_ptrace(const struct sock_filter *prog, unsigned short len,
				  struct sock_filter **ret_prog, unsigned short *ret_len);
/* Install prog without a listener (the ptrace platform): 0 or -errno. */
int sys_filter_install_traced(const struct sock_filter *prog, unsigned short len);
