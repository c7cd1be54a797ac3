/* SPDX-License-Identifier: MIT */
/* The sentry's confinement of itself after setup (confine.c). */
#pragma once
#include <stdbool.h>

/* Move the calling (single-threaded) sentry into its own mount namespace
 * whose root holds only the host's /proc and the device nodes devfs hands
 * out. Needs CAP_SYS_ADMIN; call after the view is built and before the
 * capabilities go. 0 or -errno (logged). */
int sentry_confine_mounts(void);
