#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: inotify for changes made inside the sandbox (issue 7;
# sentry/fs/notify.c, syscalls/sys_inotify.c). The guest's instance is a
# host one; watches go on the host objects that stand for its files. Event
# sequences are compared with the same program run natively on the host.
. "$(dirname "$0")/lib.sh"

require_moat

# The reader (ctypes, no inotify-tools needed), bound read-only at /t.
HT=$(host_tmpdir) || bail_out "no host temp dir"
cp "$(dirname "$0")/inotify_watch.py" "$HT/" || bail_out "no inotify_watch.py"
chmod -R a+rX "$HT"
# An rw bind, owned by a test owner.
RW=$(host_tmpdir) || bail_out "no host temp dir"
chown 4242:4343 "$RW"
# A host directory served read-only, changed by the host during a watch.
RO=$(host_tmpdir) || bail_out "no host temp dir"
chmod a+rx "$RO"
NAT=$(host_tmpdir) || bail_out "no host temp dir"

# Without a tmpfs store (the memfd fallback) a directory's stand-in holds
# empty placeholders: its watch sees names come and go, not its files' data,
# and a file watch's IN_DELETE_SELF comes when the file's last fd closes.
STORE=1
[[ ",${MOAT_TEST_FORCE_FALLBACK:-}," =~ ,(all|tmpfs_store), ]] && STORE=0
NOSTORE="MOAT_TEST_FORCE_FALLBACK: without a tmpfs store, in-memory files' data is not seen by directory watches"
# check_store DESC CMD...: check, or skip without a store.
check_store()
{
	if [ "$STORE" = 1 ]; then check "$@"; else skip "$1" "$NOSTORE"; fi
}

B=(--bind "$HT:/t" --bind-owner 4242:4343 --bind "$RW:/b:rw" --bind "$RO:/ro")
W="python3 /t/inotify_watch.py"

# ---- tail -f follows appends, without falling back to polling ---------------

TAIL='f=$1; echo one > $f
timeout 4 tail -f $f > /tmp/tail.out 2> /tmp/tail.err &
sleep 1; echo two >> $f; sleep 0.5; echo three >> $f; wait
cat /tmp/tail.out; cat /tmp/tail.err >&2'

t_tail()
{
	local out err
	out=$(mrun "${B[@]}" -- /bin/sh -c "$TAIL" sh "$1" 2>"$T_TMP/tail.err")
	err=$(cat "$T_TMP/tail.err")
	echo "out: $out"; echo "err: $err"
	[ "$out" = "$(printf 'one\ntwo\nthree')" ] && ! grep -q -i 'polling\|inotify' <<<"$err"
}
for f in /tmp/x /etc/x /b/x; do
	check "tail -f $f follows lines another process appends (inotify, no polling)" t_tail "$f"
done

# ---- exact event sequences, as natively ---------------------------------------

# t_same exact|sorted CMD PATH...: the reader's output for CMD natively (in
# a fresh host temp dir) and in the sandbox (at PATH...) must be identical
# (or the same lines, with sorted).
t_same()
{
	local how=$1 cmd=$2 sort=cat; shift 2
	[ "$how" = sorted ] && sort=sort
	local nargs=() a n
	n=$(mktemp -d "$NAT/XXXXXX") || return 1
	for a in "$@"; do nargs+=("$n/$(basename "$a")"); done
	native python3 "$HT/inotify_watch.py" "$cmd" "${nargs[@]}" | $sort >"$T_TMP/native" || return 1
	mrun "${B[@]}" -- python3 /t/inotify_watch.py "$cmd" "$@" | $sort >"$T_TMP/guest" || return 1
	diff "$T_TMP/native" "$T_TMP/guest" && [ "$(wc -l <"$T_TMP/native")" -gt 1 ]
}

for base in /tmp /etc /b; do
	chk=check_store
	[ "$base" = /b ] && chk=check
	$chk "$base: a directory watch sees create, write+close, chmod, renames (cookie pairs), mkdir/rmdir, unlink, IN_DELETE_SELF+IN_IGNORED, as natively" \
		t_same exact dir "$base/wdir"
	$chk "$base: a file watch sees appends by another process, chmod, links, rename (IN_MOVE_SELF), IN_DELETE_SELF+IN_IGNORED, as natively" \
		t_same exact file "$base/wfile"
	check "$base: errors as natively: IN_ONLYDIR on a file ENOTDIR, ENOENT, mask 0 and a non-inotify fd EINVAL, EBADF; one wd per inode" \
		t_same exact errors "$base/werr"
done
check "/tmp: renames between two watched directories, out of one and into one; a watched subdirectory moves and goes" \
	t_same exact two /tmp/wa /tmp/wb
check "/etc (overlay): the same between two watched directories" t_same exact two /etc/wa /etc/wb
# On an rw bind the host's own order: the gofer lets go of a removed
# directory a moment later, so its IN_DELETE_SELF may come after.
check "/b (rw bind): the same events between two watched directories" t_same sorted two /b/wa /b/wb

# ---- the overlay: a directory that has no upper copy yet ----------------------

LOWER=$(host_tmpdir /var/tmp) || bail_out "no host temp dir in /var/tmp"
mkdir "$LOWER/d" && echo a >"$LOWER/d/a" && echo b >"$LOWER/d/b" && chmod -R a+rX "$LOWER"
t_lower()
{
	rm -rf "$NAT/lower" && cp -a "$LOWER/d" "$NAT/lower" || return 1
	native python3 "$HT/inotify_watch.py" overlay "$NAT/lower" >"$T_TMP/native" || return 1
	mrun --rootfs / --bind "$HT:/t" -- python3 /t/inotify_watch.py overlay "$LOWER/d" >"$T_TMP/guest" || return 1
	diff "$T_TMP/native" "$T_TMP/guest" && grep -q 'DELETE a' "$T_TMP/guest" &&
		[ "$(ls "$LOWER/d")" = "$(printf 'a\nb')" ]
}
check_store "overlay: a watched lower-only directory reports removing and renaming lower files and new files, as natively; the host tree is untouched" t_lower

# ---- permissions --------------------------------------------------------------

check_output "a non-root guest gets EACCES for a 0700 directory of root's and for what is below it" \
	"dir EACCES file EACCES subdir EACCES" mrun "${B[@]}" -- $W eacces /tmp/private

# ---- read-only host files: a watch that never fires ---------------------------

t_ro()
{
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run "${B[@]}" -- $W silent /ro 3 >"$T_TMP/ro.out" 2>&1 </dev/null &
	local m=$!
	wait_for_file "$T_TMP/ro.out" "wd 1" || { kill "$m"; return 1; }
	echo host >"$RO/new"; echo more >>"$RO/new"; cat "$RO/new" >/dev/null; rm "$RO/new"
	wait "$m" || return 1
	cat "$T_TMP/ro.out"
	[ "$(cat "$T_TMP/ro.out")" = "$(printf 'wd 1\nnothing')" ]
}
check "a read-only bind: the watch is given, and the host's changes to it are not shown" t_ro
check_output "a read-only host directory (/usr/bin) can be watched" "wd 1" \
	mrun "${B[@]}" -- python3 -c "
import sys; sys.path.insert(0, '/t'); import inotify_watch as w
print('wd', w.add(w.new(), '/usr/bin', w.ALL))"

# ---- a real watcher -------------------------------------------------------------

IW='d=$1; mkdir -p $d
inotifywait -q -m -e create,modify,close_write,moved_from,moved_to,delete --format "%e %f" $d > /tmp/iw.out &
sleep 1; echo x > $d/f; mv $d/f $d/g; rm $d/g; sleep 0.5; kill $!; cat /tmp/iw.out'
if have inotifywait; then
	for d in /tmp/iw /etc/iw /b/iw; do
		if [ "$STORE" = 0 ] && [ "$d" != /b/iw ]; then
			skip "inotifywait -m in $d" "$NOSTORE"
			continue
		fi
		check_output "inotifywait -m in $d" "$(printf 'CREATE f\nMODIFY f\nCLOSE_WRITE,CLOSE f\nMOVED_FROM f\nMOVED_TO g\nDELETE g')" \
			mrun "${B[@]}" -- /bin/sh -c "$IW" sh "$d"
	done
else
	skip "inotifywait -m in /tmp, /etc and an rw bind" "inotify-tools not installed"
fi

done_testing
