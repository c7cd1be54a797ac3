#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: a real distribution's root, made by the test: Debian 12's
# minbase (mmdebstrap from Debian's archive), used as moat run --rootfs, as
# a named warm sandbox, under apt-get with the network on and only the
# archive allowed, and as a podman image. The rootfs is made once per
# machine (MOAT_TEST_DEBROOT, default /var/tmp/moat-test-debroot) and reused
# by the later runs of the suite. Skipped where it cannot be made (no
# mmdebstrap, no way to the archive).
. "$(dirname "$0")/lib.sh"
require_moat

ROOTFS=${MOAT_TEST_DEBROOT:-/var/tmp/moat-test-debroot}
MIRROR=${MOAT_TEST_MIRROR:-http://deb.debian.org/debian}

make_rootfs()
{
	[ -f "$ROOTFS/.moat-test-complete" ] && return 0
	have mmdebstrap || return 1
	rm -rf "$ROOTFS.tmp"
	# Debian 12's minbase: dpkg, apt, bash, coreutils; ~35 s, 180 MB.
	timeout 600 mmdebstrap --variant=minbase --mode=root bookworm "$ROOTFS.tmp" "$MIRROR" \
		>"$T_TMP/mmdebstrap.log" 2>&1 || { tail -5 "$T_TMP/mmdebstrap.log"; return 1; }
	rm -rf "$ROOTFS" && mv "$ROOTFS.tmp" "$ROOTFS" && touch "$ROOTFS/.moat-test-complete"
}
if ! make_rootfs; then
	skip "a Debian rootfs" "mmdebstrap could not make one here (scripts/setup.sh --test installs it; it needs Debian's archive)"
	done_testing
fi
fingerprint() { find "$ROOTFS" -xdev -newer "$ROOTFS/.moat-test-complete" -printf '%p\n' 2>/dev/null | sort; }
before=$(fingerprint)

check_output "--rootfs: Debian 12's own files and tools" "12 bash dpkg" \
	mrun --rootfs "$ROOTFS" -- /bin/bash -c \
	'echo "$(cut -d. -f1 /etc/debian_version) $(basename "$BASH") $(dpkg-query -W -f="\${Package}" dpkg)"'

check "--rootfs: dpkg's database reads, the package set is complete (>= 80 installed)" \
	mrun --rootfs "$ROOTFS" -- /bin/sh -c '[ "$(dpkg-query -W -f="\${db:Status-Status}\n" | grep -c ^installed)" -ge 80 ]'

t_user()
{
	mrun --rootfs "$ROOTFS" --user nobody -- /bin/sh -c '
		[ "$(id -un)" = nobody ] || exit 1
		touch /etc/x 2>/dev/null && exit 2
		exit 0'
}
check "--user nobody from the rootfs's passwd: its id, and /etc refuses it" t_user

# apt-get with the network on, the archive the only host allowed: a
# package installed and run inside, and the rootfs on the host untouched.
t_apt()
{
	if [ -n "${http_proxy:-}${HTTP_PROXY:-}" ] || apt-config dump 2>/dev/null | grep -qi 'Acquire::http::Proxy'; then
		echo "an HTTP proxy is configured: the sandbox's direct route may not exist" >&2
		return 77
	fi
	local host
	host=$(printf '%s\n' "$MIRROR" | sed -E 's|^[a-z]+://([^/:]+).*|\1|')
	mrun --rootfs "$ROOTFS" --net=sandbox --allow-host "$host" -- /bin/bash -c '
		apt-get update -q >/tmp/u.log 2>&1 || { tail -3 /tmp/u.log; exit 1; }
		apt-get install -y -q --no-install-recommends cowsay >/tmp/i.log 2>&1 || { tail -3 /tmp/i.log; exit 2; }
		/usr/games/cowsay moo | grep -q "< moo >" || exit 3
		# the archive only: anything else stays refused, at once
		timeout 10 bash -c "exec 3<>/dev/tcp/1.1.1.1/80" 2>/dev/null && exit 4
		exit 0' || return 1
	[ ! -e "$ROOTFS/usr/games/cowsay" ]
}
t_apt_wrap()
{
	t_apt
	local rc=$?
	[ "$rc" = 77 ] && return 0
	return "$rc"
}
if [ -n "${MOAT_TEST_FORCE_FALLBACK:-}" ]; then
	skip "apt-get inside" "run in tests/run.sh's other passes (the archive is reached once less)"
elif have bash && [ -n "$(command -v ip)" ]; then
	check "apt-get update and install inside (--net=sandbox, only the archive allowed); the host's rootfs untouched" t_apt_wrap
else
	skip "apt-get inside" "needs iproute2 for --net=sandbox"
fi

t_named()
{
	local root=$T_TMP/state
	"$MOAT" --root "$root" run --name deb -d --rootfs "$ROOTFS" </dev/null || return 1
	local ok=0
	"$MOAT" --root "$root" exec deb /bin/bash -c 'echo warm > /root/mark' </dev/null &&
		[ "$("$MOAT" --root "$root" exec deb cat /root/mark </dev/null)" = warm ] &&
		"$MOAT" --root "$root" cp deb:/etc/debian_version "$T_TMP/debian_version" &&
		grep -q '^12\.' "$T_TMP/debian_version" && ok=1
	"$MOAT" --root "$root" delete --force deb
	[ "$ok" = 1 ]
}
check "a named sandbox on the rootfs: exec keeps state, cp out of it" t_named

check "nothing the sandboxes did reached the rootfs on the host" \
	test "$(fingerprint)" = "$before"

# As a podman image (podman import of the rootfs's tarball), in the
# default run of the suite only: podman's own part is most of its time.
# The overlay storage driver (vfs would copy the 180 MB for each run).
if [ -n "${MOAT_TEST_FORCE_FALLBACK:-}${MOAT_PLATFORM:-}" ]; then
	skip "podman run of the Debian image" "run once, in the suite's default pass"
elif have podman && have conmon; then
	W=$(host_tmpdir /var/tmp)
	P=(timeout -k 5 "$MOAT_TIMEOUT" podman --root "$W/storage" --runroot "$W/run" --tmpdir "$W/libpod"
		--storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime "$MOAT")
	at_exit "timeout 60 podman --root '$W/storage' --runroot '$W/run' --tmpdir '$W/libpod' --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime '$MOAT' rmi -af; umount -R '$W/storage/overlay' 2>/dev/null"
	t_podman()
	{
		tar -C "$ROOTFS" --exclude=./.moat-test-complete -cf "$W/deb.tar" . &&
			"${P[@]}" import "$W/deb.tar" localhost/moat-test-debian:12 >/dev/null </dev/null &&
			rm -f "$W/deb.tar" &&
			[ "$("${P[@]}" run --rm localhost/moat-test-debian:12 /bin/bash -c \
				'. /etc/os-release; echo $VERSION_CODENAME' </dev/null)" = bookworm ]
	}
	if [ -n "${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-}" ]; then
		skip "podman run of the Debian image" "podman.sh covers podman under the sanitizer build"
	else
		check "podman import of the rootfs, then podman --runtime moat run of it" t_podman
	fi
else
	skip "podman run of the Debian image" "podman is not installed"
fi

done_testing
