#!/bin/bash
# SPDX-License-Identifier: MIT
# The gofer protocol fuzzers (issue 9): libFuzzer harnesses for the gofer's
# decoder of requests (fuzz_gofer_req.c) and the sentry's checks of replies
# (fuzz_gofer_reply.c), built here with clang (AddressSanitizer and UBSan)
# and run for MOAT_FUZZ_TIME seconds each (10 under make check, 60 by `make
# fuzz`) from the seed corpus in tests/fuzz/corpus (copied: the tree is not
# changed; new inputs are kept under the build directory). Skips when clang
# cannot link libFuzzer (Debian: clang and libclang-rt-14-dev). A crash
# leaves its input as build/tests/fuzz/crash-* and fails the test.
# `tests/fuzz/proto.sh --seeds` rewrites the seed corpus with mkseeds.c.
. "$(dirname "$0")/../integration/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(dirname "${MOAT:-$SRC/build/moat}")/tests/fuzz
TIME=${MOAT_FUZZ_TIME:-10}
CC=${FUZZ_CC:-clang}
FLAGS=(-g -O1 -std=gnu17 -D_GNU_SOURCE -I"$SRC" -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined)

mkdir -p "$OUT" || bail_out "cannot make $OUT"
if ! have "$CC" || ! "$CC" "${FLAGS[@]}" -o "$OUT/probe" -x c - >/dev/null 2>&1 <<'EOF2'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
EOF2
then
	skip "gofer protocol fuzzers" "no clang with libFuzzer here"
	done_testing
fi

if [ "${1:-}" = --seeds ]; then
	"$CC" -std=gnu17 -D_GNU_SOURCE -I"$SRC" "$SRC/tests/fuzz/mkseeds.c" "$SRC/gofer/proto.c" \
		-o "$OUT/mkseeds" && rm -rf "$SRC/tests/fuzz/corpus" && "$OUT/mkseeds" "$SRC/tests/fuzz/corpus"
	exit
fi

# fuzz NAME: build fuzz_NAME and run it for $TIME seconds.
fuzz()
{
	local name=$1 corpus
	"$CC" "${FLAGS[@]}" "$SRC/tests/fuzz/fuzz_$name.c" "$SRC/gofer/proto.c" -o "$OUT/fuzz_$name" ||
		return 1
	corpus=$OUT/corpus-$name
	mkdir -p "$corpus"
	cp "$SRC/tests/fuzz/corpus/${name#gofer_}"/* "$corpus/" || return 1
	(cd "$OUT" && ./"fuzz_$name" -max_total_time="$TIME" -timeout=5 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$OUT/" "$corpus") >"$OUT/fuzz_$name.log" 2>&1
	local rc=$?
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^Done|ERROR|SUMMARY' \
		"$OUT/fuzz_$name.log" >&2
	[ "$rc" = 0 ] || tail -n 30 "$OUT/fuzz_$name.log" >&2
	return $rc
}

check "the gofer's request decoder survives ${TIME}s of libFuzzer (round trips through the encoder)" \
	fuzz gofer_req
check "the sentry's reply checks survive ${TIME}s of libFuzzer" fuzz gofer_reply

done_testing
