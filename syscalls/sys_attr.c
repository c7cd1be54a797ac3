/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include "syscalls/handlers.h"

long sys_chmod(struct sysreq *r) { return -ENOSYS; }
long sys_chown(struct sysreq *r) { return -ENOSYS; }
long sys_utimes(struct sysreq *r) { return -ENOSYS; }
long sys_truncate(struct sysreq *r) { return -ENOSYS; }
long sys_umask(struct sysreq *r) { return -ENOSYS; }
long sys_xattr(struct sysreq *r) { return -ENOSYS; }
