/* SPDX-License-Identifier: MIT */
/* Sandbox setup, in order:
 *  1. the gofer, serving only the host directories of the view;
 *  2. the sentry's VFS: the root (a read-only in-memory directory holding the
 *     mountpoints, or the gofer's rootfs), gofer mounts, /tmp, /dev, /proc,
 *     the sandbox's own /etc/hosts, hostname, resolv.conf, machine-id;
 *  3. the guest's pid 1: new pid, mount, net, ipc, uts and cgroup namespaces,
 *     an empty read-only root holding only the ELF interpreters, loopback up,
 *     an unprivileged host uid, no_new_privs, the seccomp filter, whose
 *     listener it passes back; it then forks the command and reaps orphans;
 *  4. the sentry's workers and control loop until pid 1 exits. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "fs.h"
#include "gofer/gofer.h"
#include "namei.h"
#include "platform/platform.h"
#include "sentry.h"
#include "syscalls/table.h"
#include "task.h"
#include "vfs.h"

#define GUEST_UID 65534
#define GUEST_GID 65534
#define SANDBOX_RELEASE "6.1.0-moat"

static const char *const interp_candidates[] = {
	"/lib64/ld-linux-x86-64.so.2",
	"/lib/ld-linux-x86-64.so.2",
	"/lib/ld-musl-x86_64.so.1",
	NULL,
};

struct exports {
	struct gofer_export *v;
	size_t n;
};

static int exports_add(struct exports *e, const char *host, bool rw, const char *const *masks)
{
	struct gofer_export *n = realloc(e->v, (e->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	e->v = n;
	struct gofer_export *x = &e->v[e->n];
	*x = (struct gofer_export){ .host_path = strdup(host), .rw = rw };
	if (!x->host_path)
		return -ENOMEM;
	size_t nm = 0;
	while (masks && masks[nm])
		nm++;
	x->masks = calloc(nm + 1, sizeof(char *));
	if (!x->masks)
		return -ENOMEM;
	for (size_t i = 0; i < nm; i++)
		x->masks[i] = (char *)masks[i];
	x->nmasks = nm;
	return (int)e->n++;
}

/* Masks relative to an export: etc masks apply under "etc" of a rootfs and
 * directly to an /etc export. For a whole host root, the host's own
 * /proc, /sys and /dev are never served (moat mounts its own). */
static const char **masks_for(const char *prefix, bool whole_root)
{
	size_t n = 0;
	while (etc_masks[n])
		n++;
	const char **m = calloc(n + 4, sizeof(char *));
	if (!m)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (prefix) {
			char *s;
			if (asprintf(&s, "%s/%s", prefix, etc_masks[i]) < 0)
				return NULL;
			m[k++] = s;
		} else {
			m[k++] = etc_masks[i];
		}
	}
	if (whole_root) {
		m[k++] = "proc";
		m[k++] = "sys";
		m[k++] = "dev";
	}
	return m;
}

static int mount_gofer(struct gofer_client *gc, int idx, const struct gofer_export *x,
		       struct vnode *mp, unsigned flags, const char *src)
{
	struct vnode *root;
	int r = gofer_fs_new(gc, (uint32_t)idx, (const char *const *)x->masks, x->nmasks, &root);
	if (r < 0)
		return r;
	r = vfs_mount(root, mp, flags, src, "gofer", NULL);
	if (r < 0)
		vn_unref(root);
	return r;
}

static int mount_new_tmpfs(struct vnode *mp, mode_t mode, unsigned flags, const char *src)
{
	struct vnode *root;
	int r = tmpfs_new(mode, 0, 0, &root);
	if (r < 0)
		return r;
	r = vfs_mount(root, mp, flags, src, "tmpfs", NULL);
	if (r < 0)
		vn_unref(root);
	return r;
}

/* Find (or, in the synthesized root, make) the directory dst. */
static int mountpoint_get(struct vnode *root, const char *dst, struct vnode **ret)
{
	struct nameidata nd;
	int r = namei_at(root, root, dst, LOOKUP_FOLLOW, &nd);
	if (r == 0) {
		*ret = vn_ref(nd.vn);
		nd_release(&nd);
		return 0;
	}
	if (r != -ENOENT)
		return r;
	/* Make missing components where the tree is ours (tmpfs). */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", dst);
	struct vnode *cur = vn_ref(root);
	for (char *save, *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		struct vnode *next;
		r = vfs_lookup_one(root, cur, c, &next);
		if (r == -ENOENT) {
			r = tmpfs_add_dir(cur, c, 0755, &next);
			if (r < 0)
				r = -ENOENT; /* not ours to create */
		}
		vn_unref(cur);
		if (r < 0)
			return r;
		cur = next;
	}
	*ret = cur;
	return 0;
}

static int add_file(struct vnode *dir, const char *name, const char *content)
{
	struct vnode *vn;
	int r = dir->ops->create(dir, name, S_IFREG | 0644, NULL, &vn);
	if (r < 0)
		return r;
	int fd = -1;
	r = vn->ops->open(vn, O_WRONLY, &fd);
	if (r == 0) {
		r = write_all(fd, content, strlen(content));
		close(fd);
	}
	vn_unref(vn);
	return r;
}

/* The sandbox's own identity files, mounted over the host's in /etc. */
static int mount_identity_files(struct vnode *root, const char *hostname)
{
	struct vnode *store;
	int r = tmpfs_new(0755, 0, 0, &store);
	if (r < 0)
		return r;
	struct mount *m;
	/* The store itself is not reachable: it only lends its files. */
	if ((r = vfs_mount(store, NULL, MNT_RDONLY, "moat", "tmpfs", &m)) == -EBUSY) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return -ENOMEM;
		m->root = store;
		m->flags = MNT_RDONLY;
		m->dev = vfs_new_dev();
		m->fstype = "tmpfs";
		m->source = strdup("moat");
		store->mnt = m;
	}
	char hosts[512], mid[64];
	snprintf(hosts, sizeof(hosts),
		 "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n",
		 hostname);
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	for (int i = 0; i < 16; i++)
		snprintf(mid + 2 * i, 3, "%02x", rnd[i]);
	mid[32] = '\n', mid[33] = 0;
	char hn[80];
	snprintf(hn, sizeof(hn), "%s\n", hostname);
	struct {
		const char *name, *content;
	} files[] = {
		{ "hosts", hosts }, { "hostname", hn }, { "resolv.conf", "" }, { "machine-id", mid },
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if ((r = add_file(store, files[i].name, files[i].content)) < 0)
			return r;
		char path[64];
		snprintf(path, sizeof(path), "/etc/%s", files[i].name);
		struct nameidata nd;
		if (namei_at(root, root, path, 0, &nd) < 0)
			continue; /* the view has no such file: nothing to hide */
		struct vnode *f;
		if (vfs_lookup_one(store, store, files[i].name, &f) == 0) {
			if (vfs_mount(f, nd.vn, MNT_RDONLY, "moat", "tmpfs", NULL) < 0)
				vn_unref(f);
		}
		nd_release(&nd);
	}
	return 0;
}

struct view {
	struct exports ex;
	struct vnode *root;
};

static int build_default_root(struct view *v, struct gofer_client *gc)
{
	int r = tmpfs_new(0755, 0, 0, &v->root);
	if (r < 0)
		return r;
	if ((r = vfs_mount(v->root, NULL, MNT_RDONLY, "moat", "tmpfs", NULL)) < 0)
		return r;
	for (size_t i = 0; i < v->ex.n; i++) {
		const char *name = v->ex.v[i].host_path + 1;
		if (strchr(name, '/'))
			continue; /* a --bind export: mounted later */
		struct vnode *mp;
		if ((r = tmpfs_add_dir(v->root, name, 0755, &mp)) < 0)
			return r;
		r = mount_gofer(gc, (int)i, &v->ex.v[i], mp, MNT_RDONLY | MNT_NODEV | MNT_NOSUID, v->ex.v[i].host_path);
		vn_unref(mp);
		if (r < 0)
			return r;
	}
	for (const char *const *d = default_system_dirs; *d; d++) {
		char host[64], target[PATH_MAX];
		snprintf(host, sizeof(host), "/%s", *d);
		ssize_t n = readlink(host, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if ((r = tmpfs_add_symlink(v->root, *d, target)) < 0)
			return r;
	}
	return 0;
}

static int build_view(struct sandbox_config *cfg, struct view *v, struct gofer_config *gcfg)
{
	int r;
	if (cfg->rootfs) {
		_cleanup_free_ const char **m = masks_for("etc", true);
		if (!m || (r = exports_add(&v->ex, cfg->rootfs, false, m)) < 0)
			return -ENOMEM;
	} else {
		for (const char *const *d = default_system_dirs; *d; d++) {
			char host[64];
			struct stat st;
			snprintf(host, sizeof(host), "/%s", *d);
			if (lstat(host, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			if ((r = exports_add(&v->ex, host, false, !strcmp(*d, "etc") ? etc_masks : NULL)) < 0)
				return r;
		}
	}
	for (size_t i = 0; i < cfg->nmounts; i++) {
		struct mount_spec *m = &cfg->mounts[i];
		if (m->kind != MOUNT_BIND)
			continue;
		struct stat st;
		if (stat(m->src, &st) < 0 || !S_ISDIR(st.st_mode)) {
			log_warnx("--bind %s: not a directory", m->src);
			return -ENOTDIR;
		}
		/* Writable binds need the gofer's mutation ops (a later issue):
		 * until then every bind is served read-only. */
		if ((r = exports_add(&v->ex, m->src, false, NULL)) < 0)
			return r;
	}
	gcfg->exports = v->ex.v;
	gcfg->nexports = v->ex.n;
	return 0;
}

static int mount_view(struct sandbox_config *cfg, struct view *v, struct gofer_client *gc)
{
	int r;
	if (cfg->rootfs) {
		struct gofer_export *x = &v->ex.v[0];
		if ((r = gofer_fs_new(gc, 0, (const char *const *)x->masks, x->nmasks, &v->root)) < 0)
			return r;
		if ((r = vfs_mount(v->root, NULL, MNT_RDONLY | MNT_NODEV | MNT_NOSUID, cfg->rootfs,
				   "gofer", NULL)) < 0)
			return r;
	} else if ((r = build_default_root(v, gc)) < 0) {
		return r;
	}
	static const struct {
		const char *dst;
		int kind; /* 0 tmpfs, 1 devfs, 2 procfs */
		mode_t mode;
		unsigned flags;
	} std_mounts[] = {
		{ "/proc", 2, 0555, MNT_NOSUID | MNT_NODEV | MNT_NOEXEC },
		{ "/dev", 1, 0755, MNT_NOSUID },
		{ "/dev/shm", 0, 01777, MNT_NOSUID | MNT_NODEV | MNT_NOEXEC },
		{ "/tmp", 0, 01777, MNT_NOSUID | MNT_NODEV },
		{ "/root", 0, 0700, MNT_NOSUID | MNT_NODEV },
	};
	for (size_t i = 0; i < ARRAY_SIZE(std_mounts); i++) {
		struct vnode *mp, *fsroot;
		if ((r = mountpoint_get(v->root, std_mounts[i].dst, &mp)) < 0) {
			log_debug("no mountpoint %s in the view: %s", std_mounts[i].dst, strerror(-r));
			continue;
		}
		switch (std_mounts[i].kind) {
		case 0:
			r = mount_new_tmpfs(mp, std_mounts[i].mode, std_mounts[i].flags, "tmpfs");
			break;
		case 1:
			if ((r = devfs_new(&fsroot)) == 0 &&
			    (r = vfs_mount(fsroot, mp, std_mounts[i].flags, "devfs", "devtmpfs", NULL)) < 0)
				vn_unref(fsroot);
			break;
		default:
			if ((r = procfs_new(&fsroot)) == 0 &&
			    (r = vfs_mount(fsroot, mp, std_mounts[i].flags, "proc", "proc", NULL)) < 0)
				vn_unref(fsroot);
			break;
		}
		vn_unref(mp);
		if (r < 0)
			return r;
	}
	/* The user's mounts, in order; binds are the exports after the view's. */
	size_t bind_idx = v->ex.n;
	for (size_t i = cfg->nmounts; i-- > 0;)
		if (cfg->mounts[i].kind == MOUNT_BIND)
			bind_idx--;
	for (size_t i = 0; i < cfg->nmounts; i++) {
		struct mount_spec *m = &cfg->mounts[i];
		struct vnode *mp;
		if ((r = mountpoint_get(v->root, m->dst, &mp)) < 0)
			return log_error_errno(r, "mountpoint %s", m->dst);
		if (m->kind == MOUNT_TMPFS)
			r = mount_new_tmpfs(mp, 01777, MNT_NOSUID | MNT_NODEV, "tmpfs");
		else
			r = mount_gofer(gc, (int)bind_idx, &v->ex.v[bind_idx], mp,
					MNT_RDONLY | MNT_NOSUID | MNT_NODEV, m->src), bind_idx++;
		vn_unref(mp);
		if (r < 0)
			return log_error_errno(r, "mount %s", m->dst);
	}
	return mount_identity_files(v->root, sentry.ident.hostname);
}

/* ---- the guest's pid 1 ---------------------------------------------------- */

struct guest_setup {
	struct sandbox_config *cfg;
	struct sock_filter *prog;
	unsigned short prog_len;
	int sock;          /* to pass the listener back */
	int status_pipe;   /* pid 1 reports the command's wait status here */
	char *interp_host[8];
	char *interp_guest[8];
	int ninterp;
	char **envp;
};

static _Noreturn void child_fail(const char *what)
{
	int e = errno;
	dprintf(2, "moat: sandbox setup: %s: %s\n", what, strerror(e));
	_exit(125);
}

/* An empty read-only root holding only the ELF interpreters, resolved in the
 * host's view of the rootfs (they are the same files the sentry checked). */
static void guest_mounts(struct guest_setup *gs)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail("make / private");
	int hostroot = open(gs->cfg->rootfs ? gs->cfg->rootfs : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (hostroot < 0)
		child_fail("open rootfs");
	if (mount("moat", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
		child_fail("mount tmpfs");
	if (chdir("/tmp") < 0)
		child_fail("chdir");
	for (int i = 0; i < gs->ninterp; i++) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
		int fd = (int)syscall(SYS_openat2, hostroot, gs->interp_host[i], &how, sizeof(how));
		if (fd < 0)
			continue;
		char dir[PATH_MAX], src[64];
		snprintf(dir, sizeof(dir), ".%s", gs->interp_guest[i]);
		for (char *p = dir + 2; (p = strchr(p, '/')); p++) {
			*p = 0;
			(void)mkdir(dir, 0755);
			*p = '/';
		}
		int f = open(dir, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
		if (f >= 0)
			close(f);
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
		if (mount(src, dir, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
			child_fail("bind the ELF interpreter");
		close(fd);
	}
	close(hostroot);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		child_fail("detach the old root");
	if (chdir("/") < 0)
		child_fail("chdir /");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		child_fail("remount / read-only");
}

static void loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		child_fail("loopback");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		child_fail("loopback up");
	close(s);
}

static int send_fd(int sock, int fd)
{
	char c = 'L';
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u = { 0 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EPIPE;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static pid_t child_pid;
static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static _Noreturn void guest_command(struct guest_setup *gs)
{
	/* The last step before the program: everything it runs is intercepted. */
	char **argv = gs->cfg->argv;
	for (char **e = gs->envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			setenv("PATH", *e + 5, 1);
	signal(SIGPIPE, SIG_DFL);
	execvpe(argv[0], argv, gs->envp);
	int e = errno;
	dprintf(2, "moat: %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

static _Noreturn void guest_init(struct guest_setup *gs)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail("pdeathsig");
	guest_mounts(gs);
	loopback_up();
	if (sethostname(sentry.ident.hostname, strlen(sentry.ident.hostname)) < 0)
		child_fail("sethostname");
	/* Drop to the unprivileged host identity: every capability goes. */
	if (setgroups(0, NULL) < 0 || setresgid(GUEST_GID, GUEST_GID, GUEST_GID) < 0 ||
	    setresuid(GUEST_UID, GUEST_UID, GUEST_UID) < 0)
		child_fail("drop privileges");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail("no_new_privs");
	/* Only stdio, the listener socket and the status pipe stay open. */
	int keep_lo = gs->sock < gs->status_pipe ? gs->sock : gs->status_pipe;
	int keep_hi = gs->sock < gs->status_pipe ? gs->status_pipe : gs->sock;
	if (keep_lo > 3)
		syscall(SYS_close_range, 3, keep_lo - 1, 0);
	if (keep_hi > keep_lo + 1)
		syscall(SYS_close_range, keep_lo + 1, keep_hi - 1, 0);
	syscall(SYS_close_range, keep_hi + 1, ~0U, 0);
	int listener = sys_filter_install(gs->prog, gs->prog_len);
	if (listener < 0) {
		errno = -listener;
		child_fail("install the seccomp filter");
	}
	if (send_fd(gs->sock, listener) < 0)
		child_fail("pass the listener");
	close(listener);
	close(gs->sock);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	pid_t pid = fork();
	if (pid < 0)
		child_fail("fork");
	if (pid == 0) {
		close(gs->status_pipe);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		guest_command(gs);
	}
	child_pid = pid;
	/* pid 1: forward what the sentry passes on, reap orphans, report. */
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
	struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaction(fwd[i], &sa, NULL);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p == pid || p < 0) {
			(void)write(gs->status_pipe, &st, sizeof(st));
			_exit(0);
		}
	}
}

/* After setup the sentry keeps only what serving the guest needs: tracing
 * it (exec, reading its memory, pidfd_getfd), reading files the gofer donated
 * regardless of their modes, leases on its own memfds, and signalling the
 * sandbox. Above all no CAP_SYS_ADMIN: with it, a compromised sentry could
 * reach into the gofer's mount namespace through a donated fd. */
static int sentry_drop_privileges(void)
{
	static const int keep[] = { CAP_SYS_PTRACE, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
				    CAP_FOWNER, CAP_LEASE, CAP_KILL };
	uint64_t mask = 0;
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		mask |= 1ULL << keep[i];
	for (int cap = 0; cap <= 63; cap++)
		if (!(mask & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return neg_errno();
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	data[0].effective = data[0].permitted = (uint32_t)mask;
	data[1].effective = data[1].permitted = (uint32_t)(mask >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return neg_errno();
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? neg_errno() : 0;
}

/* ---- putting it together ---------------------------------------------------- */

static char **build_env(struct sandbox_config *cfg)
{
	struct sandbox_config tmp = { 0 };
	const char *term = getenv("TERM");
	char buf[PATH_MAX];
	config_add_env(&tmp, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	config_add_env(&tmp, "HOME=/root");
	snprintf(buf, sizeof(buf), "TERM=%s", term && *term ? term : "xterm");
	config_add_env(&tmp, buf);
	for (size_t i = 0; i < cfg->nenv; i++)
		config_add_env(&tmp, cfg->env[i]);
	if (!tmp.env)
		return NULL;
	char **env = tmp.env;
	tmp.env = NULL;
	tmp.nenv = 0;
	config_free(&tmp);
	return env;
}

static void identity_init(struct sandbox_config *cfg)
{
	struct sandbox_identity *id = &sentry.ident;
	snprintf(id->hostname, sizeof(id->hostname), "%s", cfg->hostname ? cfg->hostname : "moat");
	snprintf(id->domainname, sizeof(id->domainname), "(none)");
	snprintf(id->release, sizeof(id->release), SANDBOX_RELEASE);
	snprintf(id->version, sizeof(id->version), "#1 SMP PREEMPT_DYNAMIC moat");
	clock_gettime(CLOCK_MONOTONIC, &sentry.start);
	clock_gettime(CLOCK_REALTIME, &sentry.boot_realtime);
	sentry.host_uid = GUEST_UID;
	sentry.host_gid = GUEST_GID;
}

/* Which interpreters exist in the view: bind those in the guest's root. */
static void find_interpreters(struct vnode *root, struct guest_setup *gs)
{
	static char *list[8];
	for (const char *const *c = interp_candidates; *c && gs->ninterp < 8; c++) {
		struct nameidata nd;
		if (namei_at(root, root, *c, LOOKUP_FOLLOW, &nd) < 0)
			continue;
		int fd = -1;
		if (nd.vn->type == VREG && nd.vn->ops->open && nd.vn->ops->open(nd.vn, O_RDONLY, &fd) == 0) {
			struct stat st;
			if (fstat(fd, &st) == 0)
				vfs_hostino_add(st.st_dev, st.st_ino, nd.vn);
			close(fd);
			gs->interp_host[gs->ninterp] = (char *)*c;
			gs->interp_guest[gs->ninterp] = (char *)*c;
			list[gs->ninterp++] = (char *)*c;
		}
		nd_release(&nd);
	}
	sentry.interp_paths = list;
	sentry.ninterp = (size_t)gs->ninterp;
}

static int exit_status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 125;
}

int sandbox_run(struct sandbox_config *cfg)
{
	int r;
	identity_init(cfg);
	if (cfg->audit_log && (r = audit_open(cfg->audit_log)) < 0)
		return log_error_errno(r, "audit log %s", cfg->audit_log), 125;
	struct rlimit nofile = { 1 << 20, 1 << 20 };
	(void)setrlimit(RLIMIT_NOFILE, &nofile);

	struct view v = { 0 };
	struct gofer_config gcfg = { .debug = cfg->debug };
	if ((r = build_view(cfg, &v, &gcfg)) < 0)
		return 125;
	pid_t gofer_pid;
	int gofer_pidfd, gsock;
	if ((r = gofer_spawn(&gcfg, &gofer_pid, &gofer_pidfd, &gsock)) < 0)
		return log_error_errno(r, "start the gofer"), 125;
	sentry.gofer = gofer_client_new(gsock);
	if (!sentry.gofer)
		return 125;
	if ((r = sentry_init_events()) < 0)
		return 125;

	sentry_lock();
	r = mount_view(cfg, &v, sentry.gofer);
	if (r < 0) {
		sentry_unlock();
		log_error_errno(r, "build the sandbox's filesystem");
		kill(gofer_pid, SIGKILL);
		return 125;
	}
	struct vnode *cwd = v.root;
	struct nameidata nd = { .hostfd = -1 };
	if (cfg->cwd) {
		if ((r = namei_at(v.root, v.root, cfg->cwd, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &nd)) < 0) {
			sentry_unlock();
			log_error_errno(r, "--cwd %s", cfg->cwd);
			kill(gofer_pid, SIGKILL);
			return 125;
		}
		cwd = nd.vn;
	}
	struct fs_state *fs = fs_state_new(v.root, cwd, 022);
	nd_release(&nd);
	task_set_initial(fs, cred_new(0, 0));
	struct guest_setup gs = { .cfg = cfg, .envp = build_env(cfg) };
	find_interpreters(v.root, &gs);
	sentry_unlock();

	if ((r = sys_filter_build(&gs.prog, &gs.prog_len)) < 0)
		return log_error_errno(r, "build the seccomp filter"), 125;
	int sv[2], pp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(pp, O_CLOEXEC) < 0)
		return log_error_errno(neg_errno(), "socketpair"), 125;
	gs.sock = sv[1];
	gs.status_pipe = pp[1];

	/* Signals reach the sentry as events; workers inherit the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaddset(&sigs, fwd[i]);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sigdelset(&sigs, SIGCHLD);
	int sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	int init_pidfd = -1;
	long pid = syscall(SYS_clone,
			   CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
				   CLONE_NEWCGROUP | CLONE_PIDFD | SIGCHLD,
			   NULL, &init_pidfd, NULL, 0);
	if (pid < 0)
		return log_error_errno(neg_errno(), "create the sandbox's namespaces"), 125;
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		close(sv[0]);
		close(pp[0]);
		guest_init(&gs);
	}
	sentry.init_pid = (pid_t)pid;
	close(sv[1]);
	close(pp[1]);
	{
		char p[64];
		struct stat st;
		snprintf(p, sizeof(p), "/proc/%ld/ns/pid", pid);
		if (stat(p, &st) == 0)
			sentry.pidns_ino = st.st_ino;
	}
	int listener = recv_fd(sv[0]);
	close(sv[0]);
	if (listener < 0) {
		/* pid 1 failed before the filter; its message is on stderr. */
		int st = 0;
		waitpid((pid_t)pid, &st, 0);
		kill(gofer_pid, SIGKILL);
		return 125;
	}
	sentry.listener = listener;
	if (notify_set_sync_wakeup(listener) < 0)
		log_debug("no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on this kernel");
	if ((r = sentry_drop_privileges()) < 0) {
		log_error_errno(r, "drop the sentry's capabilities");
		kill((pid_t)pid, SIGKILL);
		kill(gofer_pid, SIGKILL);
		return 125;
	}
	audit_event("start", audit_fields("command", cfg->argv[0], "hostname", sentry.ident.hostname,
					  NULL));
	r = sentry_run(init_pidfd, gofer_pidfd, sigfd, 2);
	int st = 0, status = 125;
	if (read(pp[0], &st, sizeof(st)) == sizeof(st))
		status = exit_status_of(st);
	else if (r < 0)
		status = 125;
	siginfo_t si;
	(void)waitid(P_PIDFD, (id_t)init_pidfd, &si, WEXITED);
	kill(gofer_pid, SIGKILL);
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "status", json_object_new_int(status));
	if (WIFSIGNALED(st))
		json_object_object_add(f, "signal", json_object_new_int(WTERMSIG(st)));
	audit_event("exit", f);
	return status;
}
