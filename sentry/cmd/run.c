/* SPDX-License-Identifier: MIT */
/* `moat run [options] -- CMD [ARGS...]`, moat's own form; or runc's
 * `moat run [--bundle DIR] [-d] ID` (run_oci.c). The rule (is_oci_form)
 * keeps every command line of moat's form working as it always did. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/cmd/cmd.h"
#include "sentry/cmd/runtime_opts.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "sentry/sandbox/config.h"
#include "sentry/sandbox/hostuid.h"
#include "sentry/sandbox/limits.h"
#include "sentry/sandbox/sandbox.h"
#include "sentry/sandbox/user.h"
#include "sentry/oci/state.h"
#include "syscalls/profile.h"

static void usage(FILE *f)
{
	struct sandbox_limits def;
	char mem[32];
	limits_default(&def);
	fprintf(f, "Usage: moat run [OPTIONS] [--] CMD [ARGS...]\n"
	      "       moat run --name NAME -d [OPTIONS] [[--] CMD [ARGS...]]\n"
	      "Run CMD in a new sandbox and exit with its status (128+N if killed by signal N).\n"
	      "\n"
	      "By default the sandbox sees the host's system directories (/usr, /bin, /sbin,\n"
	      "/lib*, /etc with secrets masked) under a writable in-memory overlay: the guest\n"
	      "may write anywhere, and what it writes vanishes at exit and never reaches the\n"
	      "host. It has an in-memory /tmp and /root, its own /dev and /proc, its own\n"
	      "hostname, no network but loopback, and an environment of PATH, HOME and TERM\n"
	      "only.\n"
	      "\n"
	      "Options:\n"
	      "  --rootfs DIR          use DIR as the whole root instead (host files read-only,\n"
	      "                        under the in-memory overlay)\n"
	      "  --read-only           no overlay: writes outside the in-memory mounts (/tmp,\n"
	      "                        /root, /dev/shm, --tmpfs) fail with EROFS\n"
	      "  --upper DIR           keep the overlay's upper layer in DIR on the host instead\n"
	      "                        of memory: every change is written there as it happens\n"
	      "                        (overlayfs's format: usable as an upperdir with\n"
	      "                        -o userxattr). DIR: an empty, writable directory; files\n"
	      "                        are owned by --bind-owner or DIR's owner, never root\n"
	      "  --bind SRC:DST[:ro|:rw]\n"
	      "                        show host directory (or file) SRC at DST; read-only\n"
	      "                        unless :rw, where the guest's writes reach SRC (made\n"
	      "                        by the gofer)\n"
	      "  --bind-owner UID[:GID]\n"
	      "                        host owner of what the guest creates in :rw binds, seen\n"
	      "                        inside as root (default: the owner of SRC; never 0)\n"
	      "  --bind-socket SRC:DST\n"
	      "                        let the guest connect to the host's unix socket SRC\n"
	      "                        through a socket file at DST (no other host socket\n"
	      "                        can be reached by its path)\n"
	      "  --tmpfs DST[:OPTS]    an in-memory writable directory at DST; OPTS a comma\n"
	      "                        list of size=N[k|m|g] (its own limit, apart from\n"
	      "                        --disk), mode=OCTAL, ro, noexec (Docker's --tmpfs)\n"
	      "  --disk N[k|m|g]       all in-memory files together (the overlay's writes,\n"
	      "                        /tmp, /root, /dev/shm, --tmpfs without a size) may\n"
	      "                        hold N bytes; beyond, writes fail with ENOSPC\n"
	      "                        (default: half of the host's RAM)\n"
	      "  --env K=V             add K=V to the environment (repeatable)\n"
	      "  --cwd DIR             working directory inside the sandbox (default /)\n"
	      "  --hostname NAME       the sandbox's hostname (default moat)\n"
	      "  --host-uid-range START:COUNT\n"
	      "                        give the sandbox a host uid (and gid) of its own from\n"
	      "                        START..START+COUNT-1 (default 2147418112:65536)\n"
	      "  --audit-log FILE      append JSON-lines audit records to FILE\n"
	      "  --platform NAME       how guest calls reach moat: seccomp (user notification,\n"
	      "                        the default), ptrace (for kernels without it, or to\n"
	      "                        compare) or auto (seccomp where the kernel has it);\n"
	      "                        also MOAT_PLATFORM\n"
	      "  --timeout SECONDS     kill the sandbox after that much wall-clock time (the\n"
	      "                        command's start to its end; fractions allowed)\n"
	      "  --stop-timeout SECONDS\n"
	      "                        SIGTERM, SIGINT, SIGHUP or SIGQUIT to moat is passed\n"
	      "                        on to the command; if the sandbox still runs that\n"
	      "                        long after the first, it is killed (default 10)\n"
	      "  --memory N[k|m|g]     memory of the whole sandbox; at the limit the kernel\n"
	      "                        kills its largest process (default: %s, half of\n"
	      "                        this host's RAM, enforced only where pid 1 can be\n"
	      "                        cloned into a cgroup v2: moving it into a cgroup\n"
	      "                        costs ~15 ms of start, so on cgroup v1 hosts there is\n"
	      "                        no memory limit unless one is given)\n"
	      "  --pids N              processes and threads of the whole sandbox (default\n"
	      "                        %d); at the limit fork fails with EAGAIN\n"
	      "  --cpus F              CPU time of the whole sandbox, in CPUs (0.5: half of one;\n"
	      "                        default: no limit)\n"
	      "  --nofile N[:HARD]     open files per process (default %d, hard limit %d)\n"
	      "                        (for each of these four, 0 or 'unlimited': no limit)\n"
	      "  --seccomp-profile FILE\n"
	      "                        also enforce an OCI/Docker seccomp profile: a call it\n"
	      "                        refuses gets its action (errno, kill, trap), a call it\n"
	      "                        allows still meets moat's own table\n"
	      "  -t, --tty             give the command a pseudo-terminal of the sandbox's own\n"
	      "                        (/dev/pts/0, its controlling terminal, in a new session);\n"
	      "                        moat copies its output to stdout and follows window size\n"
	      "  -i, --interactive     keep stdin open for the command; with -t, moat forwards\n"
	      "                        it and puts the terminal in raw mode while the command\n"
	      "                        runs (Ctrl-C, Ctrl-Z reach the command's foreground job)\n"
	      "  -u, --user USER[:GROUP]\n"
	      "                        run as USER (a name or number from the sandbox's\n"
	      "                        /etc/passwd; a number it lacks gets gid 0) with its groups\n"
	      "                        from /etc/group; default root (0:0)\n"
	      "  --net MODE            none (default: loopback only), sandbox (a user-space\n"
	      "                        network with the egress policy below) or host (the\n"
	      "                        host's network namespace, no policy: unsafe)\n"
	      "  --allow-net CIDR[:PORTS]\n"
	      "                        --net=sandbox: allow flows to CIDR (ports like\n"
	      "                        80,443,8000-8100); beats the default deny list.\n"
	      "                        With any --allow-net/--allow-host only what they\n"
	      "                        name is reached; without, the public Internet is\n"
	      "                        (beyond the default deny list)\n"
	      "  --allow-host NAME[:PORTS]\n"
	      "                        allow NAME's addresses (resolved now and learned from\n"
	      "                        the DNS answers the sandbox gets; *.NAME for below it)\n"
	      "  --deny-net CIDR[:PORTS]\n"
	      "                        refuse flows to CIDR, whatever allows them\n"
	      "  --allow-all-egress    allow every destination, even the default deny list\n"
	      "                        (loopback, private, link-local, metadata, the host)\n"
	      "  --publish [HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp]\n"
	      "                        --net=sandbox: forward HOSTIP:HOSTPORT (default\n"
	      "                        127.0.0.1) to GUESTPORT inside (repeatable)\n"
	      "  --dns IP              --net=sandbox: forward the sandbox's DNS to IP (IPv4;\n"
	      "                        default: the host's first IPv4 nameserver)\n"
	      "  --net-fastpath on|off --net=sandbox: TCP connections to the outside made on\n"
	      "                        the host by moat (native speed, same policy; default\n"
	      "                        on), or carried by the user-space stack (off)\n"
	      "  --name NAME           keep the sandbox under NAME while it runs (moat exec NAME\n"
	      "                        CMD, moat ps, moat kill NAME, moat cp; in --root)\n"
	      "  -d, --detach          with --name: return once it runs (stdin /dev/null);\n"
	      "                        without CMD it idles, warm for moat exec, until killed\n"
	      "  --rm                  with -d: remove its state once it ends (else moat delete)\n"
	      "  --debug               log the sentry's decisions to stderr\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Exit status: the command's; 2 for a usage error; 124 if --timeout ended it;\n"
	      "137 if the command outlived --stop-timeout after a stop signal;\n"
	      "125 if the sandbox failed or cannot start (an unknown --user, -ti without a\n"
	      "terminal on stdin); 137 if the memory limit killed the command (an\n"
	      "audit record 'limit' says so). Limits are enforced with cgroups (v2, else v1)\n"
	      "or, where moat cannot use them or the defaults would need a move into one,\n"
	      "rlimits of the sandbox's own host uid (see docs/limits.md).\n",
	      limits_size_str(def.memory, mem, sizeof(mem)), LIMIT_DEFAULT_PIDS,
	      LIMIT_DEFAULT_NOFILE_SOFT, LIMIT_DEFAULT_NOFILE_HARD);
}

static const char *verb = "run";

/* Bad input the sandbox cannot start with: one line, exit 125. */
static int bad_input(const char *fmt, const char *arg)
{
	fprintf(stderr, "moat %s: ", verb);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 125;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "moat %s: ", verb);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'moat %s --help')\n", verb);
	return 2;
}

/* runc's form when there is no "--" and: an option only runc's run has, or
 * a global option of runc's before the verb (engines always give one), or
 * a lone container id in a bundle directory (`runc run ID`). Anything else
 * is moat's form; "--" always makes it so. */
static bool is_oci_form(int argc, char **argv)
{
	static const char *const oci_opts[] = { "-b", "--bundle", "-d", "--detach", "--pid-file",
						"--console-socket", "--keep", "--no-subreaper", "--no-pivot",
						"--no-new-keyring", "--preserve-fds", "--pidfd-socket" };
	bool oci_opt = false;
	for (int i = 1; i < argc; i++) {
		/* --name: a named sandbox of moat's own (run_named.c), whose
		 * -d is not runc's. */
		if (!strcmp(argv[i], "--") || !strcmp(argv[i], "--name") || !strncmp(argv[i], "--name=", 7))
			return false;
		for (size_t k = 0; k < ARRAY_SIZE(oci_opts); k++) {
			size_t n = strlen(oci_opts[k]);
			if (!strncmp(argv[i], oci_opts[k], n) && (argv[i][n] == 0 || argv[i][n] == '='))
				oci_opt = true;
		}
	}
	if (oci_opt || oci_globals.given)
		return true;
	return argc == 2 && argv[1][0] != '-' && oci_id_valid(argv[1]) && access("config.json", F_OK) == 0;
}

/* --seccomp-profile: parsed and compiled here, before anything starts, so
 * a broken profile costs nothing and says why in one line. */
static int load_profile(struct sandbox_config *cfg, const char *path)
{
	struct seccomp_profile p;
	char err[512];
	int r = profile_parse(path, &p, err, sizeof(err), stderr);
	if (r < 0) {
		fprintf(stderr, "moat %s: --seccomp-profile %s\n", verb, err);
		return 125;
	}
	struct sock_filter *prog;
	unsigned short len;
	r = profile_compile(&p, &prog, &len);
	profile_free(&p);
	if (r < 0) {
		fprintf(stderr, "moat %s: --seccomp-profile %s: cannot make a filter of it: %s\n",
			verb, path, strerror(-r));
		return 125;
	}
	cfg->profile_filter = prog;
	cfg->profile_filter_len = len;
	return 0;
}

const char *const run_options_with_arg[] = {
	"rootfs", "upper", "bind", "bind-socket", "tmpfs", "env", "cwd", "hostname", "host-uid-range",
	"audit-log", "seccomp-profile", "bind-owner", "timeout", "stop-timeout", "disk", "memory", "pids", "cpus",
	"nofile", "user", "name", "net", "allow-net", "allow-host", "deny-net", "publish", "dns", "platform",
	"net-fastpath", NULL,
};

int command_run(int argc, char **argv)
{
	if (is_oci_form(argc, argv))
		return command_run_oci(argc, argv);
	return run_sandbox("run", argc, argv, NULL, NULL);
}

/* Off while runtime_opts.c runs the runtime options alone through here. */
static bool use_presets = true;

bool run_sandbox_presets(bool on)
{
	bool was = use_presets;
	use_presets = on;
	return was;
}

int run_sandbox(const char *verb_name, int argc, char **argv,
		int (*prepare)(struct sandbox_config *cfg, void *ctx), void *ctx)
{
	enum { O_ROOTFS = 256, O_BIND, O_TMPFS, O_ENV, O_CWD, O_AUDIT, O_DEBUG, O_HOSTNAME,
	       O_HOSTUIDS, O_READONLY, O_BINDOWNER, O_PROFILE, O_TIMEOUT, O_DISK, O_MEMORY, O_PIDS,
	       O_CPUS, O_NOFILE, O_UPPER, O_BINDSOCK, O_NET, O_ALLOWNET, O_ALLOWHOST, O_DENYNET,
	       O_ALLOWALL, O_PUBLISH, O_DNS, O_STOPTIMEOUT, O_PLATFORM, O_NAME, O_RM, O_FASTPATH };
	_cleanup_free_ char *user = NULL;
	verb = verb_name;
	/* The config file's and the global options first, so the command
	 * line's own come later and win. */
	_cleanup_free_ char **all = NULL;
	if (use_presets) {
		char err[PATH_MAX + 128];
		int r = runtime_opts_argv(argc, argv, &argc, &all, err, sizeof(err));
		if (r < 0)
			return bad_input("%s", r == -ENOMEM ? strerror(ENOMEM) : err);
		argv = all;
	}
	static const struct option opts[] = {
		{ "rootfs", required_argument, NULL, O_ROOTFS },
		{ "read-only", no_argument, NULL, O_READONLY },
		{ "upper", required_argument, NULL, O_UPPER },
		{ "bind", required_argument, NULL, O_BIND },
		{ "bind-owner", required_argument, NULL, O_BINDOWNER },
		{ "bind-socket", required_argument, NULL, O_BINDSOCK },
		{ "tmpfs", required_argument, NULL, O_TMPFS },
		{ "disk", required_argument, NULL, O_DISK },
		{ "env", required_argument, NULL, O_ENV },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ "host-uid-range", required_argument, NULL, O_HOSTUIDS },
		{ "audit-log", required_argument, NULL, O_AUDIT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "stop-timeout", required_argument, NULL, O_STOPTIMEOUT },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "pids", required_argument, NULL, O_PIDS },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "nofile", required_argument, NULL, O_NOFILE },
		{ "seccomp-profile", required_argument, NULL, O_PROFILE },
		{ "tty", no_argument, NULL, 't' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' },
		{ "net", required_argument, NULL, O_NET },
		{ "allow-net", required_argument, NULL, O_ALLOWNET },
		{ "allow-host", required_argument, NULL, O_ALLOWHOST },
		{ "deny-net", required_argument, NULL, O_DENYNET },
		{ "allow-all-egress", no_argument, NULL, O_ALLOWALL },
		{ "publish", required_argument, NULL, O_PUBLISH },
		{ "dns", required_argument, NULL, O_DNS },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "name", required_argument, NULL, O_NAME },
		{ "detach", no_argument, NULL, 'd' },
		{ "rm", no_argument, NULL, O_RM },
		{ "net-fastpath", required_argument, NULL, O_FASTPATH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sandbox_config cfg = { 0 };
	_cleanup_free_ char *profile_path = NULL;
	struct run_named named = { 0 };
	bool net_opts = false;
	int c;
	/* Safe for untrusted code without flags (docs/limits.md); a
	 * container's come from its config.json (sentry/oci/spec.c). */
	limits_default(&cfg.limits);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+htiu:d", opts, NULL)) != -1) {
		switch (c) {
		case O_ROOTFS: {
			struct stat st;
			if (stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode))
				return usage_error("--rootfs %s: not a directory", optarg);
			free(cfg.rootfs);
			cfg.rootfs = realpath(optarg, NULL);
			break;
		}
		case O_UPPER:
			free(cfg.upper);
			/* Checked after all options (--read-only, --bind-owner). */
			if (!(cfg.upper = realpath(optarg, NULL)))
				return bad_input("--upper %s: not an existing directory", optarg);
			break;
		case O_BIND:
			if (config_add_mount(&cfg, MOUNT_BIND, optarg) < 0)
				return bad_input("--bind %s: expected SRC:DST[:ro|:rw] with absolute paths",
						 optarg);
			break;
		case O_BINDOWNER:
			if (config_parse_owner(optarg, &cfg.bind_uid, &cfg.bind_gid) < 0)
				return bad_input("--bind-owner %s: expected UID[:GID], numbers from 1 to "
						 "4294967294 (never root)",
						 optarg);
			cfg.bind_owner_set = true;
			break;
		case O_BINDSOCK:
			if (config_add_mount(&cfg, MOUNT_SOCKET, optarg) < 0)
				return bad_input("--bind-socket %s: expected SRC:DST, absolute paths", optarg);
			break;
		case O_TMPFS:
			if (config_add_mount(&cfg, MOUNT_TMPFS, optarg) < 0)
				return bad_input("--tmpfs %s: expected DST[:OPTS], DST an absolute path, "
						 "OPTS from size=N[k|m|g] (4k or more), mode=OCTAL, ro, rw, "
						 "noexec, exec, nosuid, nodev", optarg);
			break;
		case O_DISK:
			if (limits_parse_size(optarg, &cfg.disk_bytes) < 0 || cfg.disk_bytes < (1 << 20))
				return bad_input("--disk %s: expected a size of 1m or more, N[k|m|g]", optarg);
			break;
		case O_ENV:
			if (config_add_env(&cfg, optarg) < 0)
				return usage_error("--env %s: expected K=V", optarg);
			break;
		case O_CWD:
			if (optarg[0] != '/')
				return usage_error("--cwd %s: expected an absolute path", optarg);
			free(cfg.cwd);
			cfg.cwd = strdup(optarg);
			break;
		case O_HOSTNAME:
			if (!optarg[0] || strlen(optarg) > 64)
				return usage_error("--hostname %s: 1 to 64 characters", optarg);
			free(cfg.hostname);
			cfg.hostname = strdup(optarg);
			break;
		case O_HOSTUIDS: {
			struct hostuid_range hr;
			if (hostuid_parse_range(optarg, &hr) < 0)
				return usage_error("--host-uid-range %s: expected START:COUNT, uids 1 to 4294967294",
						   optarg);
			cfg.host_uid_start = hr.start;
			cfg.host_uid_count = hr.count;
			break;
		}
		case O_AUDIT:
			free(cfg.audit_log);
			cfg.audit_log = strdup(optarg);
			break;
		case O_TIMEOUT: {
			char *end;
			errno = 0;
			double secs = strtod(optarg, &end);
			/* At least a millisecond, at most about 31 years. */
			if (errno || end == optarg || *end || !(secs >= 0.001 && secs <= 1e9))
				return usage_error("--timeout %s: expected seconds, from 0.001 to 1e9", optarg);
			cfg.timeout_ms = (long)(secs * 1000 + 0.5);
			break;
		}
		case O_STOPTIMEOUT: {
			char *end;
			errno = 0;
			double secs = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(secs >= 0.001 && secs <= 1e9))
				return usage_error("--stop-timeout %s: expected seconds, from 0.001 to 1e9",
						   optarg);
			cfg.stop_grace_ms = (long)(secs * 1000 + 0.5);
			break;
		}
		case O_MEMORY:
			if (limits_parse_size(optarg, &cfg.limits.memory) < 0 ||
			    (cfg.limits.memory && cfg.limits.memory < (4 << 20)))
				return usage_error("--memory %s: expected bytes with k, m or g, at least 4m, "
						   "or 0 for no limit", optarg);
			cfg.limits.memory_is_default = false;
			if (cfg.limits.memory)
				cfg.limits.defaults_only = false;
			break;
		case O_PIDS:
			if (limits_parse_count(optarg, &cfg.limits.pids) < 0)
				return usage_error("--pids %s: expected a number, or 0 for no limit", optarg);
			if (cfg.limits.pids)
				cfg.limits.defaults_only = false;
			break;
		case O_CPUS:
			if (limits_parse_cpus(optarg, &cfg.limits) < 0)
				return usage_error("--cpus %s: expected CPUs from 0.01 to 1024, or 0 for no limit",
						   optarg);
			if (cfg.limits.cpu_quota_us)
				cfg.limits.defaults_only = false;
			break;
		case O_NOFILE:
			if (limits_parse_nofile(optarg, &cfg.limits) < 0)
				return usage_error("--nofile %s: expected N or SOFT:HARD from 16 to 1048576, or 0 "
						   "for moat's own", optarg);
			break;
		case O_PROFILE:
			free(profile_path);
			profile_path = strdup(optarg);
			break;
		case O_READONLY:
			cfg.read_only = true;
			break;
		case O_NET:
			if (net_mode_parse(optarg, &cfg.net.mode) < 0)
				return usage_error("--net %s: expected none, sandbox or host", optarg);
			break;
		case O_ALLOWNET:
		case O_DENYNET: {
			struct net_rule nr;
			const char *o = c == O_ALLOWNET ? "--allow-net" : "--deny-net";
			if (net_rule_parse(optarg, &nr) < 0) {
				fprintf(stderr, "moat %s: %s %s: expected CIDR[:PORTS], like 192.0.2.0/24:80,443 "
						"or [2001:db8::/32]:443\n", verb, o, optarg);
				return 125;
			}
			if (net_policy_add_rule(&cfg.net.policy, c == O_DENYNET, &nr) < 0)
				return 125;
			net_opts = true;
			break;
		}
		case O_ALLOWHOST: {
			struct net_host nh;
			if (net_host_parse(optarg, &nh) < 0)
				return bad_input("--allow-host %s: expected NAME[:PORTS], like example.com:443", optarg);
			if (net_policy_add_host(&cfg.net.policy, &nh) < 0)
				return bad_input("--allow-host %s: at most 64 names", optarg);
			net_opts = true;
			break;
		}
		case O_ALLOWALL:
			cfg.net.policy.allow_all = true;
			net_opts = true;
			break;
		case O_PUBLISH: {
			struct net_publish np;
			if (net_publish_parse(optarg, &np) < 0)
				return bad_input("--publish %s: expected [HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp]", optarg);
			struct net_publish *v = realloc(cfg.net.publish, (cfg.net.npublish + 1) * sizeof(*v));
			if (!v)
				return 125;
			v[cfg.net.npublish++] = np;
			cfg.net.publish = v;
			net_opts = true;
			break;
		}
		case O_DNS:
			if (net_addr_parse(optarg, &cfg.net.dns) < 0 || cfg.net.dns.family != AF_INET)
				return bad_input("--dns %s: expected an IPv4 address", optarg);
			cfg.net.dns_set = true;
			net_opts = true;
			break;
		case O_FASTPATH:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("--net-fastpath %s: expected on or off", optarg);
			cfg.net.fastpath_off = !strcmp(optarg, "off");
			net_opts = true;
			break;
		case O_DEBUG:
			cfg.debug = true;
			break;
		case O_PLATFORM:
			if (platform_parse(optarg, &cfg.platform) < 0)
				return usage_error("--platform %s: expected seccomp, ptrace or auto", optarg);
			break;
		case 't':
			cfg.tty = true;
			break;
		case O_NAME:
			if (!oci_id_valid(optarg))
				return bad_input("--name %s: letters, digits, '_', '+', '-' and '.', not . or ..",
						 optarg);
			named.name = optarg;
			break;
		case 'd':
			named.detach = true;
			break;
		case O_RM:
			named.rm = true;
			break;
		case 'i':
			cfg.interactive = true;
			break;
		case 'u':
			free(user);
			user = strdup(optarg);
			break;
		case 'h':
			if (strcmp(verb, "run"))
				return -1; /* the caller prints its own help */
			usage(stdout);
			return 0;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (named.name && strcmp(verb, "run"))
		return usage_error("%s", "--name is for moat run");
	if ((named.detach || named.rm) && !named.name)
		return usage_error("%s", "-d and --rm are for named sandboxes: give --name NAME");
	if (named.detach && cfg.tty)
		return usage_error("%s", "-t with -d: a detached sandbox has no terminal to relay (use "
					 "moat exec -t NAME)");
	/* A warm sandbox may start with nothing to run: it waits for `moat
	 * exec` (run_named.c). */
	if (optind >= argc && !named.detach)
		return usage_error("%s", "no command given");
	char why[PATH_MAX + 256];
	if (config_check_binds(&cfg, why, sizeof(why)) < 0 || config_check_upper(&cfg, why, sizeof(why)) < 0)
		return bad_input("%s", why);
	if (net_opts && cfg.net.mode != NET_SANDBOX)
		return usage_error("%s", "--allow-net, --allow-host, --deny-net, --allow-all-egress, --publish, "
					 "--dns and --net-fastpath need --net=sandbox");
	if (net_config_prepare(&cfg.net, why, sizeof(why)) < 0)
		return bad_input("%s", why);
	if (geteuid() != 0) {
		fprintf(stderr, "moat %s: must run as root (namespaces and seccomp supervision)\n", verb);
		return 125;
	}
	/* A hard limit above moat's own needs CAP_SYS_RESOURCE (and at most
	 * fs.nr_open): raised here, as the sentry would, or said now rather
	 * than by the sandbox's setup. */
	struct rlimit nof;
	if (cfg.limits.nofile_hard && getrlimit(RLIMIT_NOFILE, &nof) == 0 &&
	    cfg.limits.nofile_hard > nof.rlim_max) {
		struct rlimit up = { nof.rlim_cur, (rlim_t)cfg.limits.nofile_hard };
		if (setrlimit(RLIMIT_NOFILE, &up) < 0) {
			char lim[160];
			snprintf(lim, sizeof(lim), "a hard limit of %llu is above what moat may give here "
				 "(%llu: no CAP_SYS_RESOURCE, or beyond fs.nr_open)",
				 (unsigned long long)cfg.limits.nofile_hard, (unsigned long long)nof.rlim_max);
			return bad_input("--nofile: %s", lim);
		}
	}
	int r;
	if (profile_path && (r = load_profile(&cfg, profile_path)) != 0)
		return r;
	/* Raw mode and keystrokes need a terminal to read them from. */
	if (cfg.tty && cfg.interactive && !isatty(STDIN_FILENO))
		return bad_input("%s", "-ti: stdin is not a terminal (use -t alone, or -i alone for a pipe)");
	if (user && user_resolve(&cfg, user, why, sizeof(why)) < 0)
		return bad_input("%s", why);
	cfg.argv = optind < argc ? argv + optind : NULL;
	log_init("moat", cfg.debug || oci_globals.debug ? 2 : 0);
	if (prepare && (r = prepare(&cfg, ctx)) != 0)
		return r;
	if (named.name)
		return run_named(&named, &cfg);
	int status = sandbox_run(&cfg);
	config_free(&cfg);
	return status;
}
