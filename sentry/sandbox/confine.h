/* SPDX-License-Identifier: MIT */
/* The sentry's confinement of itself after setup (confine.c). */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

/* Move the calling (single-threaded) sentry into its own mount namespace
 * whose root holds only the host's /proc and the device nodes devfs hands
 * out. Needs CAP_SYS_ADMIN; call after the view is built and before the
 * capabilities go. 0 or -errno (logged). */
int sentry_confine_mounts(void);

/* Become the sandbox's own unprivileged host uid/gid (the guest's: it can
 * then trace, signal and read only the sandbox's processes) with no
 * capability at all, or with only CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
 * when `dac` (the view serves host files with ordinary permissions), and
 * no_new_privs. Call while single-threaded, after sentry_confine_mounts.
 * 0 or -errno. */
int sentry_drop_privileges(uid_t uid, gid_t gid, bool dac);
