/* SPDX-License-Identifier: MIT */
/* Running syscalls in a tracee the calling worker thread has seized and
 * stopped (ptrace_inject.c): the exec completion and the clone follow map
 * memory and close fds in the guest this way. Internal to platform/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct tracee {
	pid_t tid, tgid;
	/* How to wait for its next stop: NULL on the notify platform, whose
	 * worker traces this one task and nothing else (waitpid(-1) with
	 * __WNOTHREAD); the ptrace platform's tracer traces every task and
	 * sets aside the others' stops meanwhile. Returns like waitpid. */
	pid_t (*wait)(struct tracee *tr, int *status);
	/* A group-stop came while calls were injected (and was run through):
	 * the ptrace platform stops the thread again once it is done
	 * (ptrace_reply.c); the notify platform's detach does that itself. */
	bool group_stopped;
};

/* What tracee_next_stop() waits for, beside the exec event. */
enum stop_kind {
	STOP_INTERRUPT, /* the PTRACE_INTERRUPT stop */
	STOP_STEP,      /* the end of a single step (over an injected syscall) */
	STOP_EXIT,      /* the end of the task */
};

/* Wait for the next stop of the given kind, or the exec event; resume_req
 * says how to let the tracee go on past anything else. Returns the wait
 * status or -ESRCH (it died). */
int tracee_next_stop(struct tracee *tr, int resume_req, enum stop_kind kind);
/* A ptrace request failed: the tracee was killed meanwhile. Wait for its
 * end; returns -ESRCH. */
int tracee_gone(struct tracee *tr);
/* Detach from tracee tid, giving it sig. A tracee that is not in a stop
 * any more (a SIGKILL woke it: its parent may kill it the moment its fork
 * returns) or not yet (an interrupt on its way) is waited for: to its next
 * stop, then detached, or to its end, which only its tracer can collect
 * before its parent sees it. Else it would stay a zombie its parent waits
 * for forever. */
void tracee_release(pid_t tid, int sig);
/* Kill the tracee's thread group and wait for the end. */
void tracee_kill(struct tracee *tr);
/* Run the call in regs (rax and the argument registers) from a stop where
 * saved are the registers; returns the stop that ended it or -ESRCH. */
int tracee_inject(struct tracee *tr, const struct user_regs_struct *saved,
		  struct user_regs_struct *regs);
/* The result of the call the tracee, stopped right after it, made. */
int tracee_result(struct tracee *tr, long *ret);
/* tracee_inject() for a call other than exec: 0 with its result in *ret, or
 * -ESRCH (the task is gone). The caller restores saved afterwards. */
int tracee_inject_call(struct tracee *tr, const struct user_regs_struct *saved, long nr,
		       uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		       long *ret);

struct exec_image;
/* ptrace_exec.c, for both platforms. Is the program the tracee (stopped
 * at its exec event) runs the one the sentry chose, with its argv? */
bool exec_matches(const struct tracee *tr, const struct exec_image *img);
/* The image's size ("" at 0, argv's pointers at 8, then the strings). */
size_t exec_image_len(const struct exec_image *img);
/* A sealed memfd holding the image laid out for guest address base. */
int exec_image_memfd(const struct exec_image *img, uint64_t base, size_t *ret_len);
/* Map it (the guest's fd mfd) at want in the tracee, or where that is
 * taken, private memory written by the sentry; the address in *ret_base
 * (to unmap on failure). 0 or -errno (-ESRCH: gone). */
int exec_image_map(struct tracee *tr, const struct user_regs_struct *saved,
		   const struct exec_image *img, int mfd, uint64_t want, size_t len,
		   uint64_t *ret_base);
/* Write img's "" and argv below the red zone of the stack in saved. */
int exec_image_on_stack(struct tracee *tr, const struct user_regs_struct *saved,
			const struct exec_image *img, uint64_t *ret_base);
