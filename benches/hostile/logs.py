# Log SLO bodies: hostile JSON string bodies and kvlist bodies through body[...] conditions,
# group_by body values, and redaction.
import sys, json, time, concurrent.futures as cf
from harness import *
binary = sys.argv[1]; redact = "redact" in sys.argv
extra = """processors:
  redaction:
    action: replace
    detectors: {email: replace, phone: replace, credit_card: mask, ipv4: replace}
    keys: {sensitive: ['(?i)^x-internal-']}
""" if redact else ""
s = Slotel(binary, [HERE + "/hostile-slos.yaml"], extra_cfg=extra, capture=("capture" in sys.argv), state=("state" in sys.argv))
print("start hwm KiB", s.hwm())
pr = Prober(s)
t = now_ns()
def rec(body):
    return {"timeUnixNano": str(t), "severityNumber": 9, "body": body}
def req(records):
    return json.dumps({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "orders"}}]},
        "scopeLogs": [{"logRecords": records}]}]}).encode()
deep = '{"msg":"request completed","http":' + '{"a":' * 150000 + '1' + '}' * 150000 + '}'
bignum = '{"msg":"request completed","http":{"status":' + '9' * 1000000 + '}}'
manykeys = '{"msg":"request completed","http":{' + ','.join('"k%d":%d' % (i, i) for i in range(70000)) + ',"status":500}}'
dupes = '{"msg":"request completed","http":{' + ','.join('"status":%d' % i for i in range(70000)) + '}}'
esc = '{"msg":"request completed","http":{"route":"\\ud800\\udc00\\ud800\\u0000' + '\\uZZZZ' + '","status":500}}'
nul = '{"msg":"request completed\\u0000","http":{"route":"a\\u0000b","status":200}}'
pii = '{"msg":"request completed","user":"' + 'alice@example.com 010-1234-5678 4111 1111 1111 1111 10.0.0.1 ' * 14000 + '","http":{"route":"/x","status":200}}'
def kv_deep(n):
    v = {"intValue": "1"}
    for _ in range(n):
        v = {"kvlistValue": {"values": [{"key": "a", "value": v}]}}
    return v
bigkv = {"kvlistValue": {"values": [{"key": "msg", "value": {"stringValue": "request completed"}},
        {"key": "http", "value": {"kvlistValue": {"values": [{"key": "k%d" % i, "value": {"stringValue": "v"}} for i in range(200000)] + [{"key": "status", "value": {"intValue": "503"}}]}}}]}}
attacks = {
  "deep-150k": [rec({"stringValue": deep})] * 8,
  "1MiB-number": [rec({"stringValue": bignum})] * 12,
  "100k-keys": [rec({"stringValue": manykeys})] * 8,
  "100k-dupes": [rec({"stringValue": dupes})] * 8,
  "bad-escapes": [rec({"stringValue": esc})] * 10000,
  "nul": [rec({"stringValue": nul})] * 10000,
  "pii-1.3MB": [rec({"stringValue": pii})] * 8,
  "kvlist-deep-60": [rec(kv_deep(60))] * 1000,
  "kvlist-200k-keys": [rec(bigkv)],
}
for name, records in attacks.items():
    body = req(records)
    base = s.hwm(); t0 = time.monotonic()
    with cf.ThreadPoolExecutor(8) as ex:
        res = list(ex.map(lambda _: post(f"http://127.0.0.1:{s.http}/v1/logs", body, timeout=120), range(8)))
    codes = {}
    for c, d, _ in res: codes[c] = codes.get(c, 0) + 1
    print(f"{name}: body {len(body)>>10} KiB x8 codes {codes} {time.monotonic()-t0:.2f}s hwm {s.hwm()} KiB (+{s.hwm()-base})", res[0][1][:120] if res[0][0] != 200 else res[0][1][:120], flush=True)
time.sleep(1)
c, d, _ = get(f"http://127.0.0.1:{s.admin}/api/v1/slos")
for e in json.loads(d)["slos"]:
    if e["service"] in ("orders", "shop") and "log" in e["name"] or e["service"] == "orders":
        print(e["service"], e["name"], e["cluster"], str(e.get("group"))[:60], e["total"], e["good"])
print("probe", pr.done(), "alive", s.alive())
print("final hwm KiB", s.hwm(), "rss KiB", s.rss())
s.stop()
