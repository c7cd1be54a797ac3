#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: file locks (issue 6). No lock a guest takes (flock, POSIX or
# OFD record lock) may reach a host file's inode: a host process must still
# get a conflicting lock on the file. Among guest processes the locks keep
# Linux's semantics (sentry/kernel/flock.c).
. "$(dirname "$0")/lib.sh"

require_moat

HD=$(host_tmpdir) || bail_out "no host temp dir"
echo data >"$HD/f"
echo data >"$HD/g"
chmod -R a+rwX "$HD"

# ---- from the host: nothing reaches the host's inode -----------------------

# The host process tries an exclusive flock and a POSIX and an OFD write
# lock on the file, non-blocking: all must succeed while the guest holds
# its lock.
HOST_TRY='
import fcntl, os, struct, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDONLY if os.path.isdir(path) else os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
fcntl.flock(fd, fcntl.LOCK_UN)
if os.path.isdir(path):
    print("host locked")
    sys.exit(0)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
fcntl.lockf(fd, fcntl.LOCK_UN)
F_OFD_SETLK = 37
fcntl.fcntl(fd, F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
fcntl.fcntl(fd, F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_UNLCK, 0, 0, 0, 0))
print("host locked")
'

# GUEST_HOLD KIND: take a lock of KIND on /mnt/f, say "ready", wait for
# /mnt/stop's removal by sleeping until killed.
GUEST_HOLD='
import fcntl, os, struct, sys, time
kind = sys.argv[1]
fd = os.open({"dir": "/mnt", "devnull": "/dev/null"}.get(kind, "/mnt/f"), os.O_RDONLY)
if kind in ("flock", "dir", "devnull"):
    fcntl.flock(fd, fcntl.LOCK_EX)
elif kind == "posix":
    fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0))
elif kind == "ofd":
    fcntl.fcntl(fd, 37, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0))
print("ready", flush=True)
time.sleep(60)
'

host_vs_guest()
{
	local kind=$1
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run --bind "$HD:/mnt" -- \
		python3 -c "$GUEST_HOLD" "$kind" >"$T_TMP/hold.out" 2>&1 </dev/null &
	local m=$!
	if ! wait_for_file "$T_TMP/hold.out" ready; then
		kill "$m" 2>/dev/null
		cat "$T_TMP/hold.out"
		return 1
	fi
	python3 -c "$HOST_TRY" "$2"
	local rc=$?
	kill "$m" 2>/dev/null
	wait "$m" 2>/dev/null
	return "$rc"
}
for k in flock posix ofd; do
	check "a guest's $k lock on a host file does not reach the host" host_vs_guest "$k" "$HD/f"
done
check "a guest's flock on a host directory does not reach the host" host_vs_guest dir "$HD"
check "a guest's flock on /dev/null does not reach the host's" host_vs_guest devnull /dev/null

# A sibling thread dup2()s a host file onto the fd number being locked
# (otherwise a /tmp file) while the guest locks it in a loop; a host
# process tries a conflicting lock all along and must never be refused.
RACE='
import fcntl, os, struct, threading, time
host = os.open("/mnt/g", os.O_RDONLY)
tmp = os.open("/tmp/x", os.O_RDWR | os.O_CREAT)
n = os.dup(tmp)
stop = time.time() + 3
def swap():
    while time.time() < stop:
        os.dup2(host, n)
        os.dup2(tmp, n)
t = threading.Thread(target=swap)
t.start()
print("ready", flush=True)
ops = 0
while time.time() < stop:
    for cmd in (fcntl.F_SETLK, 37):
        try:
            fcntl.fcntl(n, cmd, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0))
            fcntl.fcntl(n, cmd, struct.pack("hhqqi", fcntl.F_UNLCK, 0, 0, 0, 0))
        except OSError:
            pass
    try:
        fcntl.flock(n, fcntl.LOCK_SH)
        fcntl.flock(n, fcntl.LOCK_UN)
    except OSError:
        pass
    ops += 1
t.join()
print("done", ops, flush=True)
'
HOST_LOOP='
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
tries = 0
while not os.path.exists(sys.argv[2]):
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(fd, fcntl.LOCK_UN)
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.lockf(fd, fcntl.LOCK_UN)
    tries += 1
print("host tries", tries)
'
dup2_race()
{
	rm -f "$T_TMP/race.done"
	python3 -c "$HOST_LOOP" "$HD/g" "$T_TMP/race.done" >"$T_TMP/hostloop.out" 2>&1 &
	local h=$!
	mrun --bind "$HD:/mnt" -- python3 -c "$RACE"
	local rc=$?
	touch "$T_TMP/race.done"
	wait "$h"
	local hrc=$?
	cat "$T_TMP/hostloop.out"
	[ "$rc" = 0 ] && [ "$hrc" = 0 ]
}
check "dup2 races never put a guest lock on a host file" dup2_race

# ---- among guest processes ---------------------------------------------------

# Two guest processes contend on a host file (/mnt/f, read-only bind:
# read locks and flock) and on a /tmp file (tmpfs: all kinds).
CONTEND='
import errno, fcntl, os, struct, sys, time
def lk(t, s=0, l=0, w=0):
    return struct.pack("hhqqi", t, w, s, l, 0)
def fl_pid(fd, t, cmd=fcntl.F_GETLK, s=0, l=0):
    r = fcntl.fcntl(fd, cmd, lk(t, s, l))
    typ, wh, st, ln, pid = struct.unpack("hhqqi", r)
    return typ, st, ln, pid
out = []
for path, mode in (("/mnt/f", os.O_RDONLY), ("/tmp/f", os.O_RDWR | os.O_CREAT)):
    a = os.open(path, mode)
    # flock: exclusive vs shared, LOCK_NB
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        b = os.open(path, mode)
        fcntl.flock(b, fcntl.LOCK_EX)
        os.write(w, b"x")
        time.sleep(0.3)
        os._exit(0)  # the exit releases it
    os.read(r, 1)
    try:
        fcntl.flock(a, fcntl.LOCK_SH | fcntl.LOCK_NB)
        out.append("flock NB got it")
    except OSError as e:
        out.append("flock NB " + errno.errorcode[e.errno])
    t0 = time.time()
    fcntl.flock(a, fcntl.LOCK_SH)  # blocks until the child exits
    out.append("flock waited")
    os.waitpid(pid, 0)
    # shared + shared
    pid = os.fork()
    if pid == 0:
        b = os.open(path, mode)
        try:
            fcntl.flock(b, fcntl.LOCK_SH | fcntl.LOCK_NB)
            os._exit(0)
        except OSError:
            os._exit(1)
    out.append("flock shared+shared %d" % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    fcntl.flock(a, fcntl.LOCK_UN)
    # POSIX read lock held by a child: F_GETLK reports its pid; a write
    # lock cannot be had (on /tmp) and the reader waits on unlock
    pid = os.fork()
    if pid == 0:
        b = os.open(path, mode)
        fcntl.fcntl(b, fcntl.F_SETLK, lk(fcntl.F_RDLCK, 10, 5))
        os.write(w, b"x")
        time.sleep(0.5)
        fcntl.fcntl(b, fcntl.F_SETLK, lk(fcntl.F_UNLCK, 10, 5))
        time.sleep(0.5)
        os._exit(0)
    os.read(r, 1)
    typ, st, ln, hp = fl_pid(a, fcntl.F_WRLCK)
    out.append("getlk %s %d %d %s" % ("rd" if typ == fcntl.F_RDLCK else typ, st, ln, hp == pid))
    out.append("getlk outside %s" % (fl_pid(a, fcntl.F_WRLCK, s=15, l=10)[0] == fcntl.F_UNLCK))
    if mode & os.O_RDWR:
        try:
            fcntl.fcntl(a, fcntl.F_SETLK, lk(fcntl.F_WRLCK, 12, 1))
            out.append("setlk got it")
        except OSError as e:
            out.append("setlk " + errno.errorcode[e.errno])
        fcntl.fcntl(a, fcntl.F_SETLKW, lk(fcntl.F_WRLCK, 12, 1))  # waits for the unlock
        out.append("setlkw waited")
        fcntl.fcntl(a, fcntl.F_SETLK, lk(fcntl.F_UNLCK))
    os.waitpid(pid, 0)
    os.close(a)
print("\n".join(out))
'
CONTEND_WANT='flock NB EAGAIN
flock waited
flock shared+shared 0
getlk rd 10 5 True
getlk outside True
flock NB EAGAIN
flock waited
flock shared+shared 0
getlk rd 10 5 True
getlk outside True
setlk EAGAIN
setlkw waited'
check_output "two guest processes contend for flock and fcntl locks (host file, /tmp)" \
	"$CONTEND_WANT" mrun --bind "$HD:/mnt" -- python3 -c "$CONTEND"

# The holder closes its fd (POSIX: any close releases; flock: the last close
# of the description) without unlocking and lives on: a waiter gets it.
CLOSE_WAKE='
import fcntl, os, time
for path in ("/mnt/f", "/tmp/c"):
    for kind in ("flock", "posix"):
        mode = os.O_RDONLY if path == "/mnt/f" else os.O_RDWR | os.O_CREAT
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            b = os.open(path, mode)
            if kind == "flock":
                fcntl.flock(b, fcntl.LOCK_EX)
            else:
                fcntl.lockf(b, fcntl.LOCK_SH)
            os.write(w, b"x")
            time.sleep(0.3)
            os.close(b)
            time.sleep(5)
            os._exit(0)
        os.read(r, 1)
        a = os.open(path, mode)
        if kind == "flock":
            fcntl.flock(a, fcntl.LOCK_EX)
        else:
            fcntl.lockf(a, fcntl.LOCK_EX) if mode & os.O_RDWR else fcntl.lockf(a, fcntl.LOCK_SH)
        print(path, kind, "got it")
        os.close(a)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
'
check_output "a waiter gets the lock when the holder closes its fd and lives on" \
	"/mnt/f flock got it
/mnt/f posix got it
/tmp/c flock got it
/tmp/c posix got it" mrun --bind "$HD:/mnt" -- python3 -c "$CLOSE_WAKE"

# A signal ends a wait for a lock (Linux: EINTR, or a restart with
# SA_RESTART): a handler that raises interrupts the blocked call well before
# the holder lets go; with SA_RESTART the call goes on and gets the lock.
INTR='
import fcntl, os, signal, struct, time
class Alarm(Exception): pass
def boom(s, f): raise Alarm()
out = []
for path, kind in (("/mnt/f", "flock"), ("/tmp/i", "flock"), ("/tmp/i", "posix")):
    mode = os.O_RDONLY if path.startswith("/mnt") else os.O_RDWR | os.O_CREAT
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        b = os.open(path, mode)
        if kind == "flock": fcntl.flock(b, fcntl.LOCK_EX)
        else: fcntl.lockf(b, fcntl.LOCK_EX)
        os.write(w, b"x"); time.sleep(1.5); os._exit(0)
    os.read(r, 1)
    a = os.open(path, mode)
    lock = (lambda: fcntl.flock(a, fcntl.LOCK_EX)) if kind == "flock" else (lambda: fcntl.lockf(a, fcntl.LOCK_EX))
    signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    t = time.time()
    try:
        lock(); out.append("%s %s not interrupted" % (path, kind))
    except Alarm:
        out.append("%s %s interrupted %s" % (path, kind, time.time() - t < 1.2))
    # SA_RESTART: the wait goes on through the signal and gets the lock
    signal.signal(signal.SIGALRM, lambda s, f: None)
    signal.siginterrupt(signal.SIGALRM, False)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    lock(); out.append("%s %s restarted, got it" % (path, kind))
    os.waitpid(pid, 0); os.close(a)
print("\n".join(out))
'
check_output "a signal interrupts a lock wait; with SA_RESTART the wait goes on" \
	"/mnt/f flock interrupted True
/mnt/f flock restarted, got it
/tmp/i flock interrupted True
/tmp/i flock restarted, got it
/tmp/i posix interrupted True
/tmp/i posix restarted, got it" mrun --bind "$HD:/mnt" -- python3 -c "$INTR"

# POSIX deadlock between two guest processes: one of them gets EDEADLK.
DEADLK='
import errno, fcntl, os, struct, time
def lk(t, s, l):
    return struct.pack("hhqqi", t, 0, s, l, 0)
fd = os.open("/tmp/d", os.O_RDWR | os.O_CREAT)
fcntl.fcntl(fd, fcntl.F_SETLK, lk(fcntl.F_WRLCK, 0, 1))
pid = os.fork()
if pid == 0:
    fcntl.fcntl(fd, fcntl.F_SETLK, lk(fcntl.F_WRLCK, 1, 1))
    try:
        fcntl.fcntl(fd, fcntl.F_SETLKW, lk(fcntl.F_WRLCK, 0, 1))
        os._exit(0)
    except OSError as e:
        os._exit(e.errno)
time.sleep(0.5)
try:
    fcntl.fcntl(fd, fcntl.F_SETLKW, lk(fcntl.F_WRLCK, 1, 1))
    r = "parent got it"
except OSError as e:
    r = "parent " + ("EDEADLK" if e.errno == errno.EDEADLK else errno.errorcode[e.errno])
    fcntl.fcntl(fd, fcntl.F_SETLK, lk(fcntl.F_UNLCK, 0, 0))
st = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
print(r, "child", st)
'
check_output "a POSIX lock cycle gives EDEADLK" "parent EDEADLK child 0" \
	mrun -- python3 -c "$DEADLK"

# Range splitting and merging within one process, seen from another.
RANGES='
import fcntl, os, struct
def lk(t, s, l):
    return struct.pack("hhqqi", t, 0, s, l, 0)
fd = os.open("/tmp/r", os.O_RDWR | os.O_CREAT)
fcntl.fcntl(fd, fcntl.F_SETLK, lk(fcntl.F_WRLCK, 0, 100))
fcntl.fcntl(fd, fcntl.F_SETLK, lk(fcntl.F_UNLCK, 40, 20))
fcntl.fcntl(fd, fcntl.F_SETLK, lk(fcntl.F_RDLCK, 10, 5))
r, w = os.pipe()
if os.fork() == 0:
    out = []
    for s in (0, 10, 15, 45, 60, 99, 100):
        t, _, st, ln, _ = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, lk(fcntl.F_WRLCK, s, 1)))
        out.append("%d:%s" % (s, "-" if t == fcntl.F_UNLCK else "%s%d+%d" % ("r" if t == fcntl.F_RDLCK else "w", st, ln)))
    os.write(w, " ".join(out).encode())
    os._exit(0)
os.wait()
print(os.read(r, 200).decode())
'
check_output "POSIX ranges split, merge and convert" \
	"0:w0+10 10:r10+5 15:w15+25 45:- 60:w60+40 99:w60+40 100:-" \
	mrun -- python3 -c "$RANGES"

# OFD locks belong to the open file description: two opens in one process
# conflict, a dup shares, the lock goes with the description's last close
# (seen lazily), F_OFD_GETLK says pid -1, and they conflict with POSIX.
OFD='
import errno, fcntl, os, struct
F_OFD_GETLK, F_OFD_SETLK = 36, 37
def lk(t, s=0, l=0):
    return struct.pack("hhqqi", t, 0, s, l, 0)
def try_(fd, cmd, t, s=0, l=0):
    try:
        fcntl.fcntl(fd, cmd, lk(t, s, l))
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
a = os.open("/tmp/o", os.O_RDWR | os.O_CREAT)
b = os.open("/tmp/o", os.O_RDWR)
out = [try_(a, F_OFD_SETLK, fcntl.F_WRLCK, 0, 10), try_(b, F_OFD_SETLK, fcntl.F_RDLCK, 5, 1)]
t, _, st, ln, pid = struct.unpack("hhqqi", fcntl.fcntl(b, F_OFD_GETLK, lk(fcntl.F_WRLCK)))
out.append("getlk %s %d %d %d" % (t == fcntl.F_WRLCK, st, ln, pid))
out.append(try_(b, fcntl.F_SETLK, fcntl.F_RDLCK, 0, 1))
c = os.dup(a)
out.append(try_(c, F_OFD_SETLK, fcntl.F_RDLCK, 0, 10))
out.append(try_(b, F_OFD_SETLK, fcntl.F_RDLCK, 0, 10))
os.close(a)
out.append(try_(b, F_OFD_SETLK, fcntl.F_WRLCK, 0, 10))
os.close(c)
out.append(try_(b, F_OFD_SETLK, fcntl.F_WRLCK, 0, 10))
print(" ".join(out))
'
check_output "OFD locks: per description, shared by dup, released at the last close" \
	"ok EAGAIN getlk True 0 10 -1 EAGAIN ok ok EAGAIN ok" mrun -- python3 -c "$OFD"

# Real programs: flock(1), python's lockf, sqlite3 with two writers.
if have flock; then
	FLOCK1='
f=/tmp/lk; : >$f
flock -x $f -c "echo held; sleep 0.5; echo released" &
sleep 0.2
flock -n $f -c "echo wrong" || echo "busy"
flock -s $f -c "echo shared after"
wait
flock -x /mnt/f -c "echo host file ok"
'
	check_output "flock(1) inside" "held
busy
released
shared after
host file ok" mrun --bind "$HD:/mnt" -- sh -c "$FLOCK1"
else
	skip "flock(1) inside" "no flock(1) on this host"
fi

SQLITE='
import os, sqlite3, sys
db = "/tmp/t.db"
c = sqlite3.connect(db)
c.execute("create table t (who text, n int)")
c.commit()
c.close()
pids = []
for who in ("a", "b"):
    pid = os.fork()
    if pid == 0:
        c = sqlite3.connect(db, timeout=30)
        for i in range(100):
            with c:
                c.execute("insert into t values (?, ?)", (who, i))
        os._exit(0)
    pids.append(pid)
ok = all(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) == 0 for p in pids)
c = sqlite3.connect(db)
print(ok, c.execute("select who, count(*), sum(n) from t group by who order by who").fetchall())
'
check_output "sqlite3: two processes writing one database in /tmp" \
	"True [('a', 100, 4950), ('b', 100, 4950)]" mrun -- python3 -c "$SQLITE"

done_testing
