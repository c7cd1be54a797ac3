#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: limits on a sandbox as a whole (issue 9). --timeout: the
# sandbox is killed after that much wall-clock time, with exit status 124
# and an audit record, and nothing it started is left on the host.
. "$(dirname "$0")/lib.sh"

require_moat

D=$(host_tmpdir)
TAG="moat-limits-$$-$RANDOM"

# The command and a background child both sleep far longer than the limit,
# in a script whose name finds them on the host afterwards.
printf '#!/bin/sh\nsleep 60\n' >"$D/$TAG.sh"
chmod 755 "$D" "$D/$TAG.sh"
t_timeout()
{
	local start end rc
	start=$(date +%s%N)
	"$MOAT" run --timeout 1 --audit-log "$D/audit" --bind "$D:/mnt:ro" -- /bin/sh -c \
		"/mnt/$TAG.sh & exec /mnt/$TAG.sh" </dev/null >/dev/null 2>"$D/err"
	rc=$?
	end=$(date +%s%N)
	echo "status $rc after $(((end - start) / 1000000)) ms: $(cat "$D/err")" >&2
	[ "$rc" = 124 ] || return 1
	[ $(((end - start) / 1000000)) -lt 10000 ] || return 1
	grep -q "ran out of time" "$D/err" || return 1
	sleep 0.3
	if pgrep -f "$TAG" >/dev/null; then
		echo "processes left: $(pgrep -af "$TAG")" >&2
		return 1
	fi
	python3 - "$D/audit" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
lim = [r for r in recs if r["type"] == "limit"]
sys.exit(0 if lim and lim[0].get("limit") == "timeout" and lim[0].get("ms") == 1000 else 1)
PY
}
check "--timeout 1: a sleeping command is killed after about a second, status 124, audited" t_timeout

# A guest that spins without a syscall is ended the same way.
t_spin()
{
	timeout -k 5 30 "$MOAT" run --timeout 0.5 -- /bin/sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1
	[ $? = 124 ]
}
check "--timeout 0.5: a spinning shell is killed, status 124" t_spin

check_status "--timeout longer than the command: its own status" 3 \
	"$MOAT" run --timeout 30 -- /bin/sh -c 'exit 3'
check_status "--timeout abc is a usage error" 2 "$MOAT" run --timeout abc -- /bin/true
check_status "--timeout 0 is a usage error" 2 "$MOAT" run --timeout 0 -- /bin/true
check_status "--timeout -1 is a usage error" 2 "$MOAT" run --timeout -1 -- /bin/true

done_testing
