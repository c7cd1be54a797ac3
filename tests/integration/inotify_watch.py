# SPDX-License-Identifier: MIT
# tests/integration/inotify_watch.py - an inotify reader on ctypes (no
# inotify-tools needed), for inotify.sh. Runs the same natively and in a
# sandbox; prints one line per event ("WD MASK NAME [cookie#]"; cookies are
# numbered in order of appearance, so runs compare), or an errno name.
import ctypes, errno, os, select, struct, subprocess, sys, time

libc = ctypes.CDLL(None, use_errno=True)
BITS = [(0x1, "ACCESS"), (0x2, "MODIFY"), (0x4, "ATTRIB"), (0x8, "CLOSE_WRITE"),
        (0x10, "CLOSE_NOWRITE"), (0x20, "OPEN"), (0x40, "MOVED_FROM"), (0x80, "MOVED_TO"),
        (0x100, "CREATE"), (0x200, "DELETE"), (0x400, "DELETE_SELF"), (0x800, "MOVE_SELF"),
        (0x4000, "Q_OVERFLOW"), (0x8000, "IGNORED"), (0x40000000, "ISDIR")]
ALL = 0xfff
# Opens and reads are left out where a sandbox's own machinery (the gofer
# walking a directory of an rw bind) would add some the guest did not make.
CHANGES = ALL & ~(0x1 | 0x10 | 0x20)
IN_ONLYDIR, IN_DONT_FOLLOW = 0x01000000, 0x02000000


def add(fd, path, mask):
    wd = libc.inotify_add_watch(fd, path.encode(), mask)
    return wd if wd >= 0 else errno.errorcode[ctypes.get_errno()]


def new():
    fd = libc.inotify_init1(os.O_CLOEXEC)
    assert fd >= 0
    return fd


def events(fd, wait=0.3):
    out, cookies = [], {}
    while select.select([fd], [], [], wait)[0]:
        buf, i = os.read(fd, 65536), 0
        while i < len(buf):
            wd, mask, cookie, n = struct.unpack_from("iIII", buf, i)
            name = buf[i + 16:i + 16 + n].rstrip(b"\0").decode()
            i += 16 + n
            line = "%d %s %s" % (wd, "|".join(s for b, s in BITS if mask & b), name)
            if cookie:
                line += " c%d" % cookies.setdefault(cookie, len(cookies) + 1)
            out.append(line.rstrip())
    return out


def settle():
    # In a sandbox the kernel sees the last close of a file the guest
    # opened a moment after the guest's close (the sentry closes its copy
    # of the fd it handed out right after the reply): IN_CLOSE_WRITE may
    # come after an event of the guest's next call. Wait for it where the
    # order matters.
    time.sleep(0.1)


def cmd_dir(d):
    """create, write+close, chmod, rename, mkdir/rmdir, unlink, rmdir self."""
    os.mkdir(d)
    settle()
    fd = new()
    print("wd", add(fd, d, CHANGES))
    with open(d + "/f", "w") as f:
        f.write("x")
    settle()
    os.chmod(d + "/f", 0o600)
    os.rename(d + "/f", d + "/g")
    os.mkdir(d + "/sub")
    os.rmdir(d + "/sub")
    os.symlink("g", d + "/l")
    os.rename(d + "/l", d + "/m")
    os.unlink(d + "/m")
    subprocess.run(["sh", "-c", "echo y >> " + d + "/g"], check=True)
    settle()
    os.unlink(d + "/g")
    os.rmdir(d)
    print("\n".join(events(fd)))


def cmd_file(d):
    """a watch on a file: appends by another process, chmod, links, rename, unlink."""
    os.mkdir(d)
    f = d + "/file"
    with open(f, "w") as fo:
        fo.write("a\n")
    settle()
    fd = new()
    print("wd", add(fd, f, CHANGES))
    subprocess.run(["sh", "-c", "echo b >> " + f], check=True)
    settle()
    os.chmod(f, 0o640)
    os.link(f, d + "/hard")
    os.unlink(d + "/hard")
    os.rename(f, d + "/moved")
    os.unlink(d + "/moved")
    print("\n".join(events(fd)))
    os.rmdir(d)


def cmd_two(a, b):
    """a rename between two watched directories, and out of and into one."""
    os.mkdir(a)
    os.mkdir(b)
    os.mkdir(a + "/x")
    open(a + "/y", "w").close()
    os.mkdir(a + "/z")
    settle()
    fd = new()
    print("wd", add(fd, a, CHANGES), add(fd, b, CHANGES), add(fd, a + "/x", CHANGES))
    os.rename(a + "/x", b + "/x2")
    os.rename(a + "/y", a + "/z/y")
    os.rename(a + "/z/y", b + "/y")
    os.rmdir(b + "/x2")
    print("\n".join(events(fd)))


def cmd_errors(d):
    fd = new()
    os.mkdir(d)
    open(d + "/f", "w").close()
    os.symlink("f", d + "/l")
    os.symlink("nowhere", d + "/dangling")
    print("onlydir-file", add(fd, d + "/f", ALL | IN_ONLYDIR))
    print("onlydir-dir", add(fd, d, ALL | IN_ONLYDIR))
    print("missing", add(fd, d + "/missing", ALL))
    print("below-file", add(fd, d + "/f/x", ALL))
    print("empty", add(fd, "", ALL))
    print("mask0", add(fd, d, 0))
    print("badfd", add(9999, d, ALL))
    print("notinotify", add(1, d, ALL))
    print("dangling", add(fd, d + "/dangling", ALL))
    print("dangling-nofollow", add(fd, d + "/dangling", ALL | IN_DONT_FOLLOW))
    w1, w2 = add(fd, d + "/f", ALL), add(fd, d + "/l", ALL)
    print("same-inode-same-wd", w1 == w2)
    print("other-wd", add(fd, d, ALL) != w1)


def cmd_eacces(d):
    os.mkdir(d, 0o700)
    open(d + "/f", "w").close()
    os.chmod(d + "/f", 0o600)
    os.mkdir(d + "/open", 0o700)
    os.chmod(d, 0o711)
    os.setresgid(1000, 1000, 1000)
    os.setresuid(1000, 1000, 1000)
    fd = new()
    print("dir", add(fd, d, ALL), "file", add(fd, d + "/f", ALL),
          "subdir", add(fd, d + "/open", ALL))


def cmd_silent(d):
    """watch d, say so, wait for the host to change it, print what came."""
    fd = new()
    print("wd", add(fd, d, ALL), flush=True)
    time.sleep(float(sys.argv[3]))
    print("\n".join(events(fd)) or "nothing")


def cmd_overlay(d):
    """lower files in a watched overlay directory: unlink, rename, a new file."""
    fd = new()
    print("wd", add(fd, d, CHANGES))
    os.unlink(d + "/a")
    os.rename(d + "/b", d + "/c")
    with open(d + "/new", "w") as f:
        f.write("n")
    settle()
    os.unlink(d + "/new")
    print("\n".join(events(fd)))


if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:3] + ([sys.argv[3]] if sys.argv[1] == "two" else []))
