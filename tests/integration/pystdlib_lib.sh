# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# tests/integration/pystdlib_lib.sh - what pystdlib.sh and pystdlib_fs.sh
# share: the modules, the cases ignored (see pystdlib.sh's top), and the
# skips. Two scripts, so that make -j runs them side by side.
PY=/usr/bin/python3
MODULES="test_os test_glob test_shutil test_tempfile test_json test_fnmatch test_posixpath
test_stat test_pathlib test_fileio test_tarfile test_zipfile test_threading test_subprocess
test_uuid test_pwd test_grp test_socket test_pty test_signal test_posix test_resource"
IGNORE=(-i '*testSourceAddress*' -i '*test_stress_delivery_simultaneous*'
	-i '*test_stress_modifying_handlers*')
# test_multiprocessing_forkserver's basic classes with processes (88 cases,
# ~13 s; the whole module takes minutes).
MP_CLASSES="Process Pool Queue Connection Lock Semaphore Condition Event Value Array"
MP_MATCH=()
for c in $MP_CLASSES; do
	MP_MATCH+=(-m "*.WithProcessesTest$c.*")
done

# The filesystem modules run again with the working directory and TMPDIR
# in the overlay root and in a read-write bind, not only in /tmp.
FS_MODULES="test_os test_shutil test_tempfile test_pathlib test_glob test_fileio
test_posixpath test_stat test_tarfile test_zipfile"
RW_IGNORE=(-i '*test_chown_with_root*' -i '*test_extract_directory*' -i '*test_extract_pathlike_name*'
	-i '*test_extractall*')

# pystdlib_require "MODULE...": the skips, one per module the script
# would run, when the suite is not installed; and the whole script is left
# out of the pass with the kernel fallbacks forced (tests/run.sh): it takes
# minutes, and every other integration test exercises the fallbacks; the
# default, ptrace and sanitizer passes run it.
pystdlib_require()
{
	local m
	if [ -n "${MOAT_TEST_FORCE_FALLBACK:-}" ]; then
		skip "python stdlib modules" "run in tests/run.sh's default, ptrace and sanitizer passes"
		done_testing
	fi
	if [ ! -f /usr/lib/python3.11/test/test_os.py ]; then
		for m in $1; do
			skip "python stdlib $m" "libpython3.11-testsuite is not installed"
		done
		done_testing
	fi
}
