# audit_schema.py DOC LOG...: every line of every LOG is one JSON object
# that fits the schema of moat's audit records, and the record types here
# are exactly those of DOC's table (docs/security.md, "The audit log"), so
# the documented schema, this check and moat's records stay the same.
# Prints how many records of each type it checked.
import collections, json, re, sys

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def need(r, **kinds):
    for k, t in kinds.items():
        if k not in r:
            raise ValueError("no %s" % k)
        v = r[k]
        ok = {"int": is_int(v), "str": isinstance(v, str), "bool": isinstance(v, bool),
              "list": isinstance(v, list), "dict": isinstance(v, dict)}[t]
        if not ok:
            raise ValueError("%s is not a%s %s: %r" % (k, "n" if t == "int" else "", t, v))


def start(r):
    need(r, command="str", hostname="str", limits="dict")
    need(r["limits"], mechanism="str", memory="int", pids="int", cpu_quota_us="int",
         cpu_period_us="int", nofile="int")


def exec_(r):
    need(r, pid="int", path="str", argv="list")
    if not all(isinstance(a, str) for a in r["argv"]) or len(r["argv"]) > 64:
        raise ValueError("argv: at most 64 strings")


def deny(r):
    need(r, syscall="str", pid="int", errno="int")
    which = [k for k in ("family", "socket_type", "protocol", "optname") if k in r]
    if which:
        if r["syscall"] not in ("socket", "setsockopt") or len(which) != 1 or not is_int(r[which[0]]):
            raise ValueError("a socket refusal names one of family, socket_type, protocol, optname")
    else:
        need(r, nr="int", args="list")
        if len(r["args"]) != 6 or not all(is_int(a) for a in r["args"]):
            raise ValueError("args: six integers")


def suppressed(r):
    need(r, count="int")
    if r["count"] <= 0:
        raise ValueError("count must be positive")


def connect(r):
    need(r, proto="str", dst="str", verdict="str", reason="str")
    if "port" in r:
        need(r, port="int")
    if "via" in r:
        need(r, via="str")
    if r["verdict"] not in ("allow", "refuse"):
        raise ValueError("verdict")


def limit(r):
    need(r, limit="str")
    kind = r["limit"]
    if kind == "memory":
        need(r, bytes="int", oom_kills="int")
    elif kind == "pids":
        need(r, max="int", refused="int")
    elif kind == "timeout":
        need(r, ms="int")
    elif kind == "disk":
        need(r, bytes="int")
    elif kind == "workers":
        need(r, max="int")
    elif kind in ("open_files", "nofile"):
        if r.get("first") is not True:
            need(r, refused="int")
        if kind == "open_files" or "max" in r:
            need(r, max="int")
    else:
        raise ValueError("unknown limit %r" % kind)


def stop_kill(r):
    need(r, signal="str", grace_ms="int")


def kill(r):
    need(r, reason="str")
    if "tid" in r:
        need(r, tid="str")


def exit_(r):
    need(r, status="int")
    if "signal" in r:
        need(r, signal="int")


SCHEMA = {"start": start, "exec": exec_, "exec_killed": exec_, "deny": deny,
          "deny-suppressed": suppressed, "connect": connect, "connect-suppressed": suppressed,
          "limit": limit, "stop_kill": stop_kill, "kill": kill, "exit": exit_}

doc = open(sys.argv[1]).read()
table = doc.split("## The audit log", 1)[1].split("\n## ", 1)[0]
documented = set(re.findall(r"^\| `([a-z_-]+)` \|", table, re.M))
if documented != set(SCHEMA):
    sys.exit("docs/security.md's record types %s are not this check's %s"
             % (sorted(documented), sorted(SCHEMA)))

seen = collections.Counter()
bad = 0
for path in sys.argv[2:]:
    for n, line in enumerate(open(path), 1):
        try:
            r = json.loads(line)
            if not isinstance(r, dict):
                raise ValueError("not an object")
            need(r, time="str", type="str")
            if not TIME.match(r["time"]):
                raise ValueError("time is not RFC 3339 UTC with microseconds")
            if r["type"] not in SCHEMA:
                raise ValueError("unknown type")
            SCHEMA[r["type"]](r)
            seen[r["type"]] += 1
        except ValueError as e:  # json.JSONDecodeError is one too
            bad += 1
            print("%s:%d: %s: %s" % (path, n, e, line.rstrip()[:300]), file=sys.stderr)
print(" ".join("%s=%d" % kv for kv in sorted(seen.items())))
sys.exit(1 if bad or not seen else 0)
