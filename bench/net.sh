#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/net.sh - network rows: native vs moat --net=sandbox (vs gVisor's
# runsc --network=sandbox and passt's pasta when installed), one table
# with ratios. See bench/README.md. Needs root (it makes a peer network
# namespace).
#
#   bench/net.sh [-q]      -q: a quick run (small transfers, few connects,
#                          one run per cell instead of the median of 3)
#
# Rows: bulk TCP download and upload from a peer namespace behind a veth
# pair (198.18.0.2, RFC 2544's benchmarking range), connects per second
# (a new connection each), UDP round trip, and TCP over loopback inside the
# sandbox vs natively. Two moat columns: the default (TCP to the outside on
# the fast path, docs/networking.md) and --net-fastpath=off (every TCP
# byte through slirp). Environment: MOAT (default build/moat), RUNSC,
# BENCH_OUT (results; default a kept temporary directory).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
MIB=64 CONNS=2000 RTTS=5000 REPS=3
if [ "${1:-}" = -q ]; then
	MIB=8 CONNS=100 RTTS=200 REPS=1
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
if [ -n "$(ip route show 198.18.0.0/24)" ]; then
	echo "bench: 198.18.0.0/24 is already routed here (another run?)" >&2
	exit 1
fi
server=
cleanup()
{
	[ -n "$server" ] && kill "$server" 2>/dev/null
	[ -n "${fwd:-}" ] && echo "$fwd" >/proc/sys/net/ipv4/ip_forward
	ip netns del "$NS" 2>/dev/null
	ip link del "$IF" 2>/dev/null
	[ -s "$out/pasta.pid" ] && kill "$(cat "$out/pasta.pid")" 2>/dev/null
	[ -n "${PNS:-}" ] && ip netns del "$PNS" 2>/dev/null
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

# runsc do --network=sandbox makes its own namespace (192.168.10.2) behind
# a veth pair and routes through the host (it runs iptables and sets
# net.ipv4.ip_forward): the peer needs a route back to it.
gvisor=yes
if ! command -v "$RUNSC" >/dev/null 2>&1; then
	gvisor="no: runsc is not installed (apt-get install runsc)"
elif ! command -v iptables >/dev/null 2>&1; then
	gvisor="no: runsc --network=sandbox needs iptables (apt-get install iptables)"
else
	ip netns exec "$NS" ip route add 192.168.10.0/24 via 198.18.0.1
fi
# Debian 12's runsc (20221219) takes a namespace with
# /proc/sys/net/core/rmem_default for the host's own and refuses to run
# there; since Linux 6.x every network namespace has that file. In a mount
# namespace of its own, a tmpfs over /proc/sys/net hides it (the check's
# only use of that directory); the ip_forward it writes lands in the tmpfs,
# so the real one must already be 1 (saved and restored around the run).
gvisor_fix=
if [ "$gvisor" = yes ] && ip netns exec "$NS" test -e /proc/sys/net/core/rmem_default; then
	gvisor_fix=yes
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	echo 1 >/proc/sys/net/ipv4/ip_forward
fi
# pasta (passt's namespace mode, Debian's passt package), when installed:
# the other user-space stack moat could use, measured as a data point
# with no policy in front of it. It serves a namespace of its own made
# here; as root it must be told to stay root (--runas 0) to open its tap.
pasta=
PNS=moatpasta$$
if command -v pasta >/dev/null 2>&1 && ip netns add "$PNS" &&
	pasta --config-net --runas 0 -q -t none -u none -T none -U none --netns "$PNS" \
		-P "$out/pasta.pid" >>"$out/err" 2>&1; then
	pasta=yes
fi
native() { "$PY" "$out/nb.py" "$@"; }
inpasta() { ip netns exec "$PNS" "$PY" "$out/nb.py" "$@"; }
inmoat() { "$MOAT" run --net=sandbox --allow-net 198.18.0.0/24 --bind "$out:/bench:ro" -- "$PY" /bench/nb.py "$@"; }
# The same without the TCP fast path: every TCP byte through slirp.
inslirp()
{
	"$MOAT" run --net=sandbox --net-fastpath=off --allow-net 198.18.0.0/24 --bind "$out:/bench:ro" -- \
		"$PY" /bench/nb.py "$@"
}
ingvisor()
{
	if [ -n "$gvisor_fix" ]; then
		unshare -m sh -c 'mount -t tmpfs moat-bench /proc/sys/net && mkdir /proc/sys/net/ipv4 &&
			echo 1 >/proc/sys/net/ipv4/ip_forward && exec "$@"' sh \
			"$RUNSC" --network=sandbox "do" "$PY" "$out/nb.py" "$@"
	else
		"$RUNSC" --network=sandbox "do" "$PY" "$out/nb.py" "$@"
	fi
}

echo "== moat network benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs"
echo "== peer: 198.18.0.2 in a network namespace behind a veth pair; gVisor: $gvisor; pasta: ${pasta:-no}"
printf '%-28s %12s %12s %8s %12s %8s' row native moat ratio moat-slirp ratio
[ "$gvisor" = yes ] && printf ' %12s %8s' gvisor ratio
[ -n "$pasta" ] && printf ' %12s %8s' pasta ratio
echo
# The median of REPS runs (the machine may be shared); a failed run
# counts as none, all failed as "".
median()
{
	local i v vs=()
	for ((i = 0; i < REPS; i++)); do
		v=$("$@" 2>>"$out/err") && vs+=("$v")
	done
	[ "${#vs[@]}" -gt 0 ] && printf '%s\n' "${vs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
row()
{
	local name=$1 unit=$2 higher=$3
	shift 3
	local n m s g="" p=""
	n=$(median native "$@")
	m=$(median inmoat "$@")
	s=$(median inslirp "$@")
	[ "$gvisor" = yes ] && g=$(median ingvisor "$@")
	[ -n "$pasta" ] && p=$(median inpasta "$@")
	ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" -v h="$higher" \
		'BEGIN { printf "%.2fx", h ? b / a : a / b }' || echo "-"; }
	printf '%-28s %12s %12s %8s %12s %8s' "$name ($unit)" "${n:--}" "${m:--}" "$(ratio "$n" "$m")" \
		"${s:--}" "$(ratio "$n" "$s")"
	[ "$gvisor" = yes ] && printf ' %12s %8s' "${g:--}" "$(ratio "$n" "$g")"
	[ -n "$pasta" ] && printf ' %12s %8s' "${p:--}" "$(ratio "$n" "$p")"
	echo
	echo "$name $n $m $s $g $p" >>"$out/results.txt"
}
row "TCP download ${MIB} MiB" MB/s 1 download 198.18.0.2 "$MIB"
row "TCP upload ${MIB} MiB" MB/s 1 upload 198.18.0.2 "$MIB"
row "connects" "/s" 1 connects 198.18.0.2 "$CONNS"
row "UDP round trip" us 0 udp_rtt 198.18.0.2 "$RTTS"
row "TCP over loopback inside" MB/s 1 loopback 127.0.0.1 "$MIB"
echo "(ratios: moat's share of native; >1x is faster. Raw results and stderr: $out)"
