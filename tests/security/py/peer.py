# peer.py serve DIR TAG | peer.py connect DIR TAG
import os, socket, sys, time
mode, d, tag = sys.argv[1:4]
path, abstract = os.path.join(d, tag + ".sock"), "\0" + tag
if mode == "serve":
    s1 = socket.socket(socket.AF_UNIX); s1.bind(path); s1.listen(4)
    s2 = socket.socket(socket.AF_UNIX); s2.bind(abstract); s2.listen(4)
    with open(os.path.join(d, tag + ".secret"), "w") as f:
        f.write("secret of the first sandbox\n")
    print("ready", flush=True)
    time.sleep(30)
    sys.exit(0)
for name, addr in (("path", path), ("abstract", abstract)):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(addr); print(name, "CONNECTED")
    except OSError as e:
        print(name, "refused", type(e).__name__)
try:
    print("secret", "READ", open(os.path.join(d, tag + ".secret")).read().strip())
except OSError as e:
    print("secret", "refused", type(e).__name__)
print("listing", "SEEN" if os.path.exists(d) and any(tag in n for n in os.listdir(d)) else "none")
