/* SPDX-License-Identifier: MIT */
/* The trace sink (trace.h): filters, the text and JSON lines, the summary
 * table and the profile being collected. One mutex orders the records:
 * each line is formatted on the worker's stack and written whole, so lines
 * of concurrent calls never interleave (their order is the order in which
 * the sentry answered). */
#include "sentry/kernel/trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syscall.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/kernel/sentry.h"
#include "syscalls/profile.h"
#include "syscalls/trace_decode.h"

bool trace_active;

static struct trace_opts opts;
static const struct sock_filter *normal_prog;
static unsigned short normal_len;
static uint64_t t0;
static atomic_bool started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct row {
	uint64_t calls, errors, unknown, ns;
	unsigned disps; /* 1 << enum trace_disp */
} rows[SYS_TABLE_SIZE];

uint64_t trace_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t trace_start_ns(void) { return t0; }
unsigned trace_strsize(void) { return opts.strsize; }

int trace_start(const struct trace_opts *o, const struct sock_filter *normal,
		unsigned short len)
{
	if (!normal || !len)
		return -EINVAL;
	opts = *o;
	normal_prog = normal;
	normal_len = len;
	t0 = trace_now_ns();
	trace_active = true;
	return 0;
}

void trace_normal_filter(const struct sock_filter **prog, unsigned short *len)
{
	*prog = normal_prog;
	*len = normal_len;
}

bool trace_wanted(pid_t tid, int nr)
{
	if (tid == sentry.init_pid)
		return false;
	if (atomic_load(&started))
		return true;
	/* The command's process runs moat's code between pid 1's fork and
	 * its first execve (environment, signals, --seccomp-profile). */
	if (nr == __NR_execve || nr == __NR_execveat) {
		atomic_store(&started, true);
		return true;
	}
	return false;
}

bool trace_selected(int nr)
{
	if (!opts.classes && !opts.select_any)
		return true;
	if (nr >= 0 && nr < SYS_TABLE_SIZE && opts.select[nr])
		return true;
	return (trace_class(nr) & opts.classes) != 0;
}

const char *trace_disp_name(enum trace_disp d)
{
	switch (d) {
	case TRACE_PASS: return "pass";
	case TRACE_EMULATE: return "emulate";
	case TRACE_DENY: return "deny";
	case TRACE_KILL: return "kill";
	}
	return "?";
}

struct line {
	char buf[TRACE_ARGS_BUF * 2 + 512];
	size_t len;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
	if (l->len + 1 >= sizeof(l->buf))
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = l->len + (size_t)n < sizeof(l->buf) ? l->len + (size_t)n : sizeof(l->buf) - 1;
}

/* JSON string contents. The decoded texts are ASCII already (bytes outside
 * it are printed as octal escapes), so only quotes, backslashes and
 * controls need escaping. */
static void add_json_str(struct line *l, const char *s)
{
	add(l, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			add(l, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			add(l, "\\u%04x", c);
		else
			add(l, "%c", c);
	}
	add(l, "\"");
}

static void format_text(struct line *l, const struct trace_rec *r)
{
	const struct trace_args *a = r->text;
	add(l, "[pid %5d] %s(", r->tid, sys_name(r->nr));
	for (unsigned i = 0; a && i < a->n; i++)
		add(l, "%s%s", i ? ", " : "", a->buf + a->off[i]);
	add(l, ") = ");
	if (!r->known)
		add(l, "?");
	else if (r->ret < 0)
		add(l, "-1 %s (%s)", trace_errno_name((int)-r->ret), strerror((int)-r->ret));
	else
		add(l, "%ld", r->ret);
	if (r->disp != TRACE_EMULATE)
		add(l, " [%s]", trace_disp_name(r->disp));
	add(l, " <%llu.%06llu>\n", (unsigned long long)(r->sentry_ns / 1000000000ULL),
	    (unsigned long long)(r->sentry_ns / 1000 % 1000000));
}

static void format_json(struct line *l, const struct trace_rec *r)
{
	const struct trace_args *a = r->text;
	add(l, "{\"time\":%.6f,\"pid\":%d,\"tid\":%d,\"syscall\":\"%s\",\"nr\":%d,\"args\":[",
	    (double)r->start_ns / 1e9, r->pid, r->tid, sys_name(r->nr), r->nr);
	for (unsigned i = 0; a && i < a->n; i++) {
		if (i)
			add(l, ",");
		add_json_str(l, a->buf + a->off[i]);
	}
	add(l, "],\"raw\":[");
	for (unsigned i = 0; i < 6; i++)
		add(l, "%s%llu", i ? "," : "", (unsigned long long)r->args[i]);
	add(l, "],\"moat\":\"%s\",\"result\":", trace_disp_name(r->disp));
	if (r->known)
		add(l, "%ld", r->ret);
	else
		add(l, "null");
	if (r->known && r->ret < 0)
		add(l, ",\"errno\":\"%s\"", trace_errno_name((int)-r->ret));
	add(l, ",\"sentry_us\":%.3f}\n", (double)r->sentry_ns / 1e3);
}

void trace_hold(bool on)
{
	if (on)
		pthread_mutex_lock(&lock);
	else
		pthread_mutex_unlock(&lock);
}

void trace_emit(const struct trace_rec *r, bool held)
{
	bool failed = r->known && r->ret < 0;
	if ((opts.status == TRACE_ST_FAILED && !failed) ||
	    (opts.status == TRACE_ST_SUCCESSFUL && (!r->known || failed)))
		return;
	/* Formatted before taking the lock, which another worker may be
	 * holding across an fd's installation. */
	struct line *l = NULL;
	if (opts.records && opts.fd >= 0) {
		l = malloc(sizeof(*l));
		if (l) {
			l->len = 0;
			if (opts.format == TRACE_FMT_JSON)
				format_json(l, r);
			else
				format_text(l, r);
		}
	}
	if (!held)
		pthread_mutex_lock(&lock);
	if (r->nr >= 0 && r->nr < SYS_TABLE_SIZE) {
		struct row *w = &rows[r->nr];
		w->calls++;
		w->errors += failed;
		w->unknown += !r->known;
		w->ns += r->sentry_ns;
		w->disps |= 1u << r->disp;
	}
	if (opts.profile)
		profile_acc_add(opts.profile, r->nr, r->args);
	if (l)
		(void)write_all(opts.fd, l->buf, l->len);
	if (!held)
		pthread_mutex_unlock(&lock);
	free(l);
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = &rows[*(const int *)a], *y = &rows[*(const int *)b];
	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	return *(const int *)a - *(const int *)b;
}

static void disps_text(unsigned d, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = TRACE_PASS; i <= TRACE_KILL; i++)
		if (d & (1u << i))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "+" : "",
					      trace_disp_name((enum trace_disp)i));
}

/* strace -c's table with one more column: how moat answered. The time is
 * the sentry's (from receipt of the notification to its answer): for calls
 * moat passed to the host kernel that is the cost of the decision, not of
 * the call, which runs after the answer (docs/tracing.md). */
static void write_summary(void)
{
	int order[SYS_TABLE_SIZE], n = 0;
	uint64_t total_ns = 0, total_calls = 0, total_err = 0, total_unknown = 0;
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++)
		if (rows[nr].calls) {
			order[n++] = nr;
			total_ns += rows[nr].ns;
			total_calls += rows[nr].calls;
			total_err += rows[nr].errors;
		}
	qsort(order, (size_t)n, sizeof(order[0]), row_cmp);
	/* Into memory, then one write: the sentry's own seccomp allowlist
	 * has no dup() for fdopen. */
	char *text = NULL;
	size_t textlen = 0;
	FILE *f = open_memstream(&text, &textlen);
	if (!f)
		return;
	fprintf(f, "%% time     seconds  usecs/call     calls    errors syscall            moat\n"
		   "------ ----------- ----------- --------- --------- ------------------ ------------\n");
	for (int i = 0; i < n; i++) {
		const struct row *w = &rows[order[i]];
		char d[64], e[24] = "";
		disps_text(w->disps, d, sizeof(d));
		if (w->errors)
			snprintf(e, sizeof(e), "%llu", (unsigned long long)w->errors);
		fprintf(f, "%6.2f %11.6f %11llu %9llu %9s %-18s %s\n",
			total_ns ? 100.0 * (double)w->ns / (double)total_ns : 0.0,
			(double)w->ns / 1e9, (unsigned long long)(w->ns / 1000 / w->calls),
			(unsigned long long)w->calls, e, sys_name(order[i]), d);
		total_unknown += w->unknown;
	}
	fprintf(f, "------ ----------- ----------- --------- --------- ------------------ ------------\n"
		   "100.00 %11.6f %11llu %9llu %9llu total\n",
		(double)total_ns / 1e9,
		(unsigned long long)(total_calls ? total_ns / 1000 / total_calls : 0),
		(unsigned long long)total_calls, (unsigned long long)total_err);
	if (total_unknown)
		fprintf(f, "(%llu calls passed to the host kernel: their errors are not counted, their\n"
			   " time is the sentry's decision only; see docs/tracing.md)\n",
			(unsigned long long)total_unknown);
	if (fclose(f) == 0)
		(void)write_all(opts.fd, text, textlen);
	free(text);
}

void trace_finish(void)
{
	if (!trace_active)
		return;
	pthread_mutex_lock(&lock);
	if (opts.summary && opts.fd >= 0)
		write_summary();
	pthread_mutex_unlock(&lock);
}
