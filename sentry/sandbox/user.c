/* SPDX-License-Identifier: MIT */
/* --user: names and groups from the sandbox's own /etc/passwd and
 * /etc/group, never the host's NSS (which could name users the sandbox does
 * not have, or ask a network service). The files are read before the
 * sandbox starts, with the path resolved inside its root (RESOLVE_IN_ROOT:
 * a --rootfs's symlinks cannot lead out of it); what the guest changes in
 * them later does not matter, as in Docker, where the user is resolved
 * once when the container starts. */
#include "sentry/sandbox/user.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

#define DB_MAX (4 << 20) /* a user database larger than this is refused */
#define MAX_GROUPS 32    /* struct cred's supplementary groups */

/* The whole of root/rel, NUL-terminated; -ENOENT if it is not there. */
static int read_db(const char *root, const char *rel, char **ret)
{
	_cleanup_close_ int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return neg_errno();
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY, .resolve = RESOLVE_IN_ROOT };
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof(how));
	if (fd < 0)
		return neg_errno();
	_cleanup_free_ char *buf = malloc(DB_MAX + 1);
	if (!buf)
		return -ENOMEM;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, DB_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return neg_errno();
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == DB_MAX)
			return -EFBIG;
	}
	buf[len] = 0;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Split a colon-separated line into at most max fields (in place). */
static int fields(char *line, char **f, int max)
{
	int n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

static bool parse_id(const char *s, unsigned *ret)
{
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return false;
	unsigned long v = strtoul(s, NULL, 10);
	if (v >= 0xffffffffUL)
		return false; /* -1 means "unchanged" to set*id */
	*ret = (unsigned)v;
	return true;
}

struct pwent {
	bool found;
	char name[256];
	unsigned uid, gid;
	char home[4096];
};

/* The passwd entry whose name is `name` (or, name NULL, whose uid is uid). */
static void find_user(char *db, const char *name, unsigned uid, struct pwent *ret)
{
	for (char *line = strtok(db, "\n"); line; line = strtok(NULL, "\n")) {
		char *f[7];
		unsigned u, g;
		if (fields(line, f, 7) < 7 || !parse_id(f[2], &u) || !parse_id(f[3], &g))
			continue;
		if (name ? strcmp(f[0], name) != 0 : u != uid)
			continue;
		ret->found = true;
		snprintf(ret->name, sizeof(ret->name), "%s", f[0]);
		ret->uid = u;
		ret->gid = g;
		snprintf(ret->home, sizeof(ret->home), "%s", f[5]);
		return;
	}
}

/* A group's gid by name; -ENOENT if there is none. */
static int find_group(char *db, const char *name, unsigned *ret)
{
	for (char *line = strtok(db, "\n"); line; line = strtok(NULL, "\n")) {
		char *f[4];
		unsigned g;
		if (fields(line, f, 4) >= 3 && !strcmp(f[0], name) && parse_id(f[2], &g)) {
			*ret = g;
			return 0;
		}
	}
	return -ENOENT;
}

/* Every group listing `user` among its members, after `primary`. */
static int member_groups(char *db, const char *user, unsigned primary, gid_t *groups, size_t *n)
{
	groups[(*n)++] = primary;
	for (char *line = strtok(db, "\n"); line; line = strtok(NULL, "\n")) {
		char *f[4];
		unsigned g;
		if (fields(line, f, 4) < 4 || !parse_id(f[2], &g))
			continue;
		char *save = NULL;
		for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save)) {
			if (strcmp(m, user))
				continue;
			bool dup = false;
			for (size_t i = 0; i < *n; i++)
				dup |= groups[i] == g;
			if (dup)
				break;
			if (*n == MAX_GROUPS)
				return -E2BIG;
			groups[(*n)++] = g;
			break;
		}
	}
	return 0;
}

int user_resolve(struct sandbox_config *cfg, const char *spec, char *why, size_t len)
{
	const char *root = cfg->rootfs ? cfg->rootfs : "/";
	_cleanup_free_ char *uspec = strdup(spec);
	if (!uspec)
		return -ENOMEM;
	char *gspec = strchr(uspec, ':');
	if (gspec)
		*gspec++ = 0;
	if (!*uspec || (gspec && !*gspec)) {
		snprintf(why, len, "--user %s: expected USER[:GROUP], names or numbers", spec);
		return -EINVAL;
	}
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	int r = read_db(root, "etc/passwd", &passwd);
	if (r < 0 && r != -ENOENT) {
		snprintf(why, len, "--user %s: cannot read the sandbox's /etc/passwd: %s", spec, strerror(-r));
		return r;
	}
	r = read_db(root, "etc/group", &group);
	if (r < 0 && r != -ENOENT) {
		snprintf(why, len, "--user %s: cannot read the sandbox's /etc/group: %s", spec, strerror(-r));
		return r;
	}
	struct pwent pw = { 0 };
	unsigned uid;
	bool numeric = parse_id(uspec, &uid);
	if (passwd) {
		_cleanup_free_ char *copy = strdup(passwd);
		if (!copy)
			return -ENOMEM;
		find_user(copy, numeric ? NULL : uspec, uid, &pw);
	}
	if (!numeric && !pw.found) {
		snprintf(why, len, "--user %s: no user '%s' in the sandbox's /etc/passwd", spec, uspec);
		return -ENOENT;
	}
	if (pw.found)
		uid = pw.uid;
	unsigned gid = pw.found ? pw.gid : 0;
	if (gspec && !parse_id(gspec, &gid)) {
		_cleanup_free_ char *copy = group ? strdup(group) : NULL;
		if (!copy || find_group(copy, gspec, &gid) < 0) {
			snprintf(why, len, "--user %s: no group '%s' in the sandbox's /etc/group", spec, gspec);
			return -ENOENT;
		}
	}
	gid_t groups[MAX_GROUPS];
	size_t n = 0;
	if (pw.found && group) {
		_cleanup_free_ char *copy = strdup(group);
		if (!copy)
			return -ENOMEM;
		if ((r = member_groups(copy, pw.name, gid, groups, &n)) < 0) {
			snprintf(why, len, "--user %s: member of more than %d groups", spec, MAX_GROUPS);
			return r;
		}
	}
	gid_t *g = NULL;
	if (n) {
		g = calloc(n, sizeof(gid_t));
		if (!g)
			return -ENOMEM;
		memcpy(g, groups, n * sizeof(gid_t));
	}
	char *home = strdup(pw.found && pw.home[0] ? pw.home : "/");
	if (!home) {
		free(g);
		return -ENOMEM;
	}
	free(cfg->groups);
	free(cfg->home);
	cfg->uid = uid;
	cfg->gid = gid;
	cfg->groups = g;
	cfg->ngroups = n;
	cfg->home = home;
	return 0;
}
