/* SPDX-License-Identifier: MIT */
/* moat's own options before the verb and in the config file
 * (runtime_opts.c, docs/oci.md "Runtime options"). */
#pragma once
#include <stddef.h>

#define RUNTIME_CONFIG_DEFAULT "/etc/moat/config.json"

struct sandbox_config;

/* argv[*i], a global option: --config FILE, or one of `moat run`'s long
 * options (--net=sandbox, --allow-net CIDR, ...), kept for later. 1 if it
 * was one (*i moved past its value), 0 if not, -errno with err. */
int runtime_opts_flag(int argc, char **argv, int *i, char *err, size_t errlen);
/* `moat run -- CMD`: argv with the config file's and the global options
 * inserted after argv[0], less the keys argv gives itself. */
int runtime_opts_argv(int argc, char **argv, int *ret_argc, char ***ret_argv, char *err,
		      size_t errlen);
/* An OCI container: the options config.json does not cover, checked by
 * `moat run`'s parser, into cfg (before config.json is read). */
int runtime_opts_container(struct sandbox_config *cfg, char *err, size_t errlen);
