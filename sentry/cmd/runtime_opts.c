/* SPDX-License-Identifier: MIT */
/* moat's own options for engines (docs/oci.md, "Runtime options"): any of
 * `moat run`'s long options given before the verb (`podman --runtime-flag
 * net=sandbox` passes `--net=sandbox`), or as a key of the config file
 * (/etc/moat/config.json, or --config FILE). Precedence per key: a flag of
 * `moat run` after the verb > a global flag > the config file > the
 * default; a key given at one level replaces all of its values from the
 * levels below (for the repeatable ones, such as --allow-net, too).
 *
 * Everything is parsed by `moat run`'s own option parser: the options are
 * turned back into "--key=value" arguments. For `moat run -- CMD` they are
 * put before the command line's own; for an OCI container (create, run)
 * they go through run_sandbox() with a prepare callback that takes the
 * checked config and stops, and the fields a config.json does not cover
 * (network and its policy, audit log, bind owner, host uid range, disk,
 * timeout) are copied into the container's config before config.json is
 * read (so a read-write bind of a root-owned directory can use
 * --bind-owner). The others (mounts, env, limits...) are config.json's: as
 * global flags of an OCI verb they are an error; in the config file they
 * apply to `moat run -- CMD` only. */
#include "sentry/cmd/runtime_opts.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/cmd/cmd.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/sandbox/config.h"

#define CONFIG_FILE_MAX (1 << 20)

/* run's long options without a value that make sense before the verb or
 * in the config file (-t, -i, --help do not). */
static const char *const no_arg[] = { "read-only", "allow-all-egress", NULL };

/* The keys an OCI container takes from here; config.json has the rest. */
static const char *const for_containers[] = {
	"net", "allow-net", "deny-net", "allow-host", "allow-all-egress", "publish", "dns", "net-fastpath",
	"audit-log", "bind-owner", "host-uid-range", "disk", "timeout", NULL,
};

struct opt {
	char *key;
	char *arg; /* "--key=value" or "--key" */
};

struct level {
	struct opt *v;
	size_t n;
};

static struct level flags, file;
static const char *config_path = RUNTIME_CONFIG_DEFAULT;
static bool config_path_given, file_loaded;

static bool in(const char *const *list, const char *s, size_t n)
{
	for (; *list; list++)
		if (strlen(*list) == n && !strncmp(*list, s, n))
			return true;
	return false;
}

static bool takes_arg(const char *key, size_t n) { return in(run_options_with_arg, key, n); }

static bool known(const char *key, size_t n) { return takes_arg(key, n) || in(no_arg, key, n); }

static int level_add(struct level *l, const char *key, const char *value)
{
	struct opt *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	struct opt *o = &v[l->n];
	o->key = strdup(key);
	o->arg = NULL;
	if (!o->key || (value ? asprintf(&o->arg, "--%s=%s", key, value) : asprintf(&o->arg, "--%s", key)) < 0) {
		free(o->key);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static bool level_has(const struct level *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return true;
	return false;
}

int runtime_opts_flag(int argc, char **argv, int *i, char *err, size_t errlen)
{
	const char *a = argv[*i];
	if (strncmp(a, "--", 2))
		return 0;
	const char *name = a + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	if (n == 6 && !strncmp(name, "config", 6)) {
		if (!eq && *i + 1 >= argc) {
			snprintf(err, errlen, "option needs a value: %s", a);
			return -EINVAL;
		}
		config_path = eq ? eq + 1 : argv[++*i];
		config_path_given = true;
		return 1;
	}
	if (!known(name, n))
		return 0;
	_cleanup_free_ char *key = strndup(name, n);
	if (!key)
		return -ENOMEM;
	const char *value = NULL;
	if (takes_arg(name, n)) {
		if (eq)
			value = eq + 1;
		else if (*i + 1 < argc)
			value = argv[++*i];
		else {
			snprintf(err, errlen, "option needs a value: %s", a);
			return -EINVAL;
		}
	} else if (eq) {
		snprintf(err, errlen, "--%s takes no value", key);
		return -EINVAL;
	}
	int r = level_add(&flags, key, value);
	return r < 0 ? r : 1;
}

static int file_value(const char *key, json_object *v, char *err, size_t errlen)
{
	bool arg = takes_arg(key, strlen(key));
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		if (arg)
			break;
		return json_object_get_boolean(v) ? level_add(&file, key, NULL) : 0;
	case json_type_string:
		if (!arg)
			break;
		return level_add(&file, key, json_object_get_string(v));
	case json_type_int:
	case json_type_double:
		if (!arg)
			break;
		/* json-c prints numbers as they were written. */
		return level_add(&file, key, json_object_get_string(v));
	case json_type_array:
		if (!arg)
			break;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);
			if (!json_object_is_type(e, json_type_string)) {
				snprintf(err, errlen, "%s: \"%s\"[%zu]: expected a string", config_path, key, i);
				return -EINVAL;
			}
			int r = level_add(&file, key, json_object_get_string(e));
			if (r < 0)
				return r;
		}
		return 0;
	default:
		break;
	}
	snprintf(err, errlen, "%s: \"%s\": expected %s", config_path, key,
		 arg ? "a string, a number or an array of strings" : "true or false");
	return -EINVAL;
}

/* The config file, once: absent is fine unless --config named it. */
static int load_file(char *err, size_t errlen)
{
	if (file_loaded)
		return 0;
	file_loaded = true;
	_cleanup_free_ char *text = NULL;
	ssize_t len = read_file_at(AT_FDCWD, config_path, &text, CONFIG_FILE_MAX);
	if (len == -ENOENT && !config_path_given)
		return 0;
	if (len < 0) {
		snprintf(err, errlen, "%s: %s", config_path, strerror((int)-len));
		return (int)len;
	}
	int r;
	if ((size_t)len >= CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", config_path, CONFIG_FILE_MAX);
		return -EFBIG;
	}
	enum json_tokener_error je;
	json_object *root = json_tokener_parse_verbose(text, &je);
	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "%s: %s", config_path,
			 root ? "expected a JSON object" : json_tokener_error_desc(je));
		json_object_put(root);
		return -EINVAL;
	}
	r = 0;
	json_object_object_foreach(root, key, v)
	{
		if (!known(key, strlen(key))) {
			snprintf(err, errlen, "%s: unknown key \"%s\" (keys are moat run's long options)",
				 config_path, key);
			r = -EINVAL;
			break;
		}
		if ((r = file_value(key, v, err, errlen)) < 0)
			break;
	}
	json_object_put(root);
	return r;
}

/* The options of both levels, a flag's key replacing the file's, and none
 * whose key `skip` says is given at a higher level. */
static int merged(bool (*skip)(const char *key, void *ctx), void *ctx, char ***ret, size_t *ret_n,
		  char *err, size_t errlen)
{
	int r = load_file(err, errlen);
	if (r < 0)
		return r;
	char **v = calloc(flags.n + file.n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < file.n; i++)
		if (!level_has(&flags, file.v[i].key) && !(skip && skip(file.v[i].key, ctx)))
			v[n++] = file.v[i].arg;
	for (size_t i = 0; i < flags.n; i++)
		if (!(skip && skip(flags.v[i].key, ctx)))
			v[n++] = flags.v[i].arg;
	*ret = v;
	*ret_n = n;
	return 0;
}

struct given {
	int argc;
	char **argv;
};

/* Is --key among the command line's own options (before its command)? */
static bool given_after_verb(const char *key, void *ctx)
{
	const struct given *g = ctx;
	size_t n = strlen(key);
	for (int i = 1; i < g->argc; i++) {
		const char *a = g->argv[i];
		if (!strcmp(a, "--") || a[0] != '-')
			return false;
		if (!strncmp(a, "--", 2) && !strncmp(a + 2, key, n) && (a[2 + n] == 0 || a[2 + n] == '='))
			return true;
		/* A value given apart ("--net none") is not the command. */
		if (!strncmp(a, "--", 2) && !strchr(a, '=') && takes_arg(a + 2, strlen(a + 2)))
			i++;
		else if (!strcmp(a, "-u"))
			i++;
	}
	return false;
}

int runtime_opts_argv(int argc, char **argv, int *ret_argc, char ***ret_argv, char *err, size_t errlen)
{
	struct given g = { argc, argv };
	_cleanup_free_ char **pre = NULL;
	size_t n;
	int r = merged(given_after_verb, &g, &pre, &n, err, errlen);
	if (r < 0)
		return r;
	char **v = calloc((size_t)argc + n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[0] = argv[0];
	memcpy(v + 1, pre, n * sizeof(*v));
	memcpy(v + 1 + n, argv + 1, (size_t)(argc - 1) * sizeof(*v));
	*ret_argc = argc + (int)n;
	*ret_argv = v;
	return 0;
}

static bool not_for_containers(const char *key, void *ctx)
{
	(void)ctx;
	return !in(for_containers, key, strlen(key));
}

/* run_sandbox's prepare: keep the checked config, do not run. */
#define CAPTURED 255
static int capture(struct sandbox_config *cfg, void *ctx)
{
	struct sandbox_config *into = ctx;
	into->net = cfg->net;
	cfg->net = (struct net_config){ 0 };
	into->audit_log = cfg->audit_log;
	cfg->audit_log = NULL;
	into->bind_owner_set = cfg->bind_owner_set;
	into->bind_uid = cfg->bind_uid;
	into->bind_gid = cfg->bind_gid;
	into->host_uid_start = cfg->host_uid_start;
	into->host_uid_count = cfg->host_uid_count;
	into->disk_bytes = cfg->disk_bytes;
	into->timeout_ms = cfg->timeout_ms;
	config_free(cfg);
	return CAPTURED;
}

int runtime_opts_container(struct sandbox_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < flags.n; i++)
		if (not_for_containers(flags.v[i].key, NULL)) {
			snprintf(err, errlen, "--%s: a container's comes from its config.json", flags.v[i].key);
			return -EINVAL;
		}
	_cleanup_free_ char **pre = NULL;
	size_t n;
	int r = merged(not_for_containers, NULL, &pre, &n, err, errlen);
	if (r < 0 || !n)
		return r;
	/* run_sandbox(verb, ["runtime-options", OPTS..., "--", "true"]); its
	 * own errors go to stderr in its words; the caller adds one line. */
	_cleanup_free_ char **v = calloc(n + 4, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[0] = (char *)"runtime-options";
	memcpy(v + 1, pre, n * sizeof(*v));
	v[n + 1] = (char *)"--";
	v[n + 2] = (char *)"true";
	r = run_sandbox_presets(false);
	int status = run_sandbox("runtime-options", (int)n + 3, v, capture, cfg);
	run_sandbox_presets(r);
	if (status != CAPTURED) {
		snprintf(err, errlen, "moat's runtime options (flags before the verb, %s) are not valid",
			 config_path);
		return -EINVAL;
	}
	return 0;
}
