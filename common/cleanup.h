/* SPDX-License-Identifier: MIT */
/* Ownership helpers in the spirit of systemd's fd-util: a variable declared
 * with a cleanup attribute releases what it holds when it goes out of scope;
 * TAKE_FD/TAKE_PTR hand ownership to the caller explicitly. */
#pragma once
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		/* Never retry close on EINTR: the fd is gone either way. */
		(void)close(fd);
		errno = saved;
	}
	return -1;
}

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { safe_close(*fd); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_FD(fd)                 \
	({                          \
		int _fd_ = (fd);    \
		(fd) = -1;          \
		_fd_;               \
	})
#define TAKE_PTR(p)                      \
	({                               \
		__typeof__(p) _p_ = (p); \
		(p) = NULL;              \
		_p_;                     \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* -errno of the last libc call, never 0 (defensive against libc that forgot). */
static inline int neg_errno(void) { return errno > 0 ? -errno : -EIO; }
