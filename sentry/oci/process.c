/* SPDX-License-Identifier: MIT */
/* A named sandbox's process defaults (`moat run --name`): what `moat exec
 * NAME CMD` starts its commands with, kept as <root>/<id>/process.json in
 * the shape of config.json's "process" object, so exec reads it as it
 * reads `--process FILE` (oci_process_load). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/oci/spec.h"
#include "sentry/oci/state.h"
#include "sentry/sandbox/sandbox.h"

static void json_putp(struct json_object **o)
{
	json_object_put(*o);
}

static struct json_object *strings(char *const *v)
{
	struct json_object *a = json_object_new_array();
	for (; a && v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

int oci_process_save(const char *id, const struct sandbox_config *cfg)
{
	_cleanup_(strv_freep) char **env = sandbox_env(cfg);
	if (!env)
		return -ENOMEM;
	/* An idle sandbox has no command: exec replaces args anyway, and
	 * the shape wants one. */
	static char *const idle[] = { "sh", NULL };
	__attribute__((cleanup(json_putp))) struct json_object *p = json_object_new_object();
	struct json_object *user = json_object_new_object();
	if (!p || !user)
		return -ENOMEM;
	json_object_object_add(p, "terminal", json_object_new_boolean(false));
	json_object_object_add(p, "args", strings(cfg->argv ? cfg->argv : idle));
	json_object_object_add(p, "env", strings(env));
	json_object_object_add(p, "cwd", json_object_new_string(cfg->cwd ? cfg->cwd : "/"));
	json_object_object_add(user, "uid", json_object_new_int64(cfg->uid));
	json_object_object_add(user, "gid", json_object_new_int64(cfg->gid));
	if (cfg->umask_set)
		json_object_object_add(user, "umask", json_object_new_int64(cfg->umask));
	struct json_object *gids = json_object_new_array();
	for (size_t i = 0; gids && i < cfg->ngroups; i++)
		json_object_array_add(gids, json_object_new_int64(cfg->groups[i]));
	json_object_object_add(user, "additionalGids", gids);
	json_object_object_add(p, "user", user);
	const char *text = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN);
	char path[PATH_MAX];
	int r = oci_path(path, sizeof(path), id, "process.json");
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return neg_errno();
	return write_all(fd, text, strlen(text));
}
