/* SPDX-License-Identifier: MIT */
/* Logging after OpenBSD's log.c: log_warn appends strerror(errno),
 * log_warnx does not; log_debug is gated by verbosity; fatal only in setup. */
#pragma once
#include <stdbool.h>
#include "cleanup.h"

extern int log_verbose;             /* 0 quiet, 1 info, 2 debug */
/* Also sends the log back to stderr in the plain format: a forked helper
 * (the gofer) that calls it never writes to an fd it may have closed. */
void log_init(const char *progname, int verbose);

/* How records look: "prog: message" (moat's own CLI), or the two shapes
 * runc's logger (logrus) writes, which container engines parse:
 * `time="..." level=error msg="..."` and one JSON object per line. */
enum log_format { LOG_PLAIN, LOG_TEXT, LOG_JSON };
/* Write records to fd (kept open by the caller; O_APPEND for a file) in
 * format. */
void log_set_output(int fd, enum log_format format);
/* Is the log going somewhere else than stderr (runc then also prints a
 * fatal error plainly on stderr)? */
bool log_is_stderr(void);
/* An error record regardless of verbosity (a command's final error). */
void log_errorx(const char *fmt, ...) _printf_(1, 2);
void log_warn(const char *fmt, ...) _printf_(1, 2);
void log_warnx(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);
void log_debug(const char *fmt, ...) _printf_(1, 2);
_Noreturn void fatal(const char *fmt, ...) _printf_(1, 2);
_Noreturn void fatalx(const char *fmt, ...) _printf_(1, 2);
/* Log with strerror(-err) and return err: for "log once at the boundary". */
int log_error_errno(int err, const char *fmt, ...) _printf_(2, 3);
