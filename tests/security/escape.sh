#!/bin/bash
# SPDX-License-Identifier: MIT
# Security: ways out of the view that security.sh does not try, each run
# natively first (as root, or as the unprivileged user named) to show that
# the check from outside does see the escape, then inside `moat run`:
# overwriting the runtime through /proc/self/exe and /proc/1/exe; writing
# through /proc/self/fd of a read-only, a closed and a passed fd; leftover
# fds; hard links to files outside a bind; a symlink swap race from a
# second thread against a rw bind; another running sandbox's unix sockets
# and /tmp; a path rewritten by a second thread; a sockaddr rewritten by a
# second thread; the host's loopback service, abstract and path unix sockets
# with --net=none and --net=sandbox; setuid binaries (a setuid-root copy,
# su, sudo). Helpers: probe.c and py/*.py, bound read-only at /p.
. "$(dirname "$0")/../integration/lib.sh"

require_moat

D=$(host_tmpdir)
chmod 755 "$D"
cp "$(dirname "$0")"/py/*.py "$D/"
if ! have gcc || ! gcc -std=gnu17 -O2 -o "$D/probe" "$(dirname "$0")/probe.c"; then
	skip "escapes" "cannot build tests/security/probe.c with gcc"
	done_testing
fi
P="--bind $D:/p:ro"
# note TEXT: said on failure, and in the summary at the end (native vs moat).
note() { echo "$*" >&2; echo "$*" >>"$T_TMP/notes"; }
# A directory the guest may write (owned by an unprivileged uid, as rw
# binds must be), and beside it one it must never touch.
BIND=$D/bind VICTIM=$D/victim
mkdir -p "$BIND" "$VICTIM"
chown 1000:1000 "$BIND"
chmod 777 "$VICTIM"

# --- the runtime's binary ---------------------------------------------------
# The probe appends a byte to /proc/self/exe, /proc/1/exe (directly and by
# reopening an O_PATH fd, as in runc's CVE-2019-5736) and to ARG. The
# binaries are hashed outside before and after.
t_write_exe()
{
	local before after native
	cp "$D/probe" "$D/victim-exe"
	before=$(sha256sum "$D/victim-exe" | cut -d' ' -f1)
	native=$(cd "$D" && ./probe write_exe "$D/victim-exe")
	after=$(sha256sum "$D/victim-exe" | cut -d' ' -f1)
	note "native: $native"
	[ "$before" != "$after" ] || { echo "natively the hash did not change: the check sees nothing" >&2; return 1; }
	local bins="$MOAT $D/probe $(readlink -f /bin/sh) $(readlink -f "$(command -v python3)")"
	# shellcheck disable=SC2086
	before=$(sha256sum $bins)
	# pid 1 is sh: /proc/1/exe is /bin/sh, which the overlay copies up in
	# memory when it is opened for writing ("reached", but not the host's).
	note "moat: $(mrun $P -- /bin/sh -c '/p/probe write_exe; /p/probe write_exe /proc/2/exe; python3 -c "
import os, subprocess
subprocess.run([\"/p/probe\", \"write_exe\", \"/proc/%d/exe\" % os.getpid()])"' 2>&1)"
	note "moat --read-only: $(mrun --read-only $P -- /bin/sh -c '/p/probe write_exe' 2>&1)"
	# shellcheck disable=SC2086
	after=$(sha256sum $bins)
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; return 1; }
}
check "/proc/self/exe, /proc/1/exe: moat's binary and the guest's are unchanged outside (natively the append shows)" t_write_exe

# --- /proc/self/fd --------------------------------------------------------------
t_procfd()
{
	local out
	echo keep >"$D/ro-file"
	out=$(cd "$D" && python3 procfd.py "$D/ro-file")
	note "native: $out"
	grep -q PWN "$D/ro-file" || { echo "natively nothing was written: the check sees nothing" >&2; return 1; }
	echo keep >"$D/ro-file"
	out=$(mrun $P -- python3 /p/procfd.py /p/ro-file) || return 1
	note "moat: $out"
	[ "$(cat "$D/ro-file")" = keep ] && ! grep -q wrote <<<"$out"
}
check "/proc/self/fd of a read-only, a closed and a passed fd: no write reaches the host file (natively all three do)" t_procfd

# /proc/PID/cwd and /proc/PID/root of every process the guest can see: a
# host process sits in a victim directory VD; a file is created through
# each link (cwd/NAME and root/VD/NAME). Natively (root, through that one
# host process only) both land in VD; inside, through every process the
# guest sees, none does.
t_proc_cwd()
{
	local vd pid out n
	vd=$(host_tmpdir /var/tmp)
	chmod 777 "$vd"
	(cd "$vd" && exec sleep 60) &
	pid=$!
	CWD_PY='
import os, sys
vd, pids = sys.argv[1], sys.argv[2:] or [p for p in os.listdir("/proc") if p.isdigit()]
n = 0
for p in pids:
    for path in ("/proc/%s/cwd/moat-cwd-%s" % (p, p), "/proc/%s/root%s/moat-root-%s" % (p, vd, p)):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)); n += 1
        except OSError:
            pass
print("created", n, "through", len(pids), "processes")
'
	out=$(python3 -c "$CWD_PY" "$vd" "$pid")
	n=$(ls -A "$vd" | wc -l)
	note "native: $out, $n landed in $vd"
	rm -f "$vd"/moat-*
	[ "$n" = 2 ] || { kill "$pid"; echo "natively not both landed: the check sees nothing" >&2; return 1; }
	out=$(mrun -- python3 -c "$CWD_PY" "$vd")
	n=$(ls -A "$vd" | wc -l)
	kill "$pid"
	note "moat: $out, $n landed in $vd"
	[ "$n" = 0 ]
}
check "/proc/PID/cwd and /proc/PID/root of every visible process: nothing created lands in a host directory (natively both do)" t_proc_cwd

# Leftover fds: the invoking shell's fd 7 (and anything moat opened) never
# reaches the guest; from outside, the guest's host process holds only its
# stdio and what it opened itself.
t_leftover()
{
	local native inside tag="moat-sec-fds-$$" extra
	native=$(native python3 -c 'import os; print(" ".join(sorted(os.listdir("/proc/self/fd"))))' 7</etc/hostname)
	note "native with fd 7 open: $native"
	grep -qw 7 <<<"$native" || { echo "natively fd 7 is not seen: the check sees nothing" >&2; return 1; }
	inside=$(mrun -- python3 -c 'import os; print(" ".join(sorted(os.listdir("/proc/self/fd"))))' 7</etc/hostname)
	note "inside: $inside"
	[ "$inside" = "0 1 2 3" ] || return 1
	exec 7</etc/hostname
	start_guest "$tag" 'import time; print("ready", flush=True); time.sleep(30)'
	local r=$?
	exec 7<&-
	[ "$r" = 0 ] || return 1
	extra=$(ls "/proc/$GUEST_PID/fd" | grep -vx '[012]')
	# The ptrace platform's receiving socket (platform/ptrace_fd.c): a
	# socket at 1000 or above whose other end only the sentry holds.
	if [ "${MOAT_PLATFORM:-}" = ptrace ]; then
		extra=$(for f in $extra; do
			[ "$f" -ge 1000 ] && [[ $(readlink "/proc/$GUEST_PID/fd/$f") == socket:* ]] || echo "$f"
		done)
	fi
	note "host fds of the guest beyond stdio: [$(echo $extra)]"
	for f in $extra; do
		echo "  $f -> $(readlink "/proc/$GUEST_PID/fd/$f")" >&2
	done
	kill -9 "$GUEST_PID"
	wait "$MOAT_PID"
	[ -z "$extra" ]
}
check "leftover fds: /proc/self/fd inside shows only stdio, and from outside the guest holds no other host fd" t_leftover

# --- hard links to files outside a bind ------------------------------------------
t_hardlink()
{
	local out secret="$D/secret" bad=0 env_links
	# Counted before, not assumed 1: other programs link it too (perf's
	# build-id cache in ~/.debug does).
	env_links=$(stat -c %h /usr/bin/env)
	mkdir -p "$secret"
	echo "outside the bind" >"$secret/s"
	chmod 644 "$secret/s"
	# Natively (the same filesystem) a link is made: the inode check sees it.
	ln "$secret/s" "$BIND/native-link" && [ "$(stat -c %h "$secret/s")" = 2 ] ||
		{ echo "natively no hard link was made: the check sees nothing" >&2; return 1; }
	rm -f "$BIND/native-link"
	out=$(mrun $P --bind "$secret:/secret:ro" --bind "$BIND:/data:rw" -- python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def t(name, f):
    try:
        r = f()
        if isinstance(r, int) and r < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        print(name, "LINKED")
    except OSError as e:
        print(name, "refused", os.strerror(e.errno))
t("link", lambda: os.link("/secret/s", "/data/l1"))
fd = os.open("/secret/s", os.O_RDONLY)
t("procfd", lambda: os.link("/proc/self/fd/%d" % fd, "/data/l2", follow_symlinks=True))
t("empty_path", lambda: libc.linkat(fd, b"", -100, b"/data/l3", 0x1000))
t("usr", lambda: os.link("/usr/bin/env", "/data/l4"))
t("etc", lambda: os.link("/etc/passwd", "/data/l5"))
') || return 1
	echo "$out" >&2
	[ "$(stat -c %h "$secret/s")" = 1 ] || { echo "/secret/s has $(stat -c %h "$secret/s") links" >&2; bad=1; }
	for f in "$BIND"/*; do
		[ -e "$f" ] || continue
		if [ "$(stat -c %h "$f")" != 1 ] || [ "$(stat -c %i "$f")" = "$(stat -c %i "$secret/s")" ]; then
			echo "$f is a link to something outside" >&2
			bad=1
		fi
	done
	[ "$(stat -c %h /usr/bin/env)" = "$env_links" ] || { echo "/usr/bin/env gained a link" >&2; bad=1; }
	return $bad
}
check "hard links from a rw bind to files outside it (path, /proc/self/fd, AT_EMPTY_PATH, /usr, /etc) are refused; link counts outside unchanged" t_hardlink

# --- a symlink swap race from a second thread ------------------------------------
t_swap_race()
{
	local out n
	mkdir -p "$D/native-bind"
	out=$(python3 "$D/race.py" "$D/native-bind" 300 "$VICTIM")
	n=$(ls -A "$VICTIM" | wc -l)
	note "native: $out, $n entries landed in the victim"
	[ "$n" -gt 0 ] || { echo "natively nothing landed outside: the check sees nothing" >&2; return 1; }
	rm -rf "${VICTIM:?}"/* "$D/native-bind"
	touch -d '2000-01-01' "$VICTIM"
	out=$(mrun $P --bind "$BIND:/data:rw" -- python3 /p/race.py /data 2000 "$VICTIM") || return 1
	n=$(ls -A "$VICTIM" | wc -l)
	note "moat: $out; victim: $n entries, mtime $(stat -c %y "$VICTIM")"
	# The creates did happen, in the bind.
	[ "$n" = 0 ] && [ "$(stat -c %Y "$VICTIM")" = "$(date -d 2000-01-01 +%s)" ] &&
		[ "$(find "$BIND" -name 'pwn*' | wc -l)" -gt 0 ]
}
check "symlink swap race (2000 rounds): creates under a rw bind never land outside it (natively they do)" t_swap_race

# --- a path rewritten by another thread -------------------------------------------
# Between the sentry's read of a path and its use: appends to a file of a
# read-only bind, reads of /etc/shadow (masked) while a thread flips the
# path to a harmless one and back.
t_path_swap()
{
	local out
	echo keep >"$D/swap-ro"
	echo "host-secret-$$" >"$D/swap-secret"
	chmod 600 "$D/swap-secret"
	out=$(cd "$D" && python3 pathswap.py "$D/swap-ro" "$D/swap-secret" 2000 | tr -d '\0')
	note "native: $(head -n 1 <<<"$out"), $(grep -c PWN "$D/swap-ro") appends landed"
	grep -q PWN "$D/swap-ro" && grep -q "host-secret-$$" <<<"$out" ||
		{ echo "natively neither landed: the check sees nothing" >&2; return 1; }
	echo keep >"$D/swap-ro"
	out=$(mrun $P -- python3 /p/pathswap.py /p/swap-ro /etc/shadow 5000 | tr -d '\0') || return 1
	note "moat: $(head -n 1 <<<"$out"); the ro file: $(cat "$D/swap-ro" | tr '\n' ' ')"
	[ "$(cat "$D/swap-ro")" = keep ] || return 1
	# No line of the host's /etc/shadow (each starts with a user name and a colon).
	! grep -qF -f <(cut -d: -f1,2 /etc/shadow | sed 's/$/:/' | grep -v '^:') <<<"$out"
}
check "a path flipped by a second thread: no append lands in a read-only bind, /etc/shadow's content never shows (natively both do)" t_path_swap

# --- another running sandbox -------------------------------------------------------
t_other_sandbox()
{
	local tag="moat-sec-peer-$$" out nat pid
	mkdir -p "$D/nat"
	python3 "$D/peer.py" serve "$D/nat" "$tag-n" >"$D/nat.out" &
	pid=$!
	wait_for_file "$D/nat.out" ready || return 1
	nat=$(python3 "$D/peer.py" connect "$D/nat" "$tag-n")
	kill "$pid"
	note "native: $(echo $nat)"
	[ "$(grep -c 'CONNECTED\|READ\|SEEN' <<<"$nat")" = 4 ] ||
		{ echo "natively the peer is not reached: the check sees nothing" >&2; return 1; }
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run $P -- python3 /p/peer.py serve /tmp "$tag" >"$D/a.out" 2>&1 </dev/null &
	pid=$!
	wait_for_file "$D/a.out" ready || { kill "$pid"; return 1; }
	out=$(mrun $P -- python3 /p/peer.py connect /tmp "$tag")
	note "second sandbox: $(echo $out)"
	kill "$pid"
	wait "$pid"
	[ -n "$out" ] && ! grep -q 'CONNECTED\|READ\|SEEN' <<<"$out"
}
check "a second sandbox reaches neither the first's path nor abstract unix socket nor its /tmp (natively all do)" t_other_sandbox

# --- the host's loopback service and unix sockets ---------------------------------
t_host_services()
{
	local net=$1 port pid out nat addrs name="moat-sec-host-$$-$1"
	python3 -c '
import os, socket, sys, time
t = socket.socket(); t.bind(("0.0.0.0", 0)); t.listen(8)
u1 = socket.socket(socket.AF_UNIX); u1.bind("\0" + sys.argv[1]); u1.listen(8)
u2 = socket.socket(socket.AF_UNIX); u2.bind(sys.argv[2]); u2.listen(8)
print(t.getsockname()[1], flush=True)
time.sleep(30)' "$name" "$D/$net.sock" >"$D/port.$net" &
	pid=$!
	wait_for_file "$D/port.$net" '[0-9]' || return 1
	port=$(head -n 1 "$D/port.$net")
	# The host's own addresses, loopback first, and slirp's way to it.
	addrs="127.0.0.1 $(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v : | head -n 2 | tr '\n' ' ') 10.0.2.2"
	nat=$(python3 "$D/reach.py" "$port" "$name" "$D/$net.sock" 127.0.0.1)
	note "native: $(echo $nat)"
	if [ "$(grep -c CONNECTED <<<"$nat")" != 3 ]; then
		kill "$pid"
		wait "$pid"
		note "natively the services are not reached: the check sees nothing"
		return 1
	fi
	# shellcheck disable=SC2086
	out=$(mrun --net="$net" $P -- python3 /p/reach.py "$port" "$name" "$D/$net.sock" $addrs)
	kill "$pid"
	wait "$pid"
	note "--net=$net: $(echo $out)"
	[ -n "$out" ] && ! grep -q CONNECTED <<<"$out"
}
check "--net=none: the host's TCP service (loopback and its addresses), abstract and path unix sockets are unreachable" \
	t_host_services none
if "$MOAT" run --net=sandbox -- /bin/true 2>/dev/null; then
	check "--net=sandbox: the same, through slirp's 10.0.2.2 too" t_host_services sandbox
else
	skip "--net=sandbox: the host's services are unreachable" "--net=sandbox does not start here"
fi

# --- a sockaddr rewritten by a second thread ------------------------------------
# probe sockswap: one thread flips the address between the host's path
# socket (in /var, outside the view) and an abstract name while the other
# connects 20,000 times; the listener outside counts what reached it.
t_sockaddr_swap()
{
	local vd sock out nat in pid
	vd=$(host_tmpdir /var/tmp)
	chmod 755 "$vd"
	sock=$vd/s
	python3 "$D/listen.py" "$sock" "$vd/count" &
	pid=$!
	wait_for_file /proc/net/unix "$sock" || { kill "$pid"; return 1; }
	tally()
	{
		rm -f "$vd/count"
		python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.send(b"END")' "$sock"
		wait_for_file "$vd/count" . 600 && cat "$vd/count"
	}
	out=$(cd "$D" && ./probe sockswap "$sock")
	nat=$(tally)
	note "native: $out; the listener counted $nat"
	out=$(mrun $P -- /p/probe sockswap "$sock" 2>&1)
	in=$(tally)
	note "moat: $out; the listener counted $in"
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.send(b"QUIT")' "$sock"
	wait "$pid"
	[ "${nat:-0}" -gt 0 ] || { echo "natively nothing reached the socket: the check sees nothing" >&2; return 1; }
	[ "$in" = 0 ] && grep -q "sockswap blocked" <<<"$out"
}
check "a sockaddr flipped by a second thread between a host path socket and an abstract name: no connect reaches it (natively thousands do)" \
	t_sockaddr_swap

# --- setuid binaries ------------------------------------------------------------------
# A setuid-root copy of the probe in a bind, run by an unprivileged guest
# user: natively (as nobody) it is root; inside it is not, and from outside
# its host process has no uid 0 and no capability.
t_setuid()
{
	local s="$D/suid" nat out st pid gpid
	mkdir -p "$s" && chmod 755 "$s"
	cp "$D/probe" "$s/probe-suid" && chown 0:0 "$s/probe-suid" && chmod 4755 "$s/probe-suid"
	nat=$(cd / && setpriv --reuid 65534 --regid 65534 --clear-groups "$s/probe-suid" euid)
	note "native as nobody: $nat"
	grep -q reached <<<"$nat" || { echo "natively the setuid copy is not root: the check sees nothing" >&2; return 1; }
	out=$(mrun -u 65534 --bind "$s:/s:ro" -- /bin/sh -c '/s/probe-suid euid; /s/probe-suid unshare_user; /s/probe-suid mount')
	note "inside as 65534: $(echo $out)"
	grep -q reached <<<"$out" && return 1
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run -u 65534 --bind "$s:/s:ro" -- /s/probe-suid hold \
		>"$D/hold.out" 2>&1 </dev/null &
	pid=$!
	wait_for_file "$D/hold.out" ready || { kill "$pid"; return 1; }
	gpid=$(guest_pids "probe-suid hold" | head -n 1)
	st=$(grep -E '^(Uid|Gid|CapEff|CapPrm|NoNewPrivs):' "/proc/$gpid/status")
	kill -9 "$gpid"
	wait "$pid"
	note "from outside: $(echo $st)"
	[ -n "$gpid" ] && ! grep -qE '^Uid:.*\b0\b' <<<"$st" &&
		grep -q '^CapEff:[[:space:]]*0000000000000000$' <<<"$st" &&
		grep -q '^CapPrm:[[:space:]]*0000000000000000$' <<<"$st"
}
check "a setuid-root binary in a bind gives an unprivileged guest user nothing (inside or on the host); natively it is root" t_setuid

t_su()
{
	local out
	out=$(mrun -u 65534 -- /bin/sh -c 'su root -c "id -u" </dev/null 2>&1; echo "status $?"')
	note "inside as 65534: $(echo $out)"
	! grep -qx 0 <<<"$out"
}
if have su; then
	check "su as an unprivileged guest user does not give root" t_su
else
	skip "su as an unprivileged guest user does not give root" "su is not installed"
fi
t_sudo()
{
	local out
	out=$(native sudo -n id -u 2>&1)
	note "native as root: sudo -n id -u: $out"
	[ "$out" = 0 ] || { echo "natively sudo does not print 0: the check sees nothing" >&2; return 1; }
	out=$(mrun -u 65534 -- sudo -n id -u 2>&1)
	note "inside as 65534: sudo -n id -u: $(echo $out)"
	! grep -qx 0 <<<"$out"
}
if have sudo; then
	check "sudo as an unprivileged guest user does not give root" t_sudo
else
	skip "sudo as an unprivileged guest user does not give root" "sudo is not installed on this host"
fi

[ -f "$T_TMP/notes" ] && diag "$(cat "$T_TMP/notes")"
done_testing
