#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: read-write binds (--bind SRC:DST:rw, --bind-owner). Real
# programs write into a bound host directory; everything that matters is
# checked from the host: contents, owners, and that nothing outside the bind
# changed.
. "$(dirname "$0")/lib.sh"

require_moat

OU=4242
OG=4343
# A host directory owned by the test's bind owner, removed at exit.
owned_dir()
{
	local d
	d=$(host_tmpdir) || return 1
	chown "$OU:$OG" "$d"
	echo "$d"
}

# Every object under DIR is owned by OU:OG (DIR itself included).
all_owned() { [ -z "$(find "$1" \( ! -uid "$OU" -o ! -gid "$OG" \) -print -quit)" ]; }

H=$(owned_dir)

# --- basics and ownership ----------------------------------------------------------
check_output "a write in a :rw bind reaches the host, owned by --bind-owner" "hello $OU:$OG 644" \
	sh -c "'$MOAT' run --bind-owner $OU:$OG --bind '$H:/b:rw' -- /bin/sh -c 'umask 022; echo hello > /b/f' </dev/null &&
		echo \"\$(cat '$H/f') \$(stat -c '%u:%g %a' '$H/f')\""

check_output "the owner is root inside, and what root makes is its own" "0 0
0:0
0:0" \
	mrun --bind-owner "$OU:$OG" --bind "$H:/b:rw" -- /bin/sh -c \
	'stat -c "%u %g" /b/f; mkdir /b/sub; stat -c "%u:%g" /b/sub; touch /b/sub/x; stat -c "%u:%g" /b/sub/x'

D2=$(host_tmpdir)
chown 4100:4101 "$D2"
check_output "without --bind-owner, files belong to the owner of SRC" "4100:4101" \
	sh -c "'$MOAT' run --bind '$D2:/b:rw' -- /bin/sh -c 'echo x > /b/f' </dev/null && stat -c %u:%g '$D2/f'"

check "nothing the guest made in the binds is root's on the host" all_owned "$H"

check_output "chown to root inside gives the file to the owner; other ids are not mapped" \
	"EINVAL 0:0 $OU:$OG" sh -c "echo data > '$H/rootfile' && '$MOAT' run --bind-owner $OU:$OG --bind '$H:/b:rw' -- python3 -c '
import os, errno
try:
    os.chown(\"/b/rootfile\", 5, 5); print(\"OK\", end=\" \")
except OSError as e:
    print(errno.errorcode[e.errno], end=\" \")
os.chown(\"/b/rootfile\", 0, 0); st = os.stat(\"/b/rootfile\"); print(\"%d:%d\" % (st.st_uid, st.st_gid), end=\" \")
' </dev/null && stat -c %u:%g '$H/rootfile'"

check_output "set-id bits never reach host files" "EPERM 644" \
	sh -c "'$MOAT' run --bind-owner $OU:$OG --bind '$H:/b:rw' -- python3 -c '
import os, errno
try:
    os.chmod(\"/b/f\", 0o4755); print(\"OK\", end=\" \")
except OSError as e:
    print(errno.errorcode[e.errno], end=\" \")
' </dev/null && stat -c %a '$H/f'"

check_output "user.* xattrs: set, read back, listed, removed; others refused" \
	"b'v1' ['user.k'] [] ENOTSUP / v2" sh -c "echo x > '$H/xf' && '$MOAT' run --bind-owner $OU:$OG --bind '$H:/b:rw' -- python3 -c '
import os, errno
os.setxattr(\"/b/xf\", \"user.k\", b\"v1\"); os.setxattr(\"/b/sub\", \"user.d\", b\"v2\")
print(os.getxattr(\"/b/xf\", \"user.k\"), os.listxattr(\"/b/xf\"), end=\" \")
os.removexattr(\"/b/xf\", \"user.k\"); print(os.listxattr(\"/b/xf\"), end=\" \")
try:
    os.setxattr(\"/b/xf\", \"trusted.k\", b\"1\"); print(\"OK\", end=\" \")
except OSError as e:
    print(errno.errorcode[e.errno], end=\" \")
' </dev/null && python3 -c \"import os; print('/', os.getxattr('$H/sub', 'user.d').decode())\""

# --- git ---------------------------------------------------------------------------
G=$(owned_dir)
GIT_SCRIPT='set -e
cd /b
git init -q -b main repo && cd repo
git config user.email t@moat && git config user.name moat
for i in 1 2 3; do echo "line $i" > f$i; done
git add . && git commit -qm one
git branch topic && git checkout -q topic
echo topic >> f1 && git commit -qam two
git checkout -q main
echo main > f4 && git add f4 && git commit -qm three
git merge -q --no-edit topic
git log --oneline | wc -l
git status --porcelain | wc -l'
if have git; then
	check_output "git init, add, commit, branch, merge in a rw bind" "4
0" mrun --bind-owner "$OU:$OG" --bind "$G:/b:rw" --env HOME=/root -- /bin/sh -c "$GIT_SCRIPT"
	check "git fsck --strict on the host is clean" \
		setpriv --reuid="$OU" --regid="$OG" --clear-groups env HOME=/ git -C "$G/repo" fsck --strict --no-progress
	check_output "the host sees the merged tree" "line 1
topic" sh -c "git -c safe.directory='*' -C '$G/repo' show HEAD:f1"
	check "every file git made is owned by the chosen owner" all_owned "$G"
else
	skip "git in a rw bind" "no git on the host"
fi

# --- tar xzf of a few hundred files ------------------------------------------------
SRC=$(host_tmpdir)
mkdir -p "$SRC/tree"
for d in 1 2 3 4 5 6; do
	mkdir -p "$SRC/tree/d$d/sub"
	for f in $(seq 1 40); do
		head -c $((f * 97 + d)) /dev/urandom >"$SRC/tree/d$d/f$f"
		[ $((f % 5)) = 0 ] && head -c 300 /dev/urandom >"$SRC/tree/d$d/sub/s$f"
	done
	ln -s "f1" "$SRC/tree/d$d/link"
	chmod 755 "$SRC/tree/d$d/f2"
done
tar czf "$SRC/tree.tgz" -C "$SRC" tree
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
T=$(owned_dir)
check "tar xzf of $(find "$SRC/tree" -type f | wc -l) files into a rw bind" \
	mrun --bind-owner "$OU:$OG" --bind "$SRC:/in:ro" --bind "$T:/out:rw" -- tar xzf /in/tree.tgz -C /out
check "the sha256sum lists on the host are identical" \
	sh -c "sums() { (cd \"\$1\" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
		[ \"\$(sums '$SRC/tree')\" = \"\$(sums '$T/tree')\" ] && [ -n \"\$(sums '$T/tree')\" ]"
check "modes, symlinks and mtimes came through" \
	sh -c "[ \"\$(stat -c %a '$T/tree/d3/f2')\" = 755 ] && [ \"\$(readlink '$T/tree/d3/link')\" = f1 ] &&
		[ \"\$(stat -c %Y '$T/tree/d3/f7')\" = \"\$(stat -c %Y '$SRC/tree/d3/f7')\" ]"
check "the extracted tree is owned by the chosen owner" all_owned "$T"

# --- make -j2 of a small C project -------------------------------------------------
if have gcc && have make; then
	P=$(owned_dir)
	for n in a b c d; do
		printf 'int %s(void) { return %d; }\n' "$n" "$(printf '%d' "'$n")" >"$P/$n.c"
	done
	cat >"$P/main.c" <<'EOF'
#include <stdio.h>
#include "p.h"
int main(void) { printf("%d\n", a() + b() + c() + d()); return 0; }
EOF
	printf 'int a(void);\nint b(void);\nint c(void);\nint d(void);\n' >"$P/p.h"
	printf 'OBJS = main.o a.o b.o c.o d.o\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n%%.o: %%.c p.h\n\t$(CC) -O1 -c -o $@ $<\nclean:\n\trm -f prog $(OBJS)\n' >"$P/Makefile"
	chown -R "$OU:$OG" "$P"
	check_output "make -j2 in a rw bind builds and runs" "394" \
		mrun --bind-owner "$OU:$OG" --bind "$P:/src:rw" --cwd /src -- /bin/sh -c 'make -s -j2 && ./prog'
	check_output "the objects and program are on the host, and run there" "394" \
		sh -c "ls '$P'/*.o >/dev/null && '$P/prog'"
	check "make clean in the bind removes them on the host" \
		sh -c "'$MOAT' run --bind-owner $OU:$OG --bind '$P:/src:rw' --cwd /src -- make -s clean </dev/null &&
			! ls '$P'/*.o 2>/dev/null && [ ! -e '$P/prog' ]"
else
	skip "make -j2 in a rw bind" "no gcc or make"
fi

# --- FIFOs ---------------------------------------------------------------------------
F=$(owned_dir)
check_output "mkfifo in a rw bind: two processes talk through it" "through the fifo" \
	mrun --bind-owner "$OU:$OG" --bind "$F:/b:rw" -- /bin/sh -c \
	'mkfifo /b/p && (echo through the fifo > /b/p &) && cat /b/p'
check "the FIFO is on the host, owned by the owner" \
	sh -c "[ -p '$F/p' ] && [ \"\$(stat -c %u:%g '$F/p')\" = $OU:$OG ]"
check_output "device nodes are refused" "EPERM" \
	mrun --bind-owner "$OU:$OG" --bind "$F:/b:rw" -- python3 -c '
import os, errno
try:
    os.mknod("/b/null", 0o666 | 0o020000, os.makedev(1, 3)); print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])'

# --- rename races that try to leave the bind -----------------------------------------
R=$(host_tmpdir)
mkdir "$R/bind" "$R/outside"
echo secret >"$R/outside/keep"
chown -R "$OU:$OG" "$R/bind"
ln -s "$R/outside" "$R/bind/hostlink"
ln -s ../outside "$R/bind/rel"
before=$(cd "$R" && find . -path ./bind -prune -o -print | sort; sha256sum outside/keep; stat -c '%a %u %Y' outside outside/keep)
RACE='
import os, threading, time
stop = time.time() + 3
def swapper():
    n = 0
    while time.time() < stop:
        for target in ("../outside", "/outside", "'"$R"'/outside", "hostlink", "rel"):
            try:
                os.mkdir("/b/d")
            except OSError:
                pass
            try:
                os.rename("/b/d", "/b/old%d" % n)
                n += 1
            except OSError:
                pass
            try:
                os.symlink(target, "/b/d")
            except OSError:
                pass
            try:
                os.rename("/b/d", "/b/gone")
                os.unlink("/b/gone")
            except OSError:
                pass
def writer():
    i = 0
    while time.time() < stop:
        i += 1
        for p in ("/b/d", "/b/hostlink", "/b/rel"):
            for op in (lambda: open(p + "/pwn%d" % i, "w").write("x"),
                       lambda: os.mkdir(p + "/pwnd%d" % i),
                       lambda: os.symlink("x", p + "/pwnl%d" % i),
                       lambda: os.rename(p + "/pwn%d" % i, p + "/pwnr%d" % i),
                       lambda: os.chmod(p + "/keep", 0o777),
                       lambda: os.truncate(p + "/keep", 0),
                       lambda: os.unlink(p + "/keep"),
                       lambda: os.link("/b/anchor", p + "/pwnh%d" % i),
                       lambda: os.mkfifo(p + "/pwnf%d" % i)):
                try:
                    op()
                except OSError:
                    pass
open("/b/anchor", "w").close()
ts = [threading.Thread(target=f) for f in (swapper, writer, writer)]
[t.start() for t in ts]
[t.join() for t in ts]
print("raced")
'
check_output "two guest threads race renames and symlinks in the bind" "raced" \
	mrun --bind-owner "$OU:$OG" --bind "$R/bind:/b:rw" -- python3 -c "$RACE"
after=$(cd "$R" && find . -path ./bind -prune -o -print | sort; sha256sum outside/keep; stat -c '%a %u %Y' outside outside/keep)
check "nothing outside the bind changed (checked from the host)" [ "$before" = "$after" ]
check "the host symlinks in the bind are untouched" \
	sh -c "[ \"\$(readlink '$R/bind/hostlink')\" = '$R/outside' ] && [ \"\$(readlink '$R/bind/rel')\" = ../outside ]"
check "no host path outside the bind holds anything the guest made" \
	sh -c "[ -z \"\$(find '$R' -path '$R/bind' -prune -o -name 'pwn*' -print)\" ]"

# --- changes made on the host while the sandbox runs --------------------------------
W=$(owned_dir)
echo old >"$W/gone"
WATCH='
set -e
ls /b > /dev/null
! test -e /b/fresh            # a negative lookup, cached
test -e /b/gone               # a positive one
echo ready
i=0; until ls /b | grep -qx fresh; do i=$((i+1)); [ $i -lt 200 ] || exit 3; sleep 0.05; done
cat /b/fresh
echo seen
i=0; while ls /b | grep -qx gone || test -e /b/gone; do i=$((i+1)); [ $i -lt 200 ] || exit 4; sleep 0.05; done
echo removed'
watch_host()
{
	"$MOAT" run --bind-owner "$OU:$OG" --bind "$W:/b:rw" -- /bin/sh -c "$WATCH" >"$T_TMP/watch" 2>&1 </dev/null &
	local pid=$!
	wait_for_file "$T_TMP/watch" ready || { kill "$pid"; cat "$T_TMP/watch"; return 1; }
	echo "made on the host" >"$W/fresh"
	wait_for_file "$T_TMP/watch" seen || { kill "$pid"; cat "$T_TMP/watch"; return 1; }
	rm "$W/gone"
	wait "$pid" || { cat "$T_TMP/watch"; return 1; }
	cat "$T_TMP/watch"
}
check_output "a file made on the host appears inside, one removed disappears (ls, stat)" "ready
made on the host
seen
removed" watch_host

# Attributes are read again in every call, also for what no walk
# revalidates (the cwd, an open file's path): a mode and size changed on
# the host show in the next stat.
A=$(owned_dir)
mkdir "$A/sub" && echo 1234 >"$A/sub/f" && chmod 755 "$A/sub" && chown -R "$OU:$OG" "$A/sub"
ATTRS='
cd /b/sub
stat -c "%a %s" . f
echo ready
i=0; until [ "$(stat -c %a .) $(stat -c %s f)" = "700 10" ]; do i=$((i+1)); [ $i -lt 200 ] || exit 3; sleep 0.05; done
stat -c "%a %s" . f'
attrs_host()
{
	"$MOAT" run --bind-owner "$OU:$OG" --bind "$A:/b:rw" -- /bin/sh -c "$ATTRS" >"$T_TMP/attrs" 2>&1 </dev/null &
	local pid=$!
	wait_for_file "$T_TMP/attrs" ready || { kill "$pid"; cat "$T_TMP/attrs"; return 1; }
	chmod 700 "$A/sub" && echo 123456789 >"$A/sub/f"
	wait "$pid" || { cat "$T_TMP/attrs"; return 1; }
	cat "$T_TMP/attrs"
}
# (A directory's size is its filesystem's: 4096 on ext4, 60 on tmpfs.)
DSZ=$(stat -c %s "$A/sub")
check_output "a mode and size changed on the host show in the next stat (the cwd too)" "755 $DSZ
644 5
ready
700 $DSZ
644 10" attrs_host

# --- the overlay root and the bind are separate mounts ------------------------------
O=$(owned_dir)
check_output "the bind is a mount of its own above the overlay root" "EXDEV moved" \
	mrun --bind-owner "$OU:$OG" --bind "$O:/opt/b:rw" -- python3 -c '
import os, errno, shutil
assert os.stat("/opt/b").st_dev != os.stat("/opt").st_dev
open("/opt/b/f", "w").write("x")
try:
    os.rename("/opt/b/f", "/opt/f"); print("OK", end=" ")
except OSError as e:
    print(errno.errorcode[e.errno], end=" ")
shutil.move("/opt/b/f", "/opt/f"); print("moved" if os.path.exists("/opt/f") else "lost")'
check "what moved into the overlay left the host" [ ! -e "$O/f" ]

# --- :ro (and the default) refuse every write ----------------------------------------
RO=$(owned_dir)
echo keep >"$RO/file"
mkdir "$RO/dir"
ro_before=$(cd "$RO" && find . -printf '%p %m %U %T@ %s\n' | sort)
RO_PY='
import os, errno
def e(fn, *a):
    try:
        fn(*a); return "OK"
    except OSError as x:
        return errno.errorcode[x.errno]
ops = [
    lambda: os.close(os.open("/b/new", os.O_CREAT | os.O_WRONLY, 0o644)),
    lambda: os.close(os.open("/b/file", os.O_WRONLY)),
    lambda: os.close(os.open("/b/file", os.O_RDONLY | os.O_TRUNC)),
    lambda: os.mkdir("/b/d2"), lambda: os.rmdir("/b/dir"), lambda: os.unlink("/b/file"),
    lambda: os.rename("/b/file", "/b/f2"), lambda: os.symlink("x", "/b/l"),
    lambda: os.link("/b/file", "/b/h"), lambda: os.mkfifo("/b/p"), lambda: os.chmod("/b/file", 0o600),
    lambda: os.chown("/b/file", 0, 0), lambda: os.truncate("/b/file", 0), lambda: os.utime("/b/file", (1, 1)),
    lambda: os.setxattr("/b/file", "user.x", b"1"),
]
print(" ".join(sorted(set(e(op) for op in ops))))'
check_output ":ro refuses every write with EROFS" "EROFS" \
	mrun --bind "$RO:/b:ro" -- python3 -c "$RO_PY"
check_output "a bind without a mode is read-only" "EROFS" \
	mrun --bind "$RO:/b" -- python3 -c "$RO_PY"
check "nothing appeared or changed on the host" \
	[ "$ro_before" = "$(cd "$RO" && find . -printf '%p %m %U %T@ %s\n' | sort)" ]

# --- bad input: one line on stderr, exit 125 ---------------------------------------
# t_bad ARGS...: moat run ARGS -- /bin/true exits 125 with exactly one line
# on stderr, and nothing on stdout.
t_bad()
{
	local out rc
	out=$("$MOAT" run "$@" -- /bin/true 2>&1 >/dev/null </dev/null)
	rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 125 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [ -n "$out" ]
}
FILE=$(host_tmpdir)/plain
echo x >"$FILE"
check "a missing --bind source" t_bad --bind /nonexistent/moat-src:/b:rw
check "a --bind of a directory over a file in the view" t_bad --bind "$H:/etc/passwd:rw"
check "a --bind of a file over a directory in the view" t_bad --bind "$FILE:/etc:rw"
check "a bad :mode" t_bad --bind "$H:/b:rx"
check "a bind spec without a destination" t_bad --bind "$H"
for owner in abc 0 0:5 5:0 -1 4294967295 "" 12:x 1:2:3; do
	check "a bad --bind-owner '$owner'" t_bad --bind-owner "$owner" --bind "$H:/b:rw"
done
ROOTD=$(host_tmpdir)
check "a :rw bind of a root-owned directory without --bind-owner" t_bad --bind "$ROOTD:/b:rw"
check "nothing was created in the refused binds" [ -z "$(ls -A "$ROOTD")" ]

done_testing
