#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/run.sh - per-call latency natively, under moat (on its default
# seccomp-unotify platform and on --platform=ptrace) and under gVisor
# (--platform=ptrace), in one run; whole workloads (an archive, find, git,
# a shell loop of 500 execs); the start of `python3 -c pass` inside each;
# and the start time of `moat run -- /bin/true`. See bench/README.md.
#
#   bench/run.sh [-q]      -q: a quick run (a fifth of the iterations)
#
# Environment: MOAT (default: build/moat, then ./moat), MICRO (a prebuilt
# bench/micro; default: build it here with cc -O2), RUNSC (default: runsc),
# BENCH_OUT (where results go; default: a temporary directory, kept),
# ROUNDS (default 1: how many times the per-call rows run, the four columns
# interleaved within each round; each cell is then the median of the
# rounds' medians, so that a noisy minute of the machine moves one round,
# not the row. Use 3 or more when a goal is to be read from the table).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
scale=1
spawn_n=30
runsc_n=10
if [ "${1:-}" = -q ]; then
	scale=0.2
	spawn_n=10
	runsc_n=3
fi

if [ -z "${MOAT:-}" ]; then
	for m in "$top/build/moat" "$top/moat" ./moat; do
		[ -x "$m" ] && { MOAT=$(cd "$(dirname "$m")" && pwd)/moat; break; }
	done
fi
[ -x "${MOAT:-}" ] || { echo "bench: no moat binary; build it or set MOAT" >&2; exit 1; }
RUNSC=${RUNSC:-runsc}
out=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/moat-bench.XXXXXX")}
mkdir -p "$out"

# The benchmark binary lives in $out, bound into moat at /bench.
if [ -n "${MICRO:-}" ]; then
	cp "$MICRO" "$out/micro"
else
	${CC:-cc} -O2 -pthread -o "$out/micro" "$here/micro.c" || exit 1
fi

have() { command -v "$1" >/dev/null 2>&1; }
gvisor=yes
if ! have "$RUNSC"; then
	gvisor="no: runsc is not installed (apt-get install runsc)"
elif [ "$(id -u)" != 0 ]; then
	gvisor="no: runsc do needs root"
fi
runsc_do() { "$RUNSC" --platform=ptrace --network=none "do" "$@"; }

echo "== moat micro-benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== $(uname -sr), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "== moat: $MOAT"
if [ "$gvisor" = yes ]; then
	echo "== gVisor: $("$RUNSC" --version 2>/dev/null | sed -n 1p), --platform=ptrace"
else
	echo "== gVisor: $gvisor"
fi
echo

# A host directory for the read-write rows: moat binds it :rw, natively
# and in gVisor it is the directory itself.
mkdir -p "$out/rw" "$out/repo"
# Owned by nobody: an rw bind's files are never root's on the host.
chown 65534:65534 "$out/rw"
rounds=${ROUNDS:-1}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench: ROUNDS must be a positive number" >&2; exit 1; }
for r in $(seq "$rounds"); do
	MICRO_RW_DIR="$out/rw" "$out/micro" -s "$scale" >"$out/native.r$r" || echo "native run failed" >&2
	for p in seccomp ptrace; do
		f=moat
		[ $p = ptrace ] && f=ptrace
		"$MOAT" run --platform=$p --bind "$out:/bench:ro" --bind "$out/rw:/rw:rw" --bind-owner 65534:65534 \
			--env MICRO_RW_DIR=/rw -- /bench/micro -s "$scale" >"$out/$f.r$r" 2>"$out/$f.err" ||
			echo "moat --platform=$p run failed ($?): $(head -c 300 "$out/$f.err")" >&2
	done
	if [ "$gvisor" = yes ]; then
		(cd "$out" && MICRO_RW_DIR="$out/rw" runsc_do ./micro -s "$scale") >"$out/gvisor.r$r" 2>"$out/gvisor.err" ||
			echo "runsc failed: $(head -c 300 "$out/gvisor.err")" >&2
	else
		: >"$out/gvisor.r$r"
	fi
done
# Each row's median and p90 across the rounds (the median of the medians;
# a row with an error in any round keeps that error line).
for f in native moat ptrace gvisor; do
	awk '$2 ~ /^[0-9]+$/ { if (!($1 in n)) { order[k++] = $1; cnt[$1] = $4; n[$1] = 0 } m[$1, n[$1]] = $2; q[$1, n[$1]++] = $3; next }
	     NF { if (!($1 in n)) order[k++] = $1; bad[$1] = $0; n[$1] += 0 }
	     function mid(a, op, c,   i, j, t, v) {
		for (i = 0; i < c; i++) v[i] = a[op, i]
		for (i = 1; i < c; i++) for (j = i; j > 0 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return v[int((c - 1) / 2)]
	     }
	     END { for (i = 0; i < k; i++) { op = order[i]
		if (op in bad || !n[op]) print bad[op]
		else printf "%s %s %s %s\n", op, mid(m, op, n[op]), mid(q, op, n[op]), cnt[op] } }' \
		$(for r in $(seq "$rounds"); do echo "$out/$f.r$r"; done) >"$out/$f.txt"
done

# Whole workloads (issue 7), each timed as one command, median of $wl_n:
# tar xzf of /usr/include into /tmp, find /usr -type f | wc -l, and
# git status in a 5,000-file repository in a host directory (bound :rw).
wl_n=5
[ "$scale" = 1 ] || wl_n=3
tar -czf "$out/inc.tgz" -C /usr include 2>/dev/null
if have git && [ ! -d "$out/repo/.git" ]; then
	(cd "$out/repo" && git init -q && for d in $(seq 50); do mkdir -p "d$d" && for f in $(seq 100); do echo "$d $f" >"d$d/f$f"; done; done &&
		git add . && git -c user.email=b@moat -c user.name=bench commit -qm init) >/dev/null 2>&1
	chown -R 65534:65534 "$out/repo"
fi
WL_TAR='rm -rf /tmp/x && mkdir /tmp/x && tar xzf "$0/inc.tgz" -C /tmp/x'
WL_FIND='find /usr -type f | wc -l >/dev/null'
WL_GIT='cd "$0/repo" && git -c safe.directory="*" status --porcelain >/dev/null'
# Issue 8: 500 fork+execs from a shell, each of an external /bin/true.
WL_LOOP='i=0; while [ $i -lt 500 ]; do /bin/true; i=$((i+1)); done'
# workload NAME WHERE SCRIPT: median ns of wl_n runs of `sh -c SCRIPT WHERE`
# natively, in moat and in gVisor; appends "NAME med p90 n" lines.
workload()
{
	local name=$1 script=$3 f
	for f in native moat ptrace gvisor; do
		local cmd=()
		case $f in
		native) cmd=(/bin/sh -c "$script" "$out") ;;
		moat | ptrace)
			local plat=seccomp
			[ $f = ptrace ] && plat=ptrace
			cmd=("$MOAT" run --platform=$plat --bind "$out:/bench:ro" --bind "$out/repo:/bench/repo:rw" --bind-owner 65534:65534 -- /bin/sh -c "$script" /bench) ;;
		gvisor) [ "$gvisor" = yes ] || continue
			cmd=("$RUNSC" --platform=ptrace --network=none "do" /bin/sh -c "$script" "$out") ;;
		esac
		"$out/micro" --spawn "$wl_n" -- "${cmd[@]}" | sed "s/^spawn/$name/" >>"$out/$f.txt"
	done
}
workload "tar-xzf-include" "$out" "$WL_TAR"
workload "find-usr-f" "$out" "$WL_FIND"
have git && workload "git-status-5000" "$out" "$WL_GIT"
workload "sh-loop-500-exec" "$out" "$WL_LOOP"

# python3 -c pass started from inside each sandbox (micro --spawn there):
# the interpreter's own start as a guest process, without the sandbox's.
# /usr/bin/python3 rather than PATH's: a pyenv shim is a shell script, and
# moat's default view holds /usr.
PY=${PYTHON:-/usr/bin/python3}
inside_spawn()
{
	local name=$1 n=$2 f
	shift 2
	for f in native moat ptrace gvisor; do
		case $f in
		native) "$out/micro" --spawn "$n" -- "$@" ;;
		moat | ptrace)
			local plat=seccomp
			[ $f = ptrace ] && plat=ptrace
			"$MOAT" run --platform=$plat --bind "$out:/bench:ro" -- /bench/micro --spawn "$n" -- "$@" ;;
		gvisor) [ "$gvisor" = yes ] || continue
			(cd "$out" && runsc_do ./micro --spawn "$n" -- "$@") ;;
		esac 2>>"$out/$f.err" | sed "s/^spawn/$name/" >>"$out/$f.txt"
	done
}
if [ -x "$PY" ]; then
	inside_spawn "python3-c-pass" "$spawn_n" "$PY" -c pass
else
	echo "bench: no $PY: python rows skipped (set PYTHON)" >&2
fi

# Start time: hyperfine when installed, else micro --spawn (median of N).
start_time()
{
	local name=$1 n=$2
	shift 2
	if have hyperfine; then
		hyperfine -N --warmup 2 --runs "$n" --export-json "$out/hf-$name.json" \
			"$(printf '%q ' "$@")" >/dev/null 2>&1 &&
			python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]; t = sorted(r["times"]); print("spawn %d %d %d" % (r["median"] * 1e9, t[int(len(t) * 0.9) - 1] * 1e9, len(t)))' \
				"$out/hf-$name.json"
	else
		"$out/micro" --spawn "$n" -- "$@"
	fi
}
start_time native "$spawn_n" /bin/true >"$out/start-native.txt"
start_time moat "$spawn_n" "$MOAT" run -- /bin/true >"$out/start-moat.txt"
start_time ptrace "$spawn_n" "$MOAT" run --platform=ptrace -- /bin/true >"$out/start-ptrace.txt"
if [ "$gvisor" = yes ]; then
	start_time gvisor "$runsc_n" "$RUNSC" --platform=ptrace --network=none "do" /bin/true >"$out/start-gvisor.txt"
else
	: >"$out/start-gvisor.txt"
fi
# The same from outside, the sandbox's start included.
if [ -x "$PY" ]; then
	start_time py-native "$spawn_n" "$PY" -c pass >"$out/startpy-native.txt"
	start_time py-moat "$spawn_n" "$MOAT" run -- "$PY" -c pass >"$out/startpy-moat.txt"
	start_time py-ptrace "$spawn_n" "$MOAT" run --platform=ptrace -- "$PY" -c pass >"$out/startpy-ptrace.txt"
	if [ "$gvisor" = yes ]; then
		start_time py-gvisor "$runsc_n" "$RUNSC" --platform=ptrace --network=none "do" "$PY" -c pass >"$out/startpy-gvisor.txt"
	else
		: >"$out/startpy-gvisor.txt"
	fi
fi
# A command in a warm named sandbox (moat run --name -d, then moat exec):
# a code interpreter's service's case. Beside the native /bin/true.
warm_root=$out/warm-root
: >"$out/execwarm-gvisor.txt"
cp "$out/start-native.txt" "$out/execwarm-native.txt"
for p in moat ptrace; do
	if "$MOAT" --root "$warm_root" run --name "bench-$p" -d --platform="$([ $p = moat ] && echo seccomp || echo ptrace)" </dev/null; then
		start_time "exec-$p" "$spawn_n" "$MOAT" --root "$warm_root" exec "bench-$p" /bin/true >"$out/execwarm-$p.txt"
		"$MOAT" --root "$warm_root" delete --force "bench-$p"
	else
		: >"$out/execwarm-$p.txt"
	fi
done
for f in native moat ptrace gvisor; do
	sed 's/^spawn/start/' "$out/start-$f.txt" >>"$out/$f.txt"
	[ -f "$out/startpy-$f.txt" ] && sed 's/^spawn/start-python3/' "$out/startpy-$f.txt" >>"$out/$f.txt"
	sed 's/^spawn/exec-warm/' "$out/execwarm-$f.txt" >>"$out/$f.txt"
done

# One table: median (p90) per call, and the ratios of the medians.
awk -v gv="$gvisor" '
function us(ns) { return ns == "" || ns == "-" ? "-" : sprintf("%.2f", ns / 1000) }
function cell(op, f) { return med[f, op] == "" ? "n/a" : us(med[f, op]) " (" us(p90[f, op]) ")" }
function goal(op, kind, bound, what,   v) {
	if (med["moat", op] !~ /^[0-9]+$/ || (kind == "ratio" && med["native", op] + 0 <= 0)) { printf "goal: %s: no data\n", what; return }
	v = kind == "ratio" ? med["moat", op] / med["native", op] : med["moat", op] / 1000
	printf "goal: %s: %s (%s)\n", what, kind == "ratio" ? sprintf("%.2fx", v) : sprintf("%.1f ms", v / 1000), v <= bound ? "met" : "not met"
}
function ratio(op, f) {
	if (op == "timer" || med[f, op] == "" || med[f, op] == "-" || med["native", op] + 0 <= 0) return "-"
	return sprintf("%.1fx", med[f, op] / med["native", op])
}
FNR == 1 { f = FILENAME; sub(/.*\//, "", f); sub(/\.txt$/, "", f) }
$2 ~ /^[0-9]+$/ { med[f, $1] = $2; p90[f, $1] = $3; if (!seen[$1]++) ops[n++] = $1 }
$2 == "-" { med[f, $1] = "-"; if (!seen[$1]++) ops[n++] = $1; err[f, $1] = $0 }
END {
	printf "%-22s %18s %18s %18s %18s %8s %8s %8s\n", "us per call", "native med (p90)", "moat med (p90)", "ptrace med (p90)", "gvisor med (p90)", "moat/n", "ptrace/n", "gvisor/n"
	for (i = 0; i < n; i++) {
		op = ops[i]
		name = op == "start" ? "start /bin/true" : op == "start-python3" ? "start python3 -c pass" : op == "exec-warm" ? "exec /bin/true, warm" : op
		printf "%-22s %18s %18s %18s %18s %8s %8s %8s\n", name, cell(op, "native"), cell(op, "moat"), cell(op, "ptrace"), cell(op, "gvisor"), ratio(op, "moat"), ratio(op, "ptrace"), ratio(op, "gvisor")
	}
	# Issue 8 goals, on the default (seccomp) platform.
	print ""
	goal("fork+exec+wait", "ratio", 2.0, "fork+exec+wait within 2x native")
	goal("sh-loop-500-exec", "ratio", 1.5, "shell loop of 500 execs within 1.5x native")
	goal("start", "us", 15000, "moat run -- /bin/true within 15 ms")
	goal("python3-c-pass", "ratio", 1.3, "python3 -c pass (inside) within 1.3x native")
	for (pi = 0; pi < 2; pi++) {
		pf = pi ? "ptrace" : "moat"
		behind = ""
		for (i = 0; i < n; i++) {
			op = ops[i]
			if (op == "timer" || med[pf, op] !~ /^[0-9]+$/ || med["gvisor", op] !~ /^[0-9]+$/) continue
			if (med[pf, op] + 0 >= med["gvisor", op] + 0) behind = behind " " op
		}
		if (gv == "yes")
			printf "goal: %s ahead of gVisor on every row: %s\n", pf, behind == "" ? "met" : "not met, behind on" behind
	}
	for (k in err) { split(k, kk, SUBSEP); printf "%s: %s\n", kk[1], err[k] }
	if (gv != "yes") printf "gVisor skipped (%s)\n", gv
}' "$out/native.txt" "$out/moat.txt" "$out/ptrace.txt" "$out/gvisor.txt"
echo
echo "raw results: $out"
