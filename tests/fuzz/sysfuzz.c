/* SPDX-License-Identifier: MIT */
/* The syscall fuzzer (issue 9), run INSIDE `moat run` by tests/fuzz/sysfuzz.sh:
 *
 *   sysfuzz SEED SECONDS [MARKER]
 *
 * For SECONDS, the parent forks children one after another (a few at a
 * time); each child starts a thread that keeps rewriting the buffers the
 * calls point at, then issues CALLS_PER_CHILD random syscalls by number
 * with random arguments: small and random integers, fds it opened (files,
 * directories, pipes, sockets, an eventfd, a memfd) and bad ones,
 * pointers to valid, read-only, unmapped, kernel and vsyscall memory, to
 * buffers filled with paths from a small dictionary (some naming MARKER,
 * which sysfuzz.sh looks for on the host afterwards), and to the buffers
 * the thread mutates while the call runs. A child that blocks is killed
 * after CHILD_TIMEOUT_MS, one that dies is replaced. Once a second the
 * parent makes a call the sentry must answer (a stat of /proc/self and an
 * open of a dictionary path) and prints "alive N", so the script can see
 * that the sentry kept serving; at the end it prints "done ..." and exits 0
 * (3, after a line saying so, if a child survived SIGKILL for a minute).
 *
 * Left out (skip_call), because they would only end a child without
 * testing moat:
 *  - exit, exit_group: end the child at once;
 *  - rt_sigreturn: restores registers from garbage (a SIGSEGV);
 *  - vfork: the parent is suspended while the child scribbles on its stack;
 *  - brk: moves the heap the fuzzer itself uses.
 * Aimed, not left out:
 *  - memory calls (munmap, mremap, mprotect, pkey_mprotect, madvise, shmdt,
 *    remap_file_pages, mlock*, mseal, map_shadow_stack, is_memory_call):
 *    their address is forced into a sacrificial area, or they unmap the
 *    fuzzer's own code and stack;
 *  - kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo,
 *    pidfd_send_signal, process_madvise (is_signal_call): the target is
 *    the child itself, or they would kill the fuzzer's parent;
 *  - any argument equal to the parent's pid (ptrace, process_vm_writev,
 *    prlimit64, ...) is replaced by the child's own;
 *  - the children's stdin, stdout and stderr are /dev/null;
 *  - setpgid/setsid are kept, but the parent kills children by pid.
 * Calls a child makes in a forked copy of itself (fork, clone) end that
 * copy at once. Deterministic for a seed, up to timing. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NR_MAX 463
#define CALLS_PER_CHILD 400
#define CHILD_TIMEOUT_MS 250
#define PARALLEL 3
#define NBUF 8
#define BUFSZ 8192

static uint64_t rng;
static uint64_t rnd(void)
{
	/* xorshift64*: fast, and the same sequence for a seed. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

static const char *marker = "sysfuzz-marker";
static char paths[32][256];
static size_t npaths;

static void make_paths(void)
{
	static const char *const fixed[] = {
		"/", ".", "..", "/tmp", "/tmp/f", "/proc/self/exe", "/proc/self/root",
		"/proc/self/fd/0", "/proc/self/cwd/..", "/proc/1/exe", "/proc/self/mem",
		"/dev/null", "/dev/zero", "/etc/passwd", "/bin/true", "/nonexistent/x",
		"../../../../../../../../etc/shadow", "/proc/self/comm", "/sys", "/dev/shm/x",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		snprintf(paths[npaths++], sizeof(paths[0]), "%s", fixed[i]);
	static const char *const marked[] = { "/tmp/%s", "/etc/%s", "/root/%s", "/%s",
					      "../../../../tmp/%s", "/proc/self/root/tmp/%s",
					      "/proc/1/cwd/%s", "/dev/shm/%s", "/var/tmp/%s" };
	for (size_t i = 0; i < sizeof(marked) / sizeof(marked[0]); i++)
		snprintf(paths[npaths++], sizeof(paths[0]), marked[i], marker);
}

/* Memory the arguments point into. */
static uint8_t *bufs[NBUF];        /* read-write, random contents */
static volatile uint8_t *shared;   /* rewritten by the mutator thread */
static uint8_t *ro;                /* read-only page */
static uint8_t *sacrificial;       /* what memory calls may destroy */
static uintptr_t unmapped;         /* a page that is not mapped */

static int fds[32];
static int nfds;

static void *mutator(void *arg)
{
	uint64_t s = (uintptr_t)arg | 1;
	for (;;) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		size_t off = s % (BUFSZ - 256);
		switch (s >> 60) {
		case 0: /* a path appears, then changes under the sentry */
			memcpy((void *)(shared + off), paths[(s >> 8) % npaths], 64);
			break;
		case 1:
			shared[off] = 0;
			break;
		case 2:
			memset((void *)(shared + off), '/', 16);
			break;
		default:
			shared[off] = (uint8_t)(s >> 16);
		}
		if (!(s & 0xff))
			sched_yield();
	}
	return NULL;
}

static void open_fds(void)
{
	int p[2], sv[2];
	nfds = 0;
	fds[nfds++] = open("/", O_RDONLY | O_DIRECTORY);
	fds[nfds++] = open("/tmp", O_RDONLY | O_DIRECTORY);
	fds[nfds++] = open("/dev/null", O_RDWR);
	fds[nfds++] = open("/proc/self/stat", O_RDONLY);
	fds[nfds++] = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	fds[nfds++] = open("/etc/passwd", O_RDONLY);
	fds[nfds++] = open("/proc/self", O_PATH);
	if (pipe2(p, O_NONBLOCK) == 0)
		fds[nfds++] = p[0], fds[nfds++] = p[1];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0)
		fds[nfds++] = sv[0], fds[nfds++] = sv[1];
	fds[nfds++] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fds[nfds++] = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fds[nfds++] = eventfd(0, EFD_NONBLOCK);
	fds[nfds++] = memfd_create("sysfuzz", 0);
	fds[nfds++] = -1;
	fds[nfds++] = AT_FDCWD;
	fds[nfds++] = 1000;
	fds[nfds++] = 0;
}

static uint64_t arg_ptr(void)
{
	switch (below(12)) {
	case 0:
		return 0;
	case 1:
		return unmapped + below(4096);
	case 2:
		return (uint64_t)ro + below(4096);
	case 3:
		return 0xffffffffff600000ULL; /* vsyscall */
	case 4:
		return 0xffff888000000000ULL + below(1 << 20); /* the kernel's */
	case 5:
		return (uint64_t)bufs[below(NBUF)] + BUFSZ - below(16); /* straddles the end */
	case 6:
	case 7:
	case 8:
		return (uint64_t)(shared + below(BUFSZ - 512));
	default: {
		/* A path at the buffer's start, random bytes after. */
		uint8_t *b = bufs[below(NBUF)];
		const char *p = paths[below(npaths)];
		memcpy(b, p, strlen(p) + 1);
		return (uint64_t)b;
	}
	}
}

static uint64_t arg_int(void)
{
	static const uint64_t interesting[] = { 0, 1, 2, 3, 4, 8, 16, 64, 255, 256, 4095, 4096,
						 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff,
						 (uint64_t)-1, (uint64_t)-2, 1ULL << 63, AT_FDCWD,
						 O_CREAT | O_RDWR, O_PATH, O_DIRECTORY, AT_EMPTY_PATH,
						 AT_SYMLINK_NOFOLLOW, 0777, 0644 };
	switch (below(5)) {
	case 0:
		return interesting[below(sizeof(interesting) / sizeof(interesting[0]))];
	case 1:
		return rnd();
	case 2:
		return rnd() & 0xffffffff;
	case 3:
		return 1ULL << below(64);
	default:
		return below(16);
	}
}

static uint64_t arg(void)
{
	switch (below(4)) {
	case 0:
		return (uint64_t)(int64_t)fds[below(nfds)];
	case 1:
	case 2:
		return arg_ptr();
	default:
		return arg_int();
	}
}

static bool is_memory_call(long nr)
{
	return nr == SYS_munmap || nr == SYS_mremap || nr == SYS_mprotect ||
	       nr == SYS_pkey_mprotect || nr == SYS_madvise || nr == SYS_shmdt ||
	       nr == SYS_remap_file_pages || nr == SYS_mlock || nr == SYS_munlock ||
	       nr == SYS_mlock2 || nr == 462 /* mseal */ || nr == 453 /* map_shadow_stack */;
}

static bool is_signal_call(long nr)
{
	return nr == SYS_kill || nr == SYS_tkill || nr == SYS_tgkill ||
	       nr == SYS_rt_sigqueueinfo || nr == SYS_rt_tgsigqueueinfo ||
	       nr == SYS_pidfd_send_signal || nr == SYS_process_madvise;
}

static bool skip_call(long nr)
{
	return nr == SYS_exit || nr == SYS_exit_group || nr == SYS_rt_sigreturn || nr == SYS_vfork ||
	       nr == SYS_brk;
}

static void child(uint64_t seed, pid_t parent)
{
	rng = seed | 1;
	pid_t self = getpid();
	/* Its writes to stdout and stderr would be gigabytes of noise. */
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0), dup2(null, 1), dup2(null, 2);
	close(null);
	open_fds();
	for (int i = 0; i < NBUF; i++) {
		bufs[i] = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (size_t j = 0; j < BUFSZ; j += 8) {
			uint64_t v = rnd();
			memcpy(bufs[i] + j, &v, 8);
		}
	}
	pthread_t th;
	pthread_create(&th, NULL, mutator, (void *)(uintptr_t)rnd());
	/* A blocked call ends when the parent kills the child (CHILD_TIMEOUT_MS). */
	for (int i = 0; i < CALLS_PER_CHILD; i++) {
		long nr;
		if (below(50) == 0)
			nr = (long)below(1 << 20); /* out of the table */
		else
			nr = (long)below(NR_MAX);
		if (skip_call(nr))
			continue;
		uint64_t a[6];
		for (int j = 0; j < 6; j++) {
			a[j] = arg();
			/* The parent's pid (ptrace, process_vm_writev, prlimit64,
			 * ...) would only kill the fuzzer: the child's own. */
			if (a[j] == (uint64_t)parent)
				a[j] = (uint64_t)self;
		}
		if (is_memory_call(nr))
			a[0] = (uint64_t)sacrificial + (below(4) << 12);
		if (is_signal_call(nr)) {
			a[0] = (uint64_t)self;
			if (nr == SYS_tgkill)
				a[1] = (uint64_t)self;
			if (nr == SYS_pidfd_send_signal)
				a[0] = (uint64_t)fds[below(nfds)];
		}
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (getpid() != self)
			_exit(0); /* a forked copy: it has done its call */
	}
	_exit(0);
}


static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long slow_deaths, beats;
static double next_beat;

/* Once a second: calls the sentry must answer, and "alive N". */
static bool beat(void)
{
	if (now() < next_beat)
		return true;
	struct stat st;
	/* O_NONBLOCK: a child may have made the path a FIFO, whose open
	 * would wait for a writer (as natively). */
	int fd = open(paths[beats % npaths], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	if (stat("/proc/self", &st) < 0) {
		printf("stat /proc/self failed: %d\n", errno);
		return false;
	}
	printf("alive %lu\n", ++beats);
	next_beat += 1;
	return true;
}

/* SIGKILL a child and reap it. Dying may take a while (unmapping what it
 * populated); one still there after SLOW_DEATH_S is counted and shown with
 * its state, one still there after DEATH_MAX_S (the sentry lost sight of
 * it, or it cannot die) is a failure to report, not a wait forever. The
 * heartbeat goes on meanwhile. */
#define SLOW_DEATH_S 5
#define DEATH_MAX_S 60
static bool reap_killed(pid_t pid)
{
	int r = kill(pid, SIGKILL), err = r < 0 ? errno : 0;
	for (int ms = 0; ms < DEATH_MAX_S * 1000; ms++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return true;
		if (ms == SLOW_DEATH_S * 1000) {
			char path[64], st[256] = "";
			snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
			FILE *f = fopen(path, "re");
			if (f) {
				if (!fgets(st, sizeof(st), f))
					st[0] = 0;
				fclose(f);
			}
			printf("child %d alive %ds after SIGKILL (kill: %d, errno %d): %.80s\n", (int)pid,
			       SLOW_DEATH_S, r, err, st);
			slow_deaths++;
		}
		usleep(1000);
		if (!beat())
			return false;
	}
	printf("child %d survived SIGKILL (kill: %d, errno %d)\n", (int)pid, r, err);
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sysfuzz SEED SECONDS [MARKER]\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[1], NULL, 0);
	double secs = strtod(argv[2], NULL);
	if (argc > 3)
		marker = argv[3];
	make_paths();
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Set up once, inherited by every child. */
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sacrificial = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shared = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	void *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED || sacrificial == MAP_FAILED || shared == MAP_FAILED || hole == MAP_FAILED)
		return 1;
	munmap(hole, 4096);
	unmapped = (uintptr_t)hole;
	signal(SIGPIPE, SIG_IGN);
	pid_t parent = getpid();

	double start = now();
	next_beat = start + 1;
	pid_t kids[PARALLEL] = { 0 };
	double born[PARALLEL] = { 0 };
	unsigned long children = 0, killed = 0, signalled = 0;
	rng = seed | 1;
	while (now() - start < secs) {
		for (int k = 0; k < PARALLEL; k++) {
			if (kids[k]) {
				int st;
				pid_t w = waitpid(kids[k], &st, WNOHANG);
				if (w == kids[k]) {
					signalled += WIFSIGNALED(st);
					kids[k] = 0;
				} else if (now() - born[k] > CHILD_TIMEOUT_MS / 1000.0) {
					if (!reap_killed(kids[k]))
						return 3;
					killed++;
					kids[k] = 0;
				}
			}
			if (!kids[k]) {
				uint64_t cseed = rnd();
				pid_t p = fork();
				if (p == 0)
					child(cseed, parent);
				if (p > 0) {
					kids[k] = p;
					born[k] = now();
					children++;
				}
			}
		}
		if (!beat())
			return 1;
		usleep(2000);
	}
	for (int k = 0; k < PARALLEL; k++)
		if (kids[k] && !reap_killed(kids[k]))
			return 3;
	printf("done seed=%llu children=%lu killed=%lu signalled=%lu slow_deaths=%lu\n",
	       (unsigned long long)seed, children, killed, signalled, slow_deaths);
	return 0;
}
