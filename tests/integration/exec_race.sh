#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: races against exec (issue 6). While a thread execs, a sibling
# swaps the fd of the rewritten execveat (dup2), writes a path where the ""
# used to be, maps its own memory over moat's "" and argv, or flips the argv
# strings; signals and stops arrive during execs. Checked from outside: the non-executable file never runs, every
# program that ran is the one the audit log names with the argv it names, and
# realtime signals keep their siginfo. Programs: exec_race.c, built here.
. "$(dirname "$0")/lib.sh"

require_moat

D=$(host_tmpdir)
chmod 755 "$D"
SRC="$(dirname "$0")/exec_race.c"
if ! have gcc || ! have python3 ||
	! gcc -O2 -pthread -o "$D/exec_race" "$SRC" ||
	! gcc -O2 -pthread -DEVIL_BUILD -o "$D/evil" "$SRC"; then
	for t in fd fd2 path remap argv crowd stop sig regs arena; do
		skip "exec race: $t" "cannot build exec_race.c with gcc (or no python3)"
	done
	done_testing
	exit 0
fi
N=300

# t_race MODE: N children exec under the race; the outcome (ran, killed,
# failed) may vary, but nothing else may have run and the audit log must
# name what ran, and every kill.
t_race()
{
	local mode=$1
	mrun --audit-log "$D/audit.$mode" --bind "$D:/mnt:ro" -- /bin/sh -c \
		"cp /mnt/evil /tmp/evil && chmod 644 /tmp/evil && /mnt/exec_race $mode $N" >"$D/out.$mode" ||
		{ tail -n 3 "$D/out.$mode"; return 1; }
	python3 - "$D/out.$mode" "$D/audit.$mode" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in open(sys.argv[2])]
execs = {}
for r in recs:
    if r["type"] == "exec" and r.get("path") == "/mnt/exec_race":
        execs.setdefault(r["pid"], []).append(r["argv"])
fails = []
summary = [l for l in lines if l.startswith("ran ")]
if "EVIL" in lines:
    fails.append("the non-executable /tmp/evil ran %d times" % lines.count("EVIL"))
for l in lines:
    if l.startswith("good "):
        f = l.split(" ")
        argv = ["good"] + f[2:]
        if argv not in execs.get(int(f[1]), []):
            fails.append("pid %s ran %s, the audit log says %s" % (f[1], argv, execs.get(int(f[1]))))
if len(summary) != 1:
    fails.append("no summary")
else:
    killed = int(summary[0].split()[3])
    records = sum(1 for r in recs if r["type"] == "exec_killed")
    if killed != records:
        fails.append("%d children killed, %d exec_killed records" % (killed, records))
print(summary)
print("\n".join(fails[:10]))
sys.exit(1 if fails else 0)
PY
}

check "exec race: a sibling dup2()s a non-executable file over the exec's fd" t_race fd
check "exec race: a sibling dup2()s over the second of two new fds (the program's)" t_race fd2
check "exec race: a sibling writes a path where the \"\" of execveat was" t_race path
check "exec race: a sibling maps its own argv over moat's mapping; the task is killed" t_race remap
check "exec race: a sibling flips the argv strings; the audit log names what ran" t_race argv
t_crowd()
{
	t_race crowd && grep -qx "ran $N killed 0 failed 0" "$D/out.crowd"
}
check "exec works when the program has mapped over the address range of moat's argv mappings and arena" t_crowd
t_stop()
{
	t_race stop && grep -qx "ran $N killed 0 failed 0" "$D/out.stop"
}
check "exec race: SIGSTOP and SIGCONT all through the exec" t_stop
check "exec race: realtime signals during failing execs arrive once each with their value" \
	mrun --bind "$D:/mnt:ro" -- /mnt/exec_race sig $N
check "exec race: an exec the kernel refuses after the rewrite keeps every register and leaves no fd" \
	mrun --bind "$D:/mnt:ro" -- /mnt/exec_race regs 1

t_arena()
{
	local out
	out=$(mrun --bind "$D:/mnt:ro" -- /mnt/exec_race arena 1) || { echo "$out"; return 1; }
	echo "$out"
	[ "$(grep -c '^good .* arena$' <<<"$out")" = 4 ] && grep -qx "arena ok" <<<"$out"
}
if [[ ",${MOAT_TEST_FORCE_FALLBACK:-}," =~ ,(all|seal_future_write), ]]; then
	skip "exec arena: read-only, and execs work after a process lost it" \
		"MOAT_TEST_FORCE_FALLBACK: no exec arenas without F_SEAL_FUTURE_WRITE"
elif [ "${MOAT_PLATFORM:-}" = ptrace ]; then
	skip "exec arena: read-only, and execs work after a process lost it" \
		"the ptrace platform maps no exec arenas (every exec its own sealed memfd; docs/architecture.md, Platforms)"
else
	check "exec arena: read-only, and execs work after a process lost it" t_arena
fi

done_testing
