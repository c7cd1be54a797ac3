/* SPDX-License-Identifier: MIT */
/* libslirp, loaded by the network helper alone (slirp_dl.c). */
#pragma once
#include <stddef.h>
#include <slirp/libslirp.h>

/* The libslirp entry points the helper uses, resolved at load. */
struct slirp_api {
	__typeof__(slirp_new) *new_;
	__typeof__(slirp_input) *input;
	__typeof__(slirp_pollfds_fill) *pollfds_fill;
	__typeof__(slirp_pollfds_poll) *pollfds_poll;
	__typeof__(slirp_add_hostfwd) *add_hostfwd;
	__typeof__(slirp_add_hostxfwd) *add_hostxfwd;
};

/* Load libslirp (and glib with it) into this process and fill *api. Done
 * by the helper before it drops its filesystem. Returns 0, or -ENOENT with
 * the loader's reason in why. */
int slirp_api_load(struct slirp_api *api, char *why, size_t len);
