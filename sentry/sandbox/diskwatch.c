/* SPDX-License-Identifier: MIT */
/* The --disk limit is the host kernel's: the in-memory files live on a tmpfs
 * mount of the sandbox's own (size=N; tmpstore.c), and ENOSPC past it comes
 * from writes the guest makes through its own fds, which moat never sees.
 * So moat looks at the store's free space: before each call the sentry
 * performs that would free some (an unlink, a rename over a file, a
 * truncate: tmpfs.c's free hook), once a second, and at the end. The first
 * look that finds it full (less than FULL_SLACK or 1% left: a write that
 * met ENOSPC filled it to its last pages) writes the `limit` record "disk"
 * at once; at the end a line on stderr says it, as for the other limits.
 * What the looks cannot see: a disk filled and emptied within a second by
 * what moat does not perform (a file the guest still holds open, closed
 * after its unlink; an ftruncate, which passes through). One fstatfs costs
 * well under a microsecond. */
#include "sentry/sandbox/diskwatch.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "sentry/fs/fs.h"
#include "sentry/kernel/audit.h"
#include "sentry/kernel/sentry.h"

#define FULL_SLACK (64u << 10)

static struct sentry_source tick;
static bool full_seen;
static uint64_t full_total;

static void sample(void)
{
	struct tmpfs_store *st = tmpfs_default_store();
	uint64_t total, avail;
	if (full_seen || !st || tmpfs_store_usage(st, &total, &avail) < 0)
		return;
	if (avail >= FULL_SLACK && avail * 100 >= total)
		return;
	full_seen = true;
	full_total = total;
	struct json_object *f = audit_fields("limit", "disk", NULL);
	json_object_object_add(f, "bytes", json_object_new_int64((int64_t)total));
	audit_event("limit", f);
}

static void on_free(struct tmpfs_store *s)
{
	if (s == tmpfs_default_store())
		sample();
}

static void on_tick(struct sentry_source *src, uint32_t events)
{
	(void)events;
	uint64_t ticks;
	(void)read(src->fd, &ticks, sizeof(ticks));
	sentry_lock();
	sample();
	sentry_unlock();
	if (full_seen)
		sentry_unwatch(src); /* one record is all it says */
}

int diskwatch_start(void)
{
	if (!tmpfs_default_store())
		return 0;
	tmpfs_set_free_hook(on_free);
	_cleanup_close_ int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return neg_errno();
	struct itimerspec its = { .it_interval = { .tv_sec = 1 }, .it_value = { .tv_sec = 1 } };
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return neg_errno();
	tick.fd = fd;
	tick.fn = on_tick;
	int r = sentry_watch(&tick);
	if (r < 0)
		return r;
	TAKE_FD(fd);
	return 0;
}

void diskwatch_finish(void)
{
	sample();
	if (full_seen)
		log_warnx("the sandbox filled its in-memory disk (%" PRIu64 " bytes): writes failed with ENOSPC",
			  full_total);
}
