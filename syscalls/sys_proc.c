/* SPDX-License-Identifier: MIT */
/* clone, fork, vfork: the sentry records what the new task inherits (fs state
 * shared or copied per CLONE_FS, creds) and lets the kernel do the clone.
 * The decision rests on the flags register alone, so CONTINUE is safe here;
 * namespace flags never get this far (the filter answers EPERM).
 * Also the audited denial used for refused syscalls. */
#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>

#include "sentry/kernel/audit.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers.h"
#include "syscalls/table.h"

long sys_clone(struct sysreq *r)
{
	struct task *t = r->task;
	struct proc *p = t->proc;
	uint64_t flags;
	switch (r->nr) {
	case SYS_fork:
		flags = SIGCHLD;
		break;
	case SYS_vfork:
		flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
		break;
	default:
		flags = r->args[0];
		break;
	}
	struct fs_state *fs = (flags & CLONE_FS) ? fs_state_ref(t->fs) : fs_state_copy(t->fs);
	if (!fs)
		return -ENOMEM;
	struct fs_state **slot = (flags & CLONE_THREAD) ? &p->thread_fs : &p->clone_fs;
	fs_state_unref(*slot);
	*slot = fs;
	cred_unref(p->clone_cred);
	p->clone_cred = cred_ref(t->cred);
	return SYSRET_CONTINUE;
}

long sys_deny(struct sysreq *r)
{
	const struct sys_entry *e = r->entry;
	int err = e && e->err ? e->err : ENOSYS;
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "syscall", json_object_new_string(sys_name(r->nr)));
	json_object_object_add(f, "nr", json_object_new_int(r->nr));
	json_object_object_add(f, "pid", json_object_new_int(r->task ? r->task->vtid : 0));
	struct json_object *args = json_object_new_array();
	for (int i = 0; i < 6; i++)
		json_object_array_add(args, json_object_new_uint64(r->args[i]));
	json_object_object_add(f, "args", args);
	json_object_object_add(f, "errno", json_object_new_int(err));
	audit_event("deny", f);
	return -err;
}
