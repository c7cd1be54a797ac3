/* SPDX-License-Identifier: MIT */
/* The config.json `moat spec` writes: runc's (`runc spec`, runtime-spec
 * 1.2.0), field for field and in Go's field order, so that tools and
 * tutorials written for runc's starter file work with moat's. */
#include "sentry/oci/spec.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/cleanup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static struct json_object *str(const char *s) { return json_object_new_string(s); }

static struct json_object *strings(const char *const *v)
{
	struct json_object *a = json_object_new_array();
	for (; *v; v++)
		json_object_array_add(a, str(*v));
	return a;
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static struct json_object *mount(const char *dst, const char *type, const char *src,
				 const char *const *opts)
{
	struct json_object *m = json_object_new_object();
	add(m, "destination", str(dst));
	add(m, "type", str(type));
	add(m, "source", str(src));
	if (opts && *opts)
		add(m, "options", strings(opts));
	return m;
}

/* runc adds a cgroup namespace on a unified (v2) hierarchy only. */
static bool cgroup2_unified(void)
{
	struct statfs sf;
	return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static struct json_object *process(void)
{
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
	static const char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL
	};
	static const char *const args[] = { "sh", NULL };
	struct json_object *p = json_object_new_object(), *user = json_object_new_object();
	struct json_object *c = json_object_new_object(), *rl = json_object_new_object();
	struct json_object *rls = json_object_new_array();
	add(p, "terminal", json_object_new_boolean(true));
	add(user, "uid", json_object_new_int(0));
	add(user, "gid", json_object_new_int(0));
	add(p, "user", user);
	add(p, "args", strings(args));
	add(p, "env", strings(env));
	add(p, "cwd", str("/"));
	add(c, "bounding", strings(caps));
	add(c, "effective", strings(caps));
	add(c, "permitted", strings(caps));
	add(p, "capabilities", c);
	add(rl, "type", str("RLIMIT_NOFILE"));
	add(rl, "hard", json_object_new_int(1024));
	add(rl, "soft", json_object_new_int(1024));
	json_object_array_add(rls, rl);
	add(p, "rlimits", rls);
	add(p, "noNewPrivileges", json_object_new_boolean(true));
	return p;
}

static struct json_object *mounts(bool rootless)
{
	/* Rootless: no uid=/gid= options, and /sys is a read-only rbind of
	 * the host's (runc's ToRootless). */
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
	static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
					   "gid=5", NULL };
	static const char *const pts_rootless[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
						    "mode=0620", NULL };
	static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
	static const char *const mq[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const sys_rootless[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, mount("/proc", "proc", "proc", NULL));
	json_object_array_add(a, mount("/dev", "tmpfs", "tmpfs", dev));
	json_object_array_add(a, mount("/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts));
	json_object_array_add(a, mount("/dev/shm", "tmpfs", "shm", shm));
	json_object_array_add(a, mount("/dev/mqueue", "mqueue", "mqueue", mq));
	if (rootless) {
		struct json_object *m = json_object_new_object();
		add(m, "destination", str("/sys"));
		add(m, "type", str("none"));
		add(m, "source", str("/sys"));
		add(m, "options", strings(sys_rootless));
		json_object_array_add(a, m);
	} else {
		json_object_array_add(a, mount("/sys", "sysfs", "sysfs", sys));
	}
	json_object_array_add(a, mount("/sys/fs/cgroup", "cgroup", "cgroup", cg));
	return a;
}

static struct json_object *id_mapping(unsigned host)
{
	struct json_object *a = json_object_new_array(), *m = json_object_new_object();
	add(m, "containerID", json_object_new_int(0));
	add(m, "hostID", json_object_new_int64(host));
	add(m, "size", json_object_new_int(1));
	json_object_array_add(a, m);
	return a;
}

static struct json_object *linux_section(bool rootless)
{
	static const char *const masked[] = { "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
					      "/proc/latency_stats", "/proc/timer_list",
					      "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
					      "/proc/scsi", NULL };
	static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					  "/proc/sysrq-trigger", NULL };
	struct json_object *l = json_object_new_object(), *ns = json_object_new_array();
	if (rootless) {
		add(l, "uidMappings", id_mapping(geteuid()));
		add(l, "gidMappings", id_mapping(getegid()));
	} else {
		struct json_object *res = json_object_new_object(), *devs = json_object_new_array();
		struct json_object *d = json_object_new_object();
		add(d, "allow", json_object_new_boolean(false));
		add(d, "access", str("rwm"));
		json_object_array_add(devs, d);
		add(res, "devices", devs);
		add(l, "resources", res);
	}
	const char *types[8];
	size_t n = 0;
	types[n++] = "pid";
	if (!rootless)
		types[n++] = "network";
	types[n++] = "ipc";
	types[n++] = "uts";
	types[n++] = "mount";
	if (cgroup2_unified())
		types[n++] = "cgroup";
	if (rootless)
		types[n++] = "user";
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		add(o, "type", str(types[i]));
		json_object_array_add(ns, o);
	}
	add(l, "namespaces", ns);
	add(l, "maskedPaths", strings(masked));
	add(l, "readonlyPaths", strings(ro));
	return l;
}

struct json_object *oci_spec_default(bool rootless)
{
	struct json_object *s = json_object_new_object(), *root = json_object_new_object();
	add(s, "ociVersion", str(OCI_VERSION_SPEC));
	add(s, "process", process());
	add(root, "path", str("rootfs"));
	add(root, "readonly", json_object_new_boolean(true));
	add(s, "root", root);
	add(s, "hostname", str("runc"));
	add(s, "mounts", mounts(rootless));
	add(s, "linux", linux_section(rootless));
	return s;
}
