#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: processes as shells, tools and runtimes use them (issue 8):
# job control in scripts, parallel workers, Python's process pools, stop
# signals to moat itself, the process tools, and bad input at the command
# line. What must be gone is checked from outside.
. "$(dirname "$0")/lib.sh"

require_moat

# --- shells: background jobs, wait, traps, kill of a process group ------------
JOBS_SH='
set -m 2>/dev/null   # no terminal: job control warns, groups still form
trap "echo got-usr1" USR1
sleep 0.2 & a=$!
( sleep 0.3; exit 3 ) & b=$!
wait $a; echo "a=$?"
wait $b; echo "b=$?"
kill -USR1 $$
# A group of three: the leader and two children, ended with one kill -TERM.
setsid sh -c "sleep 60 & sleep 60 & echo \$\$ >/tmp/leader; wait" &
while [ ! -s /tmp/leader ]; do sleep 0.05; done
g=$(cat /tmp/leader)
[ "$(ps -o pgid= -p $g | tr -d " ")" = "$g" ] && echo "leads its group"
echo "members $(ps -e -o pgid= | grep -cx " *$g")"
kill -TERM -- -$g
# They are init'"'"'s children now (setsid forked): gone once it reaped them.
i=0; while [ "$(ps -e -o pgid= | grep -cx " *$g")" != 0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo "members after $(ps -e -o pgid= | grep -cx " *$g")"
trap "echo exiting" EXIT
'
check_output "bash: background jobs, wait statuses, a trap, kill -TERM of a process group" \
	"a=0
b=3
got-usr1
leads its group
members 3
members after 0
exiting" mrun -- /bin/bash -c "$JOBS_SH"

t_xargs()
{
	local out
	# Four at a time: each records when it ran; at least two overlap.
	out=$(mrun -- /bin/sh -c '
seq 1 8 | xargs -P4 -I{} sh -c "echo start {} >>/tmp/log; sleep 0.3; echo end {} >>/tmp/log"
sort /tmp/log | uniq -c | wc -l
awk "/start/{n++; if (n > m) m = n} /end/{n--} END{print (m >= 2) ? \"parallel\" : \"serial\"}" /tmp/log') ||
		return 1
	echo "$out" >&2
	[ "$out" = "$(printf '16\nparallel')" ]
}
check "xargs -P4 runs its commands in parallel, all of them" t_xargs

POOL_PY='
import concurrent.futures as cf, multiprocessing as mp, os
def sq(x):
    return x * x, os.getpid()
if __name__ == "__main__":
    for method in ("fork", "forkserver", "spawn"):
        ctx = mp.get_context(method)
        with ctx.Pool(4) as p:
            res = p.map(sq, range(20))
        print(method, sum(r[0] for r in res), len({r[1] for r in res}) >= 1)
    with cf.ProcessPoolExecutor(max_workers=3) as ex:
        res = list(ex.map(sq, range(10)))
    print("executor", sum(r[0] for r in res), all(p != os.getpid() for _, p in res))
'
check_output "python multiprocessing Pool (fork, forkserver, spawn) and ProcessPoolExecutor" \
	"fork 2470 True
forkserver 2470 True
spawn 2470 True
executor 285 True" mrun --cwd /tmp -- /bin/sh -c 'printf "%s" "$1" >/tmp/pool.py && exec python3 /tmp/pool.py' sh "$POOL_PY"

check_status "timeout 1 sleep 5 exits 124 inside" 124 mrun -- timeout 1 sleep 5
check_status "timeout -s KILL 1 on a process ignoring TERM: 137" 137 \
	mrun -- timeout -s KILL 1 sh -c 'trap "" TERM; sleep 5'

# --- a stop signal to moat ends even a guest that ignores it -------------------
# A background job of a script starts with SIGINT ignored (and moat, as any
# program, keeps an ignored stop signal ignored): start moat with it default.
# Only as `sig_default CMD &`: it execs, so $! is CMD's pid.
sig_default()
{
	exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

# t_stop SIG: a guest whose shell and children ignore SIGTERM, SIGINT and
# SIGHUP; moat gets SIG, waits the grace period (--stop-timeout 1) and kills
# the sandbox: status 137, nothing of it left on the host.
t_stop()
{
	# A nap of its own length: other tests running beside this one
	# start sleep 100s of their own, which must not count as left over.
	local sig=$1 tag="procs-stop-$1-$$" nap="100.$$" rc t0 t1 pids
	sig_default timeout -k 5 30 "$MOAT" run --stop-timeout 1 -- /bin/sh -c \
		"trap '' TERM INT HUP; sleep $nap & sleep $nap & echo ready; wait; echo $tag" \
		</dev/null >"$T_TMP/stop.out" 2>"$T_TMP/stop.err" &
	local mp=$!
	wait_for_file "$T_TMP/stop.out" ready || { echo "no ready" >&2; return 1; }
	local i sentry=
	# (pgrep once found no sentry here under load: look again.)
	for i in $(seq 50); do
		sentry=$(pgrep -P "$mp" -x moat) && break
		sleep 0.1
	done
	[ -n "$sentry" ] || { echo "no sentry under $mp: $(ps -o pid,ppid,comm --ppid "$mp")" >&2; kill "$mp"; return 1; }
	t0=$(date +%s%N)
	kill "-$sig" "$sentry"
	wait "$mp"
	rc=$?
	t1=$(date +%s%N)
	cat "$T_TMP/stop.err" >&2
	echo "status $rc after $(((t1 - t0) / 1000000)) ms" >&2
	pids=$(guest_pids "sleep $nap")
	[ -z "$pids" ] || { echo "left over: $pids" >&2; return 1; }
	[ "$rc" = 137 ] && [ $(((t1 - t0) / 1000000)) -ge 900 ] &&
		grep -q "did not exit within 1.000 s of SIG$sig" "$T_TMP/stop.err" &&
		! grep -q "$tag" "$T_TMP/stop.out"
}
check "SIGTERM to moat: a guest ignoring it is killed after --stop-timeout, none of it left" t_stop TERM
check "SIGINT to moat (Ctrl-C): the same" t_stop INT

t_stop_obeyed()
{
	local rc t0 t1
	timeout -k 5 30 "$MOAT" run -- /bin/sh -c 'trap "echo bye; exit 7" TERM; echo ready; sleep 100 & wait' \
		</dev/null >"$T_TMP/obey.out" 2>&1 &
	local mp=$!
	wait_for_file "$T_TMP/obey.out" ready || return 1
	t0=$(date +%s%N)
	kill -TERM "$(pgrep -P "$mp" -x moat)"
	wait "$mp"
	rc=$?
	t1=$(date +%s%N)
	cat "$T_TMP/obey.out" >&2
	# The command's own status, at once, not the grace period's kill.
	[ "$rc" = 7 ] && grep -q bye "$T_TMP/obey.out" && [ $(((t1 - t0) / 1000000)) -lt 5000 ]
}
check "SIGTERM to moat reaches the command, whose own exit status stands" t_stop_obeyed

# --- the process tools see only the sandbox -----------------------------------
t_tools()
{
	local out
	# Each tool writes to a file, so that no pipeline adds processes: the
	# sandbox then holds init, sh, sleep and the tool.
	out=$(mrun -- /bin/sh -c '
sleep 30 & s=$!
ps aux --no-headers >/tmp/ps
pgrep -x sleep >/tmp/pgrep
pgrep . >/tmp/pgrep-all
top -b -n1 >/tmp/top
pstree -p >/tmp/pstree
kill $s
echo "sleep $s"
echo "ps $(wc -l </tmp/ps)"
echo "pgrep $(cat /tmp/pgrep)"
echo "pgrep-all $(wc -l </tmp/pgrep-all)"
echo "top $(grep -c "^ *[0-9]" /tmp/top)"
cat /tmp/pstree') || return 1
	echo "$out" >&2
	local s
	s=$(sed -n 's/^sleep //p' <<<"$out")
	grep -qx 'ps 4' <<<"$out" && grep -qx "pgrep $s" <<<"$out" &&
		grep -qx 'pgrep-all 3' <<<"$out" && grep -qx 'top 4' <<<"$out" &&
		grep -qE '^init\(1\)---(da)?sh\(2\)-\+-pstree\([0-9]+\)$' <<<"$out" &&
		grep -qE "^ +.-sleep\\($s\\)\$" <<<"$out"
}
check "ps aux, pgrep, top -b -n1 and pstree see only the sandbox's processes" t_tools

t_tools_host()
{
	local out
	# A host process that is surely running: this script's shell.
	out=$(mrun -- /bin/sh -c 'ps -e -o pid=,comm=; pgrep -f bash; pstree -p') || return 1
	echo "$out" >&2
	! grep -qw "$$" <<<"$out" && ! grep -q 'tap-driver\|make\|moat' <<<"$out"
}
check "no host process or pid shows in ps, pgrep or pstree" t_tools_host

t_cpu_count()
{
	local a b
	a=$(mrun -- python3 -c 'import os; print(os.cpu_count())') || return 1
	b=$(mrun --cpus 1 -- python3 -c 'import os; print(os.cpu_count())') || return 1
	echo "default $a (host $(nproc)), --cpus 1: $b" >&2
	[ "$a" = "$(nproc)" ] && [ "$b" = 1 ]
}
if can_limit_cpus; then
	check "os.cpu_count() is the CPUs the sandbox may use; --cpus 1 makes it 1" t_cpu_count
else
	skip "os.cpu_count() follows --cpus" "--cpus cannot be enforced here (no cpu cgroup controller, or cgroups forced off)"
fi

# The ptrace platform pins a task that stops often to its tracer's CPU
# (platform/ptrace_tracer.c, colocate). The guest must never see that: after
# a loop of trapped calls its mask, its /proc status, a child's nproc and a
# mask it sets itself are what they would be natively.
AFFINITY_PY='
import os, subprocess
for _ in range(20000):
    os.stat("/")
st = open("/proc/self/status").read().split("Cpus_allowed_list:")[1].split()[0]
child = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
print(len(os.sched_getaffinity(0)), st, child)
os.sched_setaffinity(0, {0})
for _ in range(20000):
    os.stat("/")
print(sorted(os.sched_getaffinity(0)))
'
t_affinity()
{
	local want got
	want=$(python3 -c "$AFFINITY_PY") || return 1
	got=$(mrun --platform=ptrace -- python3 -c "$AFFINITY_PY") || return 1
	echo "natively: $want / inside: $got" >&2
	[ "$got" = "$want" ]
}
if [ "$(nproc)" -gt 1 ]; then
	check "the ptrace platform's CPU co-location is invisible to the guest" t_affinity
else
	skip "the ptrace platform's CPU co-location is invisible" "one CPU: nothing is pinned"
fi

# --- bad input ---------------------------------------------------------------
t_unknown_user()
{
	mrun --user no-such-user-moat -- true 2>"$T_TMP/uerr"
	local rc=$?
	cat "$T_TMP/uerr" >&2
	[ "$rc" = 125 ] && grep -q 'no-such-user-moat' "$T_TMP/uerr"
}
check "--user naming an unknown user: exit 125 and says which" t_unknown_user

t_ti_no_tty()
{
	timeout 20 "$MOAT" run -ti -- true </dev/null 2>"$T_TMP/terr"
	local rc=$?
	cat "$T_TMP/terr" >&2
	[ "$rc" = 125 ] && grep -qi 'terminal' "$T_TMP/terr"
}
check "-ti without a terminal on stdin: exit 125 and says why" t_ti_no_tty
check_output "-t without a terminal on stdin (output to a pipe) still runs the command" "ok" \
	sh -c "timeout 20 '$MOAT' run -t -- echo ok </dev/null | tr -d '\r'"

ARGV_PY='
import subprocess, os
def run(n, size):
    try:
        r = subprocess.run(["/bin/sh", "-c", "echo $#"] + ["x" * size] * n, capture_output=True, text=True)
        return r.stdout.strip()
    except OSError as e:
        return e.strerror
print(run(1, 131071), run(1, 131072), run(15, 100000), run(40, 100000))
'
check_same "argv up to the host's limits execs, beyond gives E2BIG (as natively)" python3 -c "$ARGV_PY"
t_argv_cli()
{
	# moat itself cannot even be started with an argv past the host's limit;
	# one just under it reaches the command whole.
	local n
	n=$(mrun -- /bin/sh -c 'echo $#' sh $(head -c 1500000 /dev/zero | tr '\0' 'x' | fold -w 100000)) || return 1
	[ "$n" = 15 ]
}
check "an argv of 1.5 MB given to moat run reaches the command" t_argv_cli

done_testing
