/* SPDX-License-Identifier: MIT */
/* procfs: the tree as data (see internal.h for the design). */
#include "sentry/fs/procfs/internal.h"

/* ---- the tables ------------------------------------------------------------ */

#define TEXT(n, t) { .name = n, .type = VREG, .perm = 0444, .gen = gen_text, .arg = t }
#define GEN(n, g) { .name = n, .type = VREG, .perm = 0444, .gen = g }
#define SYSCTL(n, g) { .name = n, .type = VREG, .perm = 0444, .flags = PE_SYSCTL, .gen = g }
#define SYSCTL_TEXT(n, t) \
	{ .name = n, .type = VREG, .perm = 0444, .flags = PE_SYSCTL, .gen = gen_text, .arg = t }
/* A limit the guest really runs under: the host's value (a number only). */
#define SYSCTL_HOST(n, path, dflt)                                                         \
	{ .name = n, .type = VREG, .perm = 0444, .flags = PE_SYSCTL, .gen = gen_sysctl_host, \
	  .arg = path, .arg2 = dflt }
#define DIR(n, s) { .name = n, .type = VDIR, .perm = 0555, .sub = s }
#define LINK(n, l) { .name = n, .type = VLNK, .perm = 0777, .link = l }
#define HOSTFILE(n, mode, fl) \
	{ .name = n, .type = VREG, .perm = mode, .flags = fl, .gen = gen_host, .arg = n }

static const struct pent sys_kernel_random_ents[] = {
	SYSCTL("uuid", gen_uuid),
	SYSCTL("boot_id", gen_boot_id),
	SYSCTL_TEXT("entropy_avail", "256\n"),
	SYSCTL_TEXT("poolsize", "256\n"),
	{ 0 },
};

static const struct pent sys_kernel_ents[] = {
	SYSCTL("hostname", gen_hostname),
	SYSCTL("domainname", gen_domainname),
	SYSCTL("osrelease", gen_osrelease),
	SYSCTL_TEXT("ostype", "Linux\n"),
	SYSCTL("version", gen_kversion),
	SYSCTL_TEXT("pid_max", "4194304\n"),
	SYSCTL_HOST("threads-max", "sys/kernel/threads-max", "63704"),
	SYSCTL_TEXT("ngroups_max", "65536\n"),
	SYSCTL_HOST("cap_last_cap", "sys/kernel/cap_last_cap", "40"),
	SYSCTL_TEXT("overflowuid", "65534\n"),
	SYSCTL_TEXT("overflowgid", "65534\n"),
	SYSCTL_TEXT("shmmax", "18446744073692774399\n"),
	SYSCTL_TEXT("shmall", "18446744073692774399\n"),
	SYSCTL_TEXT("shmmni", "4096\n"),
	SYSCTL_TEXT("tainted", "0\n"),
	SYSCTL_TEXT("core_pattern", "core\n"),
	DIR("random", sys_kernel_random_ents),
	{ 0 },
};

static const struct pent sys_vm_ents[] = {
	SYSCTL_HOST("overcommit_memory", "sys/vm/overcommit_memory", "0"),
	SYSCTL_HOST("overcommit_ratio", "sys/vm/overcommit_ratio", "50"),
	SYSCTL_HOST("max_map_count", "sys/vm/max_map_count", "65530"),
	{ 0 },
};

static const struct pent sys_fs_inotify_ents[] = {
	SYSCTL_HOST("max_user_watches", "sys/fs/inotify/max_user_watches", "8192"),
	SYSCTL_HOST("max_user_instances", "sys/fs/inotify/max_user_instances", "128"),
	SYSCTL_HOST("max_queued_events", "sys/fs/inotify/max_queued_events", "16384"),
	{ 0 },
};

static const struct pent sys_fs_ents[] = {
	SYSCTL_TEXT("file-max", "9223372036854775807\n"),
	SYSCTL_HOST("nr_open", "sys/fs/nr_open", "1048576"),
	SYSCTL_HOST("pipe-max-size", "sys/fs/pipe-max-size", "1048576"),
	DIR("inotify", sys_fs_inotify_ents),
	{ 0 },
};

/* The sandbox's network namespace has its own (default) values. */
static const struct pent sys_net_core_ents[] = {
	SYSCTL_TEXT("somaxconn", "4096\n"),
	{ 0 },
};

static const struct pent sys_net_ipv4_ents[] = {
	SYSCTL_TEXT("ip_local_port_range", "32768\t60999\n"),
	{ 0 },
};

static const struct pent sys_net_ents[] = {
	DIR("core", sys_net_core_ents),
	DIR("ipv4", sys_net_ipv4_ents),
	{ 0 },
};

static const struct pent sys_crypto_ents[] = {
	SYSCTL_TEXT("fips_enabled", "0\n"),
	{ 0 },
};

static const struct pent sys_ents[] = {
	DIR("kernel", sys_kernel_ents),
	DIR("vm", sys_vm_ents),
	DIR("fs", sys_fs_ents),
	DIR("net", sys_net_ents),
	DIR("crypto", sys_crypto_ents),
	{ 0 },
};

const struct pent pent_fd = {
	.name = "fd", .type = VLNK, .perm = 0700, .flags = PE_PRIVATE, .link = link_fd,
};
static const struct pent pent_fdinfo = {
	.name = "fdinfo", .type = VREG, .perm = 0444, .flags = PE_PRIVATE, .gen = gen_fdinfo,
};
static const struct pdyn dyn_fd = { lookup_fd, readdir_fds, &pent_fd };
static const struct pdyn dyn_fdinfo = { lookup_fd, readdir_fds, &pent_fdinfo };

static const struct pent pid_ents[];
static const struct pent pent_piddir = {
	.name = "pid", .type = VDIR, .perm = 0555, .sub = pid_ents,
};
static const struct pdyn dyn_tids = { lookup_tid, readdir_tids, &pent_piddir };
static const struct pdyn dyn_pids = { lookup_pid, readdir_pids, &pent_piddir };

#define NSLINK(n) { .name = n, .type = VLNK, .perm = 0777, .flags = PE_PRIVATE, .link = link_ns }
static const struct pent ns_ents[] = {
	NSLINK("cgroup"), NSLINK("ipc"), NSLINK("mnt"), NSLINK("net"), NSLINK("pid"),
	NSLINK("pid_for_children"), NSLINK("time"), NSLINK("time_for_children"), NSLINK("user"),
	NSLINK("uts"),
	{ 0 },
};

/* /proc/<pid> and /proc/<pid>/task/<tid>. */
static const struct pent pid_ents[] = {
	{ .name = "exe", .type = VLNK, .perm = 0777, .flags = PE_PRIVATE, .link = link_exe },
	{ .name = "cwd", .type = VLNK, .perm = 0777, .flags = PE_PRIVATE, .link = link_cwd },
	{ .name = "root", .type = VLNK, .perm = 0777, .flags = PE_PRIVATE, .link = link_root },
	{ .name = "fd", .type = VDIR, .perm = 0500, .dyn = &dyn_fd },
	{ .name = "fdinfo", .type = VDIR, .perm = 0500, .dyn = &dyn_fdinfo },
	{ .name = "task", .type = VDIR, .perm = 0555, .flags = PE_TGID_ONLY, .dyn = &dyn_tids },
	{ .name = "maps", .type = VREG, .perm = 0444, .flags = PE_PRIVATE, .gen = gen_maps,
	  .arg = "maps" },
	{ .name = "smaps", .type = VREG, .perm = 0444, .flags = PE_PRIVATE, .gen = gen_maps,
	  .arg = "smaps" },
	{ .name = "smaps_rollup", .type = VREG, .perm = 0444, .flags = PE_PRIVATE,
	  .gen = gen_maps, .arg = "smaps_rollup" },
	{ .name = "sched", .type = VREG, .perm = 0444, .gen = gen_sched },
	HOSTFILE("io", 0400, PE_PRIVATE),
	DIR("ns", ns_ents),
	GEN("status", gen_status),
	GEN("stat", gen_pid_stat),
	HOSTFILE("statm", 0444, 0),
	HOSTFILE("cmdline", 0444, 0),
	HOSTFILE("comm", 0644, PE_WRITABLE),
	HOSTFILE("environ", 0400, PE_PRIVATE),
	HOSTFILE("limits", 0444, 0),
	{ .name = "auxv", .type = VREG, .perm = 0400, .flags = PE_PRIVATE, .gen = gen_auxv },
	GEN("mounts", gen_mounts),
	GEN("mountinfo", gen_mountinfo),
	TEXT("cgroup", "0::/\n"),
	HOSTFILE("oom_score_adj", 0644, PE_WRITABLE),
	HOSTFILE("oom_adj", 0644, PE_WRITABLE),
	HOSTFILE("oom_score", 0444, 0),
	TEXT("loginuid", "4294967295"),
	TEXT("sessionid", "4294967295"),
	TEXT("wchan", "0"),
	TEXT("setgroups", "allow\n"),
	GEN("uid_map", gen_idmap),
	GEN("gid_map", gen_idmap),
	{ 0 },
};

/* /proc/net: the sandbox's own network namespace (system.c, gen_netfile). */
#define NETFILE(n) { .name = n, .type = VREG, .perm = 0444, .gen = gen_netfile, .arg = n }
static const struct pent net_ents[] = {
	NETFILE("arp"), NETFILE("dev"), NETFILE("if_inet6"), NETFILE("ipv6_route"),
	NETFILE("netstat"), NETFILE("raw"), NETFILE("raw6"), NETFILE("route"),
	NETFILE("snmp"), NETFILE("sockstat"), NETFILE("sockstat6"), NETFILE("tcp"),
	NETFILE("tcp6"), NETFILE("udp"), NETFILE("udp6"), NETFILE("unix"),
	{ 0 },
};

static const struct pent root_ents[] = {
	LINK("self", link_self),
	LINK("thread-self", link_thread_self),
	{ .name = "mounts", .type = VLNK, .perm = 0777, .link = link_text, .arg = "self/mounts" },
	GEN("meminfo", gen_meminfo),
	GEN("cpuinfo", gen_cpuinfo),
	GEN("version", gen_version),
	GEN("uptime", gen_uptime),
	GEN("loadavg", gen_loadavg),
	GEN("stat", gen_stat),
	GEN("filesystems", gen_filesystems),
	TEXT("cmdline", "moat\n"),
	TEXT("swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"),
	DIR("sys", sys_ents),
	DIR("net", net_ents),
	{ 0 },
};

const struct pent pent_root = {
	.name = "/", .type = VDIR, .perm = 0555, .sub = root_ents, .dyn = &dyn_pids,
};

/* ---- /sys and /sys/fs/cgroup (sysfs.c) ------------------------------------- */

static const struct pent no_ents[] = { { 0 } };

static const struct pent sys_cpu_ents[] = {
	GEN("online", gen_cpu_list),
	GEN("possible", gen_cpu_list),
	GEN("present", gen_cpu_list),
	{ 0 },
};

static const struct pent sys_system_ents[] = {
	DIR("cpu", sys_cpu_ents),
	{ 0 },
};

static const struct pent sys_devices_ents[] = {
	DIR("system", sys_system_ents),
	{ 0 },
};

/* cgroup: the mountpoint of the cgroup2 instance below. */
static const struct pent sysfs_fs_ents[] = {
	DIR("cgroup", no_ents),
	{ 0 },
};

static const struct pent sysroot_ents[] = {
	DIR("devices", sys_devices_ents),
	DIR("fs", sysfs_fs_ents),
	{ 0 },
};

const struct pent pent_sysroot = {
	.name = "/", .type = VDIR, .perm = 0555, .sub = sysroot_ents,
};

static const struct pent cgroot_ents[] = {
	TEXT("cgroup.controllers", "cpu memory pids\n"),
	TEXT("cgroup.type", "domain\n"),
	GEN("cgroup.procs", gen_cg_procs),
	GEN("cpu.max", gen_cg_cpu_max),
	GEN("memory.max", gen_cg_memory_max),
	GEN("memory.current", gen_cg_memory_current),
	TEXT("memory.swap.max", "0\n"),
	GEN("pids.max", gen_cg_pids_max),
	{ 0 },
};

const struct pent pent_cgroot = {
	.name = "/", .type = VDIR, .perm = 0555, .sub = cgroot_ents,
};
