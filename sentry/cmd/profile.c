/* SPDX-License-Identifier: MIT */
/* `moat profile [RUN OPTIONS] [-o FILE] [--format oci|moat] -- CMD` and
 * `moat profile --from TRACE.json`: the syscalls a run needed, with
 * argument rules where they matter, as an OCI/Docker seccomp profile or a
 * moat profile (docs/seccomp-profiles.md). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/cmd/cmd.h"
#include "sentry/cmd/trace_cli.h"
#include "sentry/kernel/trace.h"
#include "syscalls/profile.h"
#include "syscalls/trace_decode.h"

static const char usage_text[] =
	"Usage: moat profile [RUN OPTIONS] [-o FILE] [--format oci|moat] [--] CMD [ARGS...]\n"
	"       moat profile --from TRACE.json [-o FILE] [--format oci|moat]\n"
	"Run CMD traced (or read a `moat trace --format json` file) and print the\n"
	"syscalls it made, with rules on the arguments that matter (ioctl requests,\n"
	"socket families, prctl options, clone flags, open flags), as an OCI/Docker\n"
	"seccomp profile (default; enforce it with `moat run --seccomp-profile`) or as\n"
	"a moat profile (a table with moat's answer to each call).\n"
	"\n"
	"  -o, --output FILE  write the profile to FILE (default: stdout)\n"
	"  --format oci|moat  the profile's form (default oci)\n"
	"  --from FILE        make the profile from a JSON-lines trace instead\n"
	"  -h, --help         show this help\n";

struct profile_cmd {
	struct trace_cli cli;
	const char *output, *from;
	bool moat_format;
	int result;
};

static int profile_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "moat profile: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'moat profile --help')\n");
	return 2;
}

static int profile_own(struct trace_cli *cli, const char *opt, const char *val)
{
	struct profile_cmd *p = (struct profile_cmd *)cli;
	if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
		fputs(usage_text, stdout);
		p->result = 0;
		return 3;
	}
	if (!val)
		return 1;
	if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
		p->output = val;
		return 0;
	}
	if (!strcmp(opt, "--from")) {
		p->from = val;
		return 0;
	}
	if (!strcmp(opt, "--format")) {
		if (!strcmp(val, "moat"))
			p->moat_format = true;
		else if (!strcmp(val, "oci") || !strcmp(val, "docker"))
			p->moat_format = false;
		else
			return profile_usage("--format %s: expected oci or moat", val);
		return 0;
	}
	return 1;
}

/* One JSON-lines record (docs/tracing.md) into the profile. */
static int add_record(struct profile_acc *acc, const char *line, char *err, size_t errlen)
{
	json_object *o = json_tokener_parse(line);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		snprintf(err, errlen, "not a JSON object (a trace cut short, or not --format json?)");
		return -EINVAL;
	}
	json_object *nr_o, *raw, *name;
	int nr = -1;
	if (json_object_object_get_ex(o, "nr", &nr_o) && json_object_is_type(nr_o, json_type_int))
		nr = json_object_get_int(nr_o);
	else if (json_object_object_get_ex(o, "syscall", &name))
		nr = trace_nr_by_name(json_object_get_string(name));
	if (nr < 0 || nr >= SYS_TABLE_SIZE || !sys_lookup(nr)) {
		json_object_put(o);
		snprintf(err, errlen, "no known syscall in the record");
		return -EINVAL;
	}
	uint64_t args[6] = { 0 };
	if (!json_object_object_get_ex(o, "raw", &raw) || !json_object_is_type(raw, json_type_array) ||
	    json_object_array_length(raw) != 6) {
		json_object_put(o);
		snprintf(err, errlen, "\"raw\" must hold the 6 argument registers");
		return -EINVAL;
	}
	for (size_t i = 0; i < 6; i++)
		args[i] = json_object_get_uint64(json_object_array_get_idx(raw, i));
	json_object_put(o);
	profile_acc_add(acc, nr, args);
	return 0;
}

static int from_trace(const char *path, struct profile_acc *acc)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "moat profile: %s: %s\n", path, strerror(errno));
		return 125;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0, records = 0;
	int status = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		char err[128];
		/* A line without its newline is a record cut short. */
		if (line[n - 1] != '\n') {
			fprintf(stderr, "moat profile: %s:%u: the line is cut short (no newline)\n", path, lineno);
			status = 125;
			break;
		}
		if (add_record(acc, line, err, sizeof(err)) < 0) {
			fprintf(stderr, "moat profile: %s:%u: %s\n", path, lineno, err);
			status = 125;
			break;
		}
		records++;
	}
	if (!status && ferror(f)) {
		fprintf(stderr, "moat profile: %s: read error\n", path);
		status = 125;
	}
	if (!status && !records) {
		fprintf(stderr, "moat profile: %s: no records\n", path);
		status = 125;
	}
	free(line);
	fclose(f);
	return status;
}

static int write_profile(const struct profile_acc *acc, bool moat_format, const char *what, int fd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return -ENOMEM;
	int r = moat_format ? profile_write_moat(acc, what, m) : profile_write_oci(acc, m);
	if (fclose(m) != 0 && r == 0)
		r = -ENOMEM;
	if (r == 0)
		r = write_all(fd, text, len);
	free(text);
	return r;
}

int command_profile(int argc, char **argv)
{
	static const char *const with_value[] = { "-o", "--output", "--format", "--from", NULL };
	struct profile_cmd p = { .result = -1 };
	int r = trace_cli_split("profile", argc, argv, &p.cli, profile_own, with_value);
	if (r == 3)
		return p.result;
	if (r != 0)
		return r;
	_cleanup_free_ struct profile_acc *acc = calloc(1, sizeof(*acc));
	if (!acc)
		return 125;
	int fd = trace_cli_open_output("profile", p.output, STDOUT_FILENO);
	if (fd < 0)
		return 125;
	int status;
	const char *what;
	if (p.from) {
		if (p.cli.argc > 1)
			return profile_usage("%s", "--from takes no command");
		status = from_trace(p.from, acc);
		if (status)
			return status;
		what = p.from;
	} else {
		if (p.cli.argc < 2)
			return profile_usage("%s", "no command given");
		struct trace_opts o = { .fd = -1, .strsize = 32, .profile = acc };
		status = run_sandbox("profile", p.cli.argc, p.cli.argv, trace_cli_prepare, &o);
		/* The sandbox's own failures (usage, setup) leave nothing to
		 * write; the command's failure still leaves what it needed. */
		if (status == 2 || (status == 125 && !acc->used[__NR_execve] && !acc->used[__NR_execveat]))
			return status;
		what = NULL;
	}
	if ((r = write_profile(acc, p.moat_format, what, fd)) < 0) {
		fprintf(stderr, "moat profile: cannot write the profile: %s\n", strerror(-r));
		return 125;
	}
	free(p.cli.argv);
	return status;
}
