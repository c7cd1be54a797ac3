/* SPDX-License-Identifier: MIT */
/* procfs: the host's per-process texts that carry the guest's own comm
 * (set with prctl(PR_SET_NAME) or a write to /proc/self/comm, any bytes
 * but NUL, up to 15), rewritten for the sandbox. Pure text in, text out,
 * so that tests/fuzz/fuzz_procfs.c can feed them what a guest can make
 * the host kernel write. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

struct strbuf;

/* The kernel's TASK_COMM_LEN - 1: the longest comm. */
#define PROC_COMM_MAX 15

/* sched: its first line is "<comm> (<pid>, #threads: <n>)\n" with the
 * host's pid; the rest is numbers. Appends the text with vid in place of
 * that pid; 0 and nothing appended when the text does not have that shape
 * (fail closed); -errno. */
int procfs_sched_rewrite(const char *text, pid_t vid, struct strbuf *sb);

/* stat: "<pid> (<comm>) <state> <ppid> <pgrp> <session> <tty> <tpgid> ..."
 * with the pid fields in the sandbox's numbering. */
struct stat_ids {
	pid_t vtid, vppid, vpgid, vsid;
	const char *name;       /* shown instead of the host's comm, or NULL */
	char state;             /* shown instead of the host's state, or 0 */
	char traced;            /* shown instead of a host 't', or 0 */
	long long start_ticks;  /* the sandbox's start, in clock ticks since boot */
	pid_t (*to_vpid)(long host_pid);
};
/* -EIO when the text is not a stat line. */
int procfs_stat_rewrite(char *text, const struct stat_ids *ids, struct strbuf *sb);
