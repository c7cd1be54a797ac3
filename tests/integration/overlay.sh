#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: the overlay root (sentry/fs/overlay.c). The host's files are
# the read-only lower layer, the guest's writes go to an in-memory upper
# layer: they work anywhere the view shows, are seen inside, and vanish at
# exit. Every check that writes also looks from outside that nothing reached
# the host.
. "$(dirname "$0")/lib.sh"

require_moat

U="moat-ovl-$$-$RANDOM"

# MOAT_TEST_UPPER=1 (overlay_upper.sh): every run but the --read-only ones
# keeps its upper layer on the host, in a fresh directory (--upper), to show
# the same semantics hold there.
if [ -n "${MOAT_TEST_UPPER:-}" ]; then
	UPPERS=$(host_tmpdir) || exit 99
	eval "t_mrun_plain() $(declare -f mrun | tail -n +2)"
	mrun()
	{
		case " $* " in *" --read-only "*) t_mrun_plain "$@"; return ;; esac
		local d
		d=$(mktemp -d "$UPPERS/u.XXXXXX") && chown 4242:4242 "$d" || return 99
		t_mrun_plain --upper "$d" "$@"
	}
	diag "every run with --upper (a fresh host directory each)"
fi

# host_unchanged PATH...: fingerprints of host paths (names, sizes, modes,
# times, contents of regular files), to compare before and after a run.
fingerprint()
{
	local p
	for p in "$@"; do
		if [ -d "$p" ]; then
			# Entries other tests make beside us (moat-*), and the
			# times of directories they write into, are left out.
			(cd "$p" && {
				find . -maxdepth 1 ! -type d ! -name 'moat-*' -printf '%p %s %m %T@ %y\n'
				find . -maxdepth 1 -type d ! -name 'moat-*' -printf '%p %m %y\n'
			} 2>/dev/null | sort)
		elif [ -e "$p" ]; then
			stat -c '%n %s %a %Y %i' "$p"
			sha256sum <"$p"
		else
			echo "$p absent"
		fi
	done
}

# --- writing anywhere --------------------------------------------------------
t_write_usr_etc()
{
	local before after out
	before=$(fingerprint /etc /usr/local /usr/local/bin /usr/local/lib)
	out=$(mrun -- /bin/sh -c "set -e
		echo x > /etc/motd-$U; cat /etc/motd-$U
		mkdir -p /usr/local/lib/$U && cp /bin/ls /usr/local/bin/$U
		/usr/local/bin/$U -d /usr/local/lib/$U
		cmp /bin/ls /usr/local/bin/$U && echo same
		test -x /usr/local/bin/$U && echo exec
		ls /usr/local/bin | grep -c '^$U\$'") || { echo "$out" >&2; return 1; }
	echo "$out" >&2
	[ "$out" = "x
/usr/local/lib/$U
same
exec
1" ] || return 1
	after=$(fingerprint /etc /usr/local /usr/local/bin /usr/local/lib)
	[ "$before" = "$after" ] || { echo "the host changed" >&2; diff <(echo "$before") <(echo "$after") >&2; return 1; }
	[ ! -e "/etc/motd-$U" ] && [ ! -e "/usr/local/bin/$U" ] && [ ! -e "/usr/local/lib/$U" ]
}
check "writes into /etc and /usr/local work inside, read back, and never reach the host" t_write_usr_etc
check_output "... and are gone in the next sandbox" "gone" \
	mrun -- /bin/sh -c "test -e /etc/motd-$U || test -e /usr/local/bin/$U || echo gone"

t_new_dirs()
{
	local out
	out=$(mrun -- /bin/sh -c "mkdir -p /var/lib/$U /opt/$U/x && echo v > /var/lib/$U/f && cat /var/lib/$U/f && ls /opt/$U") || return 1
	[ "$out" = "v
x" ] && [ ! -e "/var/lib/$U" ] && [ ! -e "/opt/$U" ]
}
check "new directories under / (/var, /opt) work and stay inside" t_new_dirs

# --- removing lower files and directories --------------------------------------
t_rm_lower()
{
	local f=/etc/debian_version before out
	[ -f $f ] || f=/etc/os-release
	before=$(fingerprint $f)
	out=$(mrun -- /bin/sh -c "rm $f && ls /etc | grep -cx '${f#/etc/}'; cat $f 2>/dev/null || echo absent; test -e $f || echo gone") || return 1
	echo "$out" >&2
	[ "$out" = "0
absent
gone" ] && [ "$(fingerprint $f)" = "$before" ]
}
check "rm of a lower file: ls no longer shows it, the host file is intact" t_rm_lower

t_rmrf_recreate()
{
	local d=/usr/share/zoneinfo before out
	[ -d $d ] || d=/usr/share/doc
	before=$(fingerprint $d)
	out=$(mrun -- /bin/sh -c "set -e; n=\$(ls $d | wc -l); test \$n -gt 3
		rm -rf $d; test ! -e $d; ls ${d%/*} | grep -cx ${d##*/} || true
		mkdir $d; ls -A $d | wc -l; echo new > $d/f; ls -A $d
		rmdir $d 2>/dev/null || rm $d/f; rmdir $d; test ! -e $d && echo removed") || { echo "$out" >&2; return 1; }
	echo "$out" >&2
	[ "$out" = "0
0
f
removed" ] && [ "$(fingerprint $d)" = "$before" ]
}
check "rm -rf of a lower directory, then mkdir: the new one is empty (opaque)" t_rmrf_recreate

# --- changing lower files --------------------------------------------------------
t_sed_i()
{
	local before out
	before=$(fingerprint /etc/passwd)
	out=$(mrun -- /bin/sh -c "sed -i 's/^root:/ROOT:/' /etc/passwd && head -n 1 /etc/passwd | cut -d: -f1; grep -c '^root:' /etc/passwd; ls -A /etc | grep -c '^sed'; true") || return 1
	echo "$out" >&2
	[ "$out" = "ROOT
0
0" ] && [ "$(fingerprint /etc/passwd)" = "$before" ] && head -n 1 /etc/passwd | grep -q '^root:'
}
check "sed -i on a lower file (write a copy, rename over it)" t_sed_i

t_mv_dir()
{
	local d=/usr/share/man/man5 before out
	[ -d $d ] || d=/usr/share/bash-completion
	before=$(fingerprint "$d" "${d%/*}")
	out=$(mrun -- /bin/sh -c "
		python3 -c 'import os, errno
try:
    os.rename(\"$d\", \"$d-$U\")
except OSError as e:
    print(errno.errorcode[e.errno])'
		n=\$(find $d | wc -l); mv $d $d-$U && test ! -e $d && m=\$(find $d-$U | wc -l) && [ \$n = \$m ] && echo moved \$(ls -A / | wc -l)
		mv $d-$U/.. /nowhere 2>/dev/null; mv $d-$U $d && test -d $d && echo back") || return 1
	echo "$out" >&2
	[ "$(sed -n 1p <<<"$out")" = EXDEV ] && grep -q '^moved' <<<"$out" && grep -qx back <<<"$out" &&
		[ "$(fingerprint "$d" "${d%/*}")" = "$before" ] && [ ! -e "$d-$U" ]
}
check "mv of a lower directory: rename gives EXDEV, mv copies and deletes" t_mv_dir

t_chmod_touch()
{
	local f=/etc/bash.bashrc before out
	[ -f $f ] || f=/etc/profile
	before=$(fingerprint $f)
	out=$(mrun -- /bin/sh -c "a=\$(stat -c '%i %d %s %u %g' $f); sum=\$(sha256sum < $f)
		chmod 600 $f && touch -d '2001-02-03 04:05:06' $f
		stat -c '%a %y' $f; [ \"\$(stat -c '%i %d %s %u %g' $f)\" = \"\$a\" ] && echo same-identity
		[ \"\$(sha256sum < $f)\" = \"\$sum\" ] && echo same-data
		exec 3<$f; [ \"\$(stat -L -c '%i %d' /dev/fd/3)\" = \"\$(stat -c '%i %d' $f)\" ] && echo fstat-agrees") || return 1
	echo "$out" >&2
	[ "$out" = "600 2001-02-03 04:05:06.000000000 +0000
same-identity
same-data
fstat-agrees" ] && [ "$(fingerprint $f)" = "$before" ]
}
check "chmod and touch -d on a lower file: stat shows them, st_ino/size/owner/data kept" t_chmod_touch

t_hardlink()
{
	local f=/etc/passwd out
	out=$(mrun -- /bin/sh -c "ln $f /etc/$U && stat -c '%h' $f /etc/$U && [ \"\$(stat -c %i $f)\" = \"\$(stat -c %i /etc/$U)\" ] && echo same-ino
		echo appended >> /etc/$U; tail -n 1 $f; rm $f; stat -c %h /etc/$U") || return 1
	echo "$out" >&2
	[ "$out" = "2
2
same-ino
appended
1" ] && [ ! -e "/etc/$U" ] && ! grep -q appended $f
}
check "hard link to a lower file: one inode, two names, the host file untouched" t_hardlink

t_truncate_open()
{
	local f=/etc/passwd out
	out=$(mrun -- /bin/sh -c ": > $f && stat -c %s $f && echo new > $f && cat $f && truncate -s 2 $f && stat -c %s $f") || return 1
	[ "$out" = "0
new
2" ] && [ -s $f ] && grep -q '^root:' $f
}
check "O_TRUNC and truncate of a lower file copy it up; the host's keeps its data" t_truncate_open

t_big_copy_up()
{
	local f out before
	f=$(find /usr/bin /usr/lib -maxdepth 2 -type f -size +4M -perm -o=r 2>/dev/null | head -n 1)
	[ -n "$f" ] || { echo "no large file to copy up" >&2; return 0; }
	before=$(fingerprint "$f")
	# While one process copies the file up (chmod), others keep working.
	out=$(mrun -- /bin/sh -c "a=\$(stat -c %i '$f'); (chmod o-x '$f'; echo chmod-done) & for i in 1 2 3 4 5; do ls / >/dev/null; done; wait
		stat -c '%a' '$f' && [ \"\$(stat -c %i '$f')\" = \"\$a\" ] && echo same-ino
		sha256sum < '$f'") || { echo "$out" >&2; return 1; }
	echo "$out" >&2
	grep -qx chmod-done <<<"$out" && grep -qx same-ino <<<"$out" &&
		grep -qF "$(sha256sum <"$f")" <<<"$out" && [ "$(fingerprint "$f")" = "$before" ]
}
check "copy-up of a large lower file keeps its data and number; the host file is untouched" t_big_copy_up

# --- listings --------------------------------------------------------------------------
PY_DIRS='
import ctypes, os, struct, sys
D = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(512)   # a few entries per call

def getdents(fd):
    """One getdents64 call: [(name, d_off, d_ino)]."""
    n = libc.syscall(217, fd, buf, len(buf))
    assert n >= 0, ctypes.get_errno()
    out, i, raw = [], 0, buf.raw
    while i < n:
        ino, off, reclen = struct.unpack_from("<QqH", raw, i)
        out.append((raw[i + 19:i + reclen].split(b"\0")[0].decode(), off, ino))
        i += reclen
    return out

def read_all(fd):
    out = []
    while True:
        batch = getdents(fd)
        if not batch:
            return out
        out += batch

lower = sorted(os.listdir(D))
files = [n for n in lower if os.path.isfile(os.path.join(D, n)) and not os.path.islink(os.path.join(D, n))]
assert len(files) >= 60, len(files)
want = set(lower)
fd0 = os.open(D, os.O_RDONLY | os.O_DIRECTORY)
first = read_all(fd0)            # a listing told before any change
for i in range(300):
    open(os.path.join(D, "new-%d" % i), "w").write(str(i))
    want.add("new-%d" % i)
for i, n in enumerate(files[:40]):
    os.rename(os.path.join(D, n), os.path.join(D, "ren-%d" % i))
    want.discard(n); want.add("ren-%d" % i)
for n in files[40:60]:
    os.unlink(os.path.join(D, n))
    want.discard(n)
for i in range(0, 300, 3):
    os.rename(os.path.join(D, "new-%d" % i), os.path.join(D, "moved-%d" % i))
    want.discard("new-%d" % i); want.add("moved-%d" % i)
os.rename(os.path.join(D, "ren-0"), os.path.join(D, files[0]))   # back over its whiteout
want.discard("ren-0"); want.add(files[0])
os.mkdir(os.path.join(D, "sub")); want.add("sub")

# listdir and scandir: merged, no duplicates, no whited-out names, d_ino = st_ino.
ls = os.listdir(D)
assert len(ls) == len(set(ls)), "duplicates in listdir"
assert set(ls) == want, sorted(set(ls) ^ want)[:10]
sc = list(os.scandir(D))
assert sorted(e.name for e in sc) == sorted(ls)
for e in sc:
    st = os.lstat(e.path)
    assert e.inode() == st.st_ino, (e.name, e.inode(), st.st_ino)
    assert e.is_dir(follow_symlinks=False) == (os.path.isdir(e.path) and not os.path.islink(e.path))
assert open(os.path.join(D, "moved-3")).read() == "3"

# Positions told before the changes still name their entries (seekdir,
# here lseek on the directory fd), for every entry that is still there.
prev = 0
for name, off, ino in first:
    os.lseek(fd0, prev, os.SEEK_SET)
    got = getdents(fd0)
    if name in want:
        assert got and got[0][0] == name, (prev, name, got[:1])
    prev = off
os.close(fd0)

# Reading on while names are added and removed: nothing twice, and every
# name there all along is seen (whether the others show is unspecified).
fd1 = os.open(D, os.O_RDONLY | os.O_DIRECTORY)
seen = []
for _ in range(5):
    seen += getdents(fd1)
gone = [n for n in sorted(want) if n.startswith("new-")][:40]
for i in range(50):
    open(os.path.join(D, "late-%d" % i), "w").close()
for n in gone:
    os.unlink(os.path.join(D, n))
os.lseek(fd1, seen[-1][1], os.SEEK_SET)   # telldir/seekdir to where we were
seen += read_all(fd1)
names = [n for n, _, _ in seen]
assert len(names) == len(set(names)), "an entry came twice"
stayed = want - set(gone)
assert stayed <= set(names) | {".", ".."}, sorted(stayed - set(names))[:5]
os.close(fd1)

# Remove every entry while reading the directory, as rm -r does.
for e in os.scandir(D):
    if not e.is_dir(follow_symlinks=False):
        os.unlink(e.path)
rest = os.listdir(D)
assert all(os.path.isdir(os.path.join(D, n)) and not os.path.islink(os.path.join(D, n)) for n in rest), rest[:5]
print("ok", len(want))
'
t_listing()
{
	local d=/usr/include before out
	[ -d $d ] || d=/usr/share/zoneinfo
	before=$(fingerprint $d)
	out=$(mrun -- python3 -c "$PY_DIRS" $d 2>&1)
	echo "$out" >&2
	grep -q '^ok ' <<<"$out" && [ "$(fingerprint $d)" = "$before" ]
}
check "many creates, renames, unlinks in a lower directory: listdir, scandir, stable positions" t_listing

# --- identities, masks, host permissions -------------------------------------------
check_output "st_ino and st_dev are the same before and after copy-up, in stat and getdents" "ok" \
	mrun -- python3 -c '
import os
p = "/etc/passwd"
a = os.stat(p)
d = {e.name: e.inode() for e in os.scandir("/etc")}
os.chmod(p, 0o640)
b = os.stat(p)
assert (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev), (a, b)
assert d["passwd"] == a.st_ino == {e.name: e.inode() for e in os.scandir("/etc")}["passwd"]
os.rename(p, "/etc/passwd.moved")
c = os.stat("/etc/passwd.moved")
assert (c.st_ino, c.st_dev) == (a.st_ino, a.st_dev), (a, c)
open("/etc/new-file", "w").close()
n = os.stat("/etc/new-file")
inos = {os.lstat("/etc/" + x).st_ino for x in os.listdir("/etc")}
assert len(inos) >= len(os.listdir("/etc")) - 4, "inode numbers collide"
print("ok")'

t_masks()
{
	local secret out
	secret=$(head -n 1 /etc/shadow 2>/dev/null | cut -d: -f1-2)
	out=$(mrun -- /bin/sh -c "
		cat /etc/shadow 2>/dev/null; echo mine > /etc/shadow; cat /etc/shadow; rm /etc/shadow
		cat /etc/shadow 2>/dev/null; ls -A /etc | grep -x shadow
		mkdir -p /etc/ssl/private 2>/dev/null; ls -A /etc/ssl/private; rmdir /etc/ssl/private
		ls -A /etc/ssl/private 2>/dev/null; touch /etc/sudoers; cat /etc/sudoers
		mv /etc/ssl /etc/ssl2 2>/dev/null; ls -A /etc/ssl2/private 2>/dev/null; cat /etc/ssl2/private/* 2>/dev/null
		ln /etc/shadow /tmp/l 2>/dev/null; cat /etc/gshadow 2>/dev/null; echo end")
	echo "$out" >&2
	[ "$out" = "mine
end" ] || return 1
	[ -z "$secret" ] || ! grep -qF "$secret" <<<"$out"
}
check "masked secrets stay hidden: creating, removing, renaming over them shows only the guest's" t_masks

t_hostperm()
{
	local d out
	d=$(host_tmpdir /var/tmp) || return 1
	chmod 755 "$d"
	echo secret >"$d/key"
	chmod 600 "$d/key"
	mkdir "$d/priv" && echo inner >"$d/priv/f" && chmod 644 "$d/priv/f" && chmod 700 "$d/priv"
	out=$(mrun --rootfs / -- /bin/sh -c "
		cat $d/key 2>&1 >/dev/null | grep -o 'Permission denied'
		chmod 644 $d/key 2>&1 >/dev/null | grep -o 'Permission denied'; cat $d/key 2>/dev/null
		ln $d/key $d/k2 2>/dev/null; cat $d/k2 2>/dev/null; mv $d/key $d/k3 2>/dev/null; cat $d/k3 2>/dev/null
		chmod 755 $d/priv 2>/dev/null; ls $d/priv 2>/dev/null; cat $d/priv/f 2>/dev/null; echo end")
	echo "$out" >&2
	[ "$out" = "Permission denied
Permission denied
end" ] && [ "$(stat -c %a "$d/key")" = 600 ] && [ "$(stat -c %a "$d/priv")" = 700 ]
}
check "--rootfs /: a root-only host file or directory stays unreadable (no copy-up around it)" t_hostperm

# --- modes -------------------------------------------------------------------------------
check_output "--read-only: writes outside the in-memory mounts give EROFS" \
	"EROFS EROFS EROFS EROFS OK" mrun --read-only -- python3 -c '
import os, errno
def e(fn, *a):
    try:
        fn(*a)
        return "OK"
    except OSError as x:
        return errno.errorcode[x.errno]
print(e(os.mkdir, "/usr/local/x"), e(os.unlink, "/etc/os-release"), e(os.chmod, "/etc/os-release", 0o600),
      e(open, "/etc/x", "w"), e(open, "/tmp/x", "w"))'

t_rootfs_image()
{
	local img out
	img=$(host_tmpdir) || return 1
	mkdir -p "$img/bin" "$img/etc" "$img/data"
	cp /bin/busybox "$img/bin/" 2>/dev/null || return 0
	echo original >"$img/data/f"
	out=$(mrun --rootfs "$img" -- /bin/busybox sh -c 'echo changed > /data/f; echo n > /etc/new; /bin/busybox cat /data/f /etc/new; /bin/busybox rm /bin/busybox 2>&1; /bin/busybox true 2>/dev/null || echo rm-ok')
	echo "$out" >&2
	[ "$(cat "$img/data/f")" = original ] && [ ! -e "$img/etc/new" ] && [ -e "$img/bin/busybox" ] &&
		grep -q '^changed$' <<<"$out" && grep -q '^n$' <<<"$out"
}
if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
	check "--rootfs DIR (an image): writes stay in the overlay, the image is untouched" t_rootfs_image
else
	skip "--rootfs DIR (an image): writes stay in the overlay, the image is untouched" "no static busybox"
fi

# --- a package-manager style workload ------------------------------------------------------
t_venv()
{
	local out
	/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "no venv/ensurepip on the host" >&2; return 0; }
	out=$(MOAT_TIMEOUT=180 mrun -- /bin/sh -c 'python3 -m venv /opt/v && /opt/v/bin/python -c "import sys; print(sys.prefix)" && /opt/v/bin/pip --version >/dev/null && echo pip-ok') || { echo "$out" >&2; return 1; }
	[ "$out" = "/opt/v
pip-ok" ] && [ ! -e /opt/v ]
}
check "python3 -m venv /opt/v works in the root (and /opt/v never reaches the host)" t_venv

done_testing
