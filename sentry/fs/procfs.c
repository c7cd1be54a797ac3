/* SPDX-License-Identifier: MIT */
/* procfs: the sandbox's own /proc.
 *
 * Every answer is computed when asked, for the task asking (`current`), so
 * lookups are not cached. Three sources:
 *  - the sentry's own state: identity, mounts, credentials, cwd, exe;
 *  - the host's /proc entries of guest processes (status, maps, fds...),
 *    translated so that no host pid, path, uid, name or mount shows through;
 *    anything we do not know how to translate is left out (fail closed);
 *  - fixed values for system-wide files (sysctls).
 * A file's contents are generated at open and handed to the guest as a
 * sealed memfd: reads run at native speed on one consistent snapshot, as
 * with the kernel's seq_file.
 *
 * The tree is data: each directory is a table of entries (name, type, mode,
 * generator or link function); the numeric directories (/proc itself, task/,
 * fd/, fdinfo/) add their children with a lookup/readdir pair.
 *
 * Which processes exist: the host processes in the sandbox's pid namespace.
 * A /proc/<pid> vnode remembers the host pid it was found with; every use
 * opens the host's /proc/<hostpid> directory and checks through that one
 * directory fd that it still is sandbox pid <pid> before reading anything,
 * so a reused host pid can never show another process's data.
 *
 * All of it runs under the sentry lock (vfs.h). */
#include <sys/statfs.h> /* before vfs.h: its statfs op names struct statfs */

#include "sentry/fs/fs.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/vfs/ofd.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define PROC_ROOT_INO 1
#define HOSTPATH_MAX 96
#define SMALL_MAX (1 << 16) /* status, stat, fdinfo, limits, sysctls */
#define BIG_MAX (64 << 20)  /* maps, cmdline, environ of a big process */
#define CAP_LAST_CAP_DEFAULT 40
#define UNKNOWN_PATH "/[moat-unknown]"

/* ---- instance state ------------------------------------------------------ */

struct cpu_times {
	int cpu; /* -1: the aggregate "cpu" line */
	uint64_t v[10];
};

static struct {
	bool ready;
	int hostproc;          /* O_PATH fd of the host's /proc */
	int64_t start_boot_ns; /* sandbox start on CLOCK_BOOTTIME (process start times) */
	struct timespec start_real;
	long hz;
	unsigned cap_last_cap;
	char boot_id[37];
	dev_t moat_dev;        /* moat's own executable: the sandbox's init runs it */
	ino_t moat_ino;
	struct cpu_times *cpu_base; /* host CPU times at start: /proc/stat counts from there */
	size_t ncpu_base;
} P = { .hostproc = -1 };

static const struct cred root_cred = { .refcnt = 1 };

/* ---- the tree as data ---------------------------------------------------- */

struct pctx;
struct linkres;
struct pdyn;

/* Contents of a file, generated at open. */
typedef int (*gen_fn)(const struct pctx *c, struct strbuf *sb);
/* Text of a link and, when want_target, what following it yields. */
typedef int (*link_fn)(const struct pctx *c, bool want_target, struct linkres *res);

struct pent {
	const char *name;
	enum vtype type; /* VREG, VDIR or VLNK */
	mode_t perm;
	unsigned flags;  /* PE_* */
	gen_fn gen;      /* VREG */
	link_fn link;    /* VLNK */
	const struct pent *sub;  /* VDIR: fixed children, ended by a NULL name */
	const struct pdyn *dyn;  /* VDIR: numeric children */
	const char *arg, *arg2;  /* for the generic generators */
};
#define PE_TGID_ONLY 0x1 /* in /proc/<pid> only, not in task/<tid> */
#define PE_SYSCTL 0x2    /* opening for write gives -EROFS (else -EACCES) */
#define PE_PRIVATE 0x4   /* another process's: only for who may ptrace it */

/* Numeric children of a directory (pids, tids, fds). */
struct pdyn {
	int (*lookup)(struct vnode *dir, const struct pent *child, const char *name,
		      struct vnode **ret);
	int (*readdir)(struct vnode *dir, const struct pent *child, struct dirent_list *out);
	const struct pent *child;
};

/* A vnode's private part: which entry, for which process, thread and fd. */
struct pnode {
	const struct pent *ent;
	pid_t vpid, vtid; /* under /proc/<vpid>[/task/<vtid>]; 0 outside */
	pid_t hpid, htid; /* the host ids they had when looked up */
	int fd;           /* fd/<fd> and fdinfo/<fd>; -1 otherwise */
};

/* Everything a generator needs, set up (and checked) per operation. */
struct pctx {
	const struct pnode *pn;
	int hdir;          /* O_PATH fd of host /proc/<hpid>[/task/<htid>], or -1 */
	struct task *task; /* the thread (or the leader), if the sentry knows it */
	struct proc *proc; /* its process, if known */
};

struct linkres {
	char text[PATH_MAX];
	size_t len;
	struct vnode *vn; /* borrowed: following the link gives this vnode */
	int hostfd;       /* owned: following re-opens this host file */
	bool magic;       /* following needs vn or hostfd; text alone is not a path */
};

static const struct fs_ops procfs_ops;

/* ---- small helpers ------------------------------------------------------- */

/* A canonical decimal id: digits only, no sign or leading zero, fits an int. */
static int parse_id(const char *s, int *ret)
{
	if (!isdigit((unsigned char)s[0]) || (s[0] == '0' && s[1]))
		return -EINVAL;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*ret = (int)v;
	return 0;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The value of "key:" in a status-like text, up to the end of its line. */
static const char *kv_get(const char *text, const char *key, size_t *ret_len)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			const char *v = l + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			*ret_len = (size_t)((nl ? nl : v + strlen(v)) - v);
			return v;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The last number of "key:" (NSpid's innermost level), and how many there
 * are. -1 when the line is missing or malformed. */
static long kv_last_num(const char *text, const char *key, int *ret_count)
{
	size_t len;
	const char *v = kv_get(text, key, &len);
	if (!v)
		return -1;
	long last = -1;
	int count = 0;
	for (const char *p = v, *end = v + len; p < end;) {
		char *q;
		long n = strtol(p, &q, 10);
		if (q == p)
			break;
		last = n, count++;
		p = q;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	if (ret_count)
		*ret_count = count;
	return last;
}

static int sb_puts(struct strbuf *sb, const char *s) { return sb_append(sb, s, strlen(s)); }

/* Paths in mount tables escape what would break the fields, as the kernel does. */
static int sb_put_escaped(struct strbuf *sb, const char *s)
{
	int r = 0;
	for (; *s && r == 0; s++)
		r = strchr(" \t\n\\", *s) ? sb_printf(sb, "\\%03o", (unsigned char)*s)
					  : sb_append(sb, s, 1);
	return r;
}

static void pctx_done(struct pctx *c) { safe_close(c->hdir); }

static struct vnode *reader_root(void)
{
	if (current && current->fs && current->fs->root)
		return current->fs->root;
	struct mount *m = vfs_root_mount();
	return m ? m->root : NULL;
}

static const struct cred *reader_cred(void)
{
	return current && current->cred ? current->cred : &root_cred;
}

/* The target's credentials: its own, else one of its process's threads',
 * else the reader's. */
static const struct cred *pctx_cred(const struct pctx *c)
{
	if (c->task && c->task->cred)
		return c->task->cred;
	if (c->proc && c->proc->threads)
		return c->proc->threads->cred;
	return reader_cred();
}

/* ptrace_may_access, simplified: root, the same process, or all of the
 * target's ids equal to the reader's. */
static bool may_inspect(const struct pctx *c)
{
	const struct cred *rc = reader_cred();
	if (cred_is_root(rc))
		return true;
	if (current && c->proc && current->proc == c->proc)
		return true;
	const struct cred *tc = pctx_cred(c);
	return tc->ruid == rc->fsuid && tc->euid == rc->fsuid && tc->suid == rc->fsuid &&
	       tc->rgid == rc->fsgid && tc->egid == rc->fsgid && tc->sgid == rc->fsgid;
}

static void allowed_cpus(cpu_set_t *set)
{
	if (sched_getaffinity(current ? current->tid : 0, sizeof(*set), set) < 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, set);
}

/* ---- which host processes are the sandbox's ------------------------------ */

static bool in_sandbox_ns(int hdir)
{
	struct stat st;
	return sentry.pidns_ino && fstatat(hdir, "ns/pid", &st, 0) == 0 &&
	       st.st_ino == sentry.pidns_ino;
}

/* The sandbox ids of the host task whose /proc directory is hdir: its
 * thread group and thread ids at the sandbox's level of pid namespaces (the
 * innermost: the guest cannot make pid namespaces). -ESRCH if it is not in
 * the sandbox, or gone. Zombies keep their ns links, so they are found. */
static int host_dir_ids(int hdir, pid_t *ret_vtgid, pid_t *ret_vtid)
{
	if (!in_sandbox_ns(hdir))
		return -ESRCH;
	_cleanup_free_ char *st = NULL;
	if (read_file_at(hdir, "status", &st, SMALL_MAX) < 0)
		return -ESRCH;
	long vtgid = kv_last_num(st, "NStgid", NULL), vtid = kv_last_num(st, "NSpid", NULL);
	if (vtgid <= 0 || vtid <= 0 || vtgid > INT_MAX || vtid > INT_MAX)
		return -ESRCH;
	if (ret_vtgid)
		*ret_vtgid = (pid_t)vtgid;
	if (ret_vtid)
		*ret_vtid = (pid_t)vtid;
	return 0;
}

/* Open the host directory of host task (hpid, htid: 0 for the process
 * itself) and check it still is sandbox (vtgid, vtid). */
static int host_task_open(pid_t hpid, pid_t htid, pid_t vtgid, pid_t vtid, int *ret_fd)
{
	char path[HOSTPATH_MAX];
	if (htid)
		snprintf(path, sizeof(path), "%d/task/%d", hpid, htid);
	else
		snprintf(path, sizeof(path), "%d", hpid);
	_cleanup_close_ int fd = openat(P.hostproc, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	pid_t g, t;
	if (host_dir_ids(fd, &g, &t) < 0 || g != vtgid || t != vtid)
		return -ESRCH;
	if (ret_fd)
		*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Sandbox pid of a host pid (a parent, a process group); 0 if it is not
 * in the sandbox, as the kernel shows ids from outside a namespace. */
static pid_t host_to_vpid(long h)
{
	if (h <= 0 || h > INT_MAX)
		return 0;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "%ld", h);
	_cleanup_close_ int fd = openat(P.hostproc, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	pid_t g;
	if (fd < 0 || host_dir_ids(fd, &g, NULL) < 0)
		return 0;
	return g;
}

struct pidpair {
	pid_t vpid, hpid;
};

static int pidpair_cmp(const void *a, const void *b)
{
	const struct pidpair *x = a, *y = b;
	return (x->vpid > y->vpid) - (x->vpid < y->vpid);
}

/* Scan a host directory of pid-named entries (/proc, /proc/<pid>/task) for
 * the sandbox's: (sandbox id, host id) pairs sorted by sandbox id. */
static int scan_ids(int dirfd, const char *dir, bool threads, struct pidpair **ret, size_t *ret_n)
{
	_cleanup_close_ int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	if (!d)
		return neg_errno();
	int dfd = TAKE_FD(fd);
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *de; (de = readdir(d));) {
		int h;
		if (parse_id(de->d_name, &h) < 0 || h <= 0)
			continue;
		/* A cheap look first (most host processes are not ours), then
		 * the real check through the directory fd. */
		char nspath[HOSTPATH_MAX];
		struct stat nst;
		snprintf(nspath, sizeof(nspath), "%d/ns/pid", h);
		if (fstatat(dfd, nspath, &nst, 0) < 0 || nst.st_ino != sentry.pidns_ino)
			continue;
		_cleanup_close_ int hd = openat(dfd, de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		pid_t g, t;
		if (hd < 0 || host_dir_ids(hd, &g, &t) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct pidpair *nv = realloc(v, cap * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[n++] = (struct pidpair){ threads ? t : g, h };
	}
	if (n)
		qsort(v, n, sizeof(*v), pidpair_cmp);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static int scan_processes(struct pidpair **ret, size_t *ret_n)
{
	return scan_ids(P.hostproc, ".", false, ret, ret_n);
}

/* Host pid of sandbox pid vpid: the caller itself and the task table
 * first, a scan of the host's /proc if they do not know it. */
static int vpid_to_host(pid_t vpid, pid_t *ret)
{
	pid_t cand[2];
	int n = 0;
	if (current && current->proc && current->proc->vpid == vpid)
		cand[n++] = current->proc->tgid;
	struct proc *p = proc_find_vpid(vpid);
	if (p)
		cand[n++] = p->tgid;
	for (int i = 0; i < n; i++)
		if (host_task_open(cand[i], 0, vpid, vpid, NULL) == 0) {
			*ret = cand[i];
			return 0;
		}
	_cleanup_free_ struct pidpair *v = NULL;
	size_t nv = 0;
	int r = scan_processes(&v, &nv);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nv; i++)
		if (v[i].vpid == vpid) {
			*ret = v[i].hpid;
			return 0;
		}
	return -ENOENT;
}

/* ---- nodes --------------------------------------------------------------- */

/* Inode numbers: stable for (entry, pid, tid, fd) while the sandbox runs. */
static uint64_t pino(const struct pent *e, pid_t vpid, pid_t vtid, int fd)
{
	struct {
		uint64_t ent;
		int32_t vpid, vtid, fd, pad;
	} k = { (uintptr_t)e, vpid, vtid, fd, 0 };
	uint64_t h = XXH3_64bits(&k, sizeof(k)) & INT64_MAX;
	return h <= PROC_ROOT_INO ? h + PROC_ROOT_INO + 1 : h;
}

static int pnode_new(struct vnode *dir, const struct pnode *tmpl, const char *name,
		     struct vnode **ret)
{
	struct pnode *pn = malloc(sizeof(*pn));
	if (!pn)
		return -ENOMEM;
	*pn = *tmpl;
	struct vnode *vn = vn_alloc(&procfs_ops, dir->mnt, pn->ent->type,
				    pino(pn->ent, pn->vpid, pn->vtid, pn->fd), dir, name);
	if (!vn) {
		free(pn);
		return -ENOMEM;
	}
	vn->priv = pn;
	*ret = vn;
	return 0;
}

/* Check the node's process is still there and find what the sentry knows
 * about it. Outside /proc/<pid> there is nothing to check. */
static int pctx_init(struct vnode *vn, struct pctx *c)
{
	const struct pnode *pn = vn->priv;
	*c = (struct pctx){ .pn = pn, .hdir = -1 };
	if (!pn->vpid)
		return 0;
	int r = host_task_open(pn->hpid, pn->vtid ? pn->htid : 0, pn->vpid,
			       pn->vtid ? pn->vtid : pn->vpid, &c->hdir);
	if (r < 0)
		return -ENOENT;
	struct task *t = task_find(pn->vtid ? pn->htid : pn->hpid);
	if (t && t->proc && t->proc->tgid == pn->hpid)
		c->task = t;
	if (c->task) {
		c->proc = c->task->proc;
	} else {
		struct proc *p = proc_find_vpid(pn->vpid);
		c->proc = p && p->tgid == pn->hpid ? p : NULL;
	}
	return 0;
}

/* Is the process moat's own code? The sandbox's pid 1 is a fork of moat
 * that never execs: its memory holds the invoker's command line and
 * environment, and its fds moat's own pipes. None of that is the guest's. */
static bool is_moat_code(const struct pctx *c)
{
	struct stat st;
	if (c->hdir < 0)
		return false;
	if (!P.moat_ino || fstatat(c->hdir, "exe", &st, 0) < 0)
		return c->pn->hpid == sentry.init_pid; /* can't tell: trust the pid */
	return st.st_dev == P.moat_dev && st.st_ino == P.moat_ino;
}

#define MOAT_INIT_NAME "init"

/* ---- system-wide files ----------------------------------------------------- */

static int gen_text(const struct pctx *c, struct strbuf *sb)
{
	return sb_puts(sb, c->pn->ent->arg);
}

/* A host sysctl that is a limit the guest really runs under (not an
 * identity): the host's number, or the default if it is not a number. */
static int gen_sysctl_host(const struct pctx *c, struct strbuf *sb)
{
	const struct pent *e = c->pn->ent;
	_cleanup_free_ char *v = NULL;
	if (read_file_at(P.hostproc, e->arg, &v, SMALL_MAX) > 0) {
		size_t n = strspn(v, "0123456789\t ");
		if (n > 0 && v[n] == '\n')
			return sb_append(sb, v, n + 1);
	}
	return sb_printf(sb, "%s\n", e->arg2);
}

static int gen_hostname(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", sentry.ident.hostname);
}

static int gen_domainname(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", sentry.ident.domainname[0] ? sentry.ident.domainname : "(none)");
}

static int gen_osrelease(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", sentry.ident.release);
}

static int gen_kversion(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", sentry.ident.version);
}

static int gen_version(const struct pctx *c, struct strbuf *sb)
{
	/* The identity's version string is usually uname -v ("#1 SMP ..."). */
	const char *v = sentry.ident.version;
	return sb_printf(sb, "Linux version %s (moat) %s%s\n", sentry.ident.release,
			 v[0] == '#' ? "" : "#1 SMP ", v);
}

static int sb_put_uuid(struct strbuf *sb, const uint8_t u[16])
{
	return sb_printf(sb, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			 u[12], u[13], u[14], u[15]);
}

static int random_uuid(uint8_t u[16])
{
	if (getrandom(u, 16, 0) != 16)
		return -EIO;
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	return 0;
}

static int gen_uuid(const struct pctx *c, struct strbuf *sb)
{
	uint8_t u[16];
	int r = random_uuid(u);
	if (r < 0 || (r = sb_put_uuid(sb, u)) < 0)
		return r;
	return sb_puts(sb, "\n");
}

static int gen_boot_id(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%s\n", P.boot_id);
}

static int read_cpu_line(const char *line, struct cpu_times *ret)
{
	struct cpu_times t = { .cpu = -1 };
	const char *p = line + 3;
	if (isdigit((unsigned char)*p))
		t.cpu = (int)strtol(p, (char **)&p, 10);
	else if (*p != ' ')
		return -EINVAL;
	for (int i = 0; i < 10; i++) {
		char *q;
		t.v[i] = strtoull(p, &q, 10);
		if (q == p)
			break;
		p = q;
	}
	*ret = t;
	return 0;
}

/* Host CPU time lines, each counted from the sandbox's start: the sums
 * since the host's boot would tell its uptime. */
static int cpu_times_now(struct cpu_times **ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	ssize_t r = read_file_at(P.hostproc, "stat", &text, BIG_MAX);
	if (r < 0)
		return (int)r;
	_cleanup_free_ struct cpu_times *v = NULL;
	size_t n = 0, cap = 0;
	for (char *l = text; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		struct cpu_times t;
		if (!strncmp(l, "cpu", 3) && read_cpu_line(l, &t) == 0 && t.cpu >= 0) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				struct cpu_times *nv = realloc(v, cap * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				v = nv;
			}
			v[n++] = t;
		}
		l = nl ? nl + 1 : NULL;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static void cpu_times_since_start(struct cpu_times *t)
{
	for (size_t i = 0; i < P.ncpu_base; i++)
		if (P.cpu_base[i].cpu == t->cpu)
			for (int k = 0; k < 10; k++)
				t->v[k] = t->v[k] > P.cpu_base[i].v[k] ? t->v[k] - P.cpu_base[i].v[k] : 0;
}

static int sb_put_cpu_line(struct strbuf *sb, const struct cpu_times *t)
{
	int r = t->cpu < 0 ? sb_puts(sb, "cpu ") : sb_printf(sb, "cpu%d", t->cpu);
	for (int k = 0; r == 0 && k < 10; k++)
		r = sb_printf(sb, " %" PRIu64, t->v[k]);
	return r ? r : sb_puts(sb, "\n");
}

/* The sandbox's CPUs, counted from its start; the first is the sum. */
static int sandbox_cpu_times(struct cpu_times **ret, size_t *ret_n)
{
	_cleanup_free_ struct cpu_times *v = NULL;
	size_t n = 0;
	int r = cpu_times_now(&v, &n);
	if (r < 0)
		return r;
	cpu_set_t set;
	allowed_cpus(&set);
	struct cpu_times *out = calloc(n + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	size_t k = 1;
	out[0].cpu = -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].cpu >= CPU_SETSIZE || !CPU_ISSET(v[i].cpu, &set))
			continue;
		cpu_times_since_start(&v[i]);
		for (int j = 0; j < 10; j++)
			out[0].v[j] += v[i].v[j];
		out[k++] = v[i];
	}
	*ret = out;
	*ret_n = k;
	return 0;
}

static double uptime_seconds(void)
{
	int64_t ns = clock_ns(CLOCK_BOOTTIME) - P.start_boot_ns;
	return ns > 0 ? (double)ns / 1e9 : 0;
}

static int gen_uptime(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ struct cpu_times *t = NULL;
	size_t n = 0;
	double idle = 0;
	if (sandbox_cpu_times(&t, &n) == 0 && n)
		idle = (double)(t[0].v[3] + t[0].v[4]) / (double)P.hz; /* idle + iowait */
	return sb_printf(sb, "%.2f %.2f\n", uptime_seconds(), idle);
}

static int gen_loadavg(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0;
	int r = scan_processes(&v, &n);
	if (r < 0)
		return r;
	return sb_printf(sb, "0.00 0.00 0.00 1/%zu %d\n", n, n ? v[n - 1].vpid : 1);
}

static int gen_stat(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ struct cpu_times *t = NULL;
	size_t n = 0;
	int r = sandbox_cpu_times(&t, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = sb_put_cpu_line(sb, &t[i]);
	if (r < 0)
		return r;
	_cleanup_free_ struct pidpair *v = NULL;
	size_t np = 0;
	(void)scan_processes(&v, &np);
	return sb_printf(sb,
			 "intr 0\nctxt 0\nbtime %lld\nprocesses %d\nprocs_running 1\n"
			 "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
			 (long long)P.start_real.tv_sec, np ? v[np - 1].vpid : 1);
}

/* The sandbox's memory limit from its cgroup (v2), if it has one. */
static int sandbox_memory(uint64_t *ret_limit_kb, uint64_t *ret_used_kb)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%d/cgroup", sentry.init_pid);
	_cleanup_free_ char *cg = NULL;
	if (sentry.init_pid <= 0 || read_file_at(P.hostproc, path, &cg, SMALL_MAX) < 0)
		return -ENOENT;
	char *l = strstr(cg, "0::/");
	if (!l || (l != cg && l[-1] != '\n'))
		return -ENOENT;
	l += 3;
	l[strcspn(l, "\n")] = 0;
	if (strstr(l, "/..") || !strcmp(l, "/"))
		return -ENOENT;
	_cleanup_free_ char *max = NULL, *cur = NULL;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", l);
	if (read_file_at(AT_FDCWD, path, &max, SMALL_MAX) <= 0 || !isdigit((unsigned char)max[0]))
		return -ENOENT;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.current", l);
	if (read_file_at(AT_FDCWD, path, &cur, SMALL_MAX) <= 0)
		return -ENOENT;
	*ret_limit_kb = strtoull(max, NULL, 10) / 1024;
	*ret_used_kb = strtoull(cur, NULL, 10) / 1024;
	return 0;
}

static int gen_meminfo(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ char *host = NULL;
	uint64_t total = 0, freem = 0, avail = 0, limit, used;
	if (read_file_at(P.hostproc, "meminfo", &host, SMALL_MAX) >= 0) {
		total = (uint64_t)kv_last_num(host, "MemTotal", NULL);
		freem = (uint64_t)kv_last_num(host, "MemFree", NULL);
		avail = (uint64_t)kv_last_num(host, "MemAvailable", NULL);
	}
	/* kv_last_num of "16283428 kB" stops at "kB": it gives the number. */
	if (sandbox_memory(&limit, &used) == 0 && limit < total) {
		total = limit;
		freem = avail = used < limit ? limit - used : 0;
	}
	if (avail > total)
		avail = total;
	if (freem > avail)
		freem = avail;
	/* The key set programs parse; what we do not model is 0. */
	static const char *const zero_kb[] = {
		"Buffers", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)",
		"Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked",
		"SwapTotal", "SwapFree", "Zswap", "Zswapped", "Dirty", "Writeback", "AnonPages",
		"Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim",
		"KernelStack", "PageTables", "SecPageTables", "NFS_Unstable", "Bounce",
		"WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed",
		"VmallocChunk", "Percpu", "HardwareCorrupted", "AnonHugePages", "ShmemHugePages",
		"ShmemPmdMapped", "FileHugePages", "FilePmdMapped",
	};
	int r = sb_printf(sb, "%-16s%8" PRIu64 " kB\n%-16s%8" PRIu64 " kB\n%-16s%8" PRIu64 " kB\n",
			  "MemTotal:", total, "MemFree:", freem, "MemAvailable:", avail);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(zero_kb); i++) {
		char key[32];
		int kl = snprintf(key, sizeof(key), "%s:", zero_kb[i]);
		uint64_t v = !strcmp(zero_kb[i], "CommitLimit") ? total : 0;
		/* Numbers end in column 24 whatever the key's length, as the kernel's. */
		r = sb_printf(sb, "%-16s%*" PRIu64 " kB\n", key, kl < 16 ? 8 : 24 - kl, v);
	}
	if (r == 0)
		r = sb_printf(sb,
			      "HugePages_Total:       0\nHugePages_Free:        0\n"
			      "HugePages_Rsvd:        0\nHugePages_Surp:        0\n"
			      "Hugepagesize:       2048 kB\nHugetlb:               0 kB\n");
	return r;
}

/* cpuinfo keys passed through; anything else (microcode revision, keys a
 * future kernel adds) is left out. */
static const char *const cpuinfo_keys[] = {
	"processor", "vendor_id", "cpu family", "model", "model name", "stepping", "cpu MHz",
	"cache size", "physical id", "siblings", "core id", "cpu cores", "apicid",
	"initial apicid", "fpu", "fpu_exception", "cpuid level", "wp", "flags", "vmx flags",
	"bugs", "bogomips", "TLB size", "clflush size", "cache_alignment", "address sizes",
	"power management",
};

static bool cpuinfo_key_ok(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return false;
	size_t kl = (size_t)(colon - line);
	while (kl && (line[kl - 1] == '\t' || line[kl - 1] == ' '))
		kl--;
	for (size_t i = 0; i < ARRAY_SIZE(cpuinfo_keys); i++)
		if (strlen(cpuinfo_keys[i]) == kl && !memcmp(cpuinfo_keys[i], line, kl))
			return true;
	return false;
}

/* The host's blocks for the CPUs the sandbox may run on. */
static int gen_cpuinfo(const struct pctx *c, struct strbuf *sb)
{
	_cleanup_free_ char *text = NULL;
	ssize_t n = read_file_at(P.hostproc, "cpuinfo", &text, BIG_MAX);
	if (n < 0)
		return (int)n;
	cpu_set_t set;
	allowed_cpus(&set);
	bool keep = false;
	int r = 0;
	for (char *l = text; r == 0 && l && *l;) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (!strncmp(l, "processor", 9)) {
			const char *colon = memchr(l, ':', len);
			long cpu = colon ? strtol(colon + 1, NULL, 10) : -1;
			keep = cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set);
		}
		if (len == 0) {
			if (keep)
				r = sb_puts(sb, "\n");
			keep = false;
		} else if (keep && cpuinfo_key_ok(l, len)) {
			r = sb_append(sb, l, len + 1 - !nl);
			if (r == 0 && !nl)
				r = sb_puts(sb, "\n");
		}
		l = nl ? nl + 1 : NULL;
	}
	return r;
}

static int gen_filesystems(const struct pctx *c, struct strbuf *sb)
{
	static const char *const known[] = { "sysfs", "tmpfs", "proc", "devtmpfs", "devpts",
					     "overlay" };
	int r = 0;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(known); i++)
		r = sb_printf(sb, "nodev\t%s\n", known[i]);
	/* And whatever else is mounted, once each. */
	for (struct mount *m = vfs_mounts(); r == 0 && m; m = m->next) {
		bool seen = false;
		for (size_t i = 0; !seen && i < ARRAY_SIZE(known); i++)
			seen = m->fstype && !strcmp(m->fstype, known[i]);
		for (struct mount *o = vfs_mounts(); !seen && o != m; o = o->next)
			seen = o->fstype && m->fstype && !strcmp(o->fstype, m->fstype);
		if (!seen && m->fstype)
			r = sb_printf(sb, "nodev\t%s\n", m->fstype);
	}
	return r;
}

/* ---- mounts ---------------------------------------------------------------- */

static int mount_id(const struct mount *m)
{
	int id = 1;
	for (struct mount *o = vfs_mounts(); o; o = o->next, id++)
		if (o == m)
			return id;
	return 0;
}

/* The root the target process sees mounts from. */
static struct vnode *pctx_root(const struct pctx *c)
{
	if (c->task && c->task->fs && c->task->fs->root)
		return c->task->fs->root;
	return reader_root();
}

/* Path of mount m as seen from root; -ENOENT for mounts outside it. */
static int mount_path(struct vnode *root, const struct mount *m, char *buf, size_t len)
{
	bool under = false;
	for (struct vnode *cur = m->root; cur && !under;) {
		under = cur == root;
		cur = cur->mnt && cur == cur->mnt->root ? cur->mnt->mountpoint : cur->parent;
	}
	if (!under)
		return -ENOENT;
	ssize_t n = vfs_path(root, m->root, buf, len, false);
	return n < 0 ? (int)n : 0;
}

/* A bind's source is a host path: the guest sees "none" there, as for
 * any virtual filesystem. */
static const char *mount_source(const struct mount *m)
{
	return m->source && m->source[0] && m->source[0] != '/' ? m->source : "none";
}

static int sb_put_mount_opts(struct strbuf *sb, const struct mount *m)
{
	return sb_printf(sb, "%s%s%s%s,relatime", (m->flags & MNT_RDONLY) ? "ro" : "rw",
			 (m->flags & MNT_NOSUID) ? ",nosuid" : "", (m->flags & MNT_NODEV) ? ",nodev" : "",
			 (m->flags & MNT_NOEXEC) ? ",noexec" : "");
}

static int gen_mounts(const struct pctx *c, struct strbuf *sb)
{
	struct vnode *root = pctx_root(c);
	char path[PATH_MAX];
	int r = 0;
	for (struct mount *m = vfs_mounts(); r == 0 && m; m = m->next) {
		if (mount_path(root, m, path, sizeof(path)) < 0)
			continue;
		if ((r = sb_put_escaped(sb, mount_source(m))) < 0 ||
		    (r = sb_puts(sb, " ")) < 0 || (r = sb_put_escaped(sb, path)) < 0 ||
		    (r = sb_printf(sb, " %s ", m->fstype ? m->fstype : "none")) < 0 ||
		    (r = sb_put_mount_opts(sb, m)) < 0)
			break;
		r = sb_puts(sb, " 0 0\n");
	}
	return r;
}

static int gen_mountinfo(const struct pctx *c, struct strbuf *sb)
{
	struct vnode *root = pctx_root(c);
	char path[PATH_MAX];
	int r = 0;
	for (struct mount *m = vfs_mounts(); r == 0 && m; m = m->next) {
		if (mount_path(root, m, path, sizeof(path)) < 0)
			continue;
		if ((r = sb_printf(sb, "%d %d %u:%u / ", mount_id(m), m->parent ? mount_id(m->parent) : 0,
				   major(m->dev), minor(m->dev))) < 0 ||
		    (r = sb_put_escaped(sb, path)) < 0 || (r = sb_puts(sb, " ")) < 0 ||
		    (r = sb_put_mount_opts(sb, m)) < 0 ||
		    (r = sb_printf(sb, " - %s ", m->fstype ? m->fstype : "none")) < 0 ||
		    (r = sb_put_escaped(sb, mount_source(m))) < 0)
			break;
		r = sb_printf(sb, " %s\n", (m->flags & MNT_RDONLY) ? "ro" : "rw");
	}
	return r;
}

/* ---- per-process files --------------------------------------------------- */

/* The guest's own bytes (cmdline, environ, comm, statm, limits): nothing
 * in them is the host's. */
static int gen_host(const struct pctx *c, struct strbuf *sb)
{
	if (is_moat_code(c)) {
		const char *f = c->pn->ent->arg;
		if (!strcmp(f, "cmdline"))
			return sb_append(sb, MOAT_INIT_NAME, sizeof(MOAT_INIT_NAME));
		if (!strcmp(f, "comm"))
			return sb_puts(sb, MOAT_INIT_NAME "\n");
		if (strcmp(f, "statm") && strcmp(f, "limits"))
			return 0; /* environ */
	}
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_at(c->hdir, c->pn->ent->arg, &buf, BIG_MAX);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	return sb_append(sb, buf, (size_t)n);
}

/* uid_map/gid_map: the identity map of a process not in a user namespace. */
static int gen_idmap(const struct pctx *c, struct strbuf *sb)
{
	return sb_printf(sb, "%10u %10u %10u\n", 0u, 0u, 4294967295u);
}

/* What status and stat need, the host's ids already translated. */
struct status_info {
	const struct pctx *c;
	const struct cred *cred;
	pid_t vpid, vtid, vppid, vpgid, vsid;
	long host_pgrp;
	bool self; /* the reader reads its own thread: it is running */
	bool moat; /* moat's own init (is_moat_code) */
};

static int status_info_load(const struct pctx *c, struct status_info *si, char **ret_status)
{
	const struct pnode *pn = c->pn;
	_cleanup_free_ char *st = NULL;
	if (read_file_at(c->hdir, "status", &st, SMALL_MAX) < 0)
		return -ESRCH;
	*si = (struct status_info){
		.c = c,
		.cred = pctx_cred(c),
		.vpid = pn->vpid,
		.vtid = pn->vtid ? pn->vtid : pn->vpid,
		.vppid = host_to_vpid(kv_last_num(st, "PPid", NULL)),
		.vpgid = (pid_t)kv_last_num(st, "NSpgid", NULL),
		.vsid = (pid_t)kv_last_num(st, "NSsid", NULL),
		.self = current && current->tid == (pn->vtid ? pn->htid : pn->hpid),
		.moat = is_moat_code(c),
	};
	if (si->vpgid < 0)
		si->vpgid = 0;
	if (si->vsid < 0)
		si->vsid = 0;
	*ret_status = TAKE_PTR(st);
	return 0;
}

enum { SI_TGID, SI_TID, SI_PPID, SI_PGID, SI_SID, SI_ZERO };
enum { CAPS_INH, CAPS_PRM, CAPS_EFF, CAPS_BND, CAPS_AMB };

static pid_t si_id(const struct status_info *si, int which)
{
	switch (which) {
	case SI_TGID: return si->vpid;
	case SI_TID: return si->vtid;
	case SI_PPID: return si->vppid;
	case SI_PGID: return si->vpgid;
	case SI_SID: return si->vsid;
	}
	return 0;
}

struct status_rule;
typedef int (*status_fn)(const struct status_info *si, const struct status_rule *rule,
			 const char *line, size_t len, struct strbuf *sb);
struct status_rule {
	const char *key;
	status_fn fn;
	int arg;
};

static int st_pass(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	return sb_append(sb, line, len);
}

static int st_name(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	return si->moat ? sb_puts(sb, "Name:\t" MOAT_INIT_NAME "\n") : sb_append(sb, line, len);
}

static int st_id(const struct status_info *si, const struct status_rule *rule, const char *line,
		 size_t len, struct strbuf *sb)
{
	return sb_printf(sb, "%s:\t%d\n", rule->key, si_id(si, rule->arg));
}

static int st_state(const struct status_info *si, const struct status_rule *rule, const char *line,
		    size_t len, struct strbuf *sb)
{
	/* The host sees the reader waiting for our answer; the kernel shows a
	 * task reading its own status running. */
	return si->self ? sb_puts(sb, "State:\tR (running)\n") : sb_append(sb, line, len);
}

static int st_umask(const struct status_info *si, const struct status_rule *rule, const char *line,
		    size_t len, struct strbuf *sb)
{
	const struct task *t = si->c->task;
	if (!t || !t->fs)
		return sb_append(sb, line, len);
	return sb_printf(sb, "Umask:\t%04o\n", (unsigned)t->fs->umask);
}

static int st_ids4(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	const struct cred *cr = si->cred;
	if (rule->arg == 0)
		return sb_printf(sb, "Uid:\t%u\t%u\t%u\t%u\n", cr->ruid, cr->euid, cr->suid, cr->fsuid);
	return sb_printf(sb, "Gid:\t%u\t%u\t%u\t%u\n", cr->rgid, cr->egid, cr->sgid, cr->fsgid);
}

static int st_groups(const struct status_info *si, const struct status_rule *rule,
		     const char *line, size_t len, struct strbuf *sb)
{
	int r = sb_puts(sb, "Groups:\t");
	int n = si->cred->ngroups;
	if (n > (int)ARRAY_SIZE(si->cred->groups))
		n = (int)ARRAY_SIZE(si->cred->groups);
	for (int i = 0; r == 0 && i < n; i++)
		r = sb_printf(sb, "%s%u", i ? " " : "", si->cred->groups[i]);
	/* The kernel ends the list with a space, groups or not. */
	return r ? r : sb_puts(sb, " \n");
}

/* The sandbox's capabilities: root has them all (as capget tells it),
 * anyone else none; the bounding set is full. */
static int st_caps(const struct status_info *si, const struct status_rule *rule, const char *line,
		   size_t len, struct strbuf *sb)
{
	uint64_t full = P.cap_last_cap >= 63 ? UINT64_MAX : (1ULL << (P.cap_last_cap + 1)) - 1;
	uint64_t v = 0;
	switch (rule->arg) {
	case CAPS_PRM:
	case CAPS_EFF:
		v = si->cred->euid == 0 ? full : 0;
		break;
	case CAPS_BND:
		v = full;
		break;
	}
	return sb_printf(sb, "%s:\t%016" PRIx64 "\n", rule->key, v);
}

/* Lines of status, in the kernel's order; a line not named here (a key a
 * future kernel adds) is left out rather than passed unchecked. */
static const struct status_rule status_rules[] = {
	{ "Name", st_name },
	{ "Umask", st_umask },
	{ "State", st_state },
	{ "Tgid", st_id, SI_TGID },
	{ "Ngid", st_id, SI_ZERO },
	{ "Pid", st_id, SI_TID },
	{ "PPid", st_id, SI_PPID },
	{ "TracerPid", st_id, SI_ZERO },
	{ "Uid", st_ids4, 0 },
	{ "Gid", st_ids4, 1 },
	{ "FDSize", st_pass },
	{ "Groups", st_groups },
	{ "NStgid", st_id, SI_TGID },
	{ "NSpid", st_id, SI_TID },
	{ "NSpgid", st_id, SI_PGID },
	{ "NSsid", st_id, SI_SID },
	{ "Kthread", st_pass },
	{ "VmPeak", st_pass }, { "VmSize", st_pass }, { "VmLck", st_pass }, { "VmPin", st_pass },
	{ "VmHWM", st_pass }, { "VmRSS", st_pass }, { "RssAnon", st_pass }, { "RssFile", st_pass },
	{ "RssShmem", st_pass }, { "VmData", st_pass }, { "VmStk", st_pass }, { "VmExe", st_pass },
	{ "VmLib", st_pass }, { "VmPTE", st_pass }, { "VmSwap", st_pass },
	{ "HugetlbPages", st_pass },
	{ "CoreDumping", st_pass },
	{ "THP_enabled", st_pass },
	{ "untag_mask", st_pass },
	{ "Threads", st_pass },
	{ "SigQ", st_pass }, { "SigPnd", st_pass }, { "ShdPnd", st_pass }, { "SigBlk", st_pass },
	{ "SigIgn", st_pass }, { "SigCgt", st_pass },
	{ "CapInh", st_caps, CAPS_INH },
	{ "CapPrm", st_caps, CAPS_PRM },
	{ "CapEff", st_caps, CAPS_EFF },
	{ "CapBnd", st_caps, CAPS_BND },
	{ "CapAmb", st_caps, CAPS_AMB },
	{ "NoNewPrivs", st_pass },
	{ "Seccomp", st_pass },
	{ "Seccomp_filters", st_pass },
	{ "Speculation_Store_Bypass", st_pass },
	{ "SpeculationIndirectBranch", st_pass },
	{ "Cpus_allowed", st_pass }, { "Cpus_allowed_list", st_pass },
	{ "Mems_allowed", st_pass }, { "Mems_allowed_list", st_pass },
	{ "voluntary_ctxt_switches", st_pass },
	{ "nonvoluntary_ctxt_switches", st_pass },
	{ "x86_Thread_features", st_pass },
	{ "x86_Thread_features_locked", st_pass },
};

static int gen_status(const struct pctx *c, struct strbuf *sb)
{
	struct status_info si;
	_cleanup_free_ char *st = NULL;
	int r = status_info_load(c, &si, &st);
	for (const char *l = st; r == 0 && l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
		const char *colon = memchr(l, ':', len);
		for (size_t i = 0; colon && i < ARRAY_SIZE(status_rules); i++) {
			const struct status_rule *rule = &status_rules[i];
			if (strlen(rule->key) == (size_t)(colon - l) && !memcmp(rule->key, l, colon - l)) {
				r = rule->fn(&si, rule, l, len, sb);
				break;
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return r;
}

/* stat: the host's line with every pid field translated and the start
 * time counted from the sandbox's boot (with btime in /proc/stat, ps
 * shows the real start time; the host's uptime does not show). */
static int gen_pid_stat(const struct pctx *c, struct strbuf *sb)
{
	struct status_info si;
	_cleanup_free_ char *st = NULL, *text = NULL;
	int r = status_info_load(c, &si, &st);
	if (r < 0)
		return r;
	if (read_file_at(c->hdir, "stat", &text, SMALL_MAX) < 0)
		return -ESRCH;
	/* comm may hold spaces and parentheses: it ends at the last ')'. */
	char *lp = strchr(text, '('), *rp = strrchr(text, ')');
	if (!lp || !rp || rp < lp || rp[1] != ' ')
		return -EIO;
	if ((r = sb_printf(sb, "%d (", si.vtid)) < 0 ||
	    (r = si.moat ? sb_puts(sb, MOAT_INIT_NAME) : sb_append(sb, lp + 1, rp - lp - 1)) < 0 ||
	    (r = sb_puts(sb, ")")) < 0)
		return r;
	long long start_ticks = P.start_boot_ns / (1000000000LL / P.hz);
	char *save = NULL;
	int field = 3;
	for (char *tok = strtok_r(rp + 2, " \n", &save); r == 0 && tok;
	     tok = strtok_r(NULL, " \n", &save), field++) {
		long long v = strtoll(tok, NULL, 10);
		switch (field) {
		case 3:
			r = sb_printf(sb, " %s", si.self ? "R" : tok);
			break;
		case 4:
			r = sb_printf(sb, " %d", si.vppid);
			break;
		case 5:
			si.host_pgrp = v;
			r = sb_printf(sb, " %d", si.vpgid);
			break;
		case 6:
			r = sb_printf(sb, " %d", si.vsid);
			break;
		case 8: /* tpgid: the terminal's foreground group */
			r = sb_printf(sb, " %d", v < 0 ? -1 : v == si.host_pgrp ? si.vpgid : host_to_vpid(v));
			break;
		case 22:
			r = sb_printf(sb, " %lld", v > start_ticks ? v - start_ticks : 0);
			break;
		default:
			r = sb_printf(sb, " %s", tok);
		}
	}
	return r ? r : sb_puts(sb, "\n");
}

/* The path of a mapping, as the sandbox names it; or, when that would show
 * something of the host, no path at all (and no host device or inode). */
static bool keep_unknown_map_path(const char *name)
{
	/* Objects with no path on any filesystem: the kernel's own names. */
	static const char *const prefixes[] = { "/memfd:", "/dev/zero", "/SYSV", "/[aio]" };
	if (name[0] != '/')
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	/* The ELF interpreters bound at the same path in the guest's root. */
	for (size_t i = 0; i < sentry.ninterp; i++) {
		size_t n = strlen(sentry.interp_paths[i]);
		if (!strncmp(name, sentry.interp_paths[i], n) &&
		    (!name[n] || !strcmp(name + n, " (deleted)")))
			return true;
	}
	return false;
}

struct map_line {
	unsigned long start, end;
	char perms[8];
	unsigned long long off;
	unsigned maj, min;
	unsigned long ino;
	const char *name;
};

static void map_translate(struct map_line *m, struct vnode *root, char *buf, size_t len)
{
	if (m->ino) {
		struct vnode *vn = vfs_hostino_lookup(makedev(m->maj, m->min), m->ino);
		if (vn && root && vfs_path(root, vn, buf, len, true) >= 0) {
			dev_t dev = vn->mnt ? vn->mnt->dev : 0;
			m->maj = major(dev), m->min = minor(dev), m->ino = vn->ino;
			m->name = buf;
			return;
		}
		if (keep_unknown_map_path(m->name))
			return;
	} else if (m->name[0] == '[' || !m->name[0]) {
		return; /* [heap], [stack], [vdso], [anon:...] or anonymous */
	}
	m->maj = m->min = 0, m->ino = 0;
	m->name = "";
}

static int gen_maps(const struct pctx *c, struct strbuf *sb)
{
	if (is_moat_code(c))
		return 0;
	_cleanup_free_ char *text = NULL;
	if (read_file_at(c->hdir, "maps", &text, BIG_MAX) < 0)
		return -ESRCH;
	struct vnode *root = reader_root();
	char path[PATH_MAX + 16];
	int r = 0;
	for (char *l = text; r == 0 && l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		struct map_line m = { 0 };
		int off = 0;
		if (sscanf(l, "%lx-%lx %7s %llx %x:%x %lu %n", &m.start, &m.end, m.perms, &m.off, &m.maj,
			   &m.min, &m.ino, &off) >= 7 && off > 0) {
			m.name = l + off;
			map_translate(&m, root, path, sizeof(path));
			size_t before = sb->len;
			r = sb_printf(sb, "%08lx-%08lx %s %08llx %02x:%02x %lu ", m.start, m.end, m.perms,
				      m.off, m.maj, m.min, m.ino);
			/* The kernel pads the path to column 73. */
			size_t col = sb->len - before;
			if (r == 0 && m.name[0])
				r = sb_printf(sb, "%*s%s", col < 73 ? (int)(73 - col) : 0, "", m.name);
			if (r == 0)
				r = sb_puts(sb, "\n");
		}
		l = nl ? nl + 1 : NULL;
	}
	return r;
}

/* auxv is the guest's own, but AT_UID and friends are the host's ids. */
static int gen_auxv(const struct pctx *c, struct strbuf *sb)
{
	if (is_moat_code(c))
		return 0;
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_at(c->hdir, "auxv", &buf, SMALL_MAX);
	if (n < 0)
		return -ESRCH;
	const struct cred *cr = pctx_cred(c);
	for (size_t i = 0; i + 16 <= (size_t)n; i += 16) {
		uint64_t kv[2];
		memcpy(kv, buf + i, sizeof(kv));
		switch (kv[0]) {
		case AT_UID: kv[1] = cr->ruid; break;
		case AT_EUID: kv[1] = cr->euid; break;
		case AT_GID: kv[1] = cr->rgid; break;
		case AT_EGID: kv[1] = cr->egid; break;
		}
		int r = sb_append(sb, kv, sizeof(kv));
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- fds ------------------------------------------------------------------- */

/* What a guest fd is, as far as the sentry knows (see ofd_from_guest). */
struct fdview {
	struct ofd *ofd;  /* a placeholder */
	struct vnode *vn; /* a vnode: the placeholder's or a file moat handed out */
	struct stat st;   /* host stat of the open file */
	mode_t access;    /* S_IRUSR/S_IWUSR: how the guest opened it */
};

static int fd_view(const struct pctx *c, struct fdview *ret)
{
	int fd = c->pn->fd;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "fd/%d", fd);
	struct stat lst;
	if (fstatat(c->hdir, path, &lst, AT_SYMLINK_NOFOLLOW) < 0)
		return -ENOENT;
	struct fdview v = { .access = lst.st_mode & (S_IRUSR | S_IWUSR) };
	if (c->task) {
		int r = ofd_from_guest(c->task, fd, &v.ofd, &v.vn, &v.st);
		if (r < 0)
			return r == -EBADF ? -ENOENT : r;
	} else {
		/* A process the sentry has not met yet: the same identification,
		 * through the directory we checked. */
		if (fstatat(c->hdir, path, &v.st, 0) < 0)
			return -ENOENT;
		if (S_ISREG(v.st.st_mode)) {
			v.ofd = ofd_find(v.st.st_ino); /* placeholders are memfds */
			v.vn = v.ofd ? v.ofd->vn : vfs_hostino_lookup(v.st.st_dev, v.st.st_ino);
		}
	}
	if (v.ofd) {
		int acc = v.ofd->flags & O_ACCMODE;
		v.access = (v.ofd->flags & O_PATH) ? 0
			   : acc == O_RDWR	   ? S_IRUSR | S_IWUSR
			   : acc == O_WRONLY	   ? S_IWUSR
						   : S_IRUSR;
	}
	*ret = v;
	return 0;
}

/* Device files a guest may hold from its invoker (a terminal, /dev/null):
 * named by their number, so no host path is shown. */
static bool chardev_name(dev_t rdev, char *buf, size_t len)
{
	unsigned ma = major(rdev), mi = minor(rdev);
	static const char *const mem[] = { [3] = "null", [5] = "zero", [7] = "full",
					   [8] = "random", [9] = "urandom" };
	if (ma >= 136 && ma <= 143)
		snprintf(buf, len, "/dev/pts/%u", (ma - 136) * 256 + mi);
	else if (ma == 1 && mi < ARRAY_SIZE(mem) && mem[mi])
		snprintf(buf, len, "/dev/%s", mem[mi]);
	else if (ma == 5 && mi <= 2)
		snprintf(buf, len, "/dev/%s", mi == 0 ? "tty" : mi == 1 ? "console" : "ptmx");
	else if (ma == 4 && mi < 64)
		snprintf(buf, len, "/dev/tty%u", mi);
	else
		return false;
	return true;
}

/* A duplicate of the guest's fd, for re-opening it (pipes, terminals). */
static int fd_dup_from_guest(const struct pctx *c)
{
	int pidfd = c->task ? c->task->pidfd : c->proc ? c->proc->pidfd : -1;
	_cleanup_close_ int own = -1;
	if (pidfd < 0) {
		const struct pnode *pn = c->pn;
		own = (int)syscall(SYS_pidfd_open, pn->vtid ? pn->htid : pn->hpid,
				   pn->vtid ? PIDFD_THREAD : 0);
		if (own < 0)
			return -ENOENT;
		/* The pid may have been reused before pidfd_open: our checked
		 * directory still answers only if it is the same process. */
		struct stat st;
		if (fstatat(c->hdir, "stat", &st, 0) < 0)
			return -ENOENT;
		pidfd = own;
	}
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, c->pn->fd, 0);
	return fd < 0 ? -ENOENT : fd;
}

static int link_set(struct linkres *res, const char *fmt, ...) _printf_(2, 3);
static int link_set(struct linkres *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(res->text, sizeof(res->text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(res->text))
		return -ENAMETOOLONG;
	res->len = (size_t)n;
	return 0;
}

static int link_set_vnode(struct linkres *res, struct vnode *vn)
{
	struct vnode *root = reader_root();
	ssize_t n = root ? vfs_path(root, vn, res->text, sizeof(res->text), true) : -ENOENT;
	if (n < 0)
		return link_set(res, "%s", UNKNOWN_PATH);
	res->len = (size_t)n;
	res->vn = vn;
	return 0;
}

static int link_fd(const struct pctx *c, bool want_target, struct linkres *res)
{
	struct fdview v;
	int r = fd_view(c, &v);
	if (r < 0)
		return r;
	res->magic = true;
	if (v.vn)
		return link_set_vnode(res, v.vn);
	char path[HOSTPATH_MAX], host[PATH_MAX];
	snprintf(path, sizeof(path), "fd/%d", c->pn->fd);
	ssize_t n = readlinkat(c->hdir, path, host, sizeof(host) - 1);
	if (n < 0)
		return -ENOENT;
	host[n] = 0;
	/* Re-opening through the link never grants more than the guest's own
	 * fd has: do_open (sys_open.c) checks the access mode against it. */
	bool reopen = true;
	if (host[0] != '/')
		r = link_set(res, "%s", host); /* pipe:[N], socket:[N], anon_inode:[eventfd] */
	else if (S_ISCHR(v.st.st_mode) && chardev_name(v.st.st_rdev, host, sizeof(host)))
		r = link_set(res, "%s", host);
	else if (!strncmp(host, "/memfd:", 7) && S_ISREG(v.st.st_mode))
		r = link_set(res, "%s", host); /* the guest's own memfd */
	else
		r = link_set(res, "%s", UNKNOWN_PATH);
	if (r == 0 && want_target && reopen) {
		int fd = fd_dup_from_guest(c);
		if (fd < 0)
			return fd;
		res->hostfd = fd;
	}
	return r;
}

static bool fdinfo_line_ok(const char *line, size_t len)
{
	static const char *const keys[] = {
		"pos", "flags", "eventfd-count", "eventfd-id", "eventfd-semaphore", "tfd",
		"sigmask", "clockid", "ticks", "settime flags", "it_value", "it_interval", "lock",
	};
	const char *colon = memchr(line, ':', len);
	for (size_t i = 0; colon && i < ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == (size_t)(colon - line) && !memcmp(keys[i], line, colon - line))
			return true;
	return false;
}

/* fdinfo: the host's text where it is about the guest's own fd (position,
 * flags, eventfd count...); mount ids and inode numbers the sandbox's. */
static int gen_fdinfo(const struct pctx *c, struct strbuf *sb)
{
	struct fdview v;
	int r = fd_view(c, &v);
	if (r < 0)
		return r;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "fdinfo/%d", c->pn->fd);
	_cleanup_free_ char *text = NULL;
	if (read_file_at(c->hdir, path, &text, SMALL_MAX) < 0)
		return -ENOENT;
	int mnt = v.vn ? mount_id(v.vn->mnt) : 0;
	if (v.ofd) {
		/* The host would describe the placeholder memfd; its position
		 * is the directory position. */
		long host_flags = 0;
		uint64_t pos = 0;
		size_t n;
		const char *f = kv_get(text, "flags", &n);
		if (f)
			host_flags = strtol(f, NULL, 8);
		const char *p = kv_get(text, "pos", &n);
		if (p)
			pos = strtoull(p, NULL, 10);
		return sb_printf(sb, "pos:\t%" PRIu64 "\nflags:\t0%o\nmnt_id:\t%d\nino:\t%" PRIu64 "\n",
				 pos, (unsigned)((v.ofd->flags & ~O_CLOEXEC) | (host_flags & O_CLOEXEC)),
				 mnt, v.vn->ino);
	}
	for (char *l = text; r == 0 && l && *l;) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
		if (!strncmp(l, "mnt_id:", 7)) {
			r = sb_printf(sb, "mnt_id:\t%d\n", mnt);
		} else if (!strncmp(l, "ino:", 4)) {
			/* A host file's inode number is the host's business; a pipe's
			 * is already in its link text. */
			r = v.vn		     ? sb_printf(sb, "ino:\t%" PRIu64 "\n", v.vn->ino)
			    : S_ISREG(v.st.st_mode) ? sb_puts(sb, "ino:\t0\n")
						     : sb_append(sb, l, len);
		} else if (!strncmp(l, "tfd:", 4)) {
			/* epoll targets: the host inode and device are not the guest's business. */
			const char *ino = memmem(l, len, " ino:", 5);
			size_t keep = ino ? (size_t)(ino - l) : len - (nl ? 1 : 0);
			r = sb_append(sb, l, keep);
			if (r == 0)
				r = sb_puts(sb, "\n");
		} else if (fdinfo_line_ok(l, len)) {
			r = sb_append(sb, l, len);
		}
		l = nl ? nl + 1 : NULL;
	}
	return r;
}

/* ---- links ----------------------------------------------------------------- */

static int link_self(const struct pctx *c, bool want_target, struct linkres *res)
{
	if (!current || !current->proc)
		return -ENOENT;
	return link_set(res, "%d", current->proc->vpid);
}

static int link_thread_self(const struct pctx *c, bool want_target, struct linkres *res)
{
	if (!current || !current->proc)
		return -ENOENT;
	return link_set(res, "%d/task/%d", current->proc->vpid, current->vtid);
}

static int link_text(const struct pctx *c, bool want_target, struct linkres *res)
{
	return link_set(res, "%s", c->pn->ent->arg);
}

static int link_exe(const struct pctx *c, bool want_target, struct linkres *res)
{
	if (!c->proc)
		return -ENOENT;
	res->magic = true;
	if (c->proc->exe_vn)
		return link_set_vnode(res, c->proc->exe_vn);
	return c->proc->exe ? link_set(res, "%s", c->proc->exe) : -ENOENT;
}

static int link_fs(const struct pctx *c, struct linkres *res, bool cwd)
{
	const struct task *t = c->task;
	if (!t || !t->fs)
		return -ENOENT;
	res->magic = true;
	return link_set_vnode(res, cwd ? t->fs->cwd : t->fs->root);
}

static int link_cwd(const struct pctx *c, bool want_target, struct linkres *res)
{
	return link_fs(c, res, true);
}

static int link_root(const struct pctx *c, bool want_target, struct linkres *res)
{
	return link_fs(c, res, false);
}

/* ---- directories with numeric children ------------------------------------ */

static int lookup_pid(struct vnode *dir, const struct pent *child, const char *name,
		      struct vnode **ret)
{
	pid_t vpid, h;
	if (parse_id(name, &vpid) < 0 || vpid <= 0 || vpid_to_host(vpid, &h) < 0)
		return -ENOENT;
	struct pnode pn = { .ent = child, .vpid = vpid, .hpid = h, .htid = h, .fd = -1 };
	return pnode_new(dir, &pn, name, ret);
}

static int readdir_pids(struct vnode *dir, const struct pent *child, struct dirent_list *out)
{
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0;
	int r = scan_processes(&v, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "%d", v[i].vpid);
		r = dirent_list_add(out, pino(child, v[i].vpid, 0, -1), DT_DIR, name);
	}
	return r;
}

static int lookup_tid(struct vnode *dir, const struct pent *child, const char *name,
		      struct vnode **ret)
{
	const struct pnode *pn = dir->priv;
	pid_t vtid, htid = 0;
	if (parse_id(name, &vtid) < 0 || vtid <= 0)
		return -ENOENT;
	if (current && current->vtid == vtid && current->proc && current->proc->tgid == pn->hpid)
		htid = current->tid;
	if (!htid || host_task_open(pn->hpid, htid, pn->vpid, vtid, NULL) < 0) {
		char path[HOSTPATH_MAX];
		snprintf(path, sizeof(path), "%d/task", pn->hpid);
		_cleanup_free_ struct pidpair *v = NULL;
		size_t n = 0;
		htid = 0;
		if (scan_ids(P.hostproc, path, true, &v, &n) < 0)
			return -ENOENT;
		for (size_t i = 0; !htid && i < n; i++)
			if (v[i].vpid == vtid)
				htid = v[i].hpid;
		if (!htid)
			return -ENOENT;
	}
	struct pnode cpn = { .ent = child, .vpid = pn->vpid, .vtid = vtid, .hpid = pn->hpid,
			     .htid = htid, .fd = -1 };
	return pnode_new(dir, &cpn, name, ret);
}

static int readdir_tids(struct vnode *dir, const struct pent *child, struct dirent_list *out)
{
	const struct pnode *pn = dir->priv;
	char path[HOSTPATH_MAX];
	snprintf(path, sizeof(path), "%d/task", pn->hpid);
	_cleanup_free_ struct pidpair *v = NULL;
	size_t n = 0;
	int r = scan_ids(P.hostproc, path, true, &v, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "%d", v[i].vpid);
		r = dirent_list_add(out, pino(child, pn->vpid, v[i].vpid, -1), DT_DIR, name);
	}
	return r;
}

static int lookup_fd(struct vnode *dir, const struct pent *child, const char *name,
		     struct vnode **ret)
{
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int fd, r = pctx_init(dir, &c);
	if (r < 0)
		return r;
	char path[HOSTPATH_MAX];
	struct stat st;
	if (parse_id(name, &fd) < 0 || is_moat_code(&c))
		return -ENOENT;
	snprintf(path, sizeof(path), "fd/%d", fd);
	if (fstatat(c.hdir, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -ENOENT;
	struct pnode pn = *c.pn;
	pn.ent = child;
	pn.fd = fd;
	return pnode_new(dir, &pn, name, ret);
}

static int readdir_fds(struct vnode *dir, const struct pent *child, struct dirent_list *out)
{
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(dir, &c);
	if (r < 0 || is_moat_code(&c))
		return r;
	_cleanup_close_ int fd = openat(c.hdir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	if (!d)
		return neg_errno();
	fd = -1; /* the DIR owns it now */
	for (struct dirent *de; r == 0 && (de = readdir(d));) {
		int n;
		if (parse_id(de->d_name, &n) == 0)
			r = dirent_list_add(out, pino(child, c.pn->vpid, c.pn->vtid, n),
					    vtype_to_dt(child->type), de->d_name);
	}
	return r;
}

/* ---- the tables ------------------------------------------------------------ */

#define TEXT(n, t) { .name = n, .type = VREG, .perm = 0444, .gen = gen_text, .arg = t }
#define GEN(n, g) { .name = n, .type = VREG, .perm = 0444, .gen = g }
#define SYSCTL(n, g) { .name = n, .type = VREG, .perm = 0444, .flags = PE_SYSCTL, .gen = g }
#define SYSCTL_TEXT(n, t) \
	{ .name = n, .type = VREG, .perm = 0444, .flags = PE_SYSCTL, .gen = gen_text, .arg = t }
/* A limit the guest really runs under: the host's value (a number only). */
#define SYSCTL_HOST(n, path, dflt)                                                         \
	{ .name = n, .type = VREG, .perm = 0444, .flags = PE_SYSCTL, .gen = gen_sysctl_host, \
	  .arg = path, .arg2 = dflt }
#define DIR(n, s) { .name = n, .type = VDIR, .perm = 0555, .sub = s }
#define LINK(n, l) { .name = n, .type = VLNK, .perm = 0777, .link = l }
#define HOSTFILE(n, mode, fl) \
	{ .name = n, .type = VREG, .perm = mode, .flags = fl, .gen = gen_host, .arg = n }

static const struct pent sys_kernel_random_ents[] = {
	SYSCTL("uuid", gen_uuid),
	SYSCTL("boot_id", gen_boot_id),
	SYSCTL_TEXT("entropy_avail", "256\n"),
	SYSCTL_TEXT("poolsize", "256\n"),
	{ 0 },
};

static const struct pent sys_kernel_ents[] = {
	SYSCTL("hostname", gen_hostname),
	SYSCTL("domainname", gen_domainname),
	SYSCTL("osrelease", gen_osrelease),
	SYSCTL_TEXT("ostype", "Linux\n"),
	SYSCTL("version", gen_kversion),
	SYSCTL_TEXT("pid_max", "4194304\n"),
	SYSCTL_HOST("threads-max", "sys/kernel/threads-max", "63704"),
	SYSCTL_TEXT("ngroups_max", "65536\n"),
	SYSCTL_HOST("cap_last_cap", "sys/kernel/cap_last_cap", "40"),
	SYSCTL_TEXT("overflowuid", "65534\n"),
	SYSCTL_TEXT("overflowgid", "65534\n"),
	SYSCTL_TEXT("shmmax", "18446744073692774399\n"),
	SYSCTL_TEXT("shmall", "18446744073692774399\n"),
	SYSCTL_TEXT("shmmni", "4096\n"),
	SYSCTL_TEXT("tainted", "0\n"),
	SYSCTL_TEXT("core_pattern", "core\n"),
	DIR("random", sys_kernel_random_ents),
	{ 0 },
};

static const struct pent sys_vm_ents[] = {
	SYSCTL_HOST("overcommit_memory", "sys/vm/overcommit_memory", "0"),
	SYSCTL_HOST("overcommit_ratio", "sys/vm/overcommit_ratio", "50"),
	SYSCTL_HOST("max_map_count", "sys/vm/max_map_count", "65530"),
	{ 0 },
};

static const struct pent sys_fs_inotify_ents[] = {
	SYSCTL_HOST("max_user_watches", "sys/fs/inotify/max_user_watches", "8192"),
	SYSCTL_HOST("max_user_instances", "sys/fs/inotify/max_user_instances", "128"),
	SYSCTL_HOST("max_queued_events", "sys/fs/inotify/max_queued_events", "16384"),
	{ 0 },
};

static const struct pent sys_fs_ents[] = {
	SYSCTL_TEXT("file-max", "9223372036854775807\n"),
	SYSCTL_HOST("nr_open", "sys/fs/nr_open", "1048576"),
	SYSCTL_HOST("pipe-max-size", "sys/fs/pipe-max-size", "1048576"),
	DIR("inotify", sys_fs_inotify_ents),
	{ 0 },
};

/* The sandbox's network namespace has its own (default) values. */
static const struct pent sys_net_core_ents[] = {
	SYSCTL_TEXT("somaxconn", "4096\n"),
	{ 0 },
};

static const struct pent sys_net_ipv4_ents[] = {
	SYSCTL_TEXT("ip_local_port_range", "32768\t60999\n"),
	{ 0 },
};

static const struct pent sys_net_ents[] = {
	DIR("core", sys_net_core_ents),
	DIR("ipv4", sys_net_ipv4_ents),
	{ 0 },
};

static const struct pent sys_crypto_ents[] = {
	SYSCTL_TEXT("fips_enabled", "0\n"),
	{ 0 },
};

static const struct pent sys_ents[] = {
	DIR("kernel", sys_kernel_ents),
	DIR("vm", sys_vm_ents),
	DIR("fs", sys_fs_ents),
	DIR("net", sys_net_ents),
	DIR("crypto", sys_crypto_ents),
	{ 0 },
};

static const struct pent pent_fd = {
	.name = "fd", .type = VLNK, .perm = 0700, .flags = PE_PRIVATE, .link = link_fd,
};
static const struct pent pent_fdinfo = {
	.name = "fdinfo", .type = VREG, .perm = 0444, .flags = PE_PRIVATE, .gen = gen_fdinfo,
};
static const struct pdyn dyn_fd = { lookup_fd, readdir_fds, &pent_fd };
static const struct pdyn dyn_fdinfo = { lookup_fd, readdir_fds, &pent_fdinfo };

static const struct pent pid_ents[];
static const struct pent pent_piddir = {
	.name = "pid", .type = VDIR, .perm = 0555, .sub = pid_ents,
};
static const struct pdyn dyn_tids = { lookup_tid, readdir_tids, &pent_piddir };
static const struct pdyn dyn_pids = { lookup_pid, readdir_pids, &pent_piddir };

/* /proc/<pid> and /proc/<pid>/task/<tid>. */
static const struct pent pid_ents[] = {
	{ .name = "exe", .type = VLNK, .perm = 0777, .flags = PE_PRIVATE, .link = link_exe },
	{ .name = "cwd", .type = VLNK, .perm = 0777, .flags = PE_PRIVATE, .link = link_cwd },
	{ .name = "root", .type = VLNK, .perm = 0777, .flags = PE_PRIVATE, .link = link_root },
	{ .name = "fd", .type = VDIR, .perm = 0500, .dyn = &dyn_fd },
	{ .name = "fdinfo", .type = VDIR, .perm = 0500, .dyn = &dyn_fdinfo },
	{ .name = "task", .type = VDIR, .perm = 0555, .flags = PE_TGID_ONLY, .dyn = &dyn_tids },
	{ .name = "maps", .type = VREG, .perm = 0444, .flags = PE_PRIVATE, .gen = gen_maps },
	GEN("status", gen_status),
	GEN("stat", gen_pid_stat),
	HOSTFILE("statm", 0444, 0),
	HOSTFILE("cmdline", 0444, 0),
	HOSTFILE("comm", 0444, 0),
	HOSTFILE("environ", 0400, PE_PRIVATE),
	HOSTFILE("limits", 0444, 0),
	{ .name = "auxv", .type = VREG, .perm = 0400, .flags = PE_PRIVATE, .gen = gen_auxv },
	GEN("mounts", gen_mounts),
	GEN("mountinfo", gen_mountinfo),
	TEXT("cgroup", "0::/\n"),
	TEXT("oom_score_adj", "0\n"),
	TEXT("oom_adj", "0\n"),
	TEXT("oom_score", "0\n"),
	TEXT("loginuid", "4294967295"),
	TEXT("sessionid", "4294967295"),
	TEXT("wchan", "0"),
	TEXT("setgroups", "allow\n"),
	GEN("uid_map", gen_idmap),
	GEN("gid_map", gen_idmap),
	{ 0 },
};

static const struct pent root_ents[] = {
	LINK("self", link_self),
	LINK("thread-self", link_thread_self),
	{ .name = "mounts", .type = VLNK, .perm = 0777, .link = link_text, .arg = "self/mounts" },
	GEN("meminfo", gen_meminfo),
	GEN("cpuinfo", gen_cpuinfo),
	GEN("version", gen_version),
	GEN("uptime", gen_uptime),
	GEN("loadavg", gen_loadavg),
	GEN("stat", gen_stat),
	GEN("filesystems", gen_filesystems),
	TEXT("cmdline", "moat\n"),
	TEXT("swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"),
	DIR("sys", sys_ents),
	{ 0 },
};

static const struct pent pent_root = {
	.name = "/", .type = VDIR, .perm = 0555, .sub = root_ents, .dyn = &dyn_pids,
};

/* ---- fs_ops ----------------------------------------------------------------- */

static int proc_lookup(struct vnode *dir, const char *name, struct vnode **ret)
{
	const struct pnode *pn = dir->priv;
	const struct pent *e = pn->ent;
	for (const struct pent *s = e->sub; s && s->name; s++) {
		if (strcmp(s->name, name))
			continue;
		if ((s->flags & PE_TGID_ONLY) && pn->vtid)
			return -ENOENT;
		struct pnode child = *pn;
		child.ent = s;
		child.fd = -1;
		return pnode_new(dir, &child, name, ret);
	}
	return e->dyn ? e->dyn->lookup(dir, e->dyn->child, name, ret) : -ENOENT;
}

static int proc_readdir(struct vnode *dir, struct dirent_list *out)
{
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(dir, &c); /* a dead process's directory is empty */
	if (r < 0)
		return r;
	const struct pnode *pn = c.pn;
	const struct pent *e = pn->ent;
	for (const struct pent *s = e->sub; r == 0 && s && s->name; s++)
		if (!((s->flags & PE_TGID_ONLY) && pn->vtid))
			r = dirent_list_add(out, pino(s, pn->vpid, pn->vtid, -1), vtype_to_dt(s->type),
					    s->name);
	if (r == 0 && e->dyn)
		r = e->dyn->readdir(dir, e->dyn->child, out);
	return r;
}

static int proc_getattr(struct vnode *vn, struct stat *st)
{
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(vn, &c);
	if (r < 0)
		return r;
	const struct pnode *pn = c.pn;
	const struct pent *e = pn->ent;
	mode_t perm = e->perm;
	if (e == &pent_fd) {
		struct fdview v;
		if ((r = fd_view(&c, &v)) < 0)
			return r;
		/* As the kernel: r-x for a read fd, -wx for a write fd. */
		perm = (v.access & S_IRUSR ? S_IRUSR | S_IXUSR : 0) |
		       (v.access & S_IWUSR ? S_IWUSR | S_IXUSR : 0);
	}
	const struct cred *owner = pn->vpid ? pctx_cred(&c) : &root_cred;
	*st = (struct stat){
		.st_ino = vn->ino,
		.st_mode = perm | (e->type == VDIR ? S_IFDIR : e->type == VLNK ? S_IFLNK : S_IFREG),
		/* 1 for directories: "link count unknown", so no tool infers the
		 * number of subdirectories from it. */
		.st_nlink = 1,
		.st_uid = owner->euid,
		.st_gid = owner->egid,
		.st_blksize = 1024,
		.st_atim = P.start_real,
		.st_mtim = P.start_real,
		.st_ctim = P.start_real,
	};
	return 0;
}

static void linkres_freep(struct linkres **p)
{
	if (*p) {
		safe_close((*p)->hostfd);
		free(*p);
	}
}

/* Run vn's link function for the reader; *ret is the caller's. */
static int link_resolve(struct vnode *vn, bool want_target, struct linkres **ret)
{
	const struct pent *e = ((const struct pnode *)vn->priv)->ent;
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(vn, &c);
	if (r < 0)
		return r;
	if (!e->link)
		return -EINVAL;
	if ((e->flags & PE_PRIVATE) && !may_inspect(&c))
		return -EACCES;
	_cleanup_(linkres_freep) struct linkres *res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	res->hostfd = -1;
	if ((r = e->link(&c, want_target, res)) < 0)
		return r;
	*ret = TAKE_PTR(res);
	return 0;
}

static ssize_t proc_readlink(struct vnode *vn, char *buf, size_t len)
{
	_cleanup_(linkres_freep) struct linkres *res = NULL;
	int r = link_resolve(vn, false, &res);
	if (r < 0)
		return r;
	size_t n = res->len < len ? res->len : len;
	memcpy(buf, res->text, n);
	return (ssize_t)n;
}

static int proc_get_link(struct vnode *vn, struct vlink *ret)
{
	_cleanup_(linkres_freep) struct linkres *res = NULL;
	int r = link_resolve(vn, true, &res);
	if (r < 0)
		return r;
	if (res->vn) {
		*ret = (struct vlink){ .kind = VLINK_VNODE, .vnode = vn_ref(res->vn), .hostfd = -1 };
		return 0;
	}
	if (res->hostfd >= 0) {
		*ret = (struct vlink){ .kind = VLINK_HOSTFD, .hostfd = TAKE_FD(res->hostfd) };
		return 0;
	}
	/* A magic link with nothing we may hand out (a host file we cannot
	 * name): its text is not a path to walk. */
	if (res->magic)
		return -ENOENT;
	char *path = strndup(res->text, res->len);
	if (!path)
		return -ENOMEM;
	*ret = (struct vlink){ .kind = VLINK_PATH, .path = path, .hostfd = -1 };
	return 0;
}

static int proc_open(struct vnode *vn, int flags, int *ret_fd)
{
	const struct pent *e = ((const struct pnode *)vn->priv)->ent;
	if (vn->type != VREG || !e->gen)
		return -ENXIO;
	/* Nothing here is writable: the sandbox's kernel settings are fixed. */
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
		return (e->flags & PE_SYSCTL) ? -EROFS : -EACCES;
	_cleanup_(pctx_done) struct pctx c = { .hdir = -1 };
	int r = pctx_init(vn, &c);
	if (r < 0)
		return r;
	if ((e->flags & PE_PRIVATE) && !may_inspect(&c))
		return -EACCES;
	_cleanup_(sb_free) struct strbuf sb = { 0 };
	if ((r = e->gen(&c, &sb)) < 0)
		return r;
	int fd = memfd_from_buf(e->name, sb.buf ? sb.buf : "", sb.len);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

static int proc_statfs(struct vnode *vn, struct statfs *st)
{
	*st = (struct statfs){ .f_type = PROC_SUPER_MAGIC, .f_bsize = 4096, .f_frsize = 4096,
			       .f_namelen = 255 };
	return 0;
}

static void proc_release(struct vnode *vn)
{
	free(vn->priv);
	vn->priv = NULL;
}

static const struct fs_ops procfs_ops = {
	.name = "proc",
	.lookup = proc_lookup,
	.getattr = proc_getattr,
	.readlink = proc_readlink,
	.get_link = proc_get_link,
	.open = proc_open,
	.readdir = proc_readdir,
	.statfs = proc_statfs,
	.release = proc_release,
	.cache_lookups = false,
};

/* ---- instance -------------------------------------------------------------- */

static int procfs_init(void)
{
	if (P.ready)
		return 0;
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(neg_errno(), "open the host's /proc");
	P.hostproc = fd;
	P.hz = sysconf(_SC_CLK_TCK);
	if (P.hz <= 0)
		P.hz = 100;
	/* The sandbox's boot: sentry.start (monotonic) on the boot-time clock,
	 * which process start times in stat count on. */
	int64_t mono = clock_ns(CLOCK_MONOTONIC), boot = clock_ns(CLOCK_BOOTTIME);
	int64_t start = sentry.start.tv_sec || sentry.start.tv_nsec
				? (int64_t)sentry.start.tv_sec * 1000000000 + sentry.start.tv_nsec
				: mono;
	P.start_boot_ns = start + (boot - mono);
	if (sentry.boot_realtime.tv_sec)
		P.start_real = sentry.boot_realtime;
	else
		clock_gettime(CLOCK_REALTIME, &P.start_real);
	/* capget's answer depends on the host kernel's capability count too. */
	_cleanup_free_ char *cap = NULL;
	struct stat self;
	if (stat("/proc/self/exe", &self) == 0)
		P.moat_dev = self.st_dev, P.moat_ino = self.st_ino;
	P.cap_last_cap = CAP_LAST_CAP_DEFAULT;
	if (read_file_at(P.hostproc, "sys/kernel/cap_last_cap", &cap, SMALL_MAX) > 0) {
		long v = strtol(cap, NULL, 10);
		if (v > 0 && v < 64)
			P.cap_last_cap = (unsigned)v;
	}
	/* One boot id per sandbox, never the host's. */
	uint8_t u[16];
	_cleanup_(sb_free) struct strbuf sb = { 0 };
	if (random_uuid(u) < 0 || sb_put_uuid(&sb, u) < 0)
		return -EIO;
	snprintf(P.boot_id, sizeof(P.boot_id), "%s", sb.buf);
	if (cpu_times_now(&P.cpu_base, &P.ncpu_base) < 0)
		P.ncpu_base = 0; /* then /proc/stat counts from the host's boot */
	P.ready = true;
	return 0;
}

int procfs_new(struct vnode **ret_root)
{
	int r = procfs_init();
	if (r < 0)
		return r;
	struct pnode *pn = malloc(sizeof(*pn));
	if (!pn)
		return -ENOMEM;
	*pn = (struct pnode){ .ent = &pent_root, .fd = -1 };
	/* mnt is set by vfs_mount. */
	struct vnode *root = vn_alloc(&procfs_ops, NULL, VDIR, PROC_ROOT_INO, NULL, "/");
	if (!root) {
		free(pn);
		return -ENOMEM;
	}
	root->priv = pn;
	*ret_root = root;
	return 0;
}
