#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: kernel support (README "Kernel support"). This machine's
# kernel is newer than the oldest moat supports, so the fallbacks of older
# kernels are forced with MOAT_TEST_FORCE_FALLBACK (read only by tests):
# real programs must still run, and forcing off a feature moat cannot do
# without must refuse with one line and exit 125.
. "$(dirname "$0")/lib.sh"

require_moat

# Features without a safe fallback (platform/kfeatures.c).
REQUIRED="pidfd pidfd_getfd openat2 close_range mount_setattr"
# Required by the seccomp-unotify platform only: without them moat runs on
# the ptrace platform, saying so in one line, and --platform=seccomp refuses.
NOTIFY="seccomp_listener wait_killable_recv addfd_send"
FALLBACKS="pidfd_thread sync_wake_up memfd_noexec_seal io_uring io_uring_defer_taskrun"

refuses()
{
	local out rc
	out=$(MOAT_TEST_FORCE_FALLBACK=$1 mrun $2 -- /bin/echo ran 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 125 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
		printf '%s\n' "$out" | grep -Eqx 'moat: this kernel lacks [A-Za-z0-9_ ]+ \(Linux [0-9]+\.[0-9]+ or newer needed\)'
}
for f in $REQUIRED; do
	check "without $f: one line naming it, exit 125" refuses "$f"
done
falls_back()
{
	local out
	out=$(env -u MOAT_PLATFORM MOAT_TEST_FORCE_FALLBACK=$1 "$MOAT" run -- /bin/sh -c \
		'echo ran; cat /proc/self/status' 2>&1 </dev/null) || return 1
	printf '%s\n' "$out" | head -3
	[ "$(printf '%s\n' "$out" | sed -n 1p)" = "moat: no usable seccomp user notification on this kernel: using the ptrace platform" ] &&
		[ "$(printf '%s\n' "$out" | sed -n 2p)" = ran ]
}
# From outside: the guest's process is traced by the sentry.
traced_from_outside()
{
	local pid t tag=3.$$
	env -u MOAT_PLATFORM MOAT_TEST_FORCE_FALLBACK=$1 timeout 20 "$MOAT" run -- /bin/sleep "$tag" \
		</dev/null >/dev/null 2>&1 &
	local moat=$!
	for _ in $(seq 50); do
		pid=$(pgrep -n -x -f "/bin/sleep $tag")
		[ -n "$pid" ] && break
		sleep 0.1
	done
	t=$(sed -n 's/^TracerPid:[[:space:]]*//p' /proc/"$pid"/status 2>/dev/null)
	kill "$moat" 2>/dev/null
	wait "$moat" 2>/dev/null
	echo "sleep $pid traced by ${t:-?}"
	[ -n "$t" ] && [ "$t" != 0 ]
}
for f in $NOTIFY; do
	check "without $f: moat says it uses the ptrace platform, and runs" falls_back "$f"
	check "without $f: --platform=seccomp refuses in one line naming it, exit 125" \
		refuses "$f" --platform=seccomp
done
check "without seccomp_listener: the guest runs traced by the sentry (seen from outside)" \
	traced_from_outside seccomp_listener
check_status "--platform=bogus is a usage error" 2 "$MOAT" run --platform=bogus -- /bin/true
check_status "MOAT_PLATFORM=bogus is refused" 125 env MOAT_PLATFORM=bogus "$MOAT" run -- /bin/true
check_status "an unknown name in MOAT_TEST_FORCE_FALLBACK is refused" 125 \
	env MOAT_TEST_FORCE_FALLBACK=no_such_feature "$MOAT" run -- /bin/true

# Threads that exit while their process lives, many threads at once,
# directory listings and /proc/self/fd re-opens from non-leader threads,
# processes that exit. Started by start_guest (argv[1] is its tag, not
# "x") it then says "ready" and stays up for a look from outside.
WORK='
import os, sys, tempfile, threading, time
base = tempfile.mkdtemp(dir="/tmp")
def work(i):
    d = os.path.join(base, "d%d" % i)
    os.mkdir(d)
    for j in range(3):
        open(os.path.join(d, "f%d" % j), "w").close()
    assert sorted(os.listdir(d)) == ["f0", "f1", "f2"]
    r, w = os.pipe()
    with open("/proc/self/fd/%d" % w, "w") as f:
        f.write("x%d" % i)
    os.close(w)
    assert os.read(r, 16) == b"x%d" % i
    os.close(r)
for i in range(60):
    t = threading.Thread(target=work, args=(i,))
    t.start()
    t.join()
ts = [threading.Thread(target=work, args=(100 + i,)) for i in range(24)]
for t in ts: t.start()
for t in ts: t.join()
for i in range(40):
    pid = os.fork()
    if pid == 0:
        os.listdir("/usr")
        os._exit(i % 7)
    assert os.waitpid(pid, 0)[1] >> 8 == i % 7
print("ok", len(os.listdir(base)))
sys.stdout.flush()
if sys.argv[1] != "x":
    print("ready", flush=True)
    time.sleep(30)
'
for f in $FALLBACKS all; do
	check_output "with $f forced: threads and processes come and go" "ok 84" \
		env MOAT_TEST_FORCE_FALLBACK="$f" "$MOAT" run -- python3 -c "$WORK" x
done

check_output "with all forced: exec from a non-leader thread" "exec-from-thread" \
	env MOAT_TEST_FORCE_FALLBACK=all "$MOAT" run -- python3 -c '
import os, threading, time
def go():
    os.execv("/bin/echo", ["echo", "exec-from-thread"])
threading.Thread(target=go).start()
time.sleep(30)'

# A thread outlives its main thread: it keeps working; without
# PIDFD_THREAD its directory listings are out of reach (EIO, README), never
# another error or another file.
# On the ptrace platform a new fd reaches a process through a pidfd of the
# calling thread (platform/ptrace_fd.c); without PIDFD_THREAD only its
# process's, whose files are out of reach once the leader has exited.
if [ "${MOAT_PLATFORM:-seccomp}" = ptrace ]; then
	skip "with pidfd_thread forced: a thread outliving its main thread" \
		"ptrace platform: no fd can be installed in a process whose leader exited without PIDFD_THREAD (docs/architecture.md, Platforms)"
else
check_output "with pidfd_thread forced: a thread outliving its main thread" "moat listdir ok" \
	env MOAT_TEST_FORCE_FALLBACK=pidfd_thread "$MOAT" run -- python3 -c '
import ctypes, errno, os, threading, time
def t():
    time.sleep(0.3)
    with open("/etc/hostname") as f:
        name = f.read().strip()
    try:
        ok = "bin" in os.listdir("/usr")
    except OSError as e:
        ok = e.errno == errno.EIO
    print(name, "listdir", "ok" if ok else "wrong", flush=True)
    os._exit(0)
threading.Thread(target=t).start()
ctypes.CDLL(None).syscall(60, 0)  # exit the main thread only'
fi

# From outside, once the guest above has run and sits idle: the sentry
# holds pidfds of processes only (like Linux 6.1, no PIDFD_THREAD), and
# those of the processes and threads that exited are closed.
sentry_pidfds()
{
	local sentry fd flags n=0 bad=0
	sentry=$(pgrep -P "$MOAT_PID" -x moat | head -n 1)
	[ -n "$sentry" ] || { echo "no sentry under $MOAT_PID"; return 1; }
	for fd in /proc/"$sentry"/fd/*; do
		case $(readlink "$fd") in *pidfd*) ;; *) continue ;; esac
		n=$((n + 1))
		# PIDFD_THREAD is O_EXCL (0200) in the file's flags.
		flags=$(sed -n 's/^flags:[[:space:]]*//p' /proc/"$sentry"/fdinfo/"${fd##*/}")
		((8#$flags & 8#200)) && bad=$((bad + 1))
	done
	echo "$n pidfds, $bad of threads"
	[ "$bad" = 0 ] && [ "$n" -le 8 ]
}
MOAT_TEST_FORCE_FALLBACK=pidfd_thread
export MOAT_TEST_FORCE_FALLBACK
if start_guest "kernel-idle-$$" "$WORK"; then
	check "without PIDFD_THREAD the sentry watches processes, and closes exited ones" sentry_pidfds
	kill "$MOAT_PID" 2>/dev/null
	wait "$MOAT_PID" 2>/dev/null
else
	not_ok "without PIDFD_THREAD the sentry watches processes, and closes exited ones"
fi
unset MOAT_TEST_FORCE_FALLBACK

done_testing
