/* SPDX-License-Identifier: MIT */
/* execve, execveat. The sentry resolves the program in its VFS, handles "#!"
 * itself (kernel semantics: one optional argument, nesting up to 4), checks
 * X_OK and noexec on the file itself, opens it, copies argv once, and has the
 * platform run execveat(fd, "", argv, envp, AT_EMPTY_PATH) with that argv
 * (req_exec: the path and argv sit where the guest cannot write them, and
 * what ran is checked at the exec event). The
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
#include "sentry/kernel/audit.h"
#include "sentry/kernel/elf.h"
#include "sentry/vfs/namei.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers.h"

#define MAX_ARGV 65536
#define MAX_ARG_STRLEN (32 * 4096)  /* the kernel's, NUL included */
#define MAX_ARGS_BYTES (6UL << 20)  /* the kernel's ceiling (3/4 of _STK_LIM) */
#define MAX_SCRIPT_DEPTH 4 /* as the kernel's binfmt_script */
#define AUDIT_ARGS 64

struct exec_state {
	bool armed;
	struct exec_call call;
	pid_t tid, tgid;
	struct vnode *vn;       /* the program */
	const char *path;       /* for an exec_killed record */
	const struct strbuf *args;
	size_t argc;
	pid_t vtid;
	struct task *task;      /* the caller (the dispatcher's reference) */
};

static void exec_arm(void *ctx, const struct exec_call *call)
{
	struct exec_state *es = ctx;
	sentry_lock();
	es->call = *call;
	es->armed = true;
	sentry_unlock();
}

/* Strings back to back, each NUL-terminated. */
struct strbuf {
	char *s;
	size_t len, cap;
};

static void strbuf_free(struct strbuf *b)
{
	free(b->s);
}

static int strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n > MAX_ARGS_BYTES)
		return -E2BIG;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns)
			return -ENOMEM;
		b->s = ns, b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	return 0;
}

/* Copy the guest's strings at ptrs[0..n) into b, each read once: these
 * copies are what is audited and what the new program gets. A page is read
 * whole and kept while the next string starts in it, so a contiguous argv
 * (the usual case) costs one read per page. */
static int read_strings(struct sysreq *r, const uint64_t *ptrs, size_t n, struct strbuf *b)
{
	char page[4096];
	uint64_t cached = 1; /* no page: not page aligned */
	for (size_t i = 0; i < n; i++) {
		uint64_t at = ptrs[i];
		size_t slen = 0;
		for (;;) {
			uint64_t pg = at & ~4095ULL;
			if (pg != cached) {
				ssize_t got = req_read(r, pg, page, sizeof(page));
				if (got < 0)
					return (int)got;
				cached = pg;
			}
			size_t off = at & 4095;
			const char *nul = memchr(page + off, 0, sizeof(page) - off);
			size_t take = nul ? (size_t)(nul - (page + off)) + 1 : sizeof(page) - off;
			if ((slen += take) > MAX_ARG_STRLEN)
				return -E2BIG;
			int rc = strbuf_add(b, page + off, take);
			if (rc < 0)
				return rc;
			at += take;
			if (nul)
				break;
		}
	}
	return 0;
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
		bool has_arg = false;
		int kind = exec_probe(fd, interp, sizeof(interp), arg, sizeof(arg), &has_arg);
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
		/* "#!" and nothing else names "": the kernel opens that as the
		 * working directory, which it cannot run. */
		if (!interp[0])
			return -EACCES;
		if (depth == MAX_SCRIPT_DEPTH)
			return -ELOOP;
		/* argv becomes: interp [arg] script argv[1..]; pushed in reverse.
		 * At deeper levels the script is the previous interpreter, which
		 * is already there in place of argv[0]. */
		if (depth == 0)
			memcpy(pre[npre++], shown, PATH_MAX);
		if (has_arg)
			memcpy(pre[npre++], arg, PATH_MAX);
		memcpy(pre[npre++], interp, PATH_MAX);
		memcpy(cur, interp, PATH_MAX);
		dirfd = AT_FDCWD;
		lflags = LOOKUP_FOLLOW;
		if (npre > 2 * MAX_SCRIPT_DEPTH)
			return -ELOOP;
	}
}

/* The guest's request, from the copies the new program gets. */
static void audit_exec(pid_t vtid, const char *type, const char *path,
		       const struct strbuf *args, size_t argc)
{
	if (sentry.audit_fd < 0)
		return;
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "pid", json_object_new_int(vtid));
	json_object_object_add(f, "path", json_object_new_string(path));
	struct json_object *a = json_object_new_array();
	const char *s = args->s;
	for (size_t i = 0; i < argc && i < AUDIT_ARGS; i++, s += strlen(s) + 1)
		json_object_array_add(a, json_object_new_string(s));
	json_object_object_add(f, "argv", a);
	audit_event(type, f);
}

/* The argv the program runs with: for a #! chain the interpreters'
 * strings, then the guest's argv[1..] (argv[0] gives way to the script's
 * name, as in the kernel's binfmt_script); else the guest's argv, or [""]
 * when it was empty (as the kernel does since 5.18). */
static int build_args(const struct exec_plan *pl, const struct strbuf *g, size_t argc,
		      struct strbuf *ret, size_t *ret_argc)
{
	struct strbuf b = { 0 };
	size_t n = 0;
	int rc = 0;
	if (!pl->nstrs && !argc)
		rc = strbuf_add(&b, "", 1), n = 1;
	for (int i = 0; rc == 0 && i < pl->nstrs; i++, n++)
		rc = strbuf_add(&b, pl->strs[i], strlen(pl->strs[i]) + 1);
	size_t skip = pl->nstrs && argc ? strlen(g->s) + 1 : 0;
	if (rc == 0 && argc)
		rc = strbuf_add(&b, g->s + skip, g->len - skip);
	if (rc < 0) {
		strbuf_free(&b);
		return rc;
	}
	*ret = b;
	*ret_argc = n + (argc ? argc - !!pl->nstrs : 0);
	return 0;
}

/* Before the thread runs again: it may exec again at once, and the new
 * program may read /proc/self/exe at once. Before a kill: its parent may
 * see it at once, and the sandbox end. */
static void exec_finish(void *ctx, int result)
{
	struct exec_state *es = ctx;
	bool ran = result == 0;
	if (result == REQ_EXEC_KILLED) {
		/* A sibling thread made the kernel run another file or argv
		 * than the one checked and audited. */
		audit_exec(es->vtid, "exec_killed", es->path, es->args, es->argc);
		return;
	}
	sentry_lock();
	struct task *t = task_find(es->tid);
	if (t && t->exec == es)
		t->exec = NULL;
	if (ran && es->tid != es->tgid) {
		/* Exec from a non-leader thread: the new program runs on the
		 * leader's tid, with this thread's credentials and fs state. Hand
		 * them over now, before it runs: done later, its first calls
		 * would find the old leader's task (and credentials). */
		task_exec_end(es->task, true);
	}
	if (ran) {
		struct task *leader = task_find(es->tgid);
		struct proc *p = leader ? leader->proc : t ? t->proc : NULL;
		if (p) {
			char exe[PATH_MAX];
			if (vfs_path(vfs_root_mount()->root, es->vn, exe, sizeof(exe), false) >= 0) {
				free(p->exe);
				p->exe = strdup(exe);
			}
			vn_unref(p->exe_vn);
			p->exe_vn = vn_ref(es->vn);
			/* A new memory of its own: no arena in it. */
			exec_arena_unref(p->arena);
			p->arena = NULL;
			p->arena_tries = 0;
			p->mm_shared = false;
			p->nondumpable = false;
			p->sig_handled_known = false;
		}
	}
	sentry_unlock();
}

long sys_execve(struct sysreq *r)
{
	struct task *t = r->task;
	int dirfd = AT_FDCWD, flags = 0;
	uint64_t pathp, argvp, envp;
	if (r->nr == SYS_execveat) {
		struct exec_state *es = t->exec;
		/* Our own rewritten call, exactly as armed: let it run. Only
		 * registers are compared: the "" and argv they point to are in a
		 * sealed memfd the guest maps read-only, and whatever a sibling
		 * thread does meanwhile (dup2 over the fd, another mapping at
		 * that address) is caught at the exec event (req_exec). */
		if (es && es->armed && (int)r->args[0] == es->call.fd &&
		    r->args[1] == es->call.path && r->args[2] == es->call.argv &&
		    r->args[3] == es->call.envp && r->args[4] == AT_EMPTY_PATH) {
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
	_cleanup_(strbuf_free) struct strbuf gargs = { 0 };
	if ((rc = read_strings(r, argv, argc, &gargs)) < 0)
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
	_cleanup_(strbuf_free) struct strbuf args = { 0 };
	size_t nargs = 0;
	if (rc == 0 && (rc = build_args(pl, &gargs, argc, &args, &nargs)) < 0) {
		close(pl->hostfd);
		vn_unref(pl->vn);
	}
	if (rc < 0) {
		free(pl);
		return rc;
	}
	pid_t vtid = t->vtid;
	audit_exec(vtid, "exec", path, &gargs, argc);

	pid_t tid = t->tid, tgid = t->proc->tgid;
	struct exec_state es = {
		.tid = tid, .tgid = tgid, .vn = pl->vn,
		.path = path, .args = &gargs, .argc = argc, .vtid = vtid, .task = t,
	};
	struct exec_image img = {
		.tgid = tgid,
		.hostfd = pl->hostfd,
		.args = args.s,
		.args_len = args.len,
		.argc = nargs,
		.envp = envp,
		.arena = exec_arena_ref(t->proc->arena),
		.mm_shared = t->proc->mm_shared,
		.arm = exec_arm,
		.finish = exec_finish,
		.ctx = &es,
	};
	t->exec = &es;
	if (tid != tgid)
		task_exec_begin(t); /* it will come back on the leader's tid */
	sentry_unlock();
	rc = req_exec(r, &img);
	if (rc == 0 || (rc < 0 && rc != -ESRCH && r->replied))
		req_note_result(r, rc);
	sentry_lock();
	if (img.arena_stale) {
		/* Its memory lost the arena: forget it (the process, or the
		 * leader's after an exec from another thread, is t's). */
		struct proc *p = t->proc;
		if (p->arena == img.arena) {
			exec_arena_unref(p->arena);
			p->arena = NULL;
		}
	}
	exec_arena_unref(img.arena);
	if (tid != tgid)
		task_exec_end(t, rc == 0);
	close(pl->hostfd);
	/* The task may have gone (or changed tid) while we were unlocked. */
	struct task *now = task_find(tid);
	if (now && now->exec == &es)
		now->exec = NULL;
	current = now;
	vn_unref(pl->vn);
	free(pl);
	if (r->replied)
		return SYSRET_DONE;
	return rc == -ESRCH ? SYSRET_DONE : rc;
}
