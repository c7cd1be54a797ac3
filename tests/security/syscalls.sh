#!/bin/bash
# SPDX-License-Identifier: MIT
# Security: every privileged or dangerous syscall, by name, from probe.c.
# Each probe runs twice: natively as root (inside unshare(1)'s own mount,
# uts, ipc and net namespaces, so nothing it does stays on the host), where
# it must get past the kernel's permission check, which shows the probe
# detects the operation; and inside `moat run`, where it must be refused
# (or killed with SIGSYS), with a `deny` record in the audit log wherever
# the syscall table says the call is audited. Probes whose syscall this
# kernel lacks natively (ENOSYS: kexec, modules, I/O ports on some builds)
# say so and are still run inside. A table of the outcomes (native root,
# native nobody, moat) ends the output.
. "$(dirname "$0")/../integration/lib.sh"

require_moat

D=$(host_tmpdir)
chmod 755 "$D"
if ! have gcc || ! gcc -std=gnu17 -O2 -o "$D/probe" "$(dirname "$0")/probe.c"; then
	skip "the syscall probes" "cannot build tests/security/probe.c with gcc"
	done_testing
fi
if ! have unshare || ! unshare -m -u -i -n --propagation private true 2>/dev/null; then
	skip "the syscall probes" "unshare(1) cannot make throwaway namespaces for the native runs"
	done_testing
fi

# A file only the host's root shows: /var is not in the sandbox's view.
VARD=$(host_tmpdir /var/tmp)
MARK="$VARD/marker"
echo "host-marker-$$" >"$MARK"
HANDLE=$("$D/probe" name_to_handle_at "$MARK" | sed -n 's/^handle //p')
SYSCALLS=$("$MOAT" syscalls)

# probe_arg NAME: the argument a probe takes.
probe_arg()
{
	case $1 in
	chroot_escape) echo "$MARK" ;;
	open_by_handle_at) echo "$HANDLE" ;;
	sethostname) echo "moat-probe-$$" ;;
	esac
}

# The syscall a probe's audit record names (empty: the filter itself
# refuses it, without a record, or nothing is refused).
probe_syscall()
{
	local s=${1%%_new*}
	s=${s%_escape}
	s=${s%_aslr}
	case $1 in
	unshare_*) s=unshare ;;
	memfd_exec | vsyscall | unreadable | sethostname | write_exe | chroot_escape | clone*) return 0 ;;
	esac
	awk -v n="$s" '$2 == n && $4 ~ /audit/ { print n }' <<<"$SYSCALLS"
}

native_root()
{
	(cd "$D" && timeout 20 unshare -m -u -i -n --propagation private ./probe "$@" 2>&1 </dev/null)
}

native_nobody()
{
	(cd "$D" && timeout 20 setpriv --reuid 65534 --regid 65534 --clear-groups ./probe "$@" 2>&1 </dev/null)
}

TABLE=$T_TMP/table
printf '%-18s %-26s %-26s %s\n' probe "native root" "native nobody" moat >"$TABLE"

# outcome RC OUTPUT: "reached", "blocked ERRNO", "n/a", or "killed (SIG)".
outcome()
{
	local rc=$1 out=$2
	case $rc in
	0) echo reached ;;
	1) echo "blocked $(awk '{ print $3 }' <<<"$out" | tail -n 1)" ;;
	77) echo n/a ;;
	159) echo "killed (SIGSYS)" ;;
	*) echo "status $rc" ;;
	esac
}

# t_probe NAME: native root reaches it (unless this kernel lacks the
# syscall), moat refuses it and audits the refusal.
t_probe()
{
	local p=$1 arg nout nrc bout brc mout mrc sc r=0 log="$D/audit.$1"
	arg=$(probe_arg "$p")
	nout=$(native_root "$p" $arg)
	nrc=$?
	bout=$(native_nobody "$p" $arg)
	brc=$?
	mout=$(mrun --audit-log "$log" --bind "$D:/p:ro" -- /p/probe "$p" $arg 2>&1)
	mrc=$?
	printf '%-18s %-26s %-26s %s\n' "$p" "$(outcome $nrc "$nout")" "$(outcome $brc "$bout")" \
		"$(outcome $mrc "$mout")" >>"$TABLE"
	echo "native root: [$nout] ($nrc); nobody: [$bout] ($brc); moat: [$mout] ($mrc)" >&2
	case $nrc:$nout in
	0:*) ;;
	1:*ENOSYS*) echo "this kernel lacks $p natively: the native half cannot show detection" >&2
		echo "$p" >>"$T_TMP/native-enosys" ;;
	*) echo "the probe did not reach $p natively as root: it cannot detect it" >&2; r=1 ;;
	esac
	case $mrc in
	1 | 159) ;;
	*) echo "moat let $p through" >&2; r=1 ;;
	esac
	sc=$(probe_syscall "$p")
	if [ -n "$sc" ] && [ "$mrc" = 1 ] &&
		! grep -q "\"type\":\"deny\",\"syscall\":\"$sc\"" "$log"; then
		echo "no deny record for $sc in the audit log" >&2
		r=1
	fi
	return $r
}

for p in mount umount2 unshare_mnt unshare_uts unshare_ipc unshare_net unshare_pid \
	unshare_user unshare_cgroup unshare_time setns pivot_root chroot_escape bpf \
	perf_event_open userfaultfd keyctl add_key request_key io_uring_setup kexec_load \
	kexec_file_load init_module finit_module delete_module ptrace process_vm_writev \
	personality personality_aslr modify_ldt iopl ioperm clone_newuser clone_newns clone_newpid \
	clone_newnet clone3_newuser clone3_newns memfd_exec open_by_handle_at \
	name_to_handle_at acct swapon reboot settimeofday adjtimex syslog; do
	check "$p: natively root gets past the permission check, inside it is refused and audited" t_probe "$p"
done

# Where this kernel lacks a syscall natively, the native half of its check
# could not show detection: say so.
if [ -f "$T_TMP/native-enosys" ]; then
	for p in $(cat "$T_TMP/native-enosys"); do
		skip "$p: the native run reaches it" "this kernel does not have it (ENOSYS natively, e.g. compiled out)"
	done
fi

# Fail closed on guest memory the sentry cannot read (probe.c, p_unreadable):
# stat, open, readlink, chdir, execve and connect given a pointer into the
# [vvar] page, which the kernel reads for the task itself (natively ENOENT,
# EINVAL) but process_vm_readv cannot: each must be answered EFAULT, never
# let through to the kernel.
check "unreadable: a guest pointer the sentry cannot read is answered EFAULT, never passed on (natively the kernel reads it)" \
	t_probe unreadable

# clock_settime sets the clock to what it reads: never natively.
check "clock_settime: refused inside (not run natively: it would set the host clock)" \
	mrun --bind "$D:/p:ro" -- /bin/sh -c '! /p/probe clock_settime'

# sethostname is the sandbox's own: it works inside, the host's is unchanged.
t_sethostname()
{
	local host out name="moat-probe-$$"
	host=$(uname -n)
	[ "$(native_root sethostname "$name" | awk '{ print $2 }')" = reached ] ||
		{ echo "sethostname natively (own uts namespace) was not reached" >&2; return 1; }
	out=$(mrun --bind "$D:/p:ro" -- /bin/sh -c "/p/probe sethostname $name && uname -n")
	echo "inside: $out; host: $(uname -n)" >&2
	[ "$(tail -n 1 <<<"$out")" = "$name" ] && [ "$(uname -n)" = "$host" ] && [ "$host" != "$name" ]
}
check "sethostname: the sandbox's hostname changes, the host's does not (checked outside)" t_sethostname

# The vsyscall page: the kernel emulates its three calls (gettimeofday,
# time, getcpu), which meet the guest's filter as those syscalls with the
# page's address as instruction pointer; the filter kills them.
t_vsyscall()
{
	local out nat
	nat=$(native_root vsyscall)
	out=$(mrun --bind "$D:/p:ro" -- /p/probe vsyscall 2>&1)
	echo "moat: $out; native: $nat" >&2
	printf '%-18s %-26s %-26s %s\n' vsyscall "$(awk '{ print $2, $3, $4, $5, $6 }' <<<"$nat")" - \
		"$(awk '{ print $2, $3, $4, $5, $6 }' <<<"$out")" >>"$TABLE"
	grep -q 'killed by SYS' <<<"$out" || return 1
	case $nat in
	*reached*) ;;
	*) echo "natively the vsyscall page is not usable here: the native half shows nothing" >&2 ;;
	esac
}
if grep -q '\[vsyscall\]' /proc/self/maps; then
	check "vsyscall: a call into the vsyscall page kills the guest (SIGSYS); natively it answers" t_vsyscall
else
	skip "vsyscall: a call into the vsyscall page kills the guest" "this kernel maps no vsyscall page (vsyscall=none)"
fi

# docs/security.md lists every syscall that reaches the host kernel.
t_doc_table()
{
	local doc table
	doc=$(sed -n '/^<!-- generated: moat syscalls/,/^<!-- end of the generated table/p' \
		"$(dirname "$0")/../../docs/security.md" | sed -n 's/^| `\([a-z0-9_]*\)` | .*/\1/p' | sort)
	table=$(awk 'NR > 1 && $3 == "PASS" { print $2 }' <<<"$SYSCALLS" | sort)
	diff <(echo "$doc") <(echo "$table") >&2
}
if [ -f "$(dirname "$0")/../../docs/security.md" ]; then
	check "docs/security.md lists exactly the syscalls the table passes to the host kernel" t_doc_table
else
	skip "docs/security.md lists exactly the passed syscalls" "no docs/ in this tree"
fi

# docs/host-syscalls.md is what `moat syscalls --host --markdown` prints,
# and every allowed call of the sentry, the gofer and the network helper
# has its line of why.
t_host_doc()
{
	local doc out
	doc=$(dirname "$0")/../../docs/host-syscalls.md
	out=$("$MOAT" syscalls --host --markdown) || return 1
	diff <(echo "$out") "$doc" >&2 || { echo "docs/host-syscalls.md is not what moat prints" >&2; return 1; }
	! grep -E '^\| `[a-z0-9_]+` \|[^|]*\| *\|$' <<<"$out" >&2
}
if [ -n "${MOAT_SANITIZED:-}" ]; then
	# a sanitizer build allows the runtime's few calls more (hostfilter.c)
	skip "docs/host-syscalls.md is moat syscalls --host" "a sanitized build's lists have the sanitizer's calls too"
elif [ -f "$(dirname "$0")/../../docs/host-syscalls.md" ]; then
	check "docs/host-syscalls.md is moat syscalls --host, with a why for every allowed call" t_host_doc
else
	skip "docs/host-syscalls.md is moat syscalls --host" "no docs/ in this tree"
fi

diag "$(cat "$TABLE")"
done_testing
