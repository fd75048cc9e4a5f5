# Time fields as weapons: spans, log records and metric points stamped at 0, 1, year 2262,
# u64::MAX, start > end, start > time on cumulative points, then good traffic. Prints
# whether the good traffic still counts (status API totals), the dropped counters, and
# /metrics and /api/v1/slos sizes and times; with `state`, also a restart from the
# snapshot and WAL.
import sys, json, time, concurrent.futures as cf
from harness import *
binary = sys.argv[1]; state = "state" in sys.argv
s = Slotel(binary, [HERE + "/hostile-slos.yaml"], state=state, capture=("capture" in sys.argv))
print("start hwm KiB", s.hwm())
U64 = 2**64 - 1
Y2262 = 9223372036854775807
def spans(pairs, route="/t"):
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"spans": [{"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef",
            "name": "GET", "kind": 2, "startTimeUnixNano": str(a), "endTimeUnixNano": str(b),
            "status": {"code": 2 if i % 2 else 0},
            "attributes": [{"key": "http.route", "value": {"stringValue": route}}]} for i, (a, b) in enumerate(pairs)]}]}]}).encode()
def logs(times):
    return json.dumps({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "orders"}}]},
        "scopeLogs": [{"logRecords": [{"timeUnixNano": str(t), "observedTimeUnixNano": str(o), "severityNumber": 9,
            "body": {"stringValue": '{"msg":"request completed","http":{"status":%d,"route":"/l"}}' % (500 if i % 2 else 200)}}
            for i, (t, o) in enumerate(times)]}]}]}).encode()
def metrics(points):
    # http.server.request.duration histogram (cart-metrics.yaml) and a counter
    return json.dumps({"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
        "scopeMetrics": [{"metrics": [{"name": "http.server.request.duration", "unit": "s", "histogram": {"aggregationTemporality": 2,
            "dataPoints": [{"startTimeUnixNano": str(st), "timeUnixNano": str(t), "count": "10", "sum": 1.0,
                "bucketCounts": ["5", "3", "2"], "explicitBounds": [0.1, 0.5],
                "attributes": [{"key": "http.route", "value": {"stringValue": "/cart"}}, {"key": "http.response.status_code", "value": {"intValue": "200"}}]}
                for (st, t) in points]}}]}]}]}).encode()
def total(name):
    c, d, _ = get(f"http://127.0.0.1:{s.admin}/api/v1/slos")
    out = {}
    for slo in json.loads(d).get("slos", json.loads(d) if isinstance(json.loads(d), list) else []):
        if name in slo.get("name", "") or name in slo.get("id", ""):
            out[slo.get("id", slo.get("name"))] = {k: slo.get(k) for k in ("total", "good", "bad", "events", "dropped", "status") if k in slo}
    return out
def drive(label):
    t = now_ns()
    url = f"http://127.0.0.1:{s.http}"
    r = [post(url + "/v1/traces", spans([(t - 2_000_000, t)] * 10)), post(url + "/v1/logs", logs([(t, t)] * 10))]
    print(label, "good traffic answers", [x[0] for x in r])
pr = Prober(s)
drive("before")
now = now_ns()
attacks = {
    "span end u64::MAX": spans([(0, U64)] * 100),
    "span end 2262": spans([(now, Y2262)] * 100),
    "span start u64::MAX end now": spans([(U64, now)] * 100),
    "span start > end (future)": spans([(now + 10**18, now + 10**9)] * 100),
    "span times 0": spans([(0, 0)] * 100),
    "span end 1": spans([(0, 1)] * 100),
    "span end now+59s": spans([(now, now + 59 * 10**9)] * 100),
    "log time u64::MAX": logs([(U64, now)] * 100),
    "log time 0 observed u64::MAX": logs([(0, U64)] * 100),
    "log time 2262": logs([(Y2262, Y2262)] * 100),
    "metric time u64::MAX": metrics([(0, U64)]),
    "metric start > time": metrics([(now, now - 10**9)]),
    "metric start u64::MAX": metrics([(U64, U64)]),
    "metric time 1": metrics([(0, 1)]),
    "metric time now+59s": metrics([(now, now + 59 * 10**9)]),
}
for name, body in attacks.items():
    path = "/v1/traces" if name.startswith("span") else "/v1/logs" if name.startswith("log") else "/v1/metrics"
    c, d, dt = post(f"http://127.0.0.1:{s.http}{path}", body)
    print("%-30s %s %s %.3fs" % (name, c, d[:160], dt))
# the same, 8 at once, for 5 s
t0 = time.monotonic(); n = 0
def hammer(i):
    k = 0; names = list(attacks)
    while time.monotonic() - t0 < 5:
        name = names[(i + k) % len(names)]
        path = "/v1/traces" if name.startswith("span") else "/v1/logs" if name.startswith("log") else "/v1/metrics"
        post(f"http://127.0.0.1:{s.http}{path}", attacks[name]); k += 1
    return k
with cf.ThreadPoolExecutor(8) as ex:
    n = sum(ex.map(hammer, range(8)))
print("8 clients for 5 s:", n, "requests")
drive("after")
time.sleep(1)
for path in ["/api/v1/slos", "/metrics"]:
    c, d, dt = get(f"http://127.0.0.1:{s.admin}{path}")
    print(path, c, len(d), "bytes %.3fs" % dt)
    if path == "/metrics":
        for l in d.decode().splitlines():
            if ("slotel_slo_dropped_events_total" in l or "invalid_points" in l) and not l.startswith("#"):
                print("  ", l[:200])
    else:
        j = json.loads(d)
        for slo in (j["slos"] if isinstance(j, dict) else j):
            sid = slo.get("id") or slo.get("name")
            if any(x in json.dumps(slo)[:400] for x in ("shop", "orders", "cart")):
                print("  ", json.dumps(slo)[:400])
print("probe", pr.done(), "alive", s.alive(), "hwm KiB", s.hwm())
if state:
    s.stop(); print("restart with state")
    s2 = Slotel.__new__(Slotel); s2.__dict__.update(s.__dict__)
    s2.log = open(s.dir + "/log2", "w")
    s2.p = subprocess.Popen([binary, "--config", s.cfg], stdout=s2.log, stderr=subprocess.STDOUT)
    for _ in range(200):
        c, d, _ = get(f"http://127.0.0.1:{s.admin}/healthz", timeout=1)
        if c == 200: break
        time.sleep(0.05)
    c, d, _ = get(f"http://127.0.0.1:{s.admin}/api/v1/slos")
    j = json.loads(d)
    for slo in (j["slos"] if isinstance(j, dict) else j):
        if any(x in json.dumps(slo)[:400] for x in ("shop", "orders", "cart")):
            print("  ", json.dumps(slo)[:400])
    print(open(s.dir + "/log2").read()[-2000:])
    s2.stop()
else:
    s.stop()
print(open(s.dir + "/log").read()[-1500:])
