#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/run.sh - set up, build and run all of moat's tests (make check) in
# build/. Safe to run again. Ends with exactly one line:
#   N passed, N failed, N skipped
# and exits non-zero if anything failed (or the build did).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
build=${MOAT_BUILD_DIR:-build}
start=$(date +%s)

summary()
{
	local pass=0 fail=0 skip=0 r
	if [ -d "$build" ]; then
		while read -r r; do
			case $r in
			PASS | XFAIL) pass=$((pass + 1)) ;;
			SKIP) skip=$((skip + 1)) ;;
			*) fail=$((fail + 1)) ;;
			esac
		done < <(find "$build" -name '*.trs' -exec sed -n 's/^:test-result: *//p' {} +)
	fi
	[ "$fail" = 0 ] && [ "$1" != 0 ] && fail=1 # the build or make check broke
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
}

if ! scripts/setup.sh --test; then
	echo "tests/run.sh: setup or build failed" >&2
	summary 1
	exit 1
fi

find "$build" -name '*.trs' -delete
make -C "$build" -j"$(nproc)" check
rc=$?
if [ "$rc" != 0 ] && [ -f "$build/test-suite.log" ]; then
	echo "---- $build/test-suite.log (failures) ----"
	cat "$build/test-suite.log"
	echo "----"
fi
echo "tests/run.sh: $(($(date +%s) - start)) s"
summary "$rc"
