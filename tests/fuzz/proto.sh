#!/bin/bash
# SPDX-License-Identifier: MIT
# The gofer protocol fuzzers (issue 9): libFuzzer harnesses for the gofer's
# decoder of requests (fuzz_gofer_req.c) and the sentry's checks of replies
# (fuzz_gofer_reply.c), built and run by tests/fuzz/lib.sh for
# MOAT_FUZZ_TIME seconds each (4 under make check) from the seed corpus in tests/fuzz/corpus.
# `tests/fuzz/proto.sh --seeds` rewrites the seed corpus with mkseeds.c.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

fuzz_init "gofer protocol fuzzers"

if [ "${1:-}" = --seeds ]; then
	"$CC" -std=gnu17 -D_GNU_SOURCE -I"$SRC" "$SRC/tests/fuzz/mkseeds.c" "$SRC/gofer/proto.c" \
		-o "$OUT/mkseeds" && rm -rf "$SRC/tests/fuzz/corpus/req" "$SRC/tests/fuzz/corpus/reply" &&
		"$OUT/mkseeds" "$SRC/tests/fuzz/corpus"
	exit
fi

fuzz_build gofer_req gofer/proto.c &
fuzz_build gofer_reply gofer/proto.c &
wait
check "the gofer's request decoder survives ${TIME}s of libFuzzer (round trips through the encoder)" \
	fuzz gofer_req req
check "the sentry's reply checks survive ${TIME}s of libFuzzer" fuzz gofer_reply reply

done_testing
