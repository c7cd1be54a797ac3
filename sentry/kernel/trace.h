/* SPDX-License-Identifier: MIT */
/* `moat trace` and `moat profile`: the record of every guest syscall
 * (docs/tracing.md). When tracing is off nothing here runs: the dispatcher
 * tests one flag, and the guest's filter is the table's.
 *
 * When it is on, the guest's filter is the table's with every ALLOW and
 * ERRNO outcome turned into a notification (syscalls/filter.c,
 * sys_filter_notify_all), and the dispatcher (syscalls/trace_dispatch.c)
 * answers each call with the verdict the table's own filter gives on its
 * registers: CONTINUE only where that filter says ALLOW, its errno where it
 * says ERRNO, the handler where it says USER_NOTIF. The sink below turns
 * each call into a line of text or JSON, a row of the summary and an entry
 * of the profile being collected. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "syscalls/table.h"

struct sock_filter;
struct trace_args;
struct profile_acc;

enum trace_format { TRACE_FMT_TEXT, TRACE_FMT_JSON };
enum trace_status { TRACE_ST_ALL, TRACE_ST_FAILED, TRACE_ST_SUCCESSFUL };

struct trace_opts {
	int fd;                  /* where records and the summary go; -1: nowhere */
	enum trace_format format;
	bool records;            /* one line per call */
	bool summary;            /* strace -c's table at the end */
	unsigned strsize;        /* strace -s (32) */
	unsigned classes;        /* TRACE_FILE...; with select[], 0 and none: all */
	bool select_any;
	bool select[SYS_TABLE_SIZE];
	enum trace_status status;
	struct profile_acc *profile; /* collect a profile (moat profile), or NULL */
};

/* How moat answered the call. */
enum trace_disp { TRACE_PASS, TRACE_EMULATE, TRACE_DENY, TRACE_KILL };

struct trace_rec {
	pid_t pid, tid;          /* the sandbox's numbers; host tid when unknown */
	int nr;
	uint64_t args[6];
	const struct trace_args *text;
	enum trace_disp disp;
	bool known;              /* the result is known (not a CONTINUEd call) */
	long ret;                /* when known: value or -errno */
	uint64_t start_ns;       /* since the trace began */
	uint64_t sentry_ns;      /* time from receipt to answer in the sentry */
};

/* Set once, before the guest starts, by trace_start(). */
extern bool trace_active;

/* Start tracing the sandbox about to run. `normal` is the table's filter,
 * whose verdict the sentry gives (kept, not copied). 0 or -errno. */
int trace_start(const struct trace_opts *o, const struct sock_filter *normal,
		unsigned short normal_len);
/* The table's filter, for the dispatcher. */
void trace_normal_filter(const struct sock_filter **prog, unsigned short *len);
/* Host pid of the sandbox's pid 1 (moat's own code: not traced) and
 * whether the command has started (its first execve): calls made before
 * are moat's, between fork and exec. */
bool trace_wanted(pid_t tid, int nr);
/* Does the record pass the -e filters? Decoding costs: ask first. */
bool trace_selected(int nr);
/* held: the caller holds the sink's lock (trace_hold), taken to keep the
 * order of records across an answer whose result is known only after it
 * is sent. */
void trace_emit(const struct trace_rec *rec, bool held);
void trace_hold(bool on);
/* Write the summary (if asked) and flush; after the guest is gone. */
void trace_finish(void);
uint64_t trace_now_ns(void);
uint64_t trace_start_ns(void);
unsigned trace_strsize(void);

/* Summary rows, shared with `moat profile --from`. */
const char *trace_disp_name(enum trace_disp d);
