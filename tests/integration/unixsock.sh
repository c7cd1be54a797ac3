#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: AF_UNIX sockets bound to paths (issue 7). Two guest
# processes talk through a socket file in each kind of filesystem; fds
# cross with SCM_RIGHTS; the names and errnos are Linux's; and no path a
# guest names ever reaches a host socket, which the host side checks.
. "$(dirname "$0")/lib.sh"

require_moat

# A server process and a client process (fork + exec of python, so they are
# two sandbox processes) over the socket file $1.
PAIR=$(cat <<'EOF'
import os, socket, sys, array
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
import stat
assert stat.S_ISSOCK(os.stat(path).st_mode), oct(os.stat(path).st_mode)
client = r'''
import socket, sys, os, array
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[1])
print("peer", c.getpeername(), flush=True)
fd = os.open("/etc/hostname", os.O_RDONLY)
c.sendmsg([b"hello over a path"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
print("reply", c.recv(100).decode(), flush=True)
'''
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-c", client, path])
conn, _ = srv.accept()
msg, anc, _, _ = conn.recvmsg(100, socket.CMSG_SPACE(4))
fds = array.array("i")
for level, typ, data in anc:
    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        fds.frombytes(data)
got = os.read(fds[0], 100).decode().strip()
conn.send(b"got " + msg + b" and an fd reading " + got.encode())
_, st = os.waitpid(pid, 0)
print("name", srv.getsockname(), "status", st)
EOF
)

t_pair()
{
	local path=$1; shift
	local out
	out=$(mrun "$@" -- /usr/bin/python3 -c "$PAIR" "$path") || { echo "$out"; return 1; }
	echo "$out"
	[ "$out" = "peer $path
reply got hello over a path and an fd reading moat
name $path status 0" ]
}

check "a stream socket in /tmp (tmpfs): connect, message, SCM_RIGHTS, names" t_pair /tmp/s.sock
check "a stream socket in the overlay root, in a host directory (/etc)" t_pair /etc/s.sock
check "a stream socket in a --tmpfs mount" t_pair /scratch/s.sock --tmpfs /scratch

# --- a socket file in a rw bind ----------------------------------------------------
H=$(host_tmpdir)
chown 4242:4343 "$H"
check "a stream socket in a :rw bind" t_pair /b/s.sock --bind "$H:/b:rw"

t_bind_host()
{
	# The guest binds and waits; from outside, the file is a socket owned by
	# the bind owner that leads nowhere on the host.
	mrun --bind "$H:/b:rw" -- /usr/bin/python3 -c '
import socket, time, os
s = socket.socket(socket.AF_UNIX); s.bind("/b/live.sock"); s.listen(1)
open("/b/ready", "w").close()
time.sleep(3)' &
	local g=$! i
	for i in $(seq 100); do [ -e "$H/ready" ] && break; sleep 0.05; done
	[ -S "$H/live.sock" ] || { echo "no socket file on the host"; wait $g; return 1; }
	[ "$(stat -c %u:%g "$H/live.sock")" = "4242:4343" ] || { stat "$H/live.sock"; wait $g; return 1; }
	local r
	r=$(python3 -c '
import socket, sys
c = socket.socket(socket.AF_UNIX)
try: c.connect(sys.argv[1]); print("connected")
except OSError as e: print(e.errno)' "$H/live.sock")
	wait $g
	echo "host connect: $r"
	[ "$r" = 111 ]
}
check "the socket file is on the host, owned by the bind owner; a host process reaches nothing through it" t_bind_host

# --- host sockets stay out of reach ----------------------------------------------------
t_host_socket()
{
	local d
	d=$(host_tmpdir)
	python3 - "$d/host.sock" "$d/log" <<'EOF' &
import socket, sys, select
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
log = open(sys.argv[2], "w")
r, _, _ = select.select([s], [], [], 6)
log.write("accepted\n" if r else "nothing\n")
EOF
	local srv=$! i
	for i in $(seq 100); do [ -S "$d/host.sock" ] && break; sleep 0.05; done
	local out
	out=$(mrun --rootfs / --bind "$d:/hostdir" -- /usr/bin/python3 -c '
import socket, sys
for p in sys.argv[1:]:
    c = socket.socket(socket.AF_UNIX)
    try: c.connect(p); print(p, "connected")
    except OSError as e: print(p, e.strerror)' "$d/host.sock" /hostdir/host.sock /run/systemd/private \
		/var/run/docker.sock)
	echo "$out"
	wait $srv
	echo "host listener: $(cat "$d/log")"
	! grep -q connected <<<"$out" && [ "$(cat "$d/log")" = nothing ]
}
check "a guest never reaches a host socket by its path, bound directory or not (checked on the host)" t_host_socket

# --- errnos ------------------------------------------------------------------------------
check_output "EADDRINUSE, EINVAL, ECONNREFUSED, ENOENT, ECONNREFUSED for a non-socket, EACCES" \
	"98 22 111 2 111 13" mrun -- /usr/bin/python3 -c '
import socket, os, errno
def err(f):
    try: f(); return "ok"
    except OSError as e: return str(e.errno)
s = socket.socket(socket.AF_UNIX); s.bind("/tmp/a.sock"); s.listen(1)
out = [err(lambda: socket.socket(socket.AF_UNIX).bind("/tmp/a.sock")),
       err(lambda: s.bind("/tmp/b.sock"))]
s.close()
out.append(err(lambda: socket.socket(socket.AF_UNIX).connect("/tmp/a.sock")))
os.unlink("/tmp/a.sock")
out.append(err(lambda: socket.socket(socket.AF_UNIX).connect("/tmp/a.sock")))
open("/tmp/plain", "w").close()
out.append(err(lambda: socket.socket(socket.AF_UNIX).connect("/tmp/plain")))
t = socket.socket(socket.AF_UNIX); t.bind("/tmp/c.sock"); t.listen(1)
os.chmod("/tmp/c.sock", 0o755)
os.setresgid(1000, 1000, 1000); os.setresuid(1000, 1000, 1000)
out.append(err(lambda: socket.socket(socket.AF_UNIX).connect("/tmp/c.sock")))
print(" ".join(out))'

check_output "datagrams: sendto a path, recvfrom, a reply to the sender's address; relative paths" \
	"ping pong dg" mrun --cwd /tmp -- /usr/bin/python3 -c '
import socket
a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); a.bind("dg")
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); b.bind("/tmp/dg2")
b.sendto(b"ping", "/tmp/dg")
m, frm = a.recvfrom(10)
a.sendto(b"pong", frm)
print(m.decode(), b.recv(10).decode(), a.getsockname())'

# sendmsg and sendmmsg with a path in msg_name: the filter cannot see it, so
# every sendmsg is notified and the sentry sends a datagram to a path itself
# (before, the kernel resolved it in the guest's empty host root: ENOENT).
# A server bound to DIR/dg gets from a second process: sendto, sendmsg of
# two pieces with an fd (SCM_RIGHTS), a sendmmsg batch of a path message
# and an abstract one (through libc, as python has no sendmmsg), then the
# errnos: a missing path, a file that is no socket, an unconnected stream
# socket given a path (EOPNOTSUPP: Linux resolves none), a socket a non-root user may not
# write (sendmsg and sendto).
SENDMSG=$(cat <<'EOF'
import array, ctypes, errno, os, socket, struct, sys
d = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); srv.bind(d + "/dg")
ab = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); ab.bind("\0moat-test-dg")
libc = ctypes.CDLL(None, use_errno=True)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_char_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(iovec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]
def sun(path):
    b = struct.pack("H", socket.AF_UNIX) + path
    return ctypes.create_string_buffer(b, len(b)), len(b)
def err(f):
    try: f(); return "ok"
    except OSError as e: return errno.errorcode[e.errno]
pid = os.fork()
if pid == 0:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    c.sendto(b"to", d + "/dg")
    fd = os.open("/etc/hostname", os.O_RDONLY)
    c.sendmsg([b"ms", b"g"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))], 0, d + "/dg")
    v = (mmsghdr * 2)()
    keep = []
    for i, (path, data) in enumerate([((d + "/dg\0").encode(), b"mm1"), (b"\0moat-test-dg", b"mm2")]):
        nm, nl = sun(path); io = iovec(data, len(data)); keep += [nm, io]
        v[i].hdr = msghdr(ctypes.cast(nm, ctypes.c_char_p), nl, ctypes.pointer(io), 1, None, 0, 0)
    n = libc.sendmmsg(c.fileno(), v, 2, 0)
    print("sendmmsg", n, v[0].len, v[1].len, flush=True)
    out = [err(lambda: c.sendmsg([b"x"], [], 0, d + "/nosuch"))]
    open(d + "/plain", "w").close()
    out.append(err(lambda: c.sendmsg([b"x"], [], 0, d + "/plain")))
    st = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    out.append(err(lambda: st.sendmsg([b"x"], [], 0, d + "/dg")))
    os.chmod(d + "/dg", 0o755)
    os.setresgid(1000, 1000, 1000); os.setresuid(1000, 1000, 1000)
    out.append(err(lambda: c.sendmsg([b"x"], [], 0, d + "/dg")))
    out.append(err(lambda: c.sendto(b"x", d + "/dg")))
    print(" ".join(out), flush=True)
    os._exit(0)
_, st = os.waitpid(pid, 0)
got = [srv.recv(10).decode()]
m, anc, _, _ = srv.recvmsg(10, socket.CMSG_SPACE(4))
fds = array.array("i"); fds.frombytes(anc[0][2])
got.append(m.decode() + ":" + os.read(fds[0], 100).decode().strip())
got.append(srv.recv(10).decode())
got.append(ab.recv(10).decode())
srv.setblocking(False)
got.append(err(lambda: srv.recv(10))) # nothing else arrived
print(" ".join(got), st)
EOF
)
SENDMSG_WANT="sendmmsg 2 3 3
ENOENT ECONNREFUSED ENOTSUP EACCES EACCES
to msg:moat mm1 mm2 EAGAIN 0"
check_output "datagrams to a path by sendmsg (with SCM_RIGHTS) and sendmmsg; ENOENT, ECONNREFUSED, EOPNOTSUPP, EACCES" \
	"$SENDMSG_WANT" mrun -- /usr/bin/python3 -c "$SENDMSG" /tmp
check_output "the same in a :rw bind" "$SENDMSG_WANT" mrun --bind "$H:/b:rw" -- /usr/bin/python3 -c "$SENDMSG" /b

# The errnos of a sendmsg the sentry makes come in the kernel's order
# (iovec, control data, size, then the path's lookup): a datagram over the
# send buffer, an unknown SOL_SOCKET type, a bad fd in SCM_RIGHTS, a pid
# that does not exist, an invalid uid, then ENOENT; as natively.
check_output "sendmsg to a path: EMSGSIZE, EINVAL, EBADF, ESRCH, EINVAL before ENOENT, as Linux orders them" \
	"EMSGSIZE EINVAL EBADF ESRCH EINVAL ENOENT" mrun -- /usr/bin/python3 -c '
import array, errno, os, socket, struct
srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); srv.bind("/tmp/od")
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
def err(f):
    try: f(); return "ok"
    except OSError as e: return errno.errorcode[e.errno]
def cm(t, data): return [(socket.SOL_SOCKET, t, data)]
big = c.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
out = [err(lambda: c.sendmsg([b"x" * big], [], 0, "/tmp/od")),
       err(lambda: c.sendmsg([b"x"], cm(99, b"1234"), 0, "/tmp/nosuch")),
       err(lambda: c.sendmsg([b"x"], cm(socket.SCM_RIGHTS, array.array("i", [999])), 0, "/tmp/nosuch")),
       err(lambda: c.sendmsg([b"x"], cm(socket.SCM_CREDENTIALS, struct.pack("3i", 99999, 0, 0)), 0, "/tmp/nosuch")),
       err(lambda: c.sendmsg([b"x"], cm(socket.SCM_CREDENTIALS, struct.pack("3i", os.getpid(), -1, 0)), 0, "/tmp/od")),
       err(lambda: c.sendmsg([b"x"], cm(socket.SCM_RIGHTS, array.array("i", [0])), 0, "/tmp/nosuch"))]
print(" ".join(out))'

# A sibling thread rewrites the path in msg_name while a non-root guest
# sends: each datagram goes where the sentry read (the writable socket) or
# fails with EACCES (root's 0755 socket), never into the locked one.
check_output "sendmsg: a thread swapping the path never gets a datagram past the permission check" \
	"locked 0 sent>0 True" mrun -- /usr/bin/python3 -c '
import ctypes, errno, os, socket, struct, threading
ok = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); ok.bind("/tmp/rok")
lk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); lk.bind("/tmp/rlk")
os.chmod("/tmp/rok", 0o777); os.chmod("/tmp/rlk", 0o755)
for s in (ok, lk): s.setblocking(False)
os.setresgid(1000, 1000, 1000); os.setresuid(1000, 1000, 1000)
libc = ctypes.CDLL(None, use_errno=True)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_char_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(iovec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
a = struct.pack("H", socket.AF_UNIX) + b"/tmp/rok\0"
b = struct.pack("H", socket.AF_UNIX) + b"/tmp/rlk\0"
name = ctypes.create_string_buffer(a, len(a))
io = iovec(b"x", 1)
m = msghdr(ctypes.addressof(name), len(a), ctypes.pointer(io), 1, None, 0, 0)
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
stop = False
def flip():
    while not stop:
        ctypes.memmove(name, b, len(b)); ctypes.memmove(name, a, len(a))
t = threading.Thread(target=flip); t.start()
sent = other = 0
for i in range(2000):
    if libc.sendmsg(c.fileno(), ctypes.byref(m), socket.MSG_DONTWAIT) == 1: sent += 1
    elif ctypes.get_errno() not in (errno.EACCES, errno.EAGAIN): other += 1
    if i % 5 == 0:
        while True:
            try: ok.recv(1)
            except BlockingIOError: break
stop = True; t.join()
n = 0
while True:
    try: lk.recv(1); n += 1
    except BlockingIOError: break
print("locked", n, "sent>0" if sent else "sent=0", other == 0)'

check_output "umask applies to the socket file; a hard link and a rename still reach the socket" \
	"0o750 linked renamed" mrun -- /usr/bin/python3 -c '
import socket, os
os.umask(0o027)
s = socket.socket(socket.AF_UNIX); s.bind("/tmp/m.sock"); s.listen(4)
r = [oct(os.stat("/tmp/m.sock").st_mode & 0o777)]
os.link("/tmp/m.sock", "/tmp/l.sock")
socket.socket(socket.AF_UNIX).connect("/tmp/l.sock"); r.append("linked")
os.rename("/tmp/m.sock", "/tmp/n.sock")
socket.socket(socket.AF_UNIX).connect("/tmp/n.sock"); r.append("renamed")
print(" ".join(r))'

# SO_PEERCRED and SO_PEERGROUPS: the kernel would answer with the sandbox's
# one host uid (and, on a connection the sentry made for a path, the
# sentry's own pid). The guest sees its peers' sandbox pids and ids, the
# accepting side of a path connection too: the connecting child's, of
# connect time (it used to see pid 0 and the overflow ids; natively the
# same line as here).
check_output "SO_PEERCRED/SO_PEERGROUPS show sandbox pids and ids, never the host's, on both sides of a path" \
	"self 0 0 [] server 0 0 [] client 1000 1000 [5, 1000]" \
	mrun -- /usr/bin/python3 -c '
import os, socket, struct
def cred(s, me):
    pid, uid, gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    g = s.getsockopt(socket.SOL_SOCKET, 59, 64) # SO_PEERGROUPS
    groups = sorted(struct.unpack("%di" % (len(g) // 4), g))
    return "%s %d %d %s" % (me if pid == want.get(me) else "pid %d" % pid, uid, gid, groups)
want = {"self": os.getpid(), "server": os.getpid()}
a, b = socket.socketpair()
out = [cred(a, "self")]
srv = socket.socket(socket.AF_UNIX); srv.bind("/tmp/cred.sock"); srv.listen(1)
os.chmod("/tmp/cred.sock", 0o777) # connecting needs write permission
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.setgroups([1000, 5]); os.setgid(1000); os.setuid(1000)
    c = socket.socket(socket.AF_UNIX); c.connect("/tmp/cred.sock")
    os.write(w, cred(c, "server").encode()); c.recv(1); os._exit(0)
want["client"] = child
conn, _ = srv.accept()
out.append(os.read(r, 100).decode())
out.append(cred(conn, "client"))
conn.send(b"x"); os.waitpid(child, 0)
print(*out)'

# SCM_CREDENTIALS a guest names are its sandbox ids, checked by the sentry
# as Linux checks them (own pid; real, effective or saved ids; root inside
# names anyone) where the kernel, knowing only the host uid, refused them
# all with EPERM. The receiver sees the sender's sandbox pid for implicit
# credentials (SO_PASSCRED); its uid is still the host one, and explicit
# ones show the sentry (docs/architecture.md, "Unix sockets bound to paths").
CREDS=$(cat <<'EOF'
import errno, os, socket, struct
def err(f):
    try: f(); return "ok"
    except OSError as e: return errno.errorcode[e.errno]
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
b.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
def send(pid, uid, gid):
    cr = struct.pack("3i", pid, uid, gid)
    r = err(lambda: a.sendmsg([b"c"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, cr)]))
    if r == "ok": b.recv(10)
    return r
me = (os.getpid(), os.getuid(), os.getgid())
out = [send(*me), send(me[0], 0, 0), send(me[0], 1000, 1000), send(1, me[1], me[2])]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(w, (send(os.getpid(), os.getuid(), os.getgid()) + " " + send(os.getppid(), os.getuid(), os.getgid())).encode())
    a.send(b"implicit")
    os._exit(0)
os.waitpid(pid, 0)
out.append(os.read(r, 100).decode())
m, anc, _, _ = b.recvmsg(10, socket.CMSG_SPACE(12))
got = [struct.unpack("3i", d) for l, t, d in anc if t == socket.SCM_CREDENTIALS]
out.append("child-pid" if got and got[0][0] == pid else "pid %s" % got)
print(*out)
EOF
)
check_output "SCM_CREDENTIALS: root inside names its own ids or anyone's; the receiver sees the sender's pid" \
	"ok ok ok ok ok ok child-pid" mrun -- /usr/bin/python3 -c "$CREDS"
check_output "SCM_CREDENTIALS as --user 1000: only its own pid and ids (EPERM otherwise, as Linux)" \
	"ok EPERM ok EPERM ok EPERM child-pid" mrun --user 1000 -- /usr/bin/python3 -c "$CREDS"

check_output "abstract names and socketpairs still work natively" "abstract pair" \
	mrun -- /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_UNIX); s.bind("\0moat-test"); s.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect("\0moat-test")
a, b = socket.socketpair(); a.send(b"pair")
print("abstract" if s.accept() else "", b.recv(4).decode())'


# --- --bind-socket: a host socket the user chose ------------------------------------------
t_bind_socket()
{
	local d
	d=$(host_tmpdir)
	python3 - "$d/host.sock" "$d/log" <<'EOF' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o600); s.listen(1)
s.settimeout(20)
c, _ = s.accept()
c.send(b"hello from the host")
open(sys.argv[2], "w").write(c.recv(100).decode())
EOF
	local srv=$! i out
	for i in $(seq 100); do [ -S "$d/host.sock" ] && break; sleep 0.05; done
	out=$(mrun --bind-socket "$d/host.sock:/run/app.sock" -- /usr/bin/python3 -c '
import socket, stat, os, sys
c = socket.socket(socket.AF_UNIX); c.connect("/run/app.sock")
print(c.recv(100).decode(), c.getpeername(), stat.S_ISSOCK(os.stat("/run/app.sock").st_mode))
c.send(b"hello from the guest")
d = socket.socket(socket.AF_UNIX)
try: d.connect(sys.argv[1]); print("reached the host path")
except OSError as e: print(e.strerror)' "$d/host.sock")
	wait $srv
	echo "$out; host got: $(cat "$d/log")"
	[ "$out" = "hello from the host /run/app.sock True
No such file or directory" ] && [ "$(cat "$d/log")" = "hello from the guest" ]
}
check "--bind-socket: the guest reaches the chosen host socket (root's, 0600) by its sandbox path, never by the host's" t_bind_socket

t_bad_socket()
{
	local err
	err=$("$MOAT" run "$@" -- /bin/true 2>&1 >/dev/null)
	local rc=$?
	echo "rc=$rc: $err"
	[ $rc = 125 ] && [ "$(wc -l <<<"$err")" = 1 ]
}
check "--bind-socket of a missing path: one line, exit 125" t_bad_socket --bind-socket /nonexistent/s:/s
check "--bind-socket of a file that is not a socket: one line, exit 125" t_bad_socket --bind-socket /etc/hostname:/s
check "--bind-socket with a relative path: one line, exit 125" t_bad_socket --bind-socket s:/s

done_testing
