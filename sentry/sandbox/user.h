/* SPDX-License-Identifier: MIT */
/* `moat run --user USER[:GROUP]` against the sandbox's own user database
 * (user.c). */
#pragma once
#include <stddef.h>
#include "sentry/sandbox/config.h"

/* Resolve spec ("name", "uid", "name:group", "uid:gid", either part a
 * name or a number) against /etc/passwd and /etc/group of the sandbox's
 * root (cfg->rootfs, else the host's, read inside it), and set cfg's uid,
 * gid, supplementary groups and home. As Docker: a user missing from
 * /etc/passwd is allowed only as a number, with gid 0 unless one is given
 * and no supplementary groups; a known user gets its primary group and
 * every group that lists it. On error, a one-line message in why and
 * -errno (-ENOENT: an unknown name). */
int user_resolve(struct sandbox_config *cfg, const char *spec, char *why, size_t len);
