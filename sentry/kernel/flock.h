/* SPDX-License-Identifier: MIT */
/* File locks of the guest (flock, POSIX and OFD record locks), kept so that
 * no lock a guest takes ever reaches a host file's inode (see flock.c and
 * docs/architecture.md, "File locks").
 *
 * All functions are called with the sentry lock held; flock_flock and
 * flock_setlk may wait for a conflicting lock with it dropped
 * (vfs_block_begin), so callers must not rely on other sentry state staying
 * as it was across the call. A signal to the guest thread ends such a wait
 * with -EINTR (sentry/kernel/wait.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sysreq;
struct task;

/* A byte range [start, end]; end FLOCK_OFFSET_MAX means "to the end of the
 * file, however it grows" (l_len 0). */
#define FLOCK_OFFSET_MAX INT64_MAX

/* What F_GETLK reports: a conflicting lock, or type F_UNLCK. */
struct flock_info {
	short type;
	int64_t start, end;
	pid_t vpid; /* sandbox pid of a POSIX holder, -1 for an OFD lock */
};

/* flock(2) on `fd`, the sentry's pidfd_getfd copy of the guest's file (the
 * caller keeps it; every decision is made on it, never on the guest's fd
 * number again). op is LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB. Returns
 * 0 or -errno (-EWOULDBLOCK, -EINTR, -ENOLCK). */
int flock_flock(struct sysreq *r, struct task *t, int fd, int op);

/* A record lock (F_SETLK/F_SETLKW, or the OFD ones with ofd) of type
 * F_RDLCK, F_WRLCK or F_UNLCK on [start, end] of the file `fd` (as above).
 * Returns 0 or -errno (-EAGAIN, -EDEADLK, -EINTR, -ENOLCK). */
int flock_setlk(struct sysreq *r, struct task *t, int fd, bool ofd, short type,
		int64_t start, int64_t end, bool wait);

/* F_GETLK / F_OFD_GETLK: the first lock that would block type on
 * [start, end]. Returns 0 (*ret filled) or -errno. */
int flock_getlk(struct task *t, int fd, bool ofd, short type, int64_t start, int64_t end,
		struct flock_info *ret);

/* Exit hook: a task of host process tgid exited (task.c). Drops the POSIX
 * locks of the process if it is gone, and wakes waiters to re-check. */
void flock_task_exit(pid_t tgid);

/* Counts for tests and debugging. */
void flock_stats(size_t *ret_files, size_t *ret_locks, size_t *ret_descs);
