"""Peak RSS of `slotel run` reading 16 MiB OTLP/JSON trace bodies of deep and wide AnyValues.

    python3 benches/hostile/anyvalue-rss.py BIN

A 16 MiB body of these shapes is refused before decoding (413: its decode bound passes
`max_request_memory`); each shape is then sent at the largest of 8, 4, 2, 1 and 0.5 MiB
that is admitted, once, then 4 at a time. Printed: the body's size, the answers, the
server's VmHWM before and after (KiB), a fresh server a shape. Compare builds run one after the other.
"""
import sys, json, concurrent.futures as cf
from harness import *

MIB = 1 << 20
binary = sys.argv[1]
t = now_ns()

def span(i, attrs):
    return {"traceId": "0123456789abcdef0123456789abcdef", "spanId": "%016x" % (i + 1), "name": "GET",
            "kind": 2, "startTimeUnixNano": str(t - 1000000), "endTimeUnixNano": str(t), "attributes": attrs}

def fill(make, mib):
    """Spans of `make(i)` attributes until the body is about `mib` MiB."""
    one = json.dumps(span(0, make(0)))
    n = max(1, int(mib * MIB - 4096) // (len(one) + 1))
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span(i, make(i)) for i in range(n)]}]}]}).encode()

def deep(n, leaf):
    v = leaf
    for k in range(n):
        v = {"kvlistValue": {"values": [{"key": "k%d" % k, "value": v}]}} if k % 2 else {"arrayValue": {"values": [v]}}
    return v

shapes = {
    "deep: AnyValues nested 30 levels": lambda i: [{"key": "d", "value": deep(30, {"doubleValue": 1.5})}],
    "wide: 1,000 small attributes a span": lambda i: [{"key": "a%d" % j, "value": {"intValue": str(j)}} for j in range(1000)],
    "wide arrays: 2,000 empty AnyValues an attribute": lambda i: [{"key": "e", "value": {"arrayValue": {"values": [{}] * 2000}}}],
}
for name, make in shapes.items():
    s = Slotel(binary, [])  # a fresh server a shape: VmHWM is the process's peak
    url = f"http://127.0.0.1:{s.http}/v1/traces"
    c, d, _ = post(url, fill(make, 16), timeout=300)
    print(f"{name}: 16 MiB answered {c}", flush=True)
    for mib in (8, 4, 2, 1, 0.5):
        body = fill(make, mib)
        if post(url, body, timeout=300)[0] == 200:
            break
    base = s.hwm()
    codes, answer = {}, b""
    for conc in (1, 4):
        with cf.ThreadPoolExecutor(conc) as ex:
            for c, d, _ in ex.map(lambda _: post(url, body, timeout=300), range(conc)):
                codes[c] = codes.get(c, 0) + 1
                answer = answer or (d[:100] if c != 200 else b"")
    print(f"{name}: {len(body) / MIB:.1f} MiB, answers {codes}, VmHWM {base} -> {s.hwm()} KiB {answer.decode(errors='replace')}", flush=True)
    print("alive", s.alive())
    s.stop()
