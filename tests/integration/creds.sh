#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: credentials follow the task that made a new task, not the
# process its PPid names, and each thread keeps its own (raw set*id syscalls
# change the calling thread only, as in Linux).
. "$(dirname "$0")/lib.sh"

require_moat

PRELUDE='
import ctypes, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
# clone keeps the GIL (PyDLL): a child must not wait for a GIL that another
# thread of its parent held
pylibc = ctypes.PyDLL(None, use_errno=True)
SYS_clone, SYS_setresuid, SYS_getuid = 56, 117, 102
CLONE_PARENT, CLONE_UNTRACED, SIGCHLD = 0x8000, 0x00800000, 17
def setresuid_thread(u):
    # the raw syscall: this thread only (glibc would change every thread)
    if libc.syscall(SYS_setresuid, u, u, u) != 0:
        raise OSError(ctypes.get_errno(), "setresuid")
def raw_fork(flags):
    pid = pylibc.syscall(SYS_clone, flags, 0, 0, 0, 0)
    if pid < 0:
        raise OSError(ctypes.get_errno(), "clone")
    return pid
'

# A process drops to uid 1000 and clones with CLONE_PARENT: the child is its
# sibling (the root shell is its parent) but has the dropped creds.
CLONE_PARENT_PY=$PRELUDE'
r, w = os.pipe()
mid = os.fork()
if mid == 0:
    setresuid_thread(1000)
    if raw_fork(CLONE_PARENT | SIGCHLD) == 0:
        os.write(w, b"%d %d\n" % (os.getuid(), os.geteuid()))
        os._exit(0)
    os._exit(0)
os.close(w)
os.waitpid(mid, 0)
out = os.read(r, 100).decode().strip()
os.wait()  # the CLONE_PARENT child is ours
print(out)
'
check_output "setresuid(1000) then clone(CLONE_PARENT): the child is uid 1000" \
	"1000 1000" mrun -- python3 -c "$CLONE_PARENT_PY"

# Threads with different creds fork at the same time, over and over: every
# child has the creds of the thread that forked it.
CONCURRENT_PY=$PRELUDE'
N, ROUNDS = 8, 12
bad = []
started = threading.Barrier(N)
def worker(i):
    os.getuid()     # seen by the sentry while still root,
    started.wait()  # and all threads so, before any drops its creds
    try:
        setresuid_thread(1000 + i)
    except OSError as e:
        bad.append((i, str(e)))
        return
    for _ in range(ROUNDS):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(w, b"%d" % os.getuid())
            os._exit(0)
        os.close(w)
        got = int(os.read(r, 32) or b"-1")
        os.close(r)
        os.waitpid(pid, 0)
        if got != 1000 + i:
            bad.append((i, got))
ts = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("bad", sorted(set(bad)))
'
check_output "8 threads with different uids fork concurrently: each child has its creator's uid" \
	"bad []" mrun -- python3 -c "$CONCURRENT_PY"

# A new thread has the creds of the thread that created it, not a sibling's.
THREAD_PY=$PRELUDE'
got = []
def inner():
    got.append(os.getuid())
def outer(u, dropped, go):
    setresuid_thread(u)
    dropped.set()
    go.wait()
    t = threading.Thread(target=inner)
    t.start()
    t.join()
for u in (1000, 2000, 3000):
    dropped, go = threading.Event(), threading.Event()
    t = threading.Thread(target=outer, args=(u, dropped, go))
    t.start()
    dropped.wait()
    # a root thread the sentry meets after the outer one dropped its creds,
    # alive while the outer one creates its thread
    seen, done = threading.Event(), threading.Event()
    d = threading.Thread(target=lambda: (got.append(os.getuid()), seen.set(), done.wait()))
    d.start()
    seen.wait()
    go.set()
    t.join()
    done.set()
    d.join()
print(got, os.getuid())
'
check_output "a thread made by a uid 1000 thread is uid 1000; one made by root meanwhile is root" \
	"[0, 1000, 0, 2000, 0, 3000] 0" mrun -- python3 -c "$THREAD_PY"

# exec from a thread that is not the leader completes on the leader's tid,
# with the exec-ing thread's creds.
EXEC_PY=$PRELUDE'
def run():
    setresuid_thread(1000)
    os.execv("/usr/bin/id", ["id", "-u"])
t = threading.Thread(target=run)
t.start()
t.join()
'
check_output "a uid 1000 thread that is not the leader execs id -u: 1000" \
	1000 mrun -- python3 -c "$EXEC_PY"

done_testing
