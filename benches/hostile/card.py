# Cardinality: distinct http.route / service.name / cluster values, each long.
import sys, json, time, os, concurrent.futures as cf
from harness import *
binary = sys.argv[1]; vlen = int(sys.argv[2]); ngroups = int(sys.argv[3])
s = Slotel(binary, [HERE + "/hostile-slos.yaml"], state=("state" in sys.argv), capture=("capture" in sys.argv))
print("start hwm KiB", s.hwm())
pr = Prober(s)
def req(i0, n):
    t = now_ns()
    rs = []
    for i in range(i0, i0 + n):
        route = ("/r%07d/" % i) + "x" * vlen
        rs.append({"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": ("svc%07d" % i) + "y" * vlen}},
            {"key": "k8s.cluster.name", "value": {"stringValue": ("cl%07d" % i) + "z" * vlen}}]},
          "scopeSpans": [{"spans": [{"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef",
            "name": "GET", "kind": 2, "startTimeUnixNano": str(t - 1000000), "endTimeUnixNano": str(t),
            "attributes": [{"key": "http.route", "value": {"stringValue": route}}]}]}]})
    return json.dumps({"resourceSpans": rs}).encode()
per = max(1, min(2000, (12 << 20) // (3 * vlen + 300)))
t0 = time.monotonic(); codes = {}
def send(i):
    c, d, _ = post(f"http://127.0.0.1:{s.http}/v1/traces", req(i, per))
    if i == 0: print("first answer", c, d[:300])
    return c
with cf.ThreadPoolExecutor(8) as ex:
    for c in ex.map(send, range(0, ngroups, per)):
        codes[c] = codes.get(c, 0) + 1
print("sent", ngroups, "groups per", per, "codes", codes, "in %.1fs" % (time.monotonic() - t0))
time.sleep(3)
print("after ingest: hwm KiB", s.hwm(), "rss KiB", s.rss())
for path in ["/metrics", "/api/v1/slos", "/"]:
    c, d, dt = get(f"http://127.0.0.1:{s.admin}{path}")
    print(path, c, "bytes", len(d), "%.2fs" % dt, "hwm", s.hwm())
print("probe", pr.done(), "alive", s.alive())
print("final hwm KiB", s.hwm(), "rss KiB", s.rss())
s.stop()
