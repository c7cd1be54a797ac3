/* SPDX-License-Identifier: MIT */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cleanup.h"

/* Read a whole (small, e.g. /proc) file into a malloc'd NUL-terminated
 * buffer. Returns length or -errno. */
ssize_t read_file_at(int dirfd, const char *path, char **ret, size_t max);
/* The same for an open file, read with pread from offset 0 (a /proc file
 * kept open gives fresh contents each time). */
ssize_t read_file_fd(int fd, char **ret, size_t max);
/* Write all of buf; returns 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);
/* A NULL-terminated string vector copied (each string too); NULL if out of
 * memory. strv_free frees one (NULL is fine). */
char **strv_dup(char *const *v);
void strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }
/* Wait for child pid (EINTR retried): its exit status, 128+N for a signal
 * N, or error_status when it cannot be waited for. */
int wait_child_status(pid_t pid, int error_status);
/* A growable string buffer for synthesized files. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
int sb_printf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
int sb_append(struct strbuf *sb, const void *data, size_t len);
void sb_free(struct strbuf *sb);
/* Does name have the shape of one path component ("", ".", ".." and
 * anything with '/' are not)? */
bool is_single_component(const char *name);
/* mkdtemp(3) with mkdirat: tmpl ends in XXXXXX, made 0700 below dirfd
 * (the sentry's allowlist has mkdirat, not mkdir). 0 or -errno. */
int mkdtemp_at(int dirfd, char *tmpl);
int64_t now_ns(void); /* CLOCK_MONOTONIC */
struct msghdr;
struct sockaddr;
/* The most fds one message of moat's own carries (sentry/sandbox/guest.c's
 * ready report: the listener and the interpreters). */
#define SEND_FDS_MAX 8
/* Attach nfds fds (at most SEND_FDS_MAX; none when 0) to msg as one
 * SCM_RIGHTS message in cbuf, which must hold CMSG_SPACE(nfds * sizeof(int))
 * bytes and outlive the send. */
void msg_set_fds(struct msghdr *msg, void *cbuf, const int *fds, size_t nfds);
/* sendmsg of len bytes with nfds fds attached, to sock's peer or, for an
 * unconnected datagram socket, to `to`; MSG_NOSIGNAL is added to flags.
 * Returns the bytes sent or -errno. */
ssize_t send_fds(int sock, const void *data, size_t len, const int *fds, size_t nfds, int flags,
		 const struct sockaddr *to, unsigned int tolen);
/* Give back every free page of the heap once setup is done (malloc_trim;
 * see sentry/main.c). Nothing under AddressSanitizer: its allocator
 * replaces glibc's, whose first use would then be this call, in a process
 * already confined (glibc's malloc init calls getrandom). */
void heap_trim(void);
