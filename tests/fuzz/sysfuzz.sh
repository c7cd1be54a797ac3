#!/bin/bash
# SPDX-License-Identifier: MIT
# The syscall fuzzer (issue 9): tests/fuzz/sysfuzz.c issues random syscalls
# with random and mutated arguments inside `moat run` for MOAT_FUZZ_TIME
# seconds (6 under make check, FUZZ_TIME by `make fuzz`), with seed
# MOAT_FUZZ_SEED (1 under make check, so that a failure reproduces; a
# random one, printed, under `make fuzz`). Checked from outside:
#  - moat exits 0 (the guest's fuzzer exits 0; its children may die of
#    anything), in time (no hang), with no core left and not by a signal;
#  - the sentry kept serving: the guest printed a heartbeat (a stat the
#    sentry answers) every second and its final "done";
#  - nothing was made on the host: no file named with the run's marker
#    (the fuzzer's paths name it, under /tmp, /etc, /root, / and more), none
#    new or changed under /etc, /root, /tmp, /var/tmp or /dev/shm owned by
#    the sandbox's host uids, the host files the fuzzer's dictionary names
#    (/etc/passwd, /etc/shadow, /bin/true...) and the bound directory as
#    they were. (Not all of /etc: other tests running alongside add their
#    own files there.)
#  - nothing is left: no process of the sandbox's host uid range (moat's
#    own processes and the guest's run as those uids) and none with the
#    marker (moat's --hostname) in its command line.
# The host's total process count is not compared: other tests run
# alongside; the sandbox's own processes are what moat could leave.
. "$(dirname "$0")/../integration/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
TIME=${MOAT_FUZZ_TIME:-6}
if [ -n "${MOAT_FUZZ_SEED:-}" ]; then
	SEED=$MOAT_FUZZ_SEED
elif [ -n "${MOAT_FUZZ_TIME:-}" ]; then
	SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
else
	SEED=1
fi
MARKER=moatfuzz-$$-$RANDOM
# A host uid range of this run's own (below moat's default one).
UID_START=$((2147418112 - 65536 * (2 + RANDOM % 512)))
# The reservation files of that range go with it (sentry/sandbox/hostuid.c).
at_exit "rm -f /run/moat-uids/$UID_START /run/moat-uids/.next-$UID_START-65536"

require_moat

DIR=$(host_tmpdir) || bail_out "no temporary directory"
mkdir "$DIR/bin" "$DIR/cwd"
if ! cc -std=gnu17 -D_GNU_SOURCE -O1 -Wall -Wextra -pthread "$SRC/tests/fuzz/sysfuzz.c" -o "$DIR/bin/sysfuzz" \
	>"$DIR/cc.log" 2>&1; then
	not_ok "sysfuzz.c builds"
	sed 's/^/# /' "$DIR/cc.log"
	done_testing
fi
diag "seed $SEED, ${TIME}s, marker $MARKER, host uids from $UID_START"

listing() { (cd "$1" && find . -xdev -printf '%p %s %m %T@\n' 2>/dev/null | sort); }
# The host files the fuzzer's dictionary names (sysfuzz.c, make_paths).
named()
{
	local f
	for f in /etc/passwd /etc/shadow /etc/group /bin/true /usr/bin/true; do
		stat -c '%n %s %a %u %Y' "$f" 2>/dev/null
		[ -f "$f" ] && sha256sum "$f" 2>/dev/null
	done
}
owned_new()
{
	find /etc /root /tmp /var/tmp /dev/shm -xdev -newer "$DIR/stamp" -printf '%U %p\n' 2>/dev/null |
		awk -v lo="$UID_START" -v hi=$((UID_START + 65536)) '$1 >= lo && $1 < hi'
}
marked() { find /tmp /etc /root /var/tmp /dev/shm / "$DIR" -maxdepth 3 -xdev -name "*$MARKER*" 2>/dev/null; }
sandbox_procs()
{
	ps -e -o uid=,pid=,args= | awk -v lo="$UID_START" -v hi=$((UID_START + 65536)) \
		'$1 >= lo && $1 < hi'
	pgrep -af -- "$MARKER"
}

listing "$DIR/bin" >"$DIR/bin.before"
named >"$DIR/named.before"
touch "$DIR/stamp"
sleep 0.01

t_run_fuzz()
{
	cd "$DIR/cwd" || return 1
	ulimit -c unlimited
	timeout -k 5 $((TIME + 60)) "$MOAT" run --hostname "$MARKER" \
		--host-uid-range "$UID_START:65536" --bind "$DIR/bin:/fz" \
		-- /fz/sysfuzz "$SEED" "$TIME" "$MARKER" </dev/null >"$DIR/out" 2>"$DIR/err"
	echo $? >"$DIR/rc"
}
(t_run_fuzz)
RC=$(cat "$DIR/rc")

show() { tail -n 5 "$DIR/out"; tail -n 20 "$DIR/err"; }
check_moat_exit()
{
	[ "$RC" = 0 ] && return 0
	echo "moat exited with $RC (124: hung; >128: killed by a signal)"
	show
	return 1
}
check "moat survives ${TIME}s of the syscall fuzzer and exits 0 (seed $SEED)" check_moat_exit

check_alive()
{
	local beats
	beats=$(grep -c '^alive' "$DIR/out")
	grep -q '^done ' "$DIR/out" && [ "$beats" -ge $((TIME - 1)) ] && return 0
	echo "$beats heartbeats in ${TIME}s"
	show
	return 1
}
check "the sentry answered the guest every second of the run" check_alive
diag "the fuzzer: $(grep "^done " "$DIR/out" || echo "no summary line")"

check_no_core()
{
	local cores
	cores=$(find "$DIR" -name 'core*' 2>/dev/null)
	[ -z "$cores" ] && return 0
	echo "cores: $cores"
	return 1
}
check "no core dump left" check_no_core

check_nothing_made()
{
	local m owned
	m=$(marked)
	owned=$(owned_new)
	listing "$DIR/bin" >"$DIR/bin.after"
	named >"$DIR/named.after"
	[ -z "$m" ] && [ -z "$owned" ] && cmp -s "$DIR/bin.before" "$DIR/bin.after" &&
		cmp -s "$DIR/named.before" "$DIR/named.after" && return 0
	echo "made on the host: $m"
	echo "new, owned by the sandbox's uids: $owned"
	diff "$DIR/bin.before" "$DIR/bin.after"
	diff "$DIR/named.before" "$DIR/named.after"
	return 1
}
check "nothing made on the host: no marked or sandbox-owned file, named files and the bound directory unchanged" \
	check_nothing_made

check_nothing_left()
{
	local left i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		left=$(sandbox_procs)
		[ -z "$left" ] && return 0
		sleep 0.2
	done
	echo "left behind:"
	echo "$left"
	return 1
}
check "no process of the sandbox is left on the host" check_nothing_left

done_testing
