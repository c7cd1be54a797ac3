#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/run.sh - set up, build and run all of moat's tests (make check) in
# build/, then the integration suite once more with the fallbacks for older
# kernels forced (MOAT_TEST_FORCE_FALLBACK=all, README "Kernel support"),
# once more on the ptrace platform (MOAT_PLATFORM=ptrace, `make
# check-ptrace`; MOAT_PTRACE=0 skips it), then make check again in a second tree built with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/, or $MOAT_SAN_BUILD_DIR;
# MOAT_SANITIZERS=0 skips it). Safe to run again. Ends with exactly one line,
# summing every run:
#   N passed, N failed, N skipped
# and exits non-zero if anything failed (or the build did).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
build=${MOAT_BUILD_DIR:-build}
san_build=${MOAT_SAN_BUILD_DIR:-build-asan}
start=$(date +%s)
passed=0 failed=0 skipped=0

# tally DIR RC: add the results of DIR's last make check to the totals; a
# make that failed without a failed test counts as one failure.
tally()
{
	local dir=$1 rc=$2 r fail=0
	if [ -d "$dir" ]; then
		while read -r r; do
			case $r in
			PASS | XFAIL) passed=$((passed + 1)) ;;
			SKIP) skipped=$((skipped + 1)) ;;
			*) fail=$((fail + 1)) ;;
			esac
		done < <(find "$dir" -name '*.trs' -exec sed -n 's/^:test-result: *//p' {} +)
	fi
	[ "$fail" = 0 ] && [ "$rc" != 0 ] && fail=1
	failed=$((failed + fail))
}

# run_check LABEL DIR [VAR=VALUE...] [-- MAKE-TARGETS...]: make check (or
# the targets given) in the configured build directory DIR with VAR=VALUE in
# the tests' environment; its results count in the summary.
run_check()
{
	local label=$1 dir=$2 rc
	shift 2
	local vars=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] || set -- check
	echo "tests/run.sh: $label (at $(($(date +%s) - start)) s)"
	find "$dir" -name '*.trs' -delete
	touch "$dir/.run-check-start"
	env ${vars[@]+"${vars[@]}"} make -C "$dir" -j"$(nproc)" "$@"
	rc=$?
	if [ "$rc" != 0 ] && [ -f "$dir/test-suite.log" ]; then
		echo "---- $dir/test-suite.log, $label (failures) ----"
		cat "$dir/test-suite.log"
		echo "----"
	fi
	tally "$dir" "$rc"
	slowest "$dir"
}

# slowest DIR: the ten scripts of DIR's last make check that took longest
# (lib.sh's done_testing prints "# took N s"), to keep CI's time in view.
slowest()
{
	echo "tests/run.sh: slowest scripts:"
	find "$1" -name '*.log' -newer "$1/.run-check-start" ! -name test-suite.log -exec grep -H '^# took [0-9]* s$' {} + 2>/dev/null |
		sed 's|^\(.*\)\.log:# took \([0-9]*\) s$|\2 \1|' | sort -rn | head -n 10 |
		while read -r t f; do printf '  %5d s  %s\n' "$t" "${f#"$1"/}"; done
}

summary()
{
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
}

# The tests' scratch files (their trees, read-write binds, the Python
# suite's files in them, git and tar workloads) on a tmpfs of this run's
# own: on a virtual disk, tasks of the suite were stalled on I/O 80% of the
# time (/proc/pressure/io), mostly the fsyncs those workloads make. Root
# only (a mount); MOAT_TEST_TMPDIR=keep leaves TMPDIR as it is.
if [ "${MOAT_TEST_TMPDIR:-}" != keep ] && [ "$(id -u)" = 0 ] &&
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/moat-run.XXXXXX") &&
	mount -t tmpfs -o size=50%,mode=1777 moat-tests "$scratch"; then
	export TMPDIR=$scratch
	trap 'umount -l "$scratch" && rmdir "$scratch"' EXIT
fi

if ! scripts/setup.sh --test; then
	echo "tests/run.sh: setup or build failed" >&2
	failed=$((failed + 1))
	summary
	exit 1
fi

run_check "all tests" "$build"
run_check "integration tests, kernel fallbacks forced" "$build" \
	MOAT_TEST_FORCE_FALLBACK=all -- check-integration
if [ "${MOAT_PTRACE:-1}" = 1 ]; then
	run_check "integration tests, ptrace platform" "$build" MOAT_PLATFORM=ptrace -- check-integration
fi

# The same suite with sanitizers: any report aborts the process it is in
# (the sentry, the gofer or the sandbox's pid 1), which fails the test.
# Leak checking is off: moat's processes end holding their process-lifetime
# state (the configuration, the mount table, the dentry cache) by design,
# and LeakSanitizer would report all of it at every exit.
if [ "${MOAT_SANITIZERS:-1}" = 1 ]; then
	top=$(pwd)
	if mkdir -p "$san_build" && (cd "$san_build" && { [ -f Makefile ] ||
		"$top/configure" -q --enable-asan --enable-ubsan; } &&
		make -s -j"$(nproc)"); then
		run_check "all tests, AddressSanitizer and UndefinedBehaviorSanitizer" "$san_build" \
			ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=0 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 MOAT_SANITIZED=1
	else
		echo "tests/run.sh: the sanitizer build failed" >&2
		failed=$((failed + 1))
	fi
fi
echo "tests/run.sh: $(($(date +%s) - start)) s"
summary
