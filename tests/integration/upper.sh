#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: `moat run --upper DIR` (sentry/fs/overlay.c with a gofer fs
# as its upper layer). Every change the guest makes lands in DIR on the host
# as it happens, in overlayfs's unprivileged format (whiteouts: character
# devices 0/0; opaque directories: user.overlay.opaque=y), owned by DIR's
# owner, never root; the host's own files are never touched. Each check
# looks at DIR from outside.
. "$(dirname "$0")/lib.sh"

require_moat

OWNER=4242
BASE=$(host_tmpdir) || exit 99
chmod 755 "$BASE"

# fresh_upper: a new empty directory owned by $OWNER.
fresh_upper()
{
	local d
	d=$(mktemp -d "$BASE/u.XXXXXX") && chown "$OWNER:$OWNER" "$d" && echo "$d"
}

# xattr PATH NAME: the value of a user.* attribute, or nothing.
xattr()
{
	python3 -c 'import os, sys
try:
    print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
except OSError:
    pass' "$1" "$2"
}

fingerprint()
{
	(cd "$1" && find . -maxdepth 2 ! -name 'moat-*' -printf '%p %s %m %T@ %y\n' 2>/dev/null | sort)
}

# One sandbox does all of the writes; the checks below look at its DIR.
U=$(fresh_upper) || exit 99
LOWER_FILE=/etc/$(cd /etc && ls -p | grep -v / | grep -vx -e hostname -e hosts -e resolv.conf \
	-e machine-id -e passwd -e shadow -e gshadow | head -n 1)
LOWER_DIR=/usr/share/doc
ETC_BEFORE=$(fingerprint /etc)
USR_BEFORE=$(fingerprint /usr/local)
OUT=$(mrun --upper "$U" -- /bin/sh -c "
	set -e
	echo etc-data > /etc/moat-new
	mkdir -p /usr/local/lib/moat-d && echo usr-data > /usr/local/lib/moat-d/f
	mkdir -p /srv/moat-new/a/b && echo deep > /srv/moat-new/a/b/c
	rm $LOWER_FILE
	n=\$(ls $LOWER_DIR | wc -l); test \$n -gt 0
	rm -rf $LOWER_DIR && mkdir $LOWER_DIR && echo after > $LOWER_DIR/only
	chmod 600 /etc/passwd
	echo ren > /etc/moat-ren-src && mv /etc/moat-ren-src /etc/moat-ren-dst
	cp /etc/group /etc/moat-group && mv /etc/group /etc/moat-group-moved
	ln /etc/moat-new /etc/moat-link
	ls -A / | grep -c moat-work || true
	ls $LOWER_DIR; test ! -e $LOWER_FILE && echo inside-ok" 2>&1)
RC=$?

check "the guest's writes, removals, renames and links all work inside" \
	test "$RC" = 0 -a "$(printf '%s\n' "$OUT" | tail -n 3)" = "0
only
inside-ok"
[ "$RC" = 0 ] || diag "$OUT"

check_output "new files in /etc, /usr/local and new directories are in DIR with their data" \
	"etc-data usr-data deep" \
	sh -c "echo \$(cat '$U/etc/moat-new' '$U/usr/local/lib/moat-d/f' '$U/srv/moat-new/a/b/c')"

t_whiteout() { test -c "$U$LOWER_FILE" && echo c $(stat -c '%t %T' "$U$LOWER_FILE"); }
check_output "rm of a lower file leaves a whiteout: a character device 0/0" "c 0 0" t_whiteout

t_opaque() { echo $(xattr "$U$LOWER_DIR" user.overlay.opaque) $(ls -A "$U$LOWER_DIR"); }
check_output "rm -rf of a lower directory, then mkdir: opaque (user.overlay.opaque=y), only the new file" \
	"y only" t_opaque

check_output "chmod of a lower file copies it up: mode 600, the host's data" "600 same" \
	sh -c "stat -c %a '$U/etc/passwd' | tr -d '\n'; cmp -s '$U/etc/passwd' /etc/passwd && echo ' same'"

check_output "rename of a lower file: a whiteout at the old name, the copy at the new" "c yes" \
	sh -c "test -c '$U/etc/group' && stat -c %t%T '$U/etc/group' | grep -qx 00 && printf c; cmp -s '$U/etc/moat-group-moved' /etc/group && echo ' yes'"

check_output "rename of an upper file: only the new name" "ren absent" \
	sh -c "echo \$(cat '$U/etc/moat-ren-dst') \$(test -e '$U/etc/moat-ren-src' || echo absent)"

check_output "hard link: one host inode, two names" "2 same" \
	sh -c "stat -c %h '$U/etc/moat-link' | tr -d '\n'; [ \$(stat -c %i '$U/etc/moat-new') = \$(stat -c %i '$U/etc/moat-link') ] && echo ' same'"

check_output "nothing in DIR is root's: all of it belongs to DIR's owner" "0 0" \
	sh -c "echo \$(find '$U' -uid 0 | wc -l) \$(find '$U' ! -uid $OWNER | wc -l)"

check "no set-id bits and no work directory are left in DIR" \
	sh -c "test -z \"\$(find '$U' -perm /6000)\" && test ! -e '$U/.moat-work'"

t_host_untouched()
{
	[ "$(fingerprint /etc)" = "$ETC_BEFORE" ] && [ "$(fingerprint /usr/local)" = "$USR_BEFORE" ] &&
		test -e "$LOWER_FILE" && test -n "$(ls -A "$LOWER_DIR")" && test ! -e /etc/moat-new
}
check "the host's /etc and /usr/local are untouched" t_host_untouched

# --- write-through: a sentry killed with SIGKILL leaves its changes --------------
t_kill9()
{
	local d pid i
	d=$(fresh_upper) || return 1
	timeout -k 5 60 "$MOAT" run --upper "$d" -- /bin/sh -c '
		echo first > /etc/moat-crash; mkdir -p /opt/moat-crash; rm /etc/issue 2>/dev/null
		i=0; while [ $i -lt 200 ]; do echo line$i >> /etc/moat-crash; i=$((i+1)); done
		touch /opt/moat-crash/ready; exec sleep 60' </dev/null >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 100); do
		[ -e "$d/opt/moat-crash/ready" ] && break
		sleep 0.1
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	[ -e "$d/opt/moat-crash/ready" ] || { echo "never ready" >&2; return 1; }
	[ "$(wc -l <"$d/etc/moat-crash")" = 201 ] && [ "$(tail -n 1 "$d/etc/moat-crash")" = line199 ] &&
		{ [ ! -e /etc/issue ] || test -c "$d/etc/issue"; }
}
check "write-through: after kill -9 of the sentry mid-run, DIR holds every change made so far" t_kill9

# --- the guest never sees the work directory, and cannot take its name ----------
check_output "the work directory is hidden inside and its name reserved" "absent EPERM" \
	mrun --upper "$(fresh_upper)" -- python3 -c '
import os, errno
print("absent" if ".moat-work" not in os.listdir("/") and not os.path.exists("/.moat-work") else "seen", end=" ")
try:
    os.mkdir("/.moat-work"); print("made")
except OSError as e:
    print(errno.errorcode[e.errno])'

# --- reuse: DIR is an overlayfs layer ---------------------------------------------
t_overlayfs()
{
	local m
	m=$(host_tmpdir) || return 1
	# Opaque is a mark on a directory inside a layer (a layer's root
	# always merges): the layers are /usr/share's.
	if ! mount -t overlay overlay -o "userxattr,lowerdir=$U${LOWER_DIR%/*}:${LOWER_DIR%/*}" "$m" 2>/dev/null; then
		echo "SKIP" && return 0
	fi
	at_exit "umount '$m' 2>/dev/null"
	ls -A "$m/${LOWER_DIR##*/}"
	umount "$m"
	mount -t overlay overlay -o "userxattr,lowerdir=$U/etc:/etc" "$m" || return 1
	test -e "$m/moat-new" && test ! -e "$m$(echo "$LOWER_FILE" | sed 's|^/etc||')" && echo whiteout-ok
	umount "$m"
}
if out=$(t_overlayfs 2>&1) && [ "$out" = SKIP ]; then
	skip "DIR is an overlayfs layer (mount -t overlay -o userxattr)" "cannot mount overlayfs here"
else
	check_output "DIR is an overlayfs layer: opaque directory and whiteout honoured (mount -t overlay -o userxattr)" \
		"only
whiteout-ok" t_overlayfs
fi

# --- bad input: one line, exit 125, nothing created -------------------------------
# bad NAME DIR [ARGS...]: moat run --upper DIR ARGS -- true exits 125 with a
# single line on stderr, and DIR (when it exists) is as it was.
bad()
{
	local desc=$1 d=$2 before err rc
	shift 2
	before=$( [ -e "$d" ] && ls -lA --time-style=full-iso "$d")
	err=$(timeout 20 "$MOAT" run --upper "$d" "$@" -- /bin/true 2>&1 </dev/null)
	rc=$?
	[ "$rc" = 125 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && [ -n "$err" ] &&
		[ "$( [ -e "$d" ] && ls -lA --time-style=full-iso "$d")" = "$before" ] || {
		echo "rc=$rc err=$err" >&2
		return 1
	}
}
check "bad input: a missing DIR" bad missing "$BASE/nonexistent"
check "... and it was not created" test ! -e "$BASE/nonexistent"
NE=$(fresh_upper) && echo x >"$NE/f"
check "bad input: a DIR that is not empty" bad nonempty "$NE"
FILE=$(fresh_upper)/file && touch "$FILE"
check "bad input: a DIR that is a file" bad file "$FILE"
RO_SRC=$(fresh_upper)
RO=$(fresh_upper)
if mount --bind "$RO_SRC" "$RO" 2>/dev/null && mount -o remount,bind,ro "$RO" 2>/dev/null; then
	at_exit "umount '$RO'"
	check "bad input: a DIR on a read-only mount" bad ro "$RO"
else
	skip "bad input: a DIR on a read-only mount" "cannot make a read-only bind mount"
fi
NW=$(fresh_upper) && chmod 0500 "$NW"
check "bad input: a DIR its owner may not write (0500)" bad notwritable "$NW"
ROOTD=$(fresh_upper) && chown 0:0 "$ROOTD"
check "bad input: a root-owned DIR without --bind-owner" bad rootowned "$ROOTD"
check "... with --bind-owner it is taken, and the files are that owner's" \
	sh -c "timeout 30 '$MOAT' run --upper '$ROOTD' --bind-owner 4343:4343 -- /bin/sh -c 'echo x > /etc/moat-o' </dev/null &&
	       [ \"\$(stat -c %u:%g '$ROOTD/etc/moat-o')\" = 4343:4343 ]"
check "bad input: --upper with --read-only" bad readonly "$(fresh_upper)" --read-only

done_testing
