/* SPDX-License-Identifier: MIT */
/* Races against moat's exec (tests/integration/exec_race.sh). Runs inside the
 * sandbox; built on the host by the test.
 *
 *   exec_race good ARGS...      prints "good <pid> ARGS..." and exits 0
 *   exec_race fd N              N times: fork, a sibling thread dup2()s a
 *                               non-executable file over every close-on-exec
 *                               fd while the main thread execs "good"
 *   exec_race fd2 N             the same, swapping only the second of two such
 *                               fds, once (moat's memfd comes first)
 *   exec_race path N            a sibling keeps writing an absolute path (the
 *                               ELF interpreter) where the sentry wrote "" below
 *                               the exec'ing thread's stack pointer, and the
 *                               argv asks ld.so to run the non-executable file
 *   exec_race remap N           a sibling maps its own memory over moat's
 *                               mapping of "" and argv (found in
 *                               /proc/self/maps), with another argv
 *   exec_race argv N            a sibling keeps flipping the argv strings
 *   exec_race crowd N           the child fills the address range where moat
 *                               maps argv (PROT_NONE) before it execs
 *   exec_race stop N            the parent stops and continues the child
 *                               (SIGSTOP, SIGCONT) all through its exec
 *   exec_race sig N             a sibling queues N realtime signals with values
 *                               at the main thread while it execs itself in a
 *                               loop with an argv the kernel refuses (E2BIG,
 *                               after the sentry's checks); every signal must
 *                               arrive once with its value
 *   exec_race regs              such a failing exec gives E2BIG with every other
 *                               register as it was and no new fd left open
 *   exec_race arena             the exec arena (moat's shared read-only mapping
 *                               made at a process's first fork) cannot be made
 *                               writable, and children still exec after it is
 *                               not inherited (MADV_DONTFORK) or unmapped
 *
 * The non-executable file is /tmp/evil (this program built with -DEVIL, mode
 * 644, which prints "EVIL" when run). The parent prints one line per outcome:
 * "ran", "killed", "failed"; "EVIL" comes from the evil program itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define EVIL "/tmp/evil"
#define INTERP "/lib64/ld-linux-x86-64.so.2"

static const char *self;
extern char **environ;
static int evil_fd;
static _Atomic uintptr_t target;
static char arg1[] = "AAAAAAAAAAAAAAAA";

/* The exec's fd is close-on-exec: swap every such fd. */
static void *swap_fds(void *unused)
{
	(void)unused;
	for (;;)
		for (int n = 3; n < 16; n++)
			if (n != evil_fd && fcntl(n, F_GETFD) == FD_CLOEXEC)
				dup2(evil_fd, n);
	return NULL;
}

/* Where two close-on-exec fds appear (moat's memfd, then the program), swap
 * only the second: the exec then runs the other file unless stopped. */
static void *swap_second_fd(void *unused)
{
	(void)unused;
	for (;;) {
		int first = -1;
		for (int n = 3; n < 16; n++) {
			if (n == evil_fd || fcntl(n, F_GETFD) != FD_CLOEXEC)
				continue;
			if (first < 0) {
				first = n;
				continue;
			}
			dup2(evil_fd, n);
			return NULL;
		}
	}
	return NULL;
}

static void *write_path(void *unused)
{
	(void)unused;
	for (;;) {
		uintptr_t t = atomic_load(&target);
		if (t)
			memcpy((void *)t, INTERP, sizeof(INTERP));
	}
	return NULL;
}

/* Find moat's mapping of "" and argv and map own memory there instead,
 * with "" and another argv than the one the sentry audited. */
static void *remap(void *unused)
{
	(void)unused;
	static char buf[65536];
	for (;;) {
		int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		char *m = strstr(buf, "moat-exec");
		if (!m)
			continue;
		while (m > buf && m[-1] != '\n')
			m--;
		uintptr_t at = strtoul(m, NULL, 16);
		char *p = mmap((void *)at, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			continue;
		char **argv = (char **)(p + 8);
		const char *s[] = { "good", EVIL, "remap", "HACKED" };
		for (int i = 0; i < 4; i++)
			argv[i] = strcpy(p + 256 * (i + 1), s[i]);
		return NULL;
	}
}

static void *flip_argv(void *unused)
{
	(void)unused;
	for (;;) {
		memset(arg1, 'B', sizeof(arg1) - 1);
		memset(arg1, 'A', sizeof(arg1) - 1);
	}
	return NULL;
}

/* execve with the stack pointer known: the sentry under test wrote "" at
 * (rsp - 128 - 8) & ~15, and the sibling writes there. */
static long execve_at_known_sp(const char *path, char *const argv[])
{
	uintptr_t sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	atomic_store(&target, (sp - 128 - 8) & ~(uintptr_t)15);
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_execve), "D"(path), "S"(argv), "d"(environ)
			 : "rcx", "r11", "memory");
	return ret;
}

static void child(const char *mode)
{
	pthread_t th;
	void *(*fn)(void *) = !strcmp(mode, "fd")     ? swap_fds
			      : !strcmp(mode, "fd2")  ? swap_second_fd
			      : !strcmp(mode, "path") ? write_path
			      : !strcmp(mode, "argv") ? flip_argv
			      : !strcmp(mode, "remap") ? remap
						      : NULL;
	/* ld.so, if it ran instead, would run argv[1] */
	char *argv[] = { "good", EVIL, (char *)mode, arg1, NULL };
	/* MAP_FIXED: over the exec arena inherited from the parent too */
	if (!strcmp(mode, "crowd") &&
	    mmap((void *)0x510000000000, 0x40000000000, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
		_exit(3);
	evil_fd = open(EVIL, O_RDONLY);
	if (evil_fd < 0 || (fn && pthread_create(&th, NULL, fn, NULL)))
		_exit(3);
	/* give the sibling time to start */
	for (volatile int i = 0; i < 100000; i++)
		;
	if (!strcmp(mode, "path"))
		execve_at_known_sp(self, argv);
	else
		execv(self, argv);
	fprintf(stderr, "exec: %s\n", strerror(errno));
	_exit(3);
}

static volatile sig_atomic_t nsig, badsig;
static volatile long sigsum;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (si->si_code != SI_QUEUE)
		badsig++;
	nsig++;
	sigsum += si->si_value.sival_int;
}

static pthread_t main_thread;
static _Atomic int sent;

static void *send_sigs(void *arg)
{
	int n = (int)(intptr_t)arg;
	for (int i = 1; i <= n; i++) {
		for (volatile int j = 0; j < 20000; j++)
			;
		union sigval v = { .sival_int = i };
		while (pthread_sigqueue(main_thread, SIGRTMIN, v) == EAGAIN)
			;
	}
	atomic_store(&sent, 1);
	return NULL;
}

static char big[3][60 * 1024];

/* The kernel allows argv+envp of a quarter of the stack limit, and at least
 * 128 KiB: with a 512 KiB limit, 3 x 60 KiB is too much. */
static int too_big_argv(void)
{
	struct rlimit rl = { 512 * 1024, 512 * 1024 };
	if (setrlimit(RLIMIT_STACK, &rl))
		return -1;
	for (int i = 0; i < 3; i++)
		memset(big[i], 'x', sizeof(big[i]) - 1);
	return 0;
}

static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 256; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static int regs_mode(void)
{
	if (too_big_argv())
		return 3;
	char *argv[] = { (char *)self, big[0], big[1], big[2], NULL };
	int fds = open_fds();
	register long r8 __asm__("r8") = 0x0808080808080808;
	register long r9 __asm__("r9") = 0x0909090909090909;
	register long r10 __asm__("r10") = 0x1010101010101010;
	register long r12 __asm__("r12") = 0x1212121212121212;
	register long r13 __asm__("r13") = 0x1313131313131313;
	register long r14 __asm__("r14") = 0x1414141414141414;
	register long r15 __asm__("r15") = 0x1515151515151515;
	long rax = SYS_execve, rbx = 0x0b0b0b0b0b0b0b0b;
	const char *rdi = self;
	char **rsi = argv, **rdx = environ;
	__asm__ volatile("syscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8), "+r"(r9), "+r"(r10),
			   "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15), "+b"(rbx)
			 :
			 : "rcx", "r11", "memory");
	int ok = rax == -E2BIG && rdi == self && rsi == argv && rdx == environ &&
		 r8 == 0x0808080808080808 && r9 == 0x0909090909090909 && r10 == 0x1010101010101010 &&
		 r12 == 0x1212121212121212 && r13 == 0x1313131313131313 && r14 == 0x1414141414141414 &&
		 r15 == 0x1515151515151515 && rbx == 0x0b0b0b0b0b0b0b0b;
	printf("execve %ld, registers %s, fds %d -> %d\n", rax, ok ? "kept" : "changed", fds, open_fds());
	return ok && fds == open_fds() ? 0 : 1;
}

static int sig_mode(int n)
{
	if (too_big_argv())
		return 3;
	struct sigaction sa = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigaction(SIGRTMIN, &sa, NULL);
	main_thread = pthread_self();
	pthread_t th;
	if (pthread_create(&th, NULL, send_sigs, (void *)(intptr_t)n))
		return 3;
	char *argv[] = { (char *)self, big[0], big[1], big[2], NULL };
	long execs = 0, wrong = 0;
	while (!atomic_load(&sent)) {
		execs++;
		if (execv(self, argv) == 0 || errno != E2BIG) {
			if (!wrong++)
				printf("execv: %s\n", strerror(errno));
		}
	}
	pthread_join(th, NULL);
	/* realtime signals still pending are delivered by now (we are not
	 * blocking them), but give a late one a moment */
	for (int i = 0; i < 100 && nsig < n; i++)
		usleep(1000);
	long want = (long)n * (n + 1) / 2;
	printf("signals %d/%d sum %ld/%ld bad %d execs %ld wrong-errno %ld\n", (int)nsig, n, (long)sigsum,
	       want, (int)badsig, execs, wrong);
	return nsig == n && sigsum == want && !badsig && !wrong ? 0 : 1;
}

/* The start and length of the mapping named moat-exec (0 if none). */
static uintptr_t find_arena(size_t *len)
{
	static char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *m = strstr(buf, "moat-exec");
	if (!m)
		return 0;
	while (m > buf && m[-1] != '\n')
		m--;
	char *end;
	uintptr_t lo = strtoul(m, &end, 16), hi = strtoul(end + 1, NULL, 16);
	*len = hi - lo;
	return lo;
}

/* Fork a child that execs "good"; 0 if it ran. */
static int exec_good_child(void)
{
	fflush(stdout);
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		char *argv[] = { "good", "arena", NULL };
		execv(self, argv);
		_exit(3);
	}
	int st;
	return waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int arena_mode(void)
{
	if (exec_good_child() < 0) /* the first fork maps the arena */
		return 1;
	size_t len = 0;
	char *at = (char *)find_arena(&len);
	if (!at || len < 65536) {
		printf("no arena mapped after a fork (%p, %zu bytes)\n", (void *)at, len);
		return 1;
	}
	if (mprotect(at, 4096, PROT_READ | PROT_WRITE) == 0 || errno != EACCES) {
		printf("mprotect(PROT_WRITE) of the arena: %s\n", strerror(errno));
		return 1;
	}
	int ok = exec_good_child() == 0;
	if (madvise(at, len, MADV_DONTFORK) < 0)
		return 3;
	ok &= exec_good_child() == 0;
	if (munmap(at, len) < 0)
		return 3;
	ok &= exec_good_child() == 0;
	printf("arena %s\n", ok ? "ok" : "broken");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
#ifdef EVIL_BUILD
	(void)argc, (void)argv;
	printf("EVIL\n");
	return 0;
#endif
	if (!strcmp(argv[0], "good") || (argc > 1 && !strcmp(argv[1], "good"))) {
		printf("good %d", (int)getpid());
		for (int i = 1; i < argc; i++)
			printf(" %s", argv[i]);
		printf("\n");
		return 0;
	}
	if (argc < 3)
		return 2;
	int n = atoi(argv[2]);
	static char path[4096];
	ssize_t l = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (l < 0)
		return 2;
	self = path;
	if (!strcmp(argv[1], "sig"))
		return sig_mode(n);
	if (!strcmp(argv[1], "regs"))
		return regs_mode();
	if (!strcmp(argv[1], "arena"))
		return arena_mode();
	int ran = 0, killed = 0, failed = 0;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t p = fork();
		if (p < 0) {
			printf("fork: %s\n", strerror(errno));
			return 2;
		}
		if (p == 0)
			child(argv[1]);
		int st;
		for (;;) {
			if (!strcmp(argv[1], "stop")) {
				kill(p, SIGSTOP);
				sched_yield();
				kill(p, SIGCONT);
			}
			pid_t w = waitpid(p, &st, !strcmp(argv[1], "stop") ? WNOHANG : 0);
			if (w == p)
				break;
			if (w < 0) {
				printf("waitpid: %s\n", strerror(errno));
				return 2;
			}
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ran++;
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			killed++;
		else
			failed++;
	}
	printf("ran %d killed %d failed %d\n", ran, killed, failed);
	return 0;
}
