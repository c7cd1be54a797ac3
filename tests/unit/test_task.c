/* SPDX-License-Identifier: MIT */
/* The task table (sentry/kernel/task.c): registration by the creator,
 * unknown origins killed, lifetimes (exit only unlinks; the last reference
 * frees), and the indexes. Real host processes stand in for guest tasks,
 * since a task is read from /proc/<tid>/status when it is registered. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "tests/tap.h"

static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void setup(struct cred **ret_root)
{
	struct cred *root = cred_new(0, 0);
	task_set_initial(fs_state_new(NULL, NULL, 022), root);
	sentry.init_pid = getpid();
	*ret_root = root;
}

TEST(init_then_children_take_their_creators_creds)
{
	struct cred *root;
	setup(&root);
	struct task *init = task_get(getpid());
	ASSERT_TRUE(init != NULL);
	EXPECT_TRUE(init->cred == root);
	EXPECT_TRUE(task_find(getpid()) == init);
	EXPECT_TRUE(proc_find_vpid(init->proc->vpid) == init->proc);

	/* The creator drops to 1000, then makes a process. */
	struct cred *user = cred_new(1000, 1000);
	struct cred *old = init->cred;
	init->cred = user;
	cred_unref(old);
	pid_t child = sleeper();
	ASSERT_EQ(task_register_child(init, child, SIGCHLD), 0);
	struct task *c = task_get(child);
	ASSERT_TRUE(c != NULL);
	EXPECT_EQ(c->cred->euid, 1000);
	EXPECT_TRUE(c->proc != init->proc);
	EXPECT_TRUE(c->fs != init->fs);       /* copied without CLONE_FS */
	EXPECT_TRUE(proc_find_vpid(c->proc->vpid) == c->proc);

	/* Exit only unlinks: the handler's reference keeps it valid. */
	task_exit(c);
	EXPECT_TRUE(task_find(child) == NULL);
	EXPECT_TRUE(proc_find_vpid(c->proc->vpid) == NULL);
	EXPECT_EQ(c->cred->euid, 1000);
	EXPECT_EQ(c->fs->umask, 022);
	task_unref(c);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	task_unref(init);
}

TEST(unknown_origin_is_killed)
{
	struct cred *root;
	setup(&root);
	pid_t stray = sleeper();
	EXPECT_TRUE(task_get(stray) == NULL);
	int st = 0;
	ASSERT_EQ(waitpid(stray, &st, 0), stray);
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	EXPECT_TRUE(task_find(stray) == NULL);
}

TEST(a_thread_registered_into_another_process_is_refused)
{
	struct cred *root;
	setup(&root);
	struct task *init = task_get(getpid());
	ASSERT_TRUE(init != NULL);
	/* A CLONE_THREAD registration must name a thread of the creator's
	 * thread group (its Tgid): another process is refused. */
	pid_t other = sleeper();
	EXPECT_EQ(task_register_child(init, other, CLONE_THREAD | CLONE_VM | CLONE_FS), -ESRCH);
	EXPECT_TRUE(task_find(other) == NULL);
	EXPECT_TRUE(init->proc->threads == init && init->pnext == NULL);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	task_unref(init);
}
