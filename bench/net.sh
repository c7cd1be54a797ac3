#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/net.sh - network rows: native vs moat --net=sandbox (vs gVisor's
# runsc --network=sandbox when installed), one table with ratios. See
# bench/README.md. Needs root (it makes a peer network namespace).
#
#   bench/net.sh [-q]      -q: a quick run (small transfers, few connects)
#
# Rows: bulk TCP download and upload from a peer namespace behind a veth
# pair (198.18.0.2, RFC 2544's benchmarking range), connects per second
# (a new connection each), UDP round trip, and TCP over loopback inside the
# sandbox vs natively. Environment: MOAT (default build/moat), RUNSC,
# BENCH_OUT (results; default a kept temporary directory).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
MIB=64 CONNS=2000 RTTS=5000
if [ "${1:-}" = -q ]; then
	MIB=8 CONNS=100 RTTS=200
fi
if [ -z "${MOAT:-}" ]; then
	for m in "$top/build/moat" "$top/moat"; do
		[ -x "$m" ] && { MOAT=$(cd "$(dirname "$m")" && pwd)/moat; break; }
	done
fi
[ -x "${MOAT:-}" ] || { echo "bench: no moat binary; build it or set MOAT" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (a peer network namespace)" >&2; exit 1; }
RUNSC=${RUNSC:-runsc}
out=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/moat-netbench.XXXXXX")}
mkdir -p "$out"
chmod 755 "$out"

# One Python program for both ends: `serve ADDR` (sink, source, accept,
# UDP echo on ports 5001-5004) and `CLIENT-ROW ADDR N` printing one number.
cat >"$out/nb.py" <<'PY'
import socket, sys, threading, time
BUF = 1 << 18
def serve(addr):
    def tcp(port, fn):
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind((addr, port)); l.listen(512)
        while True:
            c, _ = l.accept()
            threading.Thread(target=fn, args=(c,), daemon=True).start()
    def sink(c):
        while c.recv(BUF):
            pass
        c.close()
    def source(c):
        n = int(c.recv(32).decode()) << 20; b = b"x" * BUF
        while n > 0:
            c.sendall(b[:min(n, BUF)]); n -= BUF
        c.close()
    for port, fn in ((5001, sink), (5002, source), (5003, lambda c: c.close())):
        threading.Thread(target=tcp, args=(port, fn), daemon=True).start()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((addr, 5004))
    while True:
        d, a = u.recvfrom(2048); u.sendto(d, a)
def upload(addr, mib):     # MB/s
    s = socket.create_connection((addr, 5001)); b = b"x" * BUF; t = time.monotonic()
    for _ in range(mib * 4):
        s.sendall(b)
    s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
    return mib * 1.048576 / (time.monotonic() - t)
def download(addr, mib):   # MB/s
    s = socket.create_connection((addr, 5002)); t = time.monotonic(); s.sendall(b"%d" % mib); n = 0
    while True:
        d = s.recv(BUF)
        if not d:
            break
        n += len(d)
    return n / 1e6 / (time.monotonic() - t)
def connects(addr, n):     # connects per second
    t = time.monotonic()
    for _ in range(n):
        s = socket.create_connection((addr, 5003)); s.recv(1); s.close()
    return n / (time.monotonic() - t)
def udp_rtt(addr, n):      # microseconds per round trip
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect((addr, 5004)); s.settimeout(2)
    t = time.monotonic()
    for _ in range(n):
        s.send(b"x" * 64); s.recv(2048)
    return (time.monotonic() - t) / n * 1e6
def loopback(_, mib):      # MB/s through 127.0.0.1 inside whatever runs this
    threading.Thread(target=serve, args=("127.0.0.1",), daemon=True).start(); time.sleep(0.3)
    return download("127.0.0.1", mib)
if sys.argv[1] == "serve":
    serve(sys.argv[2])
else:
    print("%.1f" % globals()[sys.argv[1]](sys.argv[2], int(sys.argv[3])))
PY

NS=moatbench$$ IF=mbv$$
server=
cleanup()
{
	[ -n "$server" ] && kill "$server" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$IF" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$NS" && ip link add "$IF" type veth peer name "${IF}p" && ip link set "${IF}p" netns "$NS" &&
	ip addr add 198.18.0.1/24 dev "$IF" && ip link set "$IF" up &&
	ip netns exec "$NS" ip addr add 198.18.0.2/24 dev "${IF}p" &&
	ip netns exec "$NS" ip link set "${IF}p" up && ip netns exec "$NS" ip link set lo up ||
	{ echo "bench: cannot make the peer namespace" >&2; exit 1; }
# The same Python natively and inside (the host's PATH may find another).
PY=${PYTHON:-/usr/bin/python3}
ip netns exec "$NS" "$PY" "$out/nb.py" serve 198.18.0.2 >/dev/null 2>&1 &
server=$!
sleep 0.5

gvisor=yes
command -v "$RUNSC" >/dev/null 2>&1 || gvisor="no: runsc is not installed (apt-get install runsc)"
native() { "$PY" "$out/nb.py" "$@"; }
inmoat() { "$MOAT" run --net=sandbox --allow-net 198.18.0.0/24 --bind "$out:/bench:ro" -- "$PY" /bench/nb.py "$@"; }
# runsc do's sandbox network needs iptables on the host (NAT to its veth).
ingvisor() { "$RUNSC" --network=sandbox "do" "$PY" "$out/nb.py" "$@"; }

echo "== moat network benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs"
echo "== peer: 198.18.0.2 in a network namespace behind a veth pair; gVisor: $gvisor"
printf '%-28s %12s %12s %8s' row native moat ratio
[ "$gvisor" = yes ] && printf ' %12s %8s' gvisor ratio
echo
row()
{
	local name=$1 unit=$2 higher=$3
	shift 3
	local n m g=""
	n=$(native "$@" 2>>"$out/err") || n=""
	m=$(inmoat "$@" 2>>"$out/err") || m=""
	[ "$gvisor" = yes ] && { g=$(ingvisor "$@" 2>>"$out/err") || g=""; }
	ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" -v h="$higher" \
		'BEGIN { printf "%.2fx", h ? b / a : a / b }' || echo "-"; }
	printf '%-28s %12s %12s %8s' "$name ($unit)" "${n:--}" "${m:--}" "$(ratio "$n" "$m")"
	[ "$gvisor" = yes ] && printf ' %12s %8s' "${g:--}" "$(ratio "$n" "$g")"
	echo
	echo "$name $n $m $g" >>"$out/results.txt"
}
row "TCP download ${MIB} MiB" MB/s 1 download 198.18.0.2 "$MIB"
row "TCP upload ${MIB} MiB" MB/s 1 upload 198.18.0.2 "$MIB"
row "connects" "/s" 1 connects 198.18.0.2 "$CONNS"
row "UDP round trip" us 0 udp_rtt 198.18.0.2 "$RTTS"
row "TCP over loopback inside" MB/s 1 loopback 127.0.0.1 "$MIB"
echo "(ratios: moat's share of native; >1x is faster. Raw results and stderr: $out)"
