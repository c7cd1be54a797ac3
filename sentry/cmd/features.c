/* SPDX-License-Identifier: MIT */
/* `moat features`: what this runtime supports, in the runtime-spec's
 * features.md shape (as `runc features` prints it, four-space indent).
 * Only what moat really does is claimed: see docs/oci.md. */
#include <json-c/json.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "sentry/cmd/cmd.h"
#include "sentry/oci/jsonout.h"
#include "sentry/oci/spec.h"
#include "sentry/oci/state.h"

static struct json_object *strings(const char *const *v)
{
	struct json_object *a = json_object_new_array();
	for (; *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static struct json_object *enabled(bool on)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "enabled", json_object_new_boolean(on));
	return o;
}

int command_features(int argc, char **argv)
{
	static const char *const mount_options[] = { "bind", "rbind", "ro", "rw", NULL };
	static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "user", "uts",
						  NULL };
	static const char *const none[] = { NULL };
	if (oci_log_open() < 0)
		return 1;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("Usage: moat features\nPrint what this runtime supports, as JSON.");
		return 0;
	}
	int r = oci_check_args("features", argc - 1, 0, OCI_ARGS_EXACT);
	if (r)
		return r;
	struct json_object *f = json_object_new_object(), *lx = json_object_new_object();
	struct json_object *cg = json_object_new_object(), *an = json_object_new_object();
	json_object_object_add(f, "ociVersionMin", json_object_new_string(OCI_VERSION_MIN));
	json_object_object_add(f, "ociVersionMax", json_object_new_string(OCI_VERSION_MAX));
	/* No hooks are run yet: an empty list says so (absent means unknown). */
	json_object_object_add(f, "hooks", strings(none));
	json_object_object_add(f, "mountOptions", strings(mount_options));
	json_object_object_add(lx, "namespaces", strings(namespaces));
	/* linux.resources' memory, pids and cpu limits (docs/limits.md). */
	json_object_object_add(cg, "v1", json_object_new_boolean(true));
	json_object_object_add(cg, "v2", json_object_new_boolean(true));
	json_object_object_add(cg, "systemd", json_object_new_boolean(false));
	json_object_object_add(cg, "systemdUser", json_object_new_boolean(false));
	json_object_object_add(cg, "rdma", json_object_new_boolean(false));
	json_object_object_add(lx, "cgroup", cg);
	/* linux.seccomp is not applied yet (moat's own filter always is). */
	json_object_object_add(lx, "seccomp", enabled(false));
	json_object_object_add(lx, "apparmor", enabled(false));
	json_object_object_add(lx, "selinux", enabled(false));
	json_object_object_add(f, "linux", lx);
	const struct scmp_version *v = seccomp_version();
	char buf[32];
	snprintf(buf, sizeof(buf), "%u.%u.%u", v->major, v->minor, v->micro);
	json_object_object_add(an, "moat.libseccomp.version", json_object_new_string(buf));
	json_object_object_add(an, "moat.version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(f, "annotations", an);
	r = oci_json_print(stdout, f, "    ");
	putchar('\n');
	json_object_put(f);
	return r == 0 && fflush(stdout) == 0 ? 0 : oci_fail("features: cannot write the output");
}
