#!/bin/bash
# SPDX-License-Identifier: MIT
# Security: a fork bomb under --pids and a memory hog under --memory, with
# the host's process count and free memory sampled from outside while they
# run. Each sampler is first shown to see a native, bounded version of the
# same load (a few hundred processes of an unprivileged uid; a large
# allocation). Exit statuses and audit records: README "Commands",
# docs/limits.md. (failclosed.sh tests the same limits for their own
# behaviour: counters, records, fallbacks.)
. "$(dirname "$0")/../integration/lib.sh"

require_moat

D=$(host_tmpdir)
# note TEXT: said on failure, and in the summary at the end.
note() { echo "$*" >&2; echo "$*" >>"$T_TMP/notes"; }

# sample WHAT FILE: in the background, until FILE.stop exists, write to
# FILE the highest count of the host's tasks (WHAT=tasks) or the lowest
# MemAvailable in kB (WHAT=mem) seen. Sets SAMPLER.
sample()
{
	python3 - "$1" "$2" <<'PY' &
import os, sys, time
what, out = sys.argv[1], sys.argv[2]
best = None
def tasks():
    n = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                n += len(os.listdir("/proc/%s/task" % p))
            except OSError:
                pass
    return n
def mem():
    for l in open("/proc/meminfo"):
        if l.startswith("MemAvailable:"):
            return int(l.split()[1])
while not os.path.exists(out + ".stop"):
    v = tasks() if what == "tasks" else mem()
    best = v if best is None else (max(best, v) if what == "tasks" else min(best, v))
    with open(out + ".tmp", "w") as f:
        f.write("%d\n" % best)
    os.replace(out + ".tmp", out)
    time.sleep(0.05)
PY
	SAMPLER=$!
	wait_for_file "$2" '[0-9]' || return 1
}

# host_tasks: the host's tasks (threads too) now.
host_tasks()
{
	python3 -c '
import os
n = 0
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            n += len(os.listdir("/proc/%s/task" % p))
        except OSError:
            pass  # gone meanwhile
print(n)'
}

stop_sample()
{
	touch "$1.stop"
	wait "$SAMPLER"
	cat "$1"
}

# --- fork bomb ----------------------------------------------------------------------
# Natively, as an unprivileged uid: 300 processes, held for a second.
NATIVE_FORKS='import os, sys, time
pids = []
for i in range(300):
    p = os.fork()
    if p == 0:
        time.sleep(1.5)
        os._exit(0)
    pids.append(p)
time.sleep(1)
for p in pids:
    os.waitpid(p, 0)'
BOMB='import os, time
print("ready", flush=True)
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)'

t_fork_bomb()
{
	local base peak rc
	base=$(host_tasks)
	sample tasks "$D/native.tasks" || return 1
	# The system's python3 (one under /root, such as pyenv's, is not
	# for nobody).
	setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 -c "$NATIVE_FORKS"
	peak=$(stop_sample "$D/native.tasks")
	note "native: 300 processes; host tasks $base -> at most $peak"
	[ "$peak" -ge $((base + 250)) ] || { echo "the sampler did not see them" >&2; return 1; }
	base=$(host_tasks)
	sample tasks "$D/bomb.tasks" || return 1
	# Not mrun: its own timeout's 124 would count as a hung moat.
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run --pids 64 --timeout 3 --audit-log "$D/bomb.audit" \
		-- python3 -c "$BOMB" >/dev/null 2>"$D/bomb.err" </dev/null
	rc=$?
	peak=$(stop_sample "$D/bomb.tasks")
	note "moat --pids 64: status $rc; host tasks $base -> at most $peak; $(cat "$D/bomb.err")"
	# 64 of the guest's, moat's own threads, and whatever the tests
	# beside this one start meanwhile (make check -j: a few hundred at
	# most); a bomb without the limit reaches thousands in these 3 s.
	# (failclosed.sh counts the sandbox's own uid's tasks exactly.)
	[ "$rc" = 124 ] && [ "$peak" -le $((base + 64 + 1000)) ] || return 1
	grep -q '"limit":"pids"' "$D/bomb.audit" && grep -q '"limit":"timeout"' "$D/bomb.audit"
}
if have setpriv && [ -x /usr/bin/python3 ]; then
	check "fork bomb under --pids 64: the host's task count stays within 64 (+ other tests' slack) of where it was, status 124, audited" t_fork_bomb
else
	skip "fork bomb under --pids 64" "setpriv or /usr/bin/python3 is not installed"
fi

# --- memory hog ----------------------------------------------------------------------
AVAIL=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
# N MiB: a quarter of what is free, at most 1.5 GiB.
N=$((AVAIL / 4096))
[ "$N" -gt 1536 ] && N=1536
HOG='import sys, time
n = int(sys.argv[1])
x = []
for i in range(n):
    x.append(bytearray(1 << 20))
print("held", n, flush=True)
time.sleep(1)'

t_memory_hog()
{
	local base low rc
	base=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	sample mem "$D/native.mem" || return 1
	python3 -c "$HOG" "$N" >/dev/null
	low=$(stop_sample "$D/native.mem")
	note "native: $N MiB; MemAvailable $base -> at least $low kB"
	[ $(((base - low) / 1024)) -ge $((N * 2 / 3)) ] || { echo "the sampler did not see it" >&2; return 1; }
	base=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	sample mem "$D/hog.mem" || return 1
	mrun --memory 64m --audit-log "$D/hog.audit" -- python3 -c "$HOG" "$N" >"$D/hog.out" 2>"$D/hog.err"
	rc=$?
	low=$(stop_sample "$D/hog.mem")
	note "moat --memory 64m, $N MiB asked: status $rc; MemAvailable $base -> at least $low kB; $(cat "$D/hog.out" "$D/hog.err" | tail -n 2)"
	grep -q held "$D/hog.out" && { echo "the hog got its $N MiB" >&2; return 1; }
	[ $(((base - low) / 1024)) -lt $((N / 3)) ] || return 1
	# Killed at the limit (137, a record), or, where only rlimits enforce
	# it, its allocations failed (MemoryError, 1).
	case $rc in
	137) grep -q '"limit":"memory"' "$D/hog.audit" ;;
	1) grep -q MemoryError "$D/hog.err" ;;
	*) return 1 ;;
	esac
}
if [ "$N" -ge 384 ]; then
	check "memory hog under --memory 64m: the host's MemAvailable drops by less than a third of what it asked (natively by most of it)" t_memory_hog
else
	skip "memory hog under --memory 64m" "only $((AVAIL / 1024)) MiB available here"
fi

[ -f "$T_TMP/notes" ] && diag "$(cat "$T_TMP/notes")"
done_testing
