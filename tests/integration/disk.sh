#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: the sandbox's in-memory disk (--disk) and sized --tmpfs
# mounts. Every write the guest makes through its own fds is counted by the
# host kernel (a detached tmpfs store per disk): beyond the size, ENOSPC,
# and the sandbox keeps working once space is freed.
. "$(dirname "$0")/lib.sh"

require_moat

if [[ ",${MOAT_TEST_FORCE_FALLBACK:-}," =~ ,(all|tmpfs_store), ]]; then
	# Without stores (no fsopen), data is not capped: only statfs and
	# truncate growth know the size. The fallback's own check:
	check_output "without stores, a sized --tmpfs still reports its size" "1.0M" \
		mrun --tmpfs /s:size=1m -- /bin/sh -c "df -h /s | awk 'NR==2 {print \$2}'"
	done_testing
fi

# dd's exit status and whether the file got within 64 KiB of $3 MiB (the
# mounts' own directories take a few blocks), then whether the sandbox
# still writes after the file is gone.
FILL='dd if=/dev/zero of="$1" bs=1M count="$2" 2>/dev/null; echo "dd=$? full=$(( $(stat -c %s "$1") > $3 * 1048576 - 65536 && $(stat -c %s "$1") <= $3 * 1048576 ))"; rm -f "$1"; echo small > "$1.2" && cat "$1.2"'

check_output "--disk 16m: a 32 MiB write into /tmp stops with ENOSPC at 16 MiB; after rm, writes work again" \
	"dd=1 full=1
small" mrun --disk 16m -- /bin/sh -c "$FILL" sh /tmp/big 32 16

check_output "the overlay's writes count against the same disk" \
	"dd=1 full=1
small" mrun --disk 16m -- /bin/sh -c "$FILL" sh /usr/local/big 32 16

check_output "/tmp and the overlay share it: 10 MiB in /tmp leaves 6 MiB for /usr/local" "dd=1 full=1
small" mrun --disk 16m -- /bin/sh -c "dd if=/dev/zero of=/tmp/a bs=1M count=10 2>/dev/null; $FILL" sh /usr/local/b 32 6

check_output "a --tmpfs with its own size: full at 1 MiB, while /tmp still has room" \
	"dd=1 full=1
small
tmp ok" mrun --tmpfs /s:size=1m -- /bin/sh -c "$FILL; dd if=/dev/zero of=/tmp/t bs=1M count=4 2>/dev/null && echo tmp ok" sh /s/big 2 1

check_output "df shows the sizes (a sized --tmpfs is taken out of --disk)" "15M 1.0M" \
	mrun --disk 16m --tmpfs /s:size=1m -- /bin/sh -c "echo \$(df -h /tmp /s | awk 'NR>1 {print \$2}')"

check_output "mode= and ro" "700 EROFS" \
	mrun --tmpfs /m:mode=700 --tmpfs /r:ro -- /usr/bin/python3 -c '
import os, errno
try: open("/r/x", "w"); e = "written"
except OSError as x: e = errno.errorcode[x.errno]
print(oct(os.stat("/m").st_mode & 0o7777)[2:], e)'

# A full disk is audited (sentry/sandbox/diskwatch.c): the record comes from
# moat's look at the store before the rm frees it, and once more from the
# look at the end (none then: only one record).
t_disk_audited()
{
	local log=$T_TMP/disk-audit.jsonl err=$T_TMP/disk-audit.err n
	rm -f "$log"
	mrun --disk 4m --audit-log "$log" -- /bin/sh -c \
		'head -c 8000000 /dev/zero > /tmp/x 2>/dev/null; rm /tmp/x; echo ok > /tmp/y' 2>"$err" || return 1
	n=$(grep -c '"type":"limit","limit":"disk","bytes":4194304' "$log")
	cat "$log" "$err"
	[ "$n" = 1 ] && grep -q "filled its in-memory disk" "$err"
}
check "a full disk: one limit record 'disk' and a line, though the guest freed it at once" t_disk_audited
t_disk_not_full()
{
	local log=$T_TMP/disk-audit2.jsonl
	rm -f "$log"
	mrun --disk 4m --audit-log "$log" -- /bin/sh -c \
		'head -c 3000000 /dev/zero > /tmp/x; rm /tmp/x' 2>&1 || return 1
	! grep '"limit":"disk"' "$log"
}
check "a disk written to 3 of its 4 MiB: no limit record" t_disk_not_full

t_copy_up()
{
	local big
	big=$(find /usr/lib /usr/share -type f -size +20M 2>/dev/null | head -1)
	[ -n "$big" ] || { echo "no 20 MiB file on this host"; return 0; }
	local before out
	before=$(sha256sum "$big")
	out=$(mrun --disk 8m -- /bin/sh -c "echo x >> '$big'; echo rc=\$?; df /tmp | awk 'NR==2 {print \$3}'" 2>&1)
	echo "$out"
	# The append fails, the half-made copy is freed, the host file is untouched.
	grep -q "No space left on device" <<<"$out" && grep -q "rc=[12]" <<<"$out" &&
		[ "$(grep -v '^moat:' <<<"$out" | tail -1)" -lt 1024 ] && [ "$(sha256sum "$big")" = "$before" ]
}
check "a copy-up larger than the disk fails with ENOSPC and leaves nothing behind" t_copy_up

# --- bad input: one line, exit 125 -----------------------------------------------------
t_bad()
{
	local err
	err=$("$MOAT" run "$@" -- /bin/true 2>&1 >/dev/null)
	local rc=$?
	echo "rc=$rc: $err"
	[ $rc = 125 ] && [ "$(wc -l <<<"$err")" = 1 ]
}
check "--tmpfs with a bad size" t_bad --tmpfs /s:size=lots
check "--tmpfs with an unknown option" t_bad --tmpfs /s:size=1m,bogus
check "--tmpfs with a relative path" t_bad --tmpfs s
check "--disk too small" t_bad --disk 10k
check "--tmpfs sizes that do not fit in --disk" t_bad --disk 8m --tmpfs /s:size=8m

done_testing
