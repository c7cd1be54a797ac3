/* SPDX-License-Identifier: MIT */
/* A small TAP harness in the spirit of the kernel's kselftest_harness.h:
 * each TEST runs forked (seccomp and ptrace cannot be undone) with a timeout;
 * ASSERT_* ends the test, EXPECT_* records a failure and goes on; SKIP()
 * gives a reason. Results print as TAP for Automake's tap-driver.sh. */
#pragma once
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
	struct tap_test *next;
};
static struct tap_test *tap_head, **tap_tail = &tap_head;
static int tap_failed_in_child;

#define TEST(name)                                                              \
	static void test_##name(void);                                          \
	__attribute__((constructor)) static void tap_register_##name(void)      \
	{                                                                       \
		static struct tap_test t = { #name, test_##name, NULL };        \
		*tap_tail = &t;                                                 \
		tap_tail = &t.next;                                             \
	}                                                                       \
	static void test_##name(void)

#define TAP_EXIT_SKIP 77
#define SKIP(...)                                                               \
	do {                                                                    \
		printf("# skip: ");                                             \
		printf(__VA_ARGS__);                                            \
		printf("\n");                                                   \
		fflush(stdout);                                                 \
		_exit(TAP_EXIT_SKIP);                                           \
	} while (0)

#define TAP_CHECK(cond, fatal_, fmt, ...)                                       \
	do {                                                                    \
		if (!(cond)) {                                                  \
			printf("# %s:%d: check failed: %s " fmt "\n", __FILE__, \
			       __LINE__, #cond, ##__VA_ARGS__);                 \
			fflush(stdout);                                         \
			tap_failed_in_child = 1;                                \
			if (fatal_)                                             \
				_exit(1);                                       \
		}                                                               \
	} while (0)

#define ASSERT_TRUE(c) TAP_CHECK((c), 1, "")
#define EXPECT_TRUE(c) TAP_CHECK((c), 0, "")
#define ASSERT_EQ(a, b) TAP_CHECK((long long)(a) == (long long)(b), 1, "(%lld != %lld)", (long long)(a), (long long)(b))
#define EXPECT_EQ(a, b) TAP_CHECK((long long)(a) == (long long)(b), 0, "(%lld != %lld)", (long long)(a), (long long)(b))
#define ASSERT_NE(a, b) TAP_CHECK((long long)(a) != (long long)(b), 1, "(both %lld)", (long long)(a))
#define EXPECT_NE(a, b) TAP_CHECK((long long)(a) != (long long)(b), 0, "(both %lld)", (long long)(a))
#define ASSERT_STREQ(a, b) TAP_CHECK(strcmp((a), (b)) == 0, 1, "(\"%s\" != \"%s\")", (a), (b))
#define EXPECT_STREQ(a, b) TAP_CHECK(strcmp((a), (b)) == 0, 0, "(\"%s\" != \"%s\")", (a), (b))

#ifndef TAP_TIMEOUT
#define TAP_TIMEOUT 30
#endif

int main(void)
{
	int n = 0, i = 0, failed = 0;
	for (struct tap_test *t = tap_head; t; t = t->next)
		n++;
	printf("1..%d\n", n);
	fflush(stdout);
	for (struct tap_test *t = tap_head; t; t = t->next) {
		i++;
		pid_t pid = fork();
		if (pid == 0) {
			alarm(TAP_TIMEOUT);
			t->fn();
			fflush(stdout);
			_exit(tap_failed_in_child ? 1 : 0);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == TAP_EXIT_SKIP) {
			printf("ok %d - %s # SKIP\n", i, t->name);
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok %d - %s\n", i, t->name);
		} else {
			failed++;
			if (WIFSIGNALED(st))
				printf("# killed by signal %d%s\n", WTERMSIG(st),
				       WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
			printf("not ok %d - %s\n", i, t->name);
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
