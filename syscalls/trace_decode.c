/* SPDX-License-Identifier: MIT */
/* See trace_decode.h. Each syscall's arguments are described by a string,
 * one letter per argument (the letters are listed at `decode_one`); calls
 * without a description show six hex words, as they would in strace with
 * no decoder. */
#include "syscalls/trace_decode.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "platform/platform.h"
#include "syscalls/table.h"

/* Letters:
 *  i int        l long        u unsigned    x hex        p pointer
 *  f fd (AT_FDCWD)            s path        w buffer of arg+1 bytes (written)
 *  o open flags m mode        a AT_* flags  c clone flags
 *  P mmap prot  M mmap flags  g signal      v argv (strings)
 *  F address family           t socket type C fcntl command
 *  W lseek whence             k access mode r prctl option
 *  S a short string (-s)
 *  A a socket address, its length the next argument */
static const char *const formats[SYS_TABLE_SIZE] = {
	[__NR_read] = "fpu", [__NR_write] = "fwu", [__NR_open] = "som",
	[__NR_close] = "f", [__NR_stat] = "sp", [__NR_fstat] = "fp", [__NR_lstat] = "sp",
	[__NR_poll] = "pui", [__NR_lseek] = "flW", [__NR_mmap] = "puPMfx",
	[__NR_mprotect] = "puP", [__NR_munmap] = "pu", [__NR_brk] = "p",
	[__NR_rt_sigaction] = "gppu", [__NR_rt_sigprocmask] = "ippu", [__NR_rt_sigreturn] = "",
	[__NR_ioctl] = "fxp", [__NR_pread64] = "fpul", [__NR_pwrite64] = "fwul",
	[__NR_readv] = "fpi", [__NR_writev] = "fpi", [__NR_access] = "sk", [__NR_pipe] = "p",
	[__NR_select] = "ipppp", [__NR_sched_yield] = "", [__NR_mremap] = "puuxp",
	[__NR_msync] = "pux", [__NR_mincore] = "pup", [__NR_madvise] = "pui",
	[__NR_dup] = "f", [__NR_dup2] = "ff", [__NR_pause] = "", [__NR_nanosleep] = "pp",
	[__NR_getpid] = "", [__NR_sendfile] = "ffpu", [__NR_socket] = "Fti",
	[__NR_connect] = "fAu", [__NR_accept] = "fpp", [__NR_sendto] = "fwuxAu",
	[__NR_recvfrom] = "fpuxpp", [__NR_sendmsg] = "fpx", [__NR_recvmsg] = "fpx",
	[__NR_shutdown] = "fi", [__NR_bind] = "fAu", [__NR_listen] = "fi",
	[__NR_getsockname] = "fpp", [__NR_getpeername] = "fpp", [__NR_socketpair] = "Ftip",
	[__NR_setsockopt] = "fiipu", [__NR_getsockopt] = "fiipp", [__NR_clone] = "cppps",
	[__NR_fork] = "", [__NR_vfork] = "", [__NR_execve] = "svp", [__NR_exit] = "i",
	[__NR_wait4] = "ipxp", [__NR_kill] = "ig", [__NR_uname] = "p", [__NR_fcntl] = "fCx",
	[__NR_flock] = "fi", [__NR_fsync] = "f", [__NR_fdatasync] = "f",
	[__NR_truncate] = "sl", [__NR_ftruncate] = "fl", [__NR_getdents] = "fpu",
	[__NR_getcwd] = "pu", [__NR_chdir] = "s", [__NR_fchdir] = "f", [__NR_rename] = "ss",
	[__NR_mkdir] = "sm", [__NR_rmdir] = "s", [__NR_creat] = "sm", [__NR_link] = "ss",
	[__NR_unlink] = "s", [__NR_symlink] = "ss", [__NR_readlink] = "spu",
	[__NR_chmod] = "sm", [__NR_fchmod] = "fm", [__NR_chown] = "sii", [__NR_fchown] = "fii",
	[__NR_lchown] = "sii", [__NR_umask] = "m", [__NR_gettimeofday] = "pp",
	[__NR_getrlimit] = "ip", [__NR_getrusage] = "ip", [__NR_sysinfo] = "p",
	[__NR_times] = "p", [__NR_getuid] = "", [__NR_getgid] = "", [__NR_setuid] = "i",
	[__NR_setgid] = "i", [__NR_geteuid] = "", [__NR_getegid] = "", [__NR_setpgid] = "ii",
	[__NR_getppid] = "", [__NR_getpgrp] = "", [__NR_setsid] = "", [__NR_getgroups] = "ip",
	[__NR_setgroups] = "ip", [__NR_getpgid] = "i", [__NR_getsid] = "i",
	[__NR_sigaltstack] = "pp", [__NR_statfs] = "sp", [__NR_fstatfs] = "fp",
	[__NR_getpriority] = "ii", [__NR_setpriority] = "iii", [__NR_prctl] = "rxxxx",
	[__NR_arch_prctl] = "xp", [__NR_setrlimit] = "ip", [__NR_chroot] = "s",
	[__NR_sync] = "", [__NR_mount] = "sssxp", [__NR_umount2] = "sx",
	[__NR_sethostname] = "Su", [__NR_gettid] = "", [__NR_getxattr] = "sSpu",
	[__NR_lgetxattr] = "sSpu", [__NR_fgetxattr] = "fSpu", [__NR_listxattr] = "spu",
	[__NR_llistxattr] = "spu", [__NR_flistxattr] = "fpu", [__NR_tkill] = "ig",
	[__NR_time] = "p", [__NR_futex] = "pxipxx", [__NR_sched_getaffinity] = "iup",
	[__NR_sched_setaffinity] = "iup", [__NR_getdents64] = "fpu",
	[__NR_set_tid_address] = "p", [__NR_fadvise64] = "flli",
	[__NR_clock_gettime] = "ip", [__NR_clock_getres] = "ip",
	[__NR_clock_nanosleep] = "ixpp", [__NR_exit_group] = "i",
	[__NR_epoll_wait] = "fpii", [__NR_epoll_ctl] = "fifp", [__NR_tgkill] = "iig",
	[__NR_utimes] = "sp", [__NR_waitid] = "iipxp", [__NR_openat] = "fsom",
	[__NR_mkdirat] = "fsm", [__NR_mknodat] = "fsmx", [__NR_fchownat] = "fsiia",
	[__NR_newfstatat] = "fspa", [__NR_unlinkat] = "fsa", [__NR_renameat] = "fsfs",
	[__NR_linkat] = "fsfsa", [__NR_symlinkat] = "sfs", [__NR_readlinkat] = "fspu",
	[__NR_fchmodat] = "fsm", [__NR_faccessat] = "fsk", [__NR_pselect6] = "ipppp",
	[__NR_ppoll] = "pupp", [__NR_set_robust_list] = "pu", [__NR_get_robust_list] = "ipp",
	[__NR_utimensat] = "fspa", [__NR_epoll_pwait] = "fpiip", [__NR_eventfd2] = "ux",
	[__NR_epoll_create1] = "x", [__NR_dup3] = "ffo", [__NR_pipe2] = "po",
	[__NR_prlimit64] = "iipp", [__NR_renameat2] = "fsfsx", [__NR_seccomp] = "uxp",
	[__NR_getrandom] = "pux", [__NR_memfd_create] = "Sx", [__NR_execveat] = "fsvpa",
	[__NR_statx] = "fsaxp", [__NR_rseq] = "puix", [__NR_clone3] = "pu",
	[__NR_close_range] = "uux", [__NR_openat2] = "fspu", [__NR_faccessat2] = "fska",
	[__NR_pidfd_open] = "ix", [__NR_pidfd_send_signal] = "fgpx", [__NR_accept4] = "fppo",
	[__NR_unshare] = "c", [__NR_setns] = "fc", [__NR_sendmmsg] = "fpux",
	[__NR_recvmmsg] = "fpuxp", [__NR_copy_file_range] = "fpfpux",
	[__NR_ptrace] = "iipp", [__NR_getresuid] = "ppp", [__NR_getresgid] = "ppp",
	[__NR_setresuid] = "iii", [__NR_setresgid] = "iii", [__NR_inotify_init1] = "o",
	[__NR_inotify_add_watch] = "fsx", [__NR_timerfd_create] = "ix",
	[__NR_splice] = "fpfpux", [__NR_tee] = "ffux", [__NR_fallocate] = "fill",
	[__NR_rt_sigsuspend] = "pu", [__NR_rt_sigtimedwait] = "pppu",
	[__NR_sched_getparam] = "ip", [__NR_sched_getscheduler] = "i",
	[__NR_membarrier] = "ix", [__NR_mlock] = "pu",
	[__NR_munlock] = "pu", [__NR_getcpu] = "ppp",
#ifdef __NR_fchmodat2
	[__NR_fchmodat2] = "fsma",
#endif
	[__NR_pwritev] = "fpil", [__NR_preadv] = "fpil", [__NR_sync_file_range] = "fllx",
};

static const struct flag { uint64_t v; const char *name; } open_flags[] = {
	{ O_WRONLY, "O_WRONLY" }, { O_RDWR, "O_RDWR" }, { O_CREAT, "O_CREAT" },
	{ O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" }, { O_TRUNC, "O_TRUNC" },
	{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" }, { O_DSYNC, "O_DSYNC" },
	{ O_ASYNC, "O_ASYNC" }, { O_DIRECT, "O_DIRECT" }, { O_LARGEFILE, "O_LARGEFILE" },
	{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
	{ O_NOATIME, "O_NOATIME" }, { O_CLOEXEC, "O_CLOEXEC" }, { O_SYNC & ~O_DSYNC, "O_SYNC" },
	{ O_PATH, "O_PATH" }, { __O_TMPFILE, "O_TMPFILE" }, { 0, NULL },
}, at_flags[] = {
	{ AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW" }, { AT_REMOVEDIR, "AT_REMOVEDIR" },
	{ AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW" }, { AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT" },
	{ AT_EMPTY_PATH, "AT_EMPTY_PATH" }, { AT_EACCESS, "AT_EACCESS" }, { 0, NULL },
}, clone_flags[] = {
	{ CLONE_VM, "CLONE_VM" }, { CLONE_FS, "CLONE_FS" }, { CLONE_FILES, "CLONE_FILES" },
	{ CLONE_SIGHAND, "CLONE_SIGHAND" }, { CLONE_PIDFD, "CLONE_PIDFD" },
	{ CLONE_PTRACE, "CLONE_PTRACE" }, { CLONE_VFORK, "CLONE_VFORK" },
	{ CLONE_PARENT, "CLONE_PARENT" }, { CLONE_THREAD, "CLONE_THREAD" },
	{ CLONE_NEWNS, "CLONE_NEWNS" }, { CLONE_SYSVSEM, "CLONE_SYSVSEM" },
	{ CLONE_SETTLS, "CLONE_SETTLS" }, { CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID" },
	{ CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID" }, { CLONE_DETACHED, "CLONE_DETACHED" },
	{ CLONE_UNTRACED, "CLONE_UNTRACED" }, { CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID" },
	{ CLONE_NEWCGROUP, "CLONE_NEWCGROUP" }, { CLONE_NEWUTS, "CLONE_NEWUTS" },
	{ CLONE_NEWIPC, "CLONE_NEWIPC" }, { CLONE_NEWUSER, "CLONE_NEWUSER" },
	{ CLONE_NEWPID, "CLONE_NEWPID" }, { CLONE_NEWNET, "CLONE_NEWNET" },
	{ CLONE_IO, "CLONE_IO" }, { 0, NULL },
}, prot_flags[] = {
	{ PROT_READ, "PROT_READ" }, { PROT_WRITE, "PROT_WRITE" }, { PROT_EXEC, "PROT_EXEC" },
	{ 0, NULL },
}, mmap_flags[] = {
	{ MAP_SHARED, "MAP_SHARED" }, { MAP_PRIVATE, "MAP_PRIVATE" }, { MAP_FIXED, "MAP_FIXED" },
	{ MAP_ANONYMOUS, "MAP_ANONYMOUS" }, { MAP_GROWSDOWN, "MAP_GROWSDOWN" },
	{ MAP_DENYWRITE, "MAP_DENYWRITE" }, { MAP_NORESERVE, "MAP_NORESERVE" },
	{ MAP_POPULATE, "MAP_POPULATE" }, { MAP_STACK, "MAP_STACK" },
	{ MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" }, { 0, NULL },
};

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->len + 1 >= o->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

static void put_flags(struct out *o, uint64_t v, const struct flag *t, const char *zero)
{
	bool any = false;
	for (; t->name; t++)
		if (t->v && (v & t->v) == t->v) {
			put(o, "%s%s", any ? "|" : "", t->name);
			v &= ~t->v;
			any = true;
		}
	if (v && any)
		put(o, "|%#llx", (unsigned long long)v);
	else if (v)
		put(o, "%#llx", (unsigned long long)v);
	else if (!any)
		put(o, "%s", zero);
}

/* A quoted string with C escapes; `more` adds strace's "..." after it. */
static void put_quoted(struct out *o, const char *s, size_t n, bool more)
{
	put(o, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c == '\n')
			put(o, "\\n");
		else if (c == '\t')
			put(o, "\\t");
		else if (c < 32 || c >= 127)
			put(o, "\\%o", c);
		else
			put(o, "%c", c);
	}
	put(o, more ? "\"..." : "\"");
}

static void put_ptr(struct out *o, uint64_t v)
{
	if (v)
		put(o, "%#llx", (unsigned long long)v);
	else
		put(o, "NULL");
}

static void put_string(struct out *o, struct sysreq *r, uint64_t addr, size_t max)
{
	char s[PATH_MAX];
	if (max > sizeof(s) - 1)
		max = sizeof(s) - 1;
	ssize_t n = addr ? req_read_str(r, addr, s, max + 1) : -EFAULT;
	if (n >= 0)
		put_quoted(o, s, (size_t)n, false);
	else if (n == -ENAMETOOLONG)
		put_quoted(o, s, max, true);
	else
		put_ptr(o, addr);
}

static void put_buffer(struct out *o, struct sysreq *r, uint64_t addr, uint64_t len, size_t max)
{
	char s[PATH_MAX];
	size_t n = len < max ? (size_t)len : max;
	if (n > sizeof(s))
		n = sizeof(s);
	if (!addr || req_read(r, addr, s, n) < 0) {
		put_ptr(o, addr);
		return;
	}
	put_quoted(o, s, n, len > n);
}

static void put_argv(struct out *o, struct sysreq *r, uint64_t addr, size_t strmax)
{
	if (!addr) {
		put(o, "NULL");
		return;
	}
	put(o, "[");
	for (unsigned i = 0; i < 32; i++) {
		uint64_t p;
		if (req_read(r, addr + 8 * i, &p, sizeof(p)) < 0) {
			put(o, "%s%#llx", i ? ", " : "", (unsigned long long)(addr + 8 * i));
			break;
		}
		if (!p)
			break;
		if (i)
			put(o, ", ");
		if (i == 31) {
			put(o, "...");
			break;
		}
		put_string(o, r, p, strmax);
	}
	put(o, "]");
}

/* strace's form: {sa_family=AF_INET, sin_port=htons(80),
 * sin_addr=inet_addr("10.0.0.1")}, and the like for AF_INET6 and AF_UNIX
 * (an abstract name with a leading '@'); other families by number. */
static void put_sockaddr(struct out *o, struct sysreq *r, uint64_t addr, uint64_t len)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
	} u = { 0 };
	size_t n = len < sizeof(u) ? (size_t)len : sizeof(u);
	if (!addr || n < sizeof(sa_family_t) || req_read(r, addr, &u, n) < 0) {
		put_ptr(o, addr);
		return;
	}
	char text[INET6_ADDRSTRLEN];
	switch (u.sa.sa_family) {
	case AF_INET:
		if (n < sizeof(u.in))
			break;
		put(o, "{sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"%s\")}", ntohs(u.in.sin_port),
		    inet_ntop(AF_INET, &u.in.sin_addr, text, sizeof(text)));
		return;
	case AF_INET6:
		if (n < sizeof(u.in6))
			break;
		put(o, "{sa_family=AF_INET6, sin6_port=htons(%u), sin6_addr=inet_pton(\"%s\")}",
		    ntohs(u.in6.sin6_port), inet_ntop(AF_INET6, &u.in6.sin6_addr, text, sizeof(text)));
		return;
	case AF_UNIX: {
		size_t plen = n - offsetof(struct sockaddr_un, sun_path);
		put(o, "{sa_family=AF_UNIX");
		if (plen > 0 && u.un.sun_path[0] == 0) {
			put(o, ", sun_path=@");
			put_quoted(o, u.un.sun_path + 1, plen - 1, false);
		} else if (plen > 0) {
			put(o, ", sun_path=");
			put_quoted(o, u.un.sun_path, strnlen(u.un.sun_path, plen), false);
		}
		put(o, "}");
		return;
	}
	default:
		put(o, "{sa_family=%u}", u.sa.sa_family);
		return;
	}
	put_ptr(o, addr);
}

static const char *name_of(int v, const char *const *names, size_t n)
{
	return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

static void decode_one(struct out *o, struct sysreq *r, char kind, unsigned i, unsigned strsize)
{
	uint64_t v = r->args[i];
	int iv = (int)v;
	switch (kind) {
	case 'i':
		put(o, "%d", iv);
		return;
	case 'l':
		put(o, "%lld", (long long)v);
		return;
	case 'u':
		put(o, "%llu", (unsigned long long)v);
		return;
	case 'p':
		put_ptr(o, v);
		return;
	case 'f':
		if (iv == AT_FDCWD)
			put(o, "AT_FDCWD");
		else
			put(o, "%d", iv);
		return;
	case 's':
		put_string(o, r, v, PATH_MAX - 1);
		return;
	case 'S':
		put_string(o, r, v, strsize);
		return;
	case 'w':
		put_buffer(o, r, v, i < 5 ? r->args[i + 1] : 0, strsize);
		return;
	case 'o':
		if ((v & O_ACCMODE) == O_RDONLY)
			put(o, "O_RDONLY%s", (v & ~(uint64_t)O_ACCMODE) ? "|" : "");
		if (v & ~(uint64_t)O_RDONLY)
			put_flags(o, (uint32_t)v, open_flags, "0");
		return;
	case 'm':
		put(o, "%#03llo", (unsigned long long)(v & 07777));
		return;
	case 'a':
		put_flags(o, (uint32_t)v, at_flags, "0");
		return;
	case 'c': {
		put_flags(o, v & ~(uint64_t)CSIGNAL, clone_flags, "0");
		static const char *const sn[] = { [SIGCHLD] = "SIGCHLD" };
		if (v & CSIGNAL) {
			const char *s = name_of((int)(v & CSIGNAL), sn, ARRAY_SIZE(sn));
			if (s)
				put(o, "|%s", s);
			else
				put(o, "|%llu", (unsigned long long)(v & CSIGNAL));
		}
		return;
	}
	case 'P':
		put_flags(o, v, prot_flags, "PROT_NONE");
		return;
	case 'M':
		put_flags(o, v, mmap_flags, "0");
		return;
	case 'g': {
		const char *s = iv > 0 && iv < SIGRTMIN ? sigabbrev_np(iv) : NULL;
		if (s)
			put(o, "SIG%s", s);
		else
			put(o, "%d", iv);
		return;
	}
	case 'v':
		put_argv(o, r, v, strsize);
		return;
	case 'A':
		put_sockaddr(o, r, v, i < 5 ? r->args[i + 1] : 0);
		return;
	case 'F': {
		static const char *const fam[] = {
			[AF_UNSPEC] = "AF_UNSPEC", [AF_UNIX] = "AF_UNIX", [AF_INET] = "AF_INET",
			[AF_INET6] = "AF_INET6", [AF_NETLINK] = "AF_NETLINK", [AF_PACKET] = "AF_PACKET",
		};
		const char *s = name_of(iv, fam, ARRAY_SIZE(fam));
		if (s)
			put(o, "%s", s);
		else
			put(o, "%d", iv);
		return;
	}
	case 't': {
		static const char *const ty[] = {
			[SOCK_STREAM] = "SOCK_STREAM", [SOCK_DGRAM] = "SOCK_DGRAM",
			[SOCK_RAW] = "SOCK_RAW", [SOCK_SEQPACKET] = "SOCK_SEQPACKET",
		};
		const char *s = name_of(iv & 0xf, ty, ARRAY_SIZE(ty));
		if (s)
			put(o, "%s", s);
		else
			put(o, "%d", iv & 0xf);
		if (iv & SOCK_CLOEXEC)
			put(o, "|SOCK_CLOEXEC");
		if (iv & SOCK_NONBLOCK)
			put(o, "|SOCK_NONBLOCK");
		return;
	}
	case 'C': {
		static const char *const cmd[] = {
			[F_DUPFD] = "F_DUPFD", [F_GETFD] = "F_GETFD", [F_SETFD] = "F_SETFD",
			[F_GETFL] = "F_GETFL", [F_SETFL] = "F_SETFL", [F_GETLK] = "F_GETLK",
			[F_SETLK] = "F_SETLK", [F_SETLKW] = "F_SETLKW", [F_SETOWN] = "F_SETOWN",
			[F_GETOWN] = "F_GETOWN",
		};
		const char *s = name_of(iv, cmd, ARRAY_SIZE(cmd));
		if (iv == F_DUPFD_CLOEXEC)
			s = "F_DUPFD_CLOEXEC";
		if (s)
			put(o, "%s", s);
		else
			put(o, "%d", iv);
		return;
	}
	case 'W': {
		static const char *const wh[] = { "SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE" };
		const char *s = name_of(iv, wh, ARRAY_SIZE(wh));
		if (s)
			put(o, "%s", s);
		else
			put(o, "%d", iv);
		return;
	}
	case 'k':
		if (iv == F_OK) {
			put(o, "F_OK");
			return;
		}
		put(o, "%s%s%s", (iv & R_OK) ? "R_OK" : "", (iv & W_OK) ? ((iv & R_OK) ? "|W_OK" : "W_OK") : "",
		    (iv & X_OK) ? ((iv & (R_OK | W_OK)) ? "|X_OK" : "X_OK") : "");
		if (iv & ~7)
			put(o, "|%#x", iv & ~7);
		return;
	case 'r': {
		static const char *const opt[] = {
			[PR_SET_PDEATHSIG] = "PR_SET_PDEATHSIG", [PR_GET_PDEATHSIG] = "PR_GET_PDEATHSIG",
			[PR_GET_DUMPABLE] = "PR_GET_DUMPABLE", [PR_SET_DUMPABLE] = "PR_SET_DUMPABLE",
			[PR_SET_NAME] = "PR_SET_NAME", [PR_GET_NAME] = "PR_GET_NAME",
			[PR_GET_SECCOMP] = "PR_GET_SECCOMP", [PR_SET_SECCOMP] = "PR_SET_SECCOMP",
			[PR_CAPBSET_READ] = "PR_CAPBSET_READ", [PR_SET_NO_NEW_PRIVS] = "PR_SET_NO_NEW_PRIVS",
			[PR_GET_NO_NEW_PRIVS] = "PR_GET_NO_NEW_PRIVS",
			[PR_SET_CHILD_SUBREAPER] = "PR_SET_CHILD_SUBREAPER",
		};
		const char *s = name_of(iv, opt, ARRAY_SIZE(opt));
		if (iv == PR_SET_VMA) /* 0x53564d41: not an index */
			s = "PR_SET_VMA";
		if (s)
			put(o, "%s", s);
		else
			put(o, "%d", iv);
		return;
	}
	default:
		put(o, "%#llx", (unsigned long long)v);
		return;
	}
}

void trace_decode(struct sysreq *r, unsigned strsize, struct trace_args *out)
{
	const char *fmt = r->nr >= 0 && r->nr < SYS_TABLE_SIZE ? formats[r->nr] : NULL;
	if (!fmt)
		fmt = "xxxxxx";
	struct out o = { .buf = out->buf, .cap = sizeof(out->buf) };
	out->n = 0;
	for (unsigned i = 0; fmt[i] && i < 6; i++) {
		out->off[out->n++] = (uint16_t)o.len;
		decode_one(&o, r, fmt[i] == ' ' ? 'x' : fmt[i], i, strsize);
		/* Each argument's text ends with its own NUL. */
		if (o.len + 1 < o.cap)
			o.len++;
		o.buf[o.len - 1] = '\0';
	}
	/* As strace: the mode of an open only when it creates. */
	int flags_arg = r->nr == __NR_openat ? 2 : r->nr == __NR_open ? 1 : -1;
	if (flags_arg >= 0 && out->n == (unsigned)flags_arg + 2 &&
	    !(r->args[flags_arg] & (O_CREAT | __O_TMPFILE)))
		out->n--;
}

static const struct { const char *name; unsigned bit; } class_names[] = {
	{ "file", TRACE_FILE }, { "desc", TRACE_DESC }, { "process", TRACE_PROCESS },
	{ "network", TRACE_NETWORK }, { "net", TRACE_NETWORK }, { "signal", TRACE_SIGNAL },
	{ "ipc", TRACE_IPC }, { "memory", TRACE_MEMORY },
};

static const short process_calls[] = {
	__NR_clone, __NR_clone3, __NR_fork, __NR_vfork, __NR_execve, __NR_execveat,
	__NR_exit, __NR_exit_group, __NR_wait4, __NR_waitid, __NR_kill, __NR_tkill,
	__NR_tgkill, __NR_rt_sigqueueinfo, __NR_rt_tgsigqueueinfo, __NR_pidfd_open,
	__NR_pidfd_send_signal, __NR_unshare, -1,
}, network_calls[] = {
	__NR_socket, __NR_socketpair, __NR_bind, __NR_listen, __NR_accept, __NR_accept4,
	__NR_connect, __NR_getsockname, __NR_getpeername, __NR_sendto, __NR_recvfrom,
	__NR_sendmsg, __NR_recvmsg, __NR_sendmmsg, __NR_recvmmsg, __NR_shutdown,
	__NR_setsockopt, __NR_getsockopt, -1,
}, signal_calls[] = {
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn, __NR_rt_sigpending,
	__NR_rt_sigtimedwait, __NR_rt_sigqueueinfo, __NR_rt_tgsigqueueinfo,
	__NR_rt_sigsuspend, __NR_sigaltstack, __NR_kill, __NR_tkill, __NR_tgkill,
	__NR_pause, __NR_signalfd, __NR_signalfd4, __NR_pidfd_send_signal, -1,
}, ipc_calls[] = {
	__NR_shmget, __NR_shmat, __NR_shmctl, __NR_shmdt, __NR_semget, __NR_semop,
	__NR_semctl, __NR_semtimedop, __NR_msgget, __NR_msgsnd, __NR_msgrcv, __NR_msgctl, -1,
}, memory_calls[] = {
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_brk, __NR_mremap, __NR_msync,
	__NR_mincore, __NR_madvise, __NR_mlock, __NR_munlock, __NR_mlockall,
	__NR_munlockall, __NR_mbind, __NR_set_mempolicy, __NR_get_mempolicy,
	__NR_remap_file_pages, __NR_pkey_mprotect, __NR_mlock2, -1,
};

static bool in(const short *list, int nr)
{
	for (; *list >= 0; list++)
		if (*list == nr)
			return true;
	return false;
}

unsigned trace_class(int nr)
{
	const struct sys_entry *e = sys_lookup(nr);
	unsigned c = 0;
	if (e && (e->flags & SYSF_PATH))
		c |= TRACE_FILE;
	if (e && (e->flags & SYSF_FD))
		c |= TRACE_DESC;
	if (in(process_calls, nr))
		c |= TRACE_PROCESS;
	if (in(network_calls, nr))
		c |= TRACE_NETWORK;
	if (in(signal_calls, nr))
		c |= TRACE_SIGNAL;
	if (in(ipc_calls, nr))
		c |= TRACE_IPC;
	if (in(memory_calls, nr))
		c |= TRACE_MEMORY;
	return c;
}

unsigned trace_class_parse(const char *name)
{
	if (name[0] == '%')
		name++;
	for (size_t i = 0; i < ARRAY_SIZE(class_names); i++)
		if (!strcmp(name, class_names[i].name))
			return class_names[i].bit;
	return 0;
}

int trace_nr_by_name(const char *name)
{
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
		const struct sys_entry *e = sys_lookup(nr);
		if (e && !strcmp(e->name, name))
			return nr;
	}
	return -1;
}

const char *trace_errno_name(int err)
{
	const char *s = strerrorname_np(err);
	return s ? s : "E?";
}
