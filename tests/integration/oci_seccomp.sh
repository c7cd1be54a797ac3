#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: config.json's linux.seccomp (docs/oci.md, docs/seccomp-profiles.md),
# stacked on moat's own filter. What the container's processes see is checked
# with their exit statuses and errors, and from outside: a refused mkdir in
# a read-write bind leaves the host directory empty; a refused profile
# leaves no state and no process.
. "$(dirname "$0")/lib.sh"

require_moat

. "$(dirname "$0")/oci_lib.sh"

# sc NAME ARGS-JSON SECCOMP-JSON: a bundle running ARGS under SECCOMP.
sc() { bundle "$1" 'c["process"]["args"] = '"$2"'
c["linux"]["seccomp"] = '"$3"; }

ALLOW_BUT='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": ['

# --- per-syscall actions, errnoRet ---------------------------------------------------
S1=$(sc s1 '["sh", "-c", "mkdir /data/made; echo mkdir=$?; ls / >/dev/null; echo ls=$?"]' \
	"$ALLOW_BUT"'{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}') ||
	bail_out "cannot make a bundle"
t_errno()
{
	oci run -b "$S1" s1 >"$W/s1.out" 2>"$W/s1.err"
	cat "$W/s1.out" "$W/s1.err" >&2
	grep -qx 'mkdir=1' "$W/s1.out" && grep -qx 'ls=0' "$W/s1.out" &&
		grep -q 'Permission denied' "$W/s1.err" && [ ! -e "$DATA/made" ]
}
check "an ERRNO entry with errnoRet 13: mkdir fails with EACCES, nothing on the host; the rest runs" t_errno

S2=$(sc s2 '["sh", "-c", "mkdir /data/made2; echo mkdir=$?"]' \
	"$ALLOW_BUT"'{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}') ||
	bail_out "cannot make a bundle"
t_eperm()
{
	oci run -b "$S2" s2 >"$W/s2.out" 2>"$W/s2.err"
	cat "$W/s2.out" "$W/s2.err" >&2
	grep -qx 'mkdir=1' "$W/s2.out" && grep -q 'Operation not permitted' "$W/s2.err" &&
		[ ! -e "$DATA/made2" ]
}
check "ERRNO without errnoRet is EPERM (runc's default)" t_eperm

# A refusing default (errno 38, ENOSYS) with an allow list: the calls busybox
# needs for echo pass, a mkdir meets the default.
ALLOW_LIST='["execve", "execveat", "brk", "arch_prctl", "set_tid_address", "getpid", "getppid",
 "getuid", "geteuid", "getgid", "getegid", "write", "writev", "read", "exit", "exit_group", "rt_sigaction",
 "rt_sigprocmask", "rt_sigreturn", "ioctl", "fcntl", "close", "mmap", "munmap", "mprotect",
 "newfstatat", "fstat", "stat", "lstat", "getcwd", "uname", "wait4", "clone", "fork", "vfork",
 "dup2", "dup3", "open", "openat", "prlimit64", "getrlimit", "setrlimit", "rseq", "set_robust_list",
 "sigaltstack", "futex", "restart_syscall", "statx", "lseek"]'
S3=$(sc s3 '["sh", "-c", "echo allowed; mkdir /data/made3 2>/dev/null; echo mkdir=$?"]' \
	'{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
	  {"names": '"$ALLOW_LIST"', "action": "SCMP_ACT_ALLOW"}]}') || bail_out "cannot make a bundle"
t_default_errno()
{
	oci run -b "$S3" s3 >"$W/s3.out" 2>"$W/s3.err"
	cat "$W/s3.out" "$W/s3.err" >&2
	grep -qx allowed "$W/s3.out" && grep -qx 'mkdir=1' "$W/s3.out" && [ ! -e "$DATA/made3" ]
}
check "defaultAction ERRNO with defaultErrnoRet: the allow list runs, the rest is refused" t_default_errno

# --- args conditions ---------------------------------------------------------------
S4=$(sc s4 '["sh", "-c", "kill -0 $$; echo k0=$?; kill -CONT $$; echo kcont=$?"]' \
	"$ALLOW_BUT"'{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
	  "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}]}') || bail_out "cannot make a bundle"
t_args()
{
	oci run -b "$S4" s4 >"$W/s4.out" 2>"$W/s4.err"
	cat "$W/s4.out" "$W/s4.err" >&2
	grep -qx 'k0=1' "$W/s4.out" && grep -qx 'kcont=0' "$W/s4.out" &&
		grep -q 'Invalid argument' "$W/s4.err"
}
check "an args condition (kill's signal == 0): only the matching call is refused" t_args

S5=$(sc s5 '["sh", "-c", "echo before; mkdir /data/made5; echo after"]' \
	"$ALLOW_BUT"'{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}') ||
	bail_out "cannot make a bundle"
t_kill()
{
	oci run -b "$S5" s5 >"$W/s5.out" 2>"$W/s5.err"
	local rc=$?
	cat "$W/s5.out" "$W/s5.err" >&2
	echo "exit $rc" >&2
	# The shell forks mkdir (busybox runs applets in a child unless
	# told otherwise): the child dies of SIGSYS, the shell goes on.
	grep -qx before "$W/s5.out" && [ ! -e "$DATA/made5" ] && [ "$rc" = 0 ] || return 1
	S5b=$(sc s5b '["mkdir", "/data/made5"]' \
		"$ALLOW_BUT"'{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}') || return 1
	oci run -b "$S5b" s5b
	rc=$?
	echo "exit $rc" >&2
	[ "$rc" = 159 ] && [ ! -e "$DATA/made5" ]
}
check "KILL_PROCESS: the caller dies of SIGSYS (exit 159), nothing made" t_kill

# --- moat exec runs under the container's profile too ------------------------------------
S6=$(sc s6 '["sleep", "30"]' \
	"$ALLOW_BUT"'{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}') ||
	bail_out "cannot make a bundle"
t_exec()
{
	oci run -d -b "$S6" s6 || return 1
	oci exec s6 mkdir /data/made6
	local rc=$?
	oci exec s6 sh -c 'mkdir /data/made6 2>&1' | tee /dev/stderr | grep -q 'No space left'
	local grep_rc=$?
	oci delete -f s6
	echo "exec exit $rc" >&2
	[ "$rc" = 1 ] && [ "$grep_rc" = 0 ] && [ ! -e "$DATA/made6" ]
}
check "moat exec: the new process is under linux.seccomp (ENOSPC from errnoRet 28)" t_exec

# --- bad profiles: refused, never a weaker filter ----------------------------------
bad()
{
	local name=$1 seccomp=$2 want=$3 d
	d=$(sc "$name" '["true"]' "$seccomp") || return 1
	one_line_error 1 oci create -b "$d" "$name" || return 1
	grep -q -- "$want" "$W/e" || { echo "want: $want" >&2; return 1; }
	no_state "$name"
}
check "an unknown syscall in a refusing entry: an error naming it, no state" \
	bad bad1 "$ALLOW_BUT"'{"names": ["mkdir", "no_such_call"], "action": "SCMP_ACT_ERRNO"}]}' \
	'linux.seccomp: syscalls\[0\]: unknown syscall .*no_such_call'
check "an unknown syscall under an allowing default: an error, no state" \
	bad bad2 '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["bogus"], "action": "SCMP_ACT_ALLOW"}]}' \
	'unknown syscall .*bogus'
check "an unknown action: an error naming it" \
	bad bad3 "$ALLOW_BUT"'{"names": ["mkdir"], "action": "SCMP_ACT_MAYBE"}]}' 'unknown action .*SCMP_ACT_MAYBE'
check "an errnoRet out of range: an error" \
	bad bad4 "$ALLOW_BUT"'{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5000}]}' 'errno 5000'
check "SCMP_ACT_NOTIFY: refused (moat itself supervises the guest)" \
	bad bad5 "$ALLOW_BUT"'{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' 'SCMP_ACT_NOTIFY is not supported'
check "an unknown flag: an error naming it" \
	bad bad6 '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]}' \
	'linux.seccomp.flags\[0\]: unknown flag'
check "no defaultAction: an error" bad bad7 '{"syscalls": []}' 'no .*defaultAction'

# An unknown name in an allowing entry under a refusing default only
# refuses more: a warning, and the container runs.
S8=$(sc s8 '["sh", "-c", "echo ran"]' \
	'{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": '"${ALLOW_LIST%]}"', "future_call"], "action": "SCMP_ACT_ALLOW"}]}') ||
	bail_out "cannot make a bundle"
t_warn()
{
	oci run -b "$S8" s8 >"$W/s8.out" 2>"$W/s8.err"
	cat "$W/s8.out" "$W/s8.err" >&2
	grep -qx ran "$W/s8.out" && grep -q future_call "$W/s8.err"
}
check "an unknown name in an allow list under a refusing default: a warning, it runs" t_warn

t_nothing_left()
{
	[ -z "$(ls -A "$R" 2>/dev/null)" ] || { ls -la "$R" >&2; return 1; }
	! pgrep -f -- "--root $R" >&2
}
check "nothing left: no state, no process" t_nothing_left

done_testing
