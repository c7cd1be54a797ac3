#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/make-profiles.sh - make the seccomp profiles of a few real workloads
# with moat, keep them in docs/profiles/ and check that each lets its
# workload run again. See docs/seccomp-profiles.md, "Profiles of real
# workloads".
#
#   scripts/make-profiles.sh           remake docs/profiles/*.json, check
#                                      them, print the table for the docs
#   scripts/make-profiles.sh --check   only enforce the kept profiles
#
# Each workload is traced once (`moat trace --format json`), the OCI profile
# and moat's table are made from that trace (`moat profile --from`), and the
# workload runs again under `moat run --seccomp-profile` and must exit 0
# with the same output. MOAT overrides build/moat; OUT overrides
# docs/profiles.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
MOAT=${MOAT:-$top/build/moat}
OUT=${OUT:-$top/docs/profiles}
[ -x "$MOAT" ] || { echo "make-profiles: no moat at $MOAT; build it or set MOAT" >&2; exit 1; }
check_only=no
[ "${1:-}" = --check ] && check_only=yes

# The workloads' inputs, in a host directory bound at /w: a small C file, a
# small git repository (bound :rw, so git may refresh its index as it does
# at home) and a gzipped tar of a few hundred headers.
work=$(mktemp -d "${TMPDIR:-/tmp}/moat-profiles.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cat >"$work/hello.c" <<'EOF'
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}
EOF
mkdir "$work/repo"
(cd "$work/repo" && git init -q && for i in $(seq 20); do echo "$i" >"f$i"; done &&
	git add . && git -c user.email=p@moat -c user.name=profiles commit -qm init && echo changed >f1) ||
	{ echo "make-profiles: could not make the git repository" >&2; exit 1; }
tar -czf "$work/linux.tgz" -C /usr/include linux || exit 1
# An rw bind's files are never root's on the host.
chown -R 65534:65534 "$work"

bind=(--bind "$work:/w:ro" --bind "$work/repo:/w/repo:rw" --bind-owner 65534:65534)
# name|command (run by sh -c on the host to make the argument list; the
# workload itself runs directly, not under a shell)
workloads=(
	'python3-pass|python3 -c pass'
	'gcc-hello|gcc -O2 -o /tmp/hello /w/hello.c'
	'git-status|git -c safe.directory=* -C /w/repo status --porcelain'
	'tar-xzf|tar xzf /w/linux.tgz -C /tmp'
	'sqlite3-insert|sqlite3 /tmp/t.db "create table t(id integer primary key, name text); insert into t(name) values (1); insert into t(name) values (2); insert into t(name) values (3); begin; insert into t(name) select name from t; insert into t(name) select name from t; commit; select count(*) from t;"'
)

mkdir -p "$OUT"
failed=0
rows=()
for w in "${workloads[@]}"; do
	name=${w%%|*}
	cmd=${w#*|}
	eval "set -- $cmd"
	prof=$OUT/$name.json
	if [ $check_only = no ]; then
		"$MOAT" trace "${bind[@]}" --format json -o "$work/$name.jsonl" -- "$@" >"$work/$name.out" </dev/null ||
			{ echo "make-profiles: $name: the traced run failed ($?)" >&2; failed=1; continue; }
		if ! "$MOAT" profile --from "$work/$name.jsonl" -o "$prof" ||
			! "$MOAT" profile --from "$work/$name.jsonl" --format moat -o "$work/$name.moat"; then
			echo "make-profiles: $name: moat profile failed" >&2
			failed=1
			continue
		fi
	else
		"$MOAT" run "${bind[@]}" -- "$@" >"$work/$name.out" </dev/null ||
			{ echo "make-profiles: $name: the unconfined run failed ($?)" >&2; failed=1; continue; }
	fi
	# Enforced: the workload runs again, with the same output.
	if ! "$MOAT" run "${bind[@]}" --seccomp-profile "$prof" -- "$@" >"$work/$name.enf" 2>"$work/$name.err" </dev/null; then
		echo "make-profiles: $name: FAILS under its own profile: $(head -c 300 "$work/$name.err")" >&2
		failed=1
	elif ! cmp -s "$work/$name.out" "$work/$name.enf"; then
		echo "make-profiles: $name: other output under its profile" >&2
		failed=1
	else
		echo "ok: $name runs under $prof"
	fi
	[ $check_only = yes ] && continue
	# A table row: distinct syscalls, how moat answers them, entries with
	# argument rules, calls made.
	rows+=("$(python3 - "$prof" "$work/$name.moat" "$work/$name.jsonl" "$cmd" <<'PY'
import collections, json, sys
p = json.load(open(sys.argv[1]))
names = {n for s in p["syscalls"] for n in s["names"]}
ruled = sum(1 for s in p["syscalls"] if s.get("args"))
moat = collections.Counter()
for line in open(sys.argv[2]):
    f = line.split()
    if f and not line.startswith("#"):
        moat[f[2]] += 1
calls = sum(1 for _ in open(sys.argv[3]))
answers = ", ".join("%d %s" % (moat[k], k.lower()) for k in ("PASS", "EMULATE", "EXEC", "DENY") if moat[k])
print("| `%s` | %d | %s | %d | %d |" % (sys.argv[4], len(names), answers, ruled, calls))
PY
)")
done
if [ $check_only = no ] && [ ${#rows[@]} -gt 0 ]; then
	echo
	echo "| workload | syscalls | moat's answer to them | entries with argument rules | calls traced |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
fi
exit $failed
