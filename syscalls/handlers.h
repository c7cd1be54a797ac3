/* SPDX-License-Identifier: MIT */
/* Handlers of emulated syscalls, one file per family. Each takes the request
 * (registers, calling task in req->task == current) and returns a value >= 0,
 * -errno, or SYSRET_DONE / SYSRET_CONTINUE / SYSRET_FD (platform.h). The dispatcher
 * (dispatch.c) passes every errno through a whitelist (sys_errno_filter);
 * anything unexpected reaches the guest as -EIO. Handlers run with the
 * sentry lock. */
#pragma once
#include <limits.h>
#include "platform/platform.h"

/* Read path argument `addr` into buf (PATH_MAX). "" gives -ENOENT unless
 * allow_empty. Returns 0 or -errno. */
int req_path(struct sysreq *r, uint64_t addr, char *buf, bool allow_empty);

/* sys_open.c */
long sys_open(struct sysreq *r);      /* open, openat, openat2, creat */
/* sys_stat.c */
long sys_stat(struct sysreq *r);      /* stat, lstat, newfstatat, fstat */
long sys_statx(struct sysreq *r);
long sys_access(struct sysreq *r);    /* access, faccessat, faccessat2 */
long sys_readlink(struct sysreq *r);  /* readlink, readlinkat */
long sys_statfs(struct sysreq *r);    /* statfs, fstatfs */
/* sys_dents.c */
long sys_getdents(struct sysreq *r);  /* getdents, getdents64 */
/* sys_cwd.c */
long sys_chdir(struct sysreq *r);     /* chdir, fchdir */
long sys_getcwd(struct sysreq *r);
long sys_chroot(struct sysreq *r);
/* sys_dir.c */
long sys_mkdir(struct sysreq *r);     /* mkdir, mkdirat */
long sys_mknod(struct sysreq *r);     /* mknod, mknodat */
long sys_unlink(struct sysreq *r);    /* unlink, unlinkat, rmdir */
long sys_rename(struct sysreq *r);    /* rename, renameat, renameat2 */
long sys_symlink(struct sysreq *r);   /* symlink, symlinkat */
long sys_link(struct sysreq *r);      /* link, linkat */
/* sys_attr.c */
long sys_chmod(struct sysreq *r);     /* chmod, fchmod, fchmodat, fchmodat2 */
long sys_chown(struct sysreq *r);     /* chown, fchown, lchown, fchownat */
long sys_utimes(struct sysreq *r);    /* utime, utimes, futimesat, utimensat */
long sys_truncate(struct sysreq *r);
long sys_umask(struct sysreq *r);
long sys_xattr(struct sysreq *r);     /* the xattr family */
/* sys_id.c */
long sys_getid(struct sysreq *r);     /* getuid, geteuid, getgid, getegid */
long sys_getresid(struct sysreq *r);  /* getresuid, getresgid */
long sys_getgroups(struct sysreq *r);
long sys_setid(struct sysreq *r);     /* setuid ... setgroups, setfsuid, setfsgid */
long sys_capget(struct sysreq *r);
/* sys_info.c */
long sys_uname(struct sysreq *r);
long sys_sethostname(struct sysreq *r); /* sethostname, setdomainname */
long sys_sysinfo(struct sysreq *r);
/* sys_proc.c */
long sys_clone(struct sysreq *r);     /* clone, fork, vfork */
long sys_sched_affinity(struct sysreq *r); /* sched_getaffinity, sched_setaffinity */
long sys_prctl_dumpable(struct sysreq *r); /* prctl PR_GET_DUMPABLE, PR_SET_DUMPABLE */
long sys_deny(struct sysreq *r);      /* audited denial: answers -entry->err */
/* sys_socket.c */
long sys_socket(struct sysreq *r);    /* AF_INET/AF_INET6 types, AF_NETLINK protocols */
long sys_setsockopt(struct sysreq *r); /* host-wide options, SO_BINDTODEVICE */
long sys_getsockopt(struct sysreq *r); /* SO_PEERCRED, SO_PEERGROUPS */
/* sys_inet.c */
long sys_shutdown(struct sysreq *r);
long sys_sockioctl(struct sysreq *r); /* ioctl's SIOCGIF* requests */
/* sys_unix.c */
long sys_bind(struct sysreq *r);
long sys_connect(struct sysreq *r);
long sys_sockname(struct sysreq *r);  /* getsockname, getpeername */
/* sys_unix_send.c */
long sys_sendto(struct sysreq *r);    /* with an address */
long sys_sendmsg(struct sysreq *r);
long sys_sendmmsg(struct sysreq *r);
/* sys_signal.c */
long sys_kill(struct sysreq *r);      /* kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo */
long sys_pidfd_send_signal(struct sysreq *r);
/* sys_lock.c */
long sys_flock(struct sysreq *r);
long sys_fcntl_lock(struct sysreq *r); /* fcntl's record-lock commands */
/* sys_inotify.c */
long sys_inotify_add_watch(struct sysreq *r);
/* sys_exec.c */
long sys_execve(struct sysreq *r);    /* execve, execveat */
