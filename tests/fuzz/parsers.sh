#!/bin/bash
# SPDX-License-Identifier: MIT
# Fuzzers of the sentry's parsers of what the guest controls (issue 9),
# built and run by tests/fuzz/lib.sh for MOAT_FUZZ_TIME seconds each:
#  - fuzz_namei.c: the path walk over tmpfs, a mount and an overlay, with
#    the guest's paths and symlink targets (stays under its root, ends,
#    keeps no reference, RESOLVE_* rules);
#  - fuzz_exec_probe.c: the ELF header, PT_INTERP and the "#!" line;
#  - fuzz_procfs.c: the host's sched and stat texts carrying the guest's
#    comm, rewritten by procfs (no host pid shows).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

fuzz_init "sentry parser fuzzers"

VFS=(sentry/vfs/namei.c sentry/vfs/vfs.c sentry/vfs/dcache.c sentry/fs/tmpfs.c
	sentry/fs/tmpstore.c sentry/fs/overlay.c platform/kfeatures.c common/util.c common/log.c
	tests/fuzz/vfs_stubs.c -lxxhash)
fuzz_build namei "${VFS[@]}" &
fuzz_build exec_probe sentry/kernel/elf.c &
fuzz_build procfs sentry/fs/procfs/rewrite.c common/util.c common/log.c &
wait
check "the path walk survives ${TIME}s of libFuzzer (never outside its root, no reference kept)" \
	fuzz namei namei
check "the ELF and #! probe survives ${TIME}s of libFuzzer" fuzz exec_probe exec_probe
check "procfs's rewrite of sched and stat survives ${TIME}s of libFuzzer (no host pid shows)" \
	fuzz procfs procfs

done_testing
