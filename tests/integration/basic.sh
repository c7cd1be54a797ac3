#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: real programs run under `moat run` as they do natively; exit
# statuses, environment, cwd, options, /dev, /proc, the CLI.
. "$(dirname "$0")/lib.sh"

require_moat

# --- programs behave as natively -------------------------------------------
check_same "sh: echo and ls /usr | head -3 as natively" \
	/bin/sh -c 'echo hi; ls /usr | head -3'

t_python()
{
	local out ls want
	out=$(mrun -- python3 -c 'import os, json, sqlite3; print(sorted(os.listdir("/"))[:3])') || return 1
	ls=$(mrun -- /bin/sh -c 'ls -A / | sort | head -3') || return 1
	mapfile -t a <<<"$ls"
	want="['${a[0]}', '${a[1]}', '${a[2]}']"
	echo "python: $out; ls: $want" >&2
	[ "$out" = "$want" ]
}
check "python3 imports os, json, sqlite3 and lists / like ls does" t_python

t_proc_fd()
{
	local out
	out=$(mrun -- /bin/ls -la /proc/self/fd) || return 1
	echo "$out" >&2
	for fd in 0 1 2; do
		grep -Eq " $fd -> " <<<"$out" || return 1
	done
}
check "ls -la /proc/self/fd lists fds 0, 1, 2" t_proc_fd

check_output "readlink /proc/self/fd/N gives the sandbox path" /etc/passwd \
	mrun -- /bin/sh -c 'exec 3</etc/passwd; readlink /proc/self/fd/3'
# An emulated open gets the lowest free number, as natively (the ptrace
# platform's install once gave the number above its own socket's).
check_output "open after close(0), close(4) gets 0, then 4: the lowest free numbers" "0 4 5" \
	mrun -- python3 -c 'import os
a = os.open("/dev/null", 0); b = os.open("/dev/null", 0)
os.close(0); os.close(4)
print(os.open("/etc/passwd", 0), os.open("/dev/null", 0), os.open("/etc/passwd", 0))'
check_output "readlink /proc/self/exe gives the sandbox path" /usr/bin/readlink \
	mrun -- /usr/bin/readlink /proc/self/exe

t_maps()
{
	local out paths bad=0 p
	out=$(mrun -- /bin/cat /proc/self/maps) || return 1
	grep -q 'libc\.so\.6' <<<"$out" || { echo "no libc.so.6 in maps" >&2; bad=1; }
	grep -Eq ' /(usr/)?bin/cat$' <<<"$out" || { echo "no /usr/bin/cat in maps" >&2; bad=1; }
	paths=$(awk '$6 ~ /^\// && $6 !~ /^\/memfd:/ && $7 != "(deleted)" { print $6 }' <<<"$out" | sort -u)
	# Every file named in the maps exists in the sandbox's own view.
	missing=$(mrun -- /bin/sh -c 'for p; do test -e "$p" || echo "$p"; done' sh $paths)
	if [ -n "$missing" ]; then
		echo "paths not in the sandbox: $missing" >&2
		bad=1
	fi
	for p in "$MOAT" "$T_TMP" /root /home /proc/; do
		if grep -qF -- "$p" <<<"$out"; then
			echo "maps mention host path $p" >&2
			bad=1
		fi
	done
	[ "$bad" = 0 ] || { echo "$out" >&2; return 1; }
}
check "cat /proc/self/maps names only sandbox paths" t_maps

t_find_conf()
{
	# /etc shows an allowlist, with host permissions (see sentry/sandbox/config.c).
	etc_find -name '*.conf' >"$T_TMP/f.native"
	mrun -- /usr/bin/find /etc -name '*.conf' 2>/dev/null | sort >"$T_TMP/f.moat"
	echo "native $(wc -l <"$T_TMP/f.native"), moat $(wc -l <"$T_TMP/f.moat")" >&2
	[ -s "$T_TMP/f.native" ] && diff -u "$T_TMP/f.native" "$T_TMP/f.moat" >&2
}
check "find /etc -name '*.conf' finds what the host has" t_find_conf
check_output "find /etc -type d | wc -l equals what an unprivileged host user sees (masks aside)" \
	"$(etc_find -path ssl/private -prune -o -type d -print | wc -l)" mrun -- /bin/sh -c 'find /etc -mindepth 1 -type d 2>/dev/null | wc -l'

check_same "sort, awk and a pipeline as natively" \
	/bin/sh -c 'printf "pear\napple\nfig\n" | sort | awk "{ printf \"%s-\", \$1 } END { print NR }"'
check_same "nested \$(...) as natively" \
	/bin/sh -c 'echo "$(echo outer $(echo inner $(ls /usr | wc -l)))"'
check_same "sort -n over ls -l /usr/bin as natively" \
	/bin/sh -c 'ls -l /usr/bin | awk "{ print \$5 }" | sort -n | tail -3'
check_same "wc and md5sum of a system file as natively" \
	/bin/sh -c 'wc -c /etc/passwd; md5sum /usr/bin/true'
check_same "ls -R of the python library (first 200 lines) as natively" \
	/bin/sh -c 'ls -R /usr/lib/python3* 2>/dev/null | head -200 | md5sum'

# --- exit statuses -----------------------------------------------------------
check_status "sh -c 'exit 3' gives 3" 3 mrun -- /bin/sh -c 'exit 3'
check_status "false gives 1" 1 mrun -- /bin/false
check_output "a child killed by SIGKILL is seen as 137 inside" 137 \
	mrun -- /bin/sh -c 'sh -c "kill -9 \$\$"; echo $?'
check_status "the main guest killing itself with SIGKILL gives 137" 137 \
	mrun -- /bin/sh -c 'kill -9 $$'
check_status "the main guest killed by SIGTERM gives 143" 143 \
	mrun -- /bin/sh -c 'kill -TERM $$'

t_kill_outside()
{
	local tag="moat-basic-kill-$$-$RANDOM" rc left
	start_guest "$tag" 'import time; print("ready", flush=True); time.sleep(100)' || return 1
	echo "guest host pid $GUEST_PID: $(tr '\0' ' ' </proc/"$GUEST_PID"/cmdline)" >&2
	kill -9 "$GUEST_PID"
	wait "$MOAT_PID"
	rc=$?
	echo "moat exited $rc" >&2
	sleep 0.2
	left=$(pgrep -f -- "$tag")
	[ -z "$left" ] || echo "processes left after moat exited: $left" >&2
	[ "$rc" = 137 ] && [ -z "$left" ]
}
check "main guest SIGKILLed from outside: moat exits 137, nothing left behind" t_kill_outside

# --- environment and cwd ----------------------------------------------------
# The command's own environment, read by env(1) itself (a shell would add
# PWD), sorted outside the sandbox.
t_env()
{
	env MOAT_TEST_SECRET=leak TERM=xterm "$MOAT" run "$@" -- /usr/bin/env >"$T_TMP/env" || return 1
	grep -E "^(A|B)=" "$T_TMP/env" | sort
	cut -d= -f1 "$T_TMP/env" | grep -Ev "^(A|B)$" | sort
}
check_output "environment: only HOME, PATH, TERM" "$(printf 'HOME\nPATH\nTERM')" t_env
check_output "--env adds variables" "$(printf 'A=1\nB=two words\nHOME\nPATH\nTERM')" \
	t_env --env A=1 --env 'B=two words'
check_output "default cwd is /" / mrun -- /bin/pwd
check_output "--cwd /usr/share" /usr/share mrun --cwd /usr/share -- /bin/pwd
check_output "--cwd /tmp, relative paths follow it" "/tmp
x" mrun --cwd /tmp -- /bin/sh -c 'pwd; echo x > f; cat /tmp/f'

# --- options: --bind, --tmpfs, --rootfs, --debug -----------------------------
HOSTD=$(host_tmpdir)
echo "from the host" >"$HOSTD/hello"
mkdir "$HOSTD/rw"
check_output "--bind SRC:DST:ro shows the host file" "from the host" \
	mrun --bind "$HOSTD:/data:ro" -- /bin/cat /data/hello
check "--bind SRC:DST:ro refuses writes" \
	mrun --bind "$HOSTD:/data:ro" -- /bin/sh -c '! echo x > /data/new && ! rm /data/hello'
check "... and nothing changed on the host" \
	/bin/sh -c "test ! -e '$HOSTD/new' && test \"\$(cat '$HOSTD/hello')\" = 'from the host'"
chown 4242:4242 "$HOSTD/rw"
check_output "--bind SRC:DST:rw writes reach the host" "written inside" \
	/bin/sh -c "'$MOAT' run --bind '$HOSTD/rw:/out:rw' -- /bin/sh -c 'echo written inside > /out/f' </dev/null && cat '$HOSTD/rw/f'"
check "--bind SRC:DST (no mode) is read-only" \
	mrun --bind "$HOSTD/rw:/out" -- /bin/sh -c '! echo x > /out/probe'
check_output "--tmpfs DST gives an empty writable directory" "0
ok" mrun --tmpfs /scratch -- /bin/sh -c 'ls -A /scratch | wc -l; echo ok > /scratch/f; cat /scratch/f'

t_rootfs_host()
{
	local d
	d=$(host_tmpdir /var/tmp) || return 1
	# Host files show with the permissions of an unprivileged host user.
	chmod 755 "$d"
	echo visible >"$d/marker"
	chmod 644 "$d/marker"
	[ "$(mrun --rootfs / -- /bin/cat "$d/marker")" = visible ] || return 1
	# Writes go to the overlay: seen inside, never on the host.
	[ "$(mrun --rootfs / -- /bin/sh -c "echo x > '$d/new' && echo y >> '$d/marker' && cat '$d/new' '$d/marker'")" = "x
visible
y" ] || return 1
	test ! -e "$d/new" && [ "$(cat "$d/marker")" = visible ] || return 1
	mrun --rootfs / --read-only -- /bin/sh -c "echo x > '$d/new'" && return 1
	test ! -e "$d/new"
}
check "--rootfs / shows the host's files; writes stay in the overlay (--read-only: refused)" t_rootfs_host

check "--debug runs the guest" mrun --debug -- /bin/true

# --- /dev and /tmp ------------------------------------------------------------
check_output "/dev has null, zero, full, random, urandom, tty, shm, and fd links" \
	"full null random shm tty urandom zero fd stdin stdout stderr" \
	mrun -- /bin/sh -c 'cd /dev && { for f in null zero full random urandom tty shm; do test -e $f && echo $f; done | sort; for f in fd stdin stdout stderr; do test -L $f && echo $f; done; } | paste -sd" "'
t_dev_std_files()
{
	local script='cat /dev/stdin; echo to-stdout >> /dev/stdout; echo to-stderr >> /dev/stderr'
	echo "from a host file" >"$T_TMP/in"
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" run -- /bin/sh -c "$script" \
		<"$T_TMP/in" >"$T_TMP/o1" 2>"$T_TMP/o2"
	echo "status $?, stdout [$(cat "$T_TMP/o1")], stderr [$(cat "$T_TMP/o2")]" >&2
	[ "$(cat "$T_TMP/o1")" = "from a host file
to-stdout" ] && [ "$(cat "$T_TMP/o2")" = to-stderr ]
}
check "/dev/stdin, /dev/stdout, /dev/stderr open when moat's stdio are host files" t_dev_std_files
check_output "/dev/zero, /dev/urandom, /dev/null, /dev/full work" "4096 16 0 full-fails" \
	mrun -- /bin/sh -c 'a=$(head -c 4096 /dev/zero | wc -c); b=$(head -c 16 /dev/urandom | wc -c); c=$(echo x > /dev/null; wc -c </dev/null); echo x > /dev/full 2>/dev/null && d=full-ok || d=full-fails; echo $a $b $c $d'
check_output "/dev/shm is writable" shm \
	mrun -- /bin/sh -c 'echo shm > /dev/shm/x && cat /dev/shm/x'
check_output "/tmp starts empty and holds a 20 MB file" "0
20000000" mrun -- /bin/sh -c 'ls -A /tmp | wc -l; head -c 20000000 /dev/zero > /tmp/big; wc -c < /tmp/big'
check "/proc/self/status names the process" \
	mrun -- /bin/sh -c 'grep -q "^Name:.*grep" /proc/self/status'

# --- the CLI -----------------------------------------------------------------
t_one_line_error()
{
	local want=$1 rc lines
	shift
	timeout -k 5 "$MOAT_TIMEOUT" "$MOAT" "$@" >"$T_TMP/o" 2>"$T_TMP/e" </dev/null
	rc=$?
	lines=$(wc -l <"$T_TMP/e")
	echo "exit $rc, stderr ($lines lines): $(cat "$T_TMP/e")" >&2
	[ "$rc" = "$want" ] && [ "$lines" = 1 ] && [ ! -s "$T_TMP/o" ]
}
check "a bad option: exit 2, one line on stderr" \
	t_one_line_error 2 run --no-such-option -- /bin/true
check "a missing --rootfs: exit 2, one line on stderr" \
	t_one_line_error 2 run --rootfs /nonexistent/moat-rootfs -- /bin/true
check "a bad --bind (no such source): exit 125, one line on stderr" \
	t_one_line_error 125 run --bind /nonexistent/moat-src:/data -- /bin/true
check "an unknown verb: exit 2, one line on stderr" t_one_line_error 2 no-such-verb
check_status "moat run without a command exits 2" 2 "$MOAT" run

t_help()
{
	local out
	out=$("$MOAT" "$@") || return 1
	echo "$out" >&2
	for w in "${HELP_WORDS[@]}"; do
		grep -q -- "$w" <<<"$out" || { echo "help lacks $w" >&2; return 1; }
	done
}
HELP_WORDS=(run syscalls)
check "moat --help exits 0 and lists the verbs" t_help --help
HELP_WORDS=(--rootfs --bind --bind-owner --tmpfs --env --cwd --audit-log --debug)
check "moat run --help exits 0 and lists the options" t_help run --help

t_syscalls()
{
	local out
	out=$("$MOAT" syscalls) || return 1
	for name in getpid openat execve mount ptrace; do
		grep -Eq "\\b$name\\b" <<<"$out" || { echo "no $name in the table" >&2; return 1; }
	done
	grep -E '\b(getpid|openat|mount)\b' <<<"$out" >&2
	for d in PASS EMULATE EXEC DENY; do
		grep -q "$d" <<<"$out" || { echo "no $d in the table" >&2; return 1; }
	done
}
check "moat syscalls prints the table" t_syscalls

done_testing
