/* SPDX-License-Identifier: MIT */
#include "sentry/sandbox/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

const char *const default_system_dirs[] = {
	"usr", "etc", "bin", "sbin", "lib", "lib64", "lib32", "libx32", NULL,
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
