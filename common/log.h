/* SPDX-License-Identifier: MIT */
/* Logging after OpenBSD's log.c: log_warn appends strerror(errno),
 * log_warnx does not; log_debug is gated by verbosity; fatal only in setup. */
#pragma once
#include "cleanup.h"

extern int log_verbose;             /* 0 quiet, 1 info, 2 debug */
void log_init(const char *progname, int verbose);
void log_warn(const char *fmt, ...) _printf_(1, 2);
void log_warnx(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);
void log_debug(const char *fmt, ...) _printf_(1, 2);
_Noreturn void fatal(const char *fmt, ...) _printf_(1, 2);
_Noreturn void fatalx(const char *fmt, ...) _printf_(1, 2);
/* Log with strerror(-err) and return err: for "log once at the boundary". */
int log_error_errno(int err, const char *fmt, ...) _printf_(2, 3);
