#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: `moat run --user USER[:GROUP]` (issue 8, identity): the
# command's credentials, names from the sandbox's /etc/passwd and
# /etc/group, what a user other than root may not do, and root dropping to
# a user inside.
. "$(dirname "$0")/lib.sh"

require_moat

t_ids() { mrun --user 1000:1000 -- sh -c 'echo $(id -u) $(id -g) $(id -G)'; }
check_output "--user 1000:1000: id -u, id -g, id -G" "1000 1000 1000" t_ids
t_id_numeric() { mrun --user 1000:1000 -- id | grep -q '^uid=1000[(].*gid=1000[(]'; }
check "--user 1000:1000 -- id names uid and gid from the sandbox's files" t_id_numeric

t_named() { mrun --user nobody -- sh -c 'id -un; whoami; id -gn; echo "$HOME"; touch /tmp/x; ls -l /tmp/x | cut -d" " -f3,4; stat -c "%u %g" /tmp/x'; }
nogroup=$(id -gn nobody 2>/dev/null)
check_output "--user nobody: id, whoami, HOME from /etc/passwd; a file it makes is its own (ls -l names it)" \
	"nobody
nobody
$nogroup
$(getent passwd nobody | cut -d: -f6)
nobody $nogroup
65534 65534" t_named

# A user listed as a member in /etc/group gets that group too.
member=
while IFS=: read -r gname _ gid members; do
	for m in ${members//,/ }; do
		if getent passwd "$m" >/dev/null; then
			member=$m mgid=$gid
			break 2
		fi
	done
done </etc/group
if [ -n "$member" ]; then
	t_groups() { mrun --user "$member" -- id -G | tr ' ' '\n' | grep -qx "$mgid"; }
	check "--user $member: supplementary group $mgid from /etc/group" t_groups
else
	skip "supplementary groups from /etc/group" "no group with members here"
fi

t_unknown()
{
	local err rc
	err=$(mrun --user no-such-user-moat -- true 2>&1)
	rc=$?
	[ "$rc" = 125 ] && [[ $err == *"no user 'no-such-user-moat'"* ]] || { echo "rc $rc: $err"; return 1; }
}
check "--user naming an unknown user: exit 125, says which" t_unknown
check_status "--user with an unknown group: exit 125" 125 mrun --user 1000:no-such-group-moat -- true
check_status "--user with an empty part: exit 125" 125 mrun --user 1000: -- true

# A root-only file from the host (a read-only bind keeps its owner and
# mode): root inside reads it, a user gets EACCES.
dir=$(host_tmpdir)
echo secret >"$dir/f"
chmod 600 "$dir/f"
chown 0:0 "$dir/f"
check_output "root inside reads a root-only bound file" "secret" mrun --bind "$dir:/data" -- cat /data/f
t_eacces() { mrun --bind "$dir:/data" --user 1000 -- sh -c 'cat /data/f; echo rc=$?' 2>&1; }
check_output "--user 1000 gets EACCES on it" "cat: /data/f: Permission denied
rc=1" t_eacces

SETUID_PY='
import os
for name, f in (("setuid", lambda: os.setuid(0)), ("setgid", lambda: os.setgid(0)),
                ("setgroups", lambda: os.setgroups([0])), ("seteuid", lambda: os.seteuid(0))):
    try:
        f()
        print(name, "ok")
    except OSError as e:
        print(name, e.strerror)
print(os.getuid(), os.geteuid(), os.getgid())
'
t_no_root() { mrun --user 1000:1000 -- python3 -c "$SETUID_PY"; }
check_output "--user 1000 cannot become root: setuid, setgid, setgroups, seteuid give EPERM" \
	"setuid Operation not permitted
setgid Operation not permitted
setgroups Operation not permitted
seteuid Operation not permitted
1000 1000 1000" t_no_root

# Root inside makes a 0600 file in /tmp, then drops to a user (as su and
# runuser do: setgroups, setgid, setuid) and is refused it; and cannot
# come back.
DROP_PY='
import os
with open("/tmp/f", "w") as f:
    f.write("s")
os.chmod("/tmp/f", 0o600)
os.setgroups([]); os.setgid(1000); os.setuid(1000)
try:
    open("/tmp/f").read()
    print("read")
except OSError as e:
    print(e.strerror)
try:
    os.setuid(0)
except OSError as e:
    print(e.strerror)
print(os.getresuid(), os.getgroups())
'
t_drop() { mrun -- python3 -c "$DROP_PY"; }
check_output "root drops to a user inside: EACCES on root's 0600 file, no way back" \
	"Permission denied
Operation not permitted
(1000, 1000, 1000) []" t_drop

# The system's own droppers: coreutils' chroot --userspec everywhere; su and
# runuser where the root has PAM's configuration (the default view does not
# show /etc/pam.d; the host's root does).
t_chroot_userspec() { mrun -- chroot --userspec=nobody:nogroup / id -un; }
check_output "root drops with chroot --userspec" "nobody" t_chroot_userspec
if have su && have runuser && [ -d /etc/pam.d ]; then
	t_su() { mrun --rootfs / -- sh -c 'su nobody -s /bin/sh -c "id -un"; runuser -u nobody -- id -un'; }
	check_output "root drops with su and runuser (--rootfs /, which has /etc/pam.d)" "nobody
nobody" t_su
else
	skip "su and runuser" "not installed, or no /etc/pam.d"
fi

# With -t the terminal is the user's.
t_tty_owner() { mrun -t --user nobody -- sh -c 'stat -c "%U %G %a" "$(tty)"' | tr -d '\r'; }
check_output "--user with -t: the pty belongs to the user (group tty, 620)" "nobody tty 620" t_tty_owner

done_testing
