/* SPDX-License-Identifier: MIT */
#include "sentry/sandbox/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

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

/* "SRC:DST[:ro]" for binds, "DST" for tmpfs. */
int config_add_mount(struct sandbox_config *c, enum mount_kind kind, const char *spec)
{
	struct mount_spec m = { .kind = kind };
	_cleanup_free_ char *s = strdup(spec);
	if (!s)
		return -ENOMEM;
	if (kind == MOUNT_BIND) {
		char *dst = strchr(s, ':');
		if (!dst)
			return -EINVAL;
		*dst++ = 0;
		char *opt = strchr(dst, ':');
		if (opt) {
			*opt++ = 0;
			if (!strcmp(opt, "ro"))
				m.ro = true;
			else if (strcmp(opt, "rw"))
				return -EINVAL;
		}
		if (s[0] != '/' || dst[0] != '/')
			return -EINVAL;
		m.src = strdup(s);
		m.dst = strdup(dst);
	} else {
		if (s[0] != '/')
			return -EINVAL;
		m.dst = strdup(s);
	}
	struct mount_spec *n = realloc(c->mounts, (c->nmounts + 1) * sizeof(*n));
	if (!n || !m.dst || (kind == MOUNT_BIND && !m.src)) {
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
	free(c->cwd);
	free(c->audit_log);
	free(c->hostname);
}
