#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: moat trace, moat profile, --seccomp-profile and
# moat syscalls --surface (issue 12; docs/tracing.md,
# docs/seccomp-profiles.md).
. "$(dirname "$0")/lib.sh"

require_moat

mtrace() { timeout "$MOAT_TIMEOUT" "$MOAT" trace "$@" </dev/null; }
mprofile() { timeout "$MOAT_TIMEOUT" "$MOAT" profile "$@" </dev/null; }

t_json_module_open()
{
	local out="$T_TMP/py.trace"
	[ "$(mtrace -o "$out" -- python3 -c 'import json; print(1)')" = 1 ] || return 1
	# The path the guest named, resolved by the sentry, with its result.
	grep -E '^\[pid +[0-9]+\] openat\(AT_FDCWD, "/usr/lib/python3[^"]*/json/[^"]*", O_RDONLY\|O_CLOEXEC\) = [0-9]+' "$out" ||
		{ echo "no openat of the json module:" >&2; grep json "$out" | head >&2; return 1; }
	# The command starts with its own execve; pid 1's calls are not traced.
	head -1 "$out" | grep -qE '^\[pid +2\] execve\(' || { head -3 "$out" >&2; return 1; }
	# Calls the host kernel ran show an unknown result, tagged.
	grep -qE '^\[pid +2\] mmap\(.*\) = \? \[pass\]' "$out"
}
check "a trace of python shows its openat of the json module with the sandbox path" t_json_module_open

t_summary_matches()
{
	local out="$T_TMP/sum.trace"
	mtrace -C -o "$out" -- sh -c 'ls / >/dev/null; cat /etc/hostname' >/dev/null || return 1
	python3 - "$out" <<'PY'
import collections, re, sys
lines = open(sys.argv[1]).read().splitlines()
calls = collections.Counter()
errors = collections.Counter()
summary = {}
in_table = False
for l in lines:
    m = re.match(r'^\[pid +\d+\] (\w+)\(', l)
    if m:
        calls[m.group(1)] += 1
        if re.search(r'\) = -1 E[A-Z0-9]+ ', l):
            errors[m.group(1)] += 1
        continue
    if l.startswith('------'):
        in_table = not in_table if not summary else False
        continue
    if in_table:
        f = l.split()
        # % time, seconds, usecs/call, calls, [errors], syscall, moat
        if len(f) == 7:
            summary[f[5]] = (int(f[3]), int(f[4]), f[6])
        elif len(f) == 6:
            summary[f[4]] = (int(f[3]), 0, f[5])
        else:
            sys.exit("bad summary row: " + l)
if not calls or not summary:
    sys.exit("no trace or no summary")
for name, n in calls.items():
    if name not in summary or summary[name][0] != n or summary[name][1] != errors[name]:
        sys.exit("%s: %d calls, %d errors in the trace, summary says %s" % (name, n, errors[name], summary.get(name)))
if set(summary) != set(calls):
    sys.exit("summary rows without trace lines: %s" % (set(summary) - set(calls)))
# The extra column: how moat answered.
assert summary['openat'][2] == 'emulate', summary['openat']
assert 'pass' in summary['mmap'][2], summary['mmap']
assert summary['vfork'][2] == 'emulate' if 'vfork' in summary else True
PY
}
check "--summary counts and errors match the trace, with moat's answer per call" t_summary_matches

t_status_failed()
{
	local out="$T_TMP/failed.trace"
	mtrace -e status=failed -o "$out" -- sh -c 'ls /nonexistent 2>/dev/null; true' || return 1
	[ -s "$out" ] || { echo "empty trace" >&2; return 1; }
	# Every line a failure, and the failure asked for is there.
	! grep -vE '\) = -1 E[A-Z0-9]+ \(' "$out" || return 1
	grep -qE '"/nonexistent".* = -1 ENOENT' "$out"
}
check "-e status=failed shows only calls that failed" t_status_failed

t_trace_class()
{
	local out="$T_TMP/class.trace"
	mtrace -e trace=process,uname -o "$out" -- sh -c 'uname >/dev/null' || return 1
	grep -q ' execve(' "$out" && grep -q ' uname(' "$out" && grep -q ' exit_group(' "$out" || return 1
	! grep -qE ' (mmap|openat|read|write)\(' "$out"
}
check "-e trace=process,NAME selects by class and by name" t_trace_class

t_sockaddr()
{
	"$MOAT" trace -e trace=connect,bind -- python3 -c '
import socket
s = socket.socket(socket.AF_UNIX)
try: s.connect("/nonexistent/sock")
except OSError: pass
socket.socket(socket.AF_UNIX).bind("\0moat-abstract")
t = socket.socket()
try: t.connect(("127.0.0.1", 9))
except OSError: pass' </dev/null 2>"$T_TMP/sa.trace" || return 1
	grep -F 'connect(3, {sa_family=AF_UNIX, sun_path="/nonexistent/sock"}' "$T_TMP/sa.trace" &&
		grep -F 'bind(4, {sa_family=AF_UNIX, sun_path=@"moat-abstract"}' "$T_TMP/sa.trace" &&
		grep -F '{sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}' "$T_TMP/sa.trace"
}
check "connect and bind show their socket addresses, as strace does" t_sockaddr

t_json_lines()
{
	local out="$T_TMP/trace.jsonl"
	mtrace --format json -o "$out" -- python3 -c 'import json; print(1)' >/dev/null || return 1
	python3 - "$out" <<'PY'
import json, sys
n = 0
seen_open = False
for line in open(sys.argv[1]):
    r = json.loads(line)
    n += 1
    for k in ("time", "pid", "tid", "syscall", "nr", "args", "raw", "moat", "result", "sentry_us"):
        assert k in r, (k, r)
    assert r["moat"] in ("pass", "emulate", "deny", "kill"), r
    assert len(r["raw"]) == 6
    if r["moat"] == "pass":
        assert r["result"] is None, r
    if r["result"] is not None and r["result"] < 0:
        assert r["errno"].startswith("E"), r
    if r["syscall"] == "openat" and "/json/" in r["args"][1] and r["result"] >= 0:
        seen_open = True
assert n > 100, n
assert seen_open
PY
}
check "--format json writes JSON lines that python's json module parses" t_json_lines

t_profile_enforced()
{
	local prof="$T_TMP/ls.json"
	mprofile -o "$prof" -- /bin/ls / >/dev/null || return 1
	python3 -c 'import json,sys; p = json.load(open(sys.argv[1])); assert p["defaultAction"] == "SCMP_ACT_ERRNO"; names = {n for s in p["syscalls"] for n in s["names"]}; assert "getdents64" in names and "socket" not in names, names' "$prof" || return 1
	# The same command runs under it, with the same output.
	[ "$(mrun --seccomp-profile "$prof" -- /bin/ls /)" = "$(mrun -- /bin/ls /)" ] || return 1
	# Something ls never did is refused with the profile's errno (EPERM),
	# here whatever python needs first.
	mrun --seccomp-profile "$prof" -- python3 -c 'print(1)' >"$T_TMP/out" 2>&1
	local st=$?
	[ "$st" != 0 ] || { echo "python ran under ls's profile" >&2; return 1; }
}
check "a profile made from /bin/ls / lets it run and refuses what it did not use" t_profile_enforced

t_profile_socket_eperm()
{
	local prof="$T_TMP/py.json"
	mprofile -o "$prof" -- python3 -c 'import socket; print(0)' >/dev/null || return 1
	local out
	out=$(mrun --seccomp-profile "$prof" -- python3 -c '
import socket
try:
    socket.socket()
    print("created")
except OSError as e:
    print("refused", e.errno)')
	[ "$out" = "refused 1" ] || { echo "got: $out" >&2; return 1; }
	# Without the profile, the same socket is made.
	[ "$(mrun -- python3 -c 'import socket; socket.socket(); print("created")')" = created ]
}
check "socket() outside a python profile fails with the profile's EPERM" t_profile_socket_eperm

t_profile_errno_over_table()
{
	# uname is emulated by moat; the profile's errno wins over the table.
	printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}\n' >"$T_TMP/u.json"
	mrun --seccomp-profile "$T_TMP/u.json" -- python3 -c '
import os
try:
    os.uname(); print("ran")
except OSError as e:
    print(e.errno)' >"$T_TMP/out" || return 1
	[ "$(cat "$T_TMP/out")" = 38 ] || { cat "$T_TMP/out" >&2; return 1; }
	# An allowing profile leaves moat's table in charge: mount stays EPERM.
	printf '{"defaultAction": "SCMP_ACT_ALLOW"}\n' >"$T_TMP/all.json"
	[ "$(mrun --seccomp-profile "$T_TMP/all.json" -- python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.syscall(165, b"none", b"/tmp", b"tmpfs", 0, None), ctypes.get_errno())')" = "-1 1" ]
}
check "the profile's errno beats the table; an allowing profile leaves the table in charge" t_profile_errno_over_table

t_broken_profile()
{
	printf '{"defaultAction": "SCMP_ACT_ERRNO",\n "syscalls": [ {"names": ["read"]\n' >"$T_TMP/cut.json"
	mrun --seccomp-profile "$T_TMP/cut.json" -- true 2>"$T_TMP/err"
	[ $? = 125 ] || return 1
	[ "$(wc -l <"$T_TMP/err")" = 1 ] && grep -q "cut.json:3:.*end of file" "$T_TMP/err" || { cat "$T_TMP/err" >&2; return 1; }
	printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["nosuchcall"], "action": "SCMP_ACT_ERRNO"}]}\n' >"$T_TMP/unk.json"
	mrun --seccomp-profile "$T_TMP/unk.json" -- true 2>"$T_TMP/err"
	[ $? = 125 ] && grep -q 'unknown syscall "nosuchcall"' "$T_TMP/err" || { cat "$T_TMP/err" >&2; return 1; }
	printf '{"defaultAction": "SCMP_ACT_FOO"}\n' >"$T_TMP/act.json"
	mrun --seccomp-profile "$T_TMP/act.json" -- true 2>"$T_TMP/err"
	[ $? = 125 ] && grep -q 'unknown action' "$T_TMP/err"
}
check "a broken profile gives exit 125 and a one-line reason" t_broken_profile

t_profile_from_trace()
{
	local tr="$T_TMP/ls.jsonl"
	mtrace --format json -o "$tr" -- /bin/ls / >/dev/null || return 1
	mprofile --from "$tr" -o "$T_TMP/from.json" || return 1
	[ "$(mrun --seccomp-profile "$T_TMP/from.json" -- /bin/ls /)" = "$(mrun -- /bin/ls /)" ] || return 1
	# A trace cut short names its line.
	head -c -20 "$tr" >"$T_TMP/cut.jsonl"
	mprofile --from "$T_TMP/cut.jsonl" -o /dev/null 2>"$T_TMP/err"
	[ $? = 125 ] && grep -qE "cut.jsonl:[0-9]+: " "$T_TMP/err" || { cat "$T_TMP/err" >&2; return 1; }
}
check "moat profile --from a JSON trace; a trace cut short names the line" t_profile_from_trace

t_surface()
{
	"$MOAT" syscalls --surface --json >"$T_TMP/s.json" || return 1
	"$MOAT" profile -o "$T_TMP/ls.json" -- /bin/ls / >/dev/null </dev/null || return 1
	"$MOAT" syscalls --surface "$T_TMP/ls.json" --json >"$T_TMP/p.json" || return 1
	python3 - "$T_TMP/s.json" "$T_TMP/p.json" <<'PY'
import json, sys
d, p = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
c, q = d["counts"], p["counts"]
assert sum(c.values()) == d["syscalls_known"] == sum(q.values()), (c, q)
assert c["passed"] > 100 and c["emulated"] > 50, c
assert q["passed"] < c["passed"] and q["emulated"] < c["emulated"], (c, q)
names = lambda x, k: {s["name"] for s in x["syscalls"][k]}
assert "openat" in names(d, "emulated") and "read" in names(d, "passed")
assert "socket" in names(d, "passed") and "socket" in names(p, "refused")
assert "getdents64" in names(p, "emulated")
PY
}
check "syscalls --surface counts the default table and a profile's restriction" t_surface

t_surface_doc()
{
	# docs/syscall-surface.md keeps the default table's numbers.
	local want
	want=$("$MOAT" syscalls --surface --markdown | sed -n '3,5p')
	grep -qF "$(printf '%s\n' "$want" | head -1)" "$TESTDIR/../docs/syscall-surface.md" &&
		grep -qF "$(printf '%s\n' "$want" | sed -n 2p)" "$TESTDIR/../docs/syscall-surface.md" &&
		grep -qF "$(printf '%s\n' "$want" | sed -n 3p)" "$TESTDIR/../docs/syscall-surface.md"
}
check "docs/syscall-surface.md has the default table's current numbers" t_surface_doc

t_workload_profiles()
{
	# Two of docs/profiles' workloads (scripts/make-profiles.sh): each
	# profile, made from one run, lets the workload run again with the same
	# result, and refuses what it did not use.
	local d
	d=$(host_tmpdir) || return 1
	tar -czf "$d/a.tgz" -C /usr/include linux || return 1
	chmod -R a+rX "$d"
	mprofile -o "$T_TMP/pass.json" -- python3 -c pass || return 1
	mrun --seccomp-profile "$T_TMP/pass.json" -- python3 -c pass || { echo "python3 -c pass fails under its profile" >&2; return 1; }
	# tar extracts into a host directory, counted from outside.
	mkdir "$d/out" && chown 65534:65534 "$d/out" || return 1
	local b=(--bind "$d:/w:ro" --bind "$d/out:/out:rw" --bind-owner 65534:65534)
	mprofile "${b[@]}" -o "$T_TMP/tar.json" -- tar xzf /w/a.tgz -C /out || return 1
	rm -rf "$d/out/linux"
	mrun "${b[@]}" --seccomp-profile "$T_TMP/tar.json" -- tar xzf /w/a.tgz -C /out || { echo "tar fails under its profile" >&2; return 1; }
	local want got
	want=$(tar -tzf "$d/a.tgz" | grep -c '\.h$')
	got=$(find "$d/out/linux" -name '*.h' | wc -l)
	[ "$got" -gt 100 ] && [ "$got" = "$want" ] || { echo "extracted $got headers of $want" >&2; return 1; }
	# python's profile is not tar's: tar needs calls python never made
	# (mkdirat, and clone and wait4 for its gzip).
	rm -rf "$d/out/linux"
	mrun "${b[@]}" --seccomp-profile "$T_TMP/pass.json" -- tar xzf /w/a.tgz -C /out 2>/dev/null &&
		{ echo "tar ran under python3 -c pass's profile" >&2; return 1; }
	return 0
}
check "profiles of python3 -c pass and tar xzf let each run again, and not the other" t_workload_profiles

done_testing
