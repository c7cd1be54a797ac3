#!/bin/bash
# SPDX-License-Identifier: MIT
# Security: moat's own state per sandbox is bounded (issue 9). A guest
# forks processes that each hold 4,000 O_PATH and directory fds (the
# default --nofile's hard limit) until one is refused: the sentry makes
# 65,536 placeholders (OFD_MAX, sentry/vfs/ofd.h; or its own fd limit less
# a reserve where that is lower), refuses the rest with ENFILE, as Linux does when
# its file table is full, audits it, and its RSS and fd count, read from
# outside, stay bounded; once the guest closes them, opens work again. The other per-sandbox bounds (dentry cache, gofer vnodes, tmpfs
# inodes, flocks, unix addresses, inotify stand-ins, workers) and their
# tests are listed in docs/security.md.
. "$(dirname "$0")/../integration/lib.sh"

require_moat

D=$(host_tmpdir)
MOAT_TIMEOUT=300
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
nfds() { ls "/proc/$1/fd" | wc -l; }

# The guest runs each phase when told (SIGUSR1) and says when done.
HOG='
import errno, os, resource, signal, sys
EACH = 4000
# The default --nofile: soft 1024, hard 4096, which a program may take.
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
def step(word):
    print(word, flush=True)
    signal.sigwait([signal.SIGUSR1])
step("ready")
r, w = os.pipe()
go_r, go_w = os.pipe()
f = os.fdopen(r)
kids, held, errs = [], 0, set()
# One kid after another, each holding up to EACH, until one is refused.
while not errs and len(kids) < 400:
    pid = os.fork()
    if pid == 0:
        os.close(r); os.close(go_w)
        fds, err = [], "none"
        for i in range(EACH):
            try:
                if i % 2:
                    fds.append(os.open("/usr", os.O_RDONLY | os.O_DIRECTORY))
                else:
                    fds.append(os.open("/usr/bin/env", os.O_PATH))
            except OSError as e:
                err = errno.errorcode[e.errno]
                break
        os.write(w, b"%d %s\n" % (len(fds), err.encode()))
        os.read(go_r, 1)  # until the parent closes its end
        os._exit(0)
    kids.append(pid)
    n, err = f.readline().split()
    held += int(n)
    if err != "none":
        errs.add(err)
print("held", held, "errors", ",".join(sorted(errs)) or "none", "kids", len(kids), flush=True)
step("opened")
os.close(go_w)
for pid in kids:
    os.waitpid(pid, 0)
# The placeholders are given back (the sentry sees the closes): as many
# again can be opened.
fds = [os.open("/usr", os.O_RDONLY | os.O_DIRECTORY) for i in range(3000)]
print("again", len(fds), flush=True)
'

t_open_files()
{
	local s rss0 fds0 rss1 fds1 held rc out nofile cap
	GUEST_OPTS="--audit-log $D/audit" start_guest "moat-sec-state-$$" "$HOG" || return 1
	s=$(pgrep -P "$MOAT_PID" -x moat | head -n 1)
	rss0=$(rss_kb "$s")
	fds0=$(nfds "$s")
	kill -USR1 "$GUEST_PID"
	wait_for_file "$T_TMP/guest.out" opened 2400 || { echo "not done: $(cat "$T_TMP/guest.out")" >&2; kill -9 "$GUEST_PID"; return 1; }
	rss1=$(rss_kb "$s")
	fds1=$(nfds "$s")
	held=$(awk '/^held/ { print $2, $4 }' "$T_TMP/guest.out")
	# The cap: OFD_MAX, or the sentry's fd limit less a reserve (a
	# sixteenth, at least 1024) where that is lower.
	nofile=$(awk '/^Max open files/ { print $4 }' "/proc/$s/limits")
	local reserve=$((nofile / 16))
	[ "$reserve" -lt 1024 ] && reserve=1024
	cap=$((nofile - reserve))
	[ "$cap" -gt 65536 ] && cap=65536
	echo "sentry fd limit $nofile, cap $cap; guest held: $held; sentry VmRSS $rss0 -> $rss1 kB, fds $fds0 -> $fds1" |
		tee "$D/summary" >&2
	kill -USR1 "$GUEST_PID"
	wait "$MOAT_PID"
	rc=$?
	out=$(cat "$T_TMP/guest.out")
	echo "status $rc: $out" >&2
	[ "$rc" = 0 ] || return 1
	# Every one the sentry made (a few are python's own, or in flight).
	local n=${held%% *}
	[ "$n" -le "$cap" ] && [ "$n" -ge $((cap - 64)) ] || return 1
	[ "${held#* }" = ENFILE ] || return 1
	# One fd each in the sentry, and little memory: a few hundred bytes.
	[ "$fds1" -le $((fds0 + cap + 256)) ] || return 1
	# (Under AddressSanitizer its quarantine and redzones are the RSS.)
	[ "${MOAT_SANITIZED:-0}" = 1 ] || [ $((rss1 - rss0)) -lt $((64 * 1024)) ] || return 1
	grep -q '^again 3000$' <<<"$out" || return 1
	grep -q "limit of $cap open directories" <<<"$out" || return 1
	python3 - "$D/audit" "$cap" <<'PY'
import json, sys
cap = int(sys.argv[2])
lim = [r for r in map(json.loads, open(sys.argv[1])) if r["type"] == "limit" and r["limit"] == "open_files"]
print(lim, file=sys.stderr)
sys.exit(0 if len(lim) == 2 and lim[0].get("first") and lim[0]["max"] == cap and lim[1]["max"] == cap
         and lim[1]["refused"] > 0 else 1)
PY
}
check "placeholders: 65,536 made (or the sentry's fds less a reserve), the next ENFILE, audited; the sentry's fds and RSS bounded (from outside); closed ones given back" \
	t_open_files
[ -f "$D/summary" ] && diag "$(cat "$D/summary")"

# The sentry's workers: at most 1,024 (sentry/kernel/sentry.c). A guest
# whose threads all wait in the sentry (FIFO opens with no writer) holds
# them all; its next notified call (a clone) then waits too, until
# --timeout. Seen from outside: the sentry's thread count stays at the cap,
# the cap is audited, and --timeout still ends the sandbox (124).
WCAP='
import os, threading, time
os.mkfifo("/tmp/f")
def rd():
    try: open("/tmp/f").close()
    except OSError: pass
for _ in range(1100):
    threading.Thread(target=rd, daemon=True).start()
'
t_workers()
{
	rm -f "$D/audit.w"
	timeout -k 5 60 "$MOAT" run --timeout 8 --audit-log "$D/audit.w" -- /usr/bin/python3 -c "$WCAP" &
	local pid=$! most=0 n s rc
	for _ in $(seq 60); do
		s=$(pgrep -P "$pid" -x moat | head -1)
		n=$(awk '/^Threads:/ {print $2}' "/proc/$s/status" 2>/dev/null)
		[ "${n:-0}" -gt "$most" ] && most=$n
		sleep 0.2
	done
	wait "$pid"
	rc=$?
	echo "status $rc, the sentry's threads at most $most" >&2
	cat "$D/audit.w" >&2
	[ "$rc" = 124 ] && [ "$most" -ge 1000 ] && [ "$most" -le 1040 ] &&
		grep -q '"type":"limit","limit":"workers","max":1024' "$D/audit.w"
}
check "1,100 guest threads waiting in the sentry: its workers stop at 1,024 (from outside), audited; --timeout still ends it" \
	t_workers

done_testing
