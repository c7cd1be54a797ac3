/* SPDX-License-Identifier: MIT */
/* Exec arenas (exec_arena.h). The memfd is sealed against growing,
 * shrinking and every future write after the sentry has mapped it writable:
 * the sentry's mapping stays the only writable one, the guest's shared
 * read-only mapping can never be made writable (mprotect fails), and no
 * write() or new writable mapping of it can be made. A guest can still unmap
 * it and map its own memory at that address; each exec reads the slot back
 * through the guest before it uses it and checks the argv the new program
 * got at the exec event (ptrace_exec.c), so that only changes the exec to
 * the fallback path or kills a task racing its own exec.
 *
 * Lifetime: reference-counted (atomics: processes hold references under the
 * sentry lock, execs in flight without it); slots are a bitmap taken and
 * given back with atomics, since execs of the processes sharing an arena run
 * in parallel on different workers. */
#include "platform/exec_arena.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "platform/kfeatures.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define NSLOTS (EXEC_ARENA_SIZE / EXEC_ARENA_SLOT)
/* Each live arena costs the sentry 256 KiB of address space and the pages
 * written; past this many, processes use the per-exec path. */
#define MAX_ARENAS 512

_Static_assert(NSLOTS <= 32, "the slot bitmap is 32 bits");

struct exec_arena {
	atomic_uint refcnt;
	atomic_uint slots; /* bit i: slot i in use */
	int fd;            /* until the guest has mapped it */
	char *mem;         /* the sentry's writable mapping */
	uint64_t guest;    /* where the guest maps it */
};

static atomic_int live_arenas;

#define IMAGE_LO 0x510000000000ULL
#define IMAGE_SPAN 0x040000000000ULL

uint64_t exec_image_address(size_t len)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (uint64_t)ts.tv_nsec * 2654435761u + (uint64_t)ts.tv_sec;
	}
	uint64_t pages = (IMAGE_SPAN - len) >> 12;
	return IMAGE_LO + ((r % pages) << 12);
}

struct exec_arena *exec_arena_new(void)
{
	if (!kfeature_has(KF_SEAL_FUTURE_WRITE))
		return NULL; /* then every exec maps an image of its own */
	if (atomic_fetch_add(&live_arenas, 1) >= MAX_ARENAS) {
		atomic_fetch_sub(&live_arenas, 1);
		return NULL;
	}
	_cleanup_close_ int fd = memfd_create("moat-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *mem = MAP_FAILED;
	if (fd >= 0 && ftruncate(fd, EXEC_ARENA_SIZE) == 0)
		mem = mmap(NULL, EXEC_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct exec_arena *a = mem != MAP_FAILED ? calloc(1, sizeof(*a)) : NULL;
	if (!a || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
						 F_SEAL_SEAL) < 0) {
		if (mem != MAP_FAILED)
			munmap(mem, EXEC_ARENA_SIZE);
		free(a);
		atomic_fetch_sub(&live_arenas, 1);
		return NULL;
	}
	atomic_init(&a->refcnt, 1);
	atomic_init(&a->slots, 0);
	a->fd = TAKE_FD(fd);
	a->mem = mem;
	a->guest = exec_image_address(EXEC_ARENA_SIZE);
	return a;
}

struct exec_arena *exec_arena_ref(struct exec_arena *a)
{
	if (a)
		atomic_fetch_add(&a->refcnt, 1);
	return a;
}

void exec_arena_unref(struct exec_arena *a)
{
	if (!a || atomic_fetch_sub(&a->refcnt, 1) != 1)
		return;
	safe_close(a->fd);
	munmap(a->mem, EXEC_ARENA_SIZE);
	free(a);
	atomic_fetch_sub(&live_arenas, 1);
}

int exec_arena_fd(struct exec_arena *a)
{
	return a->fd;
}

uint64_t exec_arena_guest(const struct exec_arena *a)
{
	return a->guest;
}

void exec_arena_drop_fd(struct exec_arena *a)
{
	a->fd = safe_close(a->fd);
}

int exec_arena_slot_get(struct exec_arena *a, size_t len, uint64_t *guest, char **mem)
{
	if (!a || len > EXEC_ARENA_SLOT)
		return -1;
	unsigned cur = atomic_load(&a->slots);
	for (;;) {
		unsigned free_bits = ~cur & ((NSLOTS == 32) ? ~0u : ((1u << NSLOTS) - 1));
		if (!free_bits)
			return -1;
		int i = __builtin_ctz(free_bits);
		if (atomic_compare_exchange_weak(&a->slots, &cur, cur | (1u << i))) {
			*guest = a->guest + (uint64_t)i * EXEC_ARENA_SLOT;
			*mem = a->mem + (size_t)i * EXEC_ARENA_SLOT;
			return i;
		}
	}
}

void exec_arena_slot_put(struct exec_arena *a, int slot)
{
	if (a && slot >= 0)
		atomic_fetch_and(&a->slots, ~(1u << slot));
}
