#!/bin/bash
# SPDX-License-Identifier: MIT
# Security: what the host's kernel and filesystem would tell a guest that
# security.sh's identity checks (kernel release, hostname, environment,
# machine and boot ids, processes) do not cover: the host's mounts and
# block devices, its device nodes, sysfs and debugfs, kernel modules,
# keyrings, the kernel log and symbols, the boot command line, and host
# binaries outside the view. Each check runs the same test on the host
# first, where it must find what it looks for (so the check can see a
# leak), then inside `moat run`, where it must find nothing.
. "$(dirname "$0")/../integration/lib.sh"

require_moat

# note TEXT: said on failure, and in the summary at the end (native vs moat).
note() { echo "$*" >&2; echo "$*" >>"$T_TMP/notes"; }

# The sandbox's own mounts (docs/architecture.md): anything else in its
# mount table would be the host's.
MOUNTS_OK=' / /proc /sys /sys/fs/cgroup /dev /dev/shm /dev/pts /dev/mqueue /tmp /root /etc/hosts /etc/hostname /etc/resolv.conf /etc/machine-id '

# foreign_mounts: the mount points and block-device sources, read from a
# mountinfo on stdin, that are not the sandbox's own.
foreign_mounts()
{
	awk -v ok="$MOUNTS_OK" '{
		mp = $5
		for (i = 7; i <= NF; i++) if ($i == "-") break
		src = $(i + 2)
		if (index(ok, " " mp " ") == 0) print "mount point " mp
		if (src ~ /^\/dev\//) print "device " src " at " mp
	}'
}

t_mounts()
{
	local nat in
	nat=$(foreign_mounts </proc/self/mountinfo | sort -u)
	note "native: $(wc -l <<<"$nat") foreign mounts, e.g. $(head -n 3 <<<"$nat" | tr '\n' ';')"
	[ -n "$nat" ] || { echo "natively nothing foreign was found: the check sees nothing" >&2; return 1; }
	in=$(mrun -- /bin/cat /proc/self/mountinfo) || return 1
	in=$(foreign_mounts <<<"$in")
	# /proc/mounts too: the same table in another form
	in+=$(mrun -- /bin/cat /proc/mounts | awk -v ok="$MOUNTS_OK" \
		'index(ok, " " $2 " ") == 0 { print "mount point " $2 } $1 ~ /^\/dev\// { print "device " $1 }')
	note "moat: [$in]"
	[ -z "$in" ]
}
check "the mount table names no host mount point or block device (natively it does)" t_mounts

# The device nodes devfs makes (sentry/fs/devfs.c).
DEVS_OK=' console fd full null ptmx pts random shm stderr stdin stdout tty urandom zero mqueue '

foreign_devs()
{
	local n
	for n in $1; do
		case $DEVS_OK in
		*" $n "*) ;;
		*) echo "$n" ;;
		esac
	done
}

t_devices()
{
	local nat in blk
	nat=$(foreign_devs "$(ls -A /dev)")
	note "native: /dev has $(wc -l <<<"$nat") other nodes, e.g. $(head -n 5 <<<"$nat" | tr '\n' ' ')"
	[ -n "$nat" ] || { echo "natively /dev has nothing more: the check sees nothing" >&2; return 1; }
	in=$(mrun -- /bin/sh -c 'ls -A /dev; find /dev -type b' ) || return 1
	blk=$(mrun -- /bin/sh -c 'find /dev /dev/pts -type b; for d in kmsg mem kvm vda sda loop0 fuse net/tun; do [ -e /dev/$d ] && echo /dev/$d; done; true')
	in=$(foreign_devs "$in")
	note "moat: other nodes [$in], block or host devices [$blk]"
	[ -z "$in" ] && [ -z "$blk" ]
}
check "/dev holds only the sandbox's devices: no block device, kmsg, mem, kvm, fuse or tun (natively it has them)" t_devices

# Kernel interfaces a sandbox must not reach or read.
KFILES='/sys/kernel /sys/module /sys/block /sys/class /sys/firmware /sys/bus /sys/dev /sys/power
/sys/kernel/debug /sys/kernel/tracing /sys/kernel/security /sys/fs/bpf /sys/fs/fuse
/proc/modules /proc/keys /proc/key-users /proc/kallsyms /proc/kmsg /proc/kcore /proc/sysrq-trigger
/proc/sched_debug /proc/timer_list /proc/partitions /proc/devices /proc/config.gz /proc/iomem
/proc/ioports /proc/interrupts /proc/slabinfo /proc/vmallocinfo /proc/sys/kernel/modprobe
/proc/sys/kernel/core_pattern /proc/sys/kernel/keys /proc/sys/kernel/perf_event_paranoid
/proc/sys/kernel/unprivileged_bpf_disabled'

t_kernel_files()
{
	local f nat="" in
	for f in $KFILES; do
		[ -e "$f" ] && nat+="$f "
	done
	note "native: $(wc -w <<<"$nat") of them exist: $nat"
	[ -n "$nat" ] || { echo "natively none exists: the check sees nothing" >&2; return 1; }
	# core_pattern is the sandbox's own (a fixed line, procfs.sh); every
	# other one must be absent.
	in=$(mrun -- /bin/sh -c 'for f in '"$(echo $KFILES)"'; do [ -e "$f" ] && echo "$f"; done; true' |
		grep -vx /proc/sys/kernel/core_pattern)
	note "moat: [$(echo $in)]"
	[ -z "$in" ] || return 1
	# and the pseudo filesystems behind them cannot be mounted
	in=$(mrun -- /bin/sh -c 'mkdir -p /tmp/m; for t in sysfs debugfs tracefs securityfs bpf configfs; do mount -t $t $t /tmp/m 2>/dev/null && echo "$t mounted"; done; true')
	note "moat: mounts of sysfs, debugfs, tracefs, securityfs, bpf, configfs: [$in]"
	[ -z "$in" ]
}
check "sysfs, debugfs, tracefs, BPF fs, modules, keyrings, kernel log, symbols and kcore are out of reach (natively they exist)" t_kernel_files

t_cmdline()
{
	local host in
	host=$(tr '\0' ' ' </proc/cmdline)
	in=$(mrun -- /bin/cat /proc/cmdline) || return 1
	note "the boot command line: host [${host:0:60}...], inside [$in]"
	[ -n "$host" ] && [ "$in" != "$host" ] && ! grep -qF -- "$(awk '{ print $1 }' <<<"$host")" <<<"$in"
}
check "/proc/cmdline is not the host's boot command line" t_cmdline

# A host binary outside the view (/var is not in it): natively it runs;
# inside it is not found by its path, nor through /proc.
t_host_binary()
{
	local d out
	d=$(host_tmpdir /var/tmp)
	chmod 755 "$d"
	cp /bin/true "$d/host-only-true"
	"$d/host-only-true" || { echo "natively the binary does not run: the check sees nothing" >&2; return 1; }
	out=$(mrun -- /bin/sh -c "'$d/host-only-true' && echo ran; ls '$d' 2>&1; true" 2>&1)
	note "moat: [$(echo $out)]"
	! grep -q ran <<<"$out"
}
check "a host binary outside the view cannot be run by its path (natively it runs)" t_host_binary

[ -f "$T_TMP/notes" ] && diag "$(cat "$T_TMP/notes")"
done_testing
