# Metric SLI points, third pass: 100,000 distinct series for one SLO (a histogram and a
# counter of cart-metrics.yaml, one attribute value each), a reset storm (every point of
# a counter lower than the one before), the same series from two resources, and NaN /
# infinite sums and bounds. Prints answers, peak RSS, /metrics and /api/v1/slos size and
# time, and the /healthz probe.
import sys, json, time, random, concurrent.futures as cf
from harness import *
binary = sys.argv[1]
s = Slotel(binary)
print("start hwm KiB", s.hwm())
pr = Prober(s)
def hist_pts(i0, n, t, st):
    return [{"startTimeUnixNano": str(st), "timeUnixNano": str(t), "count": "10", "sum": 1.0,
             "bucketCounts": ["5", "3", "2"], "explicitBounds": [0.1, 0.5],
             "attributes": [{"key": "series", "value": {"stringValue": "s%07d" % i}}]} for i in range(i0, i0 + n)]
def ctr_pts(i0, n, t, st, v):
    return [{"startTimeUnixNano": str(st), "timeUnixNano": str(t), "asInt": str(v),
             "attributes": [{"key": "series", "value": {"stringValue": "s%07d" % i}},
                            {"key": "http.response.status_code", "value": {"intValue": "500"}}]} for i in range(i0, i0 + n)]
def req(hist, ctr, svc="cart", extra=()):
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}] + list(extra)}
    ms = []
    if hist: ms.append({"name": "http.server.request.duration", "unit": "s", "histogram": {"aggregationTemporality": 2, "dataPoints": hist}})
    if ctr: ms.append({"name": "http.server.requests", "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": ctr}})
    return json.dumps({"resourceMetrics": [{"resource": res, "scopeMetrics": [{"metrics": ms}]}]}).encode()
url = f"http://127.0.0.1:{s.http}/v1/metrics"
st = now_ns() - 10**9
t0 = time.monotonic()
def send(i0):
    t = now_ns()
    c, d, _ = post(url, req(hist_pts(i0, 2000, t, st), ctr_pts(i0, 2000, t, st, 100)))
    return c
with cf.ThreadPoolExecutor(8) as ex:
    codes = list(ex.map(send, range(0, 100000, 2000)))
print("100,000 series x 2 metrics: answers", {c: codes.count(c) for c in set(codes)}, "in %.1fs; hwm %d MiB rss %d MiB" % (time.monotonic() - t0, s.hwm() >> 10, s.rss() >> 10))
for path in ["/metrics", "/api/v1/slos"]:
    c, d, dt = get(f"http://127.0.0.1:{s.admin}{path}")
    print("  ", path, c, len(d), "bytes in %.2fs" % dt)
# reset storm: one series, 2,000 points per request, each lower than the last, 8 clients 5 s
t0 = time.monotonic(); n = [0]
def storm(k):
    v = 10**9
    while time.monotonic() - t0 < 5:
        t = now_ns()
        pts = []
        for j in range(2000):
            v -= 1
            pts += ctr_pts(k, 1, t - 2000 + j, st, v)
        post(url, req(None, pts)); n[0] += 1
with cf.ThreadPoolExecutor(8) as ex: list(ex.map(storm, range(8)))
print("reset storm: %d requests of 2,000 decreasing points in 5 s; hwm %d MiB" % (n[0], s.hwm() >> 10))
# the same series from two resources, alternating values
for k in range(50):
    t = now_ns()
    for r, v in (("a", 10 + k), ("b", 1000 - k)):
        post(url, req(hist_pts(0, 1, t, st), ctr_pts(0, 1, t, st, v), extra=[{"key": "host.name", "value": {"stringValue": r}}]))
print("same series from two resources x50 done")
t = now_ns()
bad = [{"startTimeUnixNano": str(st), "timeUnixNano": str(t), "count": "10", "sum": x, "bucketCounts": ["5", "3", "2"],
        "explicitBounds": b, "attributes": []} for x, b in [("NaN", [0.1, 0.5]), ("Infinity", [0.1, 0.5]), (1.0, ["NaN", 0.5]),
        (1.0, [0.5, 0.1]), (1.0, [0.1, 0.1]), (1.0, ["-Infinity", "Infinity"])]]
c, d, _ = post(url, req(bad, None)); print("NaN/Inf sums and bounds:", c, d[:300])
ovf = [{"startTimeUnixNano": str(st), "timeUnixNano": str(t), "count": str(2**64 - 1), "bucketCounts": [str(2**63), str(2**63), "0"],
        "explicitBounds": [0.1, 0.5]}]
c, d, _ = post(url, req(ovf, None)); print("bucket counts overflowing u64:", c, d[:300])
time.sleep(1)
for path in ["/metrics", "/api/v1/slos"]:
    c, d, dt = get(f"http://127.0.0.1:{s.admin}{path}")
    print("  ", path, c, len(d), "bytes in %.2fs" % dt)
    if path == "/api/v1/slos":
        for slo in json.loads(d)["slos"]:
            if slo["service"] == "cart" and slo["cluster"] == "all": print("     ", json.dumps(slo)[:260])
print("probe", pr.done(), "alive", s.alive(), "hwm MiB", s.hwm() >> 10)
s.stop()
