/* SPDX-License-Identifier: MIT */
/* Lifecycle hooks, run on the host by the moat command that reaches each
 * point of the lifecycle (create, start, run, delete), never by the
 * confined sentry: they are the engine's programs, as trusted as moat
 * itself. Each is a fork + execve of its absolute path (no PATH search)
 * with its args and env exactly as given, the state JSON on a pipe as its
 * stdin, our stdout and stderr, and its own session; a timeout kills it
 * with SIGKILL. The caller applies the spec's failure rules. */
#include "sentry/oci/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/oci/state.h"

static char **strings(struct json_object *a, const char *first)
{
	size_t n = a ? json_object_array_length(a) : 0;
	char **v = calloc(n + 2, sizeof(char *));
	if (!v)
		return NULL;
	size_t k = 0;
	if (!n && first)
		v[k++] = (char *)first;
	for (size_t i = 0; i < n; i++)
		v[k++] = (char *)json_object_get_string(json_object_array_get_idx(a, i));
	return v;
}

static char *state_json(const struct oci_state *st, const char *status, pid_t pid)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "ociVersion", json_object_new_string(st->version));
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "status", json_object_new_string(status));
	if (pid > 0)
		json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	if (st->annotations && json_object_object_length(st->annotations))
		json_object_object_add(o, "annotations", json_object_get(st->annotations));
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

static int run_one(struct json_object *h, const char *state, const int *nsfds, size_t nns,
		   char *why, size_t whylen)
{
	struct json_object *v = NULL, *args = NULL, *env = NULL;
	json_object_object_get_ex(h, "path", &v);
	const char *path = json_object_get_string(v);
	json_object_object_get_ex(h, "args", &args);
	json_object_object_get_ex(h, "env", &env);
	int64_t timeout = 0;
	if (json_object_object_get_ex(h, "timeout", &v))
		timeout = json_object_get_int64(v);
	_cleanup_free_ char **argv = strings(args, path);
	_cleanup_free_ char **envp = strings(env, NULL);
	if (!argv || !envp)
		return -ENOMEM;
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0)
		return neg_errno();
	int pidfd = -1;
	fflush(NULL);
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
	if (pid == 0) {
		(void)setsid();
		for (size_t i = 0; i < nns; i++)
			if (setns(nsfds[i], 0) < 0)
				_exit(126);
		if (dup2(pp[0], STDIN_FILENO) < 0)
			_exit(126);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(path, argv, envp);
		_exit(127);
	}
	close(pp[0]);
	if (pid < 0) {
		close(pp[1]);
		return neg_errno();
	}
	/* A hook that does not read its stdin must not block us: the state
	 * fits in the pipe. */
	(void)write_all(pp[1], state, strlen(state));
	close(pp[1]);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;
	do
		n = poll(&p, 1, timeout > 0 ? (int)(timeout * 1000) : -1);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		(void)waitpid(pid, NULL, 0);
		close(pidfd);
		snprintf(why, whylen, "timed out after %llds", (long long)timeout);
		return -ETIMEDOUT;
	}
	close(pidfd);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return neg_errno();
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, whylen, "signal: %s", strsignal(WTERMSIG(st)));
	return -EIO;
}

int oci_hooks_run(struct json_object *hooks, const char *kind, const struct oci_state *st,
		  const char *status, pid_t pid, pid_t init_pid, char *err, size_t errlen)
{
	struct json_object *list;
	if (!hooks || !json_object_object_get_ex(hooks, kind, &list) ||
	    json_object_get_type(list) != json_type_array || !json_object_array_length(list))
		return 0;
	_cleanup_free_ char *state = state_json(st, status, pid);
	if (!state)
		return -ENOMEM;
	/* The container's kinds: its network, IPC and UTS namespaces. Its
	 * mount namespace holds nothing (the guest's files are the sentry's
	 * VFS), its pid namespace would make the hook pid 1's sibling. */
	int nsfds[3] = { -1, -1, -1 };
	size_t nns = 0;
	if (!strcmp(kind, "createContainer") || !strcmp(kind, "startContainer")) {
		static const char *const ns[] = { "net", "ipc", "uts" };
		for (size_t i = 0; i < 3; i++) {
			char p[64];
			snprintf(p, sizeof(p), "/proc/%d/ns/%s", init_pid, ns[i]);
			if ((nsfds[nns] = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
				int r = neg_errno();
				snprintf(err, errlen, "%s hook: the container's %s namespace: %s", kind, ns[i],
					 strerror(-r));
				for (size_t k = 0; k < nns; k++)
					close(nsfds[k]);
				return r;
			}
			nns++;
		}
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < json_object_array_length(list); i++) {
		char why[128] = "";
		struct json_object *h = json_object_array_get_idx(list, i), *v;
		r = run_one(h, state, nsfds, nns, why, sizeof(why));
		if (r < 0) {
			json_object_object_get_ex(h, "path", &v);
			snprintf(err, errlen, "error running %s hook #%zu (%s): %s", kind, i,
				 json_object_get_string(v), why[0] ? why : strerror(-r));
		}
	}
	for (size_t k = 0; k < nns; k++)
		close(nsfds[k]);
	return r;
}

void oci_hooks_poststart(struct json_object *hooks, const struct oci_state *st)
{
	char err[PATH_MAX + 256];
	if (oci_hooks_run(hooks, "poststart", st, "running", st->sentry.pid, st->init.pid, err,
			  sizeof(err)) < 0)
		log_warnx("%s", err);
}

void oci_hooks_poststop(struct json_object *hooks, const struct oci_state *st)
{
	char err[PATH_MAX + 256];
	if (oci_hooks_run(hooks, "poststop", st, "stopped", 0, 0, err, sizeof(err)) < 0)
		log_warnx("%s", err);
}
