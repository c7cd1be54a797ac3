/* SPDX-License-Identifier: MIT */
/* The syscall table: one entry per x86-64 syscall number, with its
 * disposition, argument rules and a one-line note. Everything else is derived
 * from it: the guest's BPF filter (filter.c), `moat syscalls`, the
 * compatibility table in docs/syscalls.md and the sentry's dispatch.
 *
 * Rules of thumb used below (docs/architecture.md, "The syscall table"):
 * - PASS only what acts on memory, time, signals inside the sandbox, or fds
 *   moat handed out, and whose decision never depends on guest memory.
 * - Anything that names a path, an identity or host-wide state is EMULATED.
 * - Denials use the errno an unprivileged Linux process would see:
 *   EPERM for privileged operations, ENOSYS for facilities moat does not
 *   offer. Denials of things a hostile guest would try are audited
 *   (SYSF_AUDIT: notified, answered by sys_deny, which writes the record);
 *   denials that ordinary programs probe and fall back from (clone3,
 *   never-implemented calls) are answered by the filter.
 * - Numbers missing from the table are SYS_UNKNOWN: ENOSYS from the filter.
 *
 * Argument rules (PASS and EMULATE): the disposition applies when ANY rule
 * matches; otherwise the call fails with .err (or, with SYSF_AUDIT, is
 * notified and denied). All rules of one entry test the same argument;
 * filter.c relies on that. Arguments the kernel reads as int are compared on
 * their low 32 bits (mask 0xffffffff), exactly what the kernel acts on. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
/* The kernel's own ioctl numbers; glibc's <termios.h> is not included, so
 * struct termios2 (needed by TCGETS2 and friends) comes from here. */
#include <asm/ioctls.h>
#include <asm/termbits.h>

#include "syscalls/handlers.h"
#include "syscalls/table.h"

#define M32 0xffffffffULL
/* A rule on an int argument: its low 32 bits equal v. */
#define R32(arg, v) { .argno = (arg), .mask = M32, .value = (uint32_t)(v) }
/* A rule on a whole register (a pointer): it equals v. */
#define R64(arg, v) { .argno = (arg), .mask = 0, .value = (uint64_t)(v) }
/* The same, but a match goes to the entry's handler (see table.h). */
#define R32_NOTIFY(arg, v) { .argno = (arg), .notify = true, .mask = M32, .value = (uint32_t)(v) }
/* Rules with their count, so the two never disagree. */
#define RULES(...)                                                  \
	.rules = (const struct sys_argrule[]){ __VA_ARGS__ },        \
	.nrules = sizeof((struct sys_argrule[]){ __VA_ARGS__ }) /   \
		  sizeof(struct sys_argrule)

#define ENTRY(nr_, ...) [__NR_##nr_] = { .name = #nr_, __VA_ARGS__ }

#define PASS(nr_, fl_, note_) \
	ENTRY(nr_, .disp = SYS_PASS, .flags = (fl_), .note = (note_))
/* PASS when a rule matches, else err_ from the filter. */
#define PASS_IF(nr_, fl_, err_, note_, ...)                                  \
	ENTRY(nr_, .disp = SYS_PASS, .flags = (fl_), .err = (err_),          \
	      .note = (note_), RULES(__VA_ARGS__))
/* PASS when a rule matches, else notified and denied with err_ after an
 * audit record. */
#define PASS_IF_AUDIT(nr_, fl_, err_, note_, ...)                            \
	ENTRY(nr_, .disp = SYS_PASS, .flags = SYSF_AUDIT | (fl_),            \
	      .err = (err_), .handler = sys_deny, .note = (note_),           \
	      RULES(__VA_ARGS__))
#define EMU(nr_, h_, fl_, note_)                                              \
	ENTRY(nr_, .disp = SYS_EMULATE, .handler = (h_), .flags = (fl_),     \
	      .note = (note_))
/* Notified when a rule matches, else err_ from the filter. */
#define EMU_IF(nr_, h_, fl_, err_, note_, ...)                                \
	ENTRY(nr_, .disp = SYS_EMULATE, .handler = (h_), .flags = (fl_),     \
	      .err = (err_), .note = (note_), RULES(__VA_ARGS__))
#define EXEC(nr_, fl_, note_)                                                 \
	ENTRY(nr_, .disp = SYS_EXEC, .handler = sys_execve, .flags = (fl_),  \
	      .note = (note_))
/* Denied by the filter itself, silently. */
#define DENY(nr_, err_, fl_, note_) \
	ENTRY(nr_, .disp = SYS_DENY, .err = (err_), .flags = (fl_), .note = (note_))
/* Denied by the sentry after an audit record. */
#define DENY_AUDIT(nr_, err_, fl_, note_)                                     \
	ENTRY(nr_, .disp = SYS_DENY, .err = (err_),                          \
	      .flags = SYSF_AUDIT | (fl_), .handler = sys_deny, .note = (note_))

#define P SYSF_PATH
#define F SYSF_FD
/* The ptrace platform's tracer may run the handler itself (table.h). */
#define I SYSF_INLINE

/* Namespace flags a guest clone may never carry. CLONE_NEWTIME (0x80) lies
 * inside CSIGNAL for clone(2) and exists only for clone3/unshare, both
 * refused. */
#define CLONE_NS_FLAGS                                                         \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/* Terminal and generic fd ioctls. Everything else gets ENOTTY, in
 * particular TIOCSTI (inject input into the terminal the guest may share
 * with the user), TIOCSETD (other line disciplines: kernel code nobody
 * needs here), TIOCLINUX, TIOCCONS and TIOCVHANGUP (and, unneeded so far,
 * TIOCPKT and the TIOC*EXCL requests). The pty requests (TIOCGPTN,
 * TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER) act on masters
 * of the sandbox's own devpts, the only ones a guest can open
 * (docs/terminals.md). TIOCSCTTY takes a terminal no session has (stealing
 * one, arg 1, needs CAP_SYS_ADMIN, which the guest never has): a pty of
 * the sandbox's, or a terminal the caller of moat passed in as stdio that
 * is nobody's controlling terminal. */
#define IOCTL_RULES                                                            \
	R32(1, TCGETS), R32(1, TCSETS), R32(1, TCSETSW), R32(1, TCSETSF),      \
	R32(1, TCGETS2), R32(1, TCSETS2), R32(1, TCSETSW2), R32(1, TCSETSF2),  \
	R32(1, TCSBRK), R32(1, TCSBRKP), R32(1, TCXONC), R32(1, TCFLSH),       \
	R32(1, TIOCGWINSZ), R32(1, TIOCSWINSZ), R32(1, TIOCGPGRP),             \
	R32(1, TIOCSPGRP), R32(1, TIOCGSID), R32(1, TIOCOUTQ),                 \
	R32(1, TIOCGETD), R32(1, FIONREAD), R32(1, FIONBIO), R32(1, FIOCLEX),  \
	R32(1, FIONCLEX), R32(1, FIOASYNC), R32(1, TIOCSCTTY),                 \
	R32(1, TIOCNOTTY), R32(1, TIOCGPTN), R32(1, TIOCSPTLCK),               \
	R32(1, TIOCGPTLCK), R32(1, TIOCGPTPEER)

/* Interface queries on a socket (if_nametoindex, if_indextoname,
 * getifaddrs' fallbacks), answered for the guest's own netns: notified and
 * performed by the sentry on its copy of the socket, since a TCP
 * fast-path socket is the host's and would list the host's interfaces
 * (syscalls/sys_inet.c); a CONTINUE would let a sibling thread put one at
 * the fd's number meanwhile. Every SIOCSIF* setter stays refused. */
#define SOCKIOCTL_RULES                                                        \
	R32_NOTIFY(1, SIOCGIFNAME), R32_NOTIFY(1, SIOCGIFCONF),                \
	R32_NOTIFY(1, SIOCGIFFLAGS), R32_NOTIFY(1, SIOCGIFADDR),               \
	R32_NOTIFY(1, SIOCGIFBRDADDR), R32_NOTIFY(1, SIOCGIFNETMASK),          \
	R32_NOTIFY(1, SIOCGIFMTU), R32_NOTIFY(1, SIOCGIFHWADDR),               \
	R32_NOTIFY(1, SIOCGIFINDEX), R32_NOTIFY(1, SIOCGIFTXQLEN),             \
	R32(1, SIOCATMARK)

/* prctl options that act on the caller only and cannot widen what it may
 * do. Refused among others: PR_SET_MM (rewrites the mm's layout),
 * PR_SET_PTRACER, PR_CAP_AMBIENT, PR_SET_SECUREBITS, PR_SET_KEEPCAPS.
 * The dumpable flag is the sentry's (sys_prctl_dumpable). */
#define PRCTL_RULES                                                            \
	R32(0, PR_SET_NAME), R32(0, PR_GET_NAME), R32(0, PR_SET_PDEATHSIG),    \
	R32(0, PR_GET_PDEATHSIG), R32_NOTIFY(0, PR_GET_DUMPABLE),              \
	R32_NOTIFY(0, PR_SET_DUMPABLE), R32(0, PR_SET_NO_NEW_PRIVS),           \
	R32(0, PR_GET_NO_NEW_PRIVS), R32(0, PR_GET_SECCOMP),                   \
	R32(0, PR_SET_SECCOMP), R32(0, PR_CAPBSET_READ),                       \
	R32(0, PR_GET_SECUREBITS), R32(0, PR_SET_CHILD_SUBREAPER),             \
	R32(0, PR_GET_CHILD_SUBREAPER), R32(0, PR_SET_TIMERSLACK),             \
	R32(0, PR_GET_TIMERSLACK), R32(0, PR_SET_THP_DISABLE),                 \
	R32(0, PR_GET_THP_DISABLE), R32(0, PR_SET_VMA),                        \
	R32(0, PR_GET_TID_ADDRESS)

/* fcntl's record-lock commands go to sys_fcntl_lock (a POSIX lock on a host
 * file would reach the host's inode and the host processes locking it);
 * every other command runs natively (SYSF_ELSE_PASS). On x86-64 the
 * F_*LK64 commands are the same numbers. */
#define FCNTL_LOCK_RULES                                                       \
	R32_NOTIFY(1, F_GETLK), R32_NOTIFY(1, F_SETLK), R32_NOTIFY(1, F_SETLKW), \
	R32_NOTIFY(1, F_OFD_GETLK), R32_NOTIFY(1, F_OFD_SETLK),                \
	R32_NOTIFY(1, F_OFD_SETLKW)

/* AF_NETLINK goes to sys_socket, which allows NETLINK_ROUTE and
 * NETLINK_SOCK_DIAG only: other families reach host-wide state (uevent
 * sockets receive the host's device events, audit, netfilter...).
 * AF_INET and AF_INET6 go there too, which refuses SOCK_RAW and
 * SOCK_PACKET with EPERM whatever the guest's capabilities (ping works
 * through ICMP datagram sockets), and AF_PACKET, refused with EPERM: what
 * Linux tells an unprivileged process for all three. Every other family
 * gets EAFNOSUPPORT from the filter: as a kernel without it. */
#define SOCKET_RULES                                                           \
	R32(0, AF_UNIX), R32_NOTIFY(0, AF_INET), R32_NOTIFY(0, AF_INET6),      \
	R32_NOTIFY(0, AF_NETLINK), R32_NOTIFY(0, AF_PACKET)

/* setsockopt options that reach beyond the socket (routing marks,
 * transparent proxying, buffer sizes above the host's limits: all
 * capability-gated, refused here whatever the guest holds) and
 * SO_BINDTODEVICE (the device name is in guest memory, so the sentry
 * checks it and sets it on its own copy of the socket) go to
 * sys_setsockopt, which looks at the level too; the rest pass. */
#define SETSOCKOPT_RULES                                                       \
	R32_NOTIFY(2, SO_BINDTODEVICE), R32_NOTIFY(2, SO_BINDTOIFINDEX),       \
	R32_NOTIFY(2, SO_MARK),                                                \
	R32_NOTIFY(2, SO_SNDBUFFORCE), R32_NOTIFY(2, SO_RCVBUFFORCE),          \
	R32_NOTIFY(2, IP_TRANSPARENT), R32_NOTIFY(2, IPV6_TRANSPARENT)

#define NOTE_SOCKADDR \
	"a path AF_UNIX address names a socket file in the sentry's VFS (syscalls/sys_unix.c); any other address is the kernel's, in the guest's own netns; with the TCP fast path on, performed by the sentry on its copy of the socket, a TCP connect to the outside on a host socket the network helper made (syscalls/sys_inet.c)"

const struct sys_entry sys_table[SYS_TABLE_SIZE] = {
	PASS(read, F, "data on a host fd moat handed out"),
	PASS(write, F, "data on a host fd moat handed out"),
	EMU(open, sys_open, P | I, "resolved in the sentry's VFS; the fd is installed with ADDFD+SEND"),
	PASS(close, F, "host fd table"),
	EMU(stat, sys_stat, P | I, "attributes come from the sentry's VFS"),
	EMU(fstat, sys_stat, F | I, "the host answer would show host inode, device and owner"),
	EMU(lstat, sys_stat, P | I, "attributes come from the sentry's VFS"),
	PASS(poll, F, "readiness of host fds"),
	PASS(lseek, F, "host file offset"),
	PASS(mmap, F, "memory of the guest's own mm"),
	PASS(mprotect, 0, "memory of the guest's own mm"),
	PASS(munmap, 0, "memory of the guest's own mm"),
	PASS(brk, 0, "memory of the guest's own mm"),
	PASS(rt_sigaction, 0, "signals stay inside the sandbox"),
	PASS(rt_sigprocmask, 0, "signals stay inside the sandbox"),
	PASS(rt_sigreturn, 0, "signals stay inside the sandbox"),
	ENTRY(ioctl, .disp = SYS_PASS, .flags = F, .err = ENOTTY, .handler = sys_sockioctl,
	      .note = "terminal, generic fd and socket requests only (low 32 bits compared); others ENOTTY, TIOCSTI among them; socket interface queries (SIOCGIF*) are performed by the sentry on its copy of the socket, for the guest's netns",
	      RULES(IOCTL_RULES, SOCKIOCTL_RULES)),
	PASS(pread64, F, "data on a host fd moat handed out"),
	PASS(pwrite64, F, "data on a host fd moat handed out"),
	PASS(readv, F, "data on a host fd moat handed out"),
	PASS(writev, F, "data on a host fd moat handed out"),
	EMU(access, sys_access, P | I, "permission check against the sandbox's credentials"),
	PASS(pipe, 0, "anonymous host pipe"),
	PASS(select, F, "readiness of host fds"),
	PASS(sched_yield, 0, "scheduler hint"),
	PASS(mremap, 0, "memory of the guest's own mm"),
	PASS(msync, 0, "memory of the guest's own mm"),
	PASS(mincore, 0, "memory of the guest's own mm"),
	PASS(madvise, 0, "memory of the guest's own mm; privileged advice fails in the kernel"),
	PASS(shmget, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(shmat, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(shmctl, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(dup, F, "host fd table"),
	PASS(dup2, F, "host fd table"),
	PASS(pause, 0, "waits for a signal"),
	PASS(nanosleep, 0, "time"),
	PASS(getitimer, 0, "per-process timers"),
	PASS(alarm, 0, "per-process timers"),
	PASS(setitimer, 0, "per-process timers"),
	PASS(getpid, 0, "pid in the guest's own pid namespace"),
	PASS(sendfile, F, "between host fds moat handed out"),
	ENTRY(socket, .disp = SYS_PASS, .err = EAFNOSUPPORT, .handler = sys_socket,
	      .note = "AF_UNIX, AF_INET, AF_INET6, else EAFNOSUPPORT; AF_INET/AF_INET6 are notified and SOCK_RAW/SOCK_PACKET refused (EPERM, audited); AF_PACKET is notified and refused (EPERM, audited), as for an unprivileged process; AF_NETLINK is notified and only NETLINK_ROUTE and NETLINK_SOCK_DIAG are let through (EPROTONOSUPPORT); sockets live in the guest's own netns",
	      RULES(SOCKET_RULES)),
	EMU(connect, sys_connect, F, NOTE_SOCKADDR),
	PASS(accept, F, "on a host socket in the guest's own netns"),
	ENTRY(sendto, .disp = SYS_PASS, .flags = SYSF_ELSE_NOTIFY | F, .handler = sys_sendto,
	      .note = "without an address (send) on a host socket; with one, trapped: " NOTE_SOCKADDR,
	      RULES(R64(4, 0))),
	PASS(recvfrom, F, "on a host socket in the guest's own netns"),
	ENTRY(sendmsg, .disp = SYS_PASS, .flags = SYSF_ELSE_NOTIFY | F, .handler = sys_sendmsg,
	      .note = "notified (the filter cannot see into the msghdr): a datagram to a path AF_UNIX msg_name, or SCM_CREDENTIALS (checked against the sandbox's ids), is sent by the sentry on its copy of the socket (syscalls/sys_unix_send.c); anything else continues on the host socket in the guest's own netns",
	      RULES(R64(3, SYS_SENDMSG_UNTRAPPED))),
	PASS(recvmsg, F, "on a host socket in the guest's own netns"),
	EMU(shutdown, sys_shutdown, F, "continued; with the TCP fast path on, performed by the sentry on its copy of the socket (refused with ENOTCONN on a fast-path socket still connecting)"),
	EMU(bind, sys_bind, F, NOTE_SOCKADDR),
	PASS(listen, F, "on a host socket in the guest's own netns"),
	EMU(getsockname, sys_sockname, F, "the kernel's answer, with a path socket's address shown as the path bound"),
	EMU(getpeername, sys_sockname, F, "the kernel's answer, with a path socket's address shown as the path bound"),
	PASS_IF(socketpair, 0, EAFNOSUPPORT,
		"AF_UNIX only (no other family implements pairs), else EAFNOSUPPORT",
		R32(0, AF_UNIX)),
	ENTRY(setsockopt, .disp = SYS_PASS, .flags = F | SYSF_ELSE_PASS, .handler = sys_setsockopt,
	      .note = "on a host socket in the guest's own netns; SO_MARK, SO_SNDBUFFORCE, SO_RCVBUFFORCE, IP_TRANSPARENT and IPV6_TRANSPARENT refused (EPERM, audited); SO_BINDTODEVICE set by the sentry on its copy of the socket, only to lo or eth0 (else ENODEV); SO_BINDTOIFINDEX set by the sentry on its copy; both accepted and not applied on a TCP fast-path socket (the host's)",
	      RULES(SETSOCKOPT_RULES)),
	ENTRY(getsockopt, .disp = SYS_PASS, .flags = F | SYSF_ELSE_PASS, .handler = sys_getsockopt,
	      .note = "on a host socket in the guest's own netns; SO_PEERCRED and SO_PEERGROUPS answered by the sentry with the peer's sandbox pid and credentials (the kernel's would be the host's ids)",
	      RULES(R32_NOTIFY(2, SO_PEERCRED), R32_NOTIFY(2, SO_PEERGROUPS))),
	EMU_IF(clone, sys_clone, 0, EPERM,
	       "namespace flags fail with EPERM in the filter; others are notified and CONTINUEd (flags are registers) while the sentry follows the call with ptrace to register the new task with its creator's state; CLONE_UNTRACED gets EPERM",
	       { .argno = 0, .mask = CLONE_NS_FLAGS, .value = 0 }),
	EMU(fork, sys_clone, 0, "CONTINUEd while the sentry follows it with ptrace to register the new task with its creator's state"),
	EMU(vfork, sys_clone, 0, "CONTINUEd while the sentry follows it with ptrace to register the new task with its creator's state"),
	EXEC(execve, P, "resolved by the sentry, re-issued as execveat(fd, \"\", AT_EMPTY_PATH) through ptrace"),
	PASS(exit, 0, "thread exit"),
	PASS(wait4, 0, "children in the guest's own pid namespace"),
	EMU(kill, sys_kill, I, "only sandbox processes, with the guest's credentials; groups and -1 checked per target"),
	EMU(uname, sys_uname, I, "the sandbox's identity, never the host's"),
	PASS(semget, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(semop, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(semctl, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(shmdt, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(msgget, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(msgsnd, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(msgrcv, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(msgctl, 0, "SysV IPC in the guest's own IPC namespace"),
	ENTRY(fcntl, .disp = SYS_PASS, .flags = F | SYSF_ELSE_PASS, .handler = sys_fcntl_lock,
	      .note = "host fd flags and owners (pids of the guest's namespace) pass; record locks (F_SETLK, F_SETLKW, F_GETLK and the F_OFD_ ones) are notified and kept in the sentry's lock table, so none reaches a host file",
	      RULES(FCNTL_LOCK_RULES)),
	EMU(flock, sys_flock, F, "locks on sandbox-only files (memfds, pipes, sockets) taken on the guest's own open file; on host files kept in the sentry's lock table"),
	PASS(fsync, F, "host fd"),
	PASS(fdatasync, F, "host fd"),
	EMU(truncate, sys_truncate, P | I, "path resolved in the sentry's VFS"),
	PASS(ftruncate, F, "host fd moat handed out (write access was checked at open)"),
	EMU(getdents, sys_getdents, F | I, "directories are sentry vnodes behind placeholder fds"),
	EMU(getcwd, sys_getcwd, I, "the cwd lives in the sentry"),
	EMU(chdir, sys_chdir, P | I, "the cwd lives in the sentry"),
	EMU(fchdir, sys_chdir, F | I, "the cwd lives in the sentry; directory fds are placeholders"),
	EMU(rename, sys_rename, P | I, "host mutation through the gofer"),
	EMU(mkdir, sys_mkdir, P | I, "host mutation through the gofer"),
	EMU(rmdir, sys_unlink, P | I, "host mutation through the gofer"),
	EMU(creat, sys_open, P | I, "open(O_CREAT|O_WRONLY|O_TRUNC) in the sentry's VFS"),
	EMU(link, sys_link, P | I, "host mutation through the gofer"),
	EMU(unlink, sys_unlink, P | I, "host mutation through the gofer"),
	EMU(symlink, sys_symlink, P | I, "host mutation through the gofer"),
	EMU(readlink, sys_readlink, P | I, "symlinks are resolved by the sentry; /proc links are synthesized"),
	EMU(chmod, sys_chmod, P | I, "attributes are set by the sentry or the gofer"),
	EMU(fchmod, sys_chmod, F | I, "attributes are set by the sentry or the gofer"),
	EMU(chown, sys_chown, P | I, "ownership follows the sandbox's identities"),
	EMU(fchown, sys_chown, F | I, "ownership follows the sandbox's identities"),
	EMU(lchown, sys_chown, P | I, "ownership follows the sandbox's identities"),
	EMU(umask, sys_umask, I, "the umask lives in the sentry, per task"),
	PASS(gettimeofday, 0, "time (normally answered by the vDSO)"),
	PASS(getrlimit, 0, "limits set by moat; raising above the hard limit fails in the kernel"),
	PASS(getrusage, 0, "own or children's usage"),
	EMU(sysinfo, sys_sysinfo, I, "memory and load of the sandbox, never the host's"),
	PASS(times, 0, "own CPU times"),
	DENY_AUDIT(ptrace, EPERM, 0, "no tracing inside the sandbox (the sentry itself uses ptrace for exec)"),
	EMU(getuid, sys_getid, I, "credentials live in the sentry"),
	DENY_AUDIT(syslog, EPERM, 0, "the host kernel log is not visible"),
	EMU(getgid, sys_getid, I, "credentials live in the sentry"),
	EMU(setuid, sys_setid, 0, "credentials live in the sentry"),
	EMU(setgid, sys_setid, 0, "credentials live in the sentry"),
	EMU(geteuid, sys_getid, I, "credentials live in the sentry"),
	EMU(getegid, sys_getid, I, "credentials live in the sentry"),
	PASS(setpgid, 0, "process groups in the guest's own pid namespace"),
	PASS(getppid, 0, "pid in the guest's own pid namespace"),
	PASS(getpgrp, 0, "process groups in the guest's own pid namespace"),
	PASS(setsid, 0, "sessions in the guest's own pid namespace"),
	EMU(setreuid, sys_setid, 0, "credentials live in the sentry"),
	EMU(setregid, sys_setid, 0, "credentials live in the sentry"),
	EMU(getgroups, sys_getgroups, I, "credentials live in the sentry"),
	EMU(setgroups, sys_setid, 0, "credentials live in the sentry"),
	EMU(setresuid, sys_setid, 0, "credentials live in the sentry"),
	EMU(getresuid, sys_getresid, I, "credentials live in the sentry"),
	EMU(setresgid, sys_setid, 0, "credentials live in the sentry"),
	EMU(getresgid, sys_getresid, I, "credentials live in the sentry"),
	PASS(getpgid, 0, "process groups in the guest's own pid namespace"),
	EMU(setfsuid, sys_setid, 0, "credentials live in the sentry"),
	EMU(setfsgid, sys_setid, 0, "credentials live in the sentry"),
	PASS(getsid, 0, "sessions in the guest's own pid namespace"),
	EMU(capget, sys_capget, I, "capabilities of the sandbox's identity, not of the host uid"),
	DENY_AUDIT(capset, EPERM, 0, "capabilities cannot be changed yet"),
	PASS(rt_sigpending, 0, "signals stay inside the sandbox"),
	PASS(rt_sigtimedwait, 0, "signals stay inside the sandbox"),
	EMU(rt_sigqueueinfo, sys_kill, I, "only sandbox processes, with the guest's credentials"),
	PASS(rt_sigsuspend, 0, "signals stay inside the sandbox"),
	PASS(sigaltstack, 0, "signals stay inside the sandbox"),
	EMU(utime, sys_utimes, P | I, "attributes are set by the sentry or the gofer"),
	EMU(mknod, sys_mknod, P | I, "FIFOs and sockets in the sentry's VFS; device nodes refused"),
	DENY_AUDIT(uselib, ENOSYS, P, "obsolete a.out loader; would resolve a host path"),
	PASS_IF_AUDIT(personality, 0, EINVAL,
		"only the query (0xffffffff) and PER_LINUX (0); other personalities are audited and refused",
		R32(0, 0), R32(0, 0xffffffff)),
	DENY(ustat, ENOSYS, 0, "obsolete; would describe host filesystems"),
	EMU(statfs, sys_statfs, P | I, "describes the sandbox's mounts, not the host's"),
	EMU(fstatfs, sys_statfs, F | I, "describes the sandbox's mounts, not the host's"),
	DENY(sysfs, ENOSYS, 0, "obsolete; would list the host kernel's filesystem types"),
	PASS(getpriority, 0, "only tasks visible in the guest's own pid namespace"),
	PASS(setpriority, 0, "only tasks visible in the guest's own pid namespace; raising needs privilege"),
	PASS(sched_setparam, 0, "scheduling of tasks in the guest's own pid namespace"),
	PASS(sched_getparam, 0, "scheduling of tasks in the guest's own pid namespace"),
	PASS(sched_setscheduler, 0, "scheduling of tasks in the guest's own pid namespace; RT needs privilege or RLIMIT_RTPRIO"),
	PASS(sched_getscheduler, 0, "scheduling of tasks in the guest's own pid namespace"),
	PASS(sched_get_priority_max, 0, "constant"),
	PASS(sched_get_priority_min, 0, "constant"),
	PASS(sched_rr_get_interval, 0, "scheduling of tasks in the guest's own pid namespace"),
	PASS(mlock, 0, "bounded by RLIMIT_MEMLOCK"),
	PASS(munlock, 0, "memory of the guest's own mm"),
	PASS(mlockall, 0, "bounded by RLIMIT_MEMLOCK"),
	PASS(munlockall, 0, "memory of the guest's own mm"),
	DENY_AUDIT(vhangup, EPERM, 0, "would hang up the host terminal"),
	DENY_AUDIT(modify_ldt, EPERM, 0, "no LDT: 16/32-bit code segments are not supported"),
	DENY_AUDIT(pivot_root, EPERM, P, "the mount table lives in the sentry"),
	DENY(_sysctl, ENOSYS, 0, "removed from Linux"),
	ENTRY(prctl, .disp = SYS_PASS, .err = EINVAL, .handler = sys_prctl_dumpable,
	      .note = "options that act on the caller alone (name, pdeathsig, no_new_privs, seccomp, subreaper, timerslack, THP, VMA names, ...); others EINVAL; the dumpable flag is notified and kept by the sentry, the host process staying dumpable (else the sentry could not see it)",
	      RULES(PRCTL_RULES)),
	PASS(arch_prctl, 0, "FS/GS base, CPUID faulting, AMX permission of the caller"),
	DENY_AUDIT(adjtimex, EPERM, 0, "the host clock is not the sandbox's to tune or inspect"),
	PASS(setrlimit, 0, "raising above the hard limit fails in the kernel"),
	EMU(chroot, sys_chroot, P, "the root lives in the sentry"),
	PASS(sync, 0, "host-wide writeback, bounded by the cgroup's io limits; to move to the gofer"),
	DENY_AUDIT(acct, EPERM, P, "host process accounting"),
	DENY_AUDIT(settimeofday, EPERM, 0, "the host clock is not the sandbox's"),
	DENY_AUDIT(mount, EPERM, P, "the mount table lives in the sentry"),
	DENY_AUDIT(umount2, EPERM, P, "the mount table lives in the sentry"),
	DENY_AUDIT(swapon, EPERM, P, "host swap"),
	DENY_AUDIT(swapoff, EPERM, P, "host swap"),
	DENY_AUDIT(reboot, EPERM, 0, "host power state"),
	EMU(sethostname, sys_sethostname, 0, "the sandbox's own hostname, kept by the sentry"),
	EMU(setdomainname, sys_sethostname, 0, "the sandbox's own domain name, kept by the sentry"),
	DENY_AUDIT(iopl, EPERM, 0, "host I/O ports"),
	DENY_AUDIT(ioperm, EPERM, 0, "host I/O ports"),
	DENY_AUDIT(create_module, ENOSYS, 0, "removed from Linux; kernel modules"),
	DENY_AUDIT(init_module, EPERM, 0, "kernel modules"),
	DENY_AUDIT(delete_module, EPERM, 0, "kernel modules"),
	DENY_AUDIT(get_kernel_syms, ENOSYS, 0, "removed from Linux; kernel symbols"),
	DENY_AUDIT(query_module, ENOSYS, 0, "removed from Linux; kernel modules"),
	DENY_AUDIT(quotactl, EPERM, P, "host disk quotas"),
	DENY_AUDIT(nfsservctl, ENOSYS, 0, "removed from Linux; host NFS server"),
	DENY(getpmsg, ENOSYS, 0, "never implemented by Linux"),
	DENY(putpmsg, ENOSYS, 0, "never implemented by Linux"),
	DENY(afs_syscall, ENOSYS, 0, "never implemented by Linux"),
	DENY(tuxcall, ENOSYS, 0, "never implemented by Linux"),
	DENY(security, ENOSYS, 0, "never implemented by Linux"),
	PASS(gettid, 0, "tid in the guest's own pid namespace"),
	PASS(readahead, F, "page cache of a host fd"),
	EMU(setxattr, sys_xattr, P | I, "extended attributes through the sentry's VFS"),
	EMU(lsetxattr, sys_xattr, P | I, "extended attributes through the sentry's VFS"),
	EMU(fsetxattr, sys_xattr, F | I, "extended attributes through the sentry's VFS"),
	EMU(getxattr, sys_xattr, P | I, "extended attributes through the sentry's VFS"),
	EMU(lgetxattr, sys_xattr, P | I, "extended attributes through the sentry's VFS"),
	EMU(fgetxattr, sys_xattr, F | I, "extended attributes through the sentry's VFS"),
	EMU(listxattr, sys_xattr, P | I, "extended attributes through the sentry's VFS"),
	EMU(llistxattr, sys_xattr, P | I, "extended attributes through the sentry's VFS"),
	EMU(flistxattr, sys_xattr, F | I, "extended attributes through the sentry's VFS"),
	EMU(removexattr, sys_xattr, P | I, "extended attributes through the sentry's VFS"),
	EMU(lremovexattr, sys_xattr, P | I, "extended attributes through the sentry's VFS"),
	EMU(fremovexattr, sys_xattr, F | I, "extended attributes through the sentry's VFS"),
	EMU(tkill, sys_kill, I, "only sandbox threads, with the guest's credentials"),
	PASS(time, 0, "time (normally answered by the vDSO)"),
	PASS(futex, 0, "memory of the guest's own mm"),
	EMU(sched_setaffinity, sys_sched_affinity, I, "the kernel's (limited to the sandbox's cpuset), after the ptrace platform gave the task its own mask back"),
	EMU(sched_getaffinity, sys_sched_affinity, I, "the kernel's (tasks in the guest's own pid namespace), after the ptrace platform gave the task its own mask back"),
	DENY(set_thread_area, ENOSYS, 0, "32-bit TLS; 64-bit code uses arch_prctl"),
	DENY(io_setup, ENOSYS, 0, "Linux AIO contexts draw on the host-wide fs.aio-max-nr: one guest could exhaust it for the host; libaio users fall back, glibc's POSIX AIO uses threads"),
	DENY(io_destroy, ENOSYS, 0, "Linux AIO: no contexts exist (io_setup is refused)"),
	DENY(io_getevents, ENOSYS, 0, "Linux AIO: no contexts exist (io_setup is refused)"),
	DENY(io_submit, ENOSYS, F, "Linux AIO: no contexts exist (io_setup is refused)"),
	DENY(io_cancel, ENOSYS, 0, "Linux AIO: no contexts exist (io_setup is refused)"),
	DENY(get_thread_area, ENOSYS, 0, "32-bit TLS; 64-bit code uses arch_prctl"),
	DENY_AUDIT(lookup_dcookie, ENOSYS, 0, "profiling interface that resolves host paths"),
	PASS(epoll_create, 0, "readiness of host fds"),
	DENY(epoll_ctl_old, ENOSYS, 0, "never implemented by Linux"),
	DENY(epoll_wait_old, ENOSYS, 0, "never implemented by Linux"),
	DENY(remap_file_pages, ENOSYS, 0, "deprecated since Linux 3.16"),
	EMU(getdents64, sys_getdents, F | I, "directories are sentry vnodes behind placeholder fds"),
	PASS(set_tid_address, 0, "memory of the guest's own mm"),
	PASS(restart_syscall, 0, "resumes an interrupted PASS call"),
	PASS(semtimedop, 0, "SysV IPC in the guest's own IPC namespace"),
	PASS(fadvise64, F, "page cache of a host fd"),
	PASS(timer_create, 0, "POSIX timers of the caller"),
	PASS(timer_settime, 0, "POSIX timers of the caller"),
	PASS(timer_gettime, 0, "POSIX timers of the caller"),
	PASS(timer_getoverrun, 0, "POSIX timers of the caller"),
	PASS(timer_delete, 0, "POSIX timers of the caller"),
	DENY_AUDIT(clock_settime, EPERM, 0, "the host clock is not the sandbox's"),
	PASS(clock_gettime, 0, "time (normally answered by the vDSO)"),
	PASS(clock_getres, 0, "time"),
	PASS(clock_nanosleep, 0, "time"),
	PASS(exit_group, 0, "process exit"),
	PASS(epoll_wait, F, "readiness of host fds"),
	PASS(epoll_ctl, F, "readiness of host fds"),
	EMU(tgkill, sys_kill, I, "only sandbox threads, with the guest's credentials"),
	EMU(utimes, sys_utimes, P | I, "attributes are set by the sentry or the gofer"),
	DENY(vserver, ENOSYS, 0, "never implemented by Linux"),
	PASS(mbind, 0, "NUMA policy of the guest's own memory"),
	PASS(set_mempolicy, 0, "NUMA policy of the caller"),
	PASS(get_mempolicy, 0, "NUMA policy of the caller"),
	PASS(mq_open, 0, "POSIX queues live in the guest's own IPC namespace's mqueue mount, not in a path"),
	PASS(mq_unlink, 0, "POSIX queues live in the guest's own IPC namespace's mqueue mount, not in a path"),
	PASS(mq_timedsend, F, "POSIX queues of the guest's own IPC namespace"),
	PASS(mq_timedreceive, F, "POSIX queues of the guest's own IPC namespace"),
	PASS(mq_notify, F, "POSIX queues of the guest's own IPC namespace"),
	PASS(mq_getsetattr, F, "POSIX queues of the guest's own IPC namespace"),
	DENY_AUDIT(kexec_load, EPERM, 0, "replaces the host kernel"),
	PASS(waitid, 0, "children in the guest's own pid namespace"),
	DENY_AUDIT(add_key, ENOSYS, 0, "kernel keyrings are not namespaced"),
	DENY_AUDIT(request_key, ENOSYS, 0, "kernel keyrings are not namespaced"),
	DENY_AUDIT(keyctl, ENOSYS, 0, "kernel keyrings are not namespaced"),
	PASS(ioprio_set, 0, "only tasks visible in the guest's own pid namespace; raising needs privilege"),
	PASS(ioprio_get, 0, "only tasks visible in the guest's own pid namespace"),
	PASS(inotify_init, 0, "creates an empty inotify instance"),
	EMU(inotify_add_watch, sys_inotify_add_watch, P, "resolved in the sentry's VFS; the watch is added on the guest's own instance, on the host object that stands for the file (docs/architecture.md, \"inotify\")"),
	PASS(inotify_rm_watch, F, "on an inotify fd"),
	DENY_AUDIT(migrate_pages, EPERM, 0, "moves another process's memory between NUMA nodes"),
	EMU(openat, sys_open, P | I, "resolved in the sentry's VFS; the fd is installed with ADDFD+SEND"),
	EMU(mkdirat, sys_mkdir, P | I, "host mutation through the gofer"),
	EMU(mknodat, sys_mknod, P | I, "FIFOs and sockets in the sentry's VFS; device nodes refused"),
	EMU(fchownat, sys_chown, P | I, "ownership follows the sandbox's identities"),
	EMU(futimesat, sys_utimes, P | I, "attributes are set by the sentry or the gofer"),
	EMU(newfstatat, sys_stat, P | I, "attributes come from the sentry's VFS"),
	EMU(unlinkat, sys_unlink, P | I, "host mutation through the gofer"),
	EMU(renameat, sys_rename, P | I, "host mutation through the gofer"),
	EMU(linkat, sys_link, P | I, "host mutation through the gofer"),
	EMU(symlinkat, sys_symlink, P | I, "host mutation through the gofer"),
	EMU(readlinkat, sys_readlink, P | I, "symlinks are resolved by the sentry; /proc links are synthesized"),
	EMU(fchmodat, sys_chmod, P | I, "attributes are set by the sentry or the gofer"),
	EMU(faccessat, sys_access, P | I, "permission check against the sandbox's credentials"),
	PASS(pselect6, F, "readiness of host fds"),
	PASS(ppoll, F, "readiness of host fds"),
	DENY_AUDIT(unshare, EPERM, 0, "no new namespaces inside the sandbox"),
	PASS(set_robust_list, 0, "memory of the guest's own mm"),
	PASS(get_robust_list, 0, "tasks in the guest's own pid namespace"),
	PASS(splice, F, "between host fds moat handed out"),
	PASS(tee, F, "between host pipes"),
	PASS(sync_file_range, F, "host fd"),
	PASS(vmsplice, F, "between guest memory and a host pipe"),
	DENY_AUDIT(move_pages, EPERM, 0, "moves process memory between NUMA nodes"),
	EMU(utimensat, sys_utimes, P | I, "attributes are set by the sentry or the gofer"),
	PASS(epoll_pwait, F, "readiness of host fds"),
	PASS(signalfd, F, "signals stay inside the sandbox"),
	PASS(timerfd_create, 0, "timers of the caller"),
	PASS(eventfd, 0, "counter fd"),
	PASS(fallocate, F, "host fd moat handed out (write access was checked at open)"),
	PASS(timerfd_settime, F, "timers of the caller"),
	PASS(timerfd_gettime, F, "timers of the caller"),
	PASS(accept4, F, "on a host socket in the guest's own netns"),
	PASS(signalfd4, F, "signals stay inside the sandbox"),
	PASS(eventfd2, 0, "counter fd"),
	PASS(epoll_create1, 0, "readiness of host fds"),
	PASS(dup3, F, "host fd table"),
	PASS(pipe2, 0, "anonymous host pipe"),
	PASS(inotify_init1, 0, "creates an empty inotify instance"),
	PASS(preadv, F, "data on a host fd moat handed out"),
	PASS(pwritev, F, "data on a host fd moat handed out"),
	EMU(rt_tgsigqueueinfo, sys_kill, I, "only sandbox threads, with the guest's credentials"),
	DENY_AUDIT(perf_event_open, ENOSYS, 0, "no performance counters: host-wide side channels"),
	PASS(recvmmsg, F, "on a host socket in the guest's own netns"),
	DENY_AUDIT(fanotify_init, EPERM, 0, "filesystem-wide host notifications"),
	DENY_AUDIT(fanotify_mark, EPERM, P, "filesystem-wide host notifications"),
	PASS(prlimit64, 0, "tasks in the guest's own pid namespace; raising needs privilege"),
	DENY_AUDIT(name_to_handle_at, EOPNOTSUPP, P, "host file handles; callers fall back to paths"),
	DENY_AUDIT(open_by_handle_at, EPERM, F, "opens any host file by handle, bypassing the VFS"),
	DENY_AUDIT(clock_adjtime, EPERM, 0, "the host clock is not the sandbox's"),
	PASS(syncfs, F, "writeback of the filesystem of a host fd, bounded by the cgroup's io limits"),
	ENTRY(sendmmsg, .disp = SYS_PASS, .flags = SYSF_ELSE_NOTIFY | F, .handler = sys_sendmmsg,
	      .note = "as sendmsg: the sentry sends the batch when one of its messages names a path AF_UNIX socket",
	      RULES(R64(4, SYS_SENDMSG_UNTRAPPED))),
	DENY_AUDIT(setns, EPERM, F, "no namespace changes inside the sandbox"),
	PASS(getcpu, 0, "CPU and node of the caller"),
	DENY_AUDIT(process_vm_readv, EPERM, 0, "no access to another process's memory"),
	DENY_AUDIT(process_vm_writev, EPERM, 0, "no access to another process's memory"),
	DENY_AUDIT(kcmp, EPERM, 0, "compares kernel objects of other processes"),
	DENY_AUDIT(finit_module, EPERM, F, "kernel modules"),
	PASS(sched_setattr, 0, "scheduling of tasks in the guest's own pid namespace; RT and deadline need privilege"),
	PASS(sched_getattr, 0, "scheduling of tasks in the guest's own pid namespace"),
	EMU(renameat2, sys_rename, P | I, "host mutation through the gofer"),
	PASS_IF_AUDIT(seccomp, 0, EBUSY,
		"nested filters only restrict; a filter with its own listener (NEW_LISTENER) is audited and refused with EBUSY, as the kernel does",
		{ .argno = 1, .mask = SECCOMP_FILTER_FLAG_NEW_LISTENER, .value = 0 }),
	PASS(getrandom, 0, "host entropy"),
	PASS(memfd_create, 0, "anonymous memory file"),
	DENY_AUDIT(kexec_file_load, EPERM, F, "replaces the host kernel"),
	DENY_AUDIT(bpf, EPERM, 0, "eBPF programs run in the host kernel"),
	EXEC(execveat, P | F, "resolved by the sentry, re-issued as execveat(fd, \"\", AT_EMPTY_PATH) through ptrace"),
	DENY_AUDIT(userfaultfd, EPERM, 0, "page-fault handling in user space: an exploitation aid"),
	PASS(membarrier, 0, "barriers among the guest's own threads"),
	PASS(mlock2, 0, "bounded by RLIMIT_MEMLOCK"),
	PASS(copy_file_range, F, "between host fds moat handed out"),
	PASS(preadv2, F, "data on a host fd moat handed out"),
	PASS(pwritev2, F, "data on a host fd moat handed out"),
	PASS(pkey_mprotect, 0, "memory of the guest's own mm"),
	PASS(pkey_alloc, 0, "memory protection keys of the caller"),
	PASS(pkey_free, 0, "memory protection keys of the caller"),
	EMU(statx, sys_statx, P | F | I, "attributes come from the sentry's VFS"),
	DENY(io_pgetevents, ENOSYS, 0, "Linux AIO: no contexts exist (io_setup is refused)"),
	PASS(rseq, 0, "memory of the guest's own mm"),
	EMU(pidfd_send_signal, sys_pidfd_send_signal, F, "sent by the sentry through its own copy of the pidfd: sandbox processes only, the guest's credentials; no PIDFD_SIGNAL_PROCESS_GROUP"),
	DENY_AUDIT(io_uring_setup, ENOSYS, 0, "io_uring: large host kernel surface"),
	DENY_AUDIT(io_uring_enter, ENOSYS, F, "io_uring: large host kernel surface"),
	DENY_AUDIT(io_uring_register, ENOSYS, F, "io_uring: large host kernel surface"),
	DENY_AUDIT(open_tree, EPERM, P, "the mount table lives in the sentry"),
	DENY_AUDIT(move_mount, EPERM, P, "the mount table lives in the sentry"),
	DENY_AUDIT(fsopen, EPERM, 0, "the mount table lives in the sentry"),
	DENY_AUDIT(fsconfig, EPERM, F, "the mount table lives in the sentry"),
	DENY_AUDIT(fsmount, EPERM, F, "the mount table lives in the sentry"),
	DENY_AUDIT(fspick, EPERM, P, "the mount table lives in the sentry"),
	PASS(pidfd_open, 0, "pids of the guest's own pid namespace"),
	DENY(clone3, ENOSYS, 0, "passes its flags in a struct in guest memory, which the filter cannot check; libc falls back to clone"),
	PASS(close_range, F, "host fd table"),
	EMU(openat2, sys_open, P | I, "resolved in the sentry's VFS; the fd is installed with ADDFD+SEND"),
	DENY_AUDIT(pidfd_getfd, EPERM, F, "takes an fd out of another process"),
	EMU(faccessat2, sys_access, P | I, "permission check against the sandbox's credentials"),
	DENY_AUDIT(process_madvise, EPERM, F, "advice on another process's memory"),
	PASS(epoll_pwait2, F, "readiness of host fds"),
	DENY_AUDIT(mount_setattr, EPERM, P, "the mount table lives in the sentry"),
	DENY_AUDIT(quotactl_fd, EPERM, F, "host disk quotas"),
	PASS(landlock_create_ruleset, 0, "Landlock only restricts the caller"),
	PASS(landlock_add_rule, F, "Landlock only restricts the caller"),
	PASS(landlock_restrict_self, F, "Landlock only restricts the caller"),
	DENY_AUDIT(memfd_secret, ENOSYS, 0, "secret memory is removed from the host's direct map"),
	DENY(process_mrelease, ENOSYS, F, "reaps another process's memory; for OOM daemons"),
	PASS(futex_waitv, 0, "memory of the guest's own mm"),
	DENY_AUDIT(set_mempolicy_home_node, ENOSYS, 0, "NUMA home node hints"),
	/* Newer than the headers this was written against (linux-libc-dev
	 * 6.1): present only when the headers know them, else ENOSYS. */
#ifdef __NR_fchmodat2
	EMU(fchmodat2, sys_chmod, P | I, "attributes are set by the sentry or the gofer"),
#endif
#ifdef __NR_futex_wake
	PASS(futex_wake, 0, "memory of the guest's own mm"),
	PASS(futex_wait, 0, "memory of the guest's own mm"),
	PASS(futex_requeue, 0, "memory of the guest's own mm"),
#endif
#ifdef __NR_mseal
	PASS(mseal, 0, "memory of the guest's own mm; only restricts"),
#endif
};

_Static_assert(__NR_set_mempolicy_home_node < SYS_TABLE_SIZE,
	       "SYS_TABLE_SIZE too small for the syscalls the headers know");

const struct sys_entry *sys_lookup(long nr)
{
	if (nr < 0 || nr >= SYS_TABLE_SIZE || !sys_table[nr].name)
		return NULL;
	return &sys_table[nr];
}

sys_handler_fn sys_entry_handler(const struct sys_entry *e)
{
	return e && e->handler ? e->handler : sys_deny;
}

const char *sys_disp_name(enum sys_disp d)
{
	switch (d) {
	case SYS_UNKNOWN:
		return "UNKNOWN";
	case SYS_PASS:
		return "PASS";
	case SYS_EMULATE:
		return "EMULATE";
	case SYS_EXEC:
		return "EXEC";
	case SYS_DENY:
		return "DENY";
	case SYS_KILL:
		return "KILL";
	}
	return "UNKNOWN";
}

const char *sys_name(long nr)
{
	const struct sys_entry *e = sys_lookup(nr);

	/* No formatted "syscall_N": that would need a buffer, and callers log
	 * the number next to the name anyway. */
	return e ? e->name : "unknown";
}
