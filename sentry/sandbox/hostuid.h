/* SPDX-License-Identifier: MIT */
/* One host uid per sandbox (hostuid.c). */
#pragma once
#include <stdint.h>
#include <sys/types.h>

/* Default range: the 65536 uids just below 2^31 (0x7fff0000-0x7fffffff).
 * Above systemd's container range (0x80000-0x6fffffff, from which
 * systemd-nspawn picks) and its foreign range (0x7ffe0000-0x7ffeffff), far
 * above system users, regular users and the usual /etc/subuid allocations
 * (100000 + 65536 per user), and below 2^31, which some tools take for
 * negative. */
#define HOSTUID_DEFAULT_START 2147418112u
#define HOSTUID_DEFAULT_COUNT 65536u
/* Where the reservations live (a tmpfs on every systemd host). */
#define HOSTUID_DIR "/run/moat-uids"

struct hostuid_range {
	uint32_t start, count;
};

/* Parse "START:COUNT" (decimal). Refuses uid 0, (uid_t)-1 and an empty
 * range. Returns 0 or -EINVAL. */
int hostuid_parse_range(const char *s, struct hostuid_range *ret);

/* Reserve a host uid of range in dir (created if missing): a uid no other
 * sandbox holds and of which no process remains, preferring the one after
 * the last handed out, so a uid just released is not reused at once.
 * On success *ret_lock is the reservation (an O_CLOEXEC fd holding an
 * flock); it lasts while the sentry or pid 1 keeps a copy open. Returns 0,
 * -EAGAIN if every uid of the range is taken, or -errno. */
int hostuid_acquire(const char *dir, const struct hostuid_range *range, uid_t *ret_uid,
		    int *ret_lock);

/* Record in the reservation the sandbox's pid 1: once the lock is free, the
 * uid is reused only when that process is gone or a zombie (the kernel
 * makes a pid namespace's init a zombie only after every other process of
 * the namespace is gone, so then no process of the uid remains). */
int hostuid_record(int lock, pid_t init_pid);
