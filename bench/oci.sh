#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/oci.sh - moat as podman's OCI runtime, against crun and runsc:
#
#   1. `podman run --rm IMAGE true`, N times (default 10, after 2 warm-ups),
#      with --runtime moat, crun and runsc; median and mean wall time;
#   2. the memory of an idle running container (`sleep`): the resident set
#      (VmRSS, and Pss from smaps_rollup) of the runtime's own processes,
#      what remains of it once the container runs, with the workload (a
#      static busybox sleep, ~100 kB): moat's sentry, pid 1 and gofer;
#      runsc's sandbox, gofer and the rest under the container's conmon;
#      crun: nothing (it exits once the container runs).
#
# The image is a busybox-static rootfs imported into a private podman
# storage under a temporary directory (no registry is reached). Needs root,
# podman, conmon and busybox-static; runsc and crun are skipped when absent.
#
# crun refuses a cgroup "hybrid" host (v1 controllers, and a v2 hierarchy
# at /sys/fs/cgroup/unified that holds one, as hugetlb here). On such a
# host the whole benchmark runs in a mount namespace of its own where
# /sys/fs/cgroup/unified is unmounted: every runtime (and podman) then sees
# the same pure v1 host. The host's own mounts are not touched.
#
#   bench/oci.sh [-n N]      MOAT=build/moat by default
set -u
N=10
[ "${1:-}" = -n ] && N=$2
cd "$(dirname "$0")/.." || exit 1
if [ -z "${MOAT_BENCH_OCI_NS:-}" ] && command -v crun >/dev/null &&
	[ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
	[ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
	echo "(a cgroup hybrid host: run in a mount namespace without /sys/fs/cgroup/unified, so crun runs)"
	exec env MOAT_BENCH_OCI_NS=1 unshare -m --propagation private \
		sh -c 'umount /sys/fs/cgroup/unified && exec "$0" "$@"' "$0" "$@"
fi
MOAT=${MOAT:-$(pwd)/build/moat}
W=$(mktemp -d /tmp/moat-bench-oci.XXXXXX)
trap 'pm crun rm -af -t 0 >/dev/null 2>&1; rm -rf "$W"' EXIT

# Every container: --network none (no runtime gets a network to set up)
# and RLIMIT_NOFILE 1024:16384, NPROC 4096 (podman asks 1048576 and 32768, which crun
# cannot set where root lacks CAP_SYS_RESOURCE). runsc is told it has no
# network too (it refuses the host's network namespace otherwise).
pm() # pm RUNTIME ARGS...
{
	local rt=$1 extra=()
	shift
	case $rt in *runsc) extra=(--runtime-flag network=none) ;; esac
	podman --root "$W/storage" --runroot "$W/run" --tmpdir "$W/libpod" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime "$rt" "${extra[@]}" "$@"
}
RUN=(run --network none --ulimit nofile=1024:16384 --ulimit nproc=4096:4096)

mkdir -p "$W/rootfs"/{bin,etc,tmp,run,proc,dev,sys,root,var/tmp}
cp "$(command -v busybox)" "$W/rootfs/bin/busybox"
for c in $(busybox --list); do [ -e "$W/rootfs/bin/$c" ] || ln -s busybox "$W/rootfs/bin/$c"; done
tar -C "$W/rootfs" -cf "$W/rootfs.tar" . && pm crun import "$W/rootfs.tar" localhost/bench-bb:1 >/dev/null || exit 1

runtimes=("moat:$MOAT")
command -v crun >/dev/null && runtimes+=("crun:$(command -v crun)")
command -v runc >/dev/null && runtimes+=("runc:$(command -v runc)")
command -v runsc >/dev/null && runtimes+=("runsc:$(command -v runsc)")

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

printf '%-6s %10s %10s   (podman run --rm IMAGE true, %d runs)\n' runtime median_ms mean_ms "$N"
for r in "${runtimes[@]}"; do
	name=${r%%:*} path=${r#*:}
	for i in 1 2; do pm "$path" "${RUN[@]}" --rm localhost/bench-bb:1 true >/dev/null 2>&1; done
	: >"$W/t.$name"
	for i in $(seq "$N"); do
		s=$(date +%s%N)
		pm "$path" "${RUN[@]}" --rm localhost/bench-bb:1 true >/dev/null 2>"$W/err.$name" || { echo "$name: $(tail -1 "$W/err.$name")"; break; }
		ms "$s" >>"$W/t.$name"
	done
	sort -n "$W/t.$name" | awk -v n="$name" '{a[NR]=$1; s+=$1} END {if (NR) printf "%-6s %10d %10.1f\n", n, a[int((NR+1)/2)], s/NR}' >"$W/med.$name"
	cat "$W/med.$name"
done
med() { awk '{print $2}' "$W/med.$1" 2>/dev/null; }
if [ -n "$(med moat)" ] && [ -n "$(med crun)" ]; then
	awk -v m="$(med moat)" -v c="$(med crun)" 'BEGIN {printf "goal: within 1.5x of crun: %.2fx (%s)\n", m / c, m <= 1.5 * c ? "met" : "not met"}'
fi
if [ -n "$(med moat)" ] && [ -n "$(med runsc)" ]; then
	awk -v m="$(med moat)" -v r="$(med runsc)" 'BEGIN {printf "goal: 5x faster than runsc: %.2fx (%s)\n", (r / m), (r >= 5 * m) ? "met" : "not met"}'
fi

# kB of VmRSS and Pss of a process and its descendants, in all and of
# those whose executable is $2 (the runtime's own, not the workload's).
tree_mem()
{
	local pids=$1 exe=$2 p kids all="" rss=0 pss=0 n=0 orss=0 opss=0 r q
	while [ -n "$pids" ]; do
		kids=""
		for p in $pids; do
			all="$all $p"
			kids="$kids $(cat /proc/"$p"/task/*/children 2>/dev/null)"
		done
		pids=$(echo $kids)
	done
	for p in $all; do
		r=$(awk '/^VmRSS/ {print $2}' /proc/"$p"/status 2>/dev/null)
		q=$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null)
		rss=$((rss + ${r:-0})) pss=$((pss + ${q:-0}))
		if [ "$(readlink /proc/"$p"/exe 2>/dev/null)" = "$exe" ]; then
			n=$((n + 1)) orss=$((orss + ${r:-0})) opss=$((opss + ${q:-0}))
		fi
	done
	echo "$(echo $all | wc -w) $rss $pss $n $orss $opss"
}

echo
printf '%-6s %6s %10s %10s %6s %10s %10s   (an idle running container, under conmon: all / the runtime binary'"'"'s own)\n' \
	runtime procs rss_kB pss_kB own own_rss own_pss
for r in "${runtimes[@]}"; do
	name=${r%%:*} path=${r#*:}
	id=$(pm "$path" "${RUN[@]}" -d localhost/bench-bb:1 sleep 600) || continue
	sleep 1
	conmon=$(pgrep -f "conmon.*-c $id" | head -1)
	# conmon's children are the runtime's processes (for crun: the
	# container's own process, which is the workload, not the runtime).
	kids=$(cat /proc/"$conmon"/task/*/children 2>/dev/null)
	if [ "$name" = crun ] || [ "$name" = runc ]; then
		printf "%-6s %6s %10s %10s   (exits once the container runs; only the workload is left)\n" "$name" 0 0 0
	else
		# Everything under conmon: the runtime's processes and the
		# workload (a static busybox sleep, about 100 kB).
		set -- $(tree_mem "$kids" "$(readlink -f "$path")")
		printf '%-6s %6s %10s %10s %6s %10s %10s\n' "$name" "$@"
	fi
	pm "$path" rm -f -t 0 "$id" >/dev/null 2>&1
done
