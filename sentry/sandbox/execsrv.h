/* SPDX-License-Identifier: MIT */
/* `moat exec` served by a container's sentry (execsrv.c). */
#pragma once

/* Serve exec requests on listen_fd (a listening SOCK_SEQPACKET unix
 * socket, <root>/<id>/exec.sock, made before the sentry confined itself)
 * through pid 1's socket init_sock (struct guest's sock); devpts is the
 * sandbox's devpts instance, for --tty. Takes both sockets. Call after
 * sentry_init_events() and before sentry_run(), on the setup thread.
 *
 * The request, one message: a JSON object {"args": [..], "env": [..],
 * "cwd": "/abs", "uid": N, "gid": N, "groups": [..], "umask": N (optional),
 * "terminal": bool, "rows": N, "cols": N, "rlimits": [[resource, soft,
 * hard], ..], "end_with_client": bool}, with stdin, stdout and stderr attached (SCM_RIGHTS) when
 * there is no terminal. The answers, one message each:
 * {"pid": HOSTPID, "vpid": N} once it runs (with the terminal's master
 * attached), then {"status": WAITSTATUS} when it ends; or {"error": "why"}.
 * A process outlives a client that hangs up, unless "end_with_client" was
 * true: then its process group is killed (SIGKILL) at the hangup. */
int execsrv_start(int listen_fd, int init_sock, int devpts);
