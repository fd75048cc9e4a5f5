# SLO files as weapons (loaded at start, on SIGHUP and when they change): many large
# `IsMatch` regexes, 10k-deep parentheses, 100k `or` terms, 10,000 files in the directory,
# and a reload storm (the files rewritten in a loop while 8 clients send spans). Prints
# `slotel check`'s answer, time and peak RSS, and for the running server its RSS and the
# /healthz probe.
#   slofiles.py BIN check            the load-time attacks through `slotel check`
#   slofiles.py BIN run K            K regex SLOs loaded by the server, then traffic whose
#                                    values fill each regex's search cache
#   slofiles.py BIN storm            a reload storm for 10 s (CALM=1: the same without it)
import sys, os, json, time, random, subprocess, tempfile, concurrent.futures as cf
from harness import *
binary, mode = sys.argv[1], sys.argv[2]
SECONDS = int(os.environ.get("SECONDS_", "20"))
d = tempfile.mkdtemp(prefix="h25-slo-")

def slo(i, where, extra=""):
    return (f"  - name: r{i}\n    objective: 99\n    window: 30d\n    sli:\n      spans:\n"
            f"        where: {json.dumps(where)}\n        bad: status.code == STATUS_CODE_ERROR\n{extra}")

def regex_file(path, k, pattern, docs=1, service="s"):
    with open(path, "w") as f:
        for doc in range(docs):
            if doc: f.write("---\n")
            f.write(f"service: {service}{doc}\nslos:\n")
            for i in range(k):
                f.write(slo(i, f'IsMatch(attributes["u"], "{pattern}")'))

def check(label, files):
    cfg = d + "/check.yaml"
    open(cfg, "w").write("receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}\nexporters: {nop: }\n"
                         f"slo: {{files: {json.dumps(files)}}}\nservice: {{pipelines: {{traces: {{exporters: [nop]}}}}}}\n")
    t = time.monotonic()
    # 6 GiB of address space at most: past it the allocation fails and the process aborts.
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "prlimit", "--as=6442450944", binary, "check", "--config", cfg],
                       capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t
    err = p.stderr.strip().splitlines()
    out = (p.stdout.strip().splitlines() or [""])[-1]
    print("%-46s exit %d in %.2fs, peak %d MiB; %d error lines; %s" % (label, p.returncode, dt, int(err[-1].split()[-1]) // 1024,
          len(err) - 1, (err[0] if len(err) > 1 else out)[:200]), flush=True)

if mode == "check":
    for k in (100, 1000, 5000):
        regex_file(d + "/re.yaml", k, r"\\w{10}")
        check(f"{k} SLOs with IsMatch \\w{{10}} ({os.path.getsize(d + '/re.yaml')} B)", [d + "/re.yaml"])
    regex_file(d + "/re.yaml", 5000, r"\\w{10}", docs=4)
    check(f"4 x 5000 SLOs \\w{{10}} ({os.path.getsize(d + '/re.yaml') >> 10} KiB)", [d + "/re.yaml"])
    regex_file(d + "/re.yaml", 1000, r"^/api/(v1|v2)/users/[0-9]+$")
    check("1000 SLOs with a route regex", [d + "/re.yaml"])
    big = " or ".join(f'IsMatch(attributes["u"], "\\\\w{{10}}x{i}")' for i in range(300))
    open(d + "/one.yaml", "w").write("service: s\nslos:\n" + slo(0, big))
    check("one condition of 300 \\w{10} IsMatch terms", [d + "/one.yaml"])
    open(d + "/deep.yaml", "w").write("service: s\nslos:\n" + slo(0, "(" * 10000 + "name == \"a\"" + ")" * 10000))
    check("10,000-deep parentheses", [d + "/deep.yaml"])
    open(d + "/nots.yaml", "w").write("service: s\nslos:\n" + slo(0, "not " * 100000 + "name == \"a\""))
    check("100,000 `not`", [d + "/nots.yaml"])
    ors = " or ".join(f'attributes["a"] == "v{i}"' for i in range(100000))
    open(d + "/ors.yaml", "w").write("service: s\nslos:\n" + slo(0, ors))
    check(f"100,000 `or` terms ({os.path.getsize(d + '/ors.yaml') >> 10} KiB)", [d + "/ors.yaml"])
    ands = " and ".join(f'attributes["a{i}"] != nil' for i in range(100000))
    open(d + "/ands.yaml", "w").write("service: s\nslos:\n" + slo(0, ands))
    check(f"100,000 `and` terms, 100,000 attributes", [d + "/ands.yaml"])
    os.makedirs(d + "/many")
    for i in range(10000):
        open(f"{d}/many/f{i:05}.yaml", "w").write(f"service: s{i}\nslos:\n" + slo(0, 'kind == SPAN_KIND_SERVER'))
    check("10,000 SLO files of one SLO", [d + "/many"])
    os.makedirs(d + "/manyre")
    for i in range(200):
        regex_file(f"{d}/manyre/f{i:03}.yaml", 10, r"\\w{10}", service=f"f{i}-")
    check("200 files of 10 \\w{10} regex SLOs", [d + "/manyre"])

elif mode == "run":
    what = sys.argv[3]
    if what == "ors":
        open(d + "/re.yaml", "w").write("service: s\nslos:\n" + slo(0, " or ".join(f'attributes["u"] == "v{i}"' for i in range(100000))))
    elif what == "ands":
        open(d + "/re.yaml", "w").write("service: s\nslos:\n" + slo(0, " and ".join(f'attributes["a{i}"] != nil' for i in range(100000))))
    else:
        regex_file(d + "/re.yaml", int(what), r"\\w{10}")
    t = time.monotonic()
    s = Slotel(binary, [d + "/re.yaml"])
    print("loaded %s in %.1fs; alive %s; rss %d MiB" % (what, time.monotonic() - t, s.alive(), s.rss() >> 10), flush=True)
    one = time.monotonic(); c, _, _ = post(f"http://127.0.0.1:{s.http}/v1/traces", json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [
        {"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "GET", "kind": 2,
         "startTimeUnixNano": str(now_ns()), "endTimeUnixNano": str(now_ns()), "attributes": [{"key": "u", "value": {"stringValue": "x"}}]}] * 100}]}]}).encode())
    print("one request of 100 spans: %s in %.3fs" % (c, time.monotonic() - one))
    pr = Prober(s)
    letters = "aé中Ωж𝔸1_"
    def body():
        t = now_ns()
        spans = [{"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "GET", "kind": 2,
                  "startTimeUnixNano": str(t - 1000), "endTimeUnixNano": str(t),
                  "attributes": [{"key": "u", "value": {"stringValue": "".join(random.choice(letters) for _ in range(2000))}}]}
                 for _ in range(50)]
        return json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}).encode()
    bodies = [body() for _ in range(16)]
    t0 = time.monotonic(); codes = {}
    def send(i):
        n = 0
        while time.monotonic() - t0 < SECONDS:
            c, _, _ = post(f"http://127.0.0.1:{s.http}/v1/traces", bodies[(i + n) % 16]); n += 1
            codes[c] = codes.get(c, 0) + 1
    with cf.ThreadPoolExecutor(8) as ex: list(ex.map(send, range(8)))
    print(f"{SECONDS} s of 8 clients:", codes, "hwm %d MiB rss %d MiB" % (s.hwm() >> 10, s.rss() >> 10))
    print("probe", pr.done(), "alive", s.alive())
    s.stop()

elif mode == "storm":
    os.makedirs(d + "/slos")
    for i in range(50):
        regex_file(f"{d}/slos/f{i:02}.yaml", 20, "^/api/(v1|v2)/users/[0-9]+$", service=f"f{i}-")
    s = Slotel(binary, [d + "/slos"])
    print("start rss %d MiB" % (s.rss() >> 10))
    pr = Prober(s)
    stop = time.monotonic() + 10
    def storm():
        n = 0
        while time.monotonic() < stop and not os.environ.get("CALM"):
            i = n % 50
            regex_file(f"{d}/slos/f{i:02}.yaml", 20 + n % 3, "^/api/(v1|v2)/users/[0-9]+$", service=f"f{i}-"); n += 1
            s.p.send_signal(1)  # SIGHUP
            time.sleep(0.01)
        return n
    body = json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [
        {"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "GET", "kind": 2,
         "startTimeUnixNano": str(now_ns()), "endTimeUnixNano": str(now_ns()),
         "attributes": [{"key": "u", "value": {"stringValue": "/api/v1/users/42"}}]}] * 100}]}]}).encode()
    lat = []; codes = {}
    def send(i):
        while time.monotonic() < stop:
            c, _, dt = post(f"http://127.0.0.1:{s.http}/v1/traces", body); lat.append(dt); codes[c] = codes.get(c, 0) + 1
    with cf.ThreadPoolExecutor(9) as ex:
        f = ex.submit(storm); list(ex.map(send, range(8))); n = f.result()
    lat.sort()
    print("%d rewrites + SIGHUPs in 10 s; requests %s, p95 %.1f ms max %.1f ms" % (n, codes, lat[int(len(lat) * .95)] * 1000, lat[-1] * 1000))
    print("hwm %d MiB rss %d MiB" % (s.hwm() >> 10, s.rss() >> 10), "probe", pr.done(), "alive", s.alive())
    c, d_, _ = get(f"http://127.0.0.1:{s.admin}/metrics")
    print([l for l in d_.decode().splitlines() if "reload" in l and not l.startswith("#")])
    s.stop()
