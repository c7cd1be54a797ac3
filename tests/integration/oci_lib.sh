# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/integration/oci_lib.sh - what the OCI tests share (sourced after
# lib.sh and require_moat): a bundle's rootfs of busybox-static under $B,
# --root $R, a read-write bind $DATA, and
#
#   oci ARGS...            moat --root $R ARGS, with a timeout
#   edit FILE PYTHON       apply PYTHON to the JSON in FILE (as c)
#   json_get EXPR          EXPR on the JSON on stdin (as j)
#   bundle NAME PYTHON     a bundle sharing the rootfs, `moat spec`'s config edited
#   one_line_error N CMD   CMD exits N with one line on stderr, nothing on stdout
#   no_state ID            nothing under $R for ID
#   gone PID               the process is gone within 5 s
#   status_of ID           the container's status

BUSYBOX=$(command -v busybox)
if [ -z "$BUSYBOX" ] || { have file && ! file -L "$BUSYBOX" | grep -q 'statically linked'; }; then
	skip "OCI lifecycle" "needs busybox-static"
	done_testing
fi
have python3 || { skip "OCI lifecycle" "needs python3 to edit config.json"; done_testing; }

W=$(host_tmpdir) || bail_out "no temporary directory"
R=$W/root        # --root: the containers' state
B=$W/bundle      # the bundle
DATA=$W/data     # a read-write bind, owned by nobody (moat never creates as root)
mkdir -p "$B/rootfs"/{bin,proc,dev,tmp,root,etc,data} "$DATA"
cp "$BUSYBOX" "$B/rootfs/bin/busybox"
for c in sh echo cat sleep touch ls id env hostname pwd true false mkdir kill; do
	ln -s busybox "$B/rootfs/bin/$c"
done
chown 65534:65534 "$DATA"

# Whatever a failed check leaves behind goes at exit.
at_exit "for id in \$('$MOAT' --root '$R' list -q 2>/dev/null); do '$MOAT' --root '$R' delete -f \"\$id\"; done"

# oci ARGS...: moat --root $R ARGS with a timeout and stdin from /dev/null.
oci() { timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" --root "$R" "$@" </dev/null; }

# edit FILE PYTHON: apply PYTHON to the JSON in FILE (as c).
edit()
{
	python3 - "$1" "$2" <<'EOF'
import json, sys
path, code = sys.argv[1], sys.argv[2]
with open(path) as f:
    c = json.load(f)
exec(code)
with open(path, "w") as f:
    json.dump(c, f, indent=1)
EOF
}

# json_get EXPR: evaluate EXPR on the JSON on stdin (as j).
json_get() { python3 -c 'import json, sys; j = json.load(sys.stdin); print('"$1"')'; }

# bundle NAME PYTHON: a bundle of its own sharing the rootfs, with the
# config.json of `moat spec` edited by PYTHON (terminal off first).
bundle()
{
	local d=$W/$1
	mkdir -p "$d"
	ln -sfn "$B/rootfs" "$d/rootfs"
	rm -f "$d/config.json"
	"$MOAT" spec --bundle "$d" || return 1
	edit "$d/config.json" 'c["process"]["terminal"] = False
c["mounts"].append({"destination": "/data", "type": "bind", "source": "'"$DATA"'", "options": ["rbind", "rw"]})
'"$2" || return 1
	echo "$d"
}

# one_line_error STATUS CMD...: CMD exits with STATUS, prints one line on
# stderr and nothing on stdout.
one_line_error()
{
	local want=$1 rc lines
	shift
	"$@" >"$W/o" 2>"$W/e" </dev/null
	rc=$?
	lines=$(wc -l <"$W/e")
	echo "exit $rc, stderr ($lines lines): $(cat "$W/e"), stdout: $(head -c 200 "$W/o")" >&2
	[ "$rc" = "$want" ] && [ "$lines" = 1 ] && [ ! -s "$W/o" ]
}

# no_state ID: nothing under --root for ID.
no_state() { [ ! -e "$R/$1" ] || { ls -la "$R/$1" >&2; return 1; }; }

# gone PID: the process has exited (or is a zombie) within 5 s.
gone()
{
	local i
	for i in $(seq 50); do
		[ -d "/proc/$1" ] || return 0
		grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "process $1 still runs: $(tr '\0' ' ' <"/proc/$1/cmdline")" >&2
	return 1
}

status_of() { oci state "$1" | json_get 'j["status"]'; }

