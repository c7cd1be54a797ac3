/* SPDX-License-Identifier: MIT */
/* Arguments of a guest syscall in strace's notation, and strace's classes
 * of syscalls (trace=file, process, ...), for `moat trace`
 * (docs/tracing.md). Strings are read from guest memory with the req_*
 * helpers, once, bounded, and only ever printed: nothing here decides
 * anything, and a hostile guest may show the tracer a string other than
 * the one the sentry acted on (it reads its own copy). */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct sysreq;

#define TRACE_ARGS_BUF 8192

struct trace_args {
	unsigned n;                 /* how many arguments the call takes */
	uint16_t off[6];            /* each one's text in buf */
	char buf[TRACE_ARGS_BUF];
};

/* Decode r's arguments; strings that are not paths are cut at strsize
 * bytes ("..." after the quote, as strace -s). Never fails: what cannot
 * be read is shown as the pointer. */
void trace_decode(struct sysreq *r, unsigned strsize, struct trace_args *out);

/* strace's classes. */
enum {
	TRACE_FILE = 1 << 0,    /* takes a path */
	TRACE_DESC = 1 << 1,    /* acts on an fd */
	TRACE_PROCESS = 1 << 2, /* process lifecycle */
	TRACE_NETWORK = 1 << 3,
	TRACE_SIGNAL = 1 << 4,
	TRACE_IPC = 1 << 5,     /* SysV IPC */
	TRACE_MEMORY = 1 << 6,
};
unsigned trace_class(int nr);
/* "file" -> TRACE_FILE (also "%file"); 0 for an unknown class name. */
unsigned trace_class_parse(const char *name);
/* A syscall number by name (any x86-64 syscall the table names), or -1. */
int trace_nr_by_name(const char *name);
/* "ENOENT" for 2; "E?" when unnamed. */
const char *trace_errno_name(int err);
