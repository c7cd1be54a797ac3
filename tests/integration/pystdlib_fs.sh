#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: the filesystem modules of the Python standard library's own
# test suite (see pystdlib.sh) again, with the working directory and TMPDIR
# in the overlay root and in a read-write bind, not only in /tmp.
#
# The ptrace platform's pass (tests/run.sh) leaves these out: they exercise
# the VFS, which is the same code on both platforms, and pystdlib.sh runs
# the same modules in /tmp on ptrace too.
. "$(dirname "$0")/lib.sh"

require_moat

if [ "${MOAT_PLATFORM:-}" = ptrace ]; then
	skip "python stdlib filesystem modules in the overlay root and a rw bind" \
		"the VFS is the same on both platforms; run in tests/run.sh's default and sanitizer passes"
	done_testing
fi
. "$(dirname "$0")/pystdlib_lib.sh"
pystdlib_require "$FS_MODULES $FS_MODULES"

for m in $FS_MODULES; do
	MOAT_TIMEOUT=300 check "python stdlib $m in the overlay root (/w)" \
		mrun -- /bin/sh -c 'mkdir /w && cd /w && TMPDIR=/w exec "$@"' sh \
		"$PY" -m test -q "${IGNORE[@]}" "$m"
done

RW=$(host_tmpdir)
chown 4242:4343 "$RW"
for m in $FS_MODULES; do
	MOAT_TIMEOUT=300 check "python stdlib $m in a read-write bind" \
		mrun --bind "$RW:/w:rw" --cwd /w --env TMPDIR=/w -- \
		"$PY" -m test -q "${IGNORE[@]}" "${RW_IGNORE[@]}" "$m"
done
check "nothing of the tests is left in the bind but the test runner's own directories" \
	sh -c "[ -z \"\$(find '$RW' -mindepth 1 -maxdepth 1 ! -name 'test_python_*' -print -quit)\" ]"
done_testing
