/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the procfs files a guest writes into. Of /proc's
 * writable files (comm, oom_score_adj, oom_adj: procfs/tables.c,
 * PE_WRITABLE) moat parses none: a write opens the host's file and the
 * host kernel applies its own rules. What moat does parse is the host's
 * text that carries what the guest wrote: comm (prctl(PR_SET_NAME) or
 * /proc/self/comm: any bytes but NUL, up to 15) comes back in sched and
 * stat next to the host's pids, which the sentry rewrites
 * (sentry/fs/procfs/rewrite.c). Input: byte 0 picks the mode, then
 *   modes 0, 1: a comm of up to 15 bytes (up to a NUL) and numbers, made
 *               into sched (0) or stat (1) as the kernel writes them, with
 *               7-digit host pids; the result must show the guest's comm
 *               as it is, the sandbox's ids, and no host pid anywhere;
 *   modes 2, 3: raw text given to sched (2) or stat (3) to survive.
 * Run by tests/fuzz/parsers.sh. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/fs/procfs/rewrite.h"

#define VID 7
#define VPPID 1
#define VPGID 2
#define VSID 3

static void die(const char *what, const struct strbuf *sb)
{
	fprintf(stderr, "fuzz_procfs: %s\n---\n%.*s\n---\n", what, sb ? (int)sb->len : 0,
		sb && sb->buf ? sb->buf : "");
	abort();
}

static pid_t to_vpid(long host) { return 9; }

static const struct stat_ids ids = { .vtid = VID, .vppid = VPPID, .vpgid = VPGID, .vsid = VSID,
				     .start_ticks = 0, .to_vpid = to_vpid };

/* The host pids used: distinct 7-digit numbers that are not in the comm. */
static bool host_pids(const uint8_t *d, size_t n, const char *comm, long pid[5])
{
	for (int i = 0; i < 5; i++) {
		pid[i] = 4000000 + (n > (size_t)i ? d[i] * 997 : 0) + i * 131;
		char s[16];
		snprintf(s, sizeof(s), "%ld", pid[i]);
		if (strstr(comm, s))
			return false;
	}
	return true;
}

static void no_host_pid(const struct strbuf *sb, const long pid[5])
{
	char *text = strndup(sb->buf ? sb->buf : "", sb->len);
	if (!text)
		abort();
	for (int i = 0; i < 5; i++) {
		char s[16];
		snprintf(s, sizeof(s), "%ld", pid[i]);
		if (strstr(text, s))
			die("a host pid shows", sb);
	}
	free(text);
}

static void made(int mode, const uint8_t *d, size_t n)
{
	char comm[PROC_COMM_MAX + 1];
	size_t cl = 0;
	while (cl < n && cl < PROC_COMM_MAX && d[cl])
		comm[cl] = (char)d[cl], cl++;
	comm[cl] = 0;
	d += cl, n -= cl;
	if (n && !d[0])
		d++, n--;
	long pid[5];
	if (!host_pids(d, n, comm, pid))
		return;
	unsigned small = n > 5 ? d[5] : 1;
	_cleanup_free_ char *text = NULL;
	struct strbuf sb = { 0 };
	char want[128];
	if (mode == 0) {
		if (asprintf(&text, "%s (%ld, #threads: %u)\n"
			     "-------------------------------------------------------------------\n"
			     "se.exec_start                                :        %u.000000\n"
			     "nr_switches                                  :                   %u\n",
			     comm, pid[0], small + 1, small, small) < 0)
			abort();
		if (procfs_sched_rewrite(text, VID, &sb) < 0)
			die("sched refused", &sb);
		snprintf(want, sizeof(want), "%s (%d, #threads: %u)\n", comm, VID, small + 1);
	} else {
		if (asprintf(&text, "%ld (%s) %c %ld %ld %ld 34816 %ld 4194304 %u 0 0 0 0 0 0 0 20 0 1 0 "
			     "%u 2564096 287 18446744073709551615 1 2 3 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 "
			     "4 5 6 7 8 9 10 0\n",
			     pid[0], comm, "RSDtTZ"[small % 6], pid[1], pid[2], pid[3], pid[4], small,
			     small) < 0)
			abort();
		if (procfs_stat_rewrite(text, &ids, &sb) < 0)
			die("stat refused", &sb);
		snprintf(want, sizeof(want), "%d (%s) %c %d %d %d 34816 9 ", VID, comm,
			 "RSDtTZ"[small % 6], VPPID, VPGID, VSID);
	}
	if (sb.len < strlen(want) || memcmp(sb.buf, want, strlen(want)))
		die(mode ? "stat is not the sandbox's" : "sched is not the sandbox's", &sb);
	no_host_pid(&sb, pid);
	sb_free(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mode = data[0] & 3;
	if (mode < 2) {
		made(mode, data + 1, size - 1);
		return 0;
	}
	char *text = strndup((const char *)data + 1, size - 1);
	if (!text)
		abort();
	struct strbuf sb = { 0 };
	if (mode == 2)
		(void)procfs_sched_rewrite(text, VID, &sb);
	else
		(void)procfs_stat_rewrite(text, &ids, &sb);
	sb_free(&sb);
	free(text);
	return 0;
}
