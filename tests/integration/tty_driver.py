#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Drive `moat run -t` through a real pseudo-terminal, as a user would.

Usage: tty_driver.py SCENARIO MOAT

moat runs with a pty of the driver's as its controlling terminal (stdin,
stdout, stderr), in a session of its own whose foreground group it is, so
it gets SIGWINCH when the driver resizes. Every wait is for a marker the
shell computes ($((1+1))), never a sleep: the echo of the typed line cannot
match it. Prints one line per check, "ok DESC" or "not ok DESC: why";
tty.sh turns them into TAP.
"""
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

TIMEOUT = 20


class Term:
    def __init__(self, argv, rows=24, cols=80):
        self.master, self.slave = os.openpty()
        self.resize(rows, cols)
        self.before = termios.tcgetattr(self.slave)

        def child():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, preexec_fn=child,
                                     close_fds=True)
        self.buf = b""

    def resize(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, data):
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def expect(self, marker, timeout=TIMEOUT):
        """Read until marker; return what came before it (and drop both)."""
        marker = marker.encode()
        end = time.monotonic() + timeout
        while marker not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %r in %r" % (marker, self.buf[-400:]))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    d = os.read(self.master, 65536)
                except OSError:
                    d = b""
                if not d:
                    raise EOFError("EOF before %r in %r" % (marker, self.buf[-400:]))
                self.buf += d
        i = self.buf.index(marker)
        out = self.buf[:i]
        self.buf = self.buf[i + len(marker):]
        return out.decode(errors="replace")

    def run(self, cmd, tag):
        """Type cmd, then an echo of a computed marker; return the output."""
        self.send("%s; echo %s$((40+2))\r" % (cmd, tag))
        return self.expect(tag + "42")

    def drain(self, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    d = os.read(self.master, 65536)
                except OSError:
                    return
                if not d:
                    return
                self.buf += d
            elif self.proc.poll() is not None:
                return

    def wait(self):
        self.drain()
        try:
            return self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def descendants(root):
    """Host pids below root (moat), read from /proc/PID/task/*/children."""
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        try:
            for tid in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    kids = [int(k) for k in f.read().split()]
                out += kids
                todo += kids
        except OSError:
            pass
    return out


def wait_foreground(t, comm, timeout=TIMEOUT):
    """Wait until a process named comm below moat is its terminal's
    foreground group (tpgid == pgrp, as the host's /proc shows them): bash's
    fg hands the terminal over after it prints the job, and a key sent
    before that goes to bash's own group."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in descendants(t.proc.pid):
            try:
                with open("/proc/%d/stat" % p) as f:
                    st = f.read()
            except OSError:
                continue
            name = st[st.index("(") + 1:st.rindex(")")]
            fields = st[st.rindex(")") + 2:].split()
            if name == comm and fields[0] in "RS" and fields[2] == fields[5]:
                return
        time.sleep(0.01)
    raise TimeoutError("%s never became the foreground job" % comm)


results = []


def check(desc, cond, why=""):
    results.append(desc)
    print(("ok %s" % desc) if cond else ("not ok %s: %s" % (desc, why)), flush=True)


def attempt(desc, fn):
    try:
        fn()
    except (TimeoutError, EOFError, OSError) as e:
        check(desc, False, str(e).replace("\n", " ")[:600])


def scenario_bash(moat):
    t = Term([moat, "run", "-ti", "--env", "PS1=$ ", "--", "bash", "--norc", "--noprofile", "-i"],
             rows=24, cols=80)

    def start():
        t.run("true", "UP")
        check("bash -i starts on the terminal", True)
    attempt("bash -i starts on the terminal", start)

    def tty():
        out = t.run("tty", "TTY")
        check("tty prints /dev/pts/0", "/dev/pts/0" in out, repr(out))
    attempt("tty prints /dev/pts/0", tty)

    def size():
        out = t.run("stty size", "SZ")
        check("stty size shows the size the driver set (24 80)", "24 80" in out, repr(out))
    attempt("stty size shows the size the driver set (24 80)", size)

    def winch():
        # A child shell waits for SIGWINCH; the resize reaches it through
        # moat's relay (TIOCSWINSZ on the master) and the guest's tty.
        t.send("sh -c 'trap \"echo GOT\\$((1+1)); exit 0\" WINCH; echo WAIT$((1+1)); "
               "while :; do sleep 0.05; done'\r")
        t.expect("WAIT2")
        t.resize(40, 132)
        t.expect("GOT2")
        out = t.run("stty size", "SZ2")
        check("a resize reaches the foreground job (SIGWINCH) and stty size", "40 132" in out,
              repr(out))
    attempt("a resize reaches the foreground job (SIGWINCH) and stty size", winch)

    def ctrl_c():
        t.send("sh -c 'echo SL$((1+1)); exec sleep 100'\r")
        t.expect("SL2")
        t.send("\x03")
        out = t.run("echo RC$?", "CC")
        check("Ctrl-C interrupts sleep 100 and the shell survives (status 130)",
              "RC130" in out, repr(out))
    attempt("Ctrl-C interrupts sleep 100 and the shell survives (status 130)", ctrl_c)

    def ctrl_z():
        t.send("sh -c 'echo ZZ$((1+1)); exec sleep 100'\r")
        t.expect("ZZ2")
        t.send("\x1a")
        out = t.run("jobs", "JB")
        check("Ctrl-Z stops the foreground sleep; jobs lists it as Stopped",
              "Stopped" in out and "sleep 100" in out, repr(out))
        out = t.run("bg; jobs", "BG")
        check("bg resumes it in the background (Running)", "Running" in out, repr(out))
        t.send("fg\r")
        wait_foreground(t, "sleep")
        t.send("\x03")
        out = t.run("echo FG$?", "FGX")
        check("fg brings it back; Ctrl-C ends it (130)", "FG130" in out, repr(out))
        # bash learns of the stop and the continuation from
        # waitpid(WUNTRACED|WCONTINUED) in its SIGCHLD handler: wait for
        # jobs to say so rather than sleep.
        out = t.run("sleep 100 & p=$!; kill -STOP %1; until jobs | grep -q Stopped; do :; done; "
                    "jobs; kill -CONT %1; until jobs | grep -q Running; do :; done; jobs; "
                    "kill %1; wait $p; echo W$?", "KL")
        check("kill -STOP/-CONT of a background job: jobs shows Stopped, then Running; "
              "kill ends it (143)",
              "Stopped" in out and "Running" in out and "W143" in out, repr(out))
    attempt("Ctrl-Z stops the foreground sleep; jobs lists it as Stopped", ctrl_z)

    def ttin():
        # A background job reading the terminal gets SIGTTIN from the
        # line discipline; one writing with tostop set, SIGTTOU (nothing
        # else signals them; bash says only "Stopped").
        out = t.run("cat & until jobs | grep -q Stopped; do :; done; jobs; kill -9 %1; wait %1", "TI")
        check("a background read of the terminal stops the job (SIGTTIN)",
              "Stopped" in out, repr(out))
        out = t.run("stty tostop; (echo hi) & until jobs | grep -q Stopped; do :; done; jobs; "
                    "stty -tostop; fg >/dev/null", "TO")
        check("a background write with tostop stops the job (SIGTTOU)",
              "Stopped" in out and "hi" in out, repr(out))
    attempt("a background read of the terminal stops the job (SIGTTIN)", ttin)

    def raw():
        # A program in raw mode (TCSETS through the guest's filter) sees single
    # keys, ^C included, as bytes; it puts the terminal back as it found it.
        t.send("python3 -c 'import os,termios,tty; a=termios.tcgetattr(0); tty.setraw(0); "
               "print(\"RAW\", 1+1, end=\"\\r\\n\", flush=True); "
               "print(repr(os.read(0, 3)), end=\"\\r\\n\", flush=True); "
               "termios.tcsetattr(0, termios.TCSADRAIN, a)'\r")
        t.expect("RAW 2")
        t.send("a\x03b")
        t.expect("'a\\x03b'")
        out = t.run("stty -a | grep -o -- '-icanon\\|icanon'", "RW")
        check("raw mode inside: keys (^C too) arrive as bytes; cooked again after",
              re.split(r"[\r\n]+", out.strip())[-1] == "icanon", repr(out))
    attempt("raw mode inside: keys (^C too) arrive as bytes; termios restored after", raw)

    def exit_status():
        t.send("exit 7\r")
        st = t.wait()
        check("exit status propagates (7)", st == 7, "status %r" % st)
        after = termios.tcgetattr(t.slave)
        check("the host terminal's termios are restored after exit", after == t.before,
              "before %r after %r" % (t.before, after))
    attempt("exit status propagates (7)", exit_status)


def scenario_drain(moat):
    # Output the guest wrote just before exiting is all there, then the status.
    t = Term([moat, "run", "-t", "--", "sh", "-c", "seq 1 30000; echo END$((1+1)); exit 5"])
    st = t.wait()
    out = t.buf.decode(errors="replace")
    lines = out.replace("\r", "").split("\n")
    check("all output drained before moat exits (30000 lines)",
          "30000" in lines and "END2" in lines, repr(out[-200:]))
    check("exit status with -t (5)", st == 5, "status %r" % st)


def scenario_ctrlc_exit(moat):
    # ^C to the command itself (pid 2, the session leader) ends the sandbox;
    # the terminal is restored although the command died of a signal.
    t = Term([moat, "run", "-ti", "--", "sh", "-c", "echo GO$((1+1)); exec sleep 100"])
    try:
        t.expect("GO2")
        t.send("\x03")
        st = t.wait()
        check("Ctrl-C ends the command: status 130", st == 130, "status %r" % st)
        check("termios restored after a signal death",
              termios.tcgetattr(t.slave) == t.before, "differs")
    except (TimeoutError, EOFError) as e:
        check("Ctrl-C ends the command: status 130", False, str(e))


def scenario_killed(moat):
    # moat (the sentry) killed outright: the relay sees it die
    # (PR_SET_PDEATHSIG) and still restores the user's terminal.
    t = Term([moat, "run", "-ti", "--", "sh", "-c", "echo GO$((1+1)); exec sleep 100"])
    try:
        t.expect("GO2")
        raw = termios.tcgetattr(t.slave)
        check("the user's terminal is raw while the command runs", raw != t.before, "not raw")
        t.proc.kill()
        t.proc.wait(timeout=TIMEOUT)
        end = time.monotonic() + TIMEOUT
        while termios.tcgetattr(t.slave) != t.before and time.monotonic() < end:
            time.sleep(0.01)
        check("SIGKILL of moat: the relay still restores the terminal",
              termios.tcgetattr(t.slave) == t.before, "still raw")
    except (TimeoutError, EOFError) as e:
        check("SIGKILL of moat: the relay still restores the terminal", False, str(e))


NOTTY_PY = r"""
import fcntl, os, termios
def tr(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return os.strerror(e.errno)
print("STI", tr(lambda: fcntl.ioctl(0, termios.TIOCSTI, b"x")))
print("SPGRP", tr(lambda: os.tcsetpgrp(0, os.getpgrp())))
if os.fork() == 0:
    os.setsid()
    print("SCTTY", tr(lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0)))
    print("STEAL", tr(lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 1)))
    os._exit(0)
os.wait()
print("DONE", 1 + 1)
"""


def scenario_notty(moat):
    # Without -t the guest's stdio is the user's own terminal (moat's
    # controlling terminal): it may use it, not take it over.
    t = Term([moat, "run", "--", "python3", "-c", NOTTY_PY])
    desc = ("without -t: the guest cannot take the user's terminal over (TIOCSTI, tcsetpgrp, "
            "TIOCSCTTY, stealing it)")
    try:
        out = t.expect("DONE 2").replace("\r", "")
    except (TimeoutError, EOFError) as e:
        check(desc, False, str(e))
        return
    st = t.wait()
    want = ["STI Inappropriate ioctl for device", "SPGRP Inappropriate ioctl for device",
            "SCTTY Operation not permitted", "STEAL Operation not permitted"]
    check(desc, all(w in out for w in want) and st == 0, "status %r: %r" % (st, out))


def scenario_ptys(moat):
    # Guest programs make ptys of their own: script(1) and python's pty.
    t = Term([moat, "run", "-t", "--", "sh", "-c",
              "script -qc 'tty; echo IN$((1+1))' /dev/null; "
              "python3 -c 'import os,pty; m,s=os.openpty(); print(\"PY\", os.ttyname(s)); "
              "os.write(m, b\"hi\\n\"); print(\"RD\", os.read(s, 10))'; ls /dev/pts"])
    st = t.wait()
    out = t.buf.decode(errors="replace").replace("\r", "")
    check("script(1) inside runs on a new pty /dev/pts/1", "/dev/pts/1" in out and "IN2" in out,
          repr(out))
    check("os.openpty inside: ttyname of the slave, data through the line discipline",
          "PY /dev/pts/" in out and "RD b'hi\\n'" in out, repr(out))
    check("the sandbox's ptys exit cleanly", st == 0, "status %r" % st)


def main():
    scen, moat = sys.argv[1], sys.argv[2]
    {"bash": scenario_bash, "drain": scenario_drain, "ctrlc_exit": scenario_ctrlc_exit,
     "killed": scenario_killed, "notty": scenario_notty, "ptys": scenario_ptys}[scen](moat)


if __name__ == "__main__":
    main()
