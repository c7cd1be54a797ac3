#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: the sandbox's own /proc (sentry/fs/procfs/). Real programs
# find what they need there, and nothing of the host shows through: not its
# hostname, kernel version, boot id, pids, mounts or paths.
. "$(dirname "$0")/lib.sh"

require_moat

host_name=$(hostname)
host_release=$(uname -r)
host_version=$(uname -v)
host_boot_id=$(cat /proc/sys/kernel/random/boot_id)

# The raw bytes a shell in the sandbox gets from a list of /proc files.
t_cat() { mrun -- /bin/sh -c 'for f; do cat "$f"; done' sh "$@"; }

# --- identity ---------------------------------------------------------------
t_version()
{
	local v
	v=$(mrun -- /bin/cat /proc/version) || return 1
	echo "$v" >&2
	case $v in "Linux version "*"(moat)"*) ;; *) return 1 ;; esac
	! grep -qF -- "$host_release" <<<"$v" && ! grep -qF -- "$host_version" <<<"$v"
}
check "/proc/version is the sandbox's, not the host's" t_version

t_hostname()
{
	local a b
	a=$(mrun -- /bin/cat /proc/sys/kernel/hostname) || return 1
	b=$(mrun -- /bin/uname -n) || return 1
	echo "proc: $a uname: $b host: $host_name" >&2
	[ "$a" = "$b" ] && [ "$a" != "$host_name" ]
}
check "/proc/sys/kernel/hostname agrees with uname, not the host" t_hostname

t_osrelease()
{
	local a b
	a=$(mrun -- /bin/cat /proc/sys/kernel/osrelease) || return 1
	b=$(mrun -- /bin/uname -r) || return 1
	[ "$a" = "$b" ] && [ "$a" != "$host_release" ]
}
check "/proc/sys/kernel/osrelease agrees with uname -r" t_osrelease

t_boot_id()
{
	local a b
	a=$(mrun -- /bin/cat /proc/sys/kernel/random/boot_id) || return 1
	b=$(mrun -- /bin/cat /proc/sys/kernel/random/uuid) || return 1
	echo "boot_id $a uuid $b" >&2
	[[ $a =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] &&
		[ "$a" != "$host_boot_id" ] && [ "$a" != "$b" ]
}
check "boot_id is a per-sandbox uuid, not the host's" t_boot_id

t_no_host_strings()
{
	local out s bad=0
	out=$(t_cat /proc/version /proc/cmdline /proc/self/status /proc/self/stat \
		/proc/self/mounts /proc/self/mountinfo /proc/self/environ /proc/self/cgroup \
		/proc/sys/kernel/hostname /proc/sys/kernel/version /proc/sys/kernel/osrelease \
		/proc/sys/kernel/random/boot_id /proc/filesystems /proc/stat /proc/meminfo \
		/proc/self/limits /proc/loadavg /proc/uptime 2>&1 | tr '\0' '\n') || return 1
	for s in "$host_name" "$host_release" "$host_version" "$host_boot_id" "$MOAT" "$T_TMP"; do
		if grep -qF -- "$s" <<<"$out"; then
			echo "found host string: $s" >&2
			bad=1
		fi
	done
	[ "$bad" = 0 ]
}
check "no host hostname, kernel version, boot id or path in /proc files" t_no_host_strings

# --- processes ----------------------------------------------------------------
t_self()
{
	local out self pid ppid
	out=$(mrun -- /bin/sh -c 'echo $$; readlink /proc/self; cut -d" " -f4 /proc/self/stat') ||
		return 1
	echo "$out" >&2
	{ read -r self; read -r pid; read -r ppid; } <<<"$out"
	# cut's parent is the shell; the shell is the child of the sandbox's init.
	[ "$self" = 2 ] && [ "$ppid" = "$self" ] && [ "$pid" -gt 2 ] && [ "$pid" -lt 100 ]
}
check "/proc/self and stat's ppid are sandbox pids" t_self

t_init()
{
	local out
	out=$(mrun -- /bin/sh -c 'cat /proc/1/cmdline; echo; cat /proc/1/comm; cat /proc/1/environ;
		ls /proc/1/fd; cat /proc/1/maps') || return 1
	echo "$out" >&2
	[ "$out" = "$(printf 'init\ninit')" ]
}
check "the sandbox's init shows nothing of moat or its invoker" t_init

t_status()
{
	local out
	out=$(mrun -- /bin/cat /proc/self/status) || return 1
	echo "$out" >&2
	grep -q '^State:	R (running)$' <<<"$out" &&
		grep -q '^Uid:	0	0	0	0$' <<<"$out" &&
		grep -q '^Gid:	0	0	0	0$' <<<"$out" &&
		grep -q '^TracerPid:	0$' <<<"$out" &&
		grep -Eq '^NSpid:	[0-9]+$' <<<"$out" &&
		grep -Eq '^PPid:	1$' <<<"$out" &&
		grep -q '^Cpus_allowed_list:' <<<"$out"
}
check "/proc/self/status shows sandbox pids and credentials" t_status

t_only_sandbox_pids()
{
	local out p n=0
	out=$(mrun -- /bin/sh -c 'sleep 5 & a=$!; sleep 5 & b=$!; ls /proc; kill $a $b') || return 1
	for p in $out; do
		case $p in *[!0-9]*) continue ;; esac
		n=$((n + 1))
		[ "$p" -lt 100 ] || { echo "pid $p looks like a host pid" >&2; return 1; }
		[ -d "/proc/$p" ] && [ "$p" -gt 1 ] && grep -q "^NSpid:.*	$p$" "/proc/$p/status" 2>/dev/null &&
			echo "note: $p also a host pid" >&2
	done
	echo "$out" | tr '\n' ' ' >&2
	[ "$n" -ge 4 ] && [ "$n" -lt 10 ]
}
check "readdir /proc lists the sandbox's processes only" t_only_sandbox_pids

t_threads()
{
	mrun -- python3 -c '
import os, threading
ev = threading.Event()
t = threading.Thread(target=ev.wait)
t.start()
tids = sorted(int(x) for x in os.listdir("/proc/self/task"))
me = os.getpid()
ok = len(tids) == 2 and me in tids and os.path.isdir("/proc/thread-self")
st = open("/proc/self/task/%d/stat" % tids[-1]).read().split()
ok = ok and int(st[0]) == tids[-1]
ev.set(); t.join()
print(tids, st[:5])
raise SystemExit(0 if ok else 1)'
}
if have python3; then
	check "task/ lists threads by sandbox tid; thread-self resolves" t_threads
else
	skip "task/ lists threads by sandbox tid" "no python3"
fi

t_ps()
{
	local out
	out=$(mrun -- ps -eo pid,ppid,user,stat,comm) || return 1
	echo "$out" >&2
	grep -Eq '^ +1 +0 root .* init$' <<<"$out" && grep -Eq '^ +2 +1 root .* ps$' <<<"$out" &&
		! grep -Eq '^ *[0-9]{3,}' <<<"$out"
}
if have ps; then
	check "ps lists sandbox processes with small pids" t_ps
	check "ps aux runs" mrun -- ps aux
else
	skip "ps lists sandbox processes" "procps not installed"
	skip "ps aux runs" "procps not installed"
fi

check_output "readlink /proc/self/exe of a shell" /usr/bin/dash \
	mrun -- /bin/sh -c 'readlink /proc/$$/exe'
check_output "readlink /proc/self/cwd follows chdir" /tmp \
	mrun -- /bin/sh -c 'cd /tmp && readlink /proc/self/cwd'
check_output "readlink /proc/self/root" / mrun -- /usr/bin/readlink /proc/self/root
check_output "/proc/self/cwd can be walked into" /tmp \
	mrun -- /bin/sh -c 'cd /tmp && cd /proc/self/cwd && pwd -P'

# --- fds ------------------------------------------------------------------------
t_fd_python()
{
	local out
	out=$(mrun -- python3 -c 'import os; print(sorted(os.listdir("/proc/self/fd"), key=int)[:3])') ||
		return 1
	[ "$out" = "['0', '1', '2']" ]
}
if have python3; then
	check "python3 lists /proc/self/fd" t_fd_python
else
	skip "python3 lists /proc/self/fd" "no python3"
fi

t_fd_pipe()
{
	local out
	out=$(echo hello | timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run -- /bin/sh -c \
		'readlink /proc/self/fd/0; cat /proc/self/fd/0') || return 1
	echo "$out" >&2
	[[ $out =~ ^pipe:\[[0-9]+\]$'\n'hello$ ]]
}
check "a pipe's fd link reads pipe:[N] and opens" t_fd_pipe

check_output "/dev/stdin of a pipe opens through /proc/self/fd" hi \
	/bin/sh -c "echo hi | timeout -k 5 $MOAT_TIMEOUT '$MOAT' run -- /bin/cat /dev/stdin"

t_fd_dir()
{
	local out
	out=$(mrun -- /bin/sh -c 'exec 3</etc; readlink /proc/self/fd/3; cat /proc/self/fdinfo/3') ||
		return 1
	echo "$out" >&2
	[ "$(head -n 1 <<<"$out")" = /etc ] && grep -q '^pos:' <<<"$out" && grep -q '^flags:' <<<"$out"
}
check "a directory fd's link and fdinfo are the sandbox's" t_fd_dir

t_fd_unknown()
{
	local f out
	f=$(host_tmpdir) || return 1
	echo secret >"$f/file"
	out=$(timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run -- /bin/readlink /proc/self/fd/0 \
		<"$f/file") || return 1
	echo "$out" >&2
	[ "$out" = "/[moat-unknown]" ]
}
check "a host file given as stdin does not show its host path" t_fd_unknown

# --- memory maps ------------------------------------------------------------------
t_maps()
{
	local out
	out=$(mrun -- /bin/cat /proc/self/maps) || return 1
	grep -q '\[stack\]$' <<<"$out" && grep -q '/usr/bin/cat$' <<<"$out" || { echo "$out" >&2; return 1; }
	if grep -qE -- "$T_TMP|/export|/gofer|moat-" <<<"$out"; then
		echo "$out" >&2
		return 1
	fi
}
check "maps names files by their sandbox paths" t_maps

# --- system-wide files ---------------------------------------------------------------
t_cpuinfo()
{
	local n p
	n=$(mrun -- /usr/bin/nproc) || return 1
	p=$(mrun -- /bin/grep -c '^processor' /proc/cpuinfo) || return 1
	mrun -- /bin/grep -q '^flags' /proc/cpuinfo || return 1
	echo "nproc $n, cpuinfo $p" >&2
	[ "$n" = "$p" ]
}
check "cpuinfo has one block (with flags) per CPU the sandbox may use" t_cpuinfo

t_meminfo()
{
	local out k
	out=$(mrun -- /bin/cat /proc/meminfo) || return 1
	for k in MemTotal MemFree MemAvailable Buffers Cached SwapTotal SwapFree; do
		grep -Eq "^$k: +[0-9]+ kB$" <<<"$out" || { echo "no $k" >&2; return 1; }
	done
}
check "meminfo has the keys programs parse" t_meminfo

t_uptime()
{
	local up bt now
	up=$(mrun -- /bin/cat /proc/uptime) || return 1
	bt=$(mrun -- /bin/grep '^btime' /proc/stat) || return 1
	now=$(date +%s)
	echo "uptime $up; $bt; now $now" >&2
	[ "${up%%.*}" -lt 30 ] && [ $((now - ${bt#btime })) -lt 60 ]
}
check "uptime and btime count from the sandbox's start" t_uptime

check "free runs" mrun -- free
check "uptime(1) runs" mrun -- uptime

t_mounts()
{
	local out
	out=$(mrun -- /bin/cat /proc/mounts) || return 1
	echo "$out" >&2
	grep -q '^proc /proc proc rw,nosuid,nodev,noexec' <<<"$out" || return 1
	# No host path as a source (binds), none of the host's own devices.
	! grep -qE '^/' <<<"$out"
}
check "/proc/mounts is the sandbox's mount table" t_mounts
check "mountinfo parses (findmnt)" mrun -- findmnt -n /proc
check_output "statfs of /proc says proc" proc mrun -- /usr/bin/stat -f -c %T /proc
check_output "/proc/self/cgroup" "0::/" mrun -- /bin/cat /proc/self/cgroup

# t_refused FILE ERROR: opening FILE for writing fails with ERROR.
t_refused()
{
	local out
	out=$(mrun -- python3 -c '
import sys
try:
    open(sys.argv[1], "w")
except OSError as e:
    print(e.strerror)' "$1") || return 1
	echo "$out" >&2
	[ "$out" = "$2" ]
}
if have python3; then
	check "writing a sysctl gives EROFS" t_refused /proc/sys/kernel/hostname "Read-only file system"
	check "creating a file in /proc gives EROFS" t_refused /proc/newfile "Read-only file system"
else
	skip "writes to /proc are refused" "no python3"
fi

for f in sys/kernel/pid_max sys/kernel/ngroups_max sys/kernel/cap_last_cap sys/vm/overcommit_memory \
	sys/vm/max_map_count sys/fs/file-max sys/fs/nr_open sys/fs/pipe-max-size \
	sys/net/core/somaxconn sys/kernel/overflowuid sys/kernel/threads-max \
	sys/fs/inotify/max_user_watches sys/fs/inotify/max_user_instances \
	sys/fs/inotify/max_queued_events; do
	check "/proc/$f is a number" mrun -- /bin/sh -c "grep -Eq '^[0-9]+\$' /proc/$f"
done

# --- every path the issue lists is there --------------------------------------
t_paths()
{
	mrun -- /bin/sh -c '
bad=0
for f in self thread-self cpuinfo meminfo stat uptime loadavg version filesystems mounts swaps \
	sys/kernel/hostname sys/kernel/domainname sys/kernel/osrelease sys/kernel/ostype \
	sys/kernel/version sys/kernel/core_pattern sys/kernel/random/boot_id sys/kernel/random/uuid \
	self/stat self/status self/statm self/cmdline self/comm self/environ self/maps self/smaps \
	self/smaps_rollup self/mounts self/mountinfo self/limits self/cgroup self/oom_score_adj \
	self/io self/wchan self/sched self/auxv $$/task/$$/stat thread-self/comm; do
	[ -r /proc/$f ] && cat /proc/$f >/dev/null || { echo "cannot read /proc/$f"; bad=1; }
done
for l in exe cwd root fd/0 ns/pid ns/net ns/mnt ns/uts ns/ipc ns/user ns/cgroup; do
	readlink /proc/self/$l >/dev/null || { echo "no link /proc/self/$l"; bad=1; }
done
[ -d /proc/self/fdinfo ] && [ -d /proc/self/task ] || bad=1
exit $bad' >&2
}
check "every /proc path of the issue's list reads" t_paths

t_smaps()
{
	local out
	out=$(mrun -- /bin/cat /proc/self/smaps) || return 1
	# The mapping lines of maps, then the kernel's numbers for each.
	grep -q ' /usr/bin/cat$' <<<"$out" && grep -q '^Rss: ' <<<"$out" && grep -q '^VmFlags:' <<<"$out" &&
		! grep -qF -- "$MOAT" <<<"$out"
}
check "smaps names files by sandbox paths and keeps the numbers" t_smaps

t_sched()
{
	local out
	out=$(mrun -- /bin/sh -c 'head -n1 /proc/self/sched; echo $$') || return 1
	echo "$out" >&2
	# "head (N, #threads: 1)" with the sandbox's pid, not the host's.
	[[ $(head -n1 <<<"$out") =~ ^head\ \(([0-9]+),\ \#threads:\ 1\)$ ]] &&
		[ "${BASH_REMATCH[1]}" -lt 100 ]
}
check "sched's first line has the sandbox's tid" t_sched

t_ns()
{
	local out
	out=$(mrun -- /bin/sh -c 'readlink /proc/self/ns/pid /proc/self/ns/pid_for_children /proc/1/ns/pid') || return 1
	echo "$out" >&2
	[ "$(sort -u <<<"$out" | wc -l)" = 1 ] && [[ $out =~ ^pid:\[[0-9]+\] ]] &&
		! grep -qF "$(readlink /proc/self/ns/pid)" <<<"$out"
}
check "ns/ links are the sandbox's (pid_for_children = pid), not the host's numbers" t_ns

t_io()
{
	mrun -- /bin/sh -c 'grep -Eq "^rchar: [0-9]+$" /proc/self/io && grep -q "^write_bytes:" /proc/self/io'
}
check "io has the kernel's counters" t_io

t_oom_adj()
{
	local out
	out=$(mrun -- /bin/sh -c '
echo 500 >/proc/self/oom_score_adj || exit 1
cat /proc/self/oom_score_adj
sh -c "cat /proc/\$PPID/oom_score_adj"
# Lowering needs CAP_SYS_RESOURCE of the host: refused, as in a container.
if echo -500 >/proc/self/oom_score_adj 2>/dev/null; then echo lowered; fi
echo 800 >/proc/self/oom_score_adj && cat /proc/self/oom_score_adj') || return 1
	echo "$out" >&2
	[ "$out" = "$(printf '500\n500\n800')" ]
}
check "oom_score_adj can be raised (and is read back), not lowered" t_oom_adj

t_comm()
{
	local out
	out=$(mrun -- /bin/bash -c '
printf worker >/proc/self/comm; cat /proc/$$/comm; ps -o comm= -p $$
# Another process'"'"'s comm: the kernel refuses (EINVAL), as natively.
sleep 5 & p=$!
if printf x >/proc/$p/comm 2>/dev/null; then echo wrote; fi
kill $p') || return 1
	echo "$out" >&2
	[ "$out" = "$(printf 'worker\nworker')" ]
}
check "comm is writable by its own process" t_comm

# --- limits: what /proc and /sys show follows --memory, --cpus, --pids ---------
t_limits_view()
{
	local out
	out=$(mrun --memory 256m --cpus 1 --pids 77 -- /bin/sh -c '
grep MemTotal /proc/meminfo
grep -c ^processor /proc/cpuinfo
grep -c "^cpu[0-9]" /proc/stat
cat /sys/devices/system/cpu/online /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max
python3 -c "import os; print(os.cpu_count())"') || return 1
	echo "$out" >&2
	[[ $out == "MemTotal:         262144 kB"$'\n'1$'\n'1$'\n'*$'\n'268435456$'\n'"100000 100000"$'\n'77$'\n'1 ]]
}
if can_limit_cpus; then
	check "meminfo, cpuinfo, stat, /sys and os.cpu_count follow --memory, --cpus, --pids" t_limits_view
else
	skip "meminfo, cpuinfo, stat, /sys and os.cpu_count follow the limits" \
		"--cpus cannot be enforced here (no cpu cgroup controller, or cgroups forced off)"
fi

t_sys_view()
{
	local out
	out=$(mrun -- /bin/sh -c '
find /sys | sort
stat -f -c %T /sys /sys/fs/cgroup
grep -E " /sys(/fs/cgroup)? " /proc/self/mountinfo
{ touch /sys/x; echo 1 >/sys/fs/cgroup/memory.max; } 2>&1; true') || return 1
	echo "$out" >&2
	# Only the minimal view: no devices, buses, classes or firmware of the host.
	! grep -qE '^/sys/(class|bus|block|firmware|dev/|kernel|module|devices/(pci|virtual|platform))' <<<"$out" &&
		grep -qx /sys/devices/system/cpu/online <<<"$out" &&
		grep -q '^sysfs$' <<<"$out" && grep -q '^cgroup2fs$' <<<"$out" &&
		grep -q ' /sys/fs/cgroup ro,.* - cgroup2 ' <<<"$out" &&
		[ "$(grep -c 'Read-only file system' <<<"$out")" = 2 ]
}
check "/sys is a minimal read-only view with the sandbox's cgroup" t_sys_view

t_sys_cpus()
{
	local a b
	a=$(mrun -- /bin/cat /sys/devices/system/cpu/online) || return 1
	b=$(mrun -- /bin/sh -c 'grep "^processor" /proc/cpuinfo | sed "s/.*: //" | paste -sd,') || return 1
	echo "online $a, cpuinfo $b" >&2
	# The same set, ranges folded ("0-3" for 0,1,2,3).
	[ "$(python3 -c '
import sys
out = []
for part in sys.argv[1].split(","):
    lo, _, hi = part.partition("-")
    out += range(int(lo), int(hi or lo) + 1)
print(",".join(map(str, out)))' "$a")" = "$b" ]
}
check "/sys/devices/system/cpu/online and cpuinfo name the same CPUs" t_sys_cpus

# sched's first line names the task by comm, which the guest sets to any
# bytes: a comm with a newline and "#threads:" once made the rewrite keep
# the host's line, host pid and all (tests/fuzz/corpus/procfs).
t_sched_comm()
{
	local out
	out=$(mrun -- /bin/sh -c 'printf "x #threads:9\n" >/proc/self/comm
		grep -o "([0-9]*, #threads" /proc/$$/sched; echo "pid $$"') || return 1
	echo "$out"
	[ "$(printf '%s\n' "$out" | grep -c threads)" = 1 ] &&
		[ "$(printf '%s\n' "$out" | sed -n 1p)" = "($(printf '%s\n' "$out" | sed -n 's/^pid //p'), #threads" ]
}
check "/proc/<pid>/sched shows no host pid whatever comm the guest sets" t_sched_comm

done_testing
