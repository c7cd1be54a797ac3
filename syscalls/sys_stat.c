/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include "syscalls/handlers.h"

long sys_stat(struct sysreq *r) { return -ENOSYS; }
long sys_statx(struct sysreq *r) { return -ENOSYS; }
long sys_access(struct sysreq *r) { return -ENOSYS; }
long sys_readlink(struct sysreq *r) { return -ENOSYS; }
long sys_statfs(struct sysreq *r) { return -ENOSYS; }
