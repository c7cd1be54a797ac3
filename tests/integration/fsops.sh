#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: the file-system, identity and information syscalls the
# sentry emulates (syscalls/sys_stat.c, sys_dir.c, sys_attr.c, sys_id.c,
# sys_info.c), exercised with coreutils, python3 and busybox in the sandbox.
. "$(dirname "$0")/lib.sh"

require_moat

# mpy CODE: run python3 -c CODE in the sandbox.
mpy() { mrun -- python3 -c "$1"; }

# --- names in /tmp -------------------------------------------------------------
check "mkdir, rename, unlink, rmdir in /tmp" \
	mrun -- /bin/sh -c 'set -e; mkdir /tmp/a; echo x > /tmp/a/f; mv /tmp/a/f /tmp/a/g
		test -e /tmp/a/g; ! test -e /tmp/a/f; mv /tmp/a /tmp/b; test -d /tmp/b
		rm /tmp/b/g; rmdir /tmp/b; ! test -e /tmp/b'

# Python run both natively and in the sandbox (check_same): the errnos must
# be the host kernel's. Each works in a fresh directory of its own /tmp.
PY_E='
import os, errno, tempfile, shutil, ctypes
top = tempfile.mkdtemp(); os.chdir(top)
def e(fn, *a):
    try:
        fn(*a)
        return "OK"
    except OSError as x:
        return errno.errorcode[x.errno]
libc = ctypes.CDLL(None, use_errno=True)
def renameat2(a, b, flags):
    if libc.renameat2(-100, a.encode(), -100, b.encode(), flags) == 0:
        return "OK"
    return errno.errorcode[ctypes.get_errno()]
'
check_same "errnos of mkdir, rmdir, unlink, rename corner cases as natively" python3 -c "$PY_E"'
os.mkdir("d"); open("d/f", "w").close(); open("f", "w").close(); os.symlink("f", "l")
print(e(os.mkdir, "d"), e(os.mkdir, "."), e(os.mkdir, "l"), e(os.rmdir, "."), e(os.rmdir, ".."),
      e(os.rmdir, "d"), e(os.rmdir, "f"), e(os.rmdir, "l"), e(os.unlink, "d"), e(os.unlink, "f/"),
      e(os.unlink, "nope"), e(os.rename, ".", "x"), e(os.rename, "d", "d/sub"), e(os.rename, "nope", "x"),
      e(os.rename, "f", "d"), e(os.rename, "d", "f"), e(os.rename, "f", "f"), e(os.rename, "f/", "g"),
      e(os.link, "d", "dl"), e(os.link, "f", "l"), e(os.link, "f", "g"), e(os.stat, "g"),
      e(os.symlink, "x", "f"), e(os.mkdir, "nope/x"), e(os.mkdir, "f/x"))
print(renameat2("f", "g", 1), renameat2("f", "d", 2), renameat2("f", "nope", 2),
      renameat2("f", "x", 3), renameat2("f", "x", 8), os.path.isdir("f"))
shutil.rmtree(top)'

check_same "errnos of stat, access, readlink, chdir, truncate, utimes as natively" python3 -c "$PY_E"'
open("f", "w").write("abc"); os.mkdir("d"); os.symlink("f", "l"); os.symlink("nowhere", "dangling")
print(e(os.stat, "nope"), e(os.stat, "f/x"), e(os.stat, "dangling"), e(os.lstat, "dangling"),
      e(os.readlink, "f"), os.readlink("l"), e(os.chdir, "f"), e(os.chdir, "nope"),
      e(os.truncate, "d", 0), e(os.truncate, "f", -1), e(os.access, "f", 8),
      os.access("f", os.F_OK), os.access("nope", os.F_OK), os.access("f", os.X_OK),
      e(os.utime, "f", (1, 2)), e(os.listdir, "f"), e(os.chmod, "nope", 0o600))
print(libc.syscall(89, b"l", None, 0), ctypes.get_errno() == errno.EINVAL)
buf = ctypes.create_string_buffer(8)
print(libc.readlink(b"l", buf, 0) == -1 and ctypes.get_errno() == errno.EINVAL,
      libc.readlinkat(-100, b"dangling", buf, 3), buf.raw[:4])
shutil.rmtree(top)'

check_output "rename over an existing file replaces it; mv -n (RENAME_NOREPLACE) does not" \
	"new
keep
old" mrun -- /bin/sh -c 'cd /tmp; echo old > a; echo new > b; mv b a; cat a
		echo keep > c; echo other > d; mv -n d c 2>/dev/null; cat c
		echo old > x; mv -n x c 2>/dev/null; cat x'

check_output "symlink, readlink, hard link count" "target
EINVAL
2
same" mrun -- /bin/sh -c 'cd /tmp; ln -s target l; readlink l
		python3 -c "import os,errno
try: os.readlink(\"/etc/passwd\")
except OSError as x: print(errno.errorcode[x.errno])"
		echo data > f; ln f h; stat -c %h f; [ "$(stat -c %i f)" = "$(stat -c %i h)" ] && echo same'

check_output "readlink of /proc/self/fd and /proc/self/cwd" "/etc/passwd
/usr/share" mrun -- /bin/sh -c 'cd /usr/share; exec 3</etc/passwd; readlink /proc/self/fd/3; readlink /proc/self/cwd'

check_output "mknod makes FIFOs; device nodes are refused" "p
EPERM" mpy '
import os, stat, errno
os.mkfifo("/tmp/fifo"); print("p" if stat.S_ISFIFO(os.stat("/tmp/fifo").st_mode) else "?")
try: os.mknod("/tmp/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
except OSError as x: print(errno.errorcode[x.errno])'

# --- read-only outside /tmp (--read-only) ----------------------------------------------
check_output "--read-only: writes outside /tmp fail with EROFS" \
	"EROFS EROFS EROFS EROFS EROFS EROFS False True" mrun --read-only -- python3 -c '
import os, errno
def e(fn, *a):
    try:
        fn(*a)
        return "OK"
    except OSError as x:
        return errno.errorcode[x.errno]
print(e(os.mkdir, "/usr/moat-x"), e(os.unlink, "/etc/passwd"), e(os.rename, "/etc/passwd", "/etc/p2"),
      e(os.chmod, "/etc/passwd", 0o600), e(os.symlink, "x", "/usr/moat-l"),
      e(os.utime, "/etc/passwd", None), os.access("/etc/passwd", os.W_OK), os.access("/tmp", os.W_OK))'
check_output "--read-only: the shell reports Read-only file system" "Read-only file system" \
	mrun --read-only -- /bin/sh -c 'touch /etc/moat-test 2>&1 | grep -o "Read-only file system"'

# --- stat ------------------------------------------------------------------------
check_output "stat: the guest is root and owns what it makes" "0
0 0 root root
0 0" mrun -- /bin/sh -c 'id -u; stat -c "%u %g %U %G" /etc/passwd; touch /tmp/m; stat -c "%u %g" /tmp/m'
check_output "stat of a pipe shows the guest as its owner" "0 0 fifo" \
	mrun -- /bin/sh -c 'echo | stat -L -c "%u %g %F" /dev/stdin'
check_output "stat, lstat, fstat and statx agree" "ok" mpy '
import os
a = os.stat("/etc/passwd"); b = os.lstat("/etc/passwd")
fd = os.open("/etc/passwd", os.O_RDONLY); c = os.fstat(fd)
k = lambda s: (s.st_ino, s.st_dev, s.st_mode, s.st_size, s.st_uid, s.st_nlink)
assert k(a) == k(b) == k(c), (a, b, c)
import subprocess
out = subprocess.run(["stat", "-c", "%i %s %f", "/etc/passwd"], capture_output=True, text=True).stdout.split()
assert int(out[0]) == a.st_ino and int(out[1]) == a.st_size and int(out[2], 16) == a.st_mode, out
print("ok")'
check_output "directories stat with a sandbox device, not the host's" "ok" mpy '
import os
h = set()
for p in ("/", "/tmp", "/proc", "/dev"):
    h.add(os.stat(p).st_dev)
assert len(h) == 4, h
print("ok")'
check_output "stat -f names the filesystem type" "tmpfs proc" \
	mrun -- /bin/sh -c 'echo $(stat -f -c %T /tmp) $(stat -f -c %T /proc)'
check "df /tmp works" mrun -- /bin/df /tmp

# --- directories and cwd ------------------------------------------------------
check_output "getcwd after cd, relative paths follow" "/usr/share
/usr/share
/usr/share/doc" mrun -- /bin/sh -c 'cd /usr/share && /bin/pwd && python3 -c "import os; print(os.getcwd()); os.chdir(\"doc\"); print(os.getcwd())"'
check_output "getcwd with a too small buffer is ERANGE; a removed cwd is ENOENT" "ERANGE ENOENT" mpy '
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(4)
os.chdir("/usr/share")
r1 = libc.syscall(79, buf, 4)
e1 = errno.errorcode[ctypes.get_errno()]
os.mkdir("/tmp/gone"); os.chdir("/tmp/gone"); os.rmdir("/tmp/gone")
try:
    os.getcwd(); e2 = "OK"
except OSError as x:
    e2 = errno.errorcode[x.errno]
print(e1, e2)'

t_ls_root()
{
	local out
	out=$(mrun -- /bin/ls -la /) || return 1
	echo "$out" >&2
	for n in . .. etc usr tmp proc dev; do
		grep -Eq " $n( |$)" <<<"$out" || { echo "no $n" >&2; return 1; }
	done
}
check "ls -la / lists . .. etc usr tmp proc dev" t_ls_root

check_output "getdents inodes match stat, for . and .. too" "ok" mpy '
import os, subprocess
for d in ("/usr/share", "/tmp", "/", "/proc", "/dev"):
    for e in os.scandir(d):
        p = os.path.join(d, e.name)
        if e.inode() != os.lstat(p).st_ino and not os.path.ismount(p):
            raise SystemExit("%s: %d != %d" % (p, e.inode(), os.lstat(p).st_ino))
    out = subprocess.run(["ls", "-ai", d], capture_output=True, text=True).stdout.split()
    ino = dict(zip(out[1::2], map(int, out[0::2])))
    if ino["."] != os.stat(d).st_ino or ino[".."] != os.stat(d + "/..").st_ino:
        raise SystemExit("%s: . %d/%d .. %d/%d" % (d, ino["."], os.stat(d).st_ino, ino[".."], os.stat(d + "/..").st_ino))
print("ok")'

check_output "getdents of 3000 entries, through small and large buffers" "3000 3000" \
	mrun -- /bin/sh -c 'mkdir /tmp/many && cd /tmp/many && i=0; while [ $i -lt 3000 ]; do : > f$i; i=$((i+1)); done
		echo $(ls | wc -l) $(python3 -c "import os; print(len(os.listdir(\".\")))")'

check_output "find /etc -name '*.conf' | wc -l matches what an unprivileged host user sees" \
	"$(etc_find -name '*.conf' | wc -l)" \
	mrun -- /bin/sh -c 'find /etc -name "*.conf" 2>/dev/null | wc -l'

check_output "python os.listdir, os.scandir and os.stat" "['a', 'b', 'c'] a:file b:dir c:link 5" mpy '
import os
os.chdir("/tmp"); os.mkdir("p"); os.chdir("p")
open("a", "w").write("hello"); os.mkdir("b"); os.symlink("a", "c")
print(sorted(os.listdir(".")), " ".join("%s:%s" % (e.name, "link" if e.is_symlink() else "dir" if e.is_dir() else "file")
      for e in sorted(os.scandir("."), key=lambda e: e.name)), os.stat("c").st_size)'

check_output "getdents on a non-directory is ENOTDIR" "ENOTDIR" mpy '
import os, errno
try: os.listdir("/etc/passwd")
except OSError as x: print(errno.errorcode[x.errno])'

# --- attributes ---------------------------------------------------------------
check_output "chmod, touch -d, umask in /tmp" "640
981173106
750 640" mrun -- /bin/sh -c 'cd /tmp; touch f; chmod 640 f; stat -c %a f
		touch -d "2001-02-03 04:05:06 UTC" f; stat -c %Y f
		umask 027; mkdir d; : > g; echo $(stat -c %a d) $(stat -c %a g)'
check_output "utimensat with UTIME_OMIT keeps atime; truncate sets the size" "1000 2000 1000 3000 7" mpy '
import os
p = "/tmp/t"; open(p, "w").write("x" * 100)
os.utime(p, (1000, 2000)); s = os.stat(p); a = (int(s.st_atime), int(s.st_mtime))
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
class TS(ctypes.Structure): _fields_ = [("s", ctypes.c_long), ("ns", ctypes.c_long)]
ts = (TS * 2)(TS(0, (1 << 30) - 2), TS(3000, 0))  # UTIME_OMIT, 3000
assert libc.utimensat(-100, p.encode(), ts, 0) == 0
s = os.stat(p); os.truncate(p, 7)
print(a[0], a[1], int(s.st_atime), int(s.st_mtime), os.stat(p).st_size)'
check_output "chown as root; a non-root uid may not give files away" "1000 1000 EPERM" mpy '
import os, errno
open("/tmp/o", "w").close(); os.chown("/tmp/o", 1000, 1000); s = os.stat("/tmp/o")
open("/tmp/o2", "w").close()
os.setresuid(1000, 1000, 1000)
try: os.chown("/tmp/o", 0, -1); r = "OK"
except OSError as x: r = errno.errorcode[x.errno]
print(s.st_uid, s.st_gid, r)'
check_output "xattrs: none stored, setting is unsupported" "[] ENODATA ENOTSUP" mpy '
import os, errno
open("/tmp/x", "w").close()
def e(fn, *a):
    try: return fn(*a)
    except OSError as x: return errno.errorcode[x.errno]
print(os.listxattr("/tmp/x"), e(os.getxattr, "/tmp/x", "user.a"), e(os.setxattr, "/tmp/x", "user.a", b"1"))'

# --- identity ------------------------------------------------------------------
check_output "set*id follows the kernel's rules; permissions follow the new ids" \
	"0 0 | 1000 1000 1000 | EPERM | EACCES" mpy '
import os, errno
a = (os.getuid(), os.geteuid())
os.mkdir("/tmp/private", 0o700)
os.setgroups([]); os.setresgid(1000, 1000, 1000); os.setresuid(1000, 1000, 1000)
b = os.getresuid()
try: os.setuid(0); c = "OK"
except OSError as x: c = errno.errorcode[x.errno]
try: os.listdir("/tmp/private"); d = "OK"
except OSError as x: d = errno.errorcode[x.errno]
print("%d %d | %d %d %d | %s | %s" % (a + b + (c, d)))'
check_output "seteuid and back; getgroups; access uses the real uid" "1000 0 True [10, 20] False" mpy '
import os
os.setgroups([20, 10]); os.seteuid(1000)
e = (os.geteuid(), os.getuid()); os.seteuid(0)
os.setreuid(1000, 0)   # real 1000, effective 0
open("/tmp/rootonly", "w").close(); os.chmod("/tmp/rootonly", 0o600)
print(e[0], e[1], os.access("/tmp/rootonly", os.R_OK, effective_ids=True), sorted(os.getgroups()),
      os.access("/tmp/rootonly", os.R_OK))'

# --- information ---------------------------------------------------------------
check_output "uname shows the sandbox, not the host" "Linux x86_64 notthehost" \
	mrun -- /bin/sh -c 'echo $(uname -s) $(uname -m) $([ "$(uname -n)" = "$(cat /proc/sys/kernel/hostname)" ] && [ "$(uname -r)" != "'"$(uname -r)"'" ] && echo notthehost)'
check_output "sethostname as root changes uname -n and /proc/sys/kernel/hostname" "box1 box1" \
	mpy 'import socket, os; socket.sethostname("box1"); print(os.uname().nodename, open("/proc/sys/kernel/hostname").read().strip())'
check_output "sethostname as non-root is EPERM" "EPERM" mpy '
import socket, os, errno
os.setuid(1000)
try: socket.sethostname("x")
except OSError as x: print(errno.errorcode[x.errno])'
if have busybox; then
	check_output "sysinfo: uptime of the sandbox, some processes" "ok" \
		mrun -- /bin/sh -c 'busybox uptime | grep -Eq "up +(0 min|[0-9]+ min|0:0[0-9])" && echo ok'
else
	skip "sysinfo: uptime of the sandbox, some processes" "busybox not installed"
fi
check_output "capget: full caps for root, none after setuid" "yes no" mpy '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def caps():
    hdr = (ctypes.c_uint32 * 2)(0x20080522, 0); data = (ctypes.c_uint32 * 6)()
    assert libc.capget(hdr, data) == 0
    return "yes" if data[0] == 0xffffffff else "no"
a = caps(); os.setuid(1000); print(a, caps())'

# --- chroot and seeking directories --------------------------------------------
# A magic link (/proc/self/cwd, /root) jumps anywhere: openat2 with
# RESOLVE_IN_ROOT or RESOLVE_BENEATH refuses it (EXDEV), as Linux does.
check_same "openat2 RESOLVE_IN_ROOT/BENEATH refuse /proc's magic links, a plain walk follows them" python3 -c '
import ctypes, os, errno
libc = ctypes.CDLL(None, use_errno=True)
class How(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
def oa2(dfd, path, resolve):
    h = How(os.O_PATH, 0, resolve)
    r = libc.syscall(437, dfd, path.encode(), ctypes.byref(h), ctypes.sizeof(h))
    return "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
p = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
print(oa2(p, "self/cwd", 0x10), oa2(p, "self/root", 0x08), oa2(p, "self/fd/0", 0x10), oa2(p, "self/cwd", 0))'
check_same "chroot narrows the view; a cwd left outside is (unreachable), ENOENT for libc" \
	python3 -c "$PY_E"'
os.makedirs("jail/inside"); os.chdir("/")
os.chroot(top + "/jail")
buf = ctypes.create_string_buffer(256)
n = libc.syscall(79, buf, 256)
print(os.listdir("/"), n, buf.value.decode(), e(os.getcwd))'
check_same "rewinddir sees entries made since; seekdir returns to an entry" python3 -c "$PY_E"'
fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
open("a", "w").close(); first = sorted(os.listdir(fd))
open("b", "w").close(); second = sorted(os.listdir(fd))
libc.opendir.restype = ctypes.c_void_p; libc.readdir.restype = ctypes.c_void_p
libc.telldir.argtypes = libc.rewinddir.argtypes = libc.readdir.argtypes = [ctypes.c_void_p]
libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]; libc.telldir.restype = ctypes.c_long
d = libc.opendir(b".")
names = []
while True:
    p = libc.readdir(d)
    if not p: break
    names.append(ctypes.string_at(p + 19).decode())
libc.rewinddir(d); libc.readdir(d); pos = libc.telldir(d); nxt = ctypes.string_at(libc.readdir(d) + 19)
libc.readdir(d); libc.seekdir(d, pos); again = ctypes.string_at(libc.readdir(d) + 19)
print(first, second, len(names), nxt == again)
shutil.rmtree(top)'

# An open relative to a dirfd with no vnode (a pipe, a bad fd) fails before
# the walk; the sentry once released its nameidata anyway, uninitialized:
# whatever an earlier call left on the worker's stack (here the "../" of
# long paths) became vnode pointers (found by tests/fuzz/sysfuzz.sh).
check_output "opens relative to a pipe or a bad dirfd, after long paths, leave the sentry alive" \
	survived mpy '
import os
r, w = os.pipe()
for i in range(100):
    for n in range(10, 1330, 111):
        p = "../" * n
        for f in (os.stat, os.lstat, os.readlink, os.unlink, lambda p: os.access(p, os.R_OK),
                  lambda p: os.mkdir(p, 0o700), lambda p: os.open(p, os.O_RDONLY),
                  lambda p: os.getxattr(p, "user.x")):
            try: f(p)
            except OSError: pass
        for fd in (r, 1000):
            try: os.open("x", os.O_RDONLY, dir_fd=fd)
            except OSError: pass
print("survived")'

done_testing
