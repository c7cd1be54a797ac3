/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int log_verbose;
static const char *log_prog = "moat";

void log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
}

static void vlog(const char *err, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	if (err)
		fprintf(stderr, "%s: %s: %s\n", log_prog, buf, err);
	else
		fprintf(stderr, "%s: %s\n", log_prog, buf);
}

#define LOGFN(name, level, with_errno)                                 \
	void name(const char *fmt, ...)                                \
	{                                                              \
		int saved = errno;                                     \
		if (log_verbose < (level))                             \
			return;                                        \
		va_list ap;                                            \
		va_start(ap, fmt);                                     \
		vlog(with_errno ? strerror(saved) : NULL, fmt, ap);    \
		va_end(ap);                                            \
		errno = saved;                                         \
	}

LOGFN(log_warn, 0, 1)
LOGFN(log_warnx, 0, 0)
LOGFN(log_info, 1, 0)
LOGFN(log_debug, 2, 0)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(strerror(saved), fmt, ap);
	va_end(ap);
	exit(125);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
	exit(125);
}

int log_error_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(strerror(err < 0 ? -err : err), fmt, ap);
	va_end(ap);
	return err;
}
