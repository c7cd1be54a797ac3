/* SPDX-License-Identifier: MIT */
/* `moat events [--stats] [--interval D] ID`: runc's events. --stats prints
 * one "stats" event; without it one every interval (default 5s) until the
 * container stops (no "oom" events yet). Each a line of compact JSON in runc's shape
 * ({"type", "id", "data": {"cpu", "memory", "pids", ...}}). Memory and
 * pids come from the sandbox's own cgroup where it has one (with their
 * limits), else from its processes (their resident memory, their number);
 * cpu from its processes' times. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/container.h"
#include "sentry/sandbox/cgroup.h"

struct usage {
	uint64_t user_ns, kernel_ns, rss;
};

/* utime, stime (fields 14, 15) and RSS pages (field 24) of /proc/PID/stat. */
static void add_proc(pid_t pid, struct usage *u)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	_cleanup_free_ char *text = NULL;
	if (read_file_at(AT_FDCWD, path, &text, 4096) < 0)
		return;
	char *p = strrchr(text, ')');
	if (!p)
		return;
	/* p + 2 is field 3. */
	unsigned long long f[23] = { 0 };
	p += 2;
	for (int i = 3; i <= 24 && p; i++) {
		if (i >= 14)
			f[i - 14 < 23 ? i - 14 : 0] = strtoull(p, NULL, 10);
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	u->user_ns += f[0] * (1000000000ULL / (unsigned long long)hz);
	u->kernel_ns += f[1] * (1000000000ULL / (unsigned long long)hz);
	u->rss += f[10] * (unsigned long long)page;
}

static struct json_object *entry(uint64_t limit, uint64_t usage, uint64_t max)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "limit", json_object_new_uint64(limit));
	if (usage)
		json_object_object_add(o, "usage", json_object_new_uint64(usage));
	if (max)
		json_object_object_add(o, "max", json_object_new_uint64(max));
	json_object_object_add(o, "failcnt", json_object_new_uint64(0));
	return o;
}

static struct json_object *stats(const struct oci_state *st)
{
	pid_t *pids = NULL;
	size_t n = 0;
	(void)oci_container_pids(st, &pids, &n);
	struct usage u = { 0 };
	add_proc(st->init.pid, &u);
	for (size_t i = 0; i < n; i++)
		add_proc(pids[i], &u);
	free(pids);
	struct cgroup_stats cg = { 0 };
	(void)cgroup_stats_of(st->init.pid, st->sentry.pid, &cg);

	struct json_object *d = json_object_new_object(), *o, *x;
	o = json_object_new_object();
	x = json_object_new_object();
	if (u.user_ns + u.kernel_ns)
		json_object_object_add(x, "total", json_object_new_uint64(u.user_ns + u.kernel_ns));
	json_object_object_add(x, "kernel", json_object_new_uint64(u.kernel_ns));
	json_object_object_add(x, "user", json_object_new_uint64(u.user_ns));
	json_object_object_add(o, "usage", x);
	json_object_object_add(o, "throttling", json_object_new_object());
	json_object_object_add(d, "cpu", o);
	json_object_object_add(d, "cpuset", json_object_new_object());

	o = json_object_new_object();
	json_object_object_add(o, "usage", entry(cg.has_memory ? cg.memory_max : 0,
						 cg.has_memory ? cg.memory_current : u.rss, 0));
	json_object_object_add(o, "swap", entry(0, 0, 0));
	json_object_object_add(o, "kernel", entry(0, 0, 0));
	json_object_object_add(o, "kernelTCP", entry(0, 0, 0));
	json_object_object_add(d, "memory", o);

	o = json_object_new_object();
	/* moat's own pid 1 is in the count, as it is in the cgroup's. */
	uint64_t cur = cg.has_pids ? cg.pids_current : n + 1;
	if (cur)
		json_object_object_add(o, "current", json_object_new_uint64(cur));
	if (cg.has_pids && cg.pids_max)
		json_object_object_add(o, "limit", json_object_new_uint64(cg.pids_max));
	json_object_object_add(d, "pids", o);
	json_object_object_add(d, "blkio", json_object_new_object());
	json_object_object_add(d, "hugetlb", json_object_new_object());
	json_object_object_add(d, "intel_rdt", json_object_new_object());
	json_object_object_add(d, "network_interfaces", NULL);
	return d;
}

static void emit(const char *type, const char *id, struct json_object *data)
{
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(e, "id", json_object_new_string(id));
	if (data)
		json_object_object_add(e, "data", data);
	printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(e);
}

/* Go's time.ParseDuration, for what engines pass: "5s", "500ms", "1m", "2". */
static int parse_interval(const char *s, int64_t *ret_ms)
{
	char *end;
	double v = strtod(s, &end);
	double mul = !strcmp(end, "ms") ? 1 : !strcmp(end, "s") ? 1000 : !strcmp(end, "m") ? 60000
		   : !strcmp(end, "h") ? 3600000 : -1;
	if (end == s || mul < 0 || v <= 0)
		return -EINVAL;
	*ret_ms = (int64_t)(v * mul);
	return *ret_ms > 0 ? 0 : -EINVAL;
}

int command_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (oci_log_open() < 0)
		return 1;
	bool once = false;
	int64_t interval_ms = 5000;
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			once = true;
			break;
		case 'i':
			if (parse_interval(optarg, &interval_ms) < 0)
				return oci_fail("events: invalid --interval %s", optarg);
			break;
		case 'h':
			puts("Usage: moat events [--stats] [--interval DURATION] CONTAINER-ID\n"
			     "Print the container's statistics (JSON lines): once with --stats, else\n"
			     "every interval (default 5s) until it stops.");
			return 0;
		default:
			return oci_fail("events: flag provided but not defined: %s", argv[optind - 1]);
		}
	}
	int r = oci_check_args("events", argc - optind, 1, OCI_ARGS_EXACT);
	if (r)
		return r;
	struct oci_state st;
	if ((r = oci_container_get(argv[optind], &st)))
		return r;
	enum oci_status s = oci_state_status(&st);
	if (s == OCI_STOPPED) {
		r = oci_fail("container with id %s is not running", st.id);
		oci_state_free(&st);
		return r;
	}
	if (once) {
		emit("stats", st.id, stats(&st));
		oci_state_free(&st);
		return 0;
	}
	while (oci_state_status(&st) != OCI_STOPPED) {
		emit("stats", st.id, stats(&st));
		int64_t left = interval_ms;
		while (left > 0 && oci_proc_alive(&st.sentry)) {
			int64_t step = left < 100 ? left : 100;
			struct timespec ts = { step / 1000, (step % 1000) * 1000000 };
			nanosleep(&ts, NULL);
			left -= step;
		}
	}
	oci_state_free(&st);
	return 0;
}
