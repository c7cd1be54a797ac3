#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: named, warm sandboxes (issue 11) - moat run --name N -d, then
# moat exec N, ps, kill, cp, pause/resume/events, delete; each checked from
# outside where the host is what matters. A root of the test's own keeps
# them apart from other tests' containers.
. "$(dirname "$0")/lib.sh"
require_moat

ROOT=$T_TMP/state
m() { timeout "$MOAT_TIMEOUT" "$MOAT" --root "$ROOT" "$@"; }
# Every sandbox this script names is gone at exit, whatever happened.
at_exit "for d in $ROOT/*/; do [ -d \"\$d\" ] && $MOAT --root $ROOT delete --force \"\$(basename \"\$d\")\"; done"

# sentry_of NAME: the host pid of the sandbox's sentry, from its state.
sentry_of() { m state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'; }

# --- a warm sandbox: started idle, many commands, state kept between them ---------
t_warm()
{
	m run --name warm -d --env GREETING=hi --cwd /tmp --hostname box </dev/null || return 1
	m exec warm sh -c 'echo one > /tmp/state-file' || return 1
	# A second exec sees the first one's file, the run's env, cwd, hostname.
	out=$(m exec warm sh -c 'cat /tmp/state-file; echo "$GREETING $(pwd) $(hostname)"') || return 1
	[ "$out" = "one
hi /tmp box" ] || { echo "got: $out"; return 1; }
	# The file lives in the sandbox's memory, not on the host.
	[ ! -e /tmp/state-file ]
}
check "run --name -d idles; exec runs commands with the run's env, cwd, hostname; state persists" t_warm

t_ps()
{
	m ps | grep -E '^warm +[0-9]+ +running ' || return 1
	m ps --format json | python3 -c '
import json,sys
l = json.load(sys.stdin)
assert [c["id"] for c in l] == ["warm"], l
assert l[0]["status"] == "running", l'
}
check "moat ps lists the named sandbox as running (table and JSON)" t_ps

t_exec_status()
{
	m exec warm sh -c 'exit 7' </dev/null
	[ $? = 7 ] || return 1
	m exec warm /nonexistent </dev/null
	[ $? = 127 ]
}
check "exec gives the command's status (7), 127 for a missing command" t_exec_status

# --- its processes: one sandbox, host side -------------------------------------------------
t_one_sandbox()
{
	# Two execs at once see each other in the same pid namespace.
	m exec warm sleep 30 </dev/null &
	local bg=$!
	local i
	for i in $(seq 50); do
		m exec warm sh -c 'ps -eo comm' </dev/null | grep -qx sleep && break
		sleep 0.1
	done
	local ok=1
	m exec warm sh -c 'ps -eo comm' </dev/null | grep -qx sleep || ok=0
	# From outside: the sleep is a descendant of the sandbox's sentry tree,
	# under the sandbox's own host uid, not root.
	local pids
	pids=$(m ps --format json warm | python3 -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin))))')
	local found=0 p
	for p in $pids; do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = sleep ] || continue
		found=1
		[ "$(awk '/^Uid:/ {print $2}' /proc/"$p"/status)" != 0 ] || ok=0
	done
	m exec warm pkill -x sleep </dev/null
	wait "$bg"
	[ "$ok" = 1 ] && [ "$found" = 1 ]
}
check "concurrent execs share the sandbox; moat ps NAME lists them, unprivileged on the host" t_one_sandbox

# --- pause, resume, events -----------------------------------------------------------------
t_pause()
{
	# Each count replaces the file whole (a reader never sees it empty).
	m exec -d warm sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/ticks.n; mv /tmp/ticks.n /tmp/ticks; sleep 0.05; done' ||
		return 1
	sleep 0.3
	m pause warm || return 1
	[ "$(m state warm | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = paused ] || return 1
	m exec warm true </dev/null 2>/dev/null && return 1 # refused while paused
	local a b
	m resume warm || return 1
	a=$(m exec warm cat /tmp/ticks </dev/null)
	sleep 0.5
	b=$(m exec warm cat /tmp/ticks </dev/null)
	m exec warm pkill -f ticks </dev/null
	[ -n "$a" ] && [ "$b" -gt "$a" ]
}
check "pause: status paused, exec refused; resume: the sandbox's loop runs on" t_pause

t_events()
{
	m events --stats warm | python3 -c '
import json,sys
e = json.load(sys.stdin)
assert e["type"] == "stats" and e["id"] == "warm", e
d = e["data"]
assert d["pids"]["current"] >= 1, d
assert d["memory"]["usage"]["usage"] > 0, d'
}
check "events --stats: pids and memory of the sandbox" t_events

# --- cp: in and out --------------------------------------------------------------------
t_cp()
{
	local h=$T_TMP/cp
	mkdir -p "$h/in/sub" "$h/out"
	echo alpha >"$h/in/a.txt"
	echo beta >"$h/in/sub/b.txt"
	m cp "$h/in/a.txt" warm:/root/ || return 1
	m cp "$h/in" warm:/root/tree || return 1
	[ "$(m exec warm cat /root/a.txt /root/tree/sub/b.txt </dev/null)" = "alpha
beta" ] || return 1
	m exec warm sh -c 'mkdir -p /data/d && echo gamma > /data/d/g && echo delta > /data/f' </dev/null
	m cp warm:/data/d "$h/out/" || return 1
	m cp warm:/data/f "$h/out/renamed" || return 1
	[ "$(cat "$h/out/d/g" "$h/out/renamed")" = "gamma
delta" ] || return 1
	# Nothing but what was asked for: no staging directory left behind.
	[ "$(ls -A "$h/out")" = "d
renamed" ]
}
check "cp: a file and a directory in, a directory into a host dir and a file renamed out" t_cp

# A hostile guest replaces its tar with one that emits a block device, a
# setuid file, a symlink out of the tree with a file through it, '..' and
# absolute names. From outside: nothing of it on the host.
t_cp_hostile()
{
	local h=$T_TMP/cph esc=$T_TMP/cph-escape
	mkdir -p "$h" "$esc"
	cat >"$T_TMP/evil-tar" <<-EOF
	#!/usr/bin/python3
	import io, sys, tarfile
	t = tarfile.open(fileobj=sys.stdout.buffer, mode="w|")
	def add(name, type=tarfile.REGTYPE, data=b"", mode=0o644, **kw):
	    ti = tarfile.TarInfo(name); ti.type = type; ti.mode = mode; ti.size = len(data)
	    for k, v in kw.items(): setattr(ti, k, v)
	    t.addfile(ti, io.BytesIO(data) if data else None)
	add("x", tarfile.DIRTYPE, mode=0o755)
	add("x/blk", tarfile.BLKTYPE, mode=0o666, devmajor=8, devminor=0)
	add("x/suid", data=b"#!/bin/sh\n", mode=0o4755)
	add("x/esc", tarfile.SYMTYPE, linkname="$esc")
	add("x/esc/pwned", data=b"pwned")
	add("../cph-dotdot", data=b"pwned")
	add("$T_TMP/cph-abs", data=b"pwned")
	t.close()
	EOF
	m cp "$T_TMP/evil-tar" warm:/usr/local/bin/tar || return 1
	m exec warm chmod 755 /usr/local/bin/tar </dev/null || return 1
	m cp warm:/x "$h/" && return 1 # refused: tar could not take all of it
	local bad=0
	[ -z "$(ls -A "$h")" ] || { ls -laR "$h"; bad=1; }
	[ -z "$(ls -A "$esc")" ] || { ls -la "$esc"; bad=1; }
	[ ! -e "$T_TMP/cph-dotdot" ] && [ ! -e "$T_TMP/cph-abs" ] || bad=1
	# Into a fresh destination name as well (the staging path).
	m cp warm:/x "$h/new" && return 1
	[ -z "$(ls -A "$h")" ] || { ls -laR "$h"; bad=1; }
	[ "$bad" = 0 ]
}
check "cp out of a hostile sandbox: no device, setuid file, symlink escape or stray name on the host" t_cp_hostile

# cp_streams: the guest's `tar` scripts still running in the sandbox.
cp_streams() { m exec warm ps -eo args </dev/null | grep -c '^/bin/sh /usr/local/bin/tar'; }

# cp_streams_end: wait (bounded) until none runs; else show them.
cp_streams_end()
{
	local i
	for i in $(seq 50); do
		[ "$(cp_streams)" = 0 ] && return 0
		sleep 0.1
	done
	m exec warm ps -eo pid,pgid,args </dev/null
	return 1
}

t_cp_flood()
{
	m exec warm sh -c 'printf "#!/bin/sh\nwhile :; do cat /usr/bin/sh; done\n" > /usr/local/bin/tar' </dev/null
	local h=$T_TMP/cpf
	mkdir -p "$h"
	m cp --max-size 4m warm:/x "$h/" && return 1
	[ -z "$(ls -A "$h")" ] || return 1
	# The loop in the sandbox ends with the copy (it used to run on,
	# each cat dying of SIGPIPE and the next one started).
	cp_streams_end || return 1
	m exec warm rm /usr/local/bin/tar </dev/null
}
check "cp out: an endless stream stops at --max-size, nothing kept, nothing left running inside" t_cp_flood

# moat cp itself killed midway (SIGKILL: no cleanup of its own): its exec
# client goes with it, and the stream's process group in the sandbox.
t_cp_killed()
{
	m exec warm sh -c 'printf "#!/bin/sh\nwhile :; do echo x; sleep 0.05; done\n" > /usr/local/bin/tar; chmod 755 /usr/local/bin/tar' </dev/null
	local h=$T_TMP/cpk
	mkdir -p "$h"
	"$MOAT" --root "$ROOT" cp warm:/x "$h/" 2>/dev/null &
	local cp=$! i
	for i in $(seq 50); do
		[ "$(cp_streams)" = 1 ] && break
		sleep 0.1
	done
	[ "$(cp_streams)" = 1 ] || return 1
	kill -KILL "$cp"
	wait "$cp" 2>/dev/null
	cp_streams_end || return 1
	# Nor is the client left on the host.
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "[e]xec --end-with-client warm" && return 1
	done
	m exec warm rm /usr/local/bin/tar </dev/null
}
check "cp out killed midway: nothing of it left running in the sandbox or on the host" t_cp_killed

# --- kill and delete; --rm ----------------------------------------------------------------
t_kill()
{
	local s
	s=$(sentry_of warm) || return 1
	m kill warm || return 1 # SIGTERM to the idle command ends the sandbox
	local i
	for i in $(seq 100); do
		kill -0 "$s" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$s" 2>/dev/null && return 1
	m ps | grep -E '^warm +0 +stopped ' || return 1
	m delete warm || return 1
	[ ! -e "$ROOT/warm" ] && ! m ps | grep -q warm
}
check "kill NAME ends the sandbox (sentry gone from the host); delete removes its state" t_kill

t_rm()
{
	m run --name gone -d --rm -- sleep 300 </dev/null || return 1
	[ -d "$ROOT/gone" ] || return 1
	m kill gone KILL || return 1
	local i
	for i in $(seq 100); do
		[ -e "$ROOT/gone" ] || break
		sleep 0.05
	done
	[ ! -e "$ROOT/gone" ]
}
check "--rm: a detached sandbox's state goes once it ends" t_rm

t_foreground()
{
	m run --name fg -- sh -c 'sleep 0.5; exit 3' </dev/null &
	local p=$! i
	for i in $(seq 50); do
		m exec fg true </dev/null 2>/dev/null && break
		sleep 0.05
	done
	local seen
	seen=$(m exec fg sh -c 'echo reached' </dev/null 2>/dev/null)
	wait "$p"
	local st=$?
	[ "$seen" = reached ] && [ "$st" = 3 ] && [ ! -e "$ROOT/fg" ]
}
check "a named foreground run is reachable by exec, gives its status (3), is gone after" t_foreground

# --- bad input -------------------------------------------------------------------------------
check_status "-d without --name: usage error" 2 m run -d -- true
check_status "--name with an invalid name: 125" 125 m run --name 'a/b' -d
t_dup()
{
	m run --name dup -d </dev/null || return 1
	m run --name dup -d </dev/null 2>"$T_TMP/dup.err" && return 1
	grep -q 'already exists' "$T_TMP/dup.err" || return 1
	m delete --force dup
}
check "a name in use is refused (the first sandbox untouched, then deleted)" t_dup
check_status "exec of an unknown name fails (1)" 1 m exec nosuch true
check_status "cp with no sandbox side: 1" 1 m cp /etc/hostname /tmp/x
check_status "cp to an unknown sandbox: 1" 1 m cp /etc/hostname nosuch:/tmp
t_nothing_left()
{
	local p bad=0
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "--root $ROOT " || continue
		cat "$p/cmdline" | tr '\0' ' '
		bad=1
	done
	[ "$bad" = 0 ]
}
check "nothing of the test's sandboxes is left running (no moat, waiter or guest)" t_nothing_left

done_testing
