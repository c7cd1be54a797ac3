/* SPDX-License-Identifier: MIT */
/* `moat cp [--max-size N] SRC NAME:DST` and `moat cp NAME:SRC DST`: copy a
 * file or directory between the host and a named sandbox (or a running
 * container), as docker cp does: into DST if it is a directory, else as
 * DST.
 *
 * The data travels as a tar stream through `moat exec NAME`, as kubectl cp
 * does, so the sandbox's view needs tar and sh. Inside, the guest's own
 * tar reads or writes with the guest's rights. Out of the sandbox the
 * stream is hostile (the guest can replace its tar): moat relays at most
 * --max-size bytes of it, and the host's GNU tar extracts it into a new
 * directory beside DST without the capability to make device nodes,
 * without owners or permission bits from the archive (so no setuid file),
 * and with tar's own refusals of absolute and ".." names and its
 * placeholders for symlinks that leave the tree; only then is the one
 * entry it made renamed into place. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/cmd/cmd.h"
#include "sentry/oci/state.h"
#include "sentry/sandbox/limits.h"

#define CP_MAX_DEFAULT (1ULL << 30)

static void usage(FILE *f)
{
	fputs("Usage: moat cp [OPTIONS] HOST-PATH NAME:PATH\n"
	      "       moat cp [OPTIONS] NAME:PATH HOST-PATH\n"
	      "Copy a file or directory into or out of a named sandbox (moat run --name) or a\n"
	      "running container: into the destination if it is a directory, else as it.\n"
	      "The sandbox needs tar and sh in its view (the copy runs through moat exec).\n"
	      "\n"
	      "Options:\n"
	      "  --max-size N[k|m|g]   copy at most this much out of a sandbox (default 1g):\n"
	      "                        what comes out is the guest's to make\n",
	      f);
}

static int cp_fail(const char *fmt, const char *a, const char *b)
{
	fputs("moat cp: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

/* "NAME:PATH" with a valid name and a container of that name: the name
 * in name, the path returned. NULL: a host path. */
static const char *sandbox_side(const char *arg, char *name, size_t len)
{
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || (size_t)(colon - arg) >= len || arg[0] == '/' || arg[0] == '.')
		return NULL;
	memcpy(name, arg, (size_t)(colon - arg));
	name[colon - arg] = 0;
	return oci_id_valid(name) ? colon + 1 : NULL;
}

/* PATH's parent and last component, trailing slashes dropped: "/a/b/" is
 * ("/a", "b"). -EINVAL for "/" or an empty path, whose last component is
 * no name to copy. */
static int split_path(const char *path, char **dir, char **base)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	_cleanup_free_ char *d = strdup(p), *b = strdup(p);
	if (!d || !b)
		return -ENOMEM;
	const char *bn = basename(b);
	if (!*bn || !strcmp(bn, "/") || !strcmp(bn, ".") || !strcmp(bn, ".."))
		return -EINVAL;
	*dir = strdup(dirname(d));
	*base = strdup(bn);
	return *dir && *base ? 0 : -ENOMEM;
}

/* `moat [--root R] exec --end-with-client NAME ARGS...` with stdin and
 * stdout as given. The copy's process in the sandbox ends with that
 * client, and the client with us (PDEATHSIG): a moat cp killed, or one
 * that kills its client (past --max-size), leaves nothing running in
 * the sandbox (a guest's endless stream would otherwise run on there,
 * writing into a pipe nobody reads). */
static pid_t spawn_exec(const char *name, char *const *args, int in, int out)
{
	char *argv[32];
	size_t k = 0;
	argv[k++] = "moat";
	argv[k++] = "--root";
	argv[k++] = (char *)oci_globals.root;
	argv[k++] = "exec";
	argv[k++] = "--end-with-client";
	argv[k++] = (char *)name;
	for (size_t i = 0; args[i] && k < 31; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	fflush(NULL);
	pid_t parent = getpid();
	pid_t p = fork();
	if (p == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
			_exit(125);
		if ((in >= 0 && dup2(in, STDIN_FILENO) < 0) || (out >= 0 && dup2(out, STDOUT_FILENO) < 0))
			_exit(125);
		execv("/proc/self/exe", argv);
		_exit(125);
	}
	return p;
}

/* The host's tar: creating (trusted input, the user's own files) or
 * extracting the sandbox's stream with the hardening above. */
static pid_t spawn_tar(bool extract, const char *dir, const char *base, int in, int out)
{
	fflush(NULL);
	pid_t p = fork();
	if (p != 0)
		return p;
	if ((in >= 0 && dup2(in, STDIN_FILENO) < 0) || (out >= 0 && dup2(out, STDOUT_FILENO) < 0))
		_exit(125);
	if (!extract) {
		execlp("tar", "tar", "-cf", "-", "-C", dir, "--", base, (char *)NULL);
		_exit(127);
	}
	/* Root may still write where it likes, but never a device node:
	 * gone from the bounding set, the exec'd tar cannot have it. */
	if (prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(125);
	umask(022);
	execlp("tar", "tar", "-xf", "-", "-C", dir, "--no-same-owner", "--no-same-permissions",
	       "--no-overwrite-dir", (char *)NULL);
	_exit(127);
}

/* Copy from in to out, at most max bytes: 0, or -EFBIG past it. */
static int relay(int in, int out, uint64_t max)
{
	static char buf[1 << 16];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return neg_errno();
		if (n == 0)
			return 0;
		total += (uint64_t)n;
		if (total > max)
			return -EFBIG;
		int r = write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

static const char SCRIPT_IN[] =
	"set -e\n"
	"dst=$1 base=$2\n"
	"if [ -d \"$dst\" ]; then exec tar -xf - -C \"$dst\" --no-same-owner; fi\n"
	"tmp=$(mktemp -d \"$(dirname -- \"$dst\")/.moat-cp.XXXXXX\")\n"
	"if ! tar -xf - -C \"$tmp\" --no-same-owner; then rm -rf -- \"$tmp\"; exit 1; fi\n"
	"mv -f -- \"$tmp/$base\" \"$dst\" || { rm -rf -- \"$tmp\"; exit 1; }\n"
	"rmdir -- \"$tmp\"\n";

static int copy_in(const char *host, const char *name, const char *dst)
{
	_cleanup_free_ char *dir = NULL, *base = NULL;
	struct stat st;
	if (lstat(host, &st) < 0)
		return cp_fail("%s: %s", host, strerror(errno));
	if (split_path(host, &dir, &base) < 0)
		return cp_fail("%s: name a file or directory%s", host, "");
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cp_fail("pipe: %s%s", strerror(errno), "");
	char *args[] = { "sh", "-c", (char *)SCRIPT_IN, "sh", (char *)dst, base, NULL };
	pid_t tar = spawn_tar(false, dir, base, -1, p[1]);
	/* Its stdout carries nothing of the copy's. */
	_cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t ex = spawn_exec(name, args, p[0], null);
	close(p[0]);
	close(p[1]);
	int rt = wait_child_status(tar, -1), re = wait_child_status(ex, -1);
	if (rt != 0)
		return cp_fail("tar of %s failed on the host%s", host, "");
	if (re != 0)
		return cp_fail("extracting into %s:%s failed in the sandbox (it needs tar and sh)", name, dst);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static int copy_out(const char *name, const char *src, const char *host, uint64_t max)
{
	_cleanup_free_ char *dir = NULL, *base = NULL;
	if (src[0] != '/')
		return cp_fail("%s:%s: the path in the sandbox must be absolute", name, src);
	if (split_path(src, &dir, &base) < 0)
		return cp_fail("%s:%s: name a file or directory", name, src);
	/* Into an existing directory as itself; else as host, beside it. */
	struct stat st;
	bool into = stat(host, &st) == 0 && S_ISDIR(st.st_mode);
	_cleanup_free_ char *hdir = NULL, *hbase = NULL;
	if (!into && split_path(host, &hdir, &hbase) < 0)
		return cp_fail("%s: name a file or directory%s", host, "");
	char target[PATH_MAX], tmp[PATH_MAX];
	if (snprintf(target, sizeof(target), "%s/%s", host, base) >= (int)sizeof(target) ||
	    snprintf(tmp, sizeof(tmp), "%s/.moat-cp.XXXXXX", into ? host : hdir) >= (int)sizeof(tmp))
		return cp_fail("%s: %s", host, strerror(ENAMETOOLONG));
	/* A directory that is there already is merged into, as docker cp
	 * does: tar extracts straight into its parent. */
	bool merge = into && stat(target, &st) == 0 && S_ISDIR(st.st_mode);
	if (merge)
		snprintf(tmp, sizeof(tmp), "%s", host);
	else if (!mkdtemp(tmp))
		return cp_fail("%s: %s", tmp, strerror(errno));
	int a[2] = { -1, -1 }, b[2] = { -1, -1 };
	if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0) {
		if (!merge)
			rmdir(tmp);
		return cp_fail("pipe: %s%s", strerror(errno), "");
	}
	char *args[] = { "tar", "-cf", "-", "-C", dir, "--", base, NULL };
	pid_t ex = spawn_exec(name, args, -1, a[1]);
	pid_t tar = spawn_tar(true, tmp, NULL, b[0], -1);
	close(a[1]);
	close(b[0]);
	int rr = relay(a[0], b[1], max);
	close(a[0]);
	close(b[1]);
	/* Past the limit, or tar gave up (EPIPE): the sandbox's side is
	 * stopped rather than drained. Killing the client is what stops it:
	 * its hangup makes the sentry kill the process group it started
	 * (--end-with-client; a process in the sandbox otherwise outlives
	 * its client, and a guest's endless loop would run on). */
	if (rr < 0 && ex > 0)
		kill(ex, SIGKILL);
	int re = wait_child_status(ex, -1), rt = wait_child_status(tar, -1);
	int r = 0;
	char made[PATH_MAX + 2];
	snprintf(made, sizeof(made), "%s/%s", tmp, base);
	if (rr == -EFBIG)
		r = cp_fail(merge ? "%s:%s: more than --max-size; stopped (what came before it is there)"
				  : "%s:%s: more than --max-size; nothing copied",
			    name, src);
	else if (rt != 0)
		r = cp_fail(merge ? "%s:%s: tar refused part of what the sandbox sent (its message above)"
				  : "%s:%s: tar refused part of what the sandbox sent (its message above); "
				    "nothing copied",
			    name, src);
	else if (rr < 0 || re != 0)
		r = cp_fail("reading %s:%s in the sandbox failed (it needs tar)", name, src);
	else if (!merge && rename(made, into ? target : host) < 0)
		r = cp_fail("%s: %s", into ? target : host, strerror(errno));
	if (!merge)
		(void)nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return r;
}

int command_cp(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-size", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t max = CP_MAX_DEFAULT;
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'm' && limits_parse_size(optarg, &max) == 0 && max > 0)
			continue;
		usage(stderr);
		return 2;
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	const char *src = argv[optind], *dst = argv[optind + 1];
	/* A tar that stops reading is an error to report, not a SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	char sname[256], dname[256];
	const char *spath = sandbox_side(src, sname, sizeof(sname));
	const char *dpath = sandbox_side(dst, dname, sizeof(dname));
	if (!!spath == !!dpath)
		return cp_fail("one of %s and %s must be NAME:PATH, the other a host path", src, dst);
	struct oci_state st;
	const char *name = spath ? sname : dname;
	if (oci_state_load(name, &st) < 0)
		return cp_fail("%s: no such sandbox%s", name, "");
	enum oci_status s = oci_state_status(&st);
	oci_state_free(&st);
	if (s != OCI_RUNNING)
		return cp_fail("%s: not running (%s)", name, oci_status_name(s));
	return spath ? copy_out(sname, spath, dst, max) : copy_in(src, dname, dpath);
}
