# pathswap.py RO_FILE SECRET N: a thread keeps rewriting one path buffer
# between a harmless path and RO_FILE (or SECRET) while the main thread
# opens that buffer N times: for appending (a write that lands in RO_FILE
# is an escape) and for reading (SECRET's content seen is a leak). The
# decision on a path must be made on the one copy the kernel then uses.
import ctypes, os, sys, threading
ro, secret, n = sys.argv[1].encode(), sys.argv[2].encode(), int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
harmless = b"/tmp/moat-swap-harmless"
open(harmless, "wb").close()
size = max(len(ro), len(secret), len(harmless)) + 1
buf = ctypes.create_string_buffer(size)
stop = False
def flipper(target):
    a = harmless.ljust(size - 1, b"\0")
    b = target.ljust(size - 1, b"\0")
    while not stop:
        ctypes.memmove(buf, b, size - 1)
        ctypes.memmove(buf, a, size - 1)
def race(target, flags):
    global stop
    stop = False
    t = threading.Thread(target=flipper, args=(target,))
    t.start()
    got = []
    for i in range(n):
        fd = libc.open(buf, flags, 0o644)
        if fd < 0:
            continue
        if flags & os.O_APPEND:
            os.write(fd, b"PWN\n")
        else:
            got.append(os.read(fd, 64))
        os.close(fd)
    stop = True
    t.join()
    # And once with the target in place, no race: natively this lands
    # whatever the scheduling did above.
    ctypes.memmove(buf, target.ljust(size - 1, b"\0"), size - 1)
    fd = libc.open(buf, flags, 0o644)
    if fd >= 0:
        if flags & os.O_APPEND:
            os.write(fd, b"PWN\n")
        else:
            got.append(os.read(fd, 64))
        os.close(fd)
    return got
race(ro, os.O_WRONLY | os.O_APPEND)
seen = race(secret, os.O_RDONLY)
print("read", sum(1 for g in seen if g), "nonempty of", len(seen), flush=True)
# What was read, each distinct first line once.
for line in sorted(set(g.split(b"\n")[0] for g in seen if g)):
    sys.stdout.buffer.write(line + b"\n")
