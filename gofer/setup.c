/* SPDX-License-Identifier: MIT */
/* Starting the gofer and confining it: gofer_spawn() in the sentry, then
 * the child's namespace, masks, capabilities, ring and seccomp allowlist
 * (see server.h for the order and why). */
#include "gofer/server.h"
#include "gofer/filter.h"
#include "platform/kfeatures.h"

#include <linux/securebits.h>
/* ------------------------------------------------------------------------
 * Setup (child) */

static int die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return neg_errno();
	/* The parent may have died before PDEATHSIG was armed. */
	if (getppid() != parent)
		return -ESRCH;
	return 0;
}

static void reset_signals(void)
{
	/* Handlers inherited from the sentry would run syscalls our filter
	 * kills for; default actions are what a helper process wants. */
	struct sigaction sa = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	/* Stop signals sent to moat's whole process group (Ctrl-C at a
	 * terminal, a hangup, timeout(1)) are the sentry's to pass on to the
	 * guest, which may need its files to finish; the gofer ends with the
	 * sentry (PDEATHSIG) or when the sentry kills it. */
	sa.sa_handler = SIG_IGN;
	static const int stop_sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		(void)sigaction(stop_sigs[i], &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A private, detached copy of an export's mount tree, captured while the
 * host's root is still our root (host_path resolves as the host sees it). */
static int clone_export(const struct gofer_export *ex, int *ret_tree)
{
	if (!ex->host_path || ex->host_path[0] != '/')
		return -EINVAL;
	_cleanup_close_ int t =
		open_tree(AT_FDCWD, ex->host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (t < 0)
		return neg_errno();
	/* AT_RECURSIVE: submounts too, which a remount(MS_RDONLY) would miss. */
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ex->rw ? 0 : MOUNT_ATTR_RDONLY),
		.propagation = MS_PRIVATE,
	};
	if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return neg_errno();
	/* What the sentry checked may have been swapped since: the export is
	 * what was cloned. */
	struct stat st;
	if (fstat(t, &st) < 0)
		return neg_errno();
	if (ex->file_name ? !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode))
		return ex->file_name ? -EISDIR : -ENOTDIR;
	*ret_tree = TAKE_FD(t);
	return 0;
}

/* Make a small tmpfs our root and detach the old one. Every host path we
 * need was captured with open_tree() before this. */
static int make_root(size_t nexports)
{
	static const char *const spots[] = { "/tmp", "/mnt", "/dev" };
	char opts[64];
	/* Two inodes an export at most: a file bind's directory and file. */
	snprintf(opts, sizeof(opts), "size=16k,nr_inodes=%zu,mode=0755", 2 * nexports + 8);
	const char *where = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(spots) && !where; i++)
		if (mount("moat-gofer", spots[i], "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) == 0)
			where = spots[i];
	if (!where)
		return neg_errno();
	if (chdir(where) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
	    chdir("/") < 0)
		return neg_errno();
	return 0;
}

static int mask_objects(struct srv *s)
{
	_cleanup_close_ int f = open("/.mask", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	struct stat st;
	if (f < 0 || fstat(f, &st) < 0)
		return neg_errno();
	s->maskf_dev = st.st_dev;
	s->maskf_ino = st.st_ino;
	if (mkdir("/.maskdir", 0) < 0 || stat("/.maskdir", &st) < 0)
		return neg_errno();
	s->maskd_dev = st.st_dev;
	s->maskd_ino = st.st_ino;
	return 0;
}

/* Cover one masked path of an export. Missing paths are fine (nothing to
 * hide); a path through a symlink is a configuration error (the sentry
 * matches masks against real paths, so it would never apply). */
static int apply_mask(int root, const char *mask)
{
	while (*mask == '/')
		mask++;
	if (!*mask)
		return -EINVAL;
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int t = syscall(SYS_openat2, root, mask, &how, sizeof(how));
	if (t < 0)
		return errno == ENOENT ? 0 : neg_errno();
	struct stat st;
	if (fstat(t, &st) < 0)
		return neg_errno();
	if (S_ISLNK(st.st_mode))
		return 0; /* never followed by the gofer; the sentry hides the name */
	_cleanup_close_ int src = open_tree(AT_FDCWD, S_ISDIR(st.st_mode) ? "/.maskdir" : "/.mask",
					    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (src < 0)
		return neg_errno();
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	if (mount_setattr(src, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ||
	    move_mount(src, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return neg_errno();
	return 0;
}

static int attach_file(const char *dir, const char *name, int tree)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	_cleanup_close_ int f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (f < 0 || move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return neg_errno();
	return 0;
}

static int attach_exports(struct srv *s, const struct gofer_config *cfg, int *trees)
{
	for (size_t i = 0; i < cfg->nexports; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/%zu", i);
		const struct gofer_export *ex = &cfg->exports[i];
		if (mkdir(path, 0755) < 0)
			return neg_errno();
		if (ex->file_name) {
			/* The file over an empty one in a directory of ours,
			 * which the read-only root below keeps as it is. */
			int r = attach_file(path, ex->file_name, trees[i]);
			if (r < 0)
				return r;
		} else if (move_mount(trees[i], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			return neg_errno();
		}
		trees[i] = safe_close(trees[i]);
		_cleanup_close_ int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return neg_errno();
		for (size_t m = 0; m < ex->nmasks; m++) {
			int r = apply_mask(root, ex->masks[m]);
			if (r < 0)
				return log_error_errno(r, "gofer: cannot mask %s in %s", ex->masks[m],
						       ex->host_path);
		}
	}
	/* The gofer has no business writing to its own root. */
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		return neg_errno();
	/* Served roots: fixed ids, generation 1, slot = export index. */
	for (size_t i = 0; i < cfg->nexports; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/%zu", i);
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return neg_errno();
		s->slots[i] = (struct srv_slot){ .fd = fd, .gen = 1, .export = (uint32_t)i };
		const struct gofer_export *ex = &cfg->exports[i];
		/* Never create as root: an rw export needs a real owner. */
		if (ex->rw && (ex->owner_uid == 0 || ex->owner_gid == 0 ||
			       ex->owner_uid == (uid_t)-1 || ex->owner_gid == (gid_t)-1))
			return -EINVAL;
		s->exports[i] = (struct srv_export){ .rw = ex->rw, .uid = ex->owner_uid,
						     .gid = ex->owner_gid };
		s->any_rw |= ex->rw;
	}
	s->nslots = s->nfixed = (uint32_t)cfg->nexports;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* close_range() every fd but the socket, stderr and the export roots. */
static int close_other_fds(const struct srv *s)
{
	size_t n = 0;
	_cleanup_free_ int *keep = calloc(s->nfixed + 2, sizeof(int));
	if (!keep)
		return -ENOMEM;
	keep[n++] = STDERR_FILENO;
	keep[n++] = s->sock;
	for (uint32_t i = 0; i < s->nfixed; i++)
		keep[n++] = s->slots[i].fd;
	qsort(keep, n, sizeof(int), cmp_int);
	unsigned lo = 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo && syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0) < 0)
			return neg_errno();
		lo = (unsigned)keep[i] + 1;
	}
	return syscall(SYS_close_range, lo, ~0u, 0) < 0 ? neg_errno() : 0;
}

static int raise_nofile(void)
{
	/* Every issued id holds an fd: allow as many as the hard limit. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return neg_errno();
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? neg_errno() : 0;
}

/* Keep only what serving needs: reading files that only root may read;
 * with an rw export also what its mutations need (mutate.c): CAP_SETUID
 * and CAP_SETGID to take the owner's fsuid/fsgid (the filter allows only
 * setfsuid/setfsgid, and only to 0 and the owners), CAP_FOWNER for
 * chmod/utimes/xattrs of files the owner does not own, CAP_CHOWN to give a
 * file to the owner. SECBIT_NO_SETUID_FIXUP (locked) keeps the DAC
 * capabilities effective while the fsuid is not 0. */
static int drop_caps(bool rw)
{
	if (rw && prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED, 0, 0,
			0) < 0)
		return neg_errno();
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return neg_errno();
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return neg_errno();
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };
	if (syscall(SYS_capget, &h, d) < 0)
		return neg_errno();
	uint32_t want = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);
	if (rw)
		want |= (1u << CAP_SETUID) | (1u << CAP_SETGID) | (1u << CAP_FOWNER) | (1u << CAP_CHOWN);
	uint32_t keep = d[0].permitted & want;
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = keep;
	return syscall(SYS_capset, &h, d) < 0 ? neg_errno() : 0;
}

/* A ring that can only open, stat and receive: the kernel's io-wq workers
 * that run our ops are not under our seccomp filter, so the ring itself is
 * restricted to the opcodes we use. */
static int setup_ring(struct srv *s)
{
	if (!kfeature_has(KF_IO_URING))
		return -EOPNOTSUPP;
	struct io_uring_params p = {
		.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	};
	int r = kfeature_has(KF_IO_URING_DEFER_TASKRUN)
			? io_uring_queue_init_params(SRV_RING_ENTRIES, &s->ring, &p)
			: -EINVAL;
	if (r == -EINVAL) {
		p = (struct io_uring_params){ .flags = IORING_SETUP_R_DISABLED };
		r = io_uring_queue_init_params(SRV_RING_ENTRIES, &s->ring, &p);
	}
	if (r < 0)
		return r;
	struct io_uring_restriction res[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_OPENAT2 },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_STATX },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_RECVMSG },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = 0 },
	};
	/* The raw syscall: some liburing builds (Debian's 2.3) declare but do
	 * not export io_uring_register_restrictions/io_uring_enable_rings. */
	if (syscall(SYS_io_uring_register, s->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res,
		    ARRAY_SIZE(res)) < 0 ||
	    syscall(SYS_io_uring_register, s->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		r = neg_errno();
	if (r < 0) {
		io_uring_queue_exit(&s->ring);
		return r;
	}
	s->use_ring = true;
	return 0;
}

/* The gofer's allowlist (filter.c) with this gofer's fds and owners. */
static int install_seccomp(const struct srv *s)
{
	_cleanup_free_ uid_t *uids = calloc(s->nfixed + 1, sizeof(*uids));
	_cleanup_free_ gid_t *gids = calloc(s->nfixed + 1, sizeof(*gids));
	if (!uids || !gids)
		return -ENOMEM;
	size_t n = 0;
	for (uint32_t i = 0; i < s->nfixed; i++)
		if (s->exports[i].rw) {
			uids[n] = s->exports[i].uid;
			gids[n++] = s->exports[i].gid;
		}
	struct gofer_filter_env env = {
		.sock = s->sock, .ring_fd = s->use_ring ? s->ring.ring_fd : -1,
		.use_ring = s->use_ring, .any_rw = s->any_rw,
		.uids = uids, .gids = gids, .nowners = n,
	};
	return gofer_filter_install(&env);
}

static int child_setup(struct srv *s, const struct gofer_config *cfg)
{
	/* The modes of what it creates come from the sentry with the guest's
	 * umask applied already; the gofer's own would take bits off again. */
	umask(0);
	s->q_tail = &s->q_head;
	s->done_tail = &s->done_head;
	s->free_head = SLOT_NONE;
	s->rxiov = (struct iovec){ .iov_base = s->rxbuf, .iov_len = sizeof(s->rxbuf) };
	s->rxmsg = (struct msghdr){ .msg_iov = &s->rxiov, .msg_iovlen = 1 };
	s->slots = calloc(SRV_MAX_IDS, sizeof(*s->slots));
	s->exports = calloc(cfg->nexports ? cfg->nexports : 1, sizeof(*s->exports));
	_cleanup_free_ int *trees = calloc(cfg->nexports ? cfg->nexports : 1, sizeof(int));
	if (!s->slots || !s->exports || !trees)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nexports; i++)
		trees[i] = -1;

	int r = 0;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return neg_errno();
	for (size_t i = 0; i < cfg->nexports && r == 0; i++) {
		r = clone_export(&cfg->exports[i], &trees[i]);
		if (r < 0)
			log_error_errno(r, "gofer: cannot export %s", cfg->exports[i].host_path);
	}
	if (r == 0)
		r = make_root(cfg->nexports);
	if (r == 0)
		r = mask_objects(s);
	if (r == 0)
		r = attach_exports(s, cfg, trees);
	for (size_t i = 0; i < cfg->nexports; i++)
		safe_close(trees[i]);
	if (r == 0)
		r = close_other_fds(s);
	if (r == 0)
		r = raise_nofile();
	if (r == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		r = neg_errno();
	if (r == 0)
		r = drop_caps(s->any_rw);
	if (r < 0)
		return r;
	r = setup_ring(s);
	if (r < 0)
		log_debug("gofer: no io_uring (%s), serving synchronously", strerror(-r));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return neg_errno();
	return install_seccomp(s);
}

static void send_ready(int sock, int status)
{
	uint8_t buf[GOFER_HDR_SIZE];
	ssize_t n = gofer_reply_status(buf, sizeof(buf), GOFER_OP_READY, 0, status);
	struct iovec iov = { .iov_base = buf, .iov_len = n > 0 ? (size_t)n : 0 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	/* sendmsg, not send: send() is sendto(), which the filter kills for. */
	if (n > 0)
		(void)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

_Noreturn static void gofer_child(const struct gofer_config *cfg, int sock, pid_t parent)
{
	int r = die_with_parent(parent);
	if (r < 0)
		_exit(1);
	reset_signals();
	/* If the sentry runs with 0-2 closed, the socket may be fd 2, where
	 * the log writes: move it out of the way. */
	if (sock <= STDERR_FILENO) {
		int nfd = fcntl(sock, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		if (nfd < 0)
			_exit(1);
		safe_close(sock);
		sock = nfd;
	}
	(void)prctl(PR_SET_NAME, "moat-gofer", 0, 0, 0);
	log_init("moat-gofer", cfg->debug ? 2 : log_verbose);
	struct srv *s = calloc(1, sizeof(*s));
	if (!s) {
		send_ready(sock, -ENOMEM);
		_exit(1);
	}
	s->sock = sock;
	r = child_setup(s, cfg);
	send_ready(sock, r);
	if (r < 0)
		_exit(1);
	heap_trim(); /* the sentry's freed setup it was forked with (main.c) */
	srv_test_init();
	if (s->use_ring)
		srv_serve_ring(s);
	srv_serve_sync(s);
}

/* ------------------------------------------------------------------------
 * Parent */

static void sock_bufsize(int fd)
{
	/* Unix datagrams must fit the sender's buffer whole. */
	int sz = SRV_SOCKBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int wait_ready(int sock)
{
	uint8_t buf[GOFER_HDR_SIZE + 1];
	ssize_t n;
	do
		n = recv(sock, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return neg_errno();
	struct gofer_hdr h;
	if (n == 0 || gofer_hdr_decode(buf, (size_t)n, &h) < 0 || h.op != GOFER_OP_READY ||
	    h.len != GOFER_HDR_SIZE || h.flags != 0 || h.status > 0)
		return -EIO;
	return h.status;
}

int gofer_spawn(const struct gofer_config *cfg, pid_t *ret_pid, int *ret_pidfd, int *ret_sock)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return neg_errno();
	_cleanup_close_ int mine = sv[0];
	_cleanup_close_ int theirs = sv[1];
	sock_bufsize(mine);
	sock_bufsize(theirs);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return neg_errno();
	if (pid == 0) {
		mine = safe_close(mine);
		gofer_child(cfg, theirs, parent);
	}
	theirs = safe_close(theirs);
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int r = pidfd < 0 ? neg_errno() : wait_ready(mine);
	if (r < 0) {
		kill(pid, SIGKILL);
		int st = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		/* Its own death (ours is SIGKILL) says why: SIGSYS is a call
		 * outside its allowlist. */
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
			log_errorx("the gofer was killed by SIG%s during its setup%s",
				   sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?",
				   WTERMSIG(st) == SIGSYS ? ": a call outside its seccomp allowlist" : "");
		return r;
	}
	*ret_pid = pid;
	*ret_pidfd = TAKE_FD(pidfd);
	*ret_sock = TAKE_FD(mine);
	return 0;
}

