/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include "syscalls/handlers.h"

long sys_uname(struct sysreq *r) { return -ENOSYS; }
long sys_sethostname(struct sysreq *r) { return -ENOSYS; }
long sys_sysinfo(struct sysreq *r) { return -ENOSYS; }
