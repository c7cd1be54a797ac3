# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/integration/lib.sh - a small TAP library for moat's integration tests.
# Sourced by tests/integration/*.sh, which Automake runs through tap-driver.sh.
#
#   check "desc" CMD...                 ok if CMD exits 0
#   check_status "desc" N CMD...        ok if CMD exits with status N
#   check_output "desc" EXPECTED CMD... ok if CMD exits 0 and prints EXPECTED
#   check_same "desc" CMD...            ok if `moat run -- CMD` prints what CMD
#                                       prints natively and exits the same way
#   skip "desc" "reason"                ok N - desc # SKIP reason
#   diag "text"                         a TAP comment
#   done_testing                        prints the plan; call it last
#   require_moat                        the first check of every script
#
#   mrun ARGS...       $MOAT run ARGS...  with a timeout and stdin from /dev/null
#   native CMD...      CMD on the host with the sandbox's default environment,
#                      in /, with a timeout
#   start_guest TAG PY a long-running python guest in the background; finds
#                      its host pid from outside (GUEST_PID, MOAT_PID)
#   host_tmpdir [DIR]  a fresh host directory, removed at exit
#   at_exit "CMD"      run CMD when the script exits
#
# Every process a check starts goes through `timeout` ($MOAT_TIMEOUT seconds,
# default 60), so a hung sandbox fails its check instead of the whole suite;
# after three timeouts the script bails out.
# A check's stdout and stderr are captured and printed as TAP comments only
# when it fails. CMD may be a shell function; it runs in a subshell.

MOAT=${MOAT:-$(cd "$(dirname "$0")/../.." 2>/dev/null && pwd)/moat}
MOAT_TIMEOUT=${MOAT_TIMEOUT:-60}
# The environment moat gives a guest by default (issue 2): PATH, HOME, TERM.
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

T_N=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/moat-test.XXXXXX") || exit 99
T_MAIN=$BASHPID

# Cleanups are kept in a file, so checks (which run in subshells) can add
# theirs; only the main shell runs them.
t_cleanup()
{
	[ "$BASHPID" = "$T_MAIN" ] || return 0
	if [ -f "$T_TMP/cleanup" ]; then
		while IFS= read -r c; do
			eval "$c" >/dev/null 2>&1
		done <"$T_TMP/cleanup"
	fi
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap "exit 129" HUP
trap "exit 130" INT
trap "exit 143" TERM

# at_exit "shell command": run when the test script exits.
at_exit() { printf '%s\n' "$1" >>"$T_TMP/cleanup"; }

diag()
{
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

# A check that took 5 s or more says so (t_run sets T_SECS), to keep CI's
# time in view.
t_took()
{
	[ "${T_SECS:-0}" -lt 5 ] || printf '# (%d s)\n' "$T_SECS"
	T_SECS=0
}

ok()
{
	T_N=$((T_N + 1))
	printf 'ok %d - %s\n' "$T_N" "$1"
	t_took
}

not_ok()
{
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	printf 'not ok %d - %s\n' "$T_N" "$1"
	t_took
}

skip()
{
	T_N=$((T_N + 1))
	printf 'ok %d - %s # SKIP %s\n' "$T_N" "$1" "$2"
}

done_testing()
{
	# tests/run.sh lists the slowest scripts from this line.
	printf '# took %d s\n' "$SECONDS"
	printf '1..%d\n' "$T_N"
	exit 0
}

# bail_out "reason": stop the whole script (tap-driver counts it as an error).
bail_out()
{
	printf 'Bail out! %s\n' "$1"
	exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

mrun()
{
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run "$@" </dev/null
	local rc=$?
	[ "$rc" = 124 ] && echo "$*" >>"$T_TMP/timeouts"
	return "$rc"
}

# After three timed-out moat runs, stop: a hanging moat would otherwise cost
# $MOAT_TIMEOUT seconds per remaining check.
t_check_timeouts()
{
	[ -f "$T_TMP/timeouts" ] || return 0
	[ "$(wc -l <"$T_TMP/timeouts")" -ge 3 ] || return 0
	bail_out "moat timed out three times; not running the rest of $(basename "$0")"
}

native()
{
	(cd / && exec env -i PATH="$GUEST_PATH" HOME=/root TERM="${TERM:-dumb}" \
		timeout -k 5 "$MOAT_TIMEOUT" "$@" </dev/null)
}

# t_run CMD...: run CMD (a function in a subshell, or a program under
# timeout) with stdout in $T_TMP/out and stderr in $T_TMP/err; sets T_RC.
t_run()
{
	local start=$SECONDS
	t_run_once "$@"
	T_SECS=$((SECONDS - start))
	return 0
}

# t_again_on_fork_window CMD...: after a check FAILED, run it once more if
# its shell said it could not fork, saying so. A signal that comes before
# the sentry has received a notified fork fails it with EINTR (docs/
# architecture.md, "Known limits"; issue 8), and dash's SIGCHLD handler
# has no SA_RESTART. Only failed checks: a passed one is never run twice
# (a check that changes state would then fail on its own leftovers).
# Returns 0 if it ran CMD again.
t_again_on_fork_window()
{
	grep -qsE "Cannot fork|can't fork|fork: Interrupted system call" "$T_TMP/err" "$T_TMP/out" ||
		return 1
	printf '# run again: the first run met the EINTR window of a notified fork\n'
	t_run "$@"
	return 0
}

t_run_once()
{
	if [ "$(type -t "$1")" = function ]; then
		("$@") >"$T_TMP/out" 2>"$T_TMP/err" </dev/null
		T_RC=$?
	else
		timeout -k 5 "$MOAT_TIMEOUT" "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null
		T_RC=$?
		[ "$T_RC" = 124 ] && echo "$*" >>"$T_TMP/timeouts"
	fi
	return 0
}

t_show()
{
	local what=$1 f=$2
	[ -s "$f" ] || return 0
	printf '# %s:\n' "$what"
	head -n 40 "$f" | sed 's/^/#   /'
}

t_explain()
{
	[ "$T_RC" = 124 ] && printf '# timed out after %ss\n' "$MOAT_TIMEOUT"
	printf '# exit status %s\n' "$T_RC"
	t_show stdout "$T_TMP/out"
	t_show stderr "$T_TMP/err"
}

check()
{
	local desc=$1
	shift
	t_run "$@"
	[ "$T_RC" = 0 ] || t_again_on_fork_window "$@"
	if [ "$T_RC" = 0 ]; then
		ok "$desc"
	else
		not_ok "$desc"
		t_explain
	fi
	t_check_timeouts
}

check_status()
{
	local desc=$1 want=$2
	shift 2
	t_run "$@"
	[ "$T_RC" = "$want" ] || t_again_on_fork_window "$@"
	if [ "$T_RC" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		printf '# expected exit status %s\n' "$want"
		t_explain
	fi
	t_check_timeouts
}

check_output()
{
	local desc=$1 want=$2 got
	shift 2
	t_run "$@"
	got=$(cat "$T_TMP/out")
	if [ "$T_RC" != 0 ] || [ "$got" != "$want" ]; then
		t_again_on_fork_window "$@" && got=$(cat "$T_TMP/out")
	fi
	if [ "$T_RC" = 0 ] && [ "$got" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		printf '%s\n' "$want" >"$T_TMP/want"
		printf '# expected stdout:\n'
		sed 's/^/#   /' "$T_TMP/want"
		t_explain
	fi
	t_check_timeouts
}

check_same()
{
	local desc=$1 nrc
	shift
	native "$@" >"$T_TMP/native" 2>"$T_TMP/native.err"
	nrc=$?
	t_run mrun -- "$@"
	{ [ "$T_RC" = "$nrc" ] && cmp -s "$T_TMP/native" "$T_TMP/out"; } ||
		t_again_on_fork_window mrun -- "$@"
	if [ "$T_RC" = "$nrc" ] && cmp -s "$T_TMP/native" "$T_TMP/out"; then
		ok "$desc"
	else
		not_ok "$desc"
		printf '# native exit status %s, under moat %s\n' "$nrc" "$T_RC"
		diff -u "$T_TMP/native" "$T_TMP/out" | head -n 40 | sed 's/^/#   /'
		t_show "stderr under moat" "$T_TMP/err"
	fi
	t_check_timeouts
}

# guest_pids PATTERN: host pids of sandboxed processes whose command line
# matches PATTERN (pgrep -f), leaving out moat's own processes and timeout.
guest_pids()
{
	local pid argv0
	for pid in $(pgrep -f -- "$1"); do
		[ "$pid" = "$$" ] && continue
		argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1)
		case ${argv0##*/} in
		moat* | timeout | pgrep | bash | "") continue ;;
		esac
		echo "$pid"
	done
}

# wait_for_file FILE PATTERN [TENTHS]: wait until FILE has a line matching
# PATTERN (default: 10 s).
wait_for_file()
{
	local i=0 n=${3:-100}
	while [ "$i" -lt "$n" ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start_guest TAG PYTHON: start `moat run -- python3 -c PYTHON TAG` in the
# background; PYTHON prints "ready" once set up. Sets MOAT_PID (moat, under
# timeout) and GUEST_PID (the guest's host pid, found from outside).
# $GUEST_OPTS, when set, are more options of moat run (split on spaces).
start_guest()
{
	local tag=$1 i
	GUEST_PID=
	# shellcheck disable=SC2086
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run ${GUEST_OPTS:-} -- python3 -c "$2" "$tag" \
		>"$T_TMP/guest.out" 2>&1 </dev/null &
	MOAT_PID=$!
	if ! wait_for_file "$T_TMP/guest.out" ready; then
		echo "the guest did not start: $(head -c 400 "$T_TMP/guest.out")" >&2
		kill "$MOAT_PID" 2>/dev/null
		return 1
	fi
	for i in 1 2 3 4 5 6 7 8 9 10; do
		GUEST_PID=$(guest_pids "$tag" | head -n 1)
		[ -n "$GUEST_PID" ] && return 0
		sleep 0.1
	done
	echo "the guest's pid was not found on the host" >&2
	kill "$MOAT_PID" 2>/dev/null
	return 1
}

# require_moat: the first test of every file. Without a working
# `moat run -- /bin/true` nothing else can be tested: report it and stop.
# Whether --cpus can be enforced here, with this environment (no cpu
# controller, or MOAT_TEST_FORCE_FALLBACK turning cgroups off, refuse it).
can_limit_cpus()
{
	"$MOAT" run --cpus 1 -- /bin/true >/dev/null 2>&1
}

require_moat()
{
	if [ ! -x "$MOAT" ]; then
		not_ok "moat binary exists ($MOAT)"
		done_testing
	fi
	t_run mrun -- /bin/true
	if [ "$T_RC" != 0 ]; then
		not_ok "moat run -- /bin/true exits 0"
		t_explain
		diag "moat run does not work: not running the other tests of $(basename "$0")"
		done_testing
	fi
	ok "moat run -- /bin/true exits 0"
}

# host_tmpdir: a fresh directory on the host, removed at exit.
host_tmpdir()
{
	local d
	d=$(mktemp -d "${1:-${TMPDIR:-/tmp}}/moat-test.XXXXXX") || return 1
	at_exit "rm -rf '$d'"
	echo "$d"
}

# etc_find FIND-ARGS...: what `find` shows of the host's /etc to an
# unprivileged host user, over the names the default view shows in /etc (an
# allowlist; host files are served with the permissions of "other"). Paths
# print as /etc/NAME/... and sorted, as `mrun -- find /etc ...` would.
etc_find()
{
	local names
	names=$(mrun -- /bin/ls -A /etc) || return 1
	# shellcheck disable=SC2086
	(cd /etc && timeout "$MOAT_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups \
		find $names "$@" 2>/dev/null) | sed 's|^|/etc/|' | sort
}

