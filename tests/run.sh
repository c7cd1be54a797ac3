#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/run.sh - set up, build and run all of moat's tests (make check) in
# build/, then again in a second tree built with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/, or $MOAT_SAN_BUILD_DIR;
# MOAT_SANITIZERS=0 skips it). Safe to run again. Ends with exactly one line
# counting both runs:
#   N passed, N failed, N skipped
# and exits non-zero if anything failed (or a build did).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
build=${MOAT_BUILD_DIR:-build}
san_build=${MOAT_SAN_BUILD_DIR:-build-asan}
sanitizers=${MOAT_SANITIZERS:-1}
start=$(date +%s)

summary()
{
	local pass=0 fail=0 skip=0 r dirs=()
	[ -d "$build" ] && dirs+=("$build")
	[ "$sanitizers" = 1 ] && [ -d "$san_build" ] && dirs+=("$san_build")
	if [ "${#dirs[@]}" -gt 0 ]; then
		while read -r r; do
			case $r in
			PASS | XFAIL) pass=$((pass + 1)) ;;
			SKIP) skip=$((skip + 1)) ;;
			*) fail=$((fail + 1)) ;;
			esac
		done < <(find "${dirs[@]}" -name '*.trs' -exec sed -n 's/^:test-result: *//p' {} +)
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

# check DIR: make check in DIR; prints the failures' log.
check()
{
	find "$1" -name '*.trs' -delete
	make -C "$1" -j"$(nproc)" check
	local r=$?
	if [ "$r" != 0 ] && [ -f "$1/test-suite.log" ]; then
		echo "---- $1/test-suite.log (failures) ----"
		cat "$1/test-suite.log"
		echo "----"
	fi
	return "$r"
}

check "$build"
rc=$?

# The same suite with sanitizers: any report aborts the process it is in
# (the sentry, the gofer or the sandbox's pid 1), which fails the test.
# Leak checking is off: moat's processes end holding their process-lifetime
# state (the configuration, the mount table, the dentry cache) by design,
# and LeakSanitizer would report all of it at every exit.
if [ "$sanitizers" = 1 ]; then
	export ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=0
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	top=$(pwd)
	if mkdir -p "$san_build" && (cd "$san_build" && { [ -f Makefile ] ||
		"$top/configure" -q --enable-asan --enable-ubsan; } &&
		make -s -j"$(nproc)"); then
		check "$san_build" || rc=1
	else
		echo "tests/run.sh: the sanitizer build failed" >&2
		rc=1
	fi
fi
echo "tests/run.sh: $(($(date +%s) - start)) s"
summary "$rc"
