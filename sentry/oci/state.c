/* SPDX-License-Identifier: MIT */
#include "sentry/oci/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

struct oci_globals oci_globals = { .root = OCI_DEFAULT_ROOT, .log_format = LOG_TEXT };

int oci_log_open(void)
{
	enum log_format fmt = oci_globals.log_format;
	int fd = STDERR_FILENO;
	if (oci_globals.log) {
		/* Kept open for the process's life (and the daemonized sentry's:
		 * its setup errors go there). */
		fd = open(oci_globals.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0) {
			int r = neg_errno();
			fprintf(stderr, "moat: --log %s: %s\n", oci_globals.log, strerror(-r));
			return r;
		}
	}
	log_init("moat", oci_globals.debug ? 2 : 0);
	log_set_output(fd, fmt);
	return 0;
}

int oci_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_errorx("%s", msg);
	if (!log_is_stderr())
		fprintf(stderr, "%s\n", msg);
	return 1;
}

bool oci_id_valid(const char *id)
{
	if (!*id || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '_' || *c == '+' || *c == '-' || *c == '.'))
			return false;
	return strlen(id) <= 1024;
}

int oci_path(char *buf, size_t len, const char *id, const char *name)
{
	int n = name ? snprintf(buf, len, "%s/%s/%s", oci_globals.root, id, name)
		     : snprintf(buf, len, "%s/%s", oci_globals.root, id);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void oci_time_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char frac[16] = "";
	if (ts.tv_nsec) {
		/* Go prints the fraction without its trailing zeros. */
		snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
		for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = 0;
	}
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s%sZ", base, frac);
}

/* ---- processes ------------------------------------------------------------ */

int oci_proc_read(pid_t pid, struct oci_proc *ret)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ssize_t n = read_file_at(AT_FDCWD, path, &text, 4096);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	/* The name may hold anything, ")" included: fields start after the
	 * last ")". Field 3 is the state, field 22 the start time. */
	char *p = strrchr(text, ')');
	if (!p)
		return -EIO;
	char state = 0;
	uint64_t start = 0;
	int field = 2;
	for (char *save, *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		field++;
		if (field == 3)
			state = tok[0];
		if (field == 22) {
			start = strtoull(tok, NULL, 10);
			break;
		}
	}
	if (field != 22)
		return -EIO;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	*ret = (struct oci_proc){ pid, start };
	return 0;
}

bool oci_proc_alive(const struct oci_proc *p)
{
	struct oci_proc now;
	return p->pid > 0 && oci_proc_read(p->pid, &now) == 0 && now.start == p->start;
}

/* ---- state.json ------------------------------------------------------------- */

static int get_string(struct json_object *o, const char *key, char **ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || json_object_get_type(v) != json_type_string)
		return -EBADMSG;
	return (*ret = strdup(json_object_get_string(v))) ? 0 : -ENOMEM;
}

static int get_proc(struct json_object *o, const char *key, struct oci_proc *ret)
{
	struct json_object *v, *pid, *start;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_object_get_ex(v, "pid", &pid) ||
	    !json_object_object_get_ex(v, "start", &start))
		return -EBADMSG;
	*ret = (struct oci_proc){ (pid_t)json_object_get_int(pid), (uint64_t)json_object_get_int64(start) };
	return 0;
}

static struct json_object *proc_json(const struct oci_proc *p)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "start", json_object_new_int64((int64_t)p->start));
	return o;
}

int oci_state_load(const char *id, struct oci_state *ret)
{
	char path[PATH_MAX];
	int r = oci_path(path, sizeof(path), id, "state.json");
	if (r < 0)
		return r;
	_cleanup_free_ char *text = NULL;
	ssize_t n = read_file_at(AT_FDCWD, path, &text, 1 << 20);
	if (n < 0)
		return n == -ENOTDIR ? -ENOENT : (int)n;
	struct json_object *o = json_tokener_parse(text);
	if (!o)
		return -EBADMSG;
	struct oci_state st = { 0 };
	struct json_object *a;
	if ((r = get_string(o, "id", &st.id)) < 0 || (r = get_string(o, "ociVersion", &st.version)) < 0 ||
	    (r = get_string(o, "bundle", &st.bundle)) < 0 || (r = get_string(o, "rootfs", &st.rootfs)) < 0 ||
	    (r = get_string(o, "created", &st.created)) < 0 || (r = get_proc(o, "sentry", &st.sentry)) < 0 ||
	    (r = get_proc(o, "init", &st.init)) < 0 || (r = get_proc(o, "gofer", &st.gofer)) < 0) {
		json_object_put(o);
		oci_state_free(&st);
		return r;
	}
	st.annotations = json_object_object_get_ex(o, "annotations", &a) &&
					 json_object_get_type(a) == json_type_object
				 ? json_object_get(a)
				 : json_object_new_object();
	if (json_object_object_get_ex(o, "hooks", &a) && json_object_get_type(a) == json_type_object)
		st.hooks = json_object_get(a);
	json_object_put(o);
	*ret = st;
	return 0;
}

int oci_state_save(const struct oci_state *st)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int r;
	if ((r = oci_path(path, sizeof(path), st->id, "state.json")) < 0 ||
	    (r = oci_path(tmp, sizeof(tmp), st->id, "state.json.tmp")) < 0)
		return r;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "ociVersion", json_object_new_string(st->version));
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs));
	json_object_object_add(o, "created", json_object_new_string(st->created));
	json_object_object_add(o, "sentry", proc_json(&st->sentry));
	json_object_object_add(o, "init", proc_json(&st->init));
	json_object_object_add(o, "gofer", proc_json(&st->gofer));
	json_object_object_add(o, "annotations", json_object_get(st->annotations));
	if (st->hooks)
		json_object_object_add(o, "hooks", json_object_get(st->hooks));
	const char *text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		r = neg_errno();
	else if ((r = write_all(fd, text, strlen(text))) == 0 && fsync(fd) < 0)
		r = neg_errno();
	json_object_put(o);
	if (r == 0 && rename(tmp, path) < 0)
		r = neg_errno();
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

void oci_state_free(struct oci_state *st)
{
	free(st->id);
	free(st->version);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	json_object_put(st->annotations);
	json_object_put(st->hooks);
	*st = (struct oci_state){ 0 };
}

enum oci_status oci_state_status(const struct oci_state *st)
{
	if (!oci_proc_alive(&st->sentry))
		return OCI_STOPPED;
	char fifo[PATH_MAX];
	struct stat s;
	if (oci_path(fifo, sizeof(fifo), st->id, "exec.fifo") == 0 && lstat(fifo, &s) == 0)
		return OCI_CREATED;
	/* `moat pause` keeps this file while the container is paused. */
	if (oci_path(fifo, sizeof(fifo), st->id, "paused") == 0 && lstat(fifo, &s) == 0)
		return OCI_PAUSED;
	return OCI_RUNNING;
}

const char *oci_status_name(enum oci_status s)
{
	return s == OCI_CREATED ? "created" : s == OCI_RUNNING ? "running" : s == OCI_PAUSED ? "paused" : "stopped";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct json_object *oci_state_view(const struct oci_state *st, enum oci_status s, const char *owner)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "ociVersion", json_object_new_string(st->version));
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "pid", json_object_new_int(s == OCI_STOPPED ? 0 : st->sentry.pid));
	json_object_object_add(o, "status", json_object_new_string(oci_status_name(s)));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs));
	json_object_object_add(o, "created", json_object_new_string(st->created));
	/* A Go map: printed with its keys sorted, left out when empty. */
	size_t n = (size_t)json_object_object_length(st->annotations), k = 0;
	if (n) {
		_cleanup_free_ const char **keys = calloc(n, sizeof(char *));
		struct json_object *a = json_object_new_object();
		if (keys) {
			json_object_object_foreach(st->annotations, key, val) {
				(void)val;
				keys[k++] = key;
			}
			qsort(keys, k, sizeof(char *), cmp_str);
			for (size_t i = 0; i < k; i++)
				json_object_object_add(
					a, keys[i],
					json_object_get(json_object_object_get(st->annotations, keys[i])));
		}
		json_object_object_add(o, "annotations", a);
	}
	json_object_object_add(o, "owner", json_object_new_string(owner));
	return o;
}

int oci_state_remove(const char *id)
{
	char dir[PATH_MAX];
	int r = oci_path(dir, sizeof(dir), id, NULL);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : neg_errno();
	/* A v1 freezer cgroup `moat pause` made (container.c): empty once
	 * the container is gone. */
	_cleanup_free_ char *freezer = NULL;
	if (read_file_at(dfd, "freezer", &freezer, PATH_MAX) > 0 &&
	    !strncmp(freezer, "/sys/fs/cgroup/", 15) && !strstr(freezer, "/../"))
		(void)rmdir(freezer);
	/* Only files live there (state.json, its temporary, exec.fifo,
	 * exec.sock, paused, freezer). */
	_cleanup_(closedirp) DIR *d = fdopendir(dfd);
	if (!d)
		return neg_errno();
	int fd = TAKE_FD(dfd);
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
			return neg_errno();
	}
	return rmdir(dir) < 0 && errno != ENOENT ? neg_errno() : 0;
}
