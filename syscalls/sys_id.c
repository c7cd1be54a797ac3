/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include "syscalls/handlers.h"

long sys_getid(struct sysreq *r) { return -ENOSYS; }
long sys_getresid(struct sysreq *r) { return -ENOSYS; }
long sys_getgroups(struct sysreq *r) { return -ENOSYS; }
long sys_setid(struct sysreq *r) { return -ENOSYS; }
long sys_capget(struct sysreq *r) { return -ENOSYS; }
