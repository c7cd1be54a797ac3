/* SPDX-License-Identifier: MIT */
/* Starting a sandbox. Setup overlaps where it can, since namespace and mount
 * work costs milliseconds here:
 *  1. pid 1 of the sandbox starts first and builds the guest's namespaces,
 *     root and filter (guest.c);
 *  2. meanwhile the gofer starts (its own mount namespace) and the sentry
 *     builds its VFS view over it (view.c);
 *  3. pid 1 reports its listener and the interpreters it bound; the sentry
 *     checks they are the files its view shows, drops its capabilities, and
 *     serves the guest until pid 1 reports the command's status. */
#include "sentry/sandbox/sandbox.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "sentry/fs/fs.h"
#include "sentry/kernel/audit.h"
#include "sentry/kernel/hostfilter.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/sandbox/cgroup.h"
#include "sentry/sandbox/diskwatch.h"
#include "sentry/sandbox/confine.h"
#include "sentry/sandbox/console.h"
#include "sentry/sandbox/execsrv.h"
#include "sentry/sandbox/guest.h"
#include "sentry/sandbox/hostuid.h"
#include "sentry/sandbox/limits.h"
#include "sentry/vfs/namei.h"
#include "sentry/vfs/ofd.h"
#include "net/net.h"
#include "platform/kfeatures.h"
#include "platform/platform.h"
#include "syscalls/dispatch.h"
#include "syscalls/table.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/unixpeer.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs.h"
#include "sentry/sandbox/view.h"

#define SANDBOX_RELEASE "6.1.0-moat"

/* `moat run`: PATH, HOME and TERM, then --env. A container: its own
 * environment, plus HOME when it has none (as runc does; moat has no user
 * database to look it up in, so root's /root, else /). */
char **sandbox_env(const struct sandbox_config *cfg)
{
	struct sandbox_config tmp = { 0 };
	char buf[PATH_MAX];
	if (!cfg->env_exact) {
		const char *term = getenv("TERM");
		config_add_env(&tmp, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		snprintf(buf, sizeof(buf), "HOME=%s", cfg->home ? cfg->home : "/root");
		config_add_env(&tmp, buf);
		snprintf(buf, sizeof(buf), "TERM=%s", term && *term ? term : "xterm");
		config_add_env(&tmp, buf);
	} else {
		bool home = false;
		for (size_t i = 0; i < cfg->nenv; i++)
			home |= !strncmp(cfg->env[i], "HOME=", 5);
		if (!home)
			config_add_env(&tmp, cfg->uid == 0 ? "HOME=/root" : "HOME=/");
	}
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
	snprintf(id->domainname, sizeof(id->domainname), "%s",
		 cfg->domainname ? cfg->domainname : "(none)");
	snprintf(id->release, sizeof(id->release), SANDBOX_RELEASE);
	snprintf(id->version, sizeof(id->version), "#1 SMP PREEMPT_DYNAMIC moat");
	clock_gettime(CLOCK_MONOTONIC, &sentry.start);
	clock_gettime(CLOCK_REALTIME, &sentry.boot_realtime);
}

/* What the guest's /proc and /sys show of its limits: those that are
 * enforced, and the memory in use from the cgroup's counter. */
static void limits_to_sentry(const struct sandbox_limits *l, const struct sandbox_cgroup *cg)
{
	if (l->memory && (cg->dir[CG_MEMORY] || !l->memory_is_default))
		sentry.mem_limit = l->memory;
	if (cg->dir[CG_MEMORY]) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", cg->dir[CG_MEMORY],
			 cg->mode == CGROUP_V2 ? "memory.current" : "memory.usage_in_bytes");
		sentry.mem_current_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (l->cpu_quota_us && l->cpu_period_us) {
		sentry.cpu_quota_us = l->cpu_quota_us;
		sentry.cpu_period_us = l->cpu_period_us;
		sentry.cpu_limit = (unsigned)((l->cpu_quota_us + l->cpu_period_us - 1) / l->cpu_period_us);
	}
	sentry.pids_limit = l->pids;
}

/* The sandbox's own host uid (hostuid.c); gid is the same number. Returns
 * the reservation's fd, which the sentry keeps open (and pid 1 inherits). */
static int host_ids_init(const struct sandbox_config *cfg)
{
	struct hostuid_range range = { HOSTUID_DEFAULT_START, HOSTUID_DEFAULT_COUNT };
	if (cfg->host_uid_count)
		range = (struct hostuid_range){ cfg->host_uid_start, cfg->host_uid_count };
	uid_t uid;
	int lock;
	int r = hostuid_acquire(HOSTUID_DIR, &range, &uid, &lock);
	if (r == -EAGAIN)
		return log_warnx("no free host uid in %u:%u (every uid is in use by a sandbox)",
				 range.start, range.count), r;
	if (r < 0)
		return log_error_errno(r, "reserve a host uid in %s", HOSTUID_DIR);
	sentry.host_uid = uid;
	sentry.host_gid = (gid_t)uid;
	return lock;
}

/* Accept an interpreter pid 1 bound only if the view shows the very same
 * file at that path: otherwise an ELF asking for it would run a file the
 * sandbox does not see. */
static void accept_interpreters(struct vnode *root, struct guest_ready *gr)
{
	static char *list[GUEST_MAX_INTERP];
	size_t n = 0;
	for (int i = 0; i < gr->ninterp; i++) {
		struct stat bound, seen;
		struct nameidata nd;
		int fd = -1;
		if (fstat(gr->interp_fd[i], &bound) == 0 &&
		    namei_at(root, root, gr->interp[i], LOOKUP_FOLLOW, &nd) == 0) {
			if (nd.vn->type == VREG && nd.vn->ops->open &&
			    nd.vn->ops->open(nd.vn, O_RDONLY, &fd) == 0 && fstat(fd, &seen) == 0 &&
			    seen.st_dev == bound.st_dev && seen.st_ino == bound.st_ino) {
				vfs_hostino_add(seen.st_dev, seen.st_ino, nd.vn);
				list[n++] = strdup(gr->interp[i]);
			}
			safe_close(fd);
			nd_release(&nd);
		}
		close(gr->interp_fd[i]);
	}
	sentry.interp_paths = list;
	sentry.ninterp = n;
}

static int exit_status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 125;
}

static int build_fs(struct sandbox_config *cfg, struct view *v)
{
	int r = view_disk_init(cfg);
	if (r < 0)
		return r == -EINVAL ? r : log_error_errno(r, "make the sandbox's disk");
	sentry_lock();
	r = view_mount(cfg, v, sentry.gofer);
	if (r < 0) {
		sentry_unlock();
		return r == VIEW_REPORTED ? r : log_error_errno(r, "build the sandbox's filesystem");
	}
	struct vnode *cwd = v->root;
	struct nameidata nd = { .hostfd = -1 };
	if (cfg->cwd) {
		r = namei_at(v->root, v->root, cfg->cwd, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &nd);
		if (r < 0) {
			sentry_unlock();
			return log_error_errno(r, "--cwd %s", cfg->cwd);
		}
		cwd = nd.vn;
	}
	struct fs_state *fs = fs_state_new(v->root, cwd, cfg->umask_set ? cfg->umask & 0777 : 022);
	nd_release(&nd);
	struct cred *cred = cred_new(cfg->uid, cfg->gid);
	sentry_unlock();
	if (!fs || !cred)
		return -ENOMEM;
	if (cfg->ngroups > ARRAY_SIZE(cred->groups))
		return -E2BIG; /* the config check refused it already */
	for (size_t i = 0; i < cfg->ngroups; i++)
		cred->groups[i] = cfg->groups[i];
	cred->ngroups = (int)cfg->ngroups;
	task_set_initial(fs, cred);
	return 0;
}

/* At most this many ptys at once in a sandbox's devpts (the command's and
 * the guest's own: script, tmux, expect). */
#define SANDBOX_MAX_PTYS 64

/* -t: the command's pty, its master sent to the OCI engine or relayed to
 * moat's own stdio. Returns the slave, for pid 1. */
static int console_setup(struct sandbox_config *cfg, int devpts, struct console_relay *relay)
{
	struct winsize ws = { .ws_row = cfg->console_rows, .ws_col = cfg->console_cols };
	if (!ws.ws_row || !ws.ws_col)
		(void)console_user_winsize(&ws);
	int master, slave;
	int r = console_pty_new(devpts, &ws, &master, &slave);
	if (r < 0)
		return log_error_errno(r, "make the sandbox's terminal");
	if (cfg->console_socket) {
		r = console_send_master(cfg->console_socket, master);
		close(master);
		if (r < 0) {
			close(slave);
			return log_error_errno(r, "send the terminal to --console-socket %s",
					       cfg->console_socket);
		}
		return slave;
	}
	bool in = cfg->interactive;
	r = console_relay_start(master, in ? STDIN_FILENO : -1, STDOUT_FILENO, in && isatty(STDIN_FILENO),
				sentry.host_uid, sentry.host_gid, relay);
	if (r < 0) {
		close(slave);
		return log_error_errno(r, "start the terminal relay");
	}
	return slave;
}

static void audit_exit(int status, int st)
{
	audit_flush();
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "status", json_object_new_int(status));
	if (WIFSIGNALED(st))
		json_object_object_add(f, "signal", json_object_new_int(WTERMSIG(st)));
	audit_event("exit", f);
}

/* The limits hit, read from the cgroup at the end: an audit record and a
 * line each. A command the memory limit killed exits 137 (its SIGKILL), as
 * in Docker; also when the kernel took pid 1 and so no status came. */
static int report_limits(const struct sandbox_config *cfg, const struct sandbox_cgroup *cg,
			 int status, bool got_status)
{
	struct cgroup_events ev;
	if (cg->mode == CGROUP_NONE || cgroup_read_events(cg, &ev) < 0)
		return status;
	char sz[32];
	if (ev.oom_kills) {
		log_warnx("the sandbox hit its memory limit (%s): the kernel killed %" PRIu64
			  " process%s",
			  limits_size_str(cfg->limits.memory, sz, sizeof(sz)), ev.oom_kills,
			  ev.oom_kills == 1 ? "" : "es");
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "limit", json_object_new_string("memory"));
		json_object_object_add(f, "bytes", json_object_new_int64((int64_t)cfg->limits.memory));
		json_object_object_add(f, "oom_kills", json_object_new_int64((int64_t)ev.oom_kills));
		audit_event("limit", f);
		if (!got_status)
			status = MOAT_EXIT_OOM;
	}
	if (ev.pids_refused) {
		log_warnx("the sandbox reached its process limit (%" PRIu64 "): %" PRIu64
			  " fork%s refused",
			  cfg->limits.pids, ev.pids_refused, ev.pids_refused == 1 ? "" : "s");
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "limit", json_object_new_string("pids"));
		json_object_object_add(f, "max", json_object_new_int64((int64_t)cfg->limits.pids));
		json_object_object_add(f, "refused", json_object_new_int64((int64_t)ev.pids_refused));
		audit_event("limit", f);
	}
	return status;
}

static struct json_object *limits_json(const struct sandbox_config *cfg,
				       const struct sandbox_cgroup *cg)
{
	const struct sandbox_limits *l = &cfg->limits;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "mechanism", json_object_new_string(cgroup_mechanism(cg, l)));
	json_object_object_add(o, "memory", json_object_new_int64((int64_t)l->memory));
	json_object_object_add(o, "pids", json_object_new_int64((int64_t)l->pids));
	json_object_object_add(o, "cpu_quota_us", json_object_new_int64((int64_t)l->cpu_quota_us));
	json_object_object_add(o, "cpu_period_us", json_object_new_int64((int64_t)l->cpu_period_us));
	json_object_object_add(o, "nofile", json_object_new_int64((int64_t)l->nofile_hard));
	return o;
}

/* A container's rlimits (config.json) are set by the command itself,
 * which has no privilege on the host: a hard limit above the one it
 * inherits would fail. Raise the sentry's hard limits (never its soft
 * ones, which bind it) to what the container asks, as root here, so the
 * command can; the sandbox's own limits (--nofile, the pids fallback) are
 * applied first in the command and stay a ceiling (guest.c). */
static void raise_hard_limits(const struct sandbox_config *cfg)
{
	for (size_t i = 0; i < cfg->nrlimits; i++) {
		struct rlimit cur;
		int res = cfg->rlimits[i].resource;
		if (getrlimit(res, &cur) < 0 || cfg->rlimits[i].lim.rlim_max <= cur.rlim_max)
			continue;
		cur.rlim_max = cfg->rlimits[i].lim.rlim_max;
		if (setrlimit(res, &cur) < 0)
			log_debug("raise the hard limit of rlimit %d: %m", res);
	}
}

int sandbox_run(struct sandbox_config *cfg)
{
	return sandbox_run_hooks(cfg, NULL);
}

/* --platform, else MOAT_PLATFORM, else seccomp-unotify where the kernel
 * has it (kfeatures.c) and ptrace where not, said in one line. */
static int platform_choose(struct sandbox_config *cfg)
{
	const char *env = getenv("MOAT_PLATFORM");
	if (cfg->platform == PLATFORM_AUTO && env && *env &&
	    platform_parse(env, &cfg->platform) < 0) {
		log_warnx("MOAT_PLATFORM=%s: expected seccomp, ptrace or auto", env);
		return -EINVAL;
	}
	if (cfg->platform == PLATFORM_AUTO) {
		cfg->platform = kfeatures_notify_ok() ? PLATFORM_SECCOMP : PLATFORM_PTRACE;
		if (cfg->platform == PLATFORM_PTRACE)
			log_warnx("no usable seccomp user notification on this kernel: using the "
				  "ptrace platform");
	} else if (cfg->platform == PLATFORM_SECCOMP && kfeatures_require_notify() < 0) {
		return -EOPNOTSUPP;
	}
	platform_set(cfg->platform);
	log_debug("platform: %s", platform->name);
	if (cfg->platform == PLATFORM_PTRACE && cfg->profile_filter) {
		/* Lives as long as the sandbox (cfg does not own it). */
		static struct sock_filter *prog;
		unsigned short len;
		int r = sys_filter_profile_for_ptrace(cfg->profile_filter, cfg->profile_filter_len, &prog, &len);
		if (r < 0)
			return log_error_errno(r, "--seccomp-profile on the ptrace platform");
		cfg->profile_filter = prog;
		cfg->profile_filter_len = len;
	}
	return 0;
}

int sandbox_run_hooks(struct sandbox_config *cfg, const struct sandbox_hooks *hooks)
{
	int r;
	if (kfeatures_probe() < 0)
		return 125; /* it said which feature is missing */
	if (platform_choose(cfg) < 0)
		return 125;
	identity_init(cfg);
	if (cfg->audit_log && (r = audit_open(cfg->audit_log)) < 0)
		return log_error_errno(r, "audit log %s", cfg->audit_log), 125;
	/* The sentry holds an fd per open guest directory and gofer node:
	 * as many as it may. Without CAP_SYS_RESOURCE (a hard limit below
	 * 2^20) the soft limit still goes up to the hard one. */
	struct rlimit nofile = { 1 << 20, 1 << 20 };
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 && getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &nofile);
	}
	ofd_limit_init();
	struct view v = { 0 };
	struct gofer_config gcfg = { .debug = cfg->debug };
	char **envp = sandbox_env(cfg);
	if (!envp || view_exports(cfg, &v, &gcfg) < 0)
		return 125;

	/* Signals reach the sentry as events; workers inherit the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaddset(&sigs, fwd[i]);
	/* With a terminal, a resize is the master's (TIOCSWINSZ), and the
	 * guest's line discipline signals its foreground group. */
	if (cfg->tty)
		sigdelset(&sigs, SIGWINCH);
	sigset_t fwdset = sigs;
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	/* Before the guest and the gofer exist and before any thread: the
	 * helper that removes the cgroup is a fork. */
	struct sandbox_cgroup cg;
	if (cgroup_setup(&cfg->limits, &cg) < 0)
		return 125;
	limits_to_sentry(&cfg->limits, &cg);
	int uid_lock = host_ids_init(cfg);
	if (uid_lock < 0) {
		cgroup_finish(&cg);
		return 125;
	}
	/* The sandbox's devpts, for -t and the guest's /dev/ptmx: mounting
	 * it needs the privileges the sentry is about to drop. */
	int devpts = -1;
	if ((r = console_devpts_new(sentry.host_uid, sentry.host_gid, SANDBOX_MAX_PTYS, &devpts)) < 0)
		log_debug("no devpts of its own (%s): no /dev/ptmx in the sandbox", strerror(-r));
	devfs_set_devpts(devpts);
	struct console_relay relay = { .pid = -1 };
	int tty = -1;
	if (cfg->tty && (tty = console_setup(cfg, devpts, &relay)) < 0) {
		cgroup_finish(&cg);
		return 125;
	}
	/* The command's: pty 0 of a fresh instance. */
	if (cfg->tty)
		devfs_pty_set_owner(0, cfg->uid);
	struct guest_ids ids = { sentry.host_uid, sentry.host_gid, uid_lock };
	/* --net=sandbox: the network helper first, while moat has few fds
	 * (it closes the rest) and is still root (--publish may bind a low
	 * port); pid 1 sends it the tap on the socketpair. */
	struct net_helper nh = { .pid = -1, .pidfd = -1, .ready = -1 };
	_cleanup_close_ int net_mine = -1;
	if (cfg->net.mode == NET_SANDBOX) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return log_error_errno(neg_errno(), "--net=sandbox"), 125;
		net_mine = sv[0];
		/* The TCP fast path's request line (net/fastpath.h): the
		 * sentry keeps one end for the sandbox's life. */
		int fp[2] = { -1, -1 };
		if (!cfg->net.fastpath_off && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fp) < 0) {
			close(sv[1]);
			return log_error_errno(neg_errno(), "--net=sandbox"), 125;
		}
		r = net_helper_spawn(&cfg->net, sv[1], fp[1], sentry.host_uid, sentry.host_gid, &nh);
		close(sv[1]);
		if (fp[1] >= 0)
			close(fp[1]);
		sentry.net_fp = fp[0];
		if (r < 0)
			return log_error_errno(r, "start the network helper"), 125;
	}
	raise_hard_limits(cfg);
	struct guest g;
	r = guest_start(cfg, envp, sentry.ident.hostname, &ids, hooks ? hooks->start_fd : -1, cg.clone_fd,
			tty, net_mine, &g);
	/* pid 1 has the slave: once it and the guest are gone, the relay
	 * reads the last output and EIO. */
	safe_close(tty);
	net_mine = safe_close(net_mine);
	/* pid 1 has its copy: the sentry keeps none, so once the command has
	 * read its byte nobody holds the FIFO and a late start finds no
	 * reader. */
	if (hooks && hooks->start_fd >= 0)
		close(hooks->start_fd);
	if (r < 0) {
		if (nh.pid > 0)
			kill(nh.pid, SIGKILL);
		cgroup_finish(&cg);
		return log_error_errno(r, "create the sandbox's namespaces"), 125;
	}
	sentry.init_pid = g.pid;
	pid_t gofer_pid = -1;
	int gofer_pidfd = -1, gsock = -1;
	/* Before pid 1 can fork: the uid is free again only once this pid 1
	 * is gone (the lock alone is released before its namespace empties). */
	if ((r = hostuid_record(uid_lock, g.pid)) < 0) {
		log_error_errno(r, "record the host uid's sandbox");
		goto fail;
	}
	/* pid 1 was cloned into the cgroup, or else runs only moat's code
	 * until the sentry answers its fork of the command, which comes after
	 * this move: every guest process starts in the cgroup. A limit that
	 * cannot be applied ends the sandbox. */
	if (cgroup_attach(&cg, g.pid) < 0)
		goto fail;
	if ((r = gofer_spawn(&gcfg, &gofer_pid, &gofer_pidfd, &gsock)) < 0) {
		log_error_errno(r, "start the gofer");
		goto fail;
	}
	sentry.gofer = gofer_client_new(gsock);
	if (sentry.gofer)
		gofer_client_set_fatal(sentry.gofer, sentry_fatal);
	if (!sentry.gofer || sentry_init_events() < 0 || build_fs(cfg, &v) < 0)
		goto fail;
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d/ns/pid", g.pid);
	if (stat(p, &st) == 0)
		sentry.pidns_ino = st.st_ino;
	/* notify_receive() reads into a fixed 256-byte buffer: refuse a kernel
	 * whose notification is larger rather than let it write past it. */
	struct notify_sizes nsz;
	if (notify_sizes_get(&nsz) < 0 || nsz.notif > 256) {
		log_warnx("unsupported seccomp notification size");
		goto fail;
	}
	if (cfg->timeout_ms > 0) {
		sentry.timeout_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		sentry.timeout_ms = cfg->timeout_ms;
		if (sentry.timeout_fd < 0) {
			log_error_errno(neg_errno(), "--timeout");
			goto fail;
		}
	}
	sentry.stop_grace_ms = cfg->stop_grace_ms > 0 ? cfg->stop_grace_ms : MOAT_STOP_GRACE_MS;
	sentry.stop_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (sentry.stop_fd < 0) {
		log_error_errno(neg_errno(), "timerfd for the stop grace period");
		goto fail;
	}
	if ((r = diskwatch_start()) < 0) {
		log_error_errno(r, "watch the in-memory disk");
		goto fail;
	}
	/* The sentry confines itself while pid 1 still builds the guest's
	 * namespaces (a millisecond or so): neither waits for the other, and
	 * it is confined before pid 1 can run anything of the guest's, which
	 * waits for the listener's first answer. */
	if (nh.pid > 0) {
		char why[512];
		if (net_helper_wait_ready(&nh, why, sizeof(why)) < 0) {
			fprintf(stderr, "moat: %s\n", why);
			goto fail;
		}
	}
	if (sentry_confine_mounts() < 0)
		goto fail;
	int pidproc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pidproc < 0 || procfs_confine(pidproc) < 0) {
		log_warnx("sentry: procfs cannot use its confined /proc");
		goto fail;
	}
	if ((r = sentry_drop_privileges(sentry.host_uid, sentry.host_gid,
					view_needs_host_dac(cfg))) < 0) {
		log_error_errno(r, "drop the sentry's privileges");
		goto fail;
	}
	if ((r = sentry_hostfilter_install()) < 0) {
		log_error_errno(r, "install the sentry's seccomp allowlist");
		goto fail;
	}
	/* The ptrace platform: the tracer thread (confined like every
	 * sentry thread, it is started after the allowlist) seizes pid 1
	 * before pid 1 installs its filter. */
	if (cfg->platform == PLATFORM_PTRACE) {
		if (guest_wait_traceable(&g) < 0)
			goto fail; /* pid 1 said why on stderr */
		ptrace_set_inline(sys_dispatch_inline);
		if ((r = ptrace_platform_start(g.pid)) < 0 || (r = guest_release_to_tracer(&g)) < 0) {
			log_error_errno(r, "trace the sandbox's pid 1");
			goto fail;
		}
	}
	struct guest_ready gr;
	if (guest_wait_ready(&g, &gr) < 0)
		goto fail; /* pid 1 said why on stderr */
	sentry_lock();
	accept_interpreters(v.root, &gr);
	sentry_unlock();
	sentry.listener = gr.listener;
	sentry_lock();
	unixpeer_set_diag(gr.diag);
	sentry_unlock();
	if (gr.listener >= 0) {
		notify_set_listener(gr.listener);
		if (kfeatures_probe_listener(gr.listener) < 0)
			goto fail;
		if (notify_set_sync_wakeup(gr.listener) < 0)
			log_debug("no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on this kernel");
	} else if (cfg->platform != PLATFORM_PTRACE) {
		goto fail;
	}
	/* pid 1 keeps its socket to serve `moat exec`; without a control
	 * socket it is closed, and pid 1 sees that. */
	if (hooks && hooks->exec_sock >= 0) {
		r = execsrv_start(hooks->exec_sock, g.sock, devpts);
		if (r < 0) {
			log_error_errno(r, "serve exec");
			goto fail;
		}
	} else {
		g.sock = safe_close(g.sock);
	}
	if (hooks && hooks->ready && hooks->ready(hooks->ctx, g.pid, gofer_pid) != 0)
		goto fail;
	struct json_object *start = audit_fields("command", cfg->argv ? cfg->argv[0] : "(idle)", "hostname",
						 sentry.ident.hostname, NULL);
	json_object_object_add(start, "limits", limits_json(cfg, &cg));
	audit_event("start", start);
	/* What setup allocated and freed (the configuration, the view's
	 * building) stays in the heap below the trim threshold (main.c):
	 * give it back once, now that the guest runs (~0.4 MiB). */
	heap_trim();
	r = sentry_run(g.pidfd, gofer_pidfd, &fwdset, g.status, 2);
	int wst = 0, status = 125;
	bool got_status = false;
	if (sentry.timed_out) {
		/* Distinct from the command's own statuses, as timeout(1)'s. */
		status = MOAT_EXIT_TIMEOUT;
		log_warnx("the sandbox ran out of time (--timeout %ld.%03ld s): killed",
			  cfg->timeout_ms / 1000, cfg->timeout_ms % 1000);
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "limit", json_object_new_string("timeout"));
		json_object_object_add(f, "ms", json_object_new_int64(cfg->timeout_ms));
		audit_event("limit", f);
	} else if (read(g.status, &wst, sizeof(wst)) == sizeof(wst)) {
		status = exit_status_of(wst);
		got_status = true;
	} else if (sentry.stop_killed) {
		status = 128 + SIGKILL;
		log_warnx("the command did not exit within %ld.%03ld s of SIG%s: the sandbox was killed",
			  sentry.stop_grace_ms / 1000, sentry.stop_grace_ms % 1000,
			  sigabbrev_np(sentry.stop_signal) ?: "?");
		struct json_object *f = audit_fields("signal", sigabbrev_np(sentry.stop_signal), NULL);
		json_object_object_add(f, "grace_ms", json_object_new_int64(sentry.stop_grace_ms));
		audit_event("stop_kill", f);
	}
	/* pid 1 is exiting; the kernel tears its namespaces down without us.
	 * Wait for its end, which comes only once every task of its pid
	 * namespace is gone: the sentry's exit releases the seccomp listener,
	 * and a guest call still waiting in it would then return ENOSYS and
	 * its task run on. sentry_run can return before pid 1's end (the
	 * gofer gone, a fatal state), and a task might otherwise go past the
	 * broken state that ended the sandbox. A task stuck in the kernel
	 * cannot hold moat up for long: 10 s at most. */
	kill(g.pid, SIGKILL);
	struct pollfd pid1 = { .fd = g.pidfd, .events = POLLIN };
	while (poll(&pid1, 1, 10000) < 0 && errno == EINTR)
		;
	sentry_lock();
	diskwatch_finish(); /* before the view lets its store go */
	view_finish(&v);
	sentry_unlock();
	kill(gofer_pid, SIGKILL);
	/* The guest's last output before the status, as a terminal shows it. */
	console_relay_wait(&relay, 2000);
	if (nh.pid > 0)
		kill(nh.pid, SIGKILL);
	/* A timeout's 124 stands; the limits hit before it are still told. */
	status = report_limits(cfg, &cg, status, got_status || sentry.timed_out);
	sentry_lock();
	ofd_limit_report();
	sentry_unlock();
	sys_nofile_report(cfg->limits.nofile_soft);
	cgroup_finish(&cg);
	audit_exit(status, wst);
	return status;
fail:
	kill(g.pid, SIGKILL);
	if (nh.pid > 0)
		kill(nh.pid, SIGKILL);
	if (gofer_pid > 0)
		kill(gofer_pid, SIGKILL);
	console_relay_wait(&relay, 2000);
	cgroup_finish(&cg);
	return 125;
}
