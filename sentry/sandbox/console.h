/* SPDX-License-Identifier: MIT */
/* The sandbox's terminals (console.c, docs/terminals.md): a devpts instance
 * of its own, the command's pseudo-terminal in it, and the relay between
 * the user's terminal and its master. */
#pragma once
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/types.h>

/* Mount a new devpts instance, detached (fsopen/fsmount: in no mount
 * namespace, reached only through the returned fd), whose ptys belong to
 * the sandbox's host uid and gid, at most `max` at once. Needs
 * CAP_SYS_ADMIN: call before the sentry confines itself. */
int console_devpts_new(uid_t uid, gid_t gid, unsigned max, int *ret_mnt);

/* A new pty in the instance: the master (O_RDWR, O_NOCTTY, O_CLOEXEC),
 * unlocked, and its slave likewise; ws, if not NULL, becomes its window
 * size. The interface for any caller that gives a sandbox a terminal:
 * `moat run -t` relays the master (console_relay_start), the OCI runtime
 * sends it to the engine (console_send_master). */
int console_pty_new(int devpts_mnt, const struct winsize *ws, int *ret_master, int *ret_slave);

/* runc's --console-socket: connect to the unix socket at path and send the
 * master with SCM_RIGHTS (with the name "/dev/ptmx", as runc does). */
int console_send_master(const char *path, int master);

/* The window size of the user's terminal (stdin, else stdout); -ENOTTY
 * when neither is one. */
int console_user_winsize(struct winsize *ret);

struct console_relay {
	pid_t pid;
	int pidfd;
};

/* Fork the relay: a process of its own (not a thread of the sentry, so
 * that the user's terminal is restored even when the sentry is killed),
 * which copies in_fd (if >= 0) to the master and the master to out_fd,
 * puts in_fd's terminal in raw mode for as long as it runs when `raw`,
 * and copies the user's window size to the master on SIGWINCH. It ends
 * once every slave is closed (the sandbox is gone; everything the guest
 * wrote has been copied out) or the sentry died, and restores the
 * terminal on the way out. It runs as uid/gid (the sandbox's host uid,
 * so the confined sentry may signal it), not dumpable. Takes master.
 * Call before the sentry confines itself. */
int console_relay_start(int master, int in_fd, int out_fd, bool raw, uid_t uid, gid_t gid,
			struct console_relay *ret);

/* Wait (at most timeout_ms, then end it) for the relay to finish copying,
 * so that `moat run` exits only after the guest's last output. */
void console_relay_wait(struct console_relay *r, int timeout_ms);
