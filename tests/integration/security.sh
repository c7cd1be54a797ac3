#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: what a guest must not do or see, checked from outside the
# sandbox wherever the host is what matters. Never destructive to host files:
# the guest only ever tries to create new, uniquely named ones.
. "$(dirname "$0")/lib.sh"

require_moat

# Some probes below (mount, unshare) would change the host if moat let them
# through in the host's namespaces. Run them only once the guest is seen, from
# outside, in its own mount namespace with its own /tmp.
t_isolated()
{
	local tag="moat-sec-guard-$$-$RANDOM" m="moat-sec-guard-$$-$RANDOM" r=0
	: >"/tmp/$m.host"
	mrun -- /bin/sh -c "test ! -e /tmp/$m.host && : > /tmp/$m.guest" || r=1
	[ -e "/tmp/$m.guest" ] && r=1
	rm -f "/tmp/$m.host" "/tmp/$m.guest"
	[ "$r" = 0 ] || { echo "the guest shares the host's /tmp" >&2; return 1; }
	start_guest "$tag" 'import time; print("ready", flush=True); time.sleep(30)' || return 1
	[ "$(readlink "/proc/$GUEST_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] || r=1
	kill -9 "$GUEST_PID"
	wait "$MOAT_PID"
	[ "$r" = 0 ] || echo "the guest is in the host's mount namespace" >&2
	[ "$r" = 0 ]
}
check "guard: the guest has its own /tmp and mount namespace" t_isolated
if [ "$T_RC" != 0 ]; then
	diag "not running probes that could change the host"
	done_testing
fi

U="moat-sec-$$-$RANDOM"
HOSTD=$(host_tmpdir)
echo "keep me" >"$HOSTD/keep"

# --- writes outside /tmp never reach the host -------------------------------------
# With --read-only they fail; by default they land in the in-memory overlay.
t_write_outside()
{
	local bad=0 d out
	for d in / /etc /usr /usr/bin /bin /lib; do
		out=$(mrun --read-only -- /bin/sh -c "{ echo x > '${d%/}/$U'; } 2>&1; echo \$?")
		echo "$d: $out" >&2
		case $out in
		*"Read-only file system"* | *"Permission denied"*) ;;
		*) bad=1 ;;
		esac
		[ -e "${d%/}/$U" ] && { echo "${d%/}/$U appeared on the host" >&2; rm -f "${d%/}/$U"; bad=1; }
	done
	out=$(mrun --read-only -- /bin/sh -c "mkdir /etc/$U 2>&1; touch /usr/$U 2>&1; ln -s x /etc/$U.l 2>&1; echo done")
	echo "$out" >&2
	if [ -e "/etc/$U" ] || [ -e "/usr/$U" ] || [ -L "/etc/$U.l" ]; then
		echo "mkdir/touch/ln reached the host" >&2
		rmdir "/etc/$U"; rm -f "/usr/$U" "/etc/$U.l"
		bad=1
	fi
	[ "$(grep -c 'Read-only file system\|Permission denied' <<<"$out")" = 3 ] || bad=1
	[ "$bad" = 0 ]
}
check "--read-only: writes outside /tmp fail (EROFS/EACCES) and nothing appears on the host" t_write_outside

t_write_overlay()
{
	local bad=0 d out
	for d in / /etc /usr /usr/bin /bin /lib; do
		out=$(mrun -- /bin/sh -c "echo x > '${d%/}/$U' && cat '${d%/}/$U' && mkdir '${d%/}/$U.d' && ln -s x '${d%/}/$U.l' && echo ok")
		echo "$d: $out" >&2
		[ "$out" = "x
ok" ] || bad=1
		if [ -e "${d%/}/$U" ] || [ -e "${d%/}/$U.d" ] || [ -L "${d%/}/$U.l" ]; then
			echo "a write in $d reached the host" >&2
			rm -f "${d%/}/$U" "${d%/}/$U.l"; rmdir "${d%/}/$U.d"
			bad=1
		fi
	done
	[ "$bad" = 0 ]
}
check "overlay: writes anywhere succeed inside and nothing appears on the host" t_write_overlay

check "a read-only bind refuses rm, chmod, truncate, rename" \
	mrun --bind "$HOSTD:/data:ro" -- /bin/sh -c \
	'! rm /data/keep && ! chmod 000 /data/keep && ! truncate -s 0 /data/keep && ! (: > /data/keep) && ! mv /data/keep /data/k2 && ! touch /data/new'
check "... and the host file is unchanged" /bin/sh -c \
	"[ \"\$(cat '$HOSTD/keep')\" = 'keep me' ] && [ \"\$(stat -c %a '$HOSTD/keep')\" = 644 ] && [ ! -e '$HOSTD/new' ] && [ ! -e '$HOSTD/k2' ]"

t_tmp_private()
{
	echo "host marker" >"/tmp/$U.host"
	at_exit "rm -f '/tmp/$U.host'"
	out=$(mrun -- /bin/sh -c "echo guest > /tmp/$U.guest && cat /tmp/$U.guest; ls -A /tmp; test -e /tmp/$U.host && echo HOST-MARKER-VISIBLE")
	echo "$out" >&2
	[ -e "/tmp/$U.guest" ] && { echo "/tmp/$U.guest appeared on the host" >&2; rm -f "/tmp/$U.guest"; return 1; }
	[ "$out" = "guest
$U.guest" ]
}
check "/tmp is the guest's own: its file never reaches the host, the host's are invisible" t_tmp_private

# --- hidden host directories: no host entry is visible inside ----------------------
# A marker is created in each directory (removed at exit), so even an empty
# host directory has something that must stay invisible.
t_hidden()
{
	local d bad=0 host guest common
	for d in "$@"; do
		[ -d "$d" ] || continue
		if [ -w "$d" ] && [ "$d" != /mnt ] && [ "$d" != /run ]; then
			: >"$d/.$U" && at_exit "rm -f '$d/.$U'"
		fi
		host=$(ls -A "$d" | sort)
		guest=$(mrun -- /bin/sh -c "ls -A '$d' 2>/dev/null" | sort)
		common=$(comm -12 <(echo "$host") <(echo "$guest") | grep -v '^$')
		echo "$d: inside [$(echo $guest | tr "\n" " ")]" >&2
		if [ -n "$common" ]; then
			echo "$d: host entries visible inside: $(echo $common | tr "\n" " ")" >&2
			bad=1
		fi
	done
	[ "$bad" = 0 ]
}
check "/root and /home are invisible" t_hidden /root /home
check "/srv, /mnt, /opt, /var, /run, /media are invisible" t_hidden /srv /mnt /opt /var /run /media

t_masked()
{
	local f bad=0 out
	for f in "$@"; do
		[ -e "$f" ] || { echo "$f: not on this host" >&2; continue; }
		out=$(mrun -- /bin/cat "$f" 2>/dev/null)
		if [ -n "$out" ] && grep -qxFf <(grep -v '^$' "$f") <<<"$out"; then
			echo "$f: host content visible inside" >&2
			bad=1
		else
			echo "$f: masked (${#out} bytes inside)" >&2
		fi
	done
	[ "$bad" = 0 ]
}
check "/etc/shadow and /etc/gshadow are masked" t_masked /etc/shadow /etc/gshadow
KEYS=$(ls /etc/ssh/ssh_host_*_key /etc/ssl/private/* 2>/dev/null)
if [ -z "$KEYS" ] && [ -d /etc/ssl/private ] && [ -w /etc/ssl/private ]; then
	# No key on this host: plant a fake one for the length of the test.
	KEYS=/etc/ssl/private/$U.key
	echo "MOAT-TEST-FAKE-PRIVATE-KEY $U" >"$KEYS" && chmod 600 "$KEYS"
	at_exit "rm -f '$KEYS'"
fi
if [ -n "$KEYS" ]; then
	# shellcheck disable=SC2086
	check "private keys (/etc/ssh/ssh_host_*_key, /etc/ssl/private) are masked" t_masked $KEYS
else
	skip "private keys (/etc/ssh/ssh_host_*_key, /etc/ssl/private) are masked" "no private keys on this host"
fi
if [ -e /etc/sudoers ]; then
	check "/etc/sudoers is masked" t_masked /etc/sudoers
else
	skip "/etc/sudoers is masked" "no /etc/sudoers on this host"
fi

# --- no way around the view: symlinks, .., /proc/*/root --------------------------------
t_view()
{
	local script='
cd /tmp
ln -s /etc/shadow l-shadow
ln -s /../../root l-root
ln -s ../../../../../../../../root l-rel
ln -s /proc/self/root/../../.. l-proc
ln -s l-loop l-loop
echo shadow: $(cat l-shadow 2>/dev/null | head -c 40)
echo root: $(ls -A l-root/ 2>/dev/null)
echo rel: $(ls -A l-rel/ 2>/dev/null)
echo proc: $(ls -A l-proc/root/ 2>/dev/null)
echo loop: $(cat l-loop 2>&1 | grep -c "symbolic links")
cd /tmp/../../../../..; echo up: $(pwd)
echo dotdot: $(ls -A /tmp/../../../root/ 2>/dev/null)
echo p1: $(ls -A /proc/1/root/root/ 2>/dev/null)
echo p1up: $(ls -A /proc/1/root/../../../root/ 2>/dev/null)
echo self: $(ls -A /proc/self/root/../root/ 2>/dev/null)
'
	local out host_root line bad=0 e
	out=$(mrun -- /bin/sh -c "$script") || return 1
	echo "$out" >&2
	grep -qx 'up: /' <<<"$out" || bad=1
	grep -qx 'loop: 1' <<<"$out" || bad=1
	grep -q '^shadow: .*:' <<<"$out" && bad=1
	# No entry of the host's /root shows through any of these paths.
	for e in $(ls -A /root); do
		grep -E "^(root|rel|proc|dotdot|p1|p1up|self):.* $e( |$)" <<<"$out" >&2 && bad=1
	done
	[ "$bad" = 0 ]
}
check "symlinks to /etc/shadow, /../../root, .. chains, /proc/1/root stay in the sandbox" t_view

t_bound_symlinks()
{
	local d out e bad=0
	d=$(host_tmpdir) || return 1
	ln -s /root "$d/abs"
	ln -s ../../../../../../../../root "$d/rel"
	ln -s /etc/shadow "$d/shadow"
	out=$(mrun --bind "$d:/data:ro" -- /bin/sh -c \
		'echo abs: $(ls -A /data/abs/ 2>/dev/null); echo rel: $(ls -A /data/rel/ 2>/dev/null); echo shadow: $(head -c 40 /data/shadow 2>/dev/null)')
	echo "$out" >&2
	for e in $(ls -A /root); do
		grep -E "^(abs|rel):.* $e( |$)" <<<"$out" >&2 && bad=1
	done
	grep -q '^shadow: .*:' <<<"$out" && bad=1
	[ "$bad" = 0 ]
}
check "host symlinks in a bind resolve in the sandbox's view, not the host's" t_bound_symlinks

# --- privileged operations fail -------------------------------------------------------
check "mount -t tmpfs x /tmp fails" mrun -- /bin/sh -c '! mount -t tmpfs x /tmp'
check "unshare -r true fails" mrun -- /bin/sh -c '! unshare -r true'
check "unshare -m true fails" mrun -- /bin/sh -c '! unshare -m true'
t_ptrace()
{
	mrun -- python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
pid = os.fork()
if pid == 0:
    time.sleep(10)
    os._exit(0)
r1 = libc.ptrace(16, pid, None, None)   # PTRACE_ATTACH
e1 = ctypes.get_errno()
os.kill(pid, 9)
os.waitpid(pid, 0)
r2 = libc.ptrace(0, 0, None, None)      # PTRACE_TRACEME
e2 = ctypes.get_errno()
print("attach", r1, os.strerror(e1), "traceme", r2, os.strerror(e2))
sys.exit(0 if r1 == -1 and r2 == -1 else 1)
'
}
check "ptrace (PTRACE_ATTACH to a child, PTRACE_TRACEME) fails" t_ptrace
if have strace; then
	check "strace true fails inside" mrun -- /bin/sh -c '! strace -f true 2>/dev/null'
else
	skip "strace true fails inside" "strace is not installed on the host"
fi

# --- 32-bit and x32 entry points kill the guest --------------------------------------------
if have gcc; then
	cat >"$HOSTD/int80.c" <<'EOF'
int main(void)
{
	long ret;
	/* 32-bit getpid (20) through the int $0x80 entry point. */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret > 0 ? 0 : 1;
}
EOF
	if gcc -O2 -o "$HOSTD/int80" "$HOSTD/int80.c" && sh -c '"$1"' _ "$HOSTD/int80" 2>/dev/null; then
		diag "int \$0x80 natively: a 32-bit getpid answered (this kernel has ia32 emulation)"
		check_status "a 32-bit syscall (int \$0x80) kills the guest with SIGSYS (159)" 159 \
			mrun --bind "$HOSTD:/h:ro" -- /h/int80
	else
		skip "a 32-bit syscall (int \$0x80) kills the guest with SIGSYS (159)" \
			"this kernel has no ia32 emulation"
	fi
else
	skip "a 32-bit syscall (int \$0x80) kills the guest with SIGSYS (159)" "gcc is not installed"
fi
# sysenter from 64-bit code: Intel CPUs enter the kernel's 32-bit entry
# (the filter sees AUDIT_ARCH_I386 and kills: SIGSYS), AMD CPUs refuse the
# instruction in long mode (SIGILL) before any kernel entry. Either way the
# call never returns a result; natively it shows which this CPU does.
if have gcc; then
	cat >"$HOSTD/sysenter.c" <<'EOF'
#include <stdio.h>
int main(void)
{
	long ret;
	/* 32-bit getpid (20) through sysenter; ebp is the 32-bit ABI's stack
	 * pointer for the sixth argument. */
	__asm__ volatile("push %%rbp\n\tmov %%rsp, %%rbp\n\tsysenter\n\tpop %%rbp"
			 : "=a"(ret) : "a"(20L) : "memory", "rcx", "rdx", "r11");
	printf("survived %ld\n", ret);
	return 0;
}
EOF
	if gcc -O2 -o "$HOSTD/sysenter" "$HOSTD/sysenter.c"; then
		sh -c '"$1"' _ "$HOSTD/sysenter" >/dev/null 2>&1
		diag "sysenter natively: status $? on this $(grep -m1 vendor_id /proc/cpuinfo | awk '{ print $3 }') CPU (132: the CPU refuses it in 64-bit mode; 0: the kernel's 32-bit entry answered)"
		t_sysenter()
		{
			local nat rc out
			sh -c '"$1"' _ "$HOSTD/sysenter" >/dev/null 2>&1
			nat=$?
			out=$(mrun --bind "$HOSTD:/h:ro" -- /h/sysenter 2>&1)
			rc=$?
			echo "sysenter: natively status $nat (132: this CPU, $(grep -m1 vendor_id /proc/cpuinfo | awk '{ print $3 }'), refuses it), inside $rc [$out]" >&2
			{ [ "$rc" = 159 ] || [ "$rc" = 132 ]; } && ! grep -q survived <<<"$out"
		}
		check "sysenter never returns a result inside: SIGSYS (159), or SIGILL (132) where the CPU refuses it" t_sysenter
	fi
fi
X32_NAT=$(python3 -c 'import ctypes, os; r = ctypes.CDLL(None, use_errno=True).syscall(0x40000000 | 39); print(r, os.strerror(ctypes.get_errno()) if r < 0 else "")')
case $X32_NAT in
-1*) diag "an x32 getpid natively: [$X32_NAT]: this kernel has no x32 ABI, only the filter's kill is shown" ;;
*) diag "an x32 getpid natively: [$X32_NAT]: this kernel has the x32 ABI" ;;
esac
t_x32()
{
	local out rc
	out=$(mrun -- python3 -c 'import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39); print("survived")' 2>&1)
	rc=$?
	[ "$rc" = 159 ] && ! grep -q survived <<<"$out"
}
check "an x32 syscall number kills the guest with SIGSYS (159)" t_x32

# --- the host's identity does not leak ---------------------------------------------------
t_differs()
{
	local host=$1 guest
	shift
	guest=$(mrun -- "$@") || return 1
	echo "host [$host], inside [$guest]" >&2
	[ -n "$guest" ] && [ "$guest" != "$host" ]
}
check "uname -r differs from the host's" t_differs "$(uname -r)" /bin/uname -r
check "uname -n differs from the host's" t_differs "$(uname -n)" /bin/uname -n
if have hostname; then
	check "hostname differs from the host's" t_differs "$(hostname)" hostname
else
	skip "hostname differs from the host's" "no hostname program"
fi
t_proc_version()
{
	local v
	v=$(mrun -- /bin/cat /proc/version 2>/dev/null)
	echo "inside: $v" >&2
	! grep -qF -- "$(uname -r)" <<<"$v" && ! grep -qF -- "$(uname -v)" <<<"$v"
}
check "/proc/version names neither the host's release nor version" t_proc_version
t_no_host_strings()
{
	local f out
	for f in /proc/sys/kernel/hostname /proc/sys/kernel/osrelease /etc/hostname; do
		out=$(mrun -- /bin/cat "$f" 2>/dev/null)
		echo "$f: [$out]" >&2
		grep -qF -- "$(uname -r)" <<<"$out" && return 1
		grep -qxF -- "$(uname -n)" <<<"$out" && return 1
	done
	return 0
}
check "/proc/sys/kernel/{hostname,osrelease} and /etc/hostname are the sandbox's" t_no_host_strings

t_pids()
{
	local out
	out=$(mrun -- /bin/sh -c 'echo $$; ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\n" " "') || return 1
	echo "$out" >&2
	local first=${out%%$'\n'*} rest
	rest=$(sed -n 2p <<<"$out")
	[ "$first" -le 2 ] || return 1
	set -- $rest
	[ $# -ge 1 ] && [ $# -le 10 ] || return 1
	for p; do [ "$p" -lt 100 ] || return 1; done
}
# dash's pipeline forks can meet seccomp's pre-receive EINTR window
# ("Cannot fork", docs/architecture.md "Known limits"): three attempts.
t_pids3() { t_pids || t_pids || t_pids; }
check "the guest's pids are its own (first is 1 or 2, /proc lists a few)" t_pids3

# --- network is off ------------------------------------------------------------------------------
t_net()
{
	local port pid out
	python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(30)
try:
    c, _ = s.accept(); c.sendall(b"HOST-LISTENER\n")
except OSError:
    pass
' >"$T_TMP/port" &
	pid=$!
	wait_for_file "$T_TMP/port" '[0-9]' || return 1
	port=$(head -n 1 "$T_TMP/port")
	out=$(mrun -- python3 -c '
import socket, sys
port = int(sys.argv[1])
r = []
for addr in [("127.0.0.1", port), ("10.255.255.1", 9), ("169.254.169.254", 80)]:
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect(addr); r.append("CONNECTED %s:%d %r" % (addr[0], addr[1], s.recv(64)))
    except OSError as e:
        r.append("refused %s:%d %s" % (addr[0], addr[1], e.__class__.__name__))
print("\n".join(r))
' "$port")
	kill "$pid" 2>/dev/null
	echo "$out" >&2
	[ -n "$out" ] && ! grep -q CONNECTED <<<"$out"
}
check "network is off: the host's loopback and outside addresses are unreachable" t_net

# --- from outside: the guest's host process ---------------------------------------------------
t_outside()
{
	local tag="moat-sec-outside-$$-$RANDOM" bad=0 f st rootls gpid
	start_guest "$tag" '
import os, time
fd = os.open("/usr", os.O_RDONLY | os.O_DIRECTORY)
f = open("/etc/passwd")
os.chdir("/etc")
print("ready", flush=True)
time.sleep(60)' || return 1
	gpid=$GUEST_PID
	st=$(cat "/proc/$gpid/status")
	grep -E '^(Uid|Gid|CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' <<<"$st" >&2
	[ "$(awk '/^Uid:/ { print $2 }' <<<"$st")" != 0 ] || { echo "guest runs as host uid 0" >&2; bad=1; }
	grep -q '^CapEff:[[:space:]]*0000000000000000$' <<<"$st" || { echo "guest has capabilities" >&2; bad=1; }
	grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$st" || { echo "no_new_privs not set" >&2; bad=1; }
	grep -q '^Seccomp:[[:space:]]*2$' <<<"$st" || { echo "no seccomp filter" >&2; bad=1; }
	for ns in pid net mnt ipc uts cgroup; do
		[ "$(readlink "/proc/$gpid/ns/$ns")" != "$(readlink /proc/self/ns/$ns)" ] ||
			{ echo "guest in the host $ns namespace" >&2; bad=1; }
	done
	# Its host root is empty, apart from the ELF interpreter at most.
	rootls=$(cd "/proc/$gpid/root" 2>/dev/null && find . -xdev -mindepth 1 ! -type d 2>/dev/null | grep -v 'ld-linux' | head)
	echo "host root of the guest: [$(cd "/proc/$gpid/root" && find . -mindepth 1 -maxdepth 3 2>/dev/null | head -20 | tr '\n' ' ')]" >&2
	[ -z "$rootls" ] || { echo "files in the guest's host root: $rootls" >&2; bad=1; }
	# It holds no fd of a host directory (an open directory is a placeholder).
	for f in /proc/"$gpid"/fd/*; do
		if [ -d "$f" ]; then
			echo "fd ${f##*/} is a host directory: $(readlink "$f")" >&2
			bad=1
		fi
	done
	# chdir("/etc") was the sentry's business: the host cwd did not move there.
	if [ -e "/proc/$gpid/cwd/passwd" ]; then
		echo "the guest's host cwd is the host's /etc" >&2
		bad=1
	fi
	kill -9 "$gpid"
	wait "$MOAT_PID"
	[ "$bad" = 0 ]
}
check "from outside: unprivileged host uid, no caps, no_new_privs, seccomp, own namespaces, empty root, no directory fds" t_outside

t_fail_closed()
{
	local tag="moat-sec-failclosed-$$-$RANDOM" sentry left="" i
	start_guest "$tag" 'import time; print("ready", flush=True); time.sleep(60)' || return 1
	sentry=$(pgrep -P "$MOAT_PID" | head -n 1) # moat itself, the child of timeout
	[ -n "$sentry" ] || { echo "moat's own pid not found" >&2; kill -9 "$GUEST_PID"; return 1; }
	kill -9 "$sentry"
	for i in $(seq 30); do
		left=$(pgrep -f -- "$tag")
		[ -z "$left" ] && break
		sleep 0.1
	done
	wait "$MOAT_PID"
	if [ -n "$left" ]; then
		echo "still running 3 s after moat was killed:" >&2
		ps -o pid=,ppid=,cmd= -p "$(echo $left | tr ' ' ,)" >&2
		kill -9 $left
		return 1
	fi
}
check "fail closed: when moat itself is SIGKILLed, the whole sandbox dies" t_fail_closed

# --- the audit log -------------------------------------------------------------------
t_audit()
{
	local log="$HOSTD/audit.jsonl"
	mrun --audit-log "$log" -- /bin/sh -c 'mount -t tmpfs x /tmp 2>/dev/null; /bin/echo audit-argv-1 audit-argv-2 >/dev/null; exit 5'
	[ $? = 5 ] || { echo "guest status lost" >&2; return 1; }
	[ -s "$log" ] || { echo "no audit log written" >&2; return 1; }
	head -n 20 "$log" >&2
	python3 - "$log" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert all(isinstance(r, dict) and "type" in r and "time" in r for r in recs), \
    "every line is a JSON object with a type and a time"
fails = []
if recs[0]["type"] != "start":
    fails.append("the first record is not the start")
if recs[-1]["type"] != "exit" or str(recs[-1].get("status")) != "5":
    fails.append("the last record is not the exit with status 5")
if not any(r["type"] == "exec" and r.get("argv") == ["/bin/echo", "audit-argv-1", "audit-argv-2"]
           for r in recs):
    fails.append("no exec record with the argv of /bin/echo")
if not any(r["type"] == "deny" and r.get("syscall") == "mount" for r in recs):
    fails.append("no deny record for mount")
print("%d records, types %s" % (len(recs), sorted(set(r["type"] for r in recs))))
if fails:
    print("; ".join(fails))
    sys.exit(1)
EOF
}
check "--audit-log: JSON lines with start, exec+argv, denied mount, exit" t_audit

# --- netlink: route and sock_diag only (issue 6) ----------------------------------
# A uevent socket would receive the host's device events (kobject uevents are
# not per network namespace for the kernel's own broadcasts).
t_netlink()
{
	mrun -- python3 -c '
import errno, socket, sys
AF_NETLINK, NETLINK_ROUTE, NETLINK_SOCK_DIAG, NETLINK_AUDIT, NETLINK_KOBJECT_UEVENT = 16, 0, 4, 9, 15
socket.socket(AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE).close()
socket.socket(AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG).close()
for proto in (NETLINK_KOBJECT_UEVENT, NETLINK_AUDIT, 12, 31):
    try:
        socket.socket(AF_NETLINK, socket.SOCK_RAW, proto)
    except OSError as e:
        if e.errno != errno.EPROTONOSUPPORT:
            sys.exit("netlink protocol %d: %s" % (proto, e))
    else:
        sys.exit("netlink protocol %d was allowed" % proto)
'
}
check "AF_NETLINK: route and sock_diag work, uevent, audit and others give EPROTONOSUPPORT" t_netlink

# --- Linux AIO would draw on the host-wide fs.aio-max-nr (issue 6) ------------------
t_aio()
{
	mrun -- python3 -c '
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
ctx = ctypes.c_ulong(0)
if libc.syscall(206, 1024, ctypes.byref(ctx)) != -1 or ctypes.get_errno() != errno.ENOSYS:
    sys.exit("io_setup was not refused with ENOSYS")
'
}
check "io_setup is refused (ENOSYS), so a guest cannot use up the host's AIO contexts" t_aio

# --- root inside is not root over host files (issue 6) ------------------------------
# Host system files are served with the permissions of an unprivileged host
# user: a root-only file, a hard link to a masked secret and the contents of a
# root-only directory stay unreadable to the guest's root; /etc shows an
# allowlist. Binding a directory explicitly makes its files readable.
t_root_only_host_files()
{
	local d=/usr/local/share f="moat-sec-ro-$$-$RANDOM" r=0 out
	echo "host-secret-$f" >"$d/$f.file" && chmod 600 "$d/$f.file" || return 1
	at_exit "rm -rf '$d/$f.file' '$d/$f.link' '$d/$f.dir' '/etc/$f'"
	ln /etc/shadow "$d/$f.link" 2>/dev/null || echo "no hard link across filesystems: link case not tried" >&2
	mkdir -m 700 "$d/$f.dir" && echo "host-secret-$f" >"$d/$f.dir/inner" && chmod 644 "$d/$f.dir/inner"
	echo "host-secret-$f" >"/etc/$f" && chmod 600 "/etc/$f"
	for args in "" "--rootfs /"; do
		# shellcheck disable=SC2086
		out=$(mrun $args -- /bin/sh -c "cat '$d/$f.file' '$d/$f.dir/inner' '/etc/$f'; ls '$d/$f.dir'; test -e '$d/$f.link' && head -c 64 '$d/$f.link'; id -u" 2>&1)
		echo "[$args] $out" >&2
		case $out in *"host-secret-$f"* | *'root:'*) r=1 ;; esac
		case $out in *0) ;; *) r=1 ;; esac
	done
	out=$(mrun --bind "$d:/mnt" -- cat "/mnt/$f.file")
	[ "$out" = "host-secret-$f" ] || { echo "a bound root-only file is not readable: $out" >&2; r=1; }
	out=$(mrun -- /bin/sh -c 'ls /etc')
	for x in shadow gshadow sudoers fstab cron.d systemd pam.d "$f"; do
		grep -qx "$x" <<<"$out" && { echo "/etc/$x is listed" >&2; r=1; }
	done
	for x in passwd group ld.so.cache nsswitch.conf ssl; do
		grep -qx "$x" <<<"$out" || { echo "/etc/$x is missing" >&2; r=1; }
	done
	return $r
}
check "guest root cannot read root-only host files, hard links to secrets or root-only directories; /etc is an allowlist" t_root_only_host_files

# --- the sentry itself sees nothing of the host's files (issue 6) -------------------
# Checked from outside: the moat process (the sentry) runs in a mount
# namespace of its own whose root holds only /proc and a few device nodes.
t_sentry_mounts()
{
	local sentry r=0 root
	start_guest "moat-sec-sentry-$$" 'import time; print("ready", flush=True); time.sleep(30)' || return 1
	sentry=$(pgrep -P "$MOAT_PID" -x moat | head -n 1)
	if [ -z "$sentry" ]; then
		echo "no moat process under $MOAT_PID" >&2
		r=1
	else
		root=$(ls -A "/proc/$sentry/root/" | tr '\n' ' ')
		echo "the sentry's root: $root" >&2
		[ "$root" = "dev proc tmp " ] || r=1
		[ -z "$(ls -A "/proc/$sentry/root/tmp/")" ] || r=1
		[ "$(readlink "/proc/$sentry/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] || r=1
		[ ! -e "/proc/$sentry/root/etc/passwd" ] || r=1
		# Its /proc shows processes only: nothing system-wide to write.
		for f in sysrq-trigger sys kcore meminfo; do
			[ ! -e "/proc/$sentry/root/proc/$f" ] || { echo "the sentry sees /proc/$f" >&2; r=1; }
		done
		[ -e "/proc/$sentry/root/proc/self" ] || r=1
	fi
	kill -9 "$GUEST_PID"
	wait "$MOAT_PID"
	return $r
}
check "the sentry runs in its own mount namespace holding only a pid-only /proc, device nodes and a private /tmp" t_sentry_mounts

# --- the sentry runs under its own seccomp allowlist (issue 6) ----------------------
t_sentry_filter()
{
	local sentry r=0 st
	start_guest "moat-sec-filter-$$" 'import time; print("ready", flush=True); time.sleep(30)' || return 1
	sentry=$(pgrep -P "$MOAT_PID" -x moat | head -n 1)
	grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' "/proc/$sentry/status" >&2
	grep -q '^Seccomp:[[:space:]]*2' "/proc/$sentry/status" || r=1
	grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$sentry/status" || r=1
	# Not root: the sandbox's own unprivileged uid (the guest's), and no
	# capability at all with the default view.
	local suid guid
	suid=$(awk '/^Uid:/ { print $2 }' "/proc/$sentry/status")
	guid=$(awk '/^Uid:/ { print $2 }' "/proc/$GUEST_PID/status")
	grep -E '^(Uid|CapEff|CapPrm|CapBnd):' "/proc/$sentry/status" >&2
	[ "$suid" != 0 ] && [ "$suid" = "$guid" ] || { echo "sentry uid $suid, guest uid $guid" >&2; r=1; }
	grep -q '^CapPrm:[[:space:]]*0000000000000000' "/proc/$sentry/status" || r=1
	grep -q '^CapBnd:[[:space:]]*0000000000000000' "/proc/$sentry/status" || r=1
	kill -9 "$GUEST_PID"
	wait "$MOAT_PID"
	# A call outside the list kills the sentry, and the sandbox with it.
	MOAT_TEST_HOSTFILTER=selftest timeout 20 "$MOAT" run -- /bin/sh -c 'sleep 5; echo survived' \
		>"$T_TMP/selftest.out" 2>&1 </dev/null
	st=$?
	echo "selftest: status $st, output: $(head -c 200 "$T_TMP/selftest.out")" >&2
	[ "$st" = $((128 + 31)) ] || r=1 # SIGSYS
	grep -q survived "$T_TMP/selftest.out" && r=1
	return $r
}
check "the sentry runs as the sandbox's unprivileged uid with no capability, under its own seccomp allowlist; a call outside it kills the sandbox" t_sentry_filter

# --- the gofer runs under its own allowlist too (issue 9) ---------------------------
t_gofer_filter()
{
	local gofer r=0
	start_guest "moat-sec-gofer-$$" 'import time; print("ready", flush=True); time.sleep(30)' || return 1
	gofer=$(pgrep -x moat-gofer -P "$(pgrep -P "$MOAT_PID" -x moat | head -n 1)" | head -n 1)
	[ -z "$gofer" ] && gofer=$(pgrep -x moat-gofer | while read -r p; do
		[ "$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")" = "$MOAT_PID" ] && echo "$p"; done | head -n 1)
	if [ -z "$gofer" ]; then
		echo "no gofer found under $MOAT_PID: $(pstree -p "$MOAT_PID" 2>/dev/null)" >&2
		r=1
	else
		grep -E '^(Seccomp|NoNewPrivs):' "/proc/$gofer/status" >&2
		grep -q '^Seccomp:[[:space:]]*2' "/proc/$gofer/status" || r=1
		grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$gofer/status" || r=1
	fi
	kill -9 "$GUEST_PID"
	wait "$MOAT_PID"
	# The list it runs under is the one moat prints (docs/host-syscalls.md).
	"$MOAT" syscalls --host | grep -q "^# the gofer's allowlist" || r=1
	return $r
}
check "the gofer runs under its own seccomp allowlist, which moat syscalls --host lists" t_gofer_filter

# A call outside each helper's list kills it (SIGSYS), and the sandbox fails
# closed: the command never runs. Without the test switch the same runs.
t_helper_selftest()
{
	local var=$1 out st
	shift
	out=$(env "$var=selftest" timeout 30 "$MOAT" run "$@" -- /bin/sh -c 'echo ran' 2>&1 </dev/null)
	st=$?
	echo "$var=selftest: status $st: $out" >&2
	[ "$st" = 125 ] && grep -q 'killed by SIGSYS' <<<"$out" && ! grep -qx ran <<<"$out" || return 1
	[ "$(timeout 30 "$MOAT" run "$@" -- /bin/sh -c 'echo ran' 2>&1 </dev/null)" = ran ]
}
check "a call outside the gofer's allowlist kills it (SIGSYS) and the sandbox with it" \
	t_helper_selftest MOAT_TEST_GOFERFILTER
if [ -c /dev/net/tun ]; then
	check "a call outside the network helper's allowlist kills it (SIGSYS) and the sandbox with it" \
		t_helper_selftest MOAT_TEST_NETFILTER --net=sandbox
else
	skip "the network helper's allowlist kills" "no /dev/net/tun for --net=sandbox"
fi

# --- processes outside: nothing inside can reach them (issue 8) -------------------
# A host process of the guest's own host uid would be the easiest target,
# so the victim runs as that uid: moat's default range starts at
# 2147418112; any uid of it will do, as the kernel sees only numbers.
REACH_PY='
import ctypes, errno, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
host = [int(p) for p in sys.argv[1:]]
def err(f):
    try:
        r = f()
        return "ok" if not isinstance(r, int) or r >= 0 else errno.errorcode[ctypes.get_errno()]
    except OSError as e:
        return errno.errorcode[e.errno]
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
buf = ctypes.create_string_buffer(64)
lio, rio = iovec(ctypes.addressof(buf), 64), iovec(0x400000, 64)
for p in host:
    print(p, "kill", err(lambda: os.kill(p, 0)))
    print(p, "sigkill", err(lambda: os.kill(p, signal.SIGKILL)))
    print(p, "ptrace", err(lambda: libc.ptrace(16, p, 0, 0)))       # PTRACE_ATTACH
    print(p, "seize", err(lambda: libc.ptrace(0x4206, p, 0, 0)))    # PTRACE_SEIZE
    print(p, "vm_readv", err(lambda: libc.process_vm_readv(p, ctypes.byref(lio), 1, ctypes.byref(rio), 1, 0)))
    print(p, "pidfd_open", err(lambda: os.pidfd_open(p)))
    print(p, "kcmp", err(lambda: libc.syscall(312, os.getpid(), p, 0, 0, 0)))
    print(p, "prlimit", err(lambda: libc.syscall(302, p, 7, 0, ctypes.byref(buf))))
    print(p, "sched_getaffinity", err(lambda: os.sched_getaffinity(p)))
    print(p, "getpgid", err(lambda: os.getpgid(p)))
    print(p, "proc", "yes" if os.path.exists(f"/proc/{p}") else "no")
# Guessing: every pid the kernel answers for is one of the sandbox'"'"'s.
seen = [p for p in range(1, 1 << 16) if err(lambda: os.kill(p, 0)) in ("ok", "EPERM")]
print("guess", all(p < 100 for p in seen), len(seen) < 10)
'
t_reach_outside()
{
	local victim out bad=0 p
	setpriv --reuid 2147418112 --regid 2147418112 --clear-groups sleep 60 &
	victim=$!
	sleep 0.2
	out=$(mrun -- python3 -c "$REACH_PY" "$victim" "$$" "$MOAT_PID_OF_SELF") || return 1
	echo "$out" >&2
	kill -0 "$victim" 2>/dev/null || { echo "the host process died" >&2; bad=1; }
	kill "$victim" 2>/dev/null
	while read -r p what res; do
		[ "$p" = guess ] && continue
		# ESRCH: for the guest those pids do not exist; EPERM where the
		# call is refused whatever the pid (ptrace, process_vm_*, kcmp).
		case $what:$res in
		*:ESRCH | proc:no | ptrace:EPERM | seize:EPERM | vm_readv:EPERM | kcmp:EPERM) ;;
		*) echo "pid $p: $what gave $res" >&2; bad=1 ;;
		esac
	done < <(grep -v '^guess' <<<"$out")
	grep -qx 'guess True True' <<<"$out" || bad=1
	return $bad
}
if have setpriv; then
	MOAT_PID_OF_SELF=$$
	check "kill, ptrace, process_vm_readv, pidfd_open, kcmp, prlimit of host pids give ESRCH; guessing finds only the sandbox's" t_reach_outside
else
	skip "host pids are out of reach" "setpriv is not installed"
fi

t_host_proc()
{
	local out
	# Every way to a /proc: the sandbox's own, a new mount, magic links,
	# the sandbox's init, fds and cwd of other processes.
	out=$(MOAT_REACH_MARKER=secret-$$ mrun -- /bin/sh -c '
mount -t proc proc /mnt 2>/dev/null && echo "mounted proc"
ls /proc/1/root/proc/ | grep -c "^[0-9]"
readlink /proc/1/root /proc/1/cwd /proc/self/root
cat /proc/1/environ | tr "\0" "\n"
ls /proc/1/fd /proc/1/task/*/fd 2>&1 | grep -v "^/proc\|^$\|^[0-9]*$"
cd /proc/1/cwd && pwd -P
ls /proc/self/root/proc | grep -c "^[0-9]"' 2>&1) || return 1
	echo "$out" >&2
	! grep -q 'mounted proc' <<<"$out" && ! grep -qF "$HOME" <<<"$out" &&
		! grep -qF "$T_TMP" <<<"$out" && ! grep -q "secret-$$" <<<"$out" &&
		[ "$(sed -n 1p <<<"$out")" -lt 10 ] && [ "$(sed -n '$p' <<<"$out")" -lt 10 ]
}
check "no path reaches the host's /proc or the invoker's environment" t_host_proc

t_env_ids()
{
	local out host_mid host_boot
	host_mid=$(cat /etc/machine-id 2>/dev/null)
	host_boot=$(cat /proc/sys/kernel/random/boot_id)
	out=$(MOAT_REACH_MARKER=env-$$ mrun -- /bin/sh -c '
cat /proc/*/environ 2>/dev/null | tr "\0" "\n"
env
cat /etc/machine-id /var/lib/dbus/machine-id /proc/sys/kernel/random/boot_id 2>/dev/null
cat /sys/class/dmi/id/product_uuid /sys/class/dmi/id/product_serial /sys/devices/virtual/dmi/id/board_serial 2>/dev/null
grep -iE "^serial" /proc/cpuinfo
true' 2>&1) || return 1
	echo "$out" >&2
	! grep -q "env-$$" <<<"$out" || { echo "the invoker's environment shows" >&2; return 1; }
	[ -z "$host_mid" ] || ! grep -qF "$host_mid" <<<"$out" || { echo "host machine-id" >&2; return 1; }
	! grep -qF "$host_boot" <<<"$out" || { echo "host boot id" >&2; return 1; }
	! grep -qiE '^serial' <<<"$out"
}
check "no host environment variable, machine id, boot id, DMI uuid or cpu serial inside" t_env_ids

done_testing
