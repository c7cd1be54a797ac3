/* SPDX-License-Identifier: MIT */
/* Exec arenas (docs/architecture.md, "Exec"): a sealed memfd that a process
 * maps read-only at its first fork, so that it and every process it forks
 * (which inherit the shared mapping) find "" and argv for their execs there,
 * written by the sentry through its own mapping, without a memfd, an fd and
 * an mmap of their own per exec. Internal to platform/ but for the opaque
 * handle, which the sentry keeps per process (platform.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"

#define EXEC_ARENA_SIZE (256u << 10)
#define EXEC_ARENA_SLOT (16u << 10) /* the largest image an arena takes */

/* Where the guest maps an image or an arena (MAP_FIXED_NOREPLACE): a
 * random page in a range no default layout uses (PIE binaries load at
 * 0x55..., mmap grows down from 0x7f..., sanitizers leave it to the
 * program), so that pointers can be written before the guest maps it. */
uint64_t exec_image_address(size_t len);

/* The memfd to hand to the guest (ADDFD) before it maps the arena at
 * exec_arena_guest(); closed by exec_arena_drop_fd() once handed over (the
 * sentry's mapping keeps the memory). */
int exec_arena_fd(struct exec_arena *a);
uint64_t exec_arena_guest(const struct exec_arena *a);
void exec_arena_drop_fd(struct exec_arena *a);

/* A free slot for an image of len bytes: its index, with its guest address
 * in *guest and the sentry's view of it in *mem; -1 if none. */
int exec_arena_slot_get(struct exec_arena *a, size_t len, uint64_t *guest, char **mem);
void exec_arena_slot_put(struct exec_arena *a, int slot);
