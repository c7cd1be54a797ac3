/* SPDX-License-Identifier: MIT */
/* procfs internals, shared by the files of sentry/fs/procfs/.
 * procfs: the sandbox's own /proc.
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
#pragma once
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
#include "common/pidfd.h"
#include "common/util.h"
#include "sentry/vfs/ofd.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs.h"

#define PROC_ROOT_INO 1
#define HOSTPATH_MAX 96
#define SMALL_MAX (1 << 16) /* status, stat, fdinfo, limits, sysctls */
#define BIG_MAX (64 << 20)  /* maps, cmdline, environ of a big process */
#define CAP_LAST_CAP_DEFAULT 40
/* What the sandbox's pid 1 (moat itself) is called inside. */
#define MOAT_INIT_NAME "init"
#define UNKNOWN_PATH "/[moat-unknown]"

/* ---- instance state ------------------------------------------------------ */

struct cpu_times {
	int cpu; /* -1: the aggregate "cpu" line */
	uint64_t v[10];
};

struct procfs_state {
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
};
extern struct procfs_state procfs_inst;

extern const struct cred procfs_root_cred;

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
#define PE_WRITABLE 0x8  /* opening for write opens the host's file: the kernel
			  * applies its own rules to the guest's write */

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

extern const struct fs_ops procfs_ops;
struct fdview {
	struct ofd *ofd;  /* a placeholder */
	struct vnode *vn; /* a vnode: the placeholder's or a file moat handed out */
	struct stat st;   /* host stat of the open file */
	mode_t access;    /* S_IRUSR/S_IWUSR: how the guest opened it */
};

struct pidpair {
	pid_t vpid, hpid;
};

/* ---- shared between the files of procfs/ ------------------------------------ */

void allowed_cpus(cpu_set_t *set);
int64_t clock_ns(clockid_t id);
int cpu_times_now(struct cpu_times **ret, size_t *ret_n);
int fd_view(const struct pctx *c, struct fdview *ret);
/* A system-wide host /proc file (kept open once confined). */
ssize_t procfs_host_read(const char *path, char **ret, size_t max);
int gen_auxv(const struct pctx *c, struct strbuf *sb);
int gen_boot_id(const struct pctx *c, struct strbuf *sb);
int gen_cpuinfo(const struct pctx *c, struct strbuf *sb);
int gen_cpu_list(const struct pctx *c, struct strbuf *sb);
/* set as the kernel's "%*pbl" writes it ("0-3,6"), and a newline. */
int sb_cpu_list(struct strbuf *sb, const cpu_set_t *set);
int gen_cg_cpu_max(const struct pctx *c, struct strbuf *sb);
int gen_cg_memory_max(const struct pctx *c, struct strbuf *sb);
int gen_cg_memory_current(const struct pctx *c, struct strbuf *sb);
int gen_cg_pids_max(const struct pctx *c, struct strbuf *sb);
int gen_cg_procs(const struct pctx *c, struct strbuf *sb);
int gen_domainname(const struct pctx *c, struct strbuf *sb);
int gen_fdinfo(const struct pctx *c, struct strbuf *sb);
int gen_filesystems(const struct pctx *c, struct strbuf *sb);
int gen_host(const struct pctx *c, struct strbuf *sb);
int gen_hostname(const struct pctx *c, struct strbuf *sb);
int gen_idmap(const struct pctx *c, struct strbuf *sb);
int gen_kversion(const struct pctx *c, struct strbuf *sb);
int gen_loadavg(const struct pctx *c, struct strbuf *sb);
int gen_maps(const struct pctx *c, struct strbuf *sb);
int gen_meminfo(const struct pctx *c, struct strbuf *sb);
int gen_mountinfo(const struct pctx *c, struct strbuf *sb);
int gen_netfile(const struct pctx *c, struct strbuf *sb);
int gen_mounts(const struct pctx *c, struct strbuf *sb);
int gen_osrelease(const struct pctx *c, struct strbuf *sb);
int gen_pid_stat(const struct pctx *c, struct strbuf *sb);
int gen_sched(const struct pctx *c, struct strbuf *sb);
int gen_stat(const struct pctx *c, struct strbuf *sb);
int gen_status(const struct pctx *c, struct strbuf *sb);
int gen_sysctl_host(const struct pctx *c, struct strbuf *sb);
int gen_text(const struct pctx *c, struct strbuf *sb);
int gen_uptime(const struct pctx *c, struct strbuf *sb);
int gen_uuid(const struct pctx *c, struct strbuf *sb);
int gen_version(const struct pctx *c, struct strbuf *sb);
int host_task_open(pid_t hpid, pid_t htid, pid_t vtgid, pid_t vtid, int *ret_fd);
pid_t host_to_vpid(long h);
bool is_moat_code(const struct pctx *c);
const char *kv_get(const char *text, const char *key, size_t *ret_len);
long kv_last_num(const char *text, const char *key, int *ret_count);
int link_cwd(const struct pctx *c, bool want_target, struct linkres *res);
int link_exe(const struct pctx *c, bool want_target, struct linkres *res);
int link_fd(const struct pctx *c, bool want_target, struct linkres *res);
int link_ns(const struct pctx *c, bool want_target, struct linkres *res);
int link_root(const struct pctx *c, bool want_target, struct linkres *res);
int link_self(const struct pctx *c, bool want_target, struct linkres *res);
int link_set(struct linkres *res, const char *fmt, ...) _printf_(2, 3);
int link_set_vnode(struct linkres *res, struct vnode *vn);
int link_text(const struct pctx *c, bool want_target, struct linkres *res);
int link_thread_self(const struct pctx *c, bool want_target, struct linkres *res);
int lookup_fd(struct vnode *dir, const struct pent *child, const char *name,
		     struct vnode **ret);
int lookup_pid(struct vnode *dir, const struct pent *child, const char *name,
		      struct vnode **ret);
int lookup_tid(struct vnode *dir, const struct pent *child, const char *name,
		      struct vnode **ret);
int mount_id(const struct mount *m);
int parse_id(const char *s, int *ret);
const struct cred *pctx_cred(const struct pctx *c);
void pctx_done(struct pctx *c);
int pctx_init(struct vnode *vn, struct pctx *c);
extern const struct pent pent_fd;
extern const struct pent pent_root;
extern const struct pent pent_sysroot;
extern const struct pent pent_cgroot;
uint64_t pino(const struct pent *e, pid_t vpid, pid_t vtid, int fd);
int pnode_new(struct vnode *dir, const struct pnode *tmpl, const char *name,
		     struct vnode **ret);
int random_uuid(uint8_t u[16]);
int readdir_fds(struct vnode *dir, const struct pent *child, struct dirent_list *out);
int readdir_pids(struct vnode *dir, const struct pent *child, struct dirent_list *out);
int readdir_tids(struct vnode *dir, const struct pent *child, struct dirent_list *out);
struct vnode *reader_root(void);
int sb_put_escaped(struct strbuf *sb, const char *s);
int sb_put_uuid(struct strbuf *sb, const uint8_t u[16]);
int sb_puts(struct strbuf *sb, const char *s);
int scan_processes(struct pidpair **ret, size_t *ret_n);
