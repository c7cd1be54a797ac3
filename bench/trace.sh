#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/trace.sh - what tracing costs (issue 12): bench/micro under
# `moat run` (tracing off), `moat trace -o /dev/null` (text) and
# `moat trace --format json -o /dev/null`, and optionally under other moat
# binaries (say, one built before the tracer existed) with `moat run`, in
# interleaved rounds. See bench/README.md, "Tracing overhead".
#
#   bench/trace.sh [-q] [-r ROUNDS]   -q: a fifth of the iterations;
#                                     ROUNDS: rounds of every column (default 3)
#
# Environment: MOAT (default: build/moat), MICRO (a prebuilt bench/micro;
# default: build/bench/micro, else built here with cc -O2), BASES
# ("NAME=PATH ..." moat binaries run with `moat run` as extra columns),
# BENCH_OUT (where results go; default: a temporary directory, kept).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
scale=1
rounds=3
while [ $# -gt 0 ]; do
	case $1 in
	-q) scale=0.2 ;;
	-r) rounds=$2; shift ;;
	*) echo "usage: bench/trace.sh [-q] [-r ROUNDS]" >&2; exit 2 ;;
	esac
	shift
done

if [ -z "${MOAT:-}" ]; then
	for m in "$top/build/moat" "$top/moat" ./moat; do
		[ -x "$m" ] && { MOAT=$(cd "$(dirname "$m")" && pwd)/moat; break; }
	done
fi
[ -x "${MOAT:-}" ] || { echo "bench: no moat binary; build it or set MOAT" >&2; exit 1; }
out=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/moat-trace-bench.XXXXXX")}
mkdir -p "$out"
if [ -z "${MICRO:-}" ] && [ -x "$top/build/bench/micro" ]; then
	MICRO=$top/build/bench/micro
fi
if [ -n "${MICRO:-}" ]; then
	cp "$MICRO" "$out/micro"
else
	${CC:-cc} -O2 -o "$out/micro" "$here/micro.c" || exit 1
fi

# Columns: name, then how to run micro (see bench/run.sh for the binds).
declare -A moat_of
cols=()
for b in ${BASES:-}; do
	[ -x "${b#*=}" ] || { echo "bench: ${b#*=} is not executable" >&2; exit 1; }
	cols+=("${b%%=*}")
	moat_of[${b%%=*}]=${b#*=}
done
cols+=(run text json)
mkdir -p "$out/rw"
chown 65534:65534 "$out/rw"
binds=(--bind "$out:/bench:ro" --bind "$out/rw:/rw:rw" --bind-owner 65534:65534 --env MICRO_RW_DIR=/rw)

echo "== moat tracing overhead, $(date -u '+%Y-%m-%d %H:%M UTC'), $rounds rounds, scale $scale"
echo "== $(uname -sr), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "== moat: $MOAT${BASES:+; bases: $BASES}"
echo "== load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

for r in $(seq "$rounds"); do
	for c in "${cols[@]}"; do
		case $c in
		run) cmd=("$MOAT" run "${binds[@]}") ;;
		text) cmd=("$MOAT" trace -o /dev/null "${binds[@]}") ;;
		json) cmd=("$MOAT" trace --format json -o /dev/null "${binds[@]}") ;;
		*) cmd=("${moat_of[$c]}" run "${binds[@]}") ;;
		esac
		"${cmd[@]}" -- /bench/micro -s "$scale" >"$out/$c.$r.txt" 2>"$out/$c.$r.err" </dev/null ||
			echo "$c round $r failed ($?): $(head -c 300 "$out/$c.$r.err")" >&2
	done
done
echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

files=()
for c in "${cols[@]}"; do
	for r in $(seq "$rounds"); do files+=("$out/$c.$r.txt"); done
done
# Per row and column: the median of the rounds' medians, in us per call;
# ratios of each column to `moat run` (bases: run / base, so >1 means the
# current binary is slower), and of each later base to the first.
awk -v cols="${cols[*]}" '
function us(ns) { return sprintf("%.2f", ns / 1000) }
function median(c, op,   n, i, j, t, a) {
	n = cnt[c, op]
	if (n == 0) return ""
	for (i = 1; i <= n; i++) a[i] = v[c, op, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(a, b) { return a == "" || b == "" || b + 0 <= 0 ? "-" : sprintf("%.2fx", a / b) }
FNR == 1 { c = FILENAME; sub(/.*\//, "", c); sub(/\.[0-9]+\.txt$/, "", c) }
$2 ~ /^[0-9]+$/ { cnt[c, $1]++; v[c, $1, cnt[c, $1]] = $2; if (!seen[$1]++) ops[n++] = $1 }
END {
	nc = split(cols, col, " ")
	printf "%-20s", "us per call (median)"
	for (k = 1; k <= nc; k++) printf " %9s", col[k]
	for (k = 1; k <= nc; k++) if (col[k] != "run" && col[k] != "text" && col[k] != "json") printf " %12s", "run/" col[k]
	for (k = 2; k <= nc - 3; k++) printf " %12s", col[k] "/" col[1]
	printf " %9s %9s\n", "text/run", "json/run"
	for (i = 0; i < n; i++) {
		op = ops[i]
		printf "%-20s", op
		for (k = 1; k <= nc; k++) { m[col[k]] = median(col[k], op); printf " %9s", m[col[k]] == "" ? "n/a" : us(m[col[k]]) }
		for (k = 1; k <= nc; k++) if (col[k] != "run" && col[k] != "text" && col[k] != "json") printf " %12s", op == "timer" ? "-" : ratio(m["run"], m[col[k]])
		for (k = 2; k <= nc - 3; k++) printf " %12s", op == "timer" ? "-" : ratio(m[col[k]], m[col[1]])
		printf " %9s %9s\n", op == "timer" ? "-" : ratio(m["text"], m["run"]), op == "timer" ? "-" : ratio(m["json"], m["run"])
	}
}' "${files[@]}"
echo
echo "raw results: $out"
