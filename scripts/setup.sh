#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/setup.sh - install what moat needs on Debian 12 and build it in build/.
#
#   scripts/setup.sh          build dependencies, then build build/moat
#   scripts/setup.sh --test   also what the tests use (python3, gcc, git, ...)
#
# Idempotent: installs only missing packages (one apt-get update first, only
# when something is missing), runs autogen.sh only when there is no configure,
# configure only when build/ is not configured, then make.
# MOAT_BUILD_DIR overrides build/.
set -euo pipefail

cd "$(dirname "$0")/.."
top=$(pwd)
build=${MOAT_BUILD_DIR:-build}

pkgs=(build-essential autoconf automake libtool pkg-config
	libseccomp-dev liburing-dev libxxhash-dev libjson-c-dev libslirp-dev libglib2.0-dev)
if [ "${1:-}" = --test ]; then
	pkgs+=(python3 gcc make git tar procps util-linux file busybox-static strace
		libpython3.11-testsuite python3-venv sqlite3 psmisc sudo clang libclang-rt-14-dev inotify-tools curl iproute2
		podman conmon crun runc containerd uidmap fuse-overlayfs slirp4netns mmdebstrap)
fi

missing=()
for p in "${pkgs[@]}"; do
	if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; }
		sudo=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x configure ] || ./autogen.sh
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q
make -s -j"$(nproc)"
echo "setup: built $(pwd)/moat"
