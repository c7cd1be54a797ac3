#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: moat as an OCI runtime with runc's command line (docs/oci.md).
# A bundle is built here: a rootfs of busybox-static and a config.json from
# `moat spec`. The container's lifecycle is checked from outside: its state,
# its processes on the host, a file it writes in a read-write bind, what is
# left under --root and in the process table afterwards.
. "$(dirname "$0")/lib.sh"

require_moat

. "$(dirname "$0")/oci_lib.sh"

# --- spec --------------------------------------------------------------------------
t_spec_shape()
{
	local d=$W/specshape
	mkdir -p "$d" && "$MOAT" spec -b "$d" || return 1
	python3 - "$d/config.json" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
c = json.loads(text)
assert list(c) == ["ociVersion", "process", "root", "hostname", "mounts", "linux"], list(c)
assert c["ociVersion"].startswith("1.2."), c["ociVersion"]
p = c["process"]
assert list(p) == ["terminal", "user", "args", "env", "cwd", "capabilities", "rlimits",
                   "noNewPrivileges"], list(p)
assert p["terminal"] is True and p["args"] == ["sh"] and p["cwd"] == "/"
assert p["user"] == {"uid": 0, "gid": 0}
assert p["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
assert c["root"] == {"path": "rootfs", "readonly": True}
assert [m["destination"] for m in c["mounts"]] == ["/proc", "/dev", "/dev/pts", "/dev/shm",
                                                   "/dev/mqueue", "/sys", "/sys/fs/cgroup"]
ns = [n["type"] for n in c["linux"]["namespaces"]]
assert ns[:5] == ["pid", "network", "ipc", "uts", "mount"], ns
assert "/proc/kcore" in c["linux"]["maskedPaths"]
assert text.startswith('{\n\t"ociVersion": "'), repr(text[:30])  # runc's tab indent
EOF
}
check "spec: valid JSON in runc's default shape and order" t_spec_shape

t_spec_rootless()
{
	local d=$W/specrootless
	mkdir -p "$d" && "$MOAT" spec --rootless --bundle "$d" || return 1
	python3 - "$d/config.json" "$(id -u)" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
ns = [n["type"] for n in c["linux"]["namespaces"]]
assert "network" not in ns and ns[-1] == "user", ns
assert c["linux"]["uidMappings"] == [{"containerID": 0, "hostID": int(sys.argv[2]), "size": 1}]
assert "resources" not in c["linux"]
EOF
}
check "spec --rootless: a user namespace, the caller's id mapped, no network namespace" t_spec_rootless
check "spec: an existing config.json is kept (exit 1, one line)" \
	one_line_error 1 "$MOAT" spec -b "$W/specshape"

# --- create, start, state, ps, list, kill, delete --------------------------------------
B1=$(bundle b1 'c["process"]["args"] = ["sh", "-c", "echo started > /data/started; echo out-line; exec sleep 30"]') ||
	bail_out "cannot make a bundle"

t_create()
{
	oci create --bundle "$B1" --pid-file "$W/c1.pid" c1 >"$W/c1.out" 2>"$W/c1.err" || return 1
	local st pid
	st=$(oci state c1) || return 1
	echo "$st" >&2
	[ "$(json_get 'j["status"]' <<<"$st")" = created ] || return 1
	pid=$(json_get 'j["pid"]' <<<"$st")
	[ "$pid" -gt 0 ] && [ "$pid" = "$(cat "$W/c1.pid")" ] && [ -d "/proc/$pid" ] || return 1
	[ "$(json_get 'j["bundle"]' <<<"$st")" = "$B1" ] &&
		[ "$(json_get 'j["rootfs"]' <<<"$st")" = "$B/rootfs" ] &&
		[ "$(json_get 'j["ociVersion"]' <<<"$st")" = "1.2.0" ] || return 1
	[ -p "$R/c1/exec.fifo" ] && [ -f "$R/c1/state.json" ]
}
check "create returns; state says created, with the pid of --pid-file, alive" t_create

t_state_shape()
{
	local st
	st=$(oci state c1) || return 1
	python3 -c '
import json, sys
s = sys.argv[1]
j = json.loads(s)
assert list(j) == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"], list(j)
assert s.startswith("{\n  \"ociVersion\": ") and not s.endswith("\n"), repr(s[:30])
import re
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", j["created"]), j["created"]
assert j["owner"] == ""' "$st"
}
check "state: runc's fields, order, indent and time format" t_state_shape

t_held()
{
	sleep 0.3
	[ ! -e "$DATA/started" ] || { echo "the process ran before start" >&2; return 1; }
	[ "$(status_of c1)" = created ]
}
check "a created container's process waits for start" t_held

check_output "ps --format json: the waiting process" 1 \
	sh -c "timeout 10 '$MOAT' --root '$R' ps --format json c1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'"

t_start()
{
	oci start c1 || return 1
	wait_for_file "$DATA/started" started || { echo "no /data/started on the host" >&2; return 1; }
	wait_for_file "$W/c1.out" out-line || { echo "no output on create's stdout" >&2; return 1; }
	[ "$(status_of c1)" = running ] && [ ! -e "$R/c1/exec.fifo" ]
}
check "start: the process runs, writes in the rw bind (seen on the host) and on create's stdout" t_start
check "start of a running container: exit 1, one line" one_line_error 1 oci start c1

t_ps()
{
	local pids out
	pids=$(oci ps --format json c1) || return 1
	echo "$pids" >&2
	[ "$(json_get 'len(j)' <<<"$pids")" = 1 ] || return 1
	out=$(oci ps c1) || return 1
	echo "$out" >&2
	head -n 1 <<<"$out" | grep -qw PID && grep -q 'sleep 30' <<<"$out"
}
check "ps: json lists the process, the table shows it" t_ps

t_list()
{
	local j t
	j=$(oci list --format json) || return 1
	echo "$j" >&2
	python3 -c '
import json, sys
l = json.loads(sys.argv[1])
c = [x for x in l if x["id"] == "c1"]
assert len(c) == 1 and c[0]["status"] == "running" and c[0]["pid"] > 0, c
assert c[0]["owner"] == "root"' "$j" || return 1
	t=$(oci list) || return 1
	echo "$t" >&2
	head -n 1 <<<"$t" | grep -q '^ID  *PID  *STATUS  *BUNDLE  *CREATED  *OWNER$' &&
		grep -q "^c1  *[0-9][0-9]*  *running  *$B1 " <<<"$t"
}
check "list: json parses and shows the container running; the table too" t_list
check "delete of a running container: exit 1, one line, still running" \
	sh -c "'$MOAT' --root '$R' delete c1 2>&1 >/dev/null </dev/null | grep -q 'not stopped: running' && [ -f '$R/c1/state.json' ]"

t_kill()
{
	local pid
	pid=$(oci state c1 | json_get 'j["pid"]')
	oci kill c1 TERM || return 1
	gone "$pid" || return 1
	[ "$(status_of c1)" = stopped ] && [ "$(oci state c1 | json_get 'j["pid"]')" = 0 ]
}
check "kill c1 TERM: the container stops; state says stopped, pid 0" t_kill
check "kill of a stopped container: exit 1, one line" one_line_error 1 oci kill c1 KILL
check "kill --all of a stopped container: exit 0" oci kill --all c1 KILL

t_delete()
{
	oci delete c1 || return 1
	no_state c1 || return 1
	oci state c1 >/dev/null 2>&1 && return 1
	! pgrep -f -- "--root $R create .* c1\$" >&2
}
check "delete: the state directory goes, nothing of the container runs" t_delete

# --- signals by name and number, in each state -------------------------------------------
t_kill_created()
{
	oci create -b "$B1" c2 >/dev/null 2>&1 || return 1
	local pid
	pid=$(oci state c2 | json_get 'j["pid"]')
	oci kill c2 9 || return 1
	gone "$pid" && [ "$(status_of c2)" = stopped ] && oci delete c2 && no_state c2
}
check "kill 9 of a created container stops it; delete" t_kill_created

t_delete_created()
{
	oci create -b "$B1" c3 >/dev/null 2>&1 || return 1
	local pid
	pid=$(oci state c3 | json_get 'j["pid"]')
	oci delete c3 && gone "$pid" && no_state c3
}
check "delete of a created container kills it (as runc)" t_delete_created

B2=$(bundle b2 'c["process"]["args"] = ["sh", "-c", "trap \"echo got-usr1 > /data/usr1; exit 0\" USR1; echo ready > /data/ready2; while :; do sleep 0.1; done"]')
t_kill_name()
{
	rm -f "$DATA/ready2" "$DATA/usr1"
	oci run -d -b "$B2" c4 >/dev/null 2>&1 || return 1
	wait_for_file "$DATA/ready2" ready || return 1
	oci kill c4 sigusr1 || return 1
	wait_for_file "$DATA/usr1" got-usr1 || return 1
	local i
	for i in $(seq 50); do
		[ "$(status_of c4)" = stopped ] && break
		sleep 0.1
	done
	[ "$(status_of c4)" = stopped ] && oci delete c4 && no_state c4
}
check "run -d, then kill with a lower-case name without SIG (sigusr1): the handler runs" t_kill_name

t_force()
{
	oci run -d -b "$B1" c5 >/dev/null 2>&1 || return 1
	local pid
	pid=$(oci state c5 | json_get 'j["pid"]')
	[ "$(status_of c5)" = running ] || return 1
	oci delete --force c5 && gone "$pid" && no_state c5
}
check "delete --force of a running container kills it and removes it" t_force

# --- run in the foreground -----------------------------------------------------------------
B3=$(bundle b3 'c["process"]["args"] = ["sh", "-c", "echo hello from $(hostname) in $(pwd) as $(id -u):$(id -g) HOME=$HOME X=$X; exit 7"]
c["process"]["cwd"] = "/tmp"
c["process"]["user"] = {"uid": 1000, "gid": 1001}
c["process"]["env"] = ["PATH=/bin", "X=y"]
c["hostname"] = "box"')
t_run_fg()
{
	local out rc
	out=$(oci run --bundle "$B3" c6 2>"$W/run.err")
	rc=$?
	echo "exit $rc: $out; $(cat "$W/run.err")" >&2
	[ "$rc" = 7 ] && [ "$out" = "hello from box in /tmp as 1000:1001 HOME=/ X=y" ] && no_state c6
}
check "run --bundle B id: the output, the exit status (7), config's identity; no state left" t_run_fg

# Without any option, so under the default root: an id of its own.
t_run_cwd()
{
	local out id=moat-oci-test-$$
	out=$(cd "$B3" && timeout 20 "$MOAT" run "$id" </dev/null 2>&1)
	echo "$out" >&2
	[ "$out" = "hello from box in /tmp as 1000:1001 HOME=/ X=y" ] && [ ! -e "/run/moat/$id" ]
}
check "run ID alone in the bundle directory is runc's form (runc run ID)" t_run_cwd

t_env_exact()
{
	local d out
	d=$(bundle b4 'c["process"]["args"] = ["env"]') || return 1
	out=$(oci run -b "$d" c8 2>&1 | sort | tr '\n' ' ')
	echo "$out" >&2
	[ "$out" = "HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=xterm " ]
}
check "the environment is process.env (plus HOME), nothing of moat's or the host's" t_env_exact

t_readonly()
{
	local d out
	d=$(bundle b5 'c["process"]["args"] = ["sh", "-c", "touch /x 2>&1 || echo refused; touch /tmp/y && echo tmp-ok"]') ||
		return 1
	out=$(oci run -b "$d" c9 2>&1)
	echo "$out" >&2
	grep -q refused <<<"$out" && grep -q tmp-ok <<<"$out" && [ ! -e "$B/rootfs/x" ] || return 1
	d=$(bundle b6 'c["root"]["readonly"] = False
c["process"]["args"] = ["sh", "-c", "touch /x && echo written"]') || return 1
	out=$(oci run -b "$d" c10 2>&1)
	echo "$out" >&2
	[ "$out" = written ] && [ ! -e "$B/rootfs/x" ]
}
check "root.readonly: writes to / fail; without it they go to the overlay, never to the rootfs" t_readonly

# --- moat's own form of run is unchanged --------------------------------------------------------
check_output "moat run -- CMD in a bundle directory is still moat's form" moat-form \
	sh -c "cd '$B1' && '$MOAT' run -- /bin/echo moat-form </dev/null"
check_output "moat run CMD ARGS (no --) is still moat's form" moat-form \
	sh -c "cd '$B1' && '$MOAT' run /bin/echo moat-form </dev/null"

# --- bad input: one line, runc's exit status, nothing left behind ----------------------------
t_dup()
{
	oci create -b "$B1" c11 >/dev/null 2>&1 || return 1
	local pid
	pid=$(oci state c11 | json_get 'j["pid"]')
	one_line_error 1 oci create -b "$B1" c11 || return 1
	grep -q 'already exists' "$W/e" || return 1
	# The first one is untouched.
	[ "$(status_of c11)" = created ] && [ -d "/proc/$pid" ] && oci delete c11 && no_state c11
}
check "create with an id in use: exit 1, one line; the first container untouched" t_dup

for verb in state start kill delete ps; do
	check "$verb of an unknown id: exit 1, one line" one_line_error 1 oci "$verb" no-such-id
done
t_invalid_id() { one_line_error 1 oci create -b "$B1" 'a/b' && [ ! -e "$R/a" ]; }
check "an invalid id: exit 1, one line, nothing made" t_invalid_id

t_bad_bundle()
{
	local want=$1 id=$2
	shift 2
	one_line_error 1 oci create "$@" "$id" || return 1
	grep -q -- "$want" "$W/e" && no_state "$id"
}
check "missing bundle: exit 1, one line, no state" t_bad_bundle 'No such file' c12 -b "$W/nonexistent"
mkdir -p "$W/nocfg"
check "bundle without config.json: exit 1, one line, no state" t_bad_bundle 'config.json not found' c13 \
	-b "$W/nocfg"
mkdir -p "$W/broken" && ln -s "$B/rootfs" "$W/broken/rootfs" && printf '{"ociVersion": "1.0.2", "process": {' >"$W/broken/config.json"
check "broken config.json: exit 1, one line, no state" t_bad_bundle 'invalid JSON' c14 -b "$W/broken"
B7=$(bundle b7 'c["ociVersion"] = "1.3.0"')
check "an unsupported ociVersion: exit 1, one line, no state" t_bad_bundle 'unsupported ociVersion' c15 -b "$B7"
B8=$(bundle b8 'c["process"]["terminal"] = True')
check "terminal: true without --console-socket: exit 1, one line, no state" t_bad_bundle 'console-socket' c16 -b "$B8"
B9=$(bundle b9 'c["linux"]["namespaces"].append({"type": "ipc", "path": "/proc/1/ns/ipc"})')
check "an ipc namespace path: exit 1, one line, no state" t_bad_bundle 'not supported' c17 -b "$B9"
B9n=$(bundle b9n 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"] + [{"type": "network", "path": "/proc/1/ns/net"}]
c["process"]["args"] = ["sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d \" \""]')
check_output "a network namespace path (an engine's) is not joined: moat's own network, lo only" lo \
	oci run -b "$B9n" c17n
B10=$(bundle b10 'c["root"]["path"] = "nowhere"')
check "a missing rootfs: exit 1, one line, no state" t_bad_bundle 'invalid rootfs' c18 -b "$B10"
B11=$(bundle b11 'c["process"]["args"] = "sh"')
check "a field of the wrong type names it: exit 1, one line, no state" t_bad_bundle 'process.args' c19 -b "$B11"

t_log_json()
{
	timeout 10 "$MOAT" --root "$R" --log "$W/log.json" --log-format json state no-such-id \
		>/dev/null 2>"$W/e" </dev/null && return 1
	cat "$W/log.json" "$W/e" >&2
	python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert r["level"] == "error" and r["msg"] == "container does not exist" and "time" in r, r' "$W/log.json" &&
		[ "$(cat "$W/e")" = "container does not exist" ]
}
check "--log FILE --log-format json: the error as a JSON record, plainly on stderr" t_log_json

# --- linux.resources: the sandbox's cgroup ------------------------------------------
# The limits are read from outside in the cgroup of the container's pid 1
# (the sentry's child), while it is created and waits for its start.
CGDIR=$(cd "$(dirname "$0")" && pwd)/cgroup_dir.py
B12=$(bundle b12 'c["process"]["args"] = ["sleep", "30"]
c["linux"]["resources"] = {"memory": {"limit": 67108864}, "pids": {"limit": 32},
                           "cpu": {"quota": 25000, "period": 50000, "shares": 512}}')
t_resources()
{
	local pid init mem pids cpu r=0 v
	oci create --bundle "$B12" c20 >/dev/null 2>"$W/c20.err" || { cat "$W/c20.err" >&2; return 1; }
	pid=$(oci state c20 | json_get 'j["pid"]')
	init=$(pgrep -P "$pid" -x moat | head -n 1)
	mem=$(python3 "$CGDIR" "$init" memory)
	pids=$(python3 "$CGDIR" "$init" pids)
	cpu=$(python3 "$CGDIR" "$init" cpu)
	echo "sentry $pid, pid 1 $init: $mem $pids $cpu" >&2
	case $mem in
	*/moat-"$pid")
		if [ -f "$mem/memory.max" ]; then
			v=$(cat "$mem/memory.max" "$pids/pids.max" "$cpu/cpu.max" | tr '\n' ' ')
			[ "$v" = "67108864 32 25000 50000 " ] || r=1
		else
			v=$(cat "$mem/memory.limit_in_bytes" "$pids/pids.max" "$cpu/cpu.cfs_quota_us" \
				"$cpu/cpu.cfs_period_us" "$cpu/cpu.shares" | tr '\n' ' ')
			[ "$v" = "67108864 32 25000 50000 512 " ] || r=1
		fi
		echo "limits: $v" >&2
		;;
	*) echo "pid 1 is not in the sandbox's cgroup" >&2; r=1 ;;
	esac
	oci delete -f c20 || r=1
	gone "$pid" || r=1
	return $r
}
if [ "$(python3 "$CGDIR" $$ memory)" ] && [[ ",${MOAT_TEST_FORCE_FALLBACK:-}," != *,all,* ]]; then
	check "linux.resources: memory, pids and cpu limits in the container's cgroup" t_resources
else
	skip "linux.resources" "no cgroups here, or forced off"
fi

t_leftovers()
{
	local left
	left=$(ls -A "$R" 2>/dev/null)
	[ -z "$left" ] || { echo "left under --root: $left" >&2; return 1; }
	! pgrep -af -- "--root $R " >&2
}
check "nothing left: no state, no process" t_leftovers

# process.terminal with --console-socket: moat sends the pty's master to the
# engine (SCM_RIGHTS, as runc); the engine reads the container's output
# from it, of the size consoleSize asked for.
ENGINE_PY='
import os, socket, subprocess, sys
moat, root, bundle, path = sys.argv[1:5]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(30)
create = subprocess.Popen([moat, "--root", root, "create", "--console-socket", path, "-b", bundle, "c20"],
                          stdin=subprocess.DEVNULL)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 64, 1)
print("name", msg.decode())
if create.wait(timeout=30) != 0:
    sys.exit("create failed")
master = fds[0]
subprocess.run([moat, "--root", root, "start", "c20"], check=True, timeout=30)
out = b""
while True:
    try:
        d = os.read(master, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.decode().replace("\r", ""), end="")
'
B20=$(bundle b20 'c["process"]["terminal"] = True
c["process"]["consoleSize"] = {"height": 30, "width": 100}
c["process"]["args"] = ["sh", "-c", "busybox tty; busybox stty size; [ -t 0 ] && echo stdin-tty"]')
t_console_socket()
{
	local out
	out=$(timeout -k 5 60 python3 -c "$ENGINE_PY" "$MOAT" "$R" "$B20" "$W/console.sock" </dev/null) || return 1
	[ "$out" = "name /dev/ptmx
/dev/pts/0
30 100
stdin-tty" ] || { echo "got: $out"; return 1; }
	oci delete c20 && no_state c20
}
check "terminal with --console-socket: the engine gets the master, consoleSize applies" t_console_socket

done_testing
