/* SPDX-License-Identifier: MIT */
/* The sandbox's file locks.
 *
 * The guest holds real host fds, so a flock or fcntl lock it took natively
 * on a host file (donated by the gofer, a device node) would be a lock on
 * the host's inode, blocking or failing host processes that lock the same
 * file. So, as gVisor does, the locks live here wherever the host would be
 * reached:
 *
 *  - flock on a file only the sandbox can reach (a memfd: tmpfs files; a
 *    pipe; a socket) is taken natively on the sentry's pidfd_getfd copy of
 *    the guest's file. A flock lock belongs to the open file description,
 *    and the copy *is* the guest's description, so this is exactly the
 *    guest's operation, with the kernel's semantics (release on last
 *    close, sharing across fork and dup).
 *  - everything else (flock on host files and directories, and every
 *    POSIX and OFD record lock, on any file: a POSIX lock belongs to a
 *    process, and the sentry cannot take one on the guest's behalf; OFD
 *    locks share the POSIX locks' space, so they are kept with them) is
 *    kept in this table, keyed by the file's identity, with Linux's
 *    semantics: shared and exclusive locks, byte ranges merged and split,
 *    conversions, F_GETLK answers, EAGAIN/EWOULDBLOCK, blocking waits,
 *    EDEADLK between POSIX owners (Linux's 10-step walk).
 *
 * Owners. A POSIX lock is owned by the guest process (host tgid; Linux's
 * owner is the fd table, the same thing unless a process shares its fd
 * table without being a thread). A flock or OFD lock is owned by the open
 * file description: the table keeps the sentry's pidfd_getfd copy of it
 * (which also keeps it alive), and a request's description is matched
 * against the held ones with kcmp(KCMP_FILE).
 *
 * Release. The sentry sees neither close() nor the last reference to a
 * description going, so some releases are found lazily:
 *  - a POSIX owner's locks go when the process exits (flock_task_exit,
 *    called by the task table, and its own pidfd checked whenever one of
 *    its locks is in the way), and its locks on a file go when it no longer
 *    has any fd on that file ("closing any fd releases", seen only when it
 *    is looked for: one of its locks is in the way of another request);
 *  - a flock/OFD lock goes when no sandbox process holds its description
 *    any more: checked when it is in the way, by finding the description
 *    among the fds of the sandbox's processes (stat to find fds of the
 *    same file, then kcmp); the copy is then closed.
 * A waiter is woken at once by an unlock or a process exit; releases the
 * sentry cannot see (a close) are found by re-checking the holders on a
 * tick, so a wait never hangs on a holder that closed its fd and lived on.
 * Approximations, all erring towards releasing what a Linux kernel would
 * keep only in cases that do not arise in practice: a description held
 * only in flight (an SCM_RIGHTS message) or only by a mapping counts as
 * closed; a thread with its own fd table is not looked at.
 *
 * Bounds: the table holds at most FLOCK_MAX_LOCKS locks, FLOCK_MAX_DESCS
 * description copies and FLOCK_MAX_PROCS owner pidfds (sentry fds);
 * beyond, ENOLCK, as Linux answers when it runs out of lock resources.
 *
 * Locking: the table is protected by the sentry lock. Waits drop it
 * (vfs_block_begin) and sleep on a futex of their own; lk_mu protects only
 * the list of waiters; lock order: sentry lock, then lk_mu. A signal to
 * the waiting guest thread ends a wait (sentry/kernel/wait.c). */
#include "sentry/kernel/flock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "platform/platform.h"
#include "sentry/fs/fs.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/ofd.h"
#include "sentry/vfs/vfs.h"

#define FLOCK_MAX_LOCKS 16384
#define FLOCK_MAX_DESCS 1024
#define FLOCK_MAX_PROCS 4096       /* POSIX owners, each a sentry pidfd */
#define FLOCK_BUCKETS 256
#define DEADLK_STEPS 10            /* Linux's MAX_DEADLK_ITERATIONS */
#define TICK_FIRST_MS 5            /* re-check holders of a wait ... */
#define TICK_MAX_MS 200            /* ... backing off to this */

/* A file's identity: a host inode, or (for directories, which the guest
 * holds as placeholders, one memfd per open) the sandbox's vnode. */
enum { KEY_HOST = 1, KEY_VFS = 2 };
struct lkkey {
	int kind;
	uint64_t a, b, c;
};

struct lkproc {                    /* a POSIX owner: a guest process */
	pid_t tgid, vpid;
	int pidfd;
	unsigned refs;             /* its locks + waiters naming it */
	struct lkwaiter *waiting;  /* a wait of its own, for EDEADLK */
	struct lkproc *next;
};

struct lkdesc {                    /* a description holding flock/OFD locks */
	int fd;                    /* the sentry's copy: pins it */
	dev_t dev;                 /* its host identity, to find guest fds */
	ino_t ino;
	unsigned nlocks;
	struct lkdesc *next;       /* in its file */
};

enum { LK_FLOCK, LK_RANGE };       /* flock vs POSIX+OFD: separate spaces */

struct lk {
	int space;
	short type;                /* F_RDLCK or F_WRLCK */
	int64_t start, end;
	struct lkproc *proc;       /* POSIX owner, or */
	struct lkdesc *desc;       /* flock / OFD owner */
	struct lk *next;
};

struct lkfile {
	struct lkkey key;
	struct lk *locks;
	struct lkdesc *descs;
	unsigned pins;             /* operations and waits using it */
	struct lkfile *hnext;
};

struct lkwaiter {
	struct lkfile *f;
	struct lkproc *proc;       /* POSIX requester (ref), for EDEADLK */
	struct lkproc *blocker;    /* POSIX holder it waits for (ref) */
	_Atomic uint32_t seq;      /* the futex: bumped by wake() */
	struct lkwaiter *next;     /* under lk_mu */
};

/* What a request is: its owner and what it asks. */
struct lkreq {
	int space;
	short type;                /* F_RDLCK, F_WRLCK, F_UNLCK */
	int64_t start, end;
	struct lkproc *proc;       /* POSIX */
	int fd;                    /* flock/OFD: the request's copy */
	struct lkdesc *desc;       /* ... matched in the file, or NULL */
};

static struct lkfile *files[FLOCK_BUCKETS];
static struct lkproc *procs;
static size_t nfiles, nlocks, ndescs, nprocs;
static dev_t memfd_dev;
static bool memfd_dev_known;

static pthread_mutex_t lk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t lk_once = PTHREAD_ONCE_INIT;
static struct lkwaiter *waiters; /* under lk_mu */

static void lk_init(void)
{
	/* Every memfd lives on the kernel's one internal shm mount: its
	 * device tells a memfd from a host file. */
	int fd = memfd_create("moat-lockprobe", MFD_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		memfd_dev = st.st_dev;
		memfd_dev_known = true;
	}
	safe_close(fd);
}

/* ---- identities ------------------------------------------------------ */

static bool key_eq(const struct lkkey *x, const struct lkkey *y)
{
	return x->kind == y->kind && x->a == y->a && x->b == y->b && x->c == y->c;
}

static unsigned key_bucket(const struct lkkey *k)
{
	return (unsigned)(((k->a * 0x9e3779b97f4a7c15ull) ^ k->b ^ (k->c << 7)) % FLOCK_BUCKETS);
}

static struct lkkey key_vnode(const struct vnode *vn)
{
	return (struct lkkey){ KEY_VFS, (uint64_t)(uintptr_t)vn->ops,
			       vn->mnt ? (uint64_t)vn->mnt->dev : 0, vn->ino };
}

/* Which file a host fd (whose fstat is st) names, for locks. */
static struct lkkey key_of(const struct stat *st)
{
	struct ofd *o = S_ISREG(st->st_mode) ? ofd_find(st->st_dev, st->st_ino) : NULL;
	if (o)
		return key_vnode(o->vn);
	return (struct lkkey){ KEY_HOST, (uint64_t)st->st_dev, (uint64_t)st->st_ino, 0 };
}

/* Can only the sandbox reach this file? Then flock is taken natively on
 * the guest's own description. A memfd (tmpfs files; a placeholder is one
 * too, but each open has its own inode, so directories go to the table),
 * a pipe, a socket: no host process has a name for any of them. Anything
 * else, including device nodes and FIFOs with a name, is a host file. */
static bool sandbox_only(int fd, const struct stat *st)
{
	struct statfs sf;
	if (S_ISREG(st->st_mode))
		return memfd_dev_known && st->st_dev == memfd_dev &&
		       !ofd_find(st->st_dev, st->st_ino);
	if (!S_ISFIFO(st->st_mode) && !S_ISSOCK(st->st_mode))
		return false;
	if (fstatfs(fd, &sf) < 0)
		return false;
	return (S_ISFIFO(st->st_mode) && sf.f_type == PIPEFS_MAGIC) ||
	       (S_ISSOCK(st->st_mode) && sf.f_type == SOCKFS_MAGIC);
}

static bool same_description(int a, int b)
{
	pid_t self = getpid();
	return syscall(SYS_kcmp, self, self, KCMP_FILE, a, b) == 0;
}

/* ---- the table ------------------------------------------------------- */

static struct lkfile *file_find(const struct lkkey *k)
{
	for (struct lkfile *f = files[key_bucket(k)]; f; f = f->hnext)
		if (key_eq(&f->key, k))
			return f;
	return NULL;
}

static struct lkfile *file_get(const struct lkkey *k)
{
	struct lkfile *f = file_find(k);
	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->key = *k;
	f->hnext = files[key_bucket(k)];
	files[key_bucket(k)] = f;
	nfiles++;
	return f;
}

/* Forget f if nothing refers to it any more. */
static void file_put(struct lkfile *f)
{
	if (f->locks || f->descs || f->pins)
		return;
	for (struct lkfile **pp = &files[key_bucket(&f->key)]; *pp; pp = &(*pp)->hnext)
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	nfiles--;
	free(f);
}

static struct lkproc *proc_get(const struct task *t)
{
	pid_t tgid = t->proc->tgid;
	for (struct lkproc *p = procs; p; p = p->next)
		if (p->tgid == tgid)
			return p->refs++, p;
	if (nprocs >= FLOCK_MAX_PROCS)
		return NULL; /* ENOLCK */
	/* Our own pidfd: it tells the process's exit even if its tgid is
	 * reused later. */
	int pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
	if (pidfd < 0)
		return NULL;
	struct lkproc *p = calloc(1, sizeof(*p));
	if (!p) {
		close(pidfd);
		return NULL;
	}
	p->tgid = tgid;
	p->vpid = t->proc->vpid;
	p->pidfd = pidfd;
	p->refs = 1;
	p->next = procs;
	procs = p;
	nprocs++;
	return p;
}

static void proc_put(struct lkproc *p)
{
	if (!p || --p->refs)
		return;
	for (struct lkproc **pp = &procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	safe_close(p->pidfd);
	free(p);
	nprocs--;
}

/* The description of request copy `fd` among those holding locks on f. */
static struct lkdesc *desc_find(struct lkfile *f, int fd)
{
	for (struct lkdesc *d = f->descs; d; d = d->next)
		if (same_description(d->fd, fd))
			return d;
	return NULL;
}

static int desc_new(struct lkfile *f, int fd, struct lkdesc **ret)
{
	if (ndescs >= FLOCK_MAX_DESCS)
		return -ENOLCK;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return neg_errno();
	_cleanup_close_ int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0)
		return errno == EMFILE ? -ENOLCK : neg_errno();
	struct lkdesc *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = TAKE_FD(copy);
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->next = f->descs;
	f->descs = d;
	ndescs++;
	*ret = d;
	return 0;
}

static void desc_put(struct lkfile *f, struct lkdesc *d)
{
	if (d->nlocks)
		return;
	for (struct lkdesc **pp = &f->descs; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	safe_close(d->fd);
	free(d);
	ndescs--;
}

static int lk_add(struct lkfile *f, int space, short type, int64_t start, int64_t end,
		  struct lkproc *p, struct lkdesc *d)
{
	if (nlocks >= FLOCK_MAX_LOCKS)
		return -ENOLCK;
	struct lk *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	*l = (struct lk){ .space = space, .type = type, .start = start, .end = end,
			  .proc = p, .desc = d, .next = f->locks };
	if (p)
		p->refs++;
	if (d)
		d->nlocks++;
	f->locks = l;
	nlocks++;
	return 0;
}

/* Unlink and free *pp (the caller's iterator stays valid). */
static void lk_del(struct lkfile *f, struct lk **pp)
{
	struct lk *l = *pp;
	*pp = l->next;
	nlocks--;
	if (l->desc) {
		l->desc->nlocks--;
		desc_put(f, l->desc);
	}
	proc_put(l->proc);
	free(l);
}

/* ---- waking ------------------------------------------------------------ */

/* Wake the waiters of f (NULL: all) to look again. A listed waiter is
 * alive (it leaves the list under lk_mu before its stack goes). */
static void wake(const struct lkfile *f)
{
	pthread_mutex_lock(&lk_mu);
	for (struct lkwaiter *w = waiters; w; w = w->next)
		if (!f || w->f == f) {
			atomic_fetch_add(&w->seq, 1);
			(void)syscall(SYS_futex, &w->seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		}
	pthread_mutex_unlock(&lk_mu);
}

/* Drop every lock of owner p or d on f (NULL f: on every file). */
static void drop_owner(struct lkfile *f, struct lkproc *p, struct lkdesc *d)
{
	if (!f) {
		/* p must outlive the walk: its last lock may be on any file. */
		if (p)
			p->refs++;
		for (size_t i = 0; i < FLOCK_BUCKETS; i++)
			for (struct lkfile *g = files[i], *next; g; g = next) {
				next = g->hnext;
				drop_owner(g, p, d);
			}
		proc_put(p);
		return;
	}
	bool dropped = false;
	if (p)
		p->refs++; /* keep it while its locks go */
	for (struct lk **pp = &f->locks; *pp;) {
		if ((p && (*pp)->proc == p) || (d && (*pp)->desc == d)) {
			lk_del(f, pp); /* may free d with its last lock */
			dropped = true;
		} else {
			pp = &(*pp)->next;
		}
	}
	proc_put(p);
	if (dropped)
		wake(f);
	file_put(f);
}

/* ---- lazy release -------------------------------------------------------- */

static bool proc_exited(const struct lkproc *p)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	return poll(&pfd, 1, 0) == 1;
}

/* Does the fd whose stat is st name file f? */
static bool fd_names(const struct stat *st, const struct lkfile *f)
{
	struct lkkey k = key_of(st);
	return key_eq(&k, &f->key);
}

/* Call fn on each fd of host process pid (its /proc/<pid>/fd) until it
 * returns true. -errno if the directory cannot be read. */
static int proc_fds(pid_t pid, bool (*fn)(pid_t pid, int fd, const struct stat *st, void *ctx),
		    void *ctx, bool *ret_found)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return neg_errno();
	_cleanup_(closedirp) DIR *dir = fdopendir(dfd);
	if (!dir)
		return neg_errno();
	TAKE_FD(dfd);
	*ret_found = false;
	for (struct dirent *de; (de = readdir(dir));) {
		char *end;
		long n = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || n < 0 || n > INT32_MAX)
			continue;
		struct stat st;
		if (fstatat(dirfd(dir), de->d_name, &st, 0) < 0)
			continue; /* closed meanwhile */
		if (fn(pid, (int)n, &st, ctx)) {
			*ret_found = true;
			return 0;
		}
	}
	return 0;
}

static bool match_file(pid_t pid, int fd, const struct stat *st, void *ctx)
{
	(void)pid;
	(void)fd;
	return fd_names(st, ctx);
}

static bool match_desc(pid_t pid, int fd, const struct stat *st, void *ctx)
{
	const struct lkdesc *d = ctx;
	return st->st_dev == d->dev && st->st_ino == d->ino &&
	       syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, d->fd, fd) == 0;
}

/* Is owner p still entitled to its locks on f? A process that exited
 * loses all its locks; one that holds no fd on f any more loses those on
 * f. Unknown (cannot look): yes. */
static bool proc_holds(struct lkproc *p, struct lkfile *f)
{
	if (proc_exited(p)) {
		log_debug("locks: process %d exited, dropping its locks", p->tgid);
		drop_owner(NULL, p, NULL);
		return false;
	}
	bool found;
	if (proc_fds(p->tgid, match_file, f, &found) < 0 || found)
		return true;
	/* The pidfd again: the fd table of an exiting process empties first. */
	log_debug("locks: process %d has no fd on a locked file any more", p->tgid);
	drop_owner(proc_exited(p) ? NULL : f, p, NULL);
	return false;
}

/* Does any sandbox process still hold description d? Unknown: yes. */
static bool desc_held(struct lkfile *f, struct lkdesc *d)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	if (procfs_sandbox_pids(&pids, &n) < 0 || n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		bool found;
		if (proc_fds(pids[i], match_desc, d, &found) == 0 && found)
			return true;
	}
	log_debug("locks: an open file description holding locks was closed");
	drop_owner(f, NULL, d); /* frees d */
	return false;
}

/* Is the holder of l still there? If not, its locks are dropped (and l
 * with them). */
static bool holder_alive(struct lkfile *f, struct lk *l)
{
	return l->proc ? proc_holds(l->proc, f) : desc_held(f, l->desc);
}

/* ---- conflicts ----------------------------------------------------------- */

static bool same_owner(const struct lk *l, const struct lkreq *q)
{
	return q->proc ? l->proc == q->proc : (q->desc && l->desc == q->desc);
}

static bool overlaps(const struct lk *l, int64_t start, int64_t end)
{
	return l->start <= end && start <= l->end;
}

static struct lk *first_conflict(struct lkfile *f, const struct lkreq *q)
{
	for (struct lk *l = f->locks; l; l = l->next)
		if (l->space == q->space && !same_owner(l, q) && overlaps(l, q->start, q->end) &&
		    (l->type == F_WRLCK || q->type == F_WRLCK))
			return l;
	return NULL;
}

/* The first conflict whose holder is still there; dead holders found on
 * the way are released. */
static struct lk *live_conflict(struct lkfile *f, struct lkreq *q)
{
	for (;;) {
		struct lk *l = first_conflict(f, q);
		if (!l || holder_alive(f, l))
			return l;
		/* Releasing may have freed the request's matched description
		 * only if it was the dead one, which it cannot be (the
		 * requester holds it); look again anyway. */
		if (q->fd >= 0)
			q->desc = desc_find(f, q->fd);
	}
}

/* Would a POSIX wait of q->proc for `holder` close a cycle? */
static bool deadlock(const struct lkproc *req, const struct lkproc *holder)
{
	for (int i = 0; i < DEADLK_STEPS && holder; i++) {
		if (holder == req)
			return true;
		holder = holder->waiting ? holder->waiting->blocker : NULL;
	}
	return false;
}

/* ---- applying a request ------------------------------------------------ */

/* POSIX and OFD: set q->type on [start, end] for q's owner, merging with
 * its adjacent or overlapping locks of the same type and cutting its
 * others (Linux's posix_lock_inode), after the conflict check. */
static int apply_range(struct lkfile *f, struct lkreq *q)
{
	int64_t start = q->start, end = q->end;
	bool changed = false;
	/* At most a split and the new lock: refuse before changing anything. */
	if (nlocks + 2 > FLOCK_MAX_LOCKS)
		return -ENOLCK;
	if (q->desc)
		q->desc->nlocks++; /* not freed while its locks are merged away */
	/* Same type, overlapping or adjacent: absorbed into the request. */
	if (q->type != F_UNLCK)
		for (struct lk **pp = &f->locks; *pp;) {
			struct lk *l = *pp;
			bool adj = (l->end != FLOCK_OFFSET_MAX && l->end + 1 == start) ||
				   (end != FLOCK_OFFSET_MAX && end + 1 == l->start);
			if (l->space == LK_RANGE && same_owner(l, q) && l->type == q->type &&
			    (overlaps(l, start, end) || adj)) {
				if (l->start < start)
					start = l->start;
				if (l->end > end)
					end = l->end;
				lk_del(f, pp);
				continue;
			}
			pp = &(*pp)->next;
		}
	/* Own locks of the other type (or all, to unlock) lose the range;
	 * one that covers it on both sides splits in two. */
	int r = 0;
	for (struct lk **pp = &f->locks; r == 0 && *pp;) {
		struct lk *l = *pp;
		if (l->space != LK_RANGE || !same_owner(l, q) || !overlaps(l, start, end)) {
			pp = &(*pp)->next;
			continue;
		}
		changed = true;
		if (l->start < start && l->end > end) {
			r = lk_add(f, LK_RANGE, l->type, end + 1, l->end, l->proc, l->desc);
			if (r < 0)
				break; /* -ENOMEM: nothing cut yet here */
			l->end = start - 1;
		} else if (l->start < start) {
			l->end = start - 1;
		} else if (l->end > end) {
			l->start = end + 1;
		} else {
			lk_del(f, pp);
			continue;
		}
		pp = &(*pp)->next;
	}
	if (q->desc)
		q->desc->nlocks--;
	if (r == 0 && q->type != F_UNLCK) {
		if (!q->proc && !q->desc)
			r = desc_new(f, q->fd, &q->desc);
		if (r == 0)
			r = lk_add(f, LK_RANGE, q->type, start, end, q->proc, q->desc);
	}
	if (q->desc && !q->desc->nlocks) {
		desc_put(f, q->desc);
		q->desc = NULL;
	}
	if (changed)
		wake(f); /* a range went, or turned shared */
	return r;
}

/* flock: q's description drops its lock first (Linux converts by unlock
 * and relock, so a conversion that has to wait holds nothing meanwhile). */
static bool drop_flock(struct lkfile *f, struct lkreq *q, short keep_type)
{
	for (struct lk **pp = &f->locks; *pp; pp = &(*pp)->next) {
		struct lk *l = *pp;
		if (l->space != LK_FLOCK || !q->desc || l->desc != q->desc)
			continue;
		if (l->type == keep_type)
			return true; /* already held: nothing to do */
		lk_del(f, pp); /* may free q->desc */
		q->desc = desc_find(f, q->fd);
		wake(f);
		return false;
	}
	return false;
}

/* ---- waiting ------------------------------------------------------------- */

/* Wait for a change on w->f: woken by an unlock or a process exit on the
 * file, or at the tick, so that holders that went without a word (a close)
 * are looked at again. The wait itself has no deadline: the caller loops
 * until it gets its lock.
 *
 * Drops the sentry lock (vfs_block_begin), which also registers the wait
 * as one a signal to the guest thread ends (sentry/kernel/wait.c): the
 * worker then gets WAIT_SIGNAL, which ends the futex wait with EINTR, and
 * this returns -EINTR, which the dispatcher turns into Linux's
 * -ERESTARTSYS (EINTR, or a restart with SA_RESTART). The caller holds
 * references on what it uses (w->f through pins, the owners through the
 * waiter) and re-checks everything after. */
static int flock_wait(struct lkwaiter *w, int tick_ms)
{
	struct timespec rel = { tick_ms / 1000, (tick_ms % 1000) * 1000000L };
	uint32_t seen = atomic_load(&w->seq);
	int ret = 0;
	vfs_block_begin();
	while (atomic_load(&w->seq) == seen) {
		if (wait_is_cancelled()) {
			ret = -EINTR;
			break;
		}
		/* Relative timeout: the tick cannot jump with the clock. */
		long r = syscall(SYS_futex, &w->seq, FUTEX_WAIT_PRIVATE, seen, &rel, NULL, 0);
		if (r < 0 && errno == ETIMEDOUT)
			break;
		/* EINTR (WAIT_SIGNAL, looked at above), EAGAIN or a
		 * wake-up: look again. */
	}
	vfs_block_end();
	return ret;
}

static void waiter_add(struct lkwaiter *w)
{
	w->f->pins++;
	if (w->proc)
		w->proc->waiting = w;
	pthread_mutex_lock(&lk_mu);
	w->next = waiters;
	waiters = w;
	pthread_mutex_unlock(&lk_mu);
}

static void waiter_del(struct lkwaiter *w)
{
	pthread_mutex_lock(&lk_mu);
	for (struct lkwaiter **pp = &waiters; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	pthread_mutex_unlock(&lk_mu);
	if (w->proc && w->proc->waiting == w)
		w->proc->waiting = NULL;
	w->f->pins--;
}

/* One wait of request q on file f, blocked by l. Returns 0 to try again,
 * or -errno. */
static int wait_once(struct sysreq *r, struct lkfile *f, struct lkreq *q, struct lk *l, int *tick)
{
	struct lkwaiter w = { .f = f };
	if (q->proc && l && l->proc) {
		if (deadlock(q->proc, l->proc))
			return -EDEADLK;
		w.proc = q->proc;
		w.blocker = l->proc;
		w.proc->refs++;
		w.blocker->refs++;
	}
	waiter_add(&w);
	int ret = flock_wait(&w, *tick);
	waiter_del(&w);
	proc_put(w.proc);
	proc_put(w.blocker);
	if (*tick < TICK_MAX_MS)
		*tick *= 2;
	if (ret == 0 && req_id_valid(r) < 0)
		ret = -EINTR; /* the guest thread is gone */
	return ret;
}

/* ---- the operations -------------------------------------------------------- */

static int file_stat(int fd, struct stat *ret)
{
	pthread_once(&lk_once, lk_init);
	return fstat(fd, ret) < 0 ? neg_errno() : 0;
}

/* flock natively on a sandbox-only file's own description; a wait polls
 * with LOCK_NB between wake-ups (unlocks through the sentry, exits,
 * ticks), so it is interruptible like the table's. */
static int flock_native(struct sysreq *r, int fd, const struct stat *st, int op)
{
	bool nb = op & LOCK_NB;
	op &= ~LOCK_NB;
	struct lkkey k = { KEY_HOST, (uint64_t)st->st_dev, (uint64_t)st->st_ino, 0 };
	int tick = TICK_FIRST_MS;
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0) {
			if (op == LOCK_UN || op == LOCK_SH) {
				struct lkfile *f = file_find(&k);
				if (f)
					wake(f);
			}
			return 0;
		}
		if (errno != EWOULDBLOCK || nb)
			return neg_errno();
		struct lkfile *f = file_get(&k);
		if (!f)
			return -ENOMEM;
		struct lkreq q = { .fd = -1 };
		int ret = wait_once(r, f, &q, NULL, &tick);
		file_put(f);
		if (ret < 0)
			return ret;
	}
}

int flock_flock(struct sysreq *r, struct task *t, int fd, int op)
{
	(void)t;
	struct stat st;
	int ret = file_stat(fd, &st);
	if (ret < 0)
		return ret;
	if (sandbox_only(fd, &st))
		return flock_native(r, fd, &st, op);

	bool nb = op & LOCK_NB;
	op &= ~LOCK_NB;
	struct lkkey k = key_of(&st);
	struct lkfile *f = file_get(&k);
	if (!f)
		return -ENOMEM;
	f->pins++; /* kept while dead holders' locks are dropped */
	struct lkreq q = { .space = LK_FLOCK, .start = 0, .end = FLOCK_OFFSET_MAX, .fd = fd,
			   .type = op == LOCK_EX ? F_WRLCK : op == LOCK_SH ? F_RDLCK : F_UNLCK };
	q.desc = desc_find(f, fd);
	int tick = TICK_FIRST_MS;
	if (drop_flock(f, &q, q.type)) {
		f->pins--;
		file_put(f);
		return 0;
	}
	while (q.type != F_UNLCK) {
		struct lk *l = live_conflict(f, &q);
		if (!l) {
			if (!q.desc && (ret = desc_new(f, fd, &q.desc)) < 0)
				break;
			ret = lk_add(f, LK_FLOCK, q.type, 0, FLOCK_OFFSET_MAX, NULL, q.desc);
			if (ret < 0 && !q.desc->nlocks)
				desc_put(f, q.desc);
			break;
		}
		if (nb) {
			ret = -EWOULDBLOCK;
			break;
		}
		if ((ret = wait_once(r, f, &q, l, &tick)) < 0)
			break;
		q.desc = desc_find(f, fd);
	}
	f->pins--;
	file_put(f);
	return ret;
}

int flock_setlk(struct sysreq *r, struct task *t, int fd, bool ofd, short type, int64_t start,
		int64_t end, bool wait)
{
	struct stat st;
	int ret = file_stat(fd, &st);
	if (ret < 0)
		return ret;
	struct lkkey k = key_of(&st);
	struct lkfile *f = type == F_UNLCK ? file_find(&k) : file_get(&k);
	if (!f)
		return type == F_UNLCK ? 0 : -ENOMEM;
	f->pins++;
	struct lkreq q = { .space = LK_RANGE, .type = type, .start = start, .end = end, .fd = -1 };
	if (ofd) {
		q.fd = fd;
		q.desc = desc_find(f, fd);
	} else if (!(q.proc = proc_get(t))) {
		f->pins--;
		file_put(f);
		return -ENOLCK;
	}
	int tick = TICK_FIRST_MS;
	for (;;) {
		struct lk *l = type == F_UNLCK ? NULL : live_conflict(f, &q);
		if (!l) {
			ret = apply_range(f, &q);
			break;
		}
		if (!wait) {
			ret = -EAGAIN;
			break;
		}
		if ((ret = wait_once(r, f, &q, l, &tick)) < 0)
			break;
		if (ofd)
			q.desc = desc_find(f, fd);
	}
	proc_put(q.proc);
	f->pins--;
	file_put(f);
	return ret;
}

int flock_getlk(struct task *t, int fd, bool ofd, short type, int64_t start, int64_t end,
		struct flock_info *ret)
{
	struct stat st;
	int r = file_stat(fd, &st);
	if (r < 0)
		return r;
	struct lkkey k = key_of(&st);
	struct lkfile *f = file_find(&k);
	struct flock_info info = { .type = F_UNLCK };
	struct lkproc self = { .tgid = t->proc->tgid, .pidfd = -1, .refs = 1 };
	if (f) {
		f->pins++; /* keep f while dead holders are dropped */
		struct lkreq q = { .space = LK_RANGE, .type = type, .start = start, .end = end,
				   .fd = -1 };
		if (ofd) {
			q.fd = fd;
			q.desc = desc_find(f, fd);
		} else {
			/* Only compared, never given locks: no pidfd needed. */
			for (struct lkproc *p = procs; p; p = p->next)
				if (p->tgid == t->proc->tgid)
					q.proc = p;
			q.proc = q.proc ? q.proc : &self;
			q.proc->refs++;
		}
		struct lk *l = live_conflict(f, &q);
		if (l)
			info = (struct flock_info){ l->type, l->start, l->end,
						    l->proc ? l->proc->vpid : -1 };
		if (q.proc && q.proc != &self)
			proc_put(q.proc);
		f->pins--;
		file_put(f);
	}
	*ret = info;
	return 0;
}

void flock_task_exit(pid_t tgid)
{
	for (struct lkproc *p = procs; p; p = p->next)
		if (p->tgid == tgid) {
			if (proc_exited(p))
				drop_owner(NULL, p, NULL);
			break;
		}
	/* Its native flocks and last fds went with it, unseen: let every
	 * waiter look again. */
	wake(NULL);
}

void flock_stats(size_t *ret_files, size_t *ret_locks, size_t *ret_descs)
{
	*ret_files = nfiles;
	*ret_locks = nlocks;
	*ret_descs = ndescs;
}
