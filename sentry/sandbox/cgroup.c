/* SPDX-License-Identifier: MIT */
/* The sandbox's cgroup (see cgroup.h and docs/limits.md).
 *
 * cgroup v2: the sandbox's cgroup is a child of the caller's. It can have
 * limits only when the caller's cgroup enables the controllers for its
 * children (cgroup.subtree_control), which the kernel refuses while the
 * caller's cgroup holds processes ("no internal processes"), except at the
 * root. A delegated cgroup that holds only moat itself (`systemd-run
 * --scope -p Delegate=yes moat run ...`) is made usable by moving moat into
 * a leaf of its own first, `moat-<pid>-sentry`, as container managers do.
 * Anywhere else (an ordinary login session's scope) v2 is not usable, and
 * moat says so at debug level and falls back.
 *
 * cgroup v1: a child of the caller's cgroup in each controller's hierarchy.
 *
 * Only the guest goes in: pid 1 is cloned into a v2 cgroup
 * (CLONE_INTO_CGROUP), else moved by the sentry before the guest's first
 * instruction (pid 1's fork of the command waits for the sentry's answer).
 * The sentry and the gofer stay out so that the kernel's OOM kill at the
 * memory limit can only hit the guest, and the sentry lives to report it;
 * their own growth is bounded by their caches' limits.
 *
 * Moving a task into a cgroup (a write to cgroup.procs, v1 or v2) and
 * enabling controllers for children (which moves the tasks below) take
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
 * period: 10-20 ms, against a start of ~5 ms. A clone into the cgroup takes
 * it only for reading. moat run's defaults therefore use a cgroup only
 * where neither is needed; else the rlimits (docs/limits.md). */
#include "sentry/sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "platform/kfeatures.h"
#include "sentry/sandbox/limits.h"

static const char *const ctl_names[CG__MAX] = { "memory", "pids", "cpu" };

/* ------------------------------------------------------------------------
 * Finding cgroups */

char *cgroup_mount_of(const char *mounts, const char *ctl)
{
	/* "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,...,memory 0 0" */
	const char *line = mounts;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[1024], dev[256], dir[512], type[64], opts[512];
		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = 0;
			if (sscanf(buf, "%255s %511s %63s %511s", dev, dir, type, opts) == 4) {
				if (!ctl && !strcmp(type, "cgroup2"))
					return strdup(dir);
				if (ctl && !strcmp(type, "cgroup")) {
					char *save = NULL;
					for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
						if (!strcmp(o, ctl))
							return strdup(dir);
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

char *cgroup_path_of(const char *proc_cgroup, const char *ctl)
{
	/* "4:memory:/a/b", "1:cpu,cpuacct:/", "0::/user.slice/..." */
	const char *line = proc_cgroup;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			size_t clen = (size_t)(c2 - c1 - 1);
			bool match = false;
			if (!ctl) {
				match = clen == 0 && c1 - line == 1 && line[0] == '0';
			} else {
				for (const char *p = c1 + 1; p < c2;) {
					const char *comma = memchr(p, ',', (size_t)(c2 - p));
					const char *e = comma ? comma : c2;
					if ((size_t)(e - p) == strlen(ctl) && !memcmp(p, ctl, (size_t)(e - p)))
						match = true;
					p = e + 1;
				}
			}
			if (match)
				return strndup(c2 + 1, len - (size_t)(c2 + 1 - line));
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static char *join(const char *mnt, const char *path, const char *name)
{
	char *s = NULL;
	const char *sep1 = path[0] == '/' ? "" : "/";
	bool root = !strcmp(path, "/");
	if (asprintf(&s, "%s%s%s%s%s", mnt, root ? "" : sep1, root ? "" : path, name ? "/" : "",
		     name ? name : "") < 0)
		return NULL;
	return s;
}

/* ------------------------------------------------------------------------
 * Files of a cgroup */

static int cg_write(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	/* One write: cgroup files take a value per write call. */
	ssize_t n = write(fd, val, strlen(val));
	if (n < 0)
		return neg_errno();
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int cg_writeu(const char *dir, const char *file, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cg_write(dir, file, buf);
}

static char *cg_read(const char *dir, const char *file)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	char *s = NULL;
	if (read_file_at(AT_FDCWD, p, &s, 1 << 16) < 0)
		return NULL;
	return s;
}

/* The value of "key N" in a flat keyed file (memory.events, pids.events,
 * memory.oom_control). */
static uint64_t keyed(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ' ')
			return strtoull(l + kl + 1, NULL, 10);
	return 0;
}

static bool has_word(const char *text, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = text; p && (p = strstr(p, w)); p += n)
		if ((p == text || p[-1] == ' ' || p[-1] == '\n') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* Remove moat-<pid> and moat-<pid>-sentry cgroups of sandboxes whose sentry
 * is gone (a crash took the sentry and its helper). rmdir only succeeds on
 * an empty cgroup, so a live sandbox's is never hurt; a reused pid keeps a
 * stale one for a later start. */
static void remove_stale(const char *parent)
{
	_cleanup_(closedirp) DIR *d = opendir(parent);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, "moat-", 5) || e->d_name[5] < '1' || e->d_name[5] > '9')
			continue;
		long pid = strtol(e->d_name + 5, &end, 10);
		if ((*end && strcmp(end, "-sentry")) || pid <= 0 || pid > INT32_MAX)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", parent, e->d_name);
		if (rmdir(p) == 0)
			log_debug("removed the stale cgroup %s", p);
	}
}

static int make_cgroup(const char *dir)
{
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return neg_errno();
	/* Ours by name: a sandbox of a process that had our pid before. */
	if (rmdir(dir) < 0 || mkdir(dir, 0755) < 0)
		return neg_errno();
	return 0;
}

/* ------------------------------------------------------------------------
 * v2 */

/* The controllers the limits need; with optional, also those that serve
 * only a weight (OCI cpu.shares), used where present. */
static unsigned needed(const struct sandbox_limits *l, bool optional)
{
	unsigned m = 0;
	if (l->memory)
		m |= 1u << CG_MEMORY;
	if (l->pids)
		m |= 1u << CG_PIDS;
	if (l->cpu_quota_us || (optional && l->cpu_shares))
		m |= 1u << CG_CPU;
	return m;
}

/* "+memory +pids" for the controllers in mask. */
static void enable_list(unsigned mask, char *buf, size_t len)
{
	buf[0] = 0;
	for (int c = 0; c < CG__MAX; c++)
		if (mask & (1u << c))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s+%s", buf[0] ? " " : "", ctl_names[c]);
}

/* Do the children of parent get the controllers in mask? Enable them if
 * not (and may_move: both cost a grace period); if the kernel refuses
 * because parent holds processes and the only one is moat, move moat into
 * a leaf of its own first. */
static int v2_delegate(const char *parent, const char *name, unsigned mask, bool may_move)
{
	_cleanup_free_ char *sub = cg_read(parent, "cgroup.subtree_control");
	if (!sub)
		return -ENOENT;
	unsigned missing = 0;
	for (int c = 0; c < CG__MAX; c++)
		if ((mask & (1u << c)) && !has_word(sub, ctl_names[c]))
			missing |= 1u << c;
	if (!missing)
		return 0;
	if (!may_move)
		return -EBUSY;
	char list[64];
	enable_list(missing, list, sizeof(list));
	int r = cg_write(parent, "cgroup.subtree_control", list);
	if (r != -EBUSY)
		return r;
	_cleanup_free_ char *procs = cg_read(parent, "cgroup.procs");
	char self[32];
	snprintf(self, sizeof(self), "%d\n", getpid());
	if (!procs || strcmp(procs, self))
		return -EBUSY; /* others live here: not ours to move */
	char leaf[PATH_MAX];
	snprintf(leaf, sizeof(leaf), "%s/%s-sentry", parent, name);
	if ((r = make_cgroup(leaf)) < 0)
		return r;
	if ((r = cg_writeu(leaf, "cgroup.procs", (uint64_t)getpid())) < 0) {
		(void)rmdir(leaf);
		return r;
	}
	log_debug("cgroup v2: moved moat into %s to delegate controllers", leaf);
	return cg_write(parent, "cgroup.subtree_control", list);
}

static int v2_limits(const char *dir, const struct sandbox_limits *l, unsigned mask)
{
	int r;
	if (l->memory) {
		if ((r = cg_writeu(dir, "memory.max", l->memory)) < 0)
			return r;
		/* Swap would make the limit soft; no file: no swap accounting. */
		if ((r = cg_write(dir, "memory.swap.max", "0")) < 0 && r != -ENOENT)
			return r;
	}
	if (l->pids && (r = cg_writeu(dir, "pids.max", l->pids)) < 0)
		return r;
	if (l->cpu_quota_us) {
		char v[64];
		snprintf(v, sizeof(v), "%" PRIu64 " %" PRIu64, l->cpu_quota_us, l->cpu_period_us);
		if ((r = cg_write(dir, "cpu.max", v)) < 0)
			return r;
	}
	if (l->cpu_shares && (mask & (1u << CG_CPU))) {
		/* runc's mapping of v1 shares [2, 262144] onto weights [1, 10000]. */
		uint64_t s = l->cpu_shares < 2 ? 2 : l->cpu_shares > 262144 ? 262144 : l->cpu_shares;
		if ((r = cg_writeu(dir, "cpu.weight", 1 + ((s - 2) * 9999) / 262142)) < 0)
			return r;
	}
	return 0;
}

/* Where the kernel can, pid 1 is cloned straight into dir (guest.c): it
 * never moves. */
static int open_for_clone(const char *dir, struct sandbox_cgroup *cg)
{
	if (!kfeature_has(KF_CLONE_INTO_CGROUP))
		return 0;
	cg->clone_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return cg->clone_fd < 0 ? neg_errno() : 0;
}

static int try_v2(const struct sandbox_limits *l, unsigned need, unsigned mask, const char *mounts,
		  const char *self, bool may_move, struct sandbox_cgroup *cg)
{
	_cleanup_free_ char *mnt = cgroup_mount_of(mounts, NULL);
	_cleanup_free_ char *path = cgroup_path_of(self, NULL);
	if (!mnt || !path)
		return -ENOENT;
	_cleanup_free_ char *parent = join(mnt, path, NULL);
	_cleanup_free_ char *ctls = parent ? cg_read(parent, "cgroup.controllers") : NULL;
	if (!ctls)
		return -ENOENT;
	for (int c = 0; c < CG__MAX; c++)
		if ((mask & (1u << c)) && !has_word(ctls, ctl_names[c])) {
			if (mask & need & (1u << c))
				return -EOPNOTSUPP; /* not delegated to us (or bound to v1) */
			mask &= ~(1u << c);
		}
	if (!mask)
		return -EOPNOTSUPP;
	remove_stale(parent);
	char *dir = join(mnt, path, cg->name);
	if (!dir)
		return -ENOMEM;
	int r = v2_delegate(parent, cg->name, mask, may_move);
	if (r < 0) {
		log_debug("cgroup v2: cannot delegate controllers below %s: %s", parent, strerror(-r));
		free(dir);
		return r;
	}
	if ((r = make_cgroup(dir)) < 0 || (r = v2_limits(dir, l, mask)) < 0 ||
	    (r = open_for_clone(dir, cg)) < 0) {
		log_debug("cgroup v2: %s: %s", dir, strerror(-r));
		(void)rmdir(dir);
		free(dir);
		return r;
	}
	for (int c = 0; c < CG__MAX; c++)
		if (mask & (1u << c))
			cg->dir[c] = strdup(dir);
	free(dir);
	cg->mode = CGROUP_V2;
	return 0;
}

/* ------------------------------------------------------------------------
 * v1 */

static int v1_limits(int c, const char *dir, const struct sandbox_limits *l)
{
	int r = 0;
	switch (c) {
	case CG_MEMORY:
		if ((r = cg_writeu(dir, "memory.limit_in_bytes", l->memory)) < 0)
			return r;
		/* memory+swap: present with swap accounting; must be >= the above. */
		if ((r = cg_writeu(dir, "memory.memsw.limit_in_bytes", l->memory)) == -ENOENT)
			r = 0;
		return r;
	case CG_PIDS:
		return cg_writeu(dir, "pids.max", l->pids);
	case CG_CPU:
		if (l->cpu_quota_us && ((r = cg_writeu(dir, "cpu.cfs_period_us", l->cpu_period_us)) < 0 ||
					(r = cg_writeu(dir, "cpu.cfs_quota_us", l->cpu_quota_us)) < 0))
			return r;
		if (l->cpu_shares)
			r = cg_writeu(dir, "cpu.shares", l->cpu_shares);
		return r;
	}
	return -EINVAL;
}

static void try_v1(const struct sandbox_limits *l, unsigned mask, const char *mounts,
		   const char *self, struct sandbox_cgroup *cg)
{
	for (int c = 0; c < CG__MAX; c++) {
		if (!(mask & (1u << c)))
			continue;
		_cleanup_free_ char *mnt = cgroup_mount_of(mounts, ctl_names[c]);
		_cleanup_free_ char *path = cgroup_path_of(self, ctl_names[c]);
		if (!mnt || !path)
			continue;
		_cleanup_free_ char *parent = join(mnt, path, NULL);
		char *dir = join(mnt, path, cg->name);
		if (!parent || !dir) {
			free(dir);
			continue;
		}
		remove_stale(parent);
		int r = make_cgroup(dir);
		if (r == 0 && (r = v1_limits(c, dir, l)) < 0)
			(void)rmdir(dir);
		if (r < 0) {
			log_debug("cgroup v1: %s: %s", dir, strerror(-r));
			free(dir);
			continue;
		}
		cg->dir[c] = dir;
		cg->mode = CGROUP_V1;
	}
}

/* ------------------------------------------------------------------------
 * The cleanup helper */

static void kill_members(const char *dir, bool v2)
{
	/* cgroup.kill (v2, 5.14) takes everything at once, forks included. */
	if (v2 && cg_write(dir, "cgroup.kill", "1") == 0)
		return;
	_cleanup_free_ char *procs = cg_read(dir, "cgroup.procs");
	for (char *p = procs; p && *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0)
			(void)kill((pid_t)pid, SIGKILL);
		p = end + (*end == '\n');
	}
}

static _Noreturn void helper_main(struct sandbox_cgroup *cg, int go, pid_t parent)
{
	(void)prctl(PR_SET_NAME, "moat-cgroup", 0, 0, 0);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	/* Nothing of the sentry's: not the uid reservation, not the audit log,
	 * not its stdio (whoever reads the sandbox's output sees its end when
	 * the sandbox ends, not when the helper does). */
	int hgo = fcntl(go, F_DUPFD_CLOEXEC, 64);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (hgo < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 ||
	    dup3(hgo, 3, O_CLOEXEC) < 0)
		_exit(1);
	syscall(SYS_close_range, 4, ~0U, 0);
	int pidfd = (int)syscall(SYS_pidfd_open, parent, 0);
	heap_trim(); /* it waits for the sandbox's whole life (main.c) */
	if (getppid() == parent) {
		struct pollfd pf[2] = { { .fd = 3, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
		while (poll(pf, pidfd >= 0 ? 2 : 1, -1) < 0 && errno == EINTR)
			;
	}
	/* The sentry is done or dead: pid 1 is gone or going (its pid
	 * namespace with it); whatever is left is killed. The cgroup can be
	 * removed once the kernel has reaped them all: a few ms, 5 s at most. */
	for (int c = 0; c < CG__MAX; c++) {
		if (!cg->dir[c])
			continue;
		bool dup = false;
		for (int k = 0; k < c; k++)
			dup |= cg->dir[k] && !strcmp(cg->dir[k], cg->dir[c]);
		if (dup)
			continue;
		/* The last tasks leave a v1 cgroup a fraction of a ms after
		 * pid 1's exit: poll finely, then back off (5 s in all). */
		useconds_t wait = 100;
		for (useconds_t spent = 0; spent < 5000000; spent += wait) {
			kill_members(cg->dir[c], cg->mode == CGROUP_V2);
			if (rmdir(cg->dir[c]) == 0 || errno != EBUSY)
				break;
			usleep(wait);
			if (wait < 20000)
				wait *= 2;
		}
	}
	_exit(0);
}

static int start_helper(struct sandbox_cgroup *cg)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return neg_errno();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		helper_main(cg, go[0], parent);
	}
	close(go[0]);
	if (pid < 0) {
		int r = neg_errno();
		close(go[1]);
		return r;
	}
	cg->helper_go = go[1];
	return 0;
}

/* ------------------------------------------------------------------------
 * The sandbox's side */

static void open_events(struct sandbox_cgroup *cg)
{
	char p[PATH_MAX];
	if (cg->dir[CG_MEMORY]) {
		snprintf(p, sizeof(p), "%s/%s", cg->dir[CG_MEMORY],
			 cg->mode == CGROUP_V2 ? "memory.events" : "memory.oom_control");
		cg->memory_events_fd = open(p, O_RDONLY | O_CLOEXEC);
	}
	if (cg->dir[CG_PIDS]) {
		snprintf(p, sizeof(p), "%s/pids.events", cg->dir[CG_PIDS]);
		cg->pids_events_fd = open(p, O_RDONLY | O_CLOEXEC);
	}
}

static void release(struct sandbox_cgroup *cg)
{
	cg->clone_fd = safe_close(cg->clone_fd);
	cg->memory_events_fd = safe_close(cg->memory_events_fd);
	cg->pids_events_fd = safe_close(cg->pids_events_fd);
	for (int c = 0; c < CG__MAX; c++) {
		free(cg->dir[c]);
		cg->dir[c] = NULL;
	}
}

/* Before any task is in it: remove it at once. */
static void discard(struct sandbox_cgroup *cg)
{
	for (int c = 0; c < CG__MAX; c++)
		if (cg->dir[c])
			(void)rmdir(cg->dir[c]);
	release(cg);
	cg->mode = CGROUP_NONE;
}

int cgroup_setup(struct sandbox_limits *l, struct sandbox_cgroup *ret)
{
	*ret = (struct sandbox_cgroup){ .memory_events_fd = -1, .pids_events_fd = -1, .helper_go = -1,
					.clone_fd = -1 };
	snprintf(ret->name, sizeof(ret->name), "moat-%d", getpid());
	unsigned mask = needed(l, true);
	/* The defaults must not cost start time: without a clone into the
	 * cgroup (v2 only) every way in is a move. */
	bool may_move = !l->defaults_only;
	if (mask && (may_move || kfeature_has(KF_CLONE_INTO_CGROUP))) {
		_cleanup_free_ char *mounts = NULL, *self = NULL;
		(void)read_file_at(AT_FDCWD, "/proc/self/mounts", &mounts, 1 << 20);
		(void)read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, 1 << 16);
		if (mounts && self && kfeature_has(KF_CGROUP_V2))
			(void)try_v2(l, needed(l, false), mask, mounts, self, may_move, ret);
		if (ret->mode == CGROUP_NONE && may_move && mounts && self && kfeature_has(KF_CGROUP_V1))
			try_v1(l, mask, mounts, self, ret);
	}
	l->fallback = 0;
	if (l->pids && !ret->dir[CG_PIDS])
		l->fallback |= LIMIT_FALLBACK_PIDS;
	/* moat run's default memory limit is cgroups' only: RLIMIT_DATA per
	 * process would not bound the sandbox and could break programs that
	 * legitimately map much, so only an explicit --memory gets it. */
	if (l->memory && !ret->dir[CG_MEMORY] && !l->memory_is_default)
		l->fallback |= LIMIT_FALLBACK_MEMORY;
	/* Shares are a relative weight, not a limit: without a controller
	 * they are dropped (a container engine sets them on every container). */
	if (l->cpu_quota_us && !ret->dir[CG_CPU]) {
		log_warnx("cannot enforce the CPU limit: no writable cgroup cpu controller here "
			  "(docs/limits.md)");
		discard(ret);
		return -EOPNOTSUPP;
	}
	if (ret->mode == CGROUP_NONE)
		return 0;
	open_events(ret);
	int r = start_helper(ret);
	if (r < 0) {
		discard(ret);
		return log_error_errno(r, "start the cgroup helper");
	}
	log_debug("limits: %s (%s)", cgroup_mechanism(ret, l), ret->name);
	return 0;
}

int cgroup_attach(struct sandbox_cgroup *cg, pid_t pid)
{
	/* Cloned into it: nothing moves. */
	if (cg->clone_fd >= 0) {
		cg->clone_fd = safe_close(cg->clone_fd);
		return 0;
	}
	for (int c = 0; c < CG__MAX; c++) {
		if (!cg->dir[c])
			continue;
		bool dup = false;
		for (int k = 0; k < c; k++)
			dup |= cg->dir[k] && !strcmp(cg->dir[k], cg->dir[c]);
		int r;
		if (!dup && (r = cg_writeu(cg->dir[c], "cgroup.procs", (uint64_t)pid)) < 0)
			return log_error_errno(r, "move the sandbox into %s", cg->dir[c]);
	}
	return 0;
}

const char *cgroup_mechanism(const struct sandbox_cgroup *cg, const struct sandbox_limits *l)
{
	/* [mode][an rlimit stands in][a memory limit nothing enforces] */
	static const char *const names[3][2][2] = {
		[CGROUP_NONE] = { { "none", "none, memory unenforced" },
				  { "rlimits", "rlimits, memory unenforced" } },
		[CGROUP_V1] = { { "cgroup v1", "cgroup v1, memory unenforced" },
				{ "cgroup v1+rlimits", "cgroup v1+rlimits, memory unenforced" } },
		[CGROUP_V2] = { { "cgroup v2", "cgroup v2, memory unenforced" },
				{ "cgroup v2+rlimits", "cgroup v2+rlimits, memory unenforced" } },
	};
	bool unenforced = l->memory && !cg->dir[CG_MEMORY] && !(l->fallback & LIMIT_FALLBACK_MEMORY);
	return names[cg->mode][l->fallback != 0][unenforced];
}

int cgroup_read_events(const struct sandbox_cgroup *cg, struct cgroup_events *ret)
{
	struct cgroup_events ev = { 0 };
	char *s = NULL;
	if (cg->memory_events_fd >= 0 && read_file_fd(cg->memory_events_fd, &s, 4096) >= 0) {
		ev.oom_kills = keyed(s, "oom_kill");
		free(s);
		s = NULL;
	}
	if (cg->pids_events_fd >= 0 && read_file_fd(cg->pids_events_fd, &s, 4096) >= 0) {
		ev.pids_refused = keyed(s, "max");
		free(s);
	}
	*ret = ev;
	return 0;
}

void cgroup_finish(struct sandbox_cgroup *cg)
{
	/* Not waited for: the cgroup empties only once the kernel has torn
	 * pid 1's namespaces down (RCU grace periods, a few ms), which moat
	 * run has no reason to wait for. */
	if (cg->helper_go >= 0) {
		(void)write(cg->helper_go, "x", 1);
		cg->helper_go = safe_close(cg->helper_go);
	}
	release(cg);
}

int cgroup_stats_of(pid_t pid, pid_t sentry_pid, struct cgroup_stats *ret)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", pid);
	_cleanup_free_ char *self = NULL, *mounts = NULL;
	if (read_file_at(AT_FDCWD, p, &self, 1 << 16) < 0 ||
	    read_file_at(AT_FDCWD, "/proc/self/mounts", &mounts, 1 << 20) < 0)
		return -ENOENT;
	char own[32];
	snprintf(own, sizeof(own), "/moat-%d", sentry_pid);
	struct cgroup_stats st = { 0 };
	static const struct {
		const char *ctl, *v2file, *v1file, *v2max, *v1max;
		size_t off_val, off_max, off_has;
	} files[] = {
		{ "memory", "memory.current", "memory.usage_in_bytes", "memory.max", "memory.limit_in_bytes",
		  offsetof(struct cgroup_stats, memory_current), offsetof(struct cgroup_stats, memory_max),
		  offsetof(struct cgroup_stats, has_memory) },
		{ "pids", "pids.current", "pids.current", "pids.max", "pids.max",
		  offsetof(struct cgroup_stats, pids_current), offsetof(struct cgroup_stats, pids_max),
		  offsetof(struct cgroup_stats, has_pids) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		for (int v2 = 1; v2 >= 0; v2--) {
			_cleanup_free_ char *mnt = cgroup_mount_of(mounts, v2 ? NULL : files[i].ctl);
			_cleanup_free_ char *path = cgroup_path_of(self, v2 ? NULL : files[i].ctl);
			/* Only the sandbox's own cgroup: a parent's figures
			 * would count other processes. */
			size_t pl = path ? strlen(path) : 0, ol = strlen(own);
			if (!path || pl < ol || strcmp(path + pl - ol, own))
				continue;
			_cleanup_free_ char *dir = mnt ? join(mnt, path, NULL) : NULL;
			_cleanup_free_ char *val = dir ? cg_read(dir, v2 ? files[i].v2file : files[i].v1file) : NULL;
			if (val) {
				_cleanup_free_ char *max = cg_read(dir, v2 ? files[i].v2max : files[i].v1max);
				*(uint64_t *)((char *)&st + files[i].off_val) = strtoull(val, NULL, 10);
				*(uint64_t *)((char *)&st + files[i].off_max) =
					max && strncmp(max, "max", 3) ? strtoull(max, NULL, 10) : 0;
				*(bool *)((char *)&st + files[i].off_has) = true;
				break;
			}
		}
	}
	if (!st.has_memory && !st.has_pids)
		return -ENOENT;
	*ret = st;
	return 0;
}

/* ------------------------------------------------------------------------
 * The freezer, from outside (`moat pause`/`resume`) */

/* The sandbox's own v2 cgroup: pid 1's, when it is moat-<sentry pid>. */
static char *own_v2_dir(const char *self, const char *mounts, pid_t sentry_pid)
{
	_cleanup_free_ char *mnt = cgroup_mount_of(mounts, NULL);
	_cleanup_free_ char *path = cgroup_path_of(self, NULL);
	char name[32];
	snprintf(name, sizeof(name), "/moat-%d", sentry_pid);
	size_t pl = path ? strlen(path) : 0, nl = strlen(name);
	if (!mnt || !path || pl < nl || strcmp(path + pl - nl, name))
		return NULL;
	return join(mnt, path, NULL);
}

static int wait_value(const char *dir, const char *file, const char *key, const char *want)
{
	for (int i = 0; i < 1000; i++) {
		_cleanup_free_ char *v = cg_read(dir, file);
		if (!v)
			return -ENOENT;
		if (key ? keyed(v, key) == (uint64_t)atoi(want) : !strncmp(v, want, strlen(want)))
			return 0;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

int cgroup_freeze(pid_t init, pid_t sentry_pid, const pid_t *pids, size_t npids, bool freeze,
		  char **ret_dir)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", init);
	_cleanup_free_ char *self = NULL, *mounts = NULL;
	if (read_file_at(AT_FDCWD, p, &self, 1 << 16) < 0 ||
	    read_file_at(AT_FDCWD, "/proc/self/mounts", &mounts, 1 << 20) < 0)
		return -ENOENT;
	_cleanup_free_ char *v2 = own_v2_dir(self, mounts, sentry_pid);
	if (v2 && access(v2, F_OK) == 0) {
		_cleanup_free_ char *f = join(v2, "cgroup.freeze", NULL);
		if (f && access(f, F_OK) == 0) {
			int r = cg_write(v2, "cgroup.freeze", freeze ? "1" : "0");
			if (r == 0)
				r = wait_value(v2, "cgroup.events", "frozen", freeze ? "1" : "0");
			if (r == 0 && ret_dir)
				*ret_dir = TAKE_PTR(v2);
			return r;
		}
	}
	/* v1: a freezer cgroup of the sandbox's name, made for it at its
	 * first pause, with every process of the sandbox moved in (what they
	 * fork afterwards starts in it). */
	_cleanup_free_ char *mnt = cgroup_mount_of(mounts, "freezer");
	_cleanup_free_ char *path = cgroup_path_of(self, "freezer");
	if (!mnt || !path)
		return -ENOENT;
	char name[32];
	snprintf(name, sizeof(name), "moat-%d", sentry_pid);
	const char *base = strrchr(path, '/');
	_cleanup_free_ char *dir = base && !strcmp(base + 1, name) ? join(mnt, path, NULL)
								     : join(mnt, path, name);
	if (!dir)
		return -ENOMEM;
	if (freeze) {
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return neg_errno();
		int r = cg_writeu(dir, "cgroup.procs", (uint64_t)init);
		for (size_t i = 0; r == 0 && i < npids; i++)
			if ((r = cg_writeu(dir, "cgroup.procs", (uint64_t)pids[i])) == -ESRCH)
				r = 0; /* gone meanwhile */
		if (r < 0)
			return r;
	}
	int r = cg_write(dir, "freezer.state", freeze ? "FROZEN" : "THAWED");
	if (r == 0)
		r = wait_value(dir, "freezer.state", NULL, freeze ? "FROZEN" : "THAWED");
	if (r == 0 && ret_dir)
		*ret_dir = TAKE_PTR(dir);
	return r;
}
