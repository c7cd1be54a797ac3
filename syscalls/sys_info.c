/* SPDX-License-Identifier: MIT */
/* uname, sethostname/setdomainname, sysinfo: the sandbox's own identity,
 * never the host's (sentry.ident, set up from the config). */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "sentry/kernel/sentry.h"
#include "syscalls/handlers.h"
#include "syscalls/sys_fs.h"

/* The kernel's struct new_utsname: six fields of 65 bytes. */
#define UTS_LEN 65
struct moat_utsname {
	char sysname[UTS_LEN];
	char nodename[UTS_LEN];
	char release[UTS_LEN];
	char version[UTS_LEN];
	char machine[UTS_LEN];
	char domainname[UTS_LEN];
};
_Static_assert(sizeof(struct moat_utsname) == 390, "struct new_utsname is 390 bytes");
_Static_assert(sizeof(struct sysinfo) == 112, "glibc's struct sysinfo is the kernel's on x86-64");

/* Copy s into a field, NUL-padded (the whole struct goes to the guest). */
static void uts_set(char field[UTS_LEN], const char *s)
{
	size_t n = strnlen(s, UTS_LEN - 1);
	memset(field, 0, UTS_LEN);
	memcpy(field, s, n);
}

long sys_uname(struct sysreq *r)
{
	const struct sandbox_identity *id = &sentry.ident;
	struct moat_utsname u;
	uts_set(u.sysname, "Linux");
	uts_set(u.nodename, id->hostname);
	uts_set(u.release, id->release);
	uts_set(u.version, id->version);
	uts_set(u.machine, "x86_64");
	uts_set(u.domainname, id->domainname);
	return sys_put(r, r->args[0], &u, sizeof u);
}

long sys_sethostname(struct sysreq *r)
{
	char *dst;
	switch (r->nr) {
	case __NR_sethostname:
		dst = sentry.ident.hostname;
		break;
	case __NR_setdomainname:
		dst = sentry.ident.domainname;
		break;
	default:
		return -ENOSYS;
	}
	/* CAP_SYS_ADMIN in the sandbox's uts namespace, then the length, then
	 * the copy: the kernel's order. */
	if (!cred_privileged(r->task->cred))
		return -EPERM;
	int len = (int)r->args[1];
	if (len < 0 || len > UTS_LEN - 1)
		return -EINVAL;
	char buf[UTS_LEN] = "";
	if (len > 0) {
		int err = sys_get(r, r->args[0], buf, (size_t)len);
		if (err < 0)
			return err;
	}
	int err = req_id_valid(r);
	if (err < 0)
		return err;
	/* The kernel stores exactly len bytes and NUL-pads the rest. */
	memset(dst, 0, UTS_LEN);
	memcpy(dst, buf, (size_t)len);
	return 0;
}

static void count_proc(struct proc *p, void *ctx)
{
	(*(unsigned long *)ctx)++;
}

long sys_sysinfo(struct sysreq *r)
{
	struct sysinfo host;
	if (sysinfo(&host) < 0)
		memset(&host, 0, sizeof host);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long up = now.tv_sec - sentry.start.tv_sec;
	long nsec = now.tv_nsec - sentry.start.tv_nsec;
	if (nsec < 0) {
		up--;
		nsec += 1000000000L;
	}
	unsigned long procs = 0;
	proc_foreach(count_proc, &procs);

	struct sysinfo si;
	memset(&si, 0, sizeof si);
	/* Rounded up, as the kernel rounds its boot time. Loads: the
	 * sandbox's own would need accounting it does not keep; 0 is honest. */
	si.uptime = up + (nsec ? 1 : 0);
	si.totalram = host.totalram;
	si.freeram = host.freeram;
	si.sharedram = host.sharedram;
	si.bufferram = host.bufferram;
	si.totalswap = host.totalswap;
	si.freeswap = host.freeswap;
	si.totalhigh = host.totalhigh;
	si.freehigh = host.freehigh;
	si.mem_unit = host.mem_unit ? host.mem_unit : 1;
	si.procs = procs > 0xffff ? 0xffff : (unsigned short)procs;
	return sys_put(r, r->args[0], &si, sizeof si);
}
