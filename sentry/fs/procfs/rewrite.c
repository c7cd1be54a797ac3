/* SPDX-License-Identifier: MIT */
/* procfs: rewriting host texts that hold the guest's comm (rewrite.h). */
#include "sentry/fs/procfs/rewrite.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Does s start with "(<digits>, #threads: <digits>)\n"? Then the number
 * of threads and the length of that. */
static size_t sched_header(const char *s, long *ret_threads)
{
	const char *p = s;
	if (*p++ != '(' || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (strncmp(p, ", #threads: ", 12))
		return 0;
	p += 12;
	if (!isdigit((unsigned char)*p))
		return 0;
	char *end;
	long threads = strtol(p, &end, 10);
	if (end[0] != ')' || end[1] != '\n')
		return 0;
	*ret_threads = threads;
	return (size_t)(end + 2 - s);
}

int procfs_sched_rewrite(const char *text, pid_t vid, struct strbuf *sb)
{
	/* The comm comes first and may hold anything, "(", "#threads:" and
	 * newlines too, but no more than PROC_COMM_MAX bytes: the header is
	 * the first " (" within that reach where the rest has the kernel's
	 * shape (which is longer than any comm, so a comm cannot fake it). */
	size_t len = strlen(text);
	for (size_t k = 0; k <= PROC_COMM_MAX && k + 1 < len; k++) {
		long threads;
		size_t hl;
		if (text[k] != ' ' || !(hl = sched_header(text + k + 1, &threads)))
			continue;
		int r = sb_append(sb, text, k);
		if (r == 0)
			r = sb_printf(sb, " (%d, #threads: %ld)\n", vid, threads);
		if (r == 0)
			r = sb_append(sb, text + k + 1 + hl, len - (k + 1 + hl));
		return r;
	}
	return 0;
}

int procfs_stat_rewrite(char *text, const struct stat_ids *ids, struct strbuf *sb)
{
	/* comm may hold spaces and parentheses: it ends at the last ')'. */
	char *lp = strchr(text, '('), *rp = strrchr(text, ')');
	if (!lp || !rp || rp < lp || rp[1] != ' ')
		return -EIO;
	int r;
	if ((r = sb_printf(sb, "%d (", ids->vtid)) < 0 ||
	    (r = ids->name ? sb_append(sb, ids->name, strlen(ids->name))
			   : sb_append(sb, lp + 1, rp - lp - 1)) < 0 ||
	    (r = sb_append(sb, ")", 1)) < 0)
		return r;
	long host_pgrp = 0;
	char *save = NULL;
	int field = 3;
	for (char *tok = strtok_r(rp + 2, " \n", &save); r == 0 && tok;
	     tok = strtok_r(NULL, " \n", &save), field++) {
		long long v = strtoll(tok, NULL, 10);
		switch (field) {
		case 3:
			if (ids->state)
				r = sb_printf(sb, " %c", ids->state);
			else if (tok[0] == 't' && !tok[1] && ids->traced)
				r = sb_printf(sb, " %c", ids->traced);
			else
				r = sb_printf(sb, " %s", tok);
			break;
		case 4:
			r = sb_printf(sb, " %d", ids->vppid);
			break;
		case 5:
			host_pgrp = v;
			r = sb_printf(sb, " %d", ids->vpgid);
			break;
		case 6:
			r = sb_printf(sb, " %d", ids->vsid);
			break;
		case 8: /* tpgid: the terminal's foreground group */
			r = sb_printf(sb, " %d", v < 0 ? -1 : v == host_pgrp ? ids->vpgid : ids->to_vpid(v));
			break;
		case 22:
			r = sb_printf(sb, " %lld", v > ids->start_ticks ? v - ids->start_ticks : 0);
			break;
		default:
			r = sb_printf(sb, " %s", tok);
		}
	}
	return r ? r : sb_append(sb, "\n", 1);
}
