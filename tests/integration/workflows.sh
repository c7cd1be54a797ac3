#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: real workflows on the sandbox's filesystems (issue 7), with
# programs we did not write: git, tar, cp -a, find, pip, sqlite3. What
# matters is compared with what the same commands give natively or checked
# from the host.
. "$(dirname "$0")/lib.sh"

require_moat

have() { command -v "$1" >/dev/null 2>&1; }

# --- git in /tmp ---------------------------------------------------------------------
GIT_SCRIPT='set -e
cd /tmp
git init -q -b main repo && cd repo
git config user.email t@moat && git config user.name moat
for i in 1 2 3; do echo "line $i" > f$i; done
git add . && git commit -qm one
git branch topic && git checkout -q topic
echo topic >> f1 && git commit -qam two
git checkout -q main
echo main > f4 && git add f4 && git commit -qm three
git merge -q --no-edit topic
git gc -q
git fsck --strict --no-progress
echo "$(git log --oneline | wc -l) $(git status --porcelain | wc -l) $(git cat-file -p HEAD:f1 | tail -1)"'
if have git; then
	check_output "git init, add, commit, branch, merge, gc, fsck in /tmp" "4 0 topic" \
		mrun --env HOME=/root -- /bin/sh -c "$GIT_SCRIPT"
else
	skip "git in /tmp" "no git on the host"
fi

# --- tar czf / tar xzf of /usr/include ----------------------------------------------------
t_tar_roundtrip()
{
	local native inside
	native=$(cd /usr/include && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
	inside=$(MOAT_TIMEOUT=300 mrun -- /bin/sh -c 'set -e
		cd /tmp && tar czf inc.tgz -C /usr include && mkdir x && tar xzf inc.tgz -C x
		cd x/include && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum
		echo "$(find . -type l | wc -l) $(cd /usr/include && find . -type l | wc -l)"') || return 1
	echo "native: $native"
	echo "inside: $inside"
	local links
	links=$(tail -1 <<<"$inside")
	[ "$(head -1 <<<"$inside")" = "$native" ] && [ "${links% *}" = "${links#* }" ]
}
check "tar czf then xzf of /usr/include: identical sha256sum lists, the same symlinks" t_tar_roundtrip

# --- cp -a -----------------------------------------------------------------------------
check_output "cp -a keeps modes, times, symlinks and hard links" "same" mrun -- /bin/sh -c '
set -e
mkdir -p /tmp/src/d && cd /tmp/src
echo a > f && chmod 640 f && touch -d "2001-02-03 04:05:06" f
ln -s f sym && ln f hard && chmod 700 d && touch -d "2002-01-01" d
mkfifo p
cd /tmp && cp -a src dst
a=$(cd src && find . -printf "%p %M %T@ %l %n\n" | sort)
b=$(cd dst && find . -printf "%p %M %T@ %l %n\n" | sort)
[ "$a" = "$b" ] && [ "$(stat -c %i dst/f)" = "$(stat -c %i dst/hard)" ] && echo same'

# --- find ---------------------------------------------------------------------------------
check_output "find -newer, -perm, -type l, -delete" "./new
./lnk
./suid
gone" mrun -- /bin/sh -c '
cd /tmp && mkdir t && cd t
touch -d "2020-01-01" old && sleep 0.01 && touch new && ln -s new lnk
touch suid && chmod 4755 suid && touch -d "2019-01-01" suid
find . -newer old -type f
find . -type l
find . -perm -4000
find . -name old -delete
[ ! -e old ] && echo gone'

# --- pip install of a local wheel into a venv -----------------------------------------------
t_wheel()
{
	local out
	out=$(MOAT_TIMEOUT=240 mrun -- /bin/sh -c '
set -e
cd /tmp
python3 - <<EOF
import zipfile, hashlib, base64
files = {
    "moatdemo/__init__.py": "def hello():\n    return \"hello from a wheel\"\n",
    "moatdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: moatdemo\nVersion: 1.0\n",
    "moatdemo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: moat-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile("moatdemo-1.0-py3-none-any.whl", "w") as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("moatdemo-1.0.dist-info/RECORD,,")
    z.writestr("moatdemo-1.0.dist-info/RECORD", "\n".join(record) + "\n")
EOF
python3 -m venv /tmp/v
/tmp/v/bin/pip install -q --no-index --disable-pip-version-check moatdemo-1.0-py3-none-any.whl
/tmp/v/bin/python -c "import moatdemo; print(moatdemo.hello())"
/tmp/v/bin/pip list --disable-pip-version-check 2>/dev/null | grep -c moatdemo') || { echo "$out"; return 1; }
	echo "$out"
	[ "$out" = "hello from a wheel
1" ]
}
if /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null; then
	check "python3 -m venv, then pip install --no-index of a wheel built in the test" t_wheel
else
	skip "python3 -m venv and pip install of a wheel" "no ensurepip (python3-venv) on the host"
fi

# --- sqlite3 in WAL mode, two writer processes ----------------------------------------------
t_sqlite()
{
	local out
	out=$(MOAT_TIMEOUT=120 mrun -- /bin/sh -c '
cd /tmp
sqlite3 db "PRAGMA journal_mode=WAL; CREATE TABLE t(w TEXT, n INT);" >/dev/null
w() { i=0; while [ $i -lt 200 ]; do echo "INSERT INTO t VALUES(\"$1\", $i);"; i=$((i+1)); done |
	sed "1i PRAGMA busy_timeout=10000;" | sqlite3 db >/dev/null; }
w a & w b & wait
sqlite3 db "PRAGMA integrity_check; SELECT w, count(*) FROM t GROUP BY w;"') || { echo "$out"; return 1; }
	echo "$out"
	[ "$out" = "ok
a|200
b|200" ]
}
if have sqlite3; then
	check "sqlite3 in WAL mode: two writer processes at once, every row in, integrity ok" t_sqlite
else
	skip "sqlite3 in WAL mode with two writers" "no sqlite3 on the host"
fi

done_testing
