#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: blocking calls the sentry performs end on a signal as on Linux
# (issue 6). 100 processes block opening FIFOs with no writer; meanwhile the
# sandbox serves every other call; a SIGUSR1 to each ends its open with
# EINTR (handler without SA_RESTART), or restarts it (SA_RESTART), and a
# sandbox killed meanwhile leaves no worker behind. Program: interrupt.c.
. "$(dirname "$0")/lib.sh"

require_moat

D=$(host_tmpdir)
chmod 755 "$D"
if ! have gcc || ! gcc -O2 -o "$D/interrupt" "$(dirname "$0")/interrupt.c"; then
	skip "FIFO opens end with EINTR" "cannot build interrupt.c with gcc"
	skip "a FIFO open with SA_RESTART restarts" "cannot build interrupt.c with gcc"
	done_testing
	exit 0
fi

check_output "100 blocked FIFO opens: the sandbox keeps serving, a signal ends each with EINTR" \
	"ok 100 opens ended with EINTR" \
	mrun --bind "$D:/mnt:ro" -- /mnt/interrupt eintr 100 /tmp
check_output "a blocked FIFO open whose handler has SA_RESTART restarts and completes" \
	"ok restarted" mrun --bind "$D:/mnt:ro" -- /mnt/interrupt restart /tmp

# The opens are never interrupted: the sandbox ends by the timeout's kill
# with its opens still blocked, and nothing is left behind on the host.
t_killed_while_blocked()
{
	local tag="moat-intr-$$-$RANDOM" left
	timeout -s KILL 3 "$MOAT" run -- /bin/sh -c \
		"for i in 1 2 3 4 5 6 7 8; do mkfifo /tmp/f\$i; cat /tmp/f\$i & done; : $tag; wait" \
		</dev/null >/dev/null 2>&1
	sleep 0.5
	left=$(pgrep -f "$tag" | wc -l)
	echo "processes left: $left" >&2
	[ "$left" = 0 ]
}
check "a sandbox killed while its opens block leaves nothing behind" t_killed_while_blocked

done_testing
