/* SPDX-License-Identifier: MIT */
/* One dangerous or privileged operation per name, for tests/security/: run
 * inside `moat run` it must be refused, run natively (as root, in throwaway
 * namespaces) it shows that the probe does detect the operation.
 *
 *   probe NAME [ARG]     prints "NAME reached DETAIL" and exits 0 when the
 *                        operation got past the kernel's permission check,
 *                        "NAME blocked ERRNO" and exits 1 when it did not,
 *                        "NAME n/a REASON" and exits 77 when this host
 *                        cannot tell (a feature compiled out). A probe the
 *                        sandbox kills (SIGSYS) exits 159.
 *   probe list           the names, one a line (euid and hold are helpers:
 *                        root after a setuid exec?, wait to be looked at)
 *
 * Never destructive natively: where success would change the host (reboot,
 * kexec, modules, swap, accounting, the clock) the probe passes an argument
 * the kernel refuses only *after* its capability check, so "reached" is an
 * EINVAL/ENOENT/EBADF and "blocked" an EPERM (or moat's ENOSYS). The tests
 * run the native side inside unshare(1)'s own mount, uts, ipc and net
 * namespaces, so a mount or a hostname stays there. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* A probe returns 0 when the operation went through (the kernel let it
 * past its permission check), an errno when it was refused, or -1 when the
 * host cannot tell (its detail in na). */
static const char *na;
static char detail[256];

/* The operation got past the permission check if it succeeded or failed
 * for a reason that comes only after it. */
static int past(long r, int e, int after1, int after2)
{
	if (r >= 0)
		return 0;
	if (e == after1 || e == after2) {
		snprintf(detail, sizeof(detail), "(%s after the permission check)", strerrorname_np(e));
		return 0;
	}
	return e;
}

static int p_mount(const char *a)
{
	(void)a;
	const char *dir = "/tmp/moat-probe-mnt";
	(void)mkdir(dir, 0700);
	if (mount("moat-probe", dir, "tmpfs", 0, "size=1m") < 0)
		return errno;
	(void)umount2(dir, MNT_DETACH);
	return 0;
}

static int p_umount2(const char *a)
{
	(void)a;
	/* The sandbox's (or the throwaway namespace's) /proc. */
	return umount2("/proc", MNT_DETACH) < 0 ? errno : 0;
}

static int unshare_flag(int flag)
{
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(unshare(flag) < 0 ? errno : 0);
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return errno;
	if (WIFSIGNALED(st))
		return raise(WTERMSIG(st)), EINTR;
	return WEXITSTATUS(st);
}

static int p_unshare_mnt(const char *a) { (void)a; return unshare_flag(CLONE_NEWNS); }
static int p_unshare_uts(const char *a) { (void)a; return unshare_flag(CLONE_NEWUTS); }
static int p_unshare_ipc(const char *a) { (void)a; return unshare_flag(CLONE_NEWIPC); }
static int p_unshare_net(const char *a) { (void)a; return unshare_flag(CLONE_NEWNET); }
static int p_unshare_pid(const char *a) { (void)a; return unshare_flag(CLONE_NEWPID); }
static int p_unshare_user(const char *a) { (void)a; return unshare_flag(CLONE_NEWUSER); }
static int p_unshare_cgroup(const char *a) { (void)a; return unshare_flag(CLONE_NEWCGROUP); }
static int p_unshare_time(const char *a) { (void)a; return unshare_flag(CLONE_NEWTIME); }

static int p_setns(const char *a)
{
	(void)a;
	/* Without a namespace file (a sandbox's /proc may have none), any fd:
	 * the permission check on the call comes first either way. */
	int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	int r = setns(fd < 0 ? 0 : fd, CLONE_NEWUTS) < 0 ? errno : 0;
	return fd < 0 && r == EINVAL ? past(-1, EINVAL, EINVAL, EINVAL) : r;
}

static int p_pivot_root(const char *a)
{
	(void)a;
	const char *dir = "/tmp/moat-probe-pivot", *old = "/tmp/moat-probe-pivot/old";
	(void)mkdir(dir, 0700);
	/* A mount point, as pivot_root wants; if mount is refused the call
	 * below still meets the permission check first. */
	(void)mount("moat-probe", dir, "tmpfs", 0, "size=1m");
	(void)mkdir(old, 0700);
	long r = syscall(SYS_pivot_root, dir, old);
	return past(r, errno, EINVAL, EBUSY);
}

/* chroot into a fresh directory while keeping a handle on the outside,
 * then climb: natively a root process leaves the jail and sees the host's
 * root; in the sandbox it may reach the sandbox's own root, never the
 * host's. ARG: a host file that only the host's root shows. */
static int p_chroot_escape(const char *marker)
{
	if (!marker)
		return na = "needs a marker path", -1;
	const char *jail = "/tmp/moat-probe-jail";
	(void)mkdir(jail, 0700);
	int out = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (out < 0)
		return errno;
	if (chroot(jail) < 0)
		return errno;
	if (fchdir(out) < 0)
		return errno;
	for (int i = 0; i < 64; i++)
		(void)chdir("..");
	if (chroot(".") < 0)
		return errno;
	if (access(marker, F_OK) < 0)
		return errno;
	snprintf(detail, sizeof(detail), "(%s visible after the climb)", marker);
	return 0;
}

static int p_bpf(const char *a)
{
	(void)a;
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	long r = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	return r < 0 ? errno : 0;
}

static int p_perf_event_open(const char *a)
{
	(void)a;
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.disabled = 1;
	attr.exclude_kernel = 1;
	long r = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	return r < 0 ? errno : 0;
}

static int p_userfaultfd(const char *a)
{
	(void)a;
	long r = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (r < 0 && errno == EINVAL) /* a kernel without user-mode-only */
		r = syscall(SYS_userfaultfd, O_CLOEXEC);
	return r < 0 ? errno : 0;
}

static int p_keyctl(const char *a)
{
	(void)a;
	/* The session keyring: the host's, unless the keyrings were reached
	 * some other way. */
	long r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	return r < 0 ? errno : 0;
}

static int p_add_key(const char *a)
{
	(void)a;
	long r = syscall(SYS_add_key, "user", "moat-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
	return r < 0 ? errno : 0;
}

static int p_request_key(const char *a)
{
	(void)a;
	long r = syscall(SYS_request_key, "user", "moat-probe-none", NULL, 0);
	return past(r, errno, ENOKEY, EKEYREVOKED);
}

static int p_io_uring_setup(const char *a)
{
	(void)a;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	long r = syscall(SYS_io_uring_setup, 4, &p);
	return r < 0 ? errno : 0;
}

static int p_kexec_load(const char *a)
{
	(void)a;
	/* Flags no kernel knows: EINVAL, but only after CAP_SYS_BOOT. */
	long r = syscall(SYS_kexec_load, 0, 0, NULL, 0x7ff0000ul);
	return past(r, errno, EINVAL, EINVAL);
}

static int p_kexec_file_load(const char *a)
{
	(void)a;
	long r = syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0x7ff0000ul);
	return past(r, errno, EINVAL, EBADF);
}

static int p_init_module(const char *a)
{
	(void)a;
	/* No image: EFAULT/ENOEXEC/EINVAL after CAP_SYS_MODULE. */
	static const char image[64];
	long r = syscall(SYS_init_module, image, sizeof(image), "");
	int e = errno;
	if (r < 0 && (e == EFAULT || e == ENOEXEC || e == EINVAL || e == ENOKEY || e == EBADMSG))
		return past(-1, EINVAL, EINVAL, EINVAL);
	return r < 0 ? e : 0;
}

static int p_finit_module(const char *a)
{
	(void)a;
	long r = syscall(SYS_finit_module, -1, "", 0);
	return past(r, errno, EBADF, EINVAL);
}

static int p_delete_module(const char *a)
{
	(void)a;
	long r = syscall(SYS_delete_module, "moat_probe_none", O_NONBLOCK);
	return past(r, errno, ENOENT, ENOENT);
}

static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int p_ptrace(const char *a)
{
	(void)a;
	pid_t pid = sleeper();
	if (pid < 0)
		return errno;
	long r = syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, pid, 0, 0);
	int e = errno;
	reap(pid);
	return r < 0 ? e : 0;
}

static volatile char target[16] = "untouched";

static int p_process_vm_writev(const char *a)
{
	(void)a;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errno;
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		char c;
		(void)read(pfd[0], &c, 1); /* until the parent wrote */
		_exit(strcmp((const char *)target, "overwritten") == 0 ? 0 : 1);
	}
	char msg[16] = "overwritten";
	struct iovec l = { msg, sizeof(msg) }, rem = { (void *)target, sizeof(msg) };
	long r = syscall(SYS_process_vm_writev, pid, &l, 1, &rem, 1, 0);
	int e = errno;
	(void)write(pfd[1], "x", 1);
	int st;
	waitpid(pid, &st, 0);
	if (r < 0)
		return e;
	snprintf(detail, sizeof(detail), "(the child %s the write)",
		 WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "saw" : "did not see");
	return 0;
}

static int p_personality(const char *a)
{
	(void)a;
	/* READ_IMPLIES_EXEC would make every readable mapping executable,
	 * around the filter's rules on PROT_EXEC. */
	long r = personality(PER_LINUX | READ_IMPLIES_EXEC);
	if (r < 0)
		return errno;
	int cur = personality(0xffffffff);
	if (!(cur & READ_IMPLIES_EXEC))
		return EPERM; /* answered, but not set */
	(void)personality(PER_LINUX);
	return 0;
}

static int p_personality_aslr(const char *a)
{
	(void)a;
	/* ADDR_NO_RANDOMIZE: a guest's own layout made predictable for the
	 * programs it execs. */
	long r = personality(PER_LINUX | ADDR_NO_RANDOMIZE);
	if (r < 0)
		return errno;
	int cur = personality(0xffffffff);
	(void)personality(PER_LINUX);
	return cur & ADDR_NO_RANDOMIZE ? 0 : EPERM;
}

/* struct user_desc of <asm/ldt.h>, which not every host has. */
struct probe_user_desc {
	unsigned int entry_number;
	unsigned int base_addr;
	unsigned int limit;
	unsigned int flags; /* seg_32bit:1 contents:2 read_exec_only:1 limit_in_pages:1 ... */
};

static int p_modify_ldt(const char *a)
{
	(void)a;
	struct probe_user_desc d = { .entry_number = 0, .base_addr = 0, .limit = 0xfff, .flags = 1 };
	long r = syscall(SYS_modify_ldt, 1, &d, sizeof(d));
	if (r < 0 && errno == ENOSYS)
		return na = "modify_ldt is compiled out of this kernel (CONFIG_MODIFY_LDT_SYSCALL)", -1;
	return r < 0 ? errno : 0;
}

static int p_iopl(const char *a)
{
	(void)a;
	long r = syscall(SYS_iopl, 3);
	if (r == 0)
		(void)syscall(SYS_iopl, 0);
	return r < 0 ? errno : 0;
}

static int p_ioperm(const char *a)
{
	(void)a;
	long r = syscall(SYS_ioperm, 0x80, 1, 1);
	if (r == 0)
		(void)syscall(SYS_ioperm, 0x80, 1, 0);
	return r < 0 ? errno : 0;
}

static int clone_flag(unsigned long flag)
{
	long r = syscall(SYS_clone, flag | SIGCHLD, 0, NULL, NULL, 0);
	if (r == 0)
		_exit(0);
	if (r < 0)
		return errno;
	waitpid((pid_t)r, NULL, 0);
	return 0;
}

static int p_clone_newuser(const char *a) { (void)a; return clone_flag(CLONE_NEWUSER); }
static int p_clone_newns(const char *a) { (void)a; return clone_flag(CLONE_NEWNS); }
static int p_clone_newpid(const char *a) { (void)a; return clone_flag(CLONE_NEWPID); }
static int p_clone_newnet(const char *a) { (void)a; return clone_flag(CLONE_NEWNET); }

struct probe_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int clone3_flag(uint64_t flag)
{
	struct probe_clone_args ca = { .flags = flag, .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r == 0)
		_exit(0);
	if (r < 0)
		return errno;
	waitpid((pid_t)r, NULL, 0);
	return 0;
}

static int p_clone3_newuser(const char *a) { (void)a; return clone3_flag(CLONE_NEWUSER); }
static int p_clone3_newns(const char *a) { (void)a; return clone3_flag(CLONE_NEWNS); }

/* A copy of this program in a memfd, exec'd by fd, tries to unshare a user
 * namespace: an exec from memory must not shed the sandbox. */
static int p_memfd_exec(const char *a)
{
	(void)a;
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return errno;
	int mfd = (int)syscall(SYS_memfd_create, "moat-probe", MFD_CLOEXEC);
	if (mfd < 0)
		return errno;
	char buf[65536];
	ssize_t n;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(mfd, buf, (size_t)n) != n)
			return errno;
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		char *argv[] = { "probe", "unshare_user", NULL };
		char *envp[] = { NULL };
		syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
		_exit(100 + errno); /* the exec itself refused */
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) >= 100)
		return WEXITSTATUS(st) - 100;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return snprintf(detail, sizeof(detail), "(the memfd program unshared a user namespace)"), 0;
	/* It ran, and its unshare was refused. */
	return EPERM;
}

/* ARG: "HANDLE_TYPE:HEX" of a host file (name_to_handle_at on the host).
 * Opening it by handle, relative to any mount of the sandbox, must fail. */
static int p_open_by_handle_at(const char *a)
{
	if (!a)
		return na = "needs a handle", -1;
	unsigned char h[128];
	int type;
	char hex[300];
	if (sscanf(a, "%d:%299s", &type, hex) != 2)
		return na = "bad handle argument", -1;
	size_t len = strlen(hex) / 2;
	if (len > sizeof(h))
		return na = "handle too long", -1;
	for (size_t i = 0; i < len; i++)
		sscanf(hex + 2 * i, "%2hhx", &h[i]);
	struct {
		unsigned int bytes;
		int type;
		unsigned char f[128];
	} fh;
	fh.bytes = (unsigned int)len;
	fh.type = type;
	memcpy(fh.f, h, len);
	int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return errno;
	long r = syscall(SYS_open_by_handle_at, mfd, &fh, O_RDONLY | O_CLOEXEC);
	if (r < 0)
		return errno;
	char buf[64] = "";
	ssize_t n = read((int)r, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	snprintf(detail, sizeof(detail), "(read \"%s\")", buf);
	return 0;
}

static int p_name_to_handle_at(const char *a)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char f[128];
	} fh = { .bytes = 128 };
	int mount_id;
	long r = syscall(SYS_name_to_handle_at, AT_FDCWD, a ? a : "/etc/passwd", &fh, &mount_id, 0);
	if (r < 0)
		return errno;
	if (a) { /* for the host side of open_by_handle_at */
		printf("handle %d:", fh.type);
		for (unsigned i = 0; i < fh.bytes; i++)
			printf("%02x", fh.f[i]);
		printf("\n");
	}
	return 0;
}

static int p_vsyscall(const char *a)
{
	(void)a;
	/* The legacy gettimeofday entry of the vsyscall page. A sandbox
	 * must make it unusable (SIGSEGV or SIGSYS); natively it answers
	 * where the kernel emulates it. */
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		struct timeval tv;
		long (*vgtod)(struct timeval *, void *) = (long (*)(struct timeval *, void *))0xffffffffff600000ul;
		long r = vgtod(&tv, NULL);
		_exit(r == 0 && tv.tv_sec > 0 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st)) {
		snprintf(detail, sizeof(detail), "(killed by %s)", sigabbrev_np(WTERMSIG(st)));
		return WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGSYS ? EFAULT : EINTR;
	}
	return WEXITSTATUS(st) == 0 ? 0 : EINVAL;
}

/* Guest memory the sentry cannot read: the [vvar] page is readable by
 * the task itself (the kernel's copy_from_user reads it for the task's own
 * syscall), but it is a VM_PFNMAP mapping that process_vm_readv, the
 * sentry's way in, refuses with EFAULT. So each emulated call below, given
 * a pointer into it, must be answered EFAULT by the sentry; a sentry that
 * let the call continue to the kernel instead would hand back the kernel's
 * answer to the page's bytes taken as a path or address (ENOENT, EINVAL,
 * EAFNOSUPPORT), which is what the native run shows. */
static int p_unreadable(const char *a)
{
	(void)a;
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return errno;
	char line[512];
	unsigned long vv = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vvar]")) {
			vv = strtoul(line, NULL, 16);
			break;
		}
	fclose(f);
	if (!vv) {
		na = "no [vvar] mapping here";
		return -1;
	}
	const char *p = (const char *)vv;
	struct stat st;
	char buf[64];
	char *const argv[] = { "x", NULL };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct {
		const char *name;
		long r;
		int e;
	} c[6];
	int n = 0;
#define TRY(nm, call)                                   \
	do {                                            \
		errno = 0;                              \
		c[n].r = (call);                        \
		c[n].e = errno;                         \
		c[n++].name = (nm);                     \
	} while (0)
	TRY("stat", stat(p, &st));
	TRY("open", open(p, O_RDONLY | O_CLOEXEC));
	TRY("readlink", readlink(p, buf, sizeof(buf)));
	TRY("chdir", chdir(p));
	TRY("execve", execve(p, argv, argv + 1));
	TRY("connect", connect(s, (const struct sockaddr *)p, 110));
#undef TRY
	close(s);
	int len = 0, r = EFAULT;
	for (int i = 0; i < n; i++) {
		len += snprintf(detail + len, sizeof(detail) - (size_t)len, "%s%s=%s", i ? "," : "(",
				c[i].name, c[i].r >= 0 ? "ok" : strerrorname_np(c[i].e));
		if (c[i].r >= 0 || c[i].e != EFAULT)
			r = 0; /* the kernel read the page for this call */
	}
	snprintf(detail + len, sizeof(detail) - (size_t)len, ")");
	return r;
}

/* A sockaddr rewritten by a second thread between the sentry's read and
 * the kernel's: the thread flips the first byte of sun_path between '/'
 * (the host's path socket ARG) and NUL (an abstract name nobody listens
 * on) while the main thread connects, 20,000 times. Natively some connects
 * reach ARG; in a sandbox none may, whichever form the sentry read. */
static volatile int swap_stop;
static struct sockaddr_un swap_addr;

static void *swap_thread(void *arg)
{
	(void)arg;
	while (!swap_stop) {
		*(volatile char *)&swap_addr.sun_path[0] = 0;
		*(volatile char *)&swap_addr.sun_path[0] = '/';
	}
	return NULL;
}

static int p_sockswap(const char *a)
{
	if (!a || a[0] != '/' || strlen(a) >= sizeof(swap_addr.sun_path)) {
		na = "needs the absolute path of a listening socket";
		return -1;
	}
	swap_addr.sun_family = AF_UNIX;
	strcpy(swap_addr.sun_path, a);
	pthread_t th;
	if (pthread_create(&th, NULL, swap_thread, NULL) != 0)
		return EAGAIN;
	int reached = 0, last = 0;
	for (int i = 0; i < 20000; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			last = errno;
			break;
		}
		if (connect(s, (struct sockaddr *)&swap_addr, sizeof(swap_addr)) == 0)
			reached++;
		else if (errno != ECONNREFUSED || !last)
			last = errno; /* ECONNREFUSED: the abstract form; keep another */
		close(s);
	}
	swap_stop = 1;
	pthread_join(th, NULL);
	snprintf(detail, sizeof(detail), "(%d of 20000 connects reached it)", reached);
	return reached ? 0 : last ? last : ECONNREFUSED;
}

static int p_acct(const char *a)
{
	(void)a;
	long r = syscall(SYS_acct, "/moat-probe-none/acct");
	return past(r, errno, ENOENT, ENOTDIR);
}

static int p_swapon(const char *a)
{
	(void)a;
	long r = syscall(SYS_swapon, "/moat-probe-none/swap", 0);
	return past(r, errno, ENOENT, ENOTDIR);
}

static int p_reboot(const char *a)
{
	(void)a;
	/* Wrong magic: EINVAL, but only after CAP_SYS_BOOT. */
	long r = syscall(SYS_reboot, 0x12345678, 0x12345678, 0x01234567, NULL);
	return past(r, errno, EINVAL, EINVAL);
}

static int p_settimeofday(const char *a)
{
	(void)a;
	/* Only a time zone, out of range: EINVAL after CAP_SYS_TIME. */
	struct timezone tz = { .tz_minuteswest = 16 * 60 };
	long r = syscall(SYS_settimeofday, NULL, &tz);
	return past(r, errno, EINVAL, EINVAL);
}

static int p_adjtimex(const char *a)
{
	(void)a;
	/* A tick far out of range: EINVAL after CAP_SYS_TIME. */
	struct timex tx = { .modes = ADJ_TICK, .tick = 1 };
	long r = syscall(SYS_adjtimex, &tx);
	return past(r, errno, EINVAL, EINVAL);
}

/* Sets the clock to what it reads: only for the sandbox (the tests do not
 * run it natively). */
static int p_clock_settime(const char *a)
{
	(void)a;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return syscall(SYS_clock_settime, CLOCK_REALTIME, &ts) < 0 ? errno : 0;
}

static int p_sethostname(const char *a)
{
	const char *name = a ? a : "moat-probe";
	return sethostname(name, strlen(name)) < 0 ? errno : 0;
}

static int p_syslog(const char *a)
{
	(void)a;
	char buf[4096];
	long r = syscall(SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, buf, (int)sizeof(buf));
	if (r < 0)
		return errno;
	snprintf(detail, sizeof(detail), "(%ld bytes of kernel log)", r);
	return 0;
}

/* Writing the runtime: the exe of this process and of pid 1, opened for
 * writing directly and through a reopened O_PATH fd (runc's CVE-2019-5736).
 * A byte appended to whatever opens; the test hashes the binaries outside. */
static int p_write_exe(const char *a)
{
	const char *paths[] = { "/proc/self/exe", "/proc/1/exe", a };
	int first = 0;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (!paths[i])
			continue;
		int fd = open(paths[i], O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0) {
			first = first ? first : errno;
			int pfd = open(paths[i], O_PATH | O_CLOEXEC);
			if (pfd < 0)
				continue;
			char via[64];
			snprintf(via, sizeof(via), "/proc/self/fd/%d", pfd);
			fd = open(via, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (fd < 0)
				continue;
		}
		if (write(fd, "M", 1) == 1) {
			snprintf(detail, sizeof(detail), "(appended to %s)", paths[i]);
			return 0;
		}
		first = first ? first : errno;
	}
	return first ? first : EPERM;
}

/* After the exec of a setuid-root copy of this program: root? */
static int p_euid(const char *a)
{
	(void)a;
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	snprintf(detail, sizeof(detail), "(uids %u %u %u)", r, e, s);
	return e == 0 ? 0 : EPERM;
}

/* Prints "ready" and waits (30 s at most) for the test to look at this
 * process from outside. */
static int p_hold(const char *a)
{
	(void)a;
	printf("ready\n");
	fflush(stdout);
	sleep(30);
	return 0;
}

struct probe {
	const char *name;
	int (*fn)(const char *);
};

static const struct probe probes[] = {
	{ "mount", p_mount },
	{ "umount2", p_umount2 },
	{ "unshare_mnt", p_unshare_mnt },
	{ "unshare_uts", p_unshare_uts },
	{ "unshare_ipc", p_unshare_ipc },
	{ "unshare_net", p_unshare_net },
	{ "unshare_pid", p_unshare_pid },
	{ "unshare_user", p_unshare_user },
	{ "unshare_cgroup", p_unshare_cgroup },
	{ "unshare_time", p_unshare_time },
	{ "setns", p_setns },
	{ "pivot_root", p_pivot_root },
	{ "chroot_escape", p_chroot_escape },
	{ "bpf", p_bpf },
	{ "perf_event_open", p_perf_event_open },
	{ "userfaultfd", p_userfaultfd },
	{ "keyctl", p_keyctl },
	{ "add_key", p_add_key },
	{ "request_key", p_request_key },
	{ "io_uring_setup", p_io_uring_setup },
	{ "kexec_load", p_kexec_load },
	{ "kexec_file_load", p_kexec_file_load },
	{ "init_module", p_init_module },
	{ "finit_module", p_finit_module },
	{ "delete_module", p_delete_module },
	{ "ptrace", p_ptrace },
	{ "process_vm_writev", p_process_vm_writev },
	{ "personality", p_personality },
	{ "personality_aslr", p_personality_aslr },
	{ "modify_ldt", p_modify_ldt },
	{ "iopl", p_iopl },
	{ "ioperm", p_ioperm },
	{ "clone_newuser", p_clone_newuser },
	{ "clone_newns", p_clone_newns },
	{ "clone_newpid", p_clone_newpid },
	{ "clone_newnet", p_clone_newnet },
	{ "clone3_newuser", p_clone3_newuser },
	{ "clone3_newns", p_clone3_newns },
	{ "memfd_exec", p_memfd_exec },
	{ "open_by_handle_at", p_open_by_handle_at },
	{ "name_to_handle_at", p_name_to_handle_at },
	{ "vsyscall", p_vsyscall },
	{ "unreadable", p_unreadable },
	{ "sockswap", p_sockswap },
	{ "acct", p_acct },
	{ "swapon", p_swapon },
	{ "reboot", p_reboot },
	{ "settimeofday", p_settimeofday },
	{ "adjtimex", p_adjtimex },
	{ "clock_settime", p_clock_settime },
	{ "sethostname", p_sethostname },
	{ "syslog", p_syslog },
	{ "write_exe", p_write_exe },
	{ "euid", p_euid },
	{ "hold", p_hold },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: probe NAME [ARG] | probe list\n");
		return 2;
	}
	if (strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			printf("%s\n", probes[i].name);
		return 0;
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (strcmp(argv[1], probes[i].name))
			continue;
		int r = probes[i].fn(argc > 2 ? argv[2] : NULL);
		if (r < 0) {
			printf("%s n/a %s\n", argv[1], na);
			return 77;
		}
		if (r == 0) {
			printf("%s reached %s\n", argv[1], detail);
			return 0;
		}
		printf("%s blocked %s %s\n", argv[1], strerrorname_np(r), detail);
		return 1;
	}
	fprintf(stderr, "probe: unknown name %s\n", argv[1]);
	return 2;
}
