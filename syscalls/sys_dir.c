/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include "syscalls/handlers.h"

long sys_getdents(struct sysreq *r) { return -ENOSYS; }
long sys_chdir(struct sysreq *r) { return -ENOSYS; }
long sys_getcwd(struct sysreq *r) { return -ENOSYS; }
long sys_mkdir(struct sysreq *r) { return -ENOSYS; }
long sys_mknod(struct sysreq *r) { return -ENOSYS; }
long sys_unlink(struct sysreq *r) { return -ENOSYS; }
long sys_rename(struct sysreq *r) { return -ENOSYS; }
long sys_symlink(struct sysreq *r) { return -ENOSYS; }
long sys_link(struct sysreq *r) { return -ENOSYS; }
long sys_chroot(struct sysreq *r) { return -ENOSYS; }
