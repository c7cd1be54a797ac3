/* SPDX-License-Identifier: MIT */
#pragma once
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
};

/* Decide the gofer's exports for cfg; fills gcfg's export list. */
int view_exports(struct sandbox_config *cfg, struct view *v, struct gofer_config *gcfg);
/* Build the sentry's mount tree over the running gofer. Sentry lock held. */
int view_mount(struct sandbox_config *cfg, struct view *v, struct gofer_client *gc);
