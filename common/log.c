/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int log_verbose;
static const char *log_prog = "moat";
static int log_fd = STDERR_FILENO;
static enum log_format log_fmt = LOG_PLAIN;

void log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
	log_fd = STDERR_FILENO;
	log_fmt = LOG_PLAIN;
}

void log_set_output(int fd, enum log_format format)
{
	log_fd = fd;
	log_fmt = format;
}

bool log_is_stderr(void) { return log_fd == STDERR_FILENO; }

/* A string as a JSON string body, or as logrus quotes a text value. */
static void append_quoted(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_printf(sb, "\\%c", c);
		else if (c == '\n')
			sb_append(sb, "\\n", 2);
		else if (c == '\t')
			sb_append(sb, "\\t", 2);
		else if (c < 0x20)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_append(sb, s, 1);
	}
}

/* logrus's time: RFC 3339 in local time, seconds precision. */
static void append_time(struct strbuf *sb)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[64];
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff / 60;
	if (off == 0)
		sb_printf(sb, "%sZ", buf);
	else
		sb_printf(sb, "%s%c%02ld:%02ld", buf, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

static void vlog(const char *level, const char *err, const char *fmt, va_list ap)
{
	char msg[1024];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (err && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", err);
	struct strbuf sb = { 0 };
	switch (log_fmt) {
	case LOG_PLAIN:
		sb_printf(&sb, "%s: %s\n", log_prog, msg);
		break;
	case LOG_TEXT:
		sb_append(&sb, "time=\"", 6);
		append_time(&sb);
		sb_printf(&sb, "\" level=%s msg=\"", level);
		append_quoted(&sb, msg);
		sb_append(&sb, "\"\n", 2);
		break;
	case LOG_JSON:
		sb_printf(&sb, "{\"level\":\"%s\",\"msg\":\"", level);
		append_quoted(&sb, msg);
		sb_append(&sb, "\",\"time\":\"", 10);
		append_time(&sb);
		sb_append(&sb, "\"}\n", 3);
		break;
	}
	/* One write per record: lines from several processes appending to
	 * one log file do not interleave. */
	if (sb.buf)
		(void)write_all(log_fd, sb.buf, sb.len);
	sb_free(&sb);
}

#define LOGFN(name, level, tag, with_errno)                                  \
	void name(const char *fmt, ...)                                      \
	{                                                                    \
		int saved = errno;                                           \
		if (log_verbose < (level))                                   \
			return;                                              \
		va_list ap;                                                  \
		va_start(ap, fmt);                                           \
		vlog(tag, with_errno ? strerror(saved) : NULL, fmt, ap);     \
		va_end(ap);                                                  \
		errno = saved;                                               \
	}

LOGFN(log_warn, 0, "warning", 1)
LOGFN(log_warnx, 0, "warning", 0)
LOGFN(log_errorx, 0, "error", 0)
LOGFN(log_info, 1, "info", 0)
LOGFN(log_debug, 2, "debug", 0)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog("fatal", strerror(saved), fmt, ap);
	va_end(ap);
	exit(125);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("fatal", NULL, fmt, ap);
	va_end(ap);
	exit(125);
}

int log_error_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error", strerror(err < 0 ? -err : err), fmt, ap);
	va_end(ap);
	return err;
}
