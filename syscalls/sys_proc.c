/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include "syscalls/handlers.h"

long sys_clone(struct sysreq *r) { return -ENOSYS; }
long sys_deny(struct sysreq *r) { return -ENOSYS; }
