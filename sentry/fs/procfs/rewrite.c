/* SPDX-License-Identifier: MIT */
/* procfs: rewriting host texts that hold the guest's comm (rewrite.h). */
#include "sentry/fs/procfs/rewrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int procfs_sched_rewrite(const char *text, pid_t vid, struct strbuf *sb)
{
	/* The name is the part before " (pid": the kernel's comm, set by
	 * the guest. */
	char *nl = strchr(text, '\n');
	const char *p = strrchr(text, '(');
	const char *t = strstr(text, "#threads:");
	if (!nl || !p || !t || t > nl)
		return 0;
	long threads = strtol(t + 9, NULL, 10);
	int r = sb_append(sb, text, (size_t)(p - text));
	if (r == 0)
		r = sb_printf(sb, "(%d, #threads: %ld)%s", vid, threads, nl);
	return r;
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
