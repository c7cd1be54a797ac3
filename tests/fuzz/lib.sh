# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# tests/fuzz/lib.sh - building and running moat's libFuzzer harnesses (issue
# 9), sourced by proto.sh and parsers.sh after tests/integration/lib.sh.
#
#   fuzz_init "what"            skips the script when clang cannot link
#                               libFuzzer (Debian: clang, libclang-rt-14-dev)
#   fuzz_build NAME SRCS...     builds tests/fuzz/fuzz_NAME.c with SRCS (paths
#                               under the source tree, or -lLIB)
#   fuzz NAME CORPUS            runs it for $TIME seconds from a copy of
#                               tests/fuzz/corpus/CORPUS (with
#                               tests/fuzz/NAME.dict when there is one)
#
# Harnesses are built with AddressSanitizer, UBSan (no recovery) and
# LeakSanitizer, so a memory error, undefined behaviour, a leak, a hang
# (-timeout) or an abort() of the harness's own checks fails the check and
# leaves its input as build/tests/fuzz/crash-* (or leak-*, timeout-*).
# New inputs are kept under the build directory: the tree is not changed.
# MOAT_FUZZ_TIME: seconds per harness (4 under make check, FUZZ_TIME=60 by
# `make fuzz`).

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(dirname "${MOAT:-$SRC/build/moat}")/tests/fuzz
TIME=${MOAT_FUZZ_TIME:-4}
CC=${FUZZ_CC:-clang}
FLAGS=(-g -O1 -std=gnu17 -D_GNU_SOURCE -I"$SRC" -I"$SRC/common"
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

fuzz_init()
{
	# The harnesses carry their own sanitizers: tests/run.sh's second,
	# sanitized run of make check would only repeat them.
	if [ -n "${MOAT_SANITIZED:-}" ]; then
		skip "$1" "the harnesses are sanitized already; they run in the plain build"
		done_testing
	fi
	mkdir -p "$OUT" || bail_out "cannot make $OUT"
	if ! have "$CC" || ! "$CC" "${FLAGS[@]}" -o "$OUT/probe" -x c - >/dev/null 2>&1 <<'EOF2'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
EOF2
	then
		skip "$1" "no clang with libFuzzer here"
		done_testing
	fi
}

# fuzz_build NAME SRCS...: build fuzz_NAME (SRCS: paths under the source
# tree, or -lLIB); its errors go to $OUT/fuzz_NAME.build. Scripts start
# their builds in the background together (2 CPUs build two at once).
fuzz_build()
{
	local name=$1 src srcs=() libs=()
	shift
	for src in "$@"; do
		case $src in
		-l*) libs+=("$src") ;;
		*) srcs+=("$SRC/$src") ;;
		esac
	done
	rm -f "$OUT/fuzz_$name"
	"$CC" "${FLAGS[@]}" "$SRC/tests/fuzz/fuzz_$name.c" "${srcs[@]}" -o "$OUT/fuzz_$name" \
		"${libs[@]}" >"$OUT/fuzz_$name.build" 2>&1
}

# fuzz NAME CORPUS: run the built fuzz_NAME for $TIME seconds.
fuzz()
{
	local name=$1 corpus=$2 dict=()
	if [ ! -x "$OUT/fuzz_$name" ]; then
		cat "$OUT/fuzz_$name.build" >&2
		return 1
	fi
	[ -f "$SRC/tests/fuzz/$name.dict" ] && dict=(-dict="$SRC/tests/fuzz/$name.dict")
	rm -rf "$OUT/corpus-$name"
	mkdir -p "$OUT/corpus-$name"
	cp "$SRC/tests/fuzz/corpus/$corpus"/* "$OUT/corpus-$name/" || return 1
	(cd "$OUT" && ./"fuzz_$name" -max_total_time="$TIME" -timeout=5 -rss_limit_mb=1024 \
		-print_final_stats=1 "${dict[@]}" -artifact_prefix="$OUT/" "$OUT/corpus-$name") \
		>"$OUT/fuzz_$name.log" 2>&1
	local rc=$?
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^Done|ERROR|SUMMARY' \
		"$OUT/fuzz_$name.log" >&2
	[ "$rc" = 0 ] || tail -n 30 "$OUT/fuzz_$name.log" >&2
	return $rc
}
