/* SPDX-License-Identifier: MIT */
#include "sentry/sandbox/config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/sandbox/limits.h"
#include "sentry/vfs/vfs.h"

const char *const default_system_dirs[] = {
	"usr", "etc", "bin", "sbin", "lib", "lib64", "lib32", "libx32", NULL,
};

/* What the default view shows of the host's /etc: the files programs read
 * (name service, dynamic linker, locale and time zone, certificates, shell
 * start-up, language runtimes and tools), nothing that describes the host's
 * services, users' secrets or administration (cron, systemd, pam, sudo,
 * ssh host keys, network and VPN configuration, databases, fstab...).
 * Names absent on the host are simply absent. An allowlist, because a
 * denylist can never name every secret a host keeps; what is shown still
 * obeys the host-permission rule (MNT_HOSTPERM): only what any user of the
 * host may read. --rootfs / shows the whole host root instead. */
const char *const etc_allow[] = {
	/* name service, users, networking basics */
	"passwd", "group", "nsswitch.conf", "host.conf", "gai.conf", "hosts", "hostname",
	"resolv.conf", "machine-id", "services", "protocols", "rpc", "networks", "ethertypes",
	"netconfig", "ldap", "gss",
	/* dynamic linker, locale, time */
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "locale.alias",
	"locale.gen", "locale.conf", "default", "environment", "environment.d",
	/* shells and terminals */
	"profile", "profile.d", "bash.bashrc", "bash_completion.d", "inputrc", "shells", "skel",
	"login.defs", "terminfo", "mtab",
	/* certificates */
	"ssl", "ca-certificates", "ca-certificates.conf", "pki", "crypto-policies",
	/* the distribution and its package tools */
	"debian_version", "os-release", "lsb-release", "issue", "alternatives", "dpkg", "apt",
	"debconf.conf", "ucf.conf", "adduser.conf", "deluser.conf",
	/* language runtimes and tools */
	"python3", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "perl",
	"pip.conf", "npmrc", "gitconfig", "vim", "emacs", "nanorc", "wgetrc", "mime.types",
	"mailcap", "magic", "magic.mime", "manpath.config", "xattr.conf", "xdg", "fonts", "xml",
	"sgml", "groff", "java-17-openjdk", "java-21-openjdk", "maven", "iproute2", "gdb",
	"debuginfod", "ssh", "fpc.cfg", "gnucobol", "gprofng.rc", "glvnd", "papersize", "R",
	"ImageMagick-6", "texmf", "subversion", "mercurial", "ruby", "php", "dconf", "gtk-2.0",
	"gtk-3.0", "X11",
	NULL,
};

/* Secrets a sandbox never needs, and files that would name the host. The
 * sandbox gets its own hosts, hostname, resolv.conf and machine-id. */
const char *const etc_masks[] = {
	"shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "sudoers.d", "ssl/private",
	"security/opasswd", "krb5.keytab", ".pwd.lock", "subuid-", "subgid-", "ssh/ssh_host_rsa_key",
	"ssh/ssh_host_ecdsa_key", "ssh/ssh_host_ed25519_key", "ssh/ssh_host_dsa_key",
	"docker", "containers/auth.json", NULL,
};

int config_add_env(struct sandbox_config *c, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return -EINVAL;
	size_t klen = eq - kv + 1;
	char *copy = strdup(kv);
	if (!copy)
		return -ENOMEM;
	/* A later --env K=V replaces an earlier K. */
	for (size_t i = 0; i < c->nenv; i++)
		if (!strncmp(c->env[i], kv, klen)) {
			free(c->env[i]);
			c->env[i] = copy;
			return 0;
		}
	char **n = realloc(c->env, (c->nenv + 2) * sizeof(*n));
	if (!n) {
		free(copy);
		return -ENOMEM;
	}
	c->env = n;
	c->env[c->nenv++] = copy;
	c->env[c->nenv] = NULL;
	return 0;
}

/* "SRC:DST[:ro|:rw]" for binds (read-only by default), "DST" for tmpfs. */
/* One tmpfs option (Docker's --tmpfs, OCI's mount options). */
static int tmpfs_option(struct mount_spec *m, const char *o)
{
	if (!strncmp(o, "size=", 5)) {
		int r = limits_parse_size(o + 5, &m->size);
		if (r == 0 && m->size < 4096)
			r = -EINVAL; /* less than a page holds nothing */
		return r;
	}
	if (!strncmp(o, "mode=", 5)) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(o + 5, &end, 8);
		if (errno || !o[5] || *end || v > 07777)
			return -EINVAL;
		m->mode = (mode_t)v;
		return 0;
	}
	if (!strcmp(o, "ro"))
		m->flags |= MNT_RDONLY;
	else if (!strcmp(o, "rw"))
		m->flags &= ~MNT_RDONLY;
	else if (!strcmp(o, "noexec"))
		m->flags |= MNT_NOEXEC;
	else if (!strcmp(o, "exec"))
		m->flags &= ~MNT_NOEXEC;
	else if (strcmp(o, "nosuid") && strcmp(o, "nodev") && strcmp(o, "strictatime") &&
		 strcmp(o, "relatime") && strcmp(o, "noatime") && strcmp(o, "tmpcopyup"))
		return -EINVAL;
	return 0;
}

static int mount_push(struct sandbox_config *c, struct mount_spec *m)
{
	struct mount_spec *n = realloc(c->mounts, (c->nmounts + 1) * sizeof(*n));
	if (!n) {
		free(m->src);
		free(m->dst);
		return -ENOMEM;
	}
	c->mounts = n;
	c->mounts[c->nmounts++] = *m;
	return 0;
}

int config_add_tmpfs(struct sandbox_config *c, const char *dst, const char *const *opts, size_t nopts)
{
	struct mount_spec m = { .kind = MOUNT_TMPFS, .mode = 01777 };
	if (dst[0] != '/')
		return -EINVAL;
	for (size_t i = 0; i < nopts; i++) {
		int r = tmpfs_option(&m, opts[i]);
		if (r < 0)
			return r;
	}
	if (!(m.dst = strdup(dst)))
		return -ENOMEM;
	return mount_push(c, &m);
}

int config_add_mount(struct sandbox_config *c, enum mount_kind kind, const char *spec)
{
	struct mount_spec m = { .kind = kind, .ro = true };
	_cleanup_free_ char *s = strdup(spec);
	if (!s)
		return -ENOMEM;
	if (kind == MOUNT_SOCKET) {
		char *dst = strchr(s, ':');
		if (!dst || s[0] != '/' || dst[1] != '/')
			return -EINVAL;
		*dst++ = 0;
		m.src = strdup(s);
		m.dst = strdup(dst);
	} else if (kind == MOUNT_BIND) {
		char *dst = strchr(s, ':');
		if (!dst)
			return -EINVAL;
		*dst++ = 0;
		char *opt = strchr(dst, ':');
		if (opt) {
			*opt++ = 0;
			if (!strcmp(opt, "rw"))
				m.ro = false;
			else if (strcmp(opt, "ro"))
				return -EINVAL;
		}
		if (s[0] != '/' || dst[0] != '/')
			return -EINVAL;
		m.src = strdup(s);
		m.dst = strdup(dst);
	} else {
		char *opts = strchr(s, ':');
		if (opts)
			*opts++ = 0;
		const char *list[16];
		size_t n = 0;
		for (char *save, *o = opts ? strtok_r(opts, ",", &save) : NULL; o;
		     o = strtok_r(NULL, ",", &save)) {
			if (n == ARRAY_SIZE(list))
				return -EINVAL;
			list[n++] = o;
		}
		return config_add_tmpfs(c, s, list, n);
	}
	struct mount_spec *n = realloc(c->mounts, (c->nmounts + 1) * sizeof(*n));
	if (!n || !m.dst || (kind != MOUNT_TMPFS && !m.src)) {
		free(m.src);
		free(m.dst);
		if (n)
			c->mounts = n;
		return -ENOMEM;
	}
	c->mounts = n;
	c->mounts[c->nmounts++] = m;
	return 0;
}

static int parse_id(const char *s, uint32_t *ret)
{
	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v >= UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* A user's primary group (never root's), else the uid's own number. */
static gid_t primary_gid(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	return pw && pw->pw_gid != 0 ? pw->pw_gid : (gid_t)uid;
}

int config_parse_owner(const char *spec, uid_t *ret_uid, gid_t *ret_gid)
{
	_cleanup_free_ char *s = strdup(spec);
	if (!s)
		return -ENOMEM;
	char *colon = strchr(s, ':');
	if (colon)
		*colon++ = 0;
	uint32_t uid, gid;
	if (parse_id(s, &uid) < 0 || (colon && parse_id(colon, &gid) < 0))
		return -EINVAL;
	*ret_uid = uid;
	*ret_gid = colon ? gid : primary_gid(uid);
	return 0;
}

int config_check_binds(struct sandbox_config *c, char *buf, size_t len)
{
	for (size_t i = 0; i < c->nmounts; i++) {
		struct mount_spec *m = &c->mounts[i];
		struct stat st;
		if (m->kind == MOUNT_SOCKET) {
			if (stat(m->src, &st) < 0) {
				int err = errno;
				snprintf(buf, len, "--bind-socket %s: %s", m->src, strerror(err));
				return -err;
			}
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(buf, len, "--bind-socket %s: not a unix socket", m->src);
				return -ENOTSOCK;
			}
			continue;
		}
		if (m->kind != MOUNT_BIND)
			continue;
		if (stat(m->src, &st) < 0) {
			int err = errno;
			snprintf(buf, len, "--bind %s: %s", m->src, strerror(err));
			return -err;
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
			snprintf(buf, len, "--bind %s: neither a directory nor a regular file", m->src);
			return -ENOTDIR;
		}
		m->file = S_ISREG(st.st_mode);
		if (m->file && !strcmp(m->dst, "/")) {
			snprintf(buf, len, "--bind %s:/: a file cannot be the root", m->src);
			return -EISDIR;
		}
		if (m->ro)
			continue;
		if (c->bind_owner_set) {
			m->owner_uid = c->bind_uid;
			m->owner_gid = c->bind_gid;
			continue;
		}
		/* Through a file bind nothing is ever made (the gofer serves
		 * it alone, in a read-only directory of its own): an owner
		 * for the rule's sake, never used. */
		if (m->file && (st.st_uid == 0 || st.st_gid == 0)) {
			m->owner_uid = m->owner_gid = 65534;
			continue;
		}
		if (st.st_uid == 0) {
			snprintf(buf, len,
				 "--bind %s:%s:rw: %s is owned by root, and nothing the guest makes may be; "
				 "choose an owner with --bind-owner UID[:GID]",
				 m->src, m->dst, m->src);
			return -EPERM;
		}
		m->owner_uid = st.st_uid;
		m->owner_gid = st.st_gid != 0 ? st.st_gid : primary_gid(st.st_uid);
	}
	return 0;
}

/* Is the directory open as fd empty? 1, 0 or -errno. */
static int dir_empty(int fd)
{
	char buf[4096];
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			return 1;
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				return 0;
			off += d->d_reclen;
		}
	}
}

int config_check_upper(struct sandbox_config *c, char *buf, size_t len)
{
	if (!c->upper)
		return 0;
	const char *d = c->upper;
	if (c->read_only) {
		snprintf(buf, len, "--upper %s: not with --read-only (which has no overlay)", d);
		return -EINVAL;
	}
	_cleanup_close_ int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	struct statvfs sv;
	if (fd < 0 || fstat(fd, &st) < 0 || fstatvfs(fd, &sv) < 0) {
		int err = errno;
		snprintf(buf, len, "--upper %s: %s", d, strerror(err));
		return -err;
	}
	int r = dir_empty(fd);
	if (r <= 0) {
		snprintf(buf, len, "--upper %s: %s", d,
			 r < 0 ? strerror(-r) : "not empty (the upper layer starts as an empty directory)");
		return r < 0 ? r : -ENOTEMPTY;
	}
	if (c->bind_owner_set) {
		c->upper_uid = c->bind_uid;
		c->upper_gid = c->bind_gid;
	} else if (st.st_uid == 0) {
		snprintf(buf, len,
			 "--upper %s: owned by root, and nothing the guest makes may be; choose an owner "
			 "with --bind-owner UID[:GID]", d);
		return -EPERM;
	} else {
		c->upper_uid = st.st_uid;
		c->upper_gid = st.st_gid != 0 ? st.st_gid : primary_gid(st.st_uid);
	}
	/* The gofer writes as that owner, with DAC override: so "writable"
	 * is what nobody may do on a read-only or immutable directory, and,
	 * when DIR's owner is the owner, what its owner's mode bits allow
	 * (another owner chosen with --bind-owner is the caller's say, as for
	 * an rw bind). */
	mode_t need = st.st_uid == c->upper_uid ? 0300 : 0;
	int fl = 0;
	const char *why = NULL;
	if (sv.f_flag & ST_RDONLY)
		why = "not writable (on a read-only filesystem)";
	else if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0 && (fl & (FS_IMMUTABLE_FL | FS_APPEND_FL)))
		why = "not writable (immutable or append-only)";
	else if ((st.st_mode & need) != need)
		why = "not writable by its owner";
	if (why) {
		snprintf(buf, len, "--upper %s: %s (uid %u, mode %04o)", d, why, (unsigned)c->upper_uid,
			 (unsigned)(st.st_mode & 07777));
		return -EACCES;
	}
	return 0;
}

void config_free(struct sandbox_config *c)
{
	for (size_t i = 0; i < c->nmounts; i++) {
		free(c->mounts[i].src);
		free(c->mounts[i].dst);
	}
	free(c->mounts);
	for (size_t i = 0; i < c->nenv; i++)
		free(c->env[i]);
	free(c->env);
	free(c->rootfs);
	free(c->upper);
	free(c->cwd);
	free(c->audit_log);
	free(c->hostname);
	free(c->groups);
	free(c->rlimits);
	free(c->domainname);
	free(c->console_socket);
	free(c->home);
	net_config_free(&c->net);
	*c = (struct sandbox_config){ 0 };
}
