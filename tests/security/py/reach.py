# reach.py PORT ABSTRACT PATH ADDR...: connect to a host TCP service on
# each ADDR:PORT, to the host's abstract unix socket ABSTRACT and to PATH.
import socket, sys
port, abstract, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for a in sys.argv[4:]:
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET); s.settimeout(3)
    try:
        s.connect((a, port)); print("tcp", a, "CONNECTED")
    except OSError as e:
        print("tcp", a, "refused", type(e).__name__)
for name, addr in (("abstract", "\0" + abstract), ("path", path)):
    s = socket.socket(socket.AF_UNIX); s.settimeout(3)
    try:
        s.connect(addr); print(name, "CONNECTED")
    except OSError as e:
        print(name, "refused", type(e).__name__)
