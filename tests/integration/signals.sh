#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: signals stay inside the sandbox, each sandbox has its own host
# uid, and signals between the guest's own processes still work under the
# guest's credentials. What must survive is checked from outside, on the host.
. "$(dirname "$0")/lib.sh"

require_moat

have setpriv || { skip "signals and host uids" "no setpriv"; done_testing; }

# A guest that waits until it is told to go (SIGTERM) and says so.
WAITER='import sys, time; print("ready", flush=True); time.sleep(60)'

# alive PID: the process exists and is not a zombie.
alive()
{
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# host_uid PID: the real uid of a host process.
host_uid() { awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# --- (a) kill(0) and kill(-1) from sandboxes started by one shell ----------------------
# The scenario runs in its own session and process group (setsid), so that
# if a guest's kill(0) leaks it hits the scenario's shell, never the test
# driver. In it, one shell starts: a host process of uid 65534, sandbox B (a
# long-running guest) and sandbox A (the attacker), all in one host process
# group, as a user's shell would.
cat >"$T_TMP/scenario.sh" <<'EOF'
moat=$1 d=$2 attack=$3
setpriv --reuid 65534 --regid 65534 --clear-groups sleep 60 &
echo $! >"$d/host.pid"
"$moat" run -- python3 -c "$4" moat-sig-waiter >"$d/b.out" 2>&1 </dev/null &
echo $! >"$d/b.pid"
for i in $(seq 100); do grep -q ready "$d/b.out" 2>/dev/null && break; sleep 0.1; done
"$moat" run -- python3 -c "$attack" >"$d/a.out" 2>&1 </dev/null
echo $? >"$d/a.rc"
EOF

# t_scenario PYTHON EXPECTED_A_OUTPUT
t_scenario()
{
	local attack=$1 d r=0 hostpid bpid out
	d=$(mktemp -d "$T_TMP/scen.XXXXXX")
	timeout -k 5 60 setsid -w bash "$T_TMP/scenario.sh" "$MOAT" "$d" "$attack" "$WAITER" \
		>"$d/scenario.log" 2>&1
	hostpid=$(cat "$d/host.pid" 2>/dev/null)
	bpid=$(cat "$d/b.pid" 2>/dev/null)
	echo "attacker: exit $(cat "$d/a.rc" 2>/dev/null) output: $(cat "$d/a.out" 2>/dev/null)" >&2
	[ -f "$d/a.rc" ] || { echo "the scenario's shell did not finish (was it killed?)" >&2; r=1; }
	if [ -z "$hostpid" ] || ! alive "$hostpid"; then
		echo "the host process of uid 65534 ($hostpid) was killed" >&2
		r=1
	fi
	if [ -z "$bpid" ] || ! alive "$bpid"; then
		echo "the other sandbox ($bpid) was killed: $(cat "$d/b.out")" >&2
		r=1
	else
		out=$(guest_pids moat-sig-waiter)
		[ -n "$out" ] || { echo "the other sandbox's guest is gone" >&2; r=1; }
	fi
	[ -n "$hostpid" ] && kill -9 "$hostpid" 2>/dev/null
	[ -n "$bpid" ] && kill -TERM "$bpid" 2>/dev/null
	sleep 0.2
	[ -n "$2" ] && ! grep -q -- "$2" "$d/a.out" && { echo "attacker did not print $2" >&2; r=1; }
	return "$r"
}
check "a guest's kill(0, SIGKILL) reaches neither a host process of uid 65534 nor another sandbox" \
	t_scenario 'import os, signal; print("killing", flush=True); os.kill(0, signal.SIGKILL)' killing
check "a guest's kill(-1, SIGKILL) reaches neither a host process of uid 65534 nor another sandbox" \
	t_scenario '
import os, signal
try:
    os.kill(-1, signal.SIGKILL)
    print("kill(-1): ok")
except OSError as e:
    print("kill(-1):", e.errno)' 'kill(-1)'
check "a guest's killpg of every guessable group reaches nothing outside" \
	t_scenario '
import os, signal
n = 0
for g in range(1, 4096):
    try:
        if g != os.getpgid(0):
            os.killpg(g, signal.SIGKILL)
            n += 1
    except OSError:
        pass
print("groups hit:", n)' 'groups hit'

# --- (c) signals between the guest's own processes still work ------------------------
cat >"$T_TMP/within.py" <<'EOF'
import ctypes, os, signal, sys, threading, time

got = []
def handler(s, f):
    got.append(s)
for s in (signal.SIGUSR1, signal.SIGUSR2):
    signal.signal(s, handler)

def expect(what, cond):
    print(("ok " if cond else "FAIL ") + what, flush=True)

# A child killed by its parent.
pid = os.fork()
if pid == 0:
    time.sleep(30)
    os._exit(0)
os.kill(pid, signal.SIGKILL)
_, st = os.waitpid(pid, 0)
expect("kill(child, SIGKILL)", os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGKILL)

# A signal to itself, with a handler.
os.kill(os.getpid(), signal.SIGUSR1)
expect("kill(self, SIGUSR1)", got == [signal.SIGUSR1])

# tgkill to its own thread, and to another thread of its own.
del got[:]
signal.pthread_kill(threading.get_ident(), signal.SIGUSR2)
expect("tgkill(self)", got == [signal.SIGUSR2])
ev = threading.Event()
t = threading.Thread(target=ev.wait)
t.start()
signal.pthread_kill(t.ident, 0)
ev.set()
t.join()
expect("tgkill(other thread, 0)", True)

# sigqueue (rt_sigqueueinfo) to itself, with a value.
libc = ctypes.CDLL(None, use_errno=True)
class sigval(ctypes.Union):
    _fields_ = [("sival_int", ctypes.c_int), ("sival_ptr", ctypes.c_void_p)]
del got[:]
rc = libc.sigqueue(os.getpid(), signal.SIGUSR1, sigval(7))
expect("sigqueue(self)", rc == 0 and got == [signal.SIGUSR1])

# kill(0): its own process group; the handler catches it.
del got[:]
os.kill(0, signal.SIGUSR2)
expect("kill(0, SIGUSR2)", got == [signal.SIGUSR2])

# killpg of a group of its own: a child leading a group with a grandchild.
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    if os.fork() == 0:
        os.close(r)
        os.write(w, b"g")
        time.sleep(30)
        os._exit(0)
    os.close(r)
    os.write(w, b"c")
    time.sleep(30)
    os._exit(0)
os.close(w)
os.read(r, 1)
os.read(r, 1)
os.killpg(pid, signal.SIGTERM)
_, st = os.waitpid(pid, 0)
expect("killpg(child's group)", os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGTERM)
# The grandchild got it too: the pipe's last writer goes away.
expect("killpg reached the grandchild", os.read(r, 1) == b"")

# pidfd_send_signal to a child.
pid = os.fork()
if pid == 0:
    time.sleep(30)
    os._exit(0)
fd = os.pidfd_open(pid)
signal.pidfd_send_signal(fd, signal.SIGKILL)
_, st = os.waitpid(pid, 0)
expect("pidfd_send_signal(child, SIGKILL)", os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGKILL)

# Nothing by the number of a process that does not exist.
try:
    os.kill(31000, 0)
    expect("kill(nonexistent) fails", False)
except ProcessLookupError:
    expect("kill(nonexistent) fails with ESRCH", True)
EOF
# A notified call that a signal interrupts before the sentry has received it
# fails with EINTR (docs/architecture.md, "Known limits": only a kernel
# change closes that window, and load widens it). These two checks may meet
# it in one attempt; three attempts that all fail are a real regression.
attempts() { "$@" || "$@" || "$@"; }

t_within_once()
{
	local out
	out=$(mrun -- python3 -c "$(cat "$T_TMP/within.py")" 2>&1)
	echo "$out" >&2
	! grep -q FAIL <<<"$out" && [ "$(grep -c '^ok ' <<<"$out")" = 10 ]
}
t_within() { attempts t_within_once; }
check "kill, tgkill, sigqueue, killpg and pidfd_send_signal work within the sandbox" t_within
check_output "a shell's kill %1 ends its background job" "143 done" \
	mrun -- /bin/bash -c 'sleep 30 & kill %1; wait %1; echo $? done'
check_output "a monitor-mode shell's kill %1 signals the job's process group" "143 done" \
	mrun -- /bin/bash -mc 'sleep 30 & sleep 0.1; kill %1; wait %1; echo $? done'
# dash's SIGCHLD handler has no SA_RESTART: a SIGCHLD arriving before the
# sentry receives a notified call fails that call with EINTR. Killing a child
# must not make its SIGCHLD land in the shell's next call.
t_dash_once()
{
	local out
	out=$(mrun -- /bin/dash -c 'bad=0; i=0
while [ $i -lt 20 ]; do
	sleep 5 & a=$!; sleep 5 & b=$!
	kill $a $b || bad=$((bad + 1))
	sleep 5 & a=$!
	kill $a; [ -d /tmp ] || bad=$((bad + 1))
	wait; i=$((i + 1))
done; echo bad=$bad' 2>&1)
	echo "$out" >&2
	[ "$(tail -n 1 <<<"$out")" = bad=0 ] && return 0
	# A fork's own first notification still has the window (docs/
	# architecture.md, "Known limits"): dash then says "Cannot fork" and
	# ends. That is another check's limit, not this one's: try again.
	grep -q 'Cannot fork' <<<"$out" && return 2
	# So does a kill the kernel sends (a target that had the signal
	# blocked for a moment after its fork): its SIGCHLD can meet the next
	# call's window under load, once or twice in 40 calls. Before moat
	# sent fatal kills itself, nearly every kill's SIGCHLD met it.
	case $(tail -n 1 <<<"$out") in bad=1 | bad=2) return 2 ;; esac
	return 1
}
t_dash()
{
	local i r
	for i in 1 2 3 4 5 6 7 8; do
		t_dash_once
		r=$?
		[ "$r" = 2 ] || return "$r"
	done
	return 1
}
check "dash kills jobs in a row, and the calls after, without EINTR" t_dash

# --- (d) the guest's credentials decide ---------------------------------------------------
cat >"$T_TMP/perm.py" <<'EOF'
import os, signal, time

got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append("usr1"))
signal.signal(signal.SIGCONT, lambda s, f: got.append("cont"))

def expect(what, cond):
    print(("ok " if cond else "FAIL ") + what, flush=True)

root = os.getpid()
r, w = os.pipe()
# Another process of uid 1000: a permitted target of kill(-1).
peer = os.fork()
if peer == 0:
    os.close(r)
    hit = []
    signal.signal(signal.SIGUSR1, lambda s, f: hit.append(1))
    os.setuid(1000)
    os.write(w, b"p")
    deadline = time.time() + 20
    while not hit and time.time() < deadline:
        time.sleep(0.01)
    os._exit(0 if hit else 1)
os.read(r, 1)
child = os.fork()
if child == 0:
    os.close(r)
    os.setuid(1000)
    res = []
    try:
        os.kill(root, signal.SIGUSR1)
        res.append("kill-root:allowed")
    except PermissionError:
        res.append("kill-root:EPERM")
    try:
        os.kill(root, signal.SIGCONT)
        res.append("cont-root:allowed")
    except PermissionError:
        res.append("cont-root:EPERM")
    try:
        os.kill(-1, signal.SIGUSR1)
        res.append("kill-all:ok")
    except OSError as e:
        res.append("kill-all:%d" % e.errno)
    os.write(w, (" ".join(res) + "\n").encode())
    os._exit(0)
os.close(w)
out = b""
while True:
    b = os.read(r, 100)
    if not b:
        break
    out += b
os.waitpid(child, 0)
_, st = os.waitpid(peer, 0)
res = out.decode().split()
time.sleep(0.2)
print(res, got, flush=True)
expect("uid 1000 cannot kill a root process (EPERM)", "kill-root:EPERM" in res)
expect("SIGCONT within the session is allowed", "cont-root:allowed" in res)
expect("kill(-1) as uid 1000 reports success", "kill-all:ok" in res)
expect("the root process got SIGCONT only", got == ["cont"])
expect("kill(-1) as uid 1000 reached the other uid 1000 process",
       os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0)
EOF
t_perm()
{
	local out
	out=$(mrun -- python3 -c "$(cat "$T_TMP/perm.py")" 2>&1)
	echo "$out" >&2
	! grep -q FAIL <<<"$out" && [ "$(grep -c '^ok ' <<<"$out")" = 5 ]
}
check "a guest process of uid 1000 cannot signal a root one; SIGCONT and kill(-1) as Linux" t_perm

# --- (b) one host uid per sandbox ----------------------------------------------------------
SHMKEY=0x6d6f6174
HOLDER="
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
ok = libc.shmget($SHMKEY, 4096, 0o1000 | 0o2000 | 0o600) >= 0
print('ready' if ok else 'shmget failed', flush=True)
time.sleep(60)"

# stat_field PID N: field N of /proc/PID/stat (18 priority, 19 nice, 41 policy).
stat_field() { sed 's/.*) //' "/proc/$1/stat" | awk -v n="$2" '{ print $(n - 2) }'; }

t_uids()
{
	local r=0 b_pid b_moat c_pid c_moat nobody bu cu nu before after out
	setpriv --reuid 65534 --regid 65534 --clear-groups sleep 60 &
	nobody=$!
	start_guest moat-sig-holder-$$ "$HOLDER" || { kill "$nobody"; return 1; }
	b_pid=$GUEST_PID b_moat=$MOAT_PID
	start_guest moat-sig-other-$$ "$WAITER" || { kill "$nobody" "$b_moat"; return 1; }
	c_pid=$GUEST_PID c_moat=$MOAT_PID
	bu=$(host_uid "$b_pid") cu=$(host_uid "$c_pid") nu=$(host_uid "$nobody")
	echo "host uids: sandbox B $bu, sandbox C $cu, host process $nu" >&2
	if [ -z "$bu" ] || [ "$bu" = "$cu" ] || [ "$bu" = 65534 ] || [ "$cu" = 65534 ] || [ "$bu" = 0 ]; then
		echo "the sandboxes do not have host uids of their own" >&2
		r=1
	fi
	before="$(stat_field "$b_pid" 19) $(stat_field "$b_pid" 41) $(stat_field "$nobody" 19) $(stat_field "$nobody" 41)"
	# The attacker knows the other sandbox's and the host process's host
	# pids and uids, and guesses pids in its own namespace.
	out=$(mrun --env "TARGETS=$b_pid $b_moat $c_pid $nobody" --env "UIDS=$bu $nu 65534" -- python3 -c "
import ctypes, os, resource, signal
libc = ctypes.CDLL(None, use_errno=True)
me = os.getpid()
hits = []
targets = [int(p) for p in os.environ['TARGETS'].split()]
for p in targets + list(range(2, 3000)):
    if p == me:
        continue
    for what, f in (('kill', lambda: os.kill(p, signal.SIGKILL)),
                    ('prlimit', lambda: resource.prlimit(p, resource.RLIMIT_NOFILE, (1, 1))),
                    ('setpriority', lambda: os.setpriority(os.PRIO_PROCESS, p, 19)),
                    ('sched_setscheduler', lambda: os.sched_setscheduler(p, os.SCHED_IDLE, os.sched_param(0)))):
        if p not in targets and what != 'kill':
            continue
        try:
            f()
            hits.append('%s(%d)' % (what, p))
        except OSError:
            pass
for u in os.environ['UIDS'].split():
    try:
        os.setpriority(os.PRIO_USER, int(u), 19)
        hits.append('setpriority(PRIO_USER, %s)' % u)
    except OSError:
        pass
if libc.shmget($SHMKEY, 0, 0) >= 0:
    hits.append('shmget of the other sandbox key')
if libc.shmget($SHMKEY, 4096, 0o1000 | 0o2000 | 0o600) < 0:
    hits.append('no own shm with that key')
print('hits:', ' '.join(hits) or 'none')
" 2>&1)
	echo "attacker: $out" >&2
	[ "$out" = "hits: none" ] || r=1
	after="$(stat_field "$b_pid" 19) $(stat_field "$b_pid" 41) $(stat_field "$nobody" 19) $(stat_field "$nobody" 41)"
	[ "$before" = "$after" ] || { echo "nice/policy changed: $before -> $after" >&2; r=1; }
	alive "$b_pid" || { echo "sandbox B's guest was killed" >&2; r=1; }
	alive "$c_pid" || { echo "sandbox C's guest was killed" >&2; r=1; }
	alive "$nobody" || { echo "the host process was killed" >&2; r=1; }
	kill "$nobody" "$b_moat" "$c_moat" 2>/dev/null
	wait "$nobody" "$b_moat" "$c_moat" 2>/dev/null
	return "$r"
}
check "from one sandbox, kill/prlimit/setpriority/sched/shmget reach neither another sandbox nor a host nobody process" \
	t_uids

t_rotation()
{
	local u1 u2
	start_guest moat-sig-rot1-$$ "$WAITER" || return 1
	u1=$(host_uid "$GUEST_PID")
	kill -9 "$GUEST_PID"
	wait "$MOAT_PID"
	start_guest moat-sig-rot2-$$ "$WAITER" || return 1
	u2=$(host_uid "$GUEST_PID")
	kill -9 "$GUEST_PID"
	wait "$MOAT_PID"
	echo "uids $u1 then $u2" >&2
	[ -n "$u1" ] && [ "$u1" != "$u2" ] && [ "$u1" -ge 2147418112 ] && [ "$u2" -ge 2147418112 ]
}
check "consecutive sandboxes get different host uids from the default range" t_rotation

# A range of one uid: a second sandbox cannot start while the first runs,
# and can once no process of the first remains.
t_one_uid()
{
	local u=$((1900000000 + $$ % 100000)) rc i
	at_exit "rm -f /run/moat-uids/$u /run/moat-uids/.next-$u-1"
	timeout -k 5 60 "$MOAT" run --host-uid-range "$u:1" -- python3 -c "$WAITER" moat-sig-one-$$ \
		>"$T_TMP/one.out" 2>&1 </dev/null &
	local first=$!
	wait_for_file "$T_TMP/one.out" ready || { kill "$first"; return 1; }
	[ "$(host_uid "$(guest_pids moat-sig-one-$$ | head -n 1)")" = "$u" ] ||
		{ echo "the guest does not run as $u" >&2; kill "$first"; return 1; }
	mrun --host-uid-range "$u:1" -- /bin/true
	rc=$?
	echo "second sandbox while the first runs: $rc" >&2
	kill -TERM "$first"
	wait "$first"
	[ "$rc" = 125 ] || return 1
	for i in $(seq 50); do
		mrun --host-uid-range "$u:1" -- /bin/true 2>/dev/null && return 0
		sleep 0.1
	done
	echo "the uid was not free again after the first sandbox ended" >&2
	return 1
}
check "a uid is not handed out twice, and is handed out again once its sandbox is gone" t_one_uid
check_status "--host-uid-range refuses uid 0" 2 mrun --host-uid-range 0:10 -- /bin/true

# A stopped process makes no progress and shows T; SIGCONT resumes it. On
# the ptrace platform the tracer must leave a group-stop in place
# (PTRACE_LISTEN) and the host's 't' must read as the guest's T.
STOP_PY='
import os, signal, time
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    i = 0
    while True:
        i += 1
        if i % 100000 == 0:
            os.write(w, b".")
os.close(w)
os.set_blocking(r, False)
def drain():
    n = 0
    try:
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            n += len(b)
    except BlockingIOError:
        pass
    return n
time.sleep(0.3)
os.kill(pid, signal.SIGSTOP)
time.sleep(0.2)
drain()
time.sleep(0.5)
stopped = drain()
st = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
os.kill(pid, signal.SIGCONT)
time.sleep(0.3)
resumed = drain()
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
print("stopped", stopped, st, "resumed", resumed > 0)
'
check_output "SIGSTOP stops a busy process (no progress, state T), SIGCONT resumes it" "stopped 0 T resumed True" \
	mrun -- python3 -c "$STOP_PY"

# A signal another process waits for in sigwaitinfo is not a fatal one
# (while it waits, /proc shows it unblocked): the sender's kill returned
# only after the sentry's 100 ms wait for a death that never came. Fifty
# round trips took 5 s; they take milliseconds natively. The bound is far
# from both: it catches the stall, not a speed.
SIGWAIT_PY='
import os, signal, time
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGUSR2])
pid = os.fork()
if pid == 0:
    for i in range(50):
        signal.sigwaitinfo([signal.SIGUSR1])
        os.kill(os.getppid(), signal.SIGUSR2)
    os._exit(0)
t = time.monotonic()
for i in range(50):
    os.kill(pid, signal.SIGUSR1)
    signal.sigwaitinfo([signal.SIGUSR2])
took = time.monotonic() - t
_, st = os.waitpid(pid, 0)
print("done", st, "slow" if took > 2.5 else "")
'
check_output "kill of a process waiting for the signal in sigwaitinfo returns at once" "done 0 " \
	mrun -- python3 -c "$SIGWAIT_PY"

# prctl(PR_SET_DUMPABLE, 0) once made a process vanish from the sentry's
# view (its host /proc/<pid>/ns/pid needs ptrace access): it was missing
# from /proc and kill() of it gave ESRCH, so its parent could not end it
# (found by tests/fuzz/sysfuzz.sh: the fuzzer's parent hung in waitpid).
# The flag is the sentry's now, inherited by fork, reset by exec.
DUMPABLE_PY='
import ctypes, os, signal, time
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    libc.prctl(4, 0, 0, 0, 0)
    signal.pause()
    os._exit(0)
time.sleep(0.2)
os.kill(pid, signal.SIGTERM)
st = os.waitpid(pid, 0)[1]
libc.prctl(4, 0, 0, 0, 0)
got = libc.prctl(3, 0, 0, 0, 0)
child = os.fork()
if child == 0:
    os._exit(libc.prctl(3, 0, 0, 0, 0))
inherited = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
print(os.WTERMSIG(st), str(pid) in os.listdir("/proc") or "gone", got, inherited, libc.prctl(4, 7, 0, 0, 0))'
check_output "a non-dumpable child is seen and killed by its parent; the flag reads back and is inherited" \
	"15 gone 0 0 -1" mrun -- python3 -c "$DUMPABLE_PY"
check_output "exec makes a process dumpable again" 1 \
	mrun -- python3 -c 'import ctypes, os; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); os.execv("/usr/bin/python3", ["python3", "-c", "import ctypes; print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))"])'

done_testing
