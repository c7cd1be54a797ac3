/* SPDX-License-Identifier: MIT */
/* libslirp is opened with dlopen() by the network helper instead of being
 * linked into moat: linked, it and glib (with pcre2) were loaded into every
 * moat process, the sentry, the gofer and the sandbox's pid 1 included,
 * which use none of it. glib's constructors ran in each, and its
 * relocated pages were a private copy per process (about 0.7 MiB of the
 * sentry's resident set, and part of every start). systemd loads its
 * optional libraries the same way. RTLD_NOW: every symbol is bound while
 * the helper still has a filesystem and no seccomp allowlist. */
#include "net/slirp_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

/* The soname of Debian's libslirp0 (libslirp's ABI 0, from 4.0 on). */
#define SLIRP_SONAME "libslirp.so.0"

int slirp_api_load(struct slirp_api *api, char *why, size_t len)
{
	void *h = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, len, "network helper: load %s (install libslirp0): %s", SLIRP_SONAME, dlerror());
		return -ENOENT;
	}
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
		{ "slirp_new", offsetof(struct slirp_api, new_) },
		{ "slirp_input", offsetof(struct slirp_api, input) },
		{ "slirp_pollfds_fill", offsetof(struct slirp_api, pollfds_fill) },
		{ "slirp_pollfds_poll", offsetof(struct slirp_api, pollfds_poll) },
		{ "slirp_add_hostfwd", offsetof(struct slirp_api, add_hostfwd) },
		{ "slirp_add_hostxfwd", offsetof(struct slirp_api, add_hostxfwd) },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(h, syms[i].name);
		if (!p) {
			snprintf(why, len, "network helper: %s has no %s: %s", SLIRP_SONAME, syms[i].name,
				 dlerror());
			dlclose(h);
			return -ENOENT;
		}
		*(void **)((char *)api + syms[i].off) = p;
	}
	/* Never closed: the helper uses it until it exits. */
	return 0;
}
