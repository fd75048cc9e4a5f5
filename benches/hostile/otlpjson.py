import sys, json, time, concurrent.futures as cf
from harness import *
binary = sys.argv[1]
s = Slotel(binary, [HERE + "/hostile-slos.yaml"])
pr = Prober(s)
t = now_ns()
def span(**kw):
    d = {"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "GET", "kind": 2,
         "startTimeUnixNano": str(t - 1000000), "endTimeUnixNano": str(t)}
    d.update(kw); return d
def traces(spans, rattrs=()):
    return json.dumps({"resourceSpans": [{"resource": {"attributes": list(rattrs)}, "scopeSpans": [{"spans": spans}]}]}).encode()
def deep_any(n):
    v = {"intValue": "1"}
    for _ in range(n): v = {"arrayValue": {"values": [v]}}
    return v
cases = {
  "trace id 33 hex": traces([span(traceId="0" * 33)]),
  "trace id 2 MiB hex": traces([span(traceId="ab" * (1 << 20))]),
  "span id non-hex": traces([span(spanId="zzzzzzzzzzzzzzzz")]),
  "int64 as 1 MiB digits": traces([span(startTimeUnixNano="9" * (1 << 20))]),
  "time -1": traces([span(endTimeUnixNano="-1")]),
  "intValue 2^64": traces([span(attributes=[{"key": "k", "value": {"intValue": "18446744073709551616"}}])]),
  "double 1e999": traces([span(attributes=[{"key": "k", "value": {"doubleValue": 1e999}}])]).replace(b"Infinity", b"1e999"),
  "double NaN string": traces([span(attributes=[{"key": "k", "value": {"doubleValue": "NaN"}}])]),
  "kind 2^40": traces([span(kind=1 << 40)]),
  "status code huge": traces([span(status={"code": 1 << 40})]),
  "anyvalue nested 120": traces([span(attributes=[{"key": "k", "value": deep_any(120)}])]),
  "anyvalue nested 30": traces([span(attributes=[{"key": "k", "value": deep_any(30)}])] * 1000),
  "JSON nested 100k arrays": b'{"resourceSpans":' + b"[" * 100000 + b"]" * 100000 + b"}",
  "array of 1M ints": traces([span(attributes=[{"key": "k", "value": {"arrayValue": {"values": [{"intValue": "1"}] * 1000000}}}])]),
  "array of 2M empty": traces([span(attributes=[{"key": "k", "value": {"arrayValue": {"values": [{}] * 2000000}}}])]),
  "4000 attrs x 300 spans": traces([span(attributes=[{"key": "k%d" % i, "value": {"intValue": "1"}} for i in range(4000)])] * 300),
  "unknown fields 1M": json.dumps({"resourceSpans": [], **{"x%d" % i: i for i in range(500000)}}).encode(),
  "dup keys": b'{"resourceSpans":[],"resourceSpans":[]}',
  "string escapes \\u0000 bad surrogates": traces([span(name="\ud800" if False else "a\u0000b")]).replace(b"a\\u0000b", b"\\ud800\\u0000\\udfff"),
  "bytesValue bad base64 2 MiB": traces([span(attributes=[{"key": "k", "value": {"bytesValue": "!" * (2 << 20)}}])]),
  "bytesValue 10 MiB": traces([span(attributes=[{"key": "k", "value": {"bytesValue": "QUFB" * (10 << 18)}}])]),
}
for name, body in cases.items():
    base = s.hwm(); t0 = time.monotonic()
    with cf.ThreadPoolExecutor(8) as ex:
        res = list(ex.map(lambda _: post(f"http://127.0.0.1:{s.http}/v1/traces", body, timeout=120), range(8)))
    codes = {}
    for c, d, _ in res: codes[c] = codes.get(c, 0) + 1
    ans = next((d for c, d, _ in res if c is not None), b"")
    print(f"{name}: body {len(body)>>10} KiB x8 {codes} {time.monotonic()-t0:.2f}s hwm {s.hwm()} (+{s.hwm()-base}) KiB", ans[:110], flush=True)
    if not s.alive(): print("DIED"); break
print("probe", pr.done(), "alive", s.alive(), "final hwm", s.hwm())
s.stop()
