#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: the audit trail under a flood of refused syscalls (issue 6).
# A guest that loops on a denied call must not grow the log without bound:
# deny records are rate-limited, and the dropped ones are counted in
# "deny-suppressed" records, so nothing disappears without a trace.
. "$(dirname "$0")/lib.sh"

require_moat

t_deny_flood()
{
	local log="$T_TMP/flood.jsonl"
	mrun --audit-log "$log" -- python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
n = 0
for _ in range(20000):
    if libc.syscall(165, b"none", b"/tmp", b"tmpfs", 0, None) != 0:  # mount
        n += 1
print(n)
' >"$T_TMP/out" || return 1
	[ "$(cat "$T_TMP/out")" = 20000 ] || { echo "not every mount was refused: $(cat "$T_TMP/out")" >&2; return 1; }
	python3 - "$log" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
deny = sum(1 for r in recs if r["type"] == "deny")
supp = sum(r["count"] for r in recs if r["type"] == "deny-suppressed")
print("deny records:", deny, "suppressed:", supp, file=sys.stderr)
# The burst is 200 records plus 50/s: a 20000-call flood takes a few seconds.
if deny > 2000:
    sys.exit("deny records are not rate-limited")
if deny + supp != 20000:
    sys.exit("records lost without being counted: %d + %d" % (deny, supp))
if recs[-1]["type"] != "exit":
    sys.exit("the exit record is not last")
PY
}
check "a flood of denied calls is rate-limited in the audit log, and counted" t_deny_flood

t_few_denials()
{
	local log="$T_TMP/few.jsonl"
	mrun --audit-log "$log" -- python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for _ in range(10):
    libc.syscall(165, b"none", b"/tmp", b"tmpfs", 0, None)
' || return 1
	[ "$(grep -c '"type":"deny"' "$log")" = 10 ] && ! grep -q deny-suppressed "$log"
}
check "a few denials are all recorded" t_few_denials

# Every record type moat writes, made to happen, and every record of the
# logs checked against the schema (audit_schema.py, which also checks that
# docs/security.md documents exactly these types). connect records need
# --net=sandbox (net.sh parses them), exec_killed an exec race
# (exec_race.sh), open_files 65,536 open directories (security/state.sh).
t_schema()
{
	local log="$T_TMP/all.jsonl" out pid i
	mrun --audit-log "$log" -- /bin/sh -c 'mount -t tmpfs x /tmp 2>/dev/null; /bin/echo a b >/dev/null; exit 3'
	mrun --audit-log "$log" -- python3 -c '
import socket
for f, t in ((socket.AF_INET, socket.SOCK_RAW), (socket.AF_PACKET, socket.SOCK_DGRAM)):
    try: socket.socket(f, t)
    except OSError: pass
s = socket.socket()
try: s.setsockopt(socket.SOL_SOCKET, 36, 1)  # SO_MARK
except OSError: pass
'
	mrun --audit-log "$log" --timeout 0.3 -- sleep 10
	mrun --audit-log "$log" --pids 8 -- /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done 2>/dev/null; wait'
	mrun --audit-log "$log" --memory 32m -- python3 -c 'x = bytearray(256 << 20)' 2>/dev/null
	mrun --audit-log "$log" --nofile 64 -- python3 -c '
import os
try:
    while True: os.open("/etc/passwd", os.O_RDONLY)
except OSError: pass
'
	# kill: a protocol error of the gofer (failclosed.sh has the rest)
	mkdir -p "$T_TMP/spoil/moat-test-spoil"
	chown -R 1000:1000 "$T_TMP/spoil"
	MOAT_TEST_GOFERREPLY=tag mrun --audit-log "$log" --bind "$T_TMP/spoil:/s:rw" -- /bin/ls /s/moat-test-spoil 2>/dev/null
	# stop_kill: a command that ignores SIGTERM outlives --stop-timeout
	timeout -k 5 30 "$MOAT" run --audit-log "$log" --stop-timeout 0.2 -- \
		python3 -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ready", flush=True); time.sleep(20)' \
		>"$T_TMP/stop.out" 2>&1 </dev/null &
	pid=$!
	wait_for_file "$T_TMP/stop.out" ready || return 1
	kill -TERM "$(pgrep -P "$pid" -x moat | head -n 1)"
	wait "$pid"
	out=$(python3 "$(dirname "$0")/audit_schema.py" "$(dirname "$0")/../../docs/security.md" \
		"$log" "$T_TMP/flood.jsonl" "$T_TMP/few.jsonl") || return 1
	echo "checked: $out" >&2
	for i in start exec deny deny-suppressed limit kill stop_kill exit; do
		grep -qw "$i=[0-9]*" <<<"$out" || { echo "no $i record was made" >&2; return 1; }
	done
	for i in timeout nofile; do
		grep -q "\"limit\":\"$i\"" "$log" || { echo "no limit record for $i" >&2; return 1; }
	done
	for i in family socket_type optname; do
		grep -q "\"type\":\"deny\".*\"$i\"" "$log" || { echo "no socket deny record with $i" >&2; return 1; }
	done
}
check "every audit record fits the schema docs/security.md documents (start, exec, deny, deny-suppressed, limit, kill, stop_kill, exit made here)" t_schema

done_testing
