# race.py BASE N VICTIM: a thread keeps swapping BASE/d between a directory
# and symlinks to ../victim and to VICTIM (an absolute host path) while the
# main thread creates files, directories and symlinks under BASE/d, N times
# each. Natively they land in the victim; a sandbox must keep them in BASE.
import os, sys, threading
base, n = sys.argv[1], int(sys.argv[2])
victim_abs = sys.argv[3]
d = os.path.join(base, "d")
os.makedirs(os.path.join(base, "dd"), exist_ok=True)
for name, target in (("dl", "../victim"), ("da", victim_abs)):
    try: os.symlink(target, os.path.join(base, name))
    except FileExistsError: pass
stop = False
def swapper():
    names = ["dd", "dl", "dd", "da"]
    i = 0
    while not stop:
        src = os.path.join(base, names[i % 4])
        try:
            os.rename(src, d)
            os.rename(d, src)
        except OSError:
            pass
        i += 1
t = threading.Thread(target=swapper)
t.start()
hits = 0
for i in range(n):
    for op in (lambda: os.close(os.open(f"{d}/pwn-{i}", os.O_CREAT | os.O_WRONLY, 0o644)),
               lambda: os.mkdir(f"{d}/pwnd-{i}"),
               lambda: os.symlink("x", f"{d}/pwnl-{i}")):
        try:
            op(); hits += 1
        except OSError:
            pass
stop = True
t.join()
# And once without a race, the symlink in place: natively this lands in
# the victim whatever the scheduling did above.
try:
    os.rename(os.path.join(base, "dl"), d)
    os.close(os.open(f"{d}/pwn-final", os.O_CREAT | os.O_WRONLY, 0o644))
    final = "created"
except OSError as e:
    final = os.strerror(e.errno)
print("done", hits, "final", final)
