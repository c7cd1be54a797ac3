/* SPDX-License-Identifier: MIT */
/* Guest side of tests/integration/interrupt.sh: calls the sentry performs
 * and that block (a FIFO open with no peer) must end on a signal as on
 * Linux, and must not stop the sandbox from serving others meanwhile.
 *
 *   interrupt eintr N DIR    N processes block opening FIFOs in DIR; each
 *                            gets SIGUSR1 (handler without SA_RESTART) and
 *                            must see open() fail with EINTR
 *   interrupt restart DIR    a blocked open whose handler has SA_RESTART
 *                            is restarted after the handler and succeeds
 *                            once a writer comes
 * Prints "ok ..." and exits 0, or says what went wrong and exits 1. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_usr1(int sig) { (void)sig; handled++; }

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int child_eintr(const char *fifo)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	int fd = open(fifo, O_RDONLY);
	if (fd >= 0) {
		fprintf(stderr, "%s: open succeeded with no writer\n", fifo);
		return 1;
	}
	if (errno != EINTR) {
		fprintf(stderr, "%s: open: %s, not EINTR\n", fifo, strerror(errno));
		return 1;
	}
	return handled ? 0 : 1;
}

static int run_eintr(int n, const char *dir)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	char path[4096];
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/fifo%d", dir, i);
		if (mkfifo(path, 0600) < 0) {
			perror("mkfifo");
			return 1;
		}
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[i] == 0)
			_exit(child_eintr(path));
	}
	/* While all of them wait, the sandbox still serves everything else. */
	sleep_ms(300);
	struct stat st;
	for (int i = 0; i < 2000; i++)
		if (stat("/usr/bin", &st) < 0 || open("/nonexistent", O_RDONLY) >= 0) {
			fprintf(stderr, "the sandbox stopped serving\n");
			return 1;
		}
	/* Signal every child still there, again every 100 ms: a signal that
	 * lands before a child has entered open() only runs its handler. */
	int left = n, bad = 0;
	for (int round = 0; left > 0 && round < 300; round++) {
		for (int i = 0; i < n; i++)
			if (pids[i] > 0)
				kill(pids[i], SIGUSR1);
		sleep_ms(100);
		for (int i = 0; i < n; i++) {
			int wst;
			if (pids[i] > 0 && waitpid(pids[i], &wst, WNOHANG) == pids[i]) {
				if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
					bad++;
				pids[i] = 0;
				left--;
			}
		}
	}
	if (left || bad) {
		fprintf(stderr, "%d still blocked, %d without EINTR\n", left, bad);
		return 1;
	}
	printf("ok %d opens ended with EINTR\n", n);
	return 0;
}

static int run_restart(const char *dir)
{
	char fifo[4096];
	snprintf(fifo, sizeof(fifo), "%s/restart", dir);
	if (mkfifo(fifo, 0600) < 0) {
		perror("mkfifo");
		return 1;
	}
	int pipefd[2];
	if (pipe(pipefd) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
		sigaction(SIGUSR1, &sa, NULL);
		int fd = open(fifo, O_RDONLY);
		char c = 0;
		if (fd < 0) {
			fprintf(stderr, "restart: open: %s\n", strerror(errno));
			_exit(1);
		}
		if (read(fd, &c, 1) != 1 || c != 'x' || !handled) {
			fprintf(stderr, "restart: read %c, handled %d\n", c, (int)handled);
			_exit(1);
		}
		_exit(0);
	}
	sleep_ms(300);
	kill(pid, SIGUSR1);
	sleep_ms(300);
	int wst;
	if (waitpid(pid, &wst, WNOHANG) != 0) {
		fprintf(stderr, "restart: the open did not wait for a writer after the handler\n");
		return 1;
	}
	int fd = open(fifo, O_WRONLY);
	if (fd < 0 || write(fd, "x", 1) != 1) {
		perror("restart: writer");
		return 1;
	}
	close(fd);
	if (waitpid(pid, &wst, 0) != pid || !WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
		return 1;
	printf("ok restarted\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "eintr"))
		return run_eintr(atoi(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "restart"))
		return run_restart(argv[2]);
	fprintf(stderr, "usage: interrupt eintr N DIR | restart DIR\n");
	return 2;
}
