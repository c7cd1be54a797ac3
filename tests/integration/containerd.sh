#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: containerd runs moat as its runc (docs/kubernetes.md): a
# containerd of the test's own (root, state and socket in a temporary
# directory, the CRI plugin off), `ctr run --runtime io.containerd.runc.v2
# --runc-binary moat` on a busybox-static rootfs. Checked: the output and
# exit status ctr reports, exec and kill of a detached task, and that no
# state or process is left afterwards.
. "$(dirname "$0")/lib.sh"

require_moat

for p in containerd ctr containerd-shim-runc-v2; do
	have "$p" || { skip "containerd as a client" "$p is not installed (scripts/setup.sh --test)"; done_testing; }
done
BUSYBOX=$(command -v busybox)
if [ -z "$BUSYBOX" ] || { have file && ! file -L "$BUSYBOX" | grep -q 'statically linked'; }; then
	skip "containerd as a client" "needs busybox-static"
	done_testing
fi

W=$(host_tmpdir) || bail_out "no temporary directory"
RUNC_ROOT=$W/moat   # moat's --root, through the shim's runc root
cat >"$W/config.toml" <<EOF
version = 2
root = "$W/root"
state = "$W/state"
[grpc]
  address = "$W/sock"
[ttrpc]
  address = "$W/sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
EOF
containerd --config "$W/config.toml" >"$W/containerd.log" 2>&1 &
CTD=$!
at_exit "kill $CTD; sleep 0.5; kill -9 $CTD"
for i in $(seq 50); do
	[ -S "$W/sock" ] && ctr -a "$W/sock" version >/dev/null 2>&1 && break
	sleep 0.1
done
if ! ctr -a "$W/sock" version >/dev/null 2>&1; then
	skip "containerd as a client" "containerd does not start here: $(tail -1 "$W/containerd.log")"
	done_testing
fi

R=$W/rootfs
mkdir -p "$R"/{bin,etc,tmp,run,proc,dev,sys,root} && cp "$BUSYBOX" "$R/bin/busybox" || bail_out "no rootfs"
for c in $("$BUSYBOX" --list); do
	[ -e "$R/bin/$c" ] || ln -s busybox "$R/bin/$c"
done

ctr_() { timeout -k 5 "$MOAT_TIMEOUT" ctr -a "$W/sock" "$@" </dev/null; }
crun_() # crun_ "CTR RUN OPTIONS" ID CMD... (--rootfs takes the rootfs as the first operand)
{
	local opts=$1
	shift
	# shellcheck disable=SC2086
	ctr_ run $opts --runtime io.containerd.runc.v2 --runc-binary "$MOAT" --runc-root "$RUNC_ROOT" \
		--rootfs "$R" "$@"
}

check_output "ctr run --rm with moat as the runc binary: the output" hi-from-moat \
	crun_ "--rm" c1 echo hi-from-moat
check_status "ctr run --rm: the exit status (4)" 4 crun_ "--rm" c2 sh -c 'exit 4'

t_in_sandbox()
{
	# The command sees moat's kernel: its own /proc with moat's init as
	# pid 1, and no network but loopback.
	crun_ "--rm" c3 sh -c 'cat /proc/1/comm; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "' >"$W/c3" || return 1
	cat "$W/c3" >&2
	[ "$(tail -1 "$W/c3")" = lo ] && [ "$(wc -l <"$W/c3")" = 2 ] && [ -z "$(ls -A "$RUNC_ROOT/default" 2>/dev/null)" ]
}
check "the container runs in moat's sandbox (its pid 1, loopback only); no state left" t_in_sandbox

t_detached()
{
	crun_ "-d" c4 sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done' >&2 || return 1
	[ -d "$RUNC_ROOT/default/c4" ] || { echo "no moat state for c4" >&2; return 1; }
	local out
	out=$(ctr_ task exec --exec-id e1 c4 sh -c 'echo exec-ok; exit 6')
	local rc=$?
	echo "exec: $out, exit $rc" >&2
	[ "$out" = exec-ok ] && [ "$rc" = 6 ] || return 1
	ctr_ task kill -s SIGTERM c4 || return 1
	local i st
	for i in $(seq 50); do
		st=$(ctr_ task ls | awk '$1 == "c4" {print $3}')
		[ "$st" = STOPPED ] && break
		sleep 0.1
	done
	echo "status $st" >&2
	[ "$st" = STOPPED ] || return 1
	ctr_ task delete c4 >&2 && ctr_ container delete c4 && [ ! -e "$RUNC_ROOT/default/c4" ]
}
check "ctr run -d, task exec (output, exit 6), task kill SIGTERM, delete: state gone" t_detached

t_nothing_left()
{
	[ -z "$(ctr_ task ls -q)" ] && [ -z "$(ctr_ container ls -q)" ] || return 1
	[ -z "$(ls -A "$RUNC_ROOT/default" 2>/dev/null)" ] || { ls -la "$RUNC_ROOT/default" >&2; return 1; }
	! pgrep -f -- "--root $RUNC_ROOT" >&2
}
check "nothing left: no task, no container, no moat state, no moat process" t_nothing_left

done_testing
