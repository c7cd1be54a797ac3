/* SPDX-License-Identifier: MIT */
/* `moat exec`: how the sentry asks the sandbox's pid 1 to start a process
 * (sentry/sandbox/execsrv.c sends, guest.c serves). pid 1 forks it, so it
 * enters the sandbox as the command did: in its namespaces, under its
 * filter, as its host uid; the sentry gives it the exec's credentials and
 * directories when its fork arrives (task_set_spawn). One SOCK_SEQPACKET
 * message each way on the socket pid 1 reported ready on. */
#pragma once
#include <stdint.h>

#define SPAWN_MAX_MSG (128 * 1024)
#define SPAWN_MAX_RLIMITS 16
#define SPAWN_MAGIC 0x4e575053 /* "SPWN" */

enum { SPAWN_TTY = 1 };

/* sentry -> pid 1, with stdin, stdout and stderr attached (SCM_RIGHTS; a
 * terminal's slave three times with SPAWN_TTY), then argc + envc
 * NUL-terminated strings. */
struct spawn_req {
	uint32_t magic;
	uint32_t id;
	uint32_t argc, envc;
	uint32_t flags;
	uint32_t nrlimits;
	struct {
		int32_t resource;
		uint64_t soft, hard;
	} rlimits[SPAWN_MAX_RLIMITS];
};

/* pid 1 -> sentry. */
enum { SPAWN_STARTED = 1, SPAWN_EXITED = 2 };
struct spawn_msg {
	uint32_t type;
	uint32_t id;     /* STARTED: the request's */
	int32_t vpid;    /* the process's pid in the sandbox, or -errno */
	int32_t status;  /* EXITED: its wait status */
};
