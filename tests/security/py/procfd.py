# procfd.py FILE: reopen FILE for writing through /proc/self/fd: of a
# read-only fd, of a closed fd whose number was reused, and of an fd passed
# over a unix socket. Prints one line per way: "wrote" or the error.
import os, socket, sys
f = sys.argv[1]
def try_write(path, tag):
    try:
        w = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.write(w, b"PWN-" + tag.encode() + b"\n")
        os.close(w)
        return "wrote"
    except OSError as e:
        return type(e).__name__ + ":" + os.strerror(e.errno)
fd = os.open(f, os.O_RDONLY)
print("readonly-fd", try_write(f"/proc/self/fd/{fd}", "ro"), flush=True)
os.close(fd)
r, w = os.pipe()  # takes the closed number back
n = r if r == fd else w if w == fd else None
print("closed-fd", try_write(f"/proc/self/fd/{fd}", "closed") if n is None else
      "reused-as-pipe " + try_write(f"/proc/self/fd/{fd}", "closed"), flush=True)
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    a.close()
    msg, fds, _, _ = socket.recv_fds(b, 16, 1)
    print("passed-fd", try_write(f"/proc/self/fd/{fds[0]}", "passed"), flush=True)
    os._exit(0)
b.close()
fd = os.open(f, os.O_RDONLY)
socket.send_fds(a, [b"x"], [fd])
os.waitpid(pid, 0)
