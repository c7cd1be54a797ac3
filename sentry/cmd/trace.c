/* SPDX-License-Identifier: MIT */
/* `moat trace [RUN OPTIONS] [TRACE OPTIONS] -- CMD`: run CMD in an ordinary
 * sandbox and record every syscall of its processes and threads
 * (docs/tracing.md). The tracing options are taken out of the command line
 * here; everything else is `moat run`'s. Also the option splitting and the
 * start of tracing that `moat profile` shares (trace_cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/cmd/cmd.h"
#include "sentry/cmd/trace_cli.h"
#include "sentry/kernel/trace.h"
#include "sentry/sandbox/config.h"
#include "syscalls/table.h"
#include "syscalls/trace_decode.h"

static const char usage_text[] =
	"Usage: moat trace [RUN OPTIONS] [TRACE OPTIONS] [--] CMD [ARGS...]\n"
	"Run CMD in a sandbox (as `moat run` does) and record each syscall of each of\n"
	"its processes and threads (-f is implied): arguments, result or errno, how\n"
	"moat answered (emulated, passed to the host kernel, denied) and the time the\n"
	"sentry spent. Calls passed to the host kernel show `= ?`: the host runs them\n"
	"after moat answers, so their result is not seen (docs/tracing.md).\n"
	"\n"
	"Trace options:\n"
	"  -o, --output FILE     write the trace to FILE (default: stderr)\n"
	"  --format text|json    strace's form (default) or JSON lines (docs/tracing.md)\n"
	"  -e trace=SET          only these calls: names and classes, comma-separated\n"
	"                        (file, desc, process, network, signal, ipc, memory)\n"
	"  -e status=failed      only calls that failed (successful: only successes)\n"
	"  -s N                  print at most N bytes of data strings (default 32)\n"
	"  -c, --summary         a table of counts, errors, time and moat's answers\n"
	"                        per syscall instead of the trace (strace -c)\n"
	"  -C, --summary-also    the trace and then the table\n"
	"  -h, --help            show this help\n"
	"\n"
	"Run options: see `moat run --help`. Exit status: the command's; 2 for a usage\n"
	"error; 125 if the sandbox failed.\n";

static int trace_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "moat trace: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'moat trace --help')\n");
	return 2;
}

static int parse_expr(struct trace_opts *o, const char *expr)
{
	const char *eq = strchr(expr, '=');
	const char *what = "trace", *list = expr;
	char key[16];
	if (eq) {
		size_t n = (size_t)(eq - expr);
		if (n >= sizeof(key))
			return trace_usage("-e %s: unknown qualifier", expr);
		memcpy(key, expr, n);
		key[n] = '\0';
		what = key;
		list = eq + 1;
	}
	if (!strcmp(what, "status")) {
		if (!strcmp(list, "failed"))
			o->status = TRACE_ST_FAILED;
		else if (!strcmp(list, "successful"))
			o->status = TRACE_ST_SUCCESSFUL;
		else if (!strcmp(list, "all"))
			o->status = TRACE_ST_ALL;
		else
			return trace_usage("-e status=%s: expected failed, successful or all", list);
		return 0;
	}
	if (strcmp(what, "trace"))
		return trace_usage("-e %s: only trace= and status= are supported", expr);
	if (!strcmp(list, "all"))
		return 0;
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return 125;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned c = trace_class_parse(tok);
		if (c) {
			o->classes |= c;
			continue;
		}
		int nr = trace_nr_by_name(tok);
		if (nr < 0)
			return trace_usage("-e trace=%s: unknown syscall or class", tok);
		o->select[nr] = true;
		o->select_any = true;
	}
	return 0;
}

static bool run_option_takes_value(const char *a)
{
	if (!strcmp(a, "-u")) /* run's only short option with a value (--user) */
		return true;
	if (strncmp(a, "--", 2) || strchr(a, '='))
		return false;
	for (const char *const *n = run_options_with_arg; *n; n++)
		if (!strcmp(a + 2, *n))
			return true;
	return false;
}

int trace_cli_split(const char *verb, int argc, char **argv, struct trace_cli *cli,
		    int (*own)(struct trace_cli *cli, const char *opt, const char *val),
		    const char *const *own_with_value)
{
	char **out = calloc((size_t)argc + 1, sizeof(*out));
	if (!out)
		return 125;
	int n = 0;
	out[n++] = argv[0];
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--") || a[0] != '-')
			break;
		bool takes = false;
		for (const char *const *w = own_with_value; *w; w++)
			takes |= !strcmp(a, *w);
		if (takes && i + 1 >= argc) {
			fprintf(stderr, "moat %s: %s needs a value (see 'moat %s --help')\n", verb, a, verb);
			free(out);
			return 2;
		}
		/* 0: taken; 1: not ours; else the exit status (3: help shown). */
		int r = own(cli, a, takes ? argv[i + 1] : NULL);
		if (r == 0) {
			i += takes;
			continue;
		}
		if (r != 1) {
			free(out);
			return r;
		}
		out[n++] = argv[i];
		if (run_option_takes_value(a) && i + 1 < argc)
			out[n++] = argv[++i];
	}
	for (; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	cli->argc = n;
	cli->argv = out;
	return 0;
}

int trace_cli_open_output(const char *verb, const char *path, int fallback)
{
	if (!path)
		return fallback;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "moat %s: %s: %s\n", verb, path, strerror(errno));
		return -1;
	}
	return fd;
}

int trace_cli_prepare(struct sandbox_config *cfg, void *ctx)
{
	struct trace_opts *o = ctx;
	const struct sock_filter *prog;
	unsigned short len;
	struct sock_filter *traced;
	unsigned short traced_len;
	int r = sys_filter_default(&prog, &len);
	if (r >= 0 && getrandom(cfg->report_tag, sizeof(cfg->report_tag), 0) != sizeof(cfg->report_tag))
		r = -EIO;
	/* pid 1 puts the value that keeps its sendmsg passed in the first
	 * register (guest.c); the tag is the other two. */
	cfg->report_tag[0] = SYS_SENDMSG_UNTRAPPED;
	if (r >= 0)
		r = sys_filter_notify_all(prog, len, cfg->report_tag, &traced, &traced_len);
	if (r >= 0)
		r = trace_start(o, prog, len);
	if (r < 0) {
		fprintf(stderr, "moat: cannot trace: %s\n", strerror(-r));
		return 125;
	}
	cfg->guest_filter = traced;
	cfg->guest_filter_len = traced_len;
	return 0;
}

struct trace_cmd {
	struct trace_cli cli;
	struct trace_opts opts;
	const char *output;
	int result;
};

static int trace_own(struct trace_cli *cli, const char *opt, const char *val)
{
	struct trace_cmd *t = (struct trace_cmd *)cli;
	if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
		fputs(usage_text, stdout);
		t->result = 0;
		return 3;
	}
	if (!strcmp(opt, "-f") || !strcmp(opt, "-ff"))
		return 0; /* implied */
	if (!strcmp(opt, "-c") || !strcmp(opt, "--summary")) {
		t->opts.summary = true;
		t->opts.records = false;
		return 0;
	}
	if (!strcmp(opt, "-C") || !strcmp(opt, "--summary-also")) {
		t->opts.summary = true;
		t->opts.records = true;
		return 0;
	}
	if (!val)
		return 1;
	if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
		t->output = val;
		return 0;
	}
	if (!strcmp(opt, "--format")) {
		if (!strcmp(val, "json"))
			t->opts.format = TRACE_FMT_JSON;
		else if (!strcmp(val, "text"))
			t->opts.format = TRACE_FMT_TEXT;
		else
			return trace_usage("--format %s: expected text or json", val);
		return 0;
	}
	if (!strcmp(opt, "-e"))
		return parse_expr(&t->opts, val);
	if (!strcmp(opt, "-s")) {
		char *end;
		long n = strtol(val, &end, 10);
		if (*end || n < 0 || n > 4096)
			return trace_usage("-s %s: expected 0 to 4096", val);
		t->opts.strsize = (unsigned)n;
		return 0;
	}
	return 1;
}

int command_trace(int argc, char **argv)
{
	static const char *const with_value[] = { "-o", "--output", "--format", "-e", "-s", NULL };
	struct trace_cmd t = {
		.opts = { .fd = -1, .records = true, .strsize = 32 },
		.result = -1,
	};
	int r = trace_cli_split("trace", argc, argv, &t.cli, trace_own, with_value);
	if (r == 3)
		return t.result;
	if (r != 0)
		return r;
	if (t.cli.argc < 2)
		return trace_usage("%s", "no command given");
	t.opts.fd = trace_cli_open_output("trace", t.output, STDERR_FILENO);
	if (t.opts.fd < 0)
		return 125;
	int status = run_sandbox("trace", t.cli.argc, t.cli.argv, trace_cli_prepare, &t.opts);
	trace_finish();
	free(t.cli.argv);
	return status;
}
