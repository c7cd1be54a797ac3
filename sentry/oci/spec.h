/* SPDX-License-Identifier: MIT */
/* An OCI bundle's config.json, read with json-c and mapped onto what moat
 * runs (struct sandbox_config). What moat does with each field, and what it
 * ignores, is listed in docs/oci.md; unknown fields are ignored, as runc
 * does. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "sentry/sandbox/config.h"

struct json_object;

struct oci_spec {
	struct sandbox_config cfg; /* cfg.argv is owned here */
	char *version;             /* ociVersion */
	char *bundle;              /* absolute */
	char *rootfs;              /* absolute */
	struct json_object *annotations; /* an object, possibly empty */
	struct json_object *hooks;       /* config.json's hooks, checked; or NULL */
	struct sock_filter *seccomp;     /* linux.seccomp compiled (cfg.profile_filter), or NULL */
};

/* If set, fills a container's config before config.json is read (moat's
 * runtime options: sentry/cmd/runtime_opts.c); 0 or -errno with err. */
extern int (*oci_spec_preset)(struct sandbox_config *cfg, char *err, size_t errlen);

/* Read BUNDLE/config.json. On error, a one-line reason in err (phrased for
 * the user: which field, what is wrong) and -errno. */
int oci_spec_load(const char *bundle, struct oci_spec *ret, char *err, size_t errlen);
void oci_spec_free(struct oci_spec *s);
/* `moat exec --process FILE`: a process object as config.json's, into
 * s->cfg (argv, env, cwd, user, terminal, consoleSize, rlimits). */
int oci_process_load(const char *path, struct oci_spec *ret, char *err, size_t errlen);

/* Keep a named sandbox's process defaults for `moat exec` (process.c):
 * <root>/<id>/process.json, the command's environment, cwd and identity
 * in config.json's "process" shape. 0 or -errno. */
int oci_process_save(const char *id, const struct sandbox_config *cfg);

/* The config.json `runc spec` writes (runtime-spec 1.2.0: sh with a
 * terminal, a read-only rootfs/, runc's mounts and namespaces), or its
 * rootless variant. */
struct json_object *oci_spec_default(bool rootless);

/* The oldest and newest ociVersion moat reads ("1.2.x": any patch). */
#define OCI_VERSION_MIN "1.0.0"
#define OCI_VERSION_MAX "1.2.1"
#define OCI_VERSION_SPEC "1.2.0"
