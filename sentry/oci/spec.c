/* SPDX-License-Identifier: MIT */
/* config.json -> struct sandbox_config. Each field is checked for its type
 * and mapped onto what moat has; the errors name the field. What is
 * accepted but not applied is listed in docs/oci.md. */
#include "sentry/oci/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/sandbox/limits.h"
#include "syscalls/profile.h"

/* config.json is small; a bound keeps a hostile bundle from costing memory. */
#define CONFIG_MAX (4 << 20)
#define ANNOT_BIND_OWNER "moat.bind-owner"

int (*oci_spec_preset)(struct sandbox_config *cfg, char *err, size_t errlen);

struct parse {
	struct oci_spec *s;
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, const char *fmt, ...) _printf_(2, 3);
static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *type_name(enum json_type t)
{
	switch (t) {
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
	case json_type_double:
		return "a number";
	case json_type_string:
		return "a string";
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	default:
		return "null";
	}
}

/* obj[key] of type t: 1 and *ret, 0 when absent (or null, as Go reads it),
 * -EINVAL (with the message) when of another type. */
static int field(struct parse *p, struct json_object *obj, const char *where, const char *key,
		 enum json_type t, struct json_object **ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	enum json_type have = json_object_get_type(v);
	if (have != t && !(t == json_type_int && have == json_type_double))
		return fail(p, "config.json: %s%s%s: expected %s, not %s", where, *where ? "." : "",
			    key, type_name(t), type_name(have));
	*ret = v;
	return 1;
}

static int field_string(struct parse *p, struct json_object *obj, const char *where,
			const char *key, const char **ret)
{
	struct json_object *v;
	int r = field(p, obj, where, key, json_type_string, &v);
	if (r > 0)
		*ret = json_object_get_string(v);
	return r;
}

static int field_bool(struct parse *p, struct json_object *obj, const char *where, const char *key,
		      bool *ret)
{
	struct json_object *v;
	int r = field(p, obj, where, key, json_type_boolean, &v);
	if (r > 0)
		*ret = json_object_get_boolean(v);
	return r;
}

/* An unsigned number up to max (uid, gid, rlimit values). */
static int field_uint(struct parse *p, struct json_object *obj, const char *where, const char *key,
		      uint64_t max, uint64_t *ret)
{
	struct json_object *v;
	int r = field(p, obj, where, key, json_type_int, &v);
	if (r <= 0)
		return r;
	errno = 0;
	uint64_t u = json_object_get_uint64(v);
	if (json_object_get_type(v) == json_type_double || errno ||
	    (json_object_get_int64(v) < 0) || u > max)
		return fail(p, "config.json: %s.%s: expected a whole number from 0 to %llu", where, key,
			    (unsigned long long)max);
	*ret = u;
	return 1;
}

/* Every element of array a must be a string. */
static int strings_only(struct parse *p, struct json_object *a, const char *where)
{
	size_t n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++)
		if (json_object_get_type(json_object_array_get_idx(a, i)) != json_type_string)
			return fail(p, "config.json: %s[%zu]: expected a string", where, i);
	return 0;
}

static bool has_option(struct json_object *opts, const char *name)
{
	size_t n = opts ? json_object_array_length(opts) : 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(opts, i)), name))
			return true;
	return false;
}

/* "1.N.M" with N from 0 to 2, M any, and an optional -suffix or +suffix. */
static bool version_supported(const char *v)
{
	char *end;
	if (strncmp(v, "1.", 2) || v[2] < '0' || v[2] > '2' || v[3] != '.')
		return false;
	if (v[4] < '0' || v[4] > '9')
		return false;
	(void)strtoul(v + 4, &end, 10);
	return *end == 0 || *end == '-' || *end == '+';
}

/* ---- process ------------------------------------------------------------ */

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },	      { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },	      { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },	      { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int parse_rlimits(struct parse *p, struct json_object *a)
{
	struct sandbox_config *c = &p->s->cfg;
	size_t n = json_object_array_length(a);
	if (!n)
		return 0;
	c->rlimits = calloc(n, sizeof(*c->rlimits));
	if (!c->rlimits)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(a, i);
		char where[64];
		snprintf(where, sizeof(where), "process.rlimits[%zu]", i);
		if (json_object_get_type(o) != json_type_object)
			return fail(p, "config.json: %s: expected an object", where);
		const char *type = NULL;
		uint64_t hard = 0, soft = 0;
		int r;
		if ((r = field_string(p, o, where, "type", &type)) < 0 ||
		    (r = field_uint(p, o, where, "hard", UINT64_MAX, &hard)) < 0 ||
		    (r = field_uint(p, o, where, "soft", UINT64_MAX, &soft)) < 0)
			return r;
		int res = -1;
		for (size_t k = 0; type && k < ARRAY_SIZE(rlimit_names); k++)
			if (!strcmp(type, rlimit_names[k].name))
				res = rlimit_names[k].resource;
		if (res < 0)
			return fail(p, "config.json: %s.type: unknown rlimit type \"%s\"", where,
				    type ? type : "");
		if (soft > hard)
			return fail(p, "config.json: %s: soft limit above the hard limit", where);
		c->rlimits[c->nrlimits++] = (struct rlimit_spec){ res, { soft, hard } };
	}
	return 0;
}

static int parse_user(struct parse *p, struct json_object *u)
{
	struct sandbox_config *c = &p->s->cfg;
	uint64_t v;
	int r;
	/* -1 is the kernel's "no change": never an identity. */
	if ((r = field_uint(p, u, "process.user", "uid", UINT32_MAX - 1, &v)) < 0)
		return r;
	c->uid = r ? (uid_t)v : 0;
	if ((r = field_uint(p, u, "process.user", "gid", UINT32_MAX - 1, &v)) < 0)
		return r;
	c->gid = r ? (gid_t)v : 0;
	if ((r = field_uint(p, u, "process.user", "umask", 0777, &v)) < 0)
		return r;
	if (r) {
		c->umask_set = true;
		c->umask = (mode_t)v;
	}
	struct json_object *gids;
	if ((r = field(p, u, "process.user", "additionalGids", json_type_array, &gids)) <= 0)
		return r;
	size_t n = json_object_array_length(gids);
	if (n > 32)
		return fail(p, "config.json: process.user.additionalGids: %zu groups, moat keeps at most 32",
			    n);
	c->groups = calloc(n ? n : 1, sizeof(gid_t));
	if (!c->groups)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(gids, i);
		errno = 0;
		if (json_object_get_type(g) != json_type_int || json_object_get_int64(g) < 0 ||
		    json_object_get_int64(g) >= UINT32_MAX)
			return fail(p, "config.json: process.user.additionalGids[%zu]: expected a gid", i);
		c->groups[c->ngroups++] = (gid_t)json_object_get_int64(g);
	}
	return 0;
}

static int parse_process(struct parse *p, struct json_object *root)
{
	struct sandbox_config *c = &p->s->cfg;
	struct json_object *proc, *v;
	int r = field(p, root, "", "process", json_type_object, &proc);
	if (r < 0)
		return r;
	if (r == 0)
		return fail(p, "config.json: process property must not be empty");
	bool terminal = false;
	if ((r = field_bool(p, proc, "process", "terminal", &terminal)) < 0)
		return r;
	/* A terminal: the engine's, through --console-socket (or moat's own
	 * relay for a foreground `moat run`); docs/terminals.md. */
	c->tty = c->interactive = terminal;
	struct json_object *size;
	if ((r = field(p, proc, "process", "consoleSize", json_type_object, &size)) < 0)
		return r;
	if (r) {
		uint64_t h = 0, w = 0;
		if ((r = field_uint(p, size, "process.consoleSize", "height", 65535, &h)) < 0 ||
		    (r = field_uint(p, size, "process.consoleSize", "width", 65535, &w)) < 0)
			return r;
		c->console_rows = (unsigned short)h;
		c->console_cols = (unsigned short)w;
	}

	if ((r = field(p, proc, "process", "args", json_type_array, &v)) < 0)
		return r;
	size_t argc = r ? json_object_array_length(v) : 0;
	if (argc == 0)
		return fail(p, "config.json: process.args must not be empty");
	if ((r = strings_only(p, v, "process.args")) < 0)
		return r;
	c->argv = calloc(argc + 1, sizeof(char *));
	if (!c->argv)
		return -ENOMEM;
	for (size_t i = 0; i < argc; i++)
		if (!(c->argv[i] = strdup(json_object_get_string(json_object_array_get_idx(v, i)))))
			return -ENOMEM;
	if (!c->argv[0][0])
		return fail(p, "config.json: process.args[0] must not be empty");

	c->env_exact = true;
	if ((r = field(p, proc, "process", "env", json_type_array, &v)) < 0)
		return r;
	if (r) {
		if ((r = strings_only(p, v, "process.env")) < 0)
			return r;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *kv = json_object_get_string(json_object_array_get_idx(v, i));
			if (config_add_env(c, kv) < 0)
				return fail(p, "config.json: process.env[%zu]: expected KEY=VALUE, not \"%s\"",
					    i, kv);
		}
	}

	const char *cwd = NULL;
	if ((r = field_string(p, proc, "process", "cwd", &cwd)) < 0)
		return r;
	if (!cwd || !*cwd)
		return fail(p, "config.json: process.cwd must not be empty");
	if (cwd[0] != '/')
		return fail(p, "config.json: process.cwd %s: must be an absolute path", cwd);
	if (!(c->cwd = strdup(cwd)))
		return -ENOMEM;

	struct json_object *user;
	if ((r = field(p, proc, "process", "user", json_type_object, &user)) < 0)
		return r;
	if (r && (r = parse_user(p, user)) < 0)
		return r;
	if ((r = field(p, proc, "process", "rlimits", json_type_array, &v)) < 0)
		return r;
	if (r && (r = parse_rlimits(p, v)) < 0)
		return r;
	/* noNewPrivileges: moat sets no_new_privs on every guest anyway.
	 * capabilities, apparmorProfile, selinuxLabel, oomScoreAdj,
	 * scheduler, ioPriority: accepted, not applied (the
	 * guest has no capabilities on the host; docs/oci.md). */
	bool nnp;
	return field_bool(p, proc, "process", "noNewPrivileges", &nnp) < 0 ? -EINVAL : 0;
}

/* ---- root, mounts, namespaces --------------------------------------------- */

/* A path of the bundle: absolute as given, else relative to the bundle. */
static char *bundle_path(const struct oci_spec *s, const char *path)
{
	char *out;
	if (path[0] == '/')
		return strdup(path);
	return asprintf(&out, "%s/%s", s->bundle, path) < 0 ? NULL : out;
}

static int parse_root(struct parse *p, struct json_object *root)
{
	struct json_object *r_obj;
	int r = field(p, root, "", "root", json_type_object, &r_obj);
	if (r < 0)
		return r;
	const char *path = NULL;
	if (r && (r = field_string(p, r_obj, "root", "path", &path)) < 0)
		return r;
	if (!path || !*path)
		return fail(p, "config.json: root.path must be set");
	_cleanup_free_ char *full = bundle_path(p->s, path);
	if (!full)
		return -ENOMEM;
	struct stat st;
	if (stat(full, &st) < 0)
		return fail(p, "invalid rootfs: %s: %s", full, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(p, "invalid rootfs: %s: not a directory", full);
	if (!(p->s->rootfs = realpath(full, NULL)) || !(p->s->cfg.rootfs = strdup(p->s->rootfs)))
		return -ENOMEM;
	return field_bool(p, r_obj, "root", "readonly", &p->s->cfg.read_only) < 0 ? -EINVAL : 0;
}

/* Files moat makes for every sandbox itself (its own identity); an
 * engine's bind of its version is not needed. podman's marker
 * /run/.containerenv (empty unless the container is privileged) is left
 * out (docs/oci.md). */
static bool moat_provides_file(const char *dst)
{
	static const char *const own[] = { "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
					   "/run/.containerenv" };
	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		if (!strcmp(dst, own[i]))
			return true;
	return false;
}

static int add_bind(struct parse *p, const char *where, const char *src, const char *dst,
		    struct json_object *opts)
{
	struct sandbox_config *c = &p->s->cfg;
	_cleanup_free_ char *full = bundle_path(p->s, src);
	if (!full)
		return -ENOMEM;
	struct stat st;
	if (stat(full, &st) < 0)
		return fail(p, "config.json: %s: bind source %s: %s", where, full, strerror(errno));
	if (!S_ISDIR(st.st_mode) && moat_provides_file(dst))
		return 0;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return fail(p, "config.json: %s: bind source %s is neither a directory nor a regular file",
			    where, full);
	/* OCI binds are read-write unless "ro" (moat's --bind is the other
	 * way round). Nothing is ever made through a file's
	 * (config_check_binds), so its owner does not matter. */
	bool ro = has_option(opts, "ro");
	if (!ro && S_ISDIR(st.st_mode) && st.st_uid == 0 && !c->bind_owner_set)
		return fail(p,
			    "config.json: %s: read-write bind of %s, which root owns; moat never creates "
			    "files as root: give an owner with the annotation \"" ANNOT_BIND_OWNER
			    "\": \"UID[:GID]\", or bind it \"ro\"",
			    where, full);
	_cleanup_free_ char *spec = NULL;
	if (asprintf(&spec, "%s:%s:%s", full, dst, ro ? "ro" : "rw") < 0)
		return -ENOMEM;
	if (config_add_mount(c, MOUNT_BIND, spec) < 0)
		return fail(p, "config.json: %s: cannot bind %s at %s", where, full, dst);
	return 0;
}

static int parse_mount(struct parse *p, struct json_object *m, size_t i)
{
	char where[48];
	snprintf(where, sizeof(where), "mounts[%zu]", i);
	if (json_object_get_type(m) != json_type_object)
		return fail(p, "config.json: %s: expected an object", where);
	const char *dst = NULL, *type = "", *src = "";
	struct json_object *opts = NULL;
	int r;
	if ((r = field_string(p, m, where, "destination", &dst)) < 0 ||
	    (r = field_string(p, m, where, "type", &type)) < 0 ||
	    (r = field_string(p, m, where, "source", &src)) < 0 ||
	    (r = field(p, m, where, "options", json_type_array, &opts)) < 0)
		return r;
	if (opts && (r = strings_only(p, opts, "mounts[].options")) < 0)
		return r;
	if (!dst || !*dst)
		return fail(p, "config.json: %s.destination must be set", where);
	/* runtime-spec 1.0 allowed relative destinations (to the root). */
	_cleanup_free_ char *abs_dst = NULL;
	if (asprintf(&abs_dst, "%s%s", dst[0] == '/' ? "" : "/", dst) < 0)
		return -ENOMEM;
	if (!strcmp(type, "bind") || has_option(opts, "bind") || has_option(opts, "rbind")) {
		if (!*src)
			return fail(p, "config.json: %s: a bind mount needs a source", where);
		/* An engine's per-container /dev/shm (podman binds a tmpfs of
		 * its own): moat's shm is already the sandbox's alone. */
		if (!strcmp(abs_dst, "/dev/shm"))
			return 0;
		return add_bind(p, where, src, abs_dst, opts);
	}
	if (!strcmp(type, "tmpfs")) {
		/* moat mounts its own devfs at /dev and a tmpfs at /dev/shm. */
		if (!strcmp(abs_dst, "/dev") || !strcmp(abs_dst, "/dev/shm"))
			return 0;
		/* The options moat has a meaning for; propagation and the
		 * like (rprivate, tmpcopyup) have none in its VFS. */
		const char *keep[16];
		size_t nkeep = 0, n = opts ? json_object_array_length(opts) : 0;
		for (size_t k = 0; k < n && nkeep < ARRAY_SIZE(keep); k++) {
			const char *o = json_object_get_string(json_object_array_get_idx(opts, k));
			if (!strncmp(o, "size=", 5) || !strncmp(o, "mode=", 5) || !strcmp(o, "ro") ||
			    !strcmp(o, "rw") || !strcmp(o, "noexec") || !strcmp(o, "exec"))
				keep[nkeep++] = o;
		}
		if ((r = config_add_tmpfs(&p->s->cfg, abs_dst, keep, nkeep)) < 0)
			return r == -ENOMEM ? r
					    : fail(p, "config.json: %s: a tmpfs option is not valid "
						      "(size=N[k|m|g], 4k or more; mode=OCTAL)", where);
		return 0;
	}
	if (!strcmp(type, "proc")) {
		if (strcmp(abs_dst, "/proc"))
			return fail(p, "config.json: %s: proc only at /proc (moat's own procfs)", where);
		return 0;
	}
	/* Provided by moat where it has them, else not there yet: sysfs,
	 * cgroup (no /sys yet), devpts (no terminals yet), mqueue (the
	 * guest's own IPC namespace; no filesystem). docs/oci.md. */
	static const char *const accepted[] = { "sysfs", "cgroup", "cgroup2", "devpts", "mqueue" };
	for (size_t k = 0; k < ARRAY_SIZE(accepted); k++)
		if (!strcmp(type, accepted[k]))
			return 0;
	return fail(p, "config.json: %s: mount type \"%s\" at %s is not supported", where, type, abs_dst);
}

static int parse_mounts(struct parse *p, struct json_object *root)
{
	struct json_object *a;
	int r = field(p, root, "", "mounts", json_type_array, &a);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if ((r = parse_mount(p, json_object_array_get_idx(a, i), i)) < 0)
			return r;
	return 0;
}

static int parse_linux(struct parse *p, struct json_object *root)
{
	static const char *const known[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup" };
	struct json_object *lx, *ns;
	int r = field(p, root, "", "linux", json_type_object, &lx);
	if (r <= 0)
		return r;
	if ((r = field(p, lx, "linux", "namespaces", json_type_array, &ns)) <= 0)
		return r;
	/* moat always gives the container its own pid, mount, network, IPC,
	 * UTS and cgroup namespaces (and its own host uid in place of a user
	 * namespace): a list asking for fewer still gets them all. */
	for (size_t i = 0; i < json_object_array_length(ns); i++) {
		struct json_object *n = json_object_array_get_idx(ns, i);
		char where[48];
		const char *type = NULL, *path = NULL;
		snprintf(where, sizeof(where), "linux.namespaces[%zu]", i);
		if (json_object_get_type(n) != json_type_object)
			return fail(p, "config.json: %s: expected an object", where);
		if ((r = field_string(p, n, where, "type", &type)) < 0 ||
		    (r = field_string(p, n, where, "path", &path)) < 0)
			return r;
		bool ok = false;
		for (size_t k = 0; type && k < ARRAY_SIZE(known); k++)
			ok |= !strcmp(type, known[k]);
		if (type && !strcmp(type, "time"))
			return fail(p, "config.json: %s: moat gives no container a time namespace yet", where);
		if (!ok)
			return fail(p, "config.json: %s: unknown namespace type \"%s\"", where,
				    type ? type : "");
		/* An engine's network namespace (podman's, a pod's) is not
		 * joined: the container has moat's network, chosen by moat's
		 * own --net (docs/oci.md). */
		if (path && *path && strcmp(type, "network"))
			return fail(p,
				    "config.json: %s: joining the %s namespace at %s is not supported "
				    "(every moat container is a sandbox of its own)",
				    where, type, path);
	}
	return 0;
}

/* linux.seccomp: the profile reader of `moat run --seccomp-profile`
 * (syscalls/profile.c), so both accept and refuse the same things, compiled
 * into the filter the command stacks on the table's right before its exec
 * (after `start`'s byte). An unknown syscall name where leaving it out
 * would allow more is an error naming it; it never makes a weaker filter. */
static int parse_seccomp(struct parse *p, struct json_object *root)
{
	static const char *const flags_known[] = {
		/* TSYNC: the command is single-threaded when it installs the
		 * filter; LOG: logging only; SPEC_ALLOW would weaken the
		 * kernel's speculation mitigations, so it is left off (stricter);
		 * WAIT_KILLABLE_RECV is about notifications, which moat refuses. */
		"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
		"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
	};
	struct json_object *lx, *sc, *flags;
	int r = field(p, root, "", "linux", json_type_object, &lx);
	if (r <= 0)
		return r;
	if ((r = field(p, lx, "linux", "seccomp", json_type_object, &sc)) <= 0)
		return r;
	if ((r = field(p, sc, "linux.seccomp", "flags", json_type_array, &flags)) < 0)
		return r;
	for (size_t i = 0; r > 0 && i < json_object_array_length(flags); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(flags, i));
		bool ok = false;
		for (size_t k = 0; f && k < ARRAY_SIZE(flags_known); k++)
			ok |= !strcmp(f, flags_known[k]);
		if (!ok)
			return fail(p, "config.json: linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
				    f ? f : "");
	}
	struct seccomp_profile prof;
	char err[512];
	if ((r = profile_parse_json(sc, "linux.seccomp", &prof, err, sizeof(err), stderr)) < 0)
		return r == -ENOMEM ? r : fail(p, "config.json: %s", err);
	struct sock_filter *prog;
	unsigned short len;
	r = profile_compile(&prof, &prog, &len);
	profile_free(&prof);
	if (r < 0)
		return fail(p, "config.json: linux.seccomp: cannot make a filter of it: %s", strerror(-r));
	p->s->seccomp = prog;
	p->s->cfg.profile_filter = prog;
	p->s->cfg.profile_filter_len = len;
	return 0;
}

/* A signed number (OCI's int64 resources, where -1 means no limit). */
static int field_int(struct parse *p, struct json_object *obj, const char *where, const char *key,
		     int64_t *ret)
{
	struct json_object *v;
	int r = field(p, obj, where, key, json_type_int, &v);
	if (r <= 0)
		return r;
	if (json_object_get_type(v) == json_type_double)
		return fail(p, "config.json: %s.%s: expected a whole number", where, key);
	*ret = json_object_get_int64(v);
	return 1;
}

/* linux.resources: the cgroup limits runc applies, onto the same limits
 * as moat run's options (sentry/sandbox/cgroup.c). Absent or not positive:
 * no limit, as in runc (a container gets no defaults of moat run's). */
static int parse_resources(struct parse *p, struct json_object *root)
{
	struct sandbox_limits *l = &p->s->cfg.limits;
	struct json_object *lx, *res, *o;
	int r = field(p, root, "", "linux", json_type_object, &lx);
	if (r <= 0)
		return r;
	if ((r = field(p, lx, "linux", "resources", json_type_object, &res)) <= 0)
		return r;
	int64_t v = 0;
	if ((r = field(p, res, "linux.resources", "memory", json_type_object, &o)) < 0)
		return r;
	if (r && (r = field_int(p, o, "linux.resources.memory", "limit", &v)) < 0)
		return r;
	if (r > 0 && v > 0) {
		if (v < (4 << 20))
			return fail(p, "config.json: linux.resources.memory.limit: at least 4 MiB");
		l->memory = (uint64_t)v;
	}
	if ((r = field(p, res, "linux.resources", "pids", json_type_object, &o)) < 0)
		return r;
	v = 0;
	if (r && (r = field_int(p, o, "linux.resources.pids", "limit", &v)) < 0)
		return r;
	if (r > 0 && v > 0)
		l->pids = (uint64_t)v;
	if ((r = field(p, res, "linux.resources", "cpu", json_type_object, &o)) < 0)
		return r;
	if (r) {
		int64_t quota = 0;
		uint64_t period = 0, shares = 0;
		if ((r = field_int(p, o, "linux.resources.cpu", "quota", &quota)) < 0 ||
		    (r = field_uint(p, o, "linux.resources.cpu", "period", 1000000, &period)) < 0 ||
		    (r = field_uint(p, o, "linux.resources.cpu", "shares", 262144, &shares)) < 0)
			return r;
		if (quota > 0) {
			if (!period)
				period = LIMIT_CPU_PERIOD_US;
			if (period < 1000 || quota < 1000)
				return fail(p, "config.json: linux.resources.cpu: quota and period of at "
					       "least 1000 us");
			l->cpu_quota_us = (uint64_t)quota;
			l->cpu_period_us = period;
		}
		l->cpu_shares = shares;
	}
	return 0;
}

static int parse_annotations(struct parse *p, struct json_object *root)
{
	struct json_object *a;
	int r = field(p, root, "", "annotations", json_type_object, &a);
	if (r < 0)
		return r;
	p->s->annotations = r ? json_object_get(a) : json_object_new_object();
	if (!p->s->annotations)
		return -ENOMEM;
	json_object_object_foreach(p->s->annotations, key, val) {
		if (json_object_get_type(val) != json_type_string)
			return fail(p, "config.json: annotations.%s: expected a string", key);
	}
	const char *owner;
	if (field_string(p, p->s->annotations, "annotations", ANNOT_BIND_OWNER, &owner) > 0) {
		struct sandbox_config *c = &p->s->cfg;
		if (config_parse_owner(owner, &c->bind_uid, &c->bind_gid) < 0)
			return fail(p, "config.json: annotations." ANNOT_BIND_OWNER
				       ": expected UID[:GID], numbers from 1 to 4294967294 (never root)");
		c->bind_owner_set = true;
	}
	return 0;
}

static int parse_identity(struct parse *p, struct json_object *root)
{
	struct sandbox_config *c = &p->s->cfg;
	const char *v = NULL;
	int r;
	if ((r = field_string(p, root, "", "hostname", &v)) < 0)
		return r;
	if (v && *v) {
		if (strlen(v) > 64)
			return fail(p, "config.json: hostname: at most 64 characters");
		if (!(c->hostname = strdup(v)))
			return -ENOMEM;
	}
	v = NULL;
	if ((r = field_string(p, root, "", "domainname", &v)) < 0)
		return r;
	if (v && *v) {
		if (strlen(v) > 64)
			return fail(p, "config.json: domainname: at most 64 characters");
		if (!(c->domainname = strdup(v)))
			return -ENOMEM;
	}
	return 0;
}

/* hooks: each kind an array of {path (absolute), args, env, timeout > 0},
 * kept as given for the lifecycle to run (sentry/oci/hooks.c). */
static int parse_hooks(struct parse *p, struct json_object *root)
{
	static const char *const kinds[] = { "prestart", "createRuntime", "createContainer",
					     "startContainer", "poststart", "poststop" };
	struct json_object *h;
	int r = field(p, root, "", "hooks", json_type_object, &h);
	if (r <= 0)
		return r;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		struct json_object *a;
		char where[64];
		snprintf(where, sizeof(where), "hooks");
		if ((r = field(p, h, where, kinds[k], json_type_array, &a)) < 0)
			return r;
		for (size_t i = 0; r > 0 && i < json_object_array_length(a); i++) {
			struct json_object *e = json_object_array_get_idx(a, i), *v;
			snprintf(where, sizeof(where), "hooks.%s[%zu]", kinds[k], i);
			if (json_object_get_type(e) != json_type_object)
				return fail(p, "config.json: %s: expected an object", where);
			const char *path = NULL;
			if ((r = field_string(p, e, where, "path", &path)) < 0)
				return r;
			if (!path || path[0] != '/')
				return fail(p, "config.json: %s.path: must be an absolute path", where);
			if ((r = field(p, e, where, "args", json_type_array, &v)) < 0 ||
			    (r > 0 && (r = strings_only(p, v, where)) < 0))
				return r;
			if ((r = field(p, e, where, "env", json_type_array, &v)) < 0 ||
			    (r > 0 && (r = strings_only(p, v, where)) < 0))
				return r;
			if (json_object_object_get_ex(e, "timeout", &v) &&
			    (json_object_get_type(v) != json_type_int || json_object_get_int64(v) <= 0))
				return fail(p, "config.json: %s.timeout: must be a number of seconds above 0",
					    where);
			r = 1;
		}
	}
	p->s->hooks = json_object_get(h);
	return 0;
}

static int parse_config(struct parse *p, const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		if (jerr == json_tokener_success || jerr == json_tokener_continue)
			return fail(p, "config.json: invalid JSON: unexpected end of the file");
		return fail(p, "config.json: invalid JSON at byte %zu: %s", off,
			    json_tokener_error_desc(jerr));
	}
	/* Trailing text after the object is an error, as for Go's decoder
	 * only if it is not whitespace. */
	for (size_t i = off; i < len; i++)
		if (!strchr(" \t\r\n", text[i])) {
			json_object_put(root);
			return fail(p, "config.json: invalid JSON: text after the object at byte %zu", i);
		}
	int r;
	const char *version = NULL;
	if (json_object_get_type(root) != json_type_object)
		r = fail(p, "config.json: expected an object, not %s",
			 type_name(json_object_get_type(root)));
	else if ((r = field_string(p, root, "", "ociVersion", &version)) >= 0 && !version)
		r = fail(p, "config.json: ociVersion must be set");
	else if (r >= 0 && !version_supported(version))
		r = fail(p, "config.json: unsupported ociVersion \"%s\" (moat reads " OCI_VERSION_MIN
			    " to 1.2.x)",
			 version);
	else if (r >= 0 && !(p->s->version = strdup(version)))
		r = -ENOMEM;
	if (r >= 0)
		r = parse_annotations(p, root);
	if (r >= 0)
		r = parse_process(p, root);
	if (r >= 0)
		r = parse_root(p, root);
	if (r >= 0)
		r = parse_identity(p, root);
	if (r >= 0)
		r = parse_mounts(p, root);
	if (r >= 0)
		r = parse_linux(p, root);
	if (r >= 0)
		r = parse_resources(p, root);
	if (r >= 0)
		r = parse_hooks(p, root);
	if (r >= 0)
		r = parse_seccomp(p, root);
	/* the rest of linux.resources, sysctl,
	 * maskedPaths, readonlyPaths, devices, uid/gid mappings: later
	 * issues; accepted and not applied (docs/oci.md). */
	json_object_put(root);
	return r;
}

int oci_spec_load(const char *bundle, struct oci_spec *ret, char *err, size_t errlen)
{
	struct oci_spec s = { 0 };
	struct parse p = { .s = &s, .err = err, .errlen = errlen };
	int r;
	err[0] = 0;
	struct stat st;
	if (stat(bundle, &st) < 0) {
		r = neg_errno();
		snprintf(err, errlen, "bundle %s: %s", bundle, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "bundle %s: not a directory", bundle);
		return -ENOTDIR;
	}
	if (!(s.bundle = realpath(bundle, NULL)))
		return -ENOMEM;
	_cleanup_close_ int dfd = open(s.bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	ssize_t n = dfd < 0 ? neg_errno() : read_file_at(dfd, "config.json", &text, CONFIG_MAX);
	if (n == -ENOENT) {
		snprintf(err, errlen, "JSON specification file config.json not found in %s", s.bundle);
		r = -ENOENT;
	} else if (n < 0) {
		snprintf(err, errlen, "%s/config.json: %s", s.bundle, strerror((int)-n));
		r = (int)n;
	} else if ((size_t)n >= CONFIG_MAX) {
		snprintf(err, errlen, "%s/config.json: larger than %d bytes", s.bundle, CONFIG_MAX);
		r = -EFBIG;
	} else if (oci_spec_preset && (r = oci_spec_preset(&s.cfg, err, errlen)) < 0) {
		/* err says why */
	} else {
		r = parse_config(&p, text, (size_t)n);
	}
	if (r == 0) {
		char why[PATH_MAX + 256];
		if ((r = config_check_binds(&s.cfg, why, sizeof(why))) < 0)
			snprintf(err, errlen, "config.json: %s", why);
	}
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "config.json: %s", strerror(-r));
		oci_spec_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int oci_process_load(const char *path, struct oci_spec *ret, char *err, size_t errlen)
{
	struct oci_spec s = { 0 };
	struct parse p = { .s = &s, .err = err, .errlen = errlen };
	err[0] = 0;
	_cleanup_free_ char *text = NULL;
	ssize_t n = read_file_at(AT_FDCWD, path, &text, CONFIG_MAX);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror((int)-n));
		return (int)n;
	}
	struct json_object *proc = json_tokener_parse(text);
	if (!proc || json_object_get_type(proc) != json_type_object) {
		json_object_put(proc);
		snprintf(err, errlen, "%s: expected a JSON object", path);
		return -EINVAL;
	}
	/* Parsed as config.json's process, so the errors name its fields. */
	struct json_object *root = json_object_new_object();
	json_object_object_add(root, "process", proc);
	int r = parse_process(&p, root);
	json_object_put(root);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		oci_spec_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

void oci_spec_free(struct oci_spec *s)
{
	if (s->cfg.argv)
		for (char **a = s->cfg.argv; *a; a++)
			free(*a);
	free(s->cfg.argv);
	s->cfg.argv = NULL;
	config_free(&s->cfg);
	free(s->version);
	free(s->bundle);
	free(s->rootfs);
	json_object_put(s->annotations);
	json_object_put(s->hooks);
	free(s->seccomp);
	*s = (struct oci_spec){ 0 };
}
