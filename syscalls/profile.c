/* SPDX-License-Identifier: MIT */
/* See profile.h and docs/seccomp-profiles.md.
 *
 * A profile is enforced as a second seccomp filter stacked on the table's
 * (sentry/sandbox/guest.c): the kernel runs both and applies the stricter
 * verdict (KILL > TRAP > ERRNO > USER_NOTIF > LOG/ALLOW). So a call the
 * profile refuses gets the profile's action whatever the table says, and a
 * call it allows still meets the table. The one exception is moat's own
 * exec: the sentry turns a guest's execve into execveat(fd, "",
 * AT_EMPTY_PATH), so a profile that allows execve without rules allows
 * execveat too (the guest gets nothing more: its own execveat is resolved
 * and checked by the sentry exactly like its execve). */
#include "syscalls/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "syscalls/trace_decode.h"

/* --- collecting ----------------------------------------------------------- */

static const struct { int nr; int arg; } rule_args[] = {
	{ __NR_ioctl, 1 }, { __NR_socket, 0 }, { __NR_socketpair, 0 }, { __NR_prctl, 0 },
	{ __NR_clone, 0 }, { __NR_open, 1 }, { __NR_openat, 2 },
};

/* Calls moat itself makes the guest's threads run: the rewritten exec,
 * the mapping and closing of exec images and arenas, signal return and
 * restarts of interrupted calls. A profile without them would break moat's
 * machinery, not the workload. */
static const int machinery[] = {
	__NR_execveat, __NR_mmap, __NR_munmap, __NR_close, __NR_rt_sigreturn,
	__NR_restart_syscall, __NR_exit, __NR_exit_group,
};

int profile_rule_arg(int nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(rule_args); i++)
		if (rule_args[i].nr == nr)
			return rule_args[i].arg;
	return -1;
}

void profile_acc_add(struct profile_acc *a, int nr, const uint64_t args[6])
{
	if (nr < 0 || nr >= SYS_TABLE_SIZE)
		return;
	a->used[nr] = true;
	a->count[nr]++;
	int arg = profile_rule_arg(nr);
	if (arg < 0)
		return;
	struct profile_vals *v = &a->vals[nr];
	uint32_t x = (uint32_t)args[arg];
	for (unsigned i = 0; i < v->n; i++)
		if (v->v[i] == x)
			return;
	if (v->n < PROFILE_MAX_VALUES)
		v->v[v->n++] = x;
	else
		v->overflow = true;
}

static bool acc_used(const struct profile_acc *a, int nr)
{
	if (a->used[nr])
		return true;
	if (!a->used[__NR_execve] && !a->used[__NR_execveat])
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(machinery); i++)
		if (machinery[i] == nr)
			return true;
	return false;
}

static bool has_rules(const struct profile_acc *a, int nr)
{
	return a->used[nr] && profile_rule_arg(nr) >= 0 && !a->vals[nr].overflow && a->vals[nr].n;
}

static void json_putp(json_object **p)
{
	if (*p)
		json_object_put(*p);
}

int profile_write_oci(const struct profile_acc *a, FILE *f)
{
	_cleanup_(json_putp) json_object *root = json_object_new_object();
	json_object *arches = json_object_new_array(), *calls = json_object_new_array();
	json_object *plain = json_object_new_array();
	if (!root || !arches || !calls || !plain)
		return -ENOMEM;
	json_object_object_add(root, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO"));
	json_object_object_add(root, "defaultErrnoRet", json_object_new_int(EPERM));
	json_object_array_add(arches, json_object_new_string("SCMP_ARCH_X86_64"));
	json_object_object_add(root, "architectures", arches);
	json_object_object_add(root, "syscalls", calls);

	json_object *entry = json_object_new_object();
	json_object_object_add(entry, "names", plain);
	json_object_object_add(entry, "action", json_object_new_string("SCMP_ACT_ALLOW"));
	json_object_array_add(calls, entry);
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++)
		if (acc_used(a, nr) && !has_rules(a, nr))
			json_object_array_add(plain, json_object_new_string(sys_name(nr)));

	/* One entry per value: the args of one entry must all hold (AND). */
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
		if (!has_rules(a, nr))
			continue;
		const struct profile_vals *v = &a->vals[nr];
		for (unsigned i = 0; i < v->n; i++) {
			json_object *e = json_object_new_object(), *names = json_object_new_array();
			json_object *args = json_object_new_array(), *arg = json_object_new_object();
			json_object_array_add(names, json_object_new_string(sys_name(nr)));
			json_object_object_add(e, "names", names);
			json_object_object_add(e, "action", json_object_new_string("SCMP_ACT_ALLOW"));
			/* The kernel reads these arguments as int: compare the
			 * low 32 bits, as moat's table does. */
			json_object_object_add(arg, "index", json_object_new_int(profile_rule_arg(nr)));
			json_object_object_add(arg, "value", json_object_new_uint64(0xffffffffULL));
			json_object_object_add(arg, "valueTwo", json_object_new_uint64(v->v[i]));
			json_object_object_add(arg, "op", json_object_new_string("SCMP_CMP_MASKED_EQ"));
			json_object_array_add(args, arg);
			json_object_object_add(e, "args", args);
			json_object_array_add(calls, e);
		}
	}
	const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_SPACED |
								JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	fprintf(f, "%s\n", s);
	return 0;
}

int profile_write_moat(const struct profile_acc *a, const char *what, FILE *f)
{
	unsigned n = 0;
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++)
		n += acc_used(a, nr);
	fprintf(f, "# moat profile: the syscalls %s made (%u), how moat's table answers\n"
		   "# each, and the argument values it used where they matter.\n"
		   "# %-20s %-4s %-10s %8s  %s\n",
		what ? what : "the workload", n, "syscall", "nr", "moat", "calls", "values");
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
		if (!acc_used(a, nr))
			continue;
		const struct sys_entry *e = sys_lookup(nr);
		fprintf(f, "%-22s %-4d %-10s %8llu", sys_name(nr), nr,
			e ? sys_disp_name(e->disp) : "UNKNOWN", (unsigned long long)a->count[nr]);
		if (has_rules(a, nr)) {
			fprintf(f, "  arg%d&0xffffffff in", profile_rule_arg(nr));
			for (unsigned i = 0; i < a->vals[nr].n; i++)
				fprintf(f, "%s%#x", i ? "," : " ", a->vals[nr].v[i]);
		} else if (a->vals[nr].overflow) {
			fprintf(f, "  (more than %d values: any)", PROFILE_MAX_VALUES);
		} else if (!a->used[nr]) {
			fprintf(f, "  (moat's exec and fork machinery)");
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

/* --- reading -------------------------------------------------------------- */

static const struct {
	const char *name;
	enum profile_action action;
} actions[] = {
	{ "SCMP_ACT_ALLOW", PA_ALLOW }, { "SCMP_ACT_LOG", PA_LOG },
	{ "SCMP_ACT_ERRNO", PA_ERRNO }, { "SCMP_ACT_KILL", PA_KILL_THREAD },
	{ "SCMP_ACT_KILL_THREAD", PA_KILL_THREAD }, { "SCMP_ACT_KILL_PROCESS", PA_KILL_PROCESS },
	{ "SCMP_ACT_TRAP", PA_TRAP },
};

static const struct {
	const char *name;
	enum scmp_compare op;
} ops[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static bool refuses(enum profile_action a)
{
	return a != PA_ALLOW && a != PA_LOG;
}

#define FAIL(...)                                          \
	do {                                               \
		snprintf(err, errlen, __VA_ARGS__);        \
		return -EINVAL;                            \
	} while (0)

static int parse_action(json_object *o, const char *where, enum profile_action *ret,
			char *err, size_t errlen)
{
	const char *s = json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
	if (!s)
		FAIL("%s: \"action\" must be a string", where);
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (!strcmp(s, actions[i].name)) {
			*ret = actions[i].action;
			return 0;
		}
	if (!strcmp(s, "SCMP_ACT_NOTIFY") || !strcmp(s, "SCMP_ACT_TRACE"))
		FAIL("%s: %s is not supported (moat itself supervises the guest)", where, s);
	FAIL("%s: unknown action \"%s\"", where, s);
}

static int parse_errno(json_object *o, const char *where, int *ret, char *err, size_t errlen)
{
	if (!o) {
		*ret = EPERM; /* runc's default */
		return 0;
	}
	if (!json_object_is_type(o, json_type_int))
		FAIL("%s: errno must be a number", where);
	int64_t v = json_object_get_int64(o);
	/* ERRNO(0) would make the call "succeed" without running it. */
	if (v < 1 || v > 4095)
		FAIL("%s: errno %lld is not between 1 and 4095", where, (long long)v);
	*ret = (int)v;
	return 0;
}

static bool str_in(json_object *arr, const char *const *want)
{
	if (!arr || !json_object_is_type(arr, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		for (const char *const *w = want; s && *w; w++)
			if (!strcmp(s, *w))
				return true;
	}
	return false;
}

/* Docker's conditions: an entry for other architectures, or for
 * containers holding capabilities (a moat guest holds none), is not
 * this sandbox's. */
static bool entry_applies(json_object *e)
{
	static const char *const x86_64[] = { "amd64", "x86_64", "SCMP_ARCH_X86_64", NULL };
	json_object *inc, *exc, *v;
	if (json_object_object_get_ex(e, "includes", &inc)) {
		if (json_object_object_get_ex(inc, "caps", &v) && json_object_array_length(v) > 0)
			return false;
		if (json_object_object_get_ex(inc, "arches", &v) && json_object_array_length(v) > 0 &&
		    !str_in(v, x86_64))
			return false;
	}
	if (json_object_object_get_ex(e, "excludes", &exc) &&
	    json_object_object_get_ex(exc, "arches", &v) && str_in(v, x86_64))
		return false;
	return true;
}

static int add_rule(struct seccomp_profile *p, const struct profile_rule *r)
{
	if (p->nrules % 64 == 0) {
		struct profile_rule *n = realloc(p->rules, (p->nrules + 64) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->rules = n;
	}
	p->rules[p->nrules++] = *r;
	return 0;
}

static int parse_entry(struct seccomp_profile *p, json_object *e, size_t idx, char *err,
		       size_t errlen, FILE *warn)
{
	char where[48];
	snprintf(where, sizeof(where), "syscalls[%zu]", idx);
	if (!json_object_is_type(e, json_type_object))
		FAIL("%s: not an object", where);
	if (!entry_applies(e))
		return 0;
	struct profile_rule proto = { 0 };
	json_object *o;
	if (!json_object_object_get_ex(e, "action", &o))
		FAIL("%s: no \"action\"", where);
	int r = parse_action(o, where, &proto.action, err, errlen);
	if (r < 0)
		return r;
	if (proto.action == PA_ERRNO) {
		json_object *eo = NULL;
		json_object_object_get_ex(e, "errnoRet", &eo);
		if ((r = parse_errno(eo, where, &proto.err, err, errlen)) < 0)
			return r;
	}
	json_object *args = NULL;
	if (json_object_object_get_ex(e, "args", &args) && args &&
	    !json_object_is_type(args, json_type_null)) {
		if (!json_object_is_type(args, json_type_array) || json_object_array_length(args) > 6)
			FAIL("%s: \"args\" must be an array of at most 6 conditions", where);
		proto.nargs = (unsigned)json_object_array_length(args);
		for (unsigned i = 0; i < proto.nargs; i++) {
			json_object *a = json_object_array_get_idx(args, i), *v;
			struct profile_arg *pa = &proto.args[i];
			if (!json_object_is_type(a, json_type_object))
				FAIL("%s.args[%u]: not an object", where, i);
			if (!json_object_object_get_ex(a, "index", &v) ||
			    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
			    json_object_get_int64(v) > 5)
				FAIL("%s.args[%u]: \"index\" must be 0 to 5", where, i);
			pa->index = (unsigned)json_object_get_int64(v);
			if (!json_object_object_get_ex(a, "value", &v) || !json_object_is_type(v, json_type_int))
				FAIL("%s.args[%u]: \"value\" must be a number", where, i);
			pa->value = json_object_get_uint64(v);
			if (json_object_object_get_ex(a, "valueTwo", &v)) {
				if (!json_object_is_type(v, json_type_int))
					FAIL("%s.args[%u]: \"valueTwo\" must be a number", where, i);
				pa->value2 = json_object_get_uint64(v);
			}
			const char *op = json_object_object_get_ex(a, "op", &v) ? json_object_get_string(v) : NULL;
			pa->op = -1;
			for (size_t k = 0; op && k < ARRAY_SIZE(ops); k++)
				if (!strcmp(op, ops[k].name))
					pa->op = ops[k].op;
			if (pa->op < 0)
				FAIL("%s.args[%u]: unknown \"op\" %s", where, i, op ? op : "(none)");
		}
	}
	json_object *names = NULL;
	if (!json_object_object_get_ex(e, "names", &names)) {
		/* The older single "name". */
		json_object *n1;
		if (!json_object_object_get_ex(e, "name", &n1) || !json_object_is_type(n1, json_type_string))
			FAIL("%s: no \"names\"", where);
		names = json_object_new_array();
		json_object_array_add(names, json_object_get(n1));
		json_object_object_add(e, "names", names);
	}
	if (!json_object_is_type(names, json_type_array) || json_object_array_length(names) == 0)
		FAIL("%s: \"names\" must be a non-empty array", where);
	for (size_t i = 0; i < json_object_array_length(names); i++) {
		json_object *n = json_object_array_get_idx(names, i);
		const char *name = json_object_is_type(n, json_type_string) ? json_object_get_string(n) : NULL;
		if (!name)
			FAIL("%s.names[%zu]: not a string", where, i);
		int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
		if (nr == __NR_SCMP_ERROR) {
			/* Skipping an allowed name only refuses more; skipping a
			 * refused one would let it through. */
			if (refuses(proto.action) || !refuses(p->default_action))
				FAIL("%s: unknown syscall \"%s\"", where, name);
			if (warn)
				fprintf(warn, "moat: seccomp profile: %s: unknown syscall \"%s\" skipped (it stays refused)\n",
					where, name);
			continue;
		}
		if (nr < 0)
			continue; /* a syscall of other architectures only */
		proto.nr = nr;
		if ((r = add_rule(p, &proto)) < 0)
			return r;
	}
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	struct stat st;
	if (fstat(fd, &st) < 0)
		return neg_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > 16 << 20)
		return -EFBIG;
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return neg_errno();
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*ret_len = got;
	*ret = TAKE_PTR(buf);
	return 0;
}

static void tokener_freep(struct json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}

int profile_parse(const char *path, struct seccomp_profile *ret, char *err, size_t errlen,
		  FILE *warn)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file(path, &text, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	_cleanup_(tokener_freep) struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	_cleanup_(json_putp) json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (!root || je != json_tokener_success) {
		unsigned line = 1, col = 1;
		for (size_t i = 0; i < end && i < len; i++, col++)
			if (text[i] == '\n')
				line++, col = 0;
		snprintf(err, errlen, "%s:%u:%u: %s", path, line, col,
			 je == json_tokener_continue ? "unexpected end of file"
						     : json_tokener_error_desc(je));
		return -EINVAL;
	}
	for (size_t i = end; i < len; i++)
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r') {
			snprintf(err, errlen, "%s: trailing data after the profile", path);
			return -EINVAL;
		}

	return profile_parse_json(root, path, ret, err, errlen, warn);
}

int profile_parse_json(json_object *root, const char *path, struct seccomp_profile *ret, char *err,
		       size_t errlen, FILE *warn)
{
	int r;
	struct seccomp_profile p = { 0 };
	json_object *o;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "%s: a profile is a JSON object", path);
		return -EINVAL;
	}
	if (!json_object_object_get_ex(root, "defaultAction", &o)) {
		snprintf(err, errlen, "%s: no \"defaultAction\"", path);
		return -EINVAL;
	}
	if ((r = parse_action(o, path, &p.default_action, err, errlen)) < 0)
		return r;
	if (p.default_action == PA_ERRNO) {
		json_object *eo = NULL;
		json_object_object_get_ex(root, "defaultErrnoRet", &eo);
		if ((r = parse_errno(eo, path, &p.default_err, err, errlen)) < 0)
			return r;
	}
	if (json_object_object_get_ex(root, "architectures", &o) && o &&
	    !json_object_is_type(o, json_type_null)) {
		static const char *const x86_64[] = { "SCMP_ARCH_X86_64", NULL };
		if (!json_object_is_type(o, json_type_array)) {
			snprintf(err, errlen, "%s: \"architectures\" must be an array", path);
			return -EINVAL;
		}
		if (json_object_array_length(o) && !str_in(o, x86_64)) {
			snprintf(err, errlen, "%s: \"architectures\" does not include SCMP_ARCH_X86_64", path);
			return -EINVAL;
		}
	}
	if (json_object_object_get_ex(root, "listenerPath", &o) && json_object_get_string_len(o)) {
		snprintf(err, errlen, "%s: \"listenerPath\" is not supported (moat itself supervises the guest)", path);
		return -EINVAL;
	}
	json_object *calls = NULL;
	if (json_object_object_get_ex(root, "syscalls", &calls) && calls &&
	    !json_object_is_type(calls, json_type_null)) {
		if (!json_object_is_type(calls, json_type_array)) {
			snprintf(err, errlen, "%s: \"syscalls\" must be an array", path);
			return -EINVAL;
		}
		for (size_t i = 0; i < json_object_array_length(calls); i++) {
			char e1[256];
			r = parse_entry(&p, json_object_array_get_idx(calls, i), i, e1, sizeof(e1), warn);
			if (r < 0) {
				snprintf(err, errlen, "%s: %s", path, r == -ENOMEM ? strerror(ENOMEM) : e1);
				profile_free(&p);
				return r;
			}
		}
	}
	*ret = p;
	return 0;
}

void profile_free(struct seccomp_profile *p)
{
	free(p->rules);
	p->rules = NULL;
	p->nrules = 0;
}

static uint32_t scmp_action(enum profile_action a, int err)
{
	switch (a) {
	case PA_ALLOW: return SCMP_ACT_ALLOW;
	case PA_LOG: return SCMP_ACT_LOG;
	case PA_ERRNO: return SCMP_ACT_ERRNO((uint32_t)err);
	case PA_KILL_THREAD: return SCMP_ACT_KILL;
	case PA_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
	case PA_TRAP: return SCMP_ACT_TRAP;
	}
	return SCMP_ACT_KILL_PROCESS;
}

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int rule_add(scmp_filter_ctx ctx, uint32_t def, const struct profile_rule *r, int nr)
{
	uint32_t act = scmp_action(r->action, r->err);
	if (act == def)
		return 0; /* libseccomp refuses rules equal to the default */
	struct scmp_arg_cmp cmp[6];
	bool repeated = false;
	for (unsigned i = 0; i < r->nargs; i++) {
		cmp[i] = (struct scmp_arg_cmp){ r->args[i].index, r->args[i].op, r->args[i].value,
						r->args[i].value2 };
		for (unsigned j = 0; j < i; j++)
			repeated |= r->args[j].index == r->args[i].index;
	}
	/* As runc: conditions on distinct arguments must all hold; several on
	 * one argument are alternatives (libseccomp cannot AND them). */
	if (!repeated)
		return seccomp_rule_add_array(ctx, act, nr, r->nargs, cmp);
	for (unsigned i = 0; i < r->nargs; i++) {
		int e = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
		if (e < 0)
			return e;
	}
	return 0;
}

int profile_compile(const struct seccomp_profile *p, struct sock_filter **ret_prog,
		    unsigned short *ret_len)
{
	uint32_t def = scmp_action(p->default_action, p->default_err);
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return -ENOMEM;
	int r;
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0)
		return r;
	bool execveat_named = false;
	const struct profile_rule *execve_plain = NULL;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct profile_rule *pr = &p->rules[i];
		execveat_named |= pr->nr == __NR_execveat;
		if (pr->nr == __NR_execve && !pr->nargs && !refuses(pr->action))
			execve_plain = pr;
		if ((r = rule_add(ctx, def, pr, pr->nr)) < 0)
			return r == -EEXIST ? -ENOTUNIQ : r;
	}
	/* moat's exec is an execveat (see the top of this file). */
	if (execve_plain && !execveat_named && (r = rule_add(ctx, def, execve_plain, __NR_execveat)) < 0)
		return r;
	return sys_filter_export(ctx, ret_prog, ret_len);
}

enum profile_verdict profile_verdict(const struct seccomp_profile *p, int nr)
{
	bool allow = false, refuse = false, cond = false;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct profile_rule *r = &p->rules[i];
		if (r->nr != nr && !(nr == __NR_execveat && r->nr == __NR_execve && !r->nargs))
			continue;
		if (r->nargs)
			cond = true;
		else if (refuses(r->action))
			refuse = true;
		else
			allow = true;
	}
	if (refuse)
		return PV_REFUSES;
	if (cond)
		return PV_DEPENDS;
	if (allow)
		return PV_ALLOWS;
	return refuses(p->default_action) ? PV_REFUSES : PV_ALLOWS;
}
