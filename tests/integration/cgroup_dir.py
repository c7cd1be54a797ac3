# SPDX-License-Identifier: MIT
# cgroup_dir.py PID CTL: the directory of host process PID's cgroup for
# controller CTL (memory, pids, cpu): in CTL's v1 hierarchy where the host
# mounts it there, else the cgroup v2 one. Prints nothing when there is
# none. For the integration tests (failclosed.sh, oci.sh).
import sys

pid, ctl = sys.argv[1], sys.argv[2]
mounts = [l.split() for l in open("/proc/self/mounts")]


def mount_of(c):
    for m in mounts:
        if c is None and m[2] == "cgroup2":
            return m[1]
        if c is not None and m[2] == "cgroup" and c in m[3].split(","):
            return m[1]
    return None


paths = {}
for line in open("/proc/%s/cgroup" % pid):
    hid, ctls, path = line.rstrip("\n").split(":", 2)
    for c in ctls.split(",") if ctls else [None]:
        paths[c] = path

for c in (ctl, None):
    m = mount_of(c)
    if m and c in paths:
        print((m + paths[c]).rstrip("/") if paths[c] != "/" else m)
        break
