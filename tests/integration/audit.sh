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

done_testing
