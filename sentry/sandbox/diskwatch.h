/* SPDX-License-Identifier: MIT */
/* Noticing that the sandbox's in-memory disk (--disk) filled up, for the
 * audit record and the line every other limit gets (diskwatch.c). */
#pragma once
#include <stdbool.h>

/* Start sampling the default store's free space (once a second, from the
 * sentry's loop). Nothing to do, and 0, when there is no store (a kernel
 * without one has no byte limit to meet). */
int diskwatch_start(void);
/* The last sample, taken now; if the disk was found full at any sample, a
 * `limit` record "disk" (once) and a line on stderr. */
void diskwatch_finish(void);
