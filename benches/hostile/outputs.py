#!/usr/bin/env python3
"""What the network writes into slotel's outputs: hostile `http.route`, `service.name`,
cluster and log-body values (quotes, backslashes, newlines, `}`, `#`, NUL, ANSI escapes,
`</script>`, U+2028, `{{ }}` templates, invalid UTF-8) sent over OTLP/HTTP (protobuf and
JSON), and SLO files with hostile descriptions, runbook URLs and alert labels; then every
output read by its real consumer:

- `/metrics` (Prometheus text and OpenMetrics): `promtool check metrics`, and a real
  Prometheus scraping it (`up == 1`, no injected series);
- `/api/v1/slos`: Python `json` (strict: no NaN, no lone surrogates);
- the status page and `slotel replay --format html`: headless `chromium --dump-dom`; the
  payloads set `document.title` to a marker, which must not happen;
- `slotel replay --format text` and `slotel suggest`: no control characters;
- `slotel rules`: `promtool check rules`;
- slotel's own log: no line starts with a forged prefix, no ANSI escape.

Usage: outputs.py BIN   (exits 1 when an output broke; prints one line per check)
"""
import json, os, re, shutil, subprocess, sys, tempfile, time, urllib.request
from harness import HERE, Slotel, free_port, get, post, now_ns

BIN = sys.argv[1]
MARK = "PWNED"
VALUES = [
    'a"} slotel_forged_total{x="1',
    'line\nslotel_forged_total 1\n# EOF\n',
    'back\\',
    '#',
    f"</script><script>document.title='{MARK}'</script>",
    f'<img src=x onerror="document.title=\'{MARK}\'">',
    f"javascript:document.title='{MARK}'",
    "sep\u2028\u2029nel\u0085bom\ufeff",
    "\x1b[31mred\x1b[0m\n2026-12-07T00:00:00Z ERROR slotel: forged line",
    "nul\x00byte",
    "cr\rtab\t",
    "{{ $labels.slo }}{{ query \"up\" }}",
    "${env:HOME}$1",
]
BAD_UTF8 = b"bad\xff\xfeutf8"
failures = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "BROKE ") + name + ("" if ok else ": " + detail[:600]), flush=True)
    if not ok:
        failures.append(name)


def span_json(route, service, cluster, t, i):
    return {"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": service}},
        {"key": "k8s.cluster.name", "value": {"stringValue": cluster}}]},
        "scopeSpans": [{"spans": [{"traceId": "0123456789abcdef0123456789abcdef",
                                   "spanId": "%016x" % (i + 1), "name": route, "kind": 2,
                                   "startTimeUnixNano": str(t - 1_000_000), "endTimeUnixNano": str(t),
                                   "status": {"code": 2 if i % 2 else 1},
                                   "attributes": [{"key": "http.route", "value": {"stringValue": route}}]}]}]}


def send_spans(s):
    t = now_ns()
    rs = [span_json(v, "checkout" if i % 2 else v, v, t, i) for i, v in enumerate(VALUES)]
    c, d, _ = post(f"http://127.0.0.1:{s.http}/v1/traces", json.dumps({"resourceSpans": rs}).encode())
    print("spans (json):", c, d[:200])
    # The example SLOs group checkout's spans by route; send those too.
    # Cluster `a` is bound to tok-a (and so reserved for it).
    rs = [span_json(v, "checkout", "a", t, i) for i, v in enumerate(VALUES)]
    c, d, _ = post(f"http://127.0.0.1:{s.http}/v1/traces", json.dumps({"resourceSpans": rs}).encode(),
                   headers={"authorization": "Bearer tok-a"})
    print("checkout spans (json):", c, d[:200])


def send_bad_utf8(s):
    """A protobuf request whose route is not UTF-8 (protobuf `string` must be)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add(); kv.key = "service.name"; kv.value.string_value = "checkout"
    sp = rs.scope_spans.add().spans.add()
    sp.trace_id = bytes(range(16)); sp.span_id = bytes(range(8)); sp.name = "GET"; sp.kind = 2
    t = now_ns(); sp.start_time_unix_nano = t - 1000; sp.end_time_unix_nano = t
    kv = sp.attributes.add(); kv.key = "http.route"; kv.value.string_value = "X" * len(BAD_UTF8)
    body = req.SerializeToString().replace(b"X" * len(BAD_UTF8), BAD_UTF8)
    c, d, _ = post(f"http://127.0.0.1:{s.http}/v1/traces", body, {"content-type": "application/x-protobuf"})
    print("spans (protobuf, route not UTF-8):", c, d[:200])


def send_logs(s):
    t = now_ns()
    recs = []
    for v in VALUES:
        body = json.dumps({"msg": "request completed", "http": {"status": 503, "route": v}})
        recs.append({"timeUnixNano": str(t), "body": {"stringValue": body}})
    req = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "orders"}}]},
                             "scopeLogs": [{"logRecords": recs}]}]}
    c, d, _ = post(f"http://127.0.0.1:{s.http}/v1/logs", json.dumps(req).encode())
    print("logs (json):", c, d[:200])


def promtool_metrics(text, what):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    err = p.stderr.decode(errors="replace") + p.stdout.decode(errors="replace")
    # promtool lints names and help too; a parse error is what breaks a scrape.
    parse = [l for l in err.splitlines() if "error while linting" in l or "parse" in l.lower()]
    check(f"promtool check metrics ({what})", not parse, "\n".join(parse))


def injected(text):
    return [l for l in text.decode(errors="replace").splitlines() if l.startswith("slotel_forged")]


def prometheus_scrape(s, tmp):
    port = free_port()
    cfg = os.path.join(tmp, "prom.yml")
    open(cfg, "w").write(f"global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: slotel\n"
                         f"    static_configs: [{{targets: ['127.0.0.1:{s.admin}']}}]\n")
    p = subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/prom",
                          f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        up = None
        for _ in range(60):
            time.sleep(1)
            c, d, _ = get(f"http://127.0.0.1:{port}/api/v1/targets")
            if c == 200:
                t = json.loads(d)["data"]["activeTargets"]
                if t and t[0]["health"] != "unknown":
                    up = t[0]; break
        check("prometheus scrapes /metrics", up is not None and up["health"] == "up",
              json.dumps(up)[:600] if up else "no scrape")
        c, d, _ = get(f"http://127.0.0.1:{port}/api/v1/query?query=" +
                      urllib.request.quote('{__name__=~"slotel_forged.*"}'))
        check("no series injected into prometheus", c == 200 and json.loads(d)["data"]["result"] == [], d[:300].decode())
        c, d, _ = get(f"http://127.0.0.1:{port}/api/v1/query?query=" +
                      urllib.request.quote('count(slotel_slo_events_total{http_route=~".*forged.*"})'))
        n = json.loads(d)["data"]["result"] if c == 200 else []
        check("prometheus keeps the hostile routes as values", bool(n), d[:300].decode())
    finally:
        p.terminate(); p.wait(10)


def chromium_dom(url, tmp):
    prof = tempfile.mkdtemp(dir=tmp)
    p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={prof}",
                        "--virtual-time-budget=5000", "--dump-dom", url], capture_output=True, timeout=120)
    return p.stdout.decode(errors="replace")


def title_of(dom):
    m = re.search(r"<title>(.*?)</title>", dom, re.S)
    return m.group(1) if m else ""


def controls(text):
    return sorted({"%02x" % ord(c) for c in text if (ord(c) < 32 and c not in "\n") or ord(c) == 0x7f or c in "\u0085\u2028\u2029"})


def slo_files(tmp, broken):
    """SLO files whose author wrote hostile text where free text is allowed; `broken`:
    templates the ruler cannot parse (an unclosed action, an undefined function)."""
    d = os.path.join(tmp, "broken" if broken else "slos"); os.makedirs(d, exist_ok=True)
    desc = json.dumps('desc "q" \\ {{ $labels.x }} </script>\n# not a comment')
    url = json.dumps("https://runbooks.example/{{ .Labels.slo }}?q=\"x\"&a=1#" + ("{{" if broken else "top"))
    note = '"{{ unclosed }}"' if broken else '"{{ $value | humanizePercentage }} \\\\ \\"\\n"'
    text = f"""service: shop
slos:
  - name: avail
    description: {desc}
    objective: 99.9
    window: 30d
    runbook_url: {url}
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER and attributes["x"] == "a\\"b\\\\c{{{{ $value }}}}"
        bad: status.code == STATUS_CODE_ERROR
    group_by: ['attributes["http.route"]']
    alerting:
      page:
        labels: {{team: "a\\"b{{{{ $labels.slo }}}}\\nc"}}
        annotations: {{note: {note}}}
"""
    open(os.path.join(d, "shop.yaml"), "w").write(text)
    return d


def main():
    tmp = tempfile.mkdtemp(prefix="h28-")
    s = Slotel(BIN, [HERE + "/hostile-slos.yaml"], capture=True)
    try:
        send_spans(s); send_bad_utf8(s); send_logs(s)
        time.sleep(2)
        for accept, what in [("text/plain;version=0.0.4", "text"),
                             ("application/openmetrics-text;version=1.0.0", "openmetrics")]:
            c, d, _ = get(f"http://127.0.0.1:{s.admin}/metrics", headers={"accept": accept})
            print(f"/metrics {what}: {c}, {len(d)} bytes")
            # Label values are UTF-8 text with `\\`, `"` and `\n` escaped (text 0.0.4 and
            # OpenMetrics); NUL and other controls are legal in them, and promtool and
            # Prometheus's scrape below read them.
            try:
                d.decode("utf-8"); utf8 = True
            except UnicodeDecodeError:
                utf8 = False
            check(f"/metrics {what} is UTF-8", utf8)
            check(f"/metrics {what} has no injected line", not injected(d), repr(injected(d)[:3]))
            promtool_metrics(d, what)
        prometheus_scrape(s, tmp)
        c, d, _ = get(f"http://127.0.0.1:{s.admin}/api/v1/slos")
        try:
            v = json.loads(d, parse_constant=lambda x: (_ for _ in ()).throw(ValueError(x)))
            routes = {g.get("http.route") for e in v["slos"] for g in [e.get("group") or {}]}
            check("/api/v1/slos is strict JSON holding the values", c == 200 and VALUES[0] in routes, str(c))
        except Exception as e:
            check("/api/v1/slos is strict JSON", False, repr(e))
        dom = chromium_dom(f"http://127.0.0.1:{s.admin}/", tmp)
        check("status page: holds the values, no injected script ran",
              "slotel_forged_total" in dom and MARK not in title_of(dom) and "<img src=\"x\"" not in dom,
              title_of(dom) + " / values shown: " + str("slotel_forged_total" in dom))
    finally:
        s.stop()
    log = open(s.dir + "/log", errors="replace").read()
    check("own log: no ANSI escape, no forged line", "\x1b" not in log and "forged line" not in log.replace("\\n", " "),
          repr([l for l in log.splitlines() if "\x1b" in l or "forged" in l][:3]))
    cap = s.dir + "/capture"
    slos = [HERE + "/hostile-slos.yaml", HERE + "/../../config/slos"]
    args = sum((["--slos", x] for x in slos), [])
    for fmt in ["html", "text", "json"]:
        p = subprocess.run([BIN, "replay", "--capture", cap, "--format", fmt] + args, capture_output=True, timeout=300)
        out = p.stdout.decode(errors="replace")
        print(f"replay --format {fmt}: exit {p.returncode}, {len(out)} bytes", p.stderr[:300])
        if fmt == "html":
            f = os.path.join(tmp, "replay.html"); open(f, "wb").write(p.stdout)
            dom = chromium_dom("file://" + f, tmp)
            check("replay html: holds the routes, no injected script ran",
                  p.returncode == 0 and "slotel_forged" in out and MARK not in title_of(dom) and "<img src=\"x\"" not in dom,
                  title_of(dom))
        elif fmt == "text":
            check("replay text: no control characters", p.returncode == 0 and not controls(out), repr(controls(out)))
        else:
            try:
                json.loads(out); check("replay json parses", p.returncode == 0)
            except Exception as e:
                check("replay json parses", False, repr(e))
    p = subprocess.run([BIN, "suggest", "--capture", cap], capture_output=True, timeout=300)
    out = p.stdout.decode(errors="replace")
    check("suggest text: no control characters", p.returncode == 0 and not controls(out),
          f"exit {p.returncode} {controls(out)} {p.stderr[:200]}")
    for broken in [False, True]:
        d = slo_files(tmp, broken)
        out = os.path.join(d, "rules")
        p = subprocess.run([BIN, "rules", "--slos", d + "/*.yaml", "--out", out], capture_output=True)
        what = "broken templates" if broken else "hostile text"
        print(f"slotel rules ({what}):", p.returncode, p.stderr.decode()[:300])
        if p.returncode != 0:
            # Refused at load, with its place: the ruler never sees it.
            check(f"slotel rules ({what}): written, or refused at load", broken and b".yaml:" in p.stderr, p.stderr.decode())
            continue
        for f in ["prometheus-rules.yaml", "prometheus-recording-rules.yaml"]:
            q = subprocess.run(["promtool", "check", "rules", os.path.join(out, f)], capture_output=True)
            check(f"promtool check rules {f} ({what})", q.returncode == 0, (q.stdout + q.stderr).decode()[-600:])
        try:
            json.load(open(os.path.join(out, "grafana-dashboard.json"))); check(f"grafana-dashboard.json parses ({what})", True)
        except Exception as e:
            check(f"grafana-dashboard.json parses ({what})", False, repr(e))
    print("FAILED:" if failures else "all outputs held", ", ".join(failures))
    sys.exit(1 if failures else 0)


main()
