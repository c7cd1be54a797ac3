/* SPDX-License-Identifier: MIT */
/*
 * bench/micro.c - per-call latency of a few system calls, for comparing a
 * program run natively, under moat and under gVisor (see bench/run.sh).
 *
 *   micro [-s SCALE]                 every operation; SCALE multiplies the
 *                                    iteration counts (default 1)
 *   micro --spawn N -- CMD [ARG...]  start CMD N times (after 2 warm-up runs)
 *                                    and report the wall time of each start
 *   MICRO_ROWS=stat,open+close micro only the rows named
 *
 * Each sample times a batch of BATCH calls (one for the fork, thread and
 * other long rows) with CLOCK_MONOTONIC and is divided by the batch size,
 * so the clock's own cost weighs little even where it is trapped (gVisor's
 * ptrace platform); the "timer" row is an empty batch. The round-trip rows
 * (signals, pipes) talk to one partner process forked for the row. After a warm-up of a tenth of the samples,
 * prints one line per operation: name, median ns per call, p90 ns per call,
 * samples.
 * Operations that fail print "name - - error: reason" and the run goes on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Files every sandbox view has: the default moat root, runsc's, the host. */
#define OPEN_PATH "/etc/passwd"
#define READ_PATH "/usr/bin/true"
#define TRUE_PATH "/bin/true"
#define READ_SIZE 4096
#define BATCH 10

static void measure(const char *name, int (*fn)(void), long n, int batch);

static int read_fd = -1;
static char read_buf[READ_SIZE];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int op_timer(void)
{
	return 0;
}

static int op_getpid(void)
{
	/* The raw syscall: no libc caching, whatever the libc. */
	return syscall(SYS_getpid) > 0 ? 0 : -errno;
}

static int op_open_close(void)
{
	int fd = open(OPEN_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int op_stat(void)
{
	struct stat st;

	return stat(OPEN_PATH, &st) == 0 ? 0 : -errno;
}

/* The interception floors: a trapped call answered with a value (moat
 * emulates the uid calls; natively and in gVisor they are as cheap as any),
 * and one answered with an installed fd (open of /dev/null: a one-name
 * lookup in moat's devfs, then the fd). */
static int op_getuid(void)
{
	return syscall(SYS_getuid) >= 0 ? 0 : -errno;
}

static int op_open_null(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* stat of files never looked at before: every regular file under /usr/share,
 * named by readdir alone (d_type, no stat), each stat'ed once. */
static char **cold_paths;
static long cold_n, cold_next;

static void cold_collect(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && cold_n < 200000) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR && depth < 12) {
			cold_collect(p, depth + 1);
		} else if (e->d_type == DT_REG) {
			if (cold_n % 4096 == 0)
				cold_paths = realloc(cold_paths, (size_t)(cold_n + 4096) * sizeof(*cold_paths));
			cold_paths[cold_n++] = strdup(p);
		}
	}
	closedir(d);
}

static int op_stat_cold(void)
{
	struct stat st;

	if (cold_next >= cold_n)
		return -ENOENT;
	return stat(cold_paths[cold_next++], &st) == 0 ? 0 : -errno;
}

/* Data: 4 KiB and 1 MiB reads and writes of a file in the overlay root
 * (/var/tmp, as the create rows) and, when MICRO_RW_DIR names one, in a
 * directory bound read-write (moat: a --bind :rw; natively the same host
 * directory). */
#define BIG (1 << 20)
static char *big_buf;
static int data_fd = -1;

static int data_read(size_t n)
{
	return pread(data_fd, big_buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

static int data_write(size_t n)
{
	return pwrite(data_fd, big_buf, n, 0) == (ssize_t)n ? 0 : -EIO;
}

static int op_read4k(void) { return data_read(4096); }
static int op_write4k(void) { return data_write(4096); }
static int op_read1m(void) { return data_read(BIG); }
static int op_write1m(void) { return data_write(BIG); }

static void data_rows(const char *dir, const char *where, double scale)
{
	char p[4096], name[64];
	snprintf(p, sizeof(p), "%s/moat-micro-data", dir);
	data_fd = open(p, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
	if (data_fd < 0 || !big_buf || pwrite(data_fd, big_buf, BIG, 0) != BIG) {
		printf("read-4k-%s - - error: %s: %s\n", where, p, strerror(errno));
		if (data_fd >= 0)
			close(data_fd);
		return;
	}
	static const struct {
		const char *op;
		int (*fn)(void);
		long n;
	} rows[] = {
		{ "read-4k", op_read4k, 5000 }, { "write-4k", op_write4k, 5000 },
		{ "read-1m", op_read1m, 300 }, { "write-1m", op_write1m, 300 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(name, sizeof(name), "%s-%s", rows[i].op, where);
		measure(name, rows[i].fn, (long)(rows[i].n * scale), rows[i].n > 1000 ? BATCH : 1);
	}
	close(data_fd);
	unlink(p);
}

/* Filesystem rows (issue 7): in a directory made for the run, under /tmp
 * (moat: its tmpfs) and under /var/tmp (moat: the overlay root's upper
 * layer; natively the host's disk). */
static char tmp_dir[64], var_dir[64], list_dir[96];

static int create_unlink(const char *dir)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/f", dir);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, "0123456789abcdef", 16);
	close(fd);
	if (n != 16)
		return -EIO;
	return unlink(p) == 0 ? 0 : -errno;
}

static int op_create_tmp(void) { return create_unlink(tmp_dir); }
static int op_create_var(void) { return create_unlink(var_dir); }

static int op_rename(void)
{
	static int flip;
	char a[128], b[128];
	snprintf(a, sizeof(a), "%s/r%d", tmp_dir, flip);
	snprintf(b, sizeof(b), "%s/r%d", tmp_dir, !flip);
	flip = !flip;
	return rename(a, b) == 0 ? 0 : -errno;
}

static int op_getdents(void)
{
	DIR *d = opendir(list_dir);
	if (!d)
		return -errno;
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n == 1002 ? 0 : -EIO;
}

/* Make the directories; 0, or -errno when /tmp or /var/tmp is not
 * writable (the rows are then reported as errors). */
static int fs_setup(void)
{
	/* moat's default view has no /var: the overlay root makes it. */
	(void)mkdir("/var", 0755);
	(void)mkdir("/var/tmp", 01777);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/moat-micro-XXXXXX");
	snprintf(var_dir, sizeof(var_dir), "/var/tmp/moat-micro-XXXXXX");
	if (!mkdtemp(tmp_dir) || !mkdtemp(var_dir))
		return -errno;
	snprintf(list_dir, sizeof(list_dir), "%s/list", tmp_dir);
	if (mkdir(list_dir, 0755) < 0)
		return -errno;
	for (int i = 0; i < 1000; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/entry-%04d", list_dir, i);
		int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	char r[128];
	snprintf(r, sizeof(r), "%s/r0", tmp_dir);
	int fd = open(r, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void fs_cleanup(void)
{
	char p[128];
	for (int i = 0; i < 1000; i++) {
		snprintf(p, sizeof(p), "%s/entry-%04d", list_dir, i);
		unlink(p);
	}
	rmdir(list_dir);
	snprintf(p, sizeof(p), "%s/r0", tmp_dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/r1", tmp_dir);
	unlink(p);
	rmdir(tmp_dir);
	rmdir(var_dir);
}

static int op_pread(void)
{
	ssize_t n = pread(read_fd, read_buf, READ_SIZE, 0);

	if (n < 0)
		return -errno;
	return n == READ_SIZE ? 0 : -EIO;
}

static int spawn_wait(char *const argv[], int quiet)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (quiet) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (null >= 0) {
				dup2(null, STDOUT_FILENO);
				dup2(null, STDERR_FILENO);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status) == 0 ? 0 : -WEXITSTATUS(status);
}

static int op_fork_exec_wait(void)
{
	static char *const argv[] = { TRUE_PATH, NULL };

	return spawn_wait(argv, 0);
}

/* Processes and threads (issue 8). */
static int wait_ok(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int op_fork_exit_wait(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(0);
	return wait_ok(pid);
}

static void *thread_main(void *arg)
{
	return arg;
}

static int op_thread(void)
{
	pthread_t t;
	int r = pthread_create(&t, NULL, thread_main, NULL);

	if (r)
		return -r;
	return -pthread_join(t, NULL);
}

/* The round trips: a partner process forked once per row answers each
 * ping, so a sample is two wake-ups across processes and no fork. */
static pid_t partner = -1, partner_parent;
static int ping[2] = { -1, -1 }, pong[2] = { -1, -1 };
static sigset_t usr1, usr2;

static void on_usr(int sig)
{
	(void)sig;
}

static void partner_signals(void)
{
	for (;;)
		if (sigwaitinfo(&usr1, NULL) == SIGUSR1)
			kill(partner_parent, SIGUSR2);
}

static void partner_pipes(void)
{
	char c;

	while (read(ping[0], &c, 1) == 1)
		if (write(pong[1], &c, 1) != 1)
			break;
}

static int partner_start(void (*loop)(void))
{
	partner_parent = getpid();
	partner = fork();
	if (partner < 0)
		return -errno;
	if (partner == 0) {
		/* A benchmark killed half-way leaves no partner behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != partner_parent)
			_exit(0);
		loop();
		_exit(0);
	}
	return 0;
}

static void partner_stop(void)
{
	if (partner > 0) {
		kill(partner, SIGKILL);
		waitpid(partner, NULL, 0);
	}
	partner = -1;
}

/* Signals are blocked and taken with sigwaitinfo on both sides, so no
 * handler runs and none is lost. A partner that stops answering fails the
 * row after a second instead of hanging the run. */
static int op_signal_rt(void)
{
	static const struct timespec limit = { 1, 0 };

	if (kill(partner, SIGUSR1) < 0)
		return -errno;
	return sigtimedwait(&usr2, NULL, &limit) == SIGUSR2 ? 0 : -errno;
}

static int op_pipe_rt(void)
{
	char c = 'x';

	if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
		return -EIO;
	return 0;
}

/* A datagram to oneself on a socketpair, sent with send and with sendmsg:
 * moat notifies every sendmsg (a path may hide in msg_name) and lets send
 * pass (syscalls/sys_unix_send.c), so the two rows show that cost. */
static int dgram[2] = { -1, -1 };

static int op_send_dgram(void)
{
	char c = 'x';

	if (send(dgram[0], &c, 1, 0) != 1 || recv(dgram[1], &c, 1, 0) != 1)
		return -EIO;
	return 0;
}

static int op_sendmsg_dgram(void)
{
	char c = 'x';
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (sendmsg(dgram[0], &m, 0) != 1 || recv(dgram[1], &c, 1, 0) != 1)
		return -EIO;
	return 0;
}

static void socket_rows(double scale)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dgram) < 0) {
		printf("send-dgram - - error: socketpair: %s\n", strerror(errno));
		return;
	}
	measure("send-dgram", op_send_dgram, (long)(5000 * scale), BATCH);
	measure("sendmsg-dgram", op_sendmsg_dgram, (long)(5000 * scale), BATCH);
	close(dgram[0]);
	close(dgram[1]);
}

static void process_rows(double scale)
{
	measure("fork+exit+wait", op_fork_exit_wait, (long)(300 * scale), 1);
	measure("thread-create+join", op_thread, (long)(2000 * scale), 1);

	sigset_t both, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	sigprocmask(SIG_BLOCK, &both, &old);
	/* A handler, though it never runs: a process waiting in sigwaitinfo
	 * has the awaited signals unblocked for the wait (SigBlk in
	 * /proc/PID/status), and with the default action moat's kill takes
	 * such a signal for fatal and waits up to 100 ms for the target to
	 * die (sys_signal.c, kill_and_wait): 100 ms a round trip. */
	struct sigaction sa = { .sa_handler = on_usr }, old1, old2;
	sigaction(SIGUSR1, &sa, &old1);
	sigaction(SIGUSR2, &sa, &old2);
	int r = partner_start(partner_signals);
	if (r == 0)
		measure("signal-roundtrip", op_signal_rt, (long)(1000 * scale), BATCH);
	else
		printf("signal-roundtrip - - error: fork: %s\n", strerror(-r));
	partner_stop();
	sigaction(SIGUSR1, &old1, NULL);
	sigaction(SIGUSR2, &old2, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	if (pipe2(ping, O_CLOEXEC) < 0 || pipe2(pong, O_CLOEXEC) < 0) {
		printf("pipe-pingpong - - error: pipe: %s\n", strerror(errno));
		return;
	}
	r = partner_start(partner_pipes);
	if (r == 0)
		measure("pipe-pingpong", op_pipe_rt, (long)(1000 * scale), BATCH);
	else
		printf("pipe-pingpong - - error: fork: %s\n", strerror(-r));
	partner_stop();
	for (int i = 0; i < 2; i++) {
		close(ping[i]);
		close(pong[i]);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* MICRO_ROWS (a comma list of row names; MICRO_ONLY is the same): measure
 * only those rows. */
static bool row_wanted(const char *name)
{
	const char *rows = getenv("MICRO_ROWS");
	if (!rows || !*rows)
		rows = getenv("MICRO_ONLY");
	if (!rows || !*rows)
		return true;
	size_t len = strlen(name);
	for (const char *p = rows; *p;) {
		size_t n = strcspn(p, ",");
		if (n == len && strncmp(p, name, len) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* Take n samples of `batch` calls of fn after a warm-up; print the median
 * and p90 per call. */
static void measure(const char *name, int (*fn)(void), long n, int batch)
{
	long warm = n / 10 > 2 ? n / 10 : 2;
	uint64_t *s;
	int r;

	if (!row_wanted(name))
		return;
	if (n < 1)
		n = 1;
	s = calloc((size_t)n, sizeof(*s));
	if (!s) {
		printf("%s - - error: out of memory\n", name);
		return;
	}
	for (long i = 0; i < warm; i++) {
		r = fn();
		if (r < 0) {
			printf("%s - - error: %s\n", name, strerror(-r));
			fflush(stdout);
			free(s);
			return;
		}
	}
	for (long i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		for (int j = 0; j < batch; j++)
			fn();
		s[i] = now_ns() - t0;
	}
	qsort(s, (size_t)n, sizeof(*s), cmp_u64);
	printf("%s %llu %llu %ld\n", name, (unsigned long long)(s[n / 2] / batch),
	       (unsigned long long)(s[(n * 9) / 10] / batch), n * batch);
	fflush(stdout);
	free(s);
}

static int spawn_mode(long n, char *const argv[])
{
	uint64_t *s = calloc((size_t)n, sizeof(*s));
	int r;

	if (!s)
		return 1;
	for (int i = 0; i < 2; i++) {
		r = spawn_wait(argv, 1);
		if (r < 0) {
			printf("spawn - - error: %s exited %d\n", argv[0], -r);
			return 1;
		}
	}
	for (long i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		spawn_wait(argv, 1);
		s[i] = now_ns() - t0;
	}
	qsort(s, (size_t)n, sizeof(*s), cmp_u64);
	printf("spawn %llu %llu %ld\n", (unsigned long long)s[n / 2],
	       (unsigned long long)s[(n * 9) / 10], n);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	double scale = 1.0;
	int read_err;

	if (argc >= 4 && strcmp(argv[1], "--spawn") == 0 && strcmp(argv[3], "--") == 0) {
		long n = strtol(argv[2], NULL, 10);

		if (n < 1 || argc < 5) {
			fprintf(stderr, "usage: micro --spawn N -- CMD [ARG...]\n");
			return 2;
		}
		return spawn_mode(n, argv + 4);
	}
	if (argc == 3 && strcmp(argv[1], "-s") == 0) {
		scale = strtod(argv[2], NULL);
	} else if (argc != 1) {
		fprintf(stderr, "usage: micro [-s SCALE] | micro --spawn N -- CMD [ARG...]\n");
		return 2;
	}
	if (scale <= 0)
		scale = 1.0;

	read_fd = open(READ_PATH, O_RDONLY | O_CLOEXEC);
	read_err = read_fd < 0 ? errno : 0;

	measure("timer", op_timer, (long)(20000 * scale), BATCH);
	measure("getpid", op_getpid, (long)(20000 * scale), BATCH);
	measure("open+close", op_open_close, (long)(2000 * scale), BATCH);
	measure("stat", op_stat, (long)(2000 * scale), BATCH);
	measure("getuid-floor", op_getuid, (long)(20000 * scale), BATCH);
	measure("open-null-floor", op_open_null, (long)(2000 * scale), BATCH);
	if (row_wanted("stat-first-time"))
		cold_collect("/usr/share", 0);
	if (cold_n > 100)
		measure("stat-first-time", op_stat_cold, cold_n / 11 < (long)(20000 * scale) ? cold_n / 11
											: (long)(20000 * scale), 1);
	if (read_fd >= 0)
		measure("pread-4k", op_pread, (long)(5000 * scale), BATCH);
	else
		printf("pread-4k - - error: open %s: %s\n", READ_PATH, strerror(read_err));
	int fs_err = fs_setup();
	if (fs_err == 0) {
		measure("create+unlink-tmp", op_create_tmp, (long)(1000 * scale), BATCH);
		measure("create+unlink-root", op_create_var, (long)(1000 * scale), BATCH);
		measure("rename", op_rename, (long)(1000 * scale), BATCH);
		measure("getdents-1000", op_getdents, (long)(200 * scale), 1);
		big_buf = malloc(BIG);
		if (big_buf)
			memset(big_buf, 'x', BIG);
		data_rows("/var/tmp", "root", scale);
		const char *rw = getenv("MICRO_RW_DIR");
		if (rw && *rw)
			data_rows(rw, "rwbind", scale);
	} else {
		printf("create+unlink-tmp - - error: %s\n", strerror(-fs_err));
	}
	fs_cleanup();
	measure("fork+exec+wait", op_fork_exec_wait, (long)(300 * scale), 1);
	process_rows(scale);
	socket_rows(scale);
	return 0;
}
