/* SPDX-License-Identifier: MIT */
/* Seccomp profiles (docs/seccomp-profiles.md): collecting one from a traced
 * run (`moat profile`), writing it as an OCI/Docker profile or a moat
 * profile, reading an OCI/Docker profile (`--seccomp-profile`,
 * `moat syscalls --surface`) and compiling it into a filter that the guest
 * stacks on the table's. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "syscalls/table.h"

struct sock_filter;

/* --- collecting ----------------------------------------------------------- */

/* Values of the one argument that matters for a few syscalls (ioctl
 * requests, socket families, prctl options, clone flags, open flags). */
#define PROFILE_MAX_VALUES 32

struct profile_acc {
	bool used[SYS_TABLE_SIZE];
	uint64_t count[SYS_TABLE_SIZE];
	struct profile_vals {
		unsigned n;
		bool overflow;   /* more than PROFILE_MAX_VALUES: no rule */
		uint32_t v[PROFILE_MAX_VALUES];
	} vals[SYS_TABLE_SIZE];
};

void profile_acc_add(struct profile_acc *a, int nr, const uint64_t args[6]);
/* Which argument of nr gets a rule (its low 32 bits), or -1. */
int profile_rule_arg(int nr);
/* OCI/Docker JSON (defaultAction SCMP_ACT_ERRNO, EPERM) or the moat
 * profile (text). `what` names the workload in the moat form. 0 or -errno. */
int profile_write_oci(const struct profile_acc *a, FILE *f);
int profile_write_moat(const struct profile_acc *a, const char *what, FILE *f);

/* --- reading -------------------------------------------------------------- */

enum profile_action {
	PA_ALLOW, PA_LOG, PA_ERRNO, PA_KILL_THREAD, PA_KILL_PROCESS, PA_TRAP,
};

struct profile_arg {
	unsigned index;
	int op;                 /* enum scmp_compare */
	uint64_t value, value2;
};

struct profile_rule {
	int nr;
	enum profile_action action;
	int err;                /* PA_ERRNO */
	unsigned nargs;
	struct profile_arg args[6];
};

struct seccomp_profile {
	enum profile_action default_action;
	int default_err;
	struct profile_rule *rules;
	size_t nrules;
};

/* Parse an OCI/Docker profile. On error returns -errno and a one-line
 * reason in err (naming the line of a syntax error, or the entry). Unknown
 * syscall names are refused where skipping them would make the filter
 * weaker, and skipped (warned about in `warn`, if not NULL) where it makes
 * it stricter. */
int profile_parse(const char *path, struct seccomp_profile *ret, char *err, size_t errlen,
		  FILE *warn);
/* The same for a profile already parsed (config.json's linux.seccomp);
 * path names it in the errors. */
struct json_object;
int profile_parse_json(struct json_object *root, const char *path, struct seccomp_profile *ret,
		       char *err, size_t errlen, FILE *warn);
void profile_free(struct seccomp_profile *p);
/* The profile as a filter for the guest to stack on the table's. */
int profile_compile(const struct seccomp_profile *p, struct sock_filter **ret_prog,
		    unsigned short *ret_len);

/* What the profile does with syscall nr, whatever its arguments are. */
enum profile_verdict { PV_ALLOWS, PV_REFUSES, PV_DEPENDS };
enum profile_verdict profile_verdict(const struct seccomp_profile *p, int nr);
