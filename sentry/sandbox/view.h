/* SPDX-License-Identifier: MIT */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "sentry/sandbox/config.h"
#include "gofer/gofer.h"

struct vnode;

struct exports {
	struct gofer_export *v;
	size_t n;
};

struct view {
	struct exports ex;
	struct vnode *root;
	int upper_idx; /* --upper's export, -1: none */
};

/* Decide the gofer's exports for cfg; fills gcfg's export list. */
int view_exports(struct sandbox_config *cfg, struct view *v, struct gofer_config *gcfg);
/* The sandbox's disk: the store every in-memory filesystem keeps its files
 * in (--disk, less the --tmpfs mounts with sizes of their own, which get
 * stores of their own). Before view_mount; the sandbox's host uid known.
 * -EINVAL (said why) when the sizes do not fit. */
int view_disk_init(const struct sandbox_config *cfg);
/* Build the sentry's mount tree over the running gofer. Sentry lock held.
 * A mount of the user's that cannot be made is said in one line, which
 * names it, and gives VIEW_REPORTED. */
#define VIEW_REPORTED (-ECANCELED)
int view_mount(struct sandbox_config *cfg, struct view *v, struct gofer_client *gc);
/* Does the view serve host files with ordinary permissions (a container
 * --rootfs, a --bind), which the sentry, an unprivileged host uid, can only
 * open with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH? Host system files
 * (MNT_HOSTPERM) need no capability: they are read as "other". */
bool view_needs_host_dac(const struct sandbox_config *cfg);
/* The sandbox is over (the gofer still runs): tidy the host (--upper's
 * work directory). Sentry lock held. */
void view_finish(struct view *v);
