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

check_output "abstract names and socketpairs still work natively" "abstract pair" \
	mrun -- /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_UNIX); s.bind("\0moat-test"); s.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect("\0moat-test")
a, b = socket.socketpair(); a.send(b"pair")
print("abstract" if s.accept() else "", b.recv(4).decode())'

done_testing
