"""Peak RSS of `slotel run` reading 16 MiB OTLP/JSON trace bodies of deep and wide AnyValues.

    python3 benches/hostile/anyvalue-rss.py BIN

Each body is sent once, then 4 at a time; printed: the body's size, the answers, the
server's VmHWM before and after (KiB). Compare builds run one after the other.
"""
import sys, json, concurrent.futures as cf
from harness import *

MIB = 1 << 20
binary = sys.argv[1]
t = now_ns()

def span(i, attrs):
    return {"traceId": "0123456789abcdef0123456789abcdef", "spanId": "%016x" % (i + 1), "name": "GET",
            "kind": 2, "startTimeUnixNano": str(t - 1000000), "endTimeUnixNano": str(t), "attributes": attrs}

def fill(make):
    """Spans of `make(i)` attributes until the body is about 16 MiB."""
    one = json.dumps(span(0, make(0)))
    n = max(1, (16 * MIB - 4096) // (len(one) + 1))
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span(i, make(i)) for i in range(n)]}]}]}).encode()

def deep(n, leaf):
    v = leaf
    for k in range(n):
        v = {"kvlistValue": {"values": [{"key": "k%d" % k, "value": v}]}} if k % 2 else {"arrayValue": {"values": [v]}}
    return v

bodies = {
    "deep: AnyValues nested 100 levels": fill(lambda i: [{"key": "d", "value": deep(100, {"doubleValue": "1.5"})}]),
    "wide: 1,000 small attributes a span": fill(lambda i: [{"key": "a%d" % j, "value": {"intValue": str(j)}} for j in range(1000)]),
    "wide arrays: 2,000 empty AnyValues an attribute": fill(lambda i: [{"key": "e", "value": {"arrayValue": {"values": [{}] * 2000}}}]),
}
s = Slotel(binary, [])
url = f"http://127.0.0.1:{s.http}/v1/traces"
for name, body in bodies.items():
    base = s.hwm()
    codes = {}
    for conc in (1, 4):
        with cf.ThreadPoolExecutor(conc) as ex:
            for c, d, _ in ex.map(lambda _: post(url, body, timeout=300), range(conc)):
                codes[c] = codes.get(c, 0) + 1
    print(f"{name}: {len(body) / MIB:.1f} MiB, answers {codes}, VmHWM {base} -> {s.hwm()} KiB", flush=True)
print("alive", s.alive())
s.stop()
