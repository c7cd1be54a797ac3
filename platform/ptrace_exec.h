/* SPDX-License-Identifier: MIT */
/* Completing an exec through ptrace (docs/architecture.md, "Exec"): the
 * sentry has resolved and checked the program and holds an fd for it; the
 * guest thread, still inside its execve notification, is seized, handed the
 * fd (ADDFD|SEND), and its registers rewritten into
 * execveat(fd, "", argv, envp, AT_EMPTY_PATH), a fresh syscall that passes
 * the filter again. The kernel never resolves a guest path. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sysreq;

struct ptrace_exec {
	pid_t tgid;              /* the calling thread's thread group */
	int hostfd;              /* the binary, opened by the sentry */
	uint64_t argv;           /* guest argv pointer, used when nprefix == 0 */
	uint64_t envp;           /* guest envp pointer (passed through) */
	/* argv rewrite (#! scripts): prefix strings, then the guest's argv
	 * pointers tail[0..ntail) (argv[1..] of the original call). */
	const char *prefix[8];
	int nprefix;
	const uint64_t *tail;
	size_t ntail;
	/* Set by ptrace_exec_run before the rewritten call is let go, so the
	 * notification it causes can be recognized (sys_execve). */
	void (*arm)(void *ctx, int guest_fd, uint64_t empty_ptr);
	void *ctx;
};

/* Returns 0 when the new program runs (tracer detached), -errno when the
 * exec failed after the rewrite (the guest got that error in rax and all its
 * other registers back), or -errno before anything was replied (r->replied
 * false: the caller answers). A tracee that dies on the way returns -ESRCH. */
int ptrace_exec_run(struct sysreq *r, struct ptrace_exec *pe);
