/* SPDX-License-Identifier: MIT */
/* The runtime-spec's lifecycle hooks (hooks.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct json_object;
struct oci_state;

/* Run config.json's hooks of one kind ("prestart", "createRuntime",
 * "createContainer", "startContainer", "poststart", "poststop"), in order,
 * each with the container's state on stdin (runtime-spec's: ociVersion,
 * id, status, pid, bundle, annotations), its env exactly, and its timeout.
 * hooks is config.json's hooks object (NULL: none); st gives the state and
 * pid the reported pid. The container's kinds (createContainer,
 * startContainer) run in the sandbox's network, IPC and UTS namespaces
 * (those of pid 1, init_pid) and the host's mount namespace: see
 * docs/oci.md. Stops at the first failure: -errno with err saying which
 * hook and why ("exit status 1", "timed out after 2s"). */
int oci_hooks_run(struct json_object *hooks, const char *kind, const struct oci_state *st,
		  const char *status, pid_t pid, pid_t init_pid, char *err, size_t errlen);

/* poststart and poststop: a failure is a warning, and the lifecycle goes
 * on (runtime-spec). */
void oci_hooks_poststart(struct json_object *hooks, const struct oci_state *st);
void oci_hooks_poststop(struct json_object *hooks, const struct oci_state *st);
