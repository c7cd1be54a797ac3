#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: concurrency. Multi-threaded guests, and calls that wait (a FIFO
# open with no writer yet) must not stall the guest's other tasks.
. "$(dirname "$0")/lib.sh"

require_moat

# Each of 8 threads writes, reads back, renames and lists files in its own
# directory and lists /usr/lib; the summary must be the same as natively.
POOL='
import concurrent.futures, hashlib, os, sys, tempfile
base = tempfile.mkdtemp(dir="/tmp")
def work(i):
    d = os.path.join(base, "t%d" % i)
    os.mkdir(d)
    h = hashlib.sha256()
    for j in range(40):
        p = os.path.join(d, "f%d" % j)
        with open(p, "w") as f:
            f.write(("%d-%d\n" % (i, j)) * (j + 1))
        with open(p) as f:
            h.update(f.read().encode())
        os.stat(p)
        if j % 2:
            os.rename(p, p + ".odd")
    usr = sorted(os.listdir("/usr/lib"))
    return "%d %d %s %d %s" % (i, len(os.listdir(d)), h.hexdigest()[:16],
                               len(usr), hashlib.sha256("".join(usr).encode()).hexdigest()[:16])
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    for line in ex.map(work, range(8)):
        print(line)
'
check_same "ThreadPoolExecutor(8) doing file I/O in /tmp and listing /usr/lib" python3 -c "$POOL"

# Threads of one process: one blocks opening a FIFO for reading, the others
# keep working; the last one opens it for writing.
FIFO_THREADS='
import os, tempfile, threading
d = tempfile.mkdtemp(dir="/tmp")
fifo = os.path.join(d, "fifo")
os.mkfifo(fifo)
got = []
def reader():
    with open(fifo) as f:
        got.append(f.read())
t = threading.Thread(target=reader)
t.start()
n = 0
for i in range(50):
    with open(os.path.join(d, "w%d" % i), "w") as f:
        f.write("x")
    n += len(os.listdir("/usr/bin")) > 0
print("worked", n, "files", len(os.listdir(d)))
with open(fifo, "w") as f:
    f.write("through the fifo\n")
t.join()
print(got[0], end="")
'
check_same "a thread blocked in a FIFO open does not stall the other threads" \
	python3 -c "$FIFO_THREADS"

# Processes: a background `cat fifo` blocks in open while the shell loops,
# writes files and runs ls; then the shell writes to the fifo.
check_same "a process blocked in a FIFO open does not stall the others" /bin/sh -c '
d=$(mktemp -d) && cd $d && mkfifo fifo || exit 1
cat fifo > got &
i=0
while [ $i -lt 30 ]; do echo $i > f$i; ls /usr > /dev/null; i=$((i+1)); done
echo "files $(ls | wc -l)"
echo "through the fifo" > fifo
wait
cat got
rm -rf $d'
check_same "a writer blocked in a FIFO open while the reader starts late" /bin/sh -c '
d=$(mktemp -d) && cd $d && mkfifo fifo || exit 1
echo "writer first" > fifo &
i=0
while [ $i -lt 20 ]; do ls / > /dev/null; i=$((i+1)); done
cat fifo
wait
rm -rf $d'

# Many processes at once, each forking and execing.
check_same "8 parallel shells each running 20 programs" /bin/sh -c '
d=$(mktemp -d)
for p in 1 2 3 4 5 6 7 8; do
	( i=0; while [ $i -lt 20 ]; do ls /usr/lib > /dev/null; echo $p.$i >> $d/$p; i=$((i+1)); done ) &
done
wait
cat $d/* | wc -l
md5sum $d/* | sed "s,$d/,,"
rm -rf $d'

check_output "exec from a non-leader thread" "exec-from-thread" mrun -- python3 -c '
import os, threading, time
def go():
    os.execv("/bin/echo", ["echo", "exec-from-thread"])
threading.Thread(target=go).start()
time.sleep(30)'

check_same "a thread pool running subprocesses" python3 -c '
import concurrent.futures, subprocess
def run(i):
    return subprocess.run(["/bin/sh", "-c", "echo $0 $(ls /usr | wc -l)", str(i)],
                          capture_output=True, text=True).stdout.strip()
with concurrent.futures.ThreadPoolExecutor(4) as ex:
    print("\n".join(ex.map(run, range(12))))'

check_output "signals between guest processes (kill, wait)" "143 done" \
	mrun -- /bin/sh -c 'sleep 30 & p=$!; kill $p; wait $p; echo $? done'

check_output "two sleeping processes at once" "a
b" mrun -- /bin/sh -c '(sleep 1; echo a) & (sleep 1; echo b) > /tmp/b & wait; cat /tmp/b'

done_testing
