#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: terminals (docs/terminals.md). `moat run -t` driven through a
# real pty from outside (tty_driver.py): job control, Ctrl-C, Ctrl-Z, window
# size, raw mode, exit status and the user's terminal restored; -i with a
# pipe; ptys the guest makes itself; refused terminal ioctls.
. "$(dirname "$0")/lib.sh"

require_moat

DRIVER=$(dirname "$0")/tty_driver.py

# One driver scenario: each "ok"/"not ok" line it prints is a TAP result.
t_driver()
{
	local scen=$1 out line
	out=$(timeout -k 5 120 python3 "$DRIVER" "$scen" "$MOAT" 2>&1)
	local rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "$scen: ${line#ok }" ;;
		"not ok "*) not_ok "$scen: ${line#not ok }" ;;
		*) diag "$line" ;;
		esac
	done <<<"$out"
	[ "$rc" = 0 ] || not_ok "$scen: the driver exited with $rc"
}

if ! have python3; then
	skip "terminal scenarios" "no python3"
else
	t_driver bash
	t_driver drain
	t_driver ctrlc_exit
	t_driver killed
	t_driver notty
	if have script; then
		t_driver ptys
	else
		skip "ptys made inside" "no script(1)"
	fi
fi

# -t without -i: a terminal for the command, stdin not forwarded, output to
# whatever stdout is.
t_tty_pipe()
{
	local out
	out=$(mrun -t -- sh -c 'tty; test -t 0 && test -t 1 && echo TERM') || return 1
	[ "$(printf '%s' "$out" | tr -d '\r')" = "/dev/pts/0
TERM" ] || { echo "got: $out"; return 1; }
}
check "-t with a pipe as stdout: stdio is /dev/pts/0" t_tty_pipe

# A reader slower than the guest: nothing is lost, the relay waits for it
# (the pause is the point of the check: the guest is done long before).
t_slow_reader() { mrun -t -- seq 1 200000 | (sleep 1; tr -d '\r' | wc -l); }
check_output "-t into a slow pipe: all 200000 lines arrive" "200000" t_slow_reader

# -i without -t: stdin stays the caller's pipe.
t_interactive_pipe()
{
	local out
	out=$(printf 'one\ntwo\n' | timeout -k 5 60 "$MOAT" run -i -- cat) || return 1
	[ "$out" = "one
two" ] || { echo "got: $out"; return 1; }
}
check "-i -- cat with piped stdin copies it" t_interactive_pipe

t_ti_no_tty()
{
	local err rc
	err=$(echo | timeout -k 5 60 "$MOAT" run -ti -- true 2>&1)
	rc=$?
	[ "$rc" = 125 ] && [[ $err == *"stdin is not a terminal"* ]] || { echo "rc $rc: $err"; return 1; }
}
check "-ti without a terminal on stdin: exit 125 and says why" t_ti_no_tty

# The guest's session owns the pty; TIOCSTI (typing into it), TIOCLINUX,
# TIOCCONS and other line disciplines stay refused.
TIOC_PY='
import fcntl, os, struct, termios
def tr(req, arg):
    try:
        fcntl.ioctl(0, req, arg)
        return "ok"
    except OSError as e:
        return os.strerror(e.errno)
print("STI", tr(termios.TIOCSTI, b"x"))
print("LINUX", tr(0x541C, b"\0" * 8))
print("CONS", tr(termios.TIOCCONS, 0))
print("SETD", tr(termios.TIOCSETD, struct.pack("i", 2)))
print("SID", os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp())
'
t_tioc() { mrun -t -- python3 -c "$TIOC_PY" | tr -d '\r'; }
check_output "-t: the command leads its session and the pty's foreground group; TIOCSTI, TIOCLINUX, TIOCCONS, TIOCSETD refused" \
	"STI Inappropriate ioctl for device
LINUX Inappropriate ioctl for device
CONS Inappropriate ioctl for device
SETD Inappropriate ioctl for device
SID True True" t_tioc

# Nothing about the host's terminals shows: the sandbox's numbering starts
# at 0 whatever the host has open, and the host's /dev/pts gains no entry.
t_private_devpts()
{
	local before after out
	before=$(ls /dev/pts | sort)
	out=$(mrun -t -- sh -c 'ls /dev/pts; python3 -c "import os; m, s = os.openpty(); print(os.ttyname(s))"; ls /dev/pts' | tr -d '\r')
	after=$(ls /dev/pts | sort)
	[ "$before" = "$after" ] || { echo "host /dev/pts changed: $before / $after"; return 1; }
	[ "$out" = "0
/dev/pts/1
0" ] || { echo "got: $out"; return 1; }
}
check "the sandbox's ptys are its own instance (0, 1), unseen in the host's /dev/pts" t_private_devpts

# Job-control signals and the waits that report them, without a terminal:
# the command is a process group of its own in pid 1's session (not an
# orphaned group, whose SIGTSTP/SIGTTIN/SIGTTOU the kernel discards).
JOBCTL_PY='
import os, signal
p = os.fork()
if p == 0:
    os.setpgid(0, 0)
    signal.pause()
    os._exit(0)
res = []
for sig, opt in ((signal.SIGSTOP, os.WUNTRACED), (signal.SIGCONT, os.WCONTINUED),
                 (signal.SIGTSTP, os.WUNTRACED), (signal.SIGCONT, os.WCONTINUED),
                 (signal.SIGTTIN, os.WUNTRACED), (signal.SIGCONT, os.WCONTINUED),
                 (signal.SIGTTOU, os.WUNTRACED)):
    os.kill(p, sig)
    _, st = os.waitpid(p, opt)
    res.append(signal.Signals(os.WSTOPSIG(st)).name if os.WIFSTOPPED(st) else
               "CONT" if os.WIFCONTINUED(st) else "other")
os.kill(p, signal.SIGCONT)
os.waitpid(p, os.WCONTINUED)
os.kill(p, signal.SIGSTOP)
si = os.waitid(os.P_PID, p, os.WSTOPPED | os.WNOWAIT)
res.append("waitid:%d:%d" % (si.si_code == os.CLD_STOPPED, si.si_status))
os.kill(p, signal.SIGKILL)
os.waitpid(p, 0)
print(" ".join(res))
'
t_jobctl() { mrun -- python3 -c "$JOBCTL_PY"; }
check_output "SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU stop, SIGCONT continues; wait4 WUNTRACED/WCONTINUED and waitid WSTOPPED report them" \
	"SIGSTOP CONT SIGTSTP CONT SIGTTIN CONT SIGTTOU waitid:1:19" t_jobctl
# The same for a child left in the command's own group (no setpgid):
# SIGTSTP stops it only because that group is not orphaned.
TSTP_PY='
import os, signal
p = os.fork()
if p == 0:
    signal.pause()
    os._exit(0)
os.kill(p, signal.SIGTSTP)
_, st = os.waitpid(p, os.WUNTRACED)
print("stopped" if os.WIFSTOPPED(st) else "not stopped", os.getpgid(p) == os.getpgrp())
os.kill(p, signal.SIGKILL)
os.waitpid(p, 0)
'
t_tstp_group() { mrun -- python3 -c "$TSTP_PY"; }
check_output "the command's own children stop on SIGTSTP (its group is not orphaned)" "stopped True" t_tstp_group

done_testing
