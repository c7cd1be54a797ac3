/* SPDX-License-Identifier: MIT */
/* The one entry from the sentry's notification loop into the syscall layer:
 * find the table entry and the calling task, run the handler (or the
 * table's default, an audited denial), pass every errno through the
 * whitelist, and answer. The kernel core (sentry/kernel/) includes this and
 * no handler. */
#pragma once

struct sysreq;

/* Handle one notification, from its lookup to its reply. Takes the sentry
 * lock for the handler and holds a reference on the calling task for the
 * handler's whole life (task.h). */
void sys_dispatch(struct sysreq *r);

/* The errnos a guest may see from an emulated call; anything else becomes
 * -EIO (values >= 0 pass unchanged). */
long sys_errno_filter(long ret);
