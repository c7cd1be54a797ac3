/* SPDX-License-Identifier: MIT */
/* The set*id rules of syscalls/setid.h: a few hand-written cases, then a
 * differential test that runs the same call sequences through this kernel
 * (in a forked child, as real root) and through the model, and compares
 * results and resulting ids step by step. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls/setid.h"
#include "tests/tap.h"

static struct cred root_cred(void)
{
	struct cred c;
	memset(&c, 0, sizeof c);
	c.refcnt = 1;
	return c;
}

TEST(setuid_root_drops_everything)
{
	struct cred c = root_cred();
	ASSERT_EQ(setid_setuid(&c, 1000), 0);
	EXPECT_EQ(c.ruid, 1000);
	EXPECT_EQ(c.euid, 1000);
	EXPECT_EQ(c.suid, 1000);
	EXPECT_EQ(c.fsuid, 1000);
	EXPECT_EQ(setid_setuid(&c, 0), -EPERM);
	EXPECT_EQ(c.euid, 1000);
	EXPECT_EQ(setid_setuid(&c, (uid_t)-1), -EINVAL);
}

TEST(seteuid_and_back)
{
	struct cred c = root_cred();
	/* glibc's seteuid: setresuid(-1, e, -1) keeps the saved id. */
	ASSERT_EQ(setid_setres(setid_uids(&c), cred_privileged(&c), ID_KEEP, 1000, ID_KEEP), 0);
	EXPECT_EQ(c.ruid, 0);
	EXPECT_EQ(c.euid, 1000);
	EXPECT_EQ(c.suid, 0);
	EXPECT_EQ(c.fsuid, 1000);
	EXPECT_TRUE(!cred_privileged(&c));
	EXPECT_TRUE(!cred_is_root(&c));
	ASSERT_EQ(setid_setres(setid_uids(&c), cred_privileged(&c), ID_KEEP, 0, ID_KEEP), 0);
	EXPECT_EQ(c.euid, 0);
	EXPECT_TRUE(cred_privileged(&c));
}

TEST(setfsuid_never_fails)
{
	struct cred c = root_cred();
	EXPECT_EQ(setid_setfs(setid_uids(&c), true, 1000), 0);
	EXPECT_EQ(c.fsuid, 1000);
	EXPECT_TRUE(!cred_is_root(&c)); /* filesystem caps follow fsuid */
	EXPECT_TRUE(cred_privileged(&c)); /* the rest follow euid */
	ASSERT_EQ(setid_setuid(&c, 1000), 0);
	EXPECT_EQ(setid_setfs(setid_uids(&c), false, 0), 1000);
	EXPECT_EQ(c.fsuid, 1000);
}

TEST(setgroups_rules)
{
	struct cred c = root_cred();
	gid_t g[3] = { 30, 10, 20 };
	ASSERT_EQ(setid_setgroups(&c, g, 3), 0);
	EXPECT_EQ(c.ngroups, 3);
	EXPECT_EQ(c.groups[0], 10);
	EXPECT_EQ(c.groups[2], 30);
	EXPECT_TRUE(cred_in_group(&c, 20));
	EXPECT_TRUE(!cred_in_group(&c, 21));
	gid_t many[SETID_NGROUPS_MAX + 1];
	memset(many, 0, sizeof many);
	EXPECT_EQ(setid_setgroups(&c, many, SETID_NGROUPS_MAX + 1), -EINVAL);
	ASSERT_EQ(setid_setuid(&c, 5), 0);
	EXPECT_EQ(setid_setgroups(&c, g, 1), -EPERM);
}

/* ---- differential test against the kernel -------------------------------- */

struct step {
	long nr;
	uint32_t a, b, c;
};

#define K ID_KEEP
static const struct step sequences[][6] = {
	{ { SYS_setuid, 1000 }, { SYS_setuid, 0 } },
	{ { SYS_setreuid, K, 1000 }, { SYS_setreuid, K, 0 }, { SYS_setreuid, 1000, 2000 } },
	{ { SYS_setreuid, 1000, K }, { SYS_setreuid, K, 0 }, { SYS_setreuid, 0, K } },
	{ { SYS_setresuid, 1000, 1000, 0 }, { SYS_setresuid, 0, K, K }, { SYS_setuid, 0 } },
	{ { SYS_setresuid, 1000, 2000, 3000 }, { SYS_setreuid, 3000, 1000 }, { SYS_setuid, 2000 },
	  { SYS_setresuid, K, 3000, K } },
	{ { SYS_setfsuid, 1000 }, { SYS_setuid, 500 }, { SYS_setfsuid, 0 }, { SYS_setfsuid, 500 } },
	{ { SYS_setgid, 100 }, { SYS_setresgid, 1, 2, 3 }, { SYS_setuid, 1000 }, { SYS_setgid, 2 },
	  { SYS_setgid, 50 }, { SYS_setregid, 3, 1 } },
	{ { SYS_setresuid, K, 1000, K }, { SYS_setgid, 77 }, { SYS_setfsgid, 78 },
	  { SYS_setregid, 77, K } },
	{ { SYS_setuid, (uint32_t)-1 }, { SYS_setresuid, 5, 6, 7 }, { SYS_setreuid, 7, 5 },
	  { SYS_setreuid, 6, K } },
};

struct ids {
	long ret;
	uint32_t r, e, s, fs, rg, eg, sg, fsg;
};

static long model_step(struct cred *c, const struct step *st)
{
	bool priv = cred_privileged(c);
	switch (st->nr) {
	case SYS_setuid: return setid_setuid(c, st->a);
	case SYS_setgid: return setid_setgid(c, st->a);
	case SYS_setreuid: return setid_setre(setid_uids(c), priv, st->a, st->b);
	case SYS_setregid: return setid_setre(setid_gids(c), priv, st->a, st->b);
	case SYS_setresuid: return setid_setres(setid_uids(c), priv, st->a, st->b, st->c);
	case SYS_setresgid: return setid_setres(setid_gids(c), priv, st->a, st->b, st->c);
	case SYS_setfsuid: return setid_setfs(setid_uids(c), priv, st->a);
	case SYS_setfsgid: return setid_setfs(setid_gids(c), priv, st->a);
	}
	return -ENOSYS;
}

static struct ids model_ids(const struct cred *c, long ret)
{
	return (struct ids){ ret, c->ruid, c->euid, c->suid, c->fsuid,
			     c->rgid, c->egid, c->sgid, c->fsgid };
}

static struct ids kernel_ids(long ret)
{
	struct ids x = { ret };
	uid_t u[3];
	gid_t g[3];
	syscall(SYS_getresuid, &u[0], &u[1], &u[2]);
	syscall(SYS_getresgid, &g[0], &g[1], &g[2]);
	x.r = u[0], x.e = u[1], x.s = u[2];
	x.rg = g[0], x.eg = g[1], x.sg = g[2];
	/* setfs*id with an invalid id only reports the current one */
	x.fs = (uint32_t)syscall(SYS_setfsuid, -1);
	x.fsg = (uint32_t)syscall(SYS_setfsgid, -1);
	return x;
}

static long kernel_step(const struct step *st)
{
	long v = syscall(st->nr, (long)(int32_t)st->a, (long)(int32_t)st->b, (long)(int32_t)st->c);
	if (st->nr == SYS_setfsuid || st->nr == SYS_setfsgid)
		return v; /* the old id, never an error */
	return v < 0 ? -errno : v;
}

static void compare(const struct ids *k, const struct ids *m, size_t seq, size_t i)
{
	if (memcmp(k, m, sizeof *k) != 0)
		printf("# sequence %zu step %zu: kernel ret %ld r%u e%u s%u fs%u g %u %u %u %u;"
		       " model ret %ld r%u e%u s%u fs%u g %u %u %u %u\n",
		       seq, i, k->ret, k->r, k->e, k->s, k->fs, k->rg, k->eg, k->sg, k->fsg,
		       m->ret, m->r, m->e, m->s, m->fs, m->rg, m->eg, m->sg, m->fsg);
	EXPECT_EQ(memcmp(k, m, sizeof *k), 0);
}

static void run_sequence(size_t seq)
{
	struct cred c = root_cred();
	for (size_t i = 0; i < 6 && sequences[seq][i].nr; i++) {
		const struct step *st = &sequences[seq][i];
		struct ids k = kernel_ids(kernel_step(st));
		struct ids m = model_ids(&c, model_step(&c, st));
		compare(&k, &m, seq, i);
	}
}

TEST(setid_matches_kernel)
{
	if (geteuid() != 0)
		SKIP("needs real root to compare with the kernel's rules");
	for (size_t seq = 0; seq < sizeof sequences / sizeof sequences[0]; seq++) {
		pid_t pid = fork();
		ASSERT_TRUE(pid >= 0);
		if (pid == 0) {
			/* Start from uid/gid 0 everywhere, as the model does. */
			if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
				_exit(2);
			run_sequence(seq);
			fflush(stdout);
			_exit(tap_failed_in_child ? 1 : 0);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}
