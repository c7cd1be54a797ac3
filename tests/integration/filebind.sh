#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: binds of single files (--bind FILE:DST, OCI file mounts such
# as kubelet's /dev/termination-log). The gofer serves the file alone, in a
# read-only directory of its own: the host directory around it must stay
# out of reach, whatever the guest tries. Checked from outside.
. "$(dirname "$0")/lib.sh"
require_moat

H=$(host_tmpdir)
mkdir -p "$H/dir"
echo original >"$H/dir/file"
echo sibling-secret >"$H/dir/sibling"
chmod 0644 "$H/dir/file"
ino_before=$(stat -c %i "$H/dir/file")

t_ro()
{
	mrun --bind "$H/dir/file:/etc/bound" -- /bin/sh -c '
		[ "$(cat /etc/bound)" = original ] || exit 1
		echo x >> /etc/bound 2>/dev/null && exit 2
		mv /etc/bound /etc/moved 2>/dev/null && exit 3
		rm /etc/bound 2>/dev/null && exit 4
		exit 0' || return 1
	[ "$(cat "$H/dir/file")" = original ]
}
check "a read-only file bind shows the file; write, rename and unlink are refused" t_ro

t_rw()
{
	mrun --bind "$H/dir/file:/opt/app/config:rw" -- /bin/sh -c '
		echo appended >> /opt/app/config || exit 1
		# beside it: the sandbox'"'"'s own directory, not the host'"'"'s
		echo made > /opt/app/beside || exit 2
		ls /opt/app' >"$T_TMP/rw.out" || return 1
	[ "$(cat "$H/dir/file")" = "original
appended" ] || return 1
	# The same host file, written in place, and nothing new beside it.
	[ "$(stat -c %i "$H/dir/file")" = "$ino_before" ] || return 1
	[ "$(ls "$H/dir" | tr '\n' ' ')" = "file sibling " ] || return 1
	grep -qx config "$T_TMP/rw.out" && ! grep -qx sibling "$T_TMP/rw.out"
}
check "an rw file bind writes the host file in place; its host directory gains nothing" t_rw
printf 'original\n' >"$H/dir/file"

# The host directory around the file is nowhere in the sandbox: no path
# reaches the sibling, by name or by a search of the whole tree.
t_no_sibling()
{
	mrun --bind "$H/dir/file:/etc/bound:rw" -- /bin/sh -c '
		exec 3</etc/bound
		cat /proc/self/fd/3/../sibling 2>/dev/null && exit 1
		cat /etc/sibling 2>/dev/null && exit 2
		grep -rl sibling-secret /etc /opt /tmp /root /proc/self/fd/ 2>/dev/null && exit 3
		exit 0'
}
check "the host file's siblings are unreachable (.. through its fd, its directory, a search)" t_no_sibling

t_dev()
{
	: >"$H/termlog"
	mrun --bind "$H/termlog:/dev/termination-log:rw" -- /bin/sh -c '
		ls /dev | grep -qx termination-log || exit 1
		echo "exited: out of cheese" > /dev/termination-log' || return 1
	[ "$(cat "$H/termlog")" = "exited: out of cheese" ]
}
check "a file bound in /dev (kubelet's /dev/termination-log) reaches the host" t_dev

t_identity()
{
	printf '10.9.8.7\tmine\n' >"$H/hosts"
	[ "$(mrun --bind "$H/hosts:/etc/hosts" -- cat /etc/hosts)" = "$(printf '10.9.8.7\tmine')" ]
}
check "a bound /etc/hosts wins over moat's own" t_identity

t_paths()
{
	mrun --bind "$H/dir/file:/opt/app/config" -- /bin/sh -c '
		grep -q "^none /opt/app/config gofer ro," /proc/mounts || exit 1
		exec 3</opt/app/config
		[ "$(readlink /proc/self/fd/3)" = /opt/app/config ] || exit 2
		# an upper file of the overlay shows its own path too
		echo x > /etc/newfile; exec 4</etc/newfile
		[ "$(readlink /proc/self/fd/4)" = /etc/newfile ] || exit 3'
}
check "/proc/mounts lists it; /proc/self/fd names it (and overlay upper files) by their paths" t_paths

t_swap()
{
	# The source swapped for a directory after the check is not served.
	mrun --bind "$H/dir/file:/etc/bound" -- cat /etc/bound >/dev/null
}
check "a regular file's bind runs (the gofer rechecks the type it cloned)" t_swap

# --- bad input: one line naming the bind, exit 125 --------------------------------------
t_bad()
{
	local out rc
	out=$("$MOAT" run "$@" -- /bin/true 2>&1 >/dev/null </dev/null)
	rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 125 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [[ $out == *--bind* ]]
}
check "a file bound over a directory" t_bad --bind "$H/dir/file:/etc"
mkfifo "$H/fifo"
check "a FIFO cannot be bound" t_bad --bind "$H/fifo:/etc/fifo"
check "a file cannot be the root" t_bad --bind "$H/dir/file:/"
check "--read-only: no file to mount on where none can be made" t_bad --read-only --bind "$H/dir/file:/nonexistent/f"
check "bad input left the host directory as it was" \
	test "$(ls "$H/dir" | tr '\n' ' ')" = "file sibling "

done_testing
