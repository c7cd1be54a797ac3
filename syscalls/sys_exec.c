/* SPDX-License-Identifier: MIT */
/* execve, execveat. The sentry resolves the program in its VFS, handles "#!"
 * itself (kernel semantics: one optional argument, nesting up to 4), checks
 * X_OK and noexec on the file itself, opens it, and has the guest run
 * execveat(fd, "", argv, envp, AT_EMPTY_PATH) through ptrace_exec_run(). The
 * only path the host kernel resolves during exec is PT_INTERP, and only the
 * interpreters bound read-only in the guest's otherwise empty root exist
 * there. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "platform/ptrace_exec.h"
#include "sentry/kernel/audit.h"
#include "sentry/kernel/elf.h"
#include "sentry/vfs/namei.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers.h"

#define MAX_ARGV 65536
#define MAX_SCRIPT_DEPTH 4 /* as the kernel's binfmt_script */
#define AUDIT_ARGS 64

struct exec_state {
	bool armed;
	int guest_fd;
	uint64_t empty_ptr;
};

static void exec_arm(void *ctx, int guest_fd, uint64_t empty_ptr)
{
	struct exec_state *es = ctx;
	sentry_lock();
	es->guest_fd = guest_fd;
	es->empty_ptr = empty_ptr;
	es->armed = true;
	sentry_unlock();
}

/* Read the guest's argv pointer array (once). NULL argv is an empty list. */
static int read_argv(struct sysreq *r, uint64_t argvp, uint64_t **ret, size_t *ret_n)
{
	size_t n = 0, cap = 64;
	_cleanup_free_ uint64_t *v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (argvp) {
		uint64_t chunk[64];
		/* Read up to the end of the page only: the array may end right there. */
		uint64_t at = argvp + n * 8;
		size_t want = (4096 - (at & 4095)) / 8;
		if (want > 64)
			want = 64;
		if (want == 0)
			want = 1;
		ssize_t got = req_read(r, at, chunk, want * 8);
		if (got < 0)
			return (int)got;
		for (size_t i = 0; i < want; i++) {
			if (!chunk[i])
				goto done;
			if (n == MAX_ARGV)
				return -E2BIG;
			if (n == cap) {
				cap *= 2;
				uint64_t *nv = realloc(v, cap * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				v = nv;
			}
			v[n++] = chunk[i];
		}
	}
done:
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static int check_exec(struct task *t, struct vnode *vn)
{
	if (vn->type != VREG)
		return -EACCES;
	if (vn->mnt->flags & MNT_NOEXEC)
		return -EACCES;
	return vfs_permission(vn, t->cred, X_OK);
}

static bool interp_bound(const char *path)
{
	for (size_t i = 0; i < sentry.ninterp; i++)
		if (!strcmp(sentry.interp_paths[i], path))
			return true;
	return false;
}

struct exec_plan {
	int hostfd;
	struct vnode *vn;   /* the final binary (reference) */
	char strs[2 * MAX_SCRIPT_DEPTH + 1][PATH_MAX];
	int nstrs;          /* prefix strings for a script chain */
};

/* Resolve and check the program, following "#!" chains. */
static int plan_exec(struct task *t, int dirfd, const char *path, unsigned lflags,
		     struct exec_plan *pl)
{
	char cur[PATH_MAX];
	snprintf(cur, sizeof(cur), "%s", path);
	/* What a script's interpreter sees as its script argument: the name as
	 * given, or /dev/fd/N for fd-relative execs (as the kernel does). */
	char shown[PATH_MAX];
	if (!path[0] || (dirfd != AT_FDCWD && path[0] != '/'))
		snprintf(shown, sizeof(shown), path[0] ? "/dev/fd/%d/%s" : "/dev/fd/%d", dirfd, path);
	else
		snprintf(shown, sizeof(shown), "%s", path);
	char pre[2 * MAX_SCRIPT_DEPTH + 1][PATH_MAX];
	int npre = 0;
	for (int depth = 0;; depth++) {
		struct nameidata nd;
		int r = namei(t, dirfd, cur, lflags, &nd);
		if (r < 0)
			return r;
		if (!nd.vn) {
			nd_release(&nd);
			return -EACCES;
		}
		if ((r = check_exec(t, nd.vn)) < 0 || !nd.vn->ops->open) {
			nd_release(&nd);
			return r < 0 ? r : -EACCES;
		}
		int fd = -1;
		r = nd.vn->ops->open(nd.vn, O_RDONLY, &fd);
		if (r < 0) {
			nd_release(&nd);
			return r;
		}
		char interp[PATH_MAX], arg[PATH_MAX];
		int kind = exec_probe(fd, interp, sizeof(interp), arg, sizeof(arg));
		if (kind == 1) {
			if (interp[0] && !interp_bound(interp)) {
				log_debug("exec %s: interpreter %s is not bound", cur, interp);
				close(fd);
				nd_release(&nd);
				return -ENOENT;
			}
			pl->hostfd = fd;
			pl->vn = vn_ref(nd.vn);
			nd_release(&nd);
			/* prefix order: outermost interpreter first */
			pl->nstrs = 0;
			for (int i = npre - 1; i >= 0; i--)
				memcpy(pl->strs[pl->nstrs++], pre[i], PATH_MAX);
			return 0;
		}
		close(fd);
		nd_release(&nd);
		if (kind < 0)
			return kind;
		if (depth == MAX_SCRIPT_DEPTH)
			return -ELOOP;
		/* argv becomes: interp [arg] script argv[1..]; pushed in reverse.
		 * At deeper levels the script is the previous interpreter, which
		 * is already there in place of argv[0]. */
		if (depth == 0)
			memcpy(pre[npre++], shown, PATH_MAX);
		if (arg[0])
			memcpy(pre[npre++], arg, PATH_MAX);
		memcpy(pre[npre++], interp, PATH_MAX);
		memcpy(cur, interp, PATH_MAX);
		dirfd = AT_FDCWD;
		lflags = LOOKUP_FOLLOW;
		if (npre > 2 * MAX_SCRIPT_DEPTH)
			return -ELOOP;
	}
}

static void audit_exec(struct sysreq *r, const char *path, const uint64_t *argv, size_t argc)
{
	if (sentry.audit_fd < 0)
		return;
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "pid", json_object_new_int(r->task->vtid));
	json_object_object_add(f, "path", json_object_new_string(path));
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < argc && i < AUDIT_ARGS; i++) {
		char s[4096];
		ssize_t n = req_read_str(r, argv[i], s, sizeof(s));
		json_object_array_add(a, json_object_new_string(n >= 0 ? s : "?"));
	}
	json_object_object_add(f, "argv", a);
	audit_event("exec", f);
}

long sys_execve(struct sysreq *r)
{
	struct task *t = r->task;
	int dirfd = AT_FDCWD, flags = 0;
	uint64_t pathp, argvp, envp;
	if (r->nr == SYS_execveat) {
		struct exec_state *es = t->exec;
		/* Our own rewritten call, exactly as armed: let it run. Only
		 * registers are compared; with a non-directory fd and
		 * AT_EMPTY_PATH, no string at that address names another file. */
		if (es && es->armed && (int)r->args[0] == es->guest_fd &&
		    r->args[1] == es->empty_ptr && r->args[4] == AT_EMPTY_PATH) {
			es->armed = false;
			return SYSRET_CONTINUE;
		}
		dirfd = (int)r->args[0], pathp = r->args[1], argvp = r->args[2];
		envp = r->args[3], flags = (int)r->args[4];
		if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -EINVAL;
	} else {
		pathp = r->args[0], argvp = r->args[1], envp = r->args[2];
	}
	if (t->exec)
		return -EBUSY;
	char path[PATH_MAX];
	int rc = req_path(r, pathp, path, flags & AT_EMPTY_PATH);
	if (rc < 0)
		return rc;
	_cleanup_free_ uint64_t *argv = NULL;
	size_t argc = 0;
	if ((rc = read_argv(r, argvp, &argv, &argc)) < 0)
		return rc;
	if ((rc = req_id_valid(r)) < 0)
		return SYSRET_DONE;
	unsigned lflags = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
	if (flags & AT_EMPTY_PATH)
		lflags |= LOOKUP_EMPTY;
	struct exec_plan *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->hostfd = -1;
	rc = plan_exec(t, dirfd, path, lflags, pl);
	if (rc < 0) {
		free(pl);
		return rc;
	}
	audit_exec(r, path, argv, argc);

	struct exec_state es = { 0 };
	struct ptrace_exec pe = {
		.tgid = t->proc->tgid,
		.hostfd = pl->hostfd,
		.argv = argvp,
		.envp = envp,
		.nprefix = pl->nstrs,
		.tail = argc > 1 ? argv + 1 : NULL,
		.ntail = argc > 1 ? argc - 1 : 0,
		.arm = exec_arm,
		.ctx = &es,
	};
	for (int i = 0; i < pl->nstrs; i++)
		pe.prefix[i] = pl->strs[i];
	pid_t tid = t->tid, tgid = t->proc->tgid;
	t->exec = &es;
	if (tid != tgid)
		task_exec_begin(t); /* it will come back on the leader's tid */
	sentry_unlock();
	rc = ptrace_exec_run(r, &pe);
	sentry_lock();
	if (tid != tgid)
		task_exec_end(t, rc == 0);
	close(pl->hostfd);
	/* The task may have gone (or changed tid) while we were unlocked. */
	struct task *now = task_find(tid);
	if (now && now->exec == &es)
		now->exec = NULL;
	current = now;
	if (rc == 0) {
		struct task *leader = task_find(tgid);
		struct proc *p = leader ? leader->proc : now ? now->proc : NULL;
		if (p) {
			char exe[PATH_MAX];
			if (vfs_path(vfs_root_mount()->root, pl->vn, exe, sizeof(exe), false) >= 0) {
				free(p->exe);
				p->exe = strdup(exe);
			}
			vn_unref(p->exe_vn);
			p->exe_vn = vn_ref(pl->vn);
		}
	}
	vn_unref(pl->vn);
	free(pl);
	if (r->replied)
		return SYSRET_DONE;
	return rc == -ESRCH ? SYSRET_DONE : rc;
}
