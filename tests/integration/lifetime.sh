#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: task lifetimes. A handler that waits with the sentry lock
# dropped (here a gofer walk into a directory the sentry has not cached) must
# still find its task, fs state and creds valid when the task has exited
# meanwhile. Meaningful under --enable-asan (tests/run.sh runs it so), where a
# use-after-free aborts the sentry; without sanitizers it checks the sandbox
# survives.
. "$(dirname "$0")/lib.sh"

require_moat

data=$(host_tmpdir) || bail_out "no host tmpdir"
(cd "$data" && for i in $(seq 0 199); do
	mkdir -p "d$i/e0" "d$i/e1" "d$i/e2" "d$i/e3" "d$i/e4" "d$i/e5" "d$i/e6" "d$i/e7" "d$i/e8" "d$i/e9"
	for j in 0 1 2 3 4 5 6 7 8 9; do : >"d$i/e$j/f"; done
done) || bail_out "cannot build the test tree"

# Each round forks a process whose six threads chdir/open into directories
# nobody has walked yet while its main thread calls exit_group (os._exit).
EXIT_RACE='
import os, sys, threading, time
dirs = ["/data/d%d/e%d" % (i, j) for i in range(200) for j in range(10)]
k = 0
for it in range(int(sys.argv[1])):
    mine = dirs[k:k + 48]
    k = (k + 48) % len(dirs)
    pid = os.fork()
    if pid == 0:
        def work(ds, opn):
            for d in ds:
                try:
                    if opn:
                        os.close(os.open(d + "/f", os.O_RDONLY))
                    else:
                        os.chdir(d)
                except OSError:
                    pass
        ts = [threading.Thread(target=work, args=(mine[i::6], i % 2)) for i in range(6)]
        for t in ts:
            t.start()
        time.sleep(0.0005 * (it % 4))
        os._exit(7)
    _, st = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(st) != 7:
        print("round", it, "child status", st)
        sys.exit(1)
print("ok")
'
no_sanitizer_report()
{
	mrun --bind "$data:/data:ro" -- python3 -c "$EXIT_RACE" 80 2>"$T_TMP/lt.err"
	local rc=$?
	cat "$T_TMP/lt.err" >&2
	[ "$rc" = 0 ] || return "$rc"
	! grep -q -e 'Sanitizer' -e 'runtime error:' "$T_TMP/lt.err"
}
check_output "threads in uncached chdir/open while a sibling calls exit_group (80 rounds)" \
	ok no_sanitizer_report

done_testing
