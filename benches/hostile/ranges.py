#!/usr/bin/env python3
# Numbers at and past their legal range: what an operator types into the config, an SLO
# file or a command line, and what a sender puts in OTLP fields the earlier audits did not
# reach. Each command case runs the real binary under a 6 GiB address-space limit and a
# timeout and prints its exit (or TIMEOUT / signal), time, peak RSS (VmHWM) and first error
# line; a `run` case starts the server for a few seconds, sends one span, and reports
# whether it became ready and whether SIGTERM stopped it. The `net` group sends OTLP
# requests to one server while /healthz is probed every 50 ms.
#   ranges.py BIN [GROUP...]     GROUP: config, slos, cli, net (default: all)
# Exits 1 when a case broke: a panic, a signal, a timeout, or a value taken silently as
# another (the cases marked `must_refuse`).
import sys, os, json, time, signal, subprocess, tempfile, socket, urllib.request
from harness import Slotel, Prober, watch, limit_as, post, get, HERE, free_port

BIN = os.path.abspath(sys.argv[1])
GROUPS = sys.argv[2:] or ["config", "slos", "cli", "net"]
ROOT = os.path.join(HERE, "../..")
D = tempfile.mkdtemp(prefix="slotel-ranges-")
TIMEOUT = int(os.environ.get("TIMEOUT_", "30"))
broken = []
SLO = ("service: checkout\nslos:\n  - name: availability\n    objective: 99.9\n    window: 30d\n"
       "    sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER\n        bad: status.code == STATUS_CODE_ERROR\n")
open(D + "/slo.yaml", "w").write(SLO)
open(D + "/slices.yaml", "w").write(SLO.replace("    window: 30d\n", "    window: 30d\n    budgeting_method: timeslices\n"
                                                "    timeslice: {size: 1m, target: 95}\n"))

def run(label, args, must_refuse=False, timeout=None):
    """Runs BIN ARGS; broken on a panic, a signal or a timeout, and with `must_refuse` when
    it exits 0 (a value out of range accepted)."""
    code, timed_out, dt, peak, lines = watch([BIN] + args, timeout or TIMEOUT)
    what = "TIMEOUT" if timed_out else ("signal %d" % -code if code < 0 else "exit %d" % code)
    bad = timed_out or code < 0 or code == 101 or any("panicked" in l for l in lines) or (must_refuse and code == 0)
    if bad: broken.append(label)
    first = next((l for l in lines if "panicked" in l), None) or next(
        (l for l in lines if "error" in l.lower() or "must" in l or "memory allocation" in l), lines[0] if lines else "")
    print("%s %-50s %-9s %6.2fs %5d MiB  %s" % ("BROKEN" if bad else "  ok  ", label[:50], what, dt, peak // 1024, first[:240]), flush=True)
    return code

def config(extra_slo="", top="", files=None, exporter=None):
    """A config with the one SLO file and `extra_slo` lines under `slo:`; `top` holds
    `receivers.otlp.limits` lines (`receivers:\n  otlp:\n    limits: …`), `exporter` an
    `otlphttp/x` exporter's settings (the traces pipeline's exporter then)."""
    g, h, a = free_port(), free_port(), free_port()
    limits = top.split("    limits:", 1)[1] if top else None
    cfg = f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{g}}}
      http: {{endpoint: 127.0.0.1:{h}}}
{"    limits:" + limits if limits else ""}exporters:
  nop:
{"  otlphttp/x: " + exporter + chr(10) if exporter else ""}slo:
  files: {json.dumps(files or [D + "/slo.yaml"])}
{extra_slo}service:
  admin: {{endpoint: 127.0.0.1:{a}}}
  telemetry: {{logs: {{level: warn}}}}
  pipelines:
    traces: {{exporters: [{"otlphttp/x" if exporter else "nop"}]}}
"""
    path = tempfile.mktemp(dir=D, suffix=".yaml")
    open(path, "w").write(cfg)
    return path, h, a

def serve(label, extra_slo="", seconds=4, files=None, must_refuse=False, top="", exporter=None):
    """Starts the server on the config, sends one span, waits `seconds`, SIGTERMs it."""
    path, h, a = config(extra_slo, top=top, files=files, exporter=exporter)
    if run("check: " + label, ["check", "--config", path], must_refuse=must_refuse) != 0:
        return
    log = open(path + ".log", "w")
    p = subprocess.Popen([BIN, "--config", path], stdout=log, stderr=subprocess.STDOUT, preexec_fn=limit_as)
    t0, ready = time.monotonic(), False
    while time.monotonic() - t0 < 20 and p.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{a}/healthz", timeout=1).read(); ready = True; break
        except Exception: time.sleep(0.05)
    answer = None
    if ready:
        now = time.time_ns()
        body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "0123456789abcdef0123456789abcdef",
            "spanId": "0123456789abcdef", "name": "GET", "kind": 2, "startTimeUnixNano": str(now - 10**6),
            "endTimeUnixNano": str(now)}]}]}]}).encode()
        answer = post(f"http://127.0.0.1:{h}/v1/traces", body, headers={"authorization": ""})[0]
        time.sleep(seconds)
        answer = "%s api=%s metrics=%s" % (answer, get(f"http://127.0.0.1:{a}/api/v1/slos")[0],
                                           get(f"http://127.0.0.1:{a}/metrics")[0])
    alive = p.poll() is None
    peak = 0
    try:
        for l in open(f"/proc/{p.pid}/status"):
            if l.startswith("VmHWM:"): peak = int(l.split()[1])
    except Exception: pass
    t1 = time.monotonic()
    if alive:
        p.send_signal(signal.SIGTERM)
        try: p.wait(15)
        except subprocess.TimeoutExpired: p.kill(); p.wait()
    stop = time.monotonic() - t1
    log.close()
    lines = [l for l in open(path + ".log", errors="replace").read().splitlines() if l.strip()]
    panicked = next((l for l in lines if "panicked" in l), None)
    bad = not ready or not alive or panicked is not None or p.returncode != 0 or (answer and "500" in answer)
    if bad: broken.append("run: " + label)
    first = panicked or next((l for l in lines if "ERROR" in l or "WARN" in l), "")
    print("%s %-50s ready=%s span=%s alive=%s exit=%s stop=%.1fs %d MiB  %s" % (
        "BROKEN" if bad else "  ok  ", ("run: " + label)[:50], ready, answer, alive, p.returncode, stop, peak // 1024, first[:200]), flush=True)

# ------------------------------------------------------------------- config durations
if "config" in GROUPS:
    print("== config: durations and sizes under slo:")
    # humantime reads up to u64::MAX seconds (5.8e11 years); nanoseconds stop at 584 years.
    for key, value, refuse in [
        ("allowed_lateness", "600y", True),       # 1.9e19 ns: past u64 nanoseconds
        ("allowed_lateness", "584y 6months", True),
        ("max_future", "1000y", True),
        ("allowed_lateness", "200000000000y", True),
        ("max_future", "200000000000y", True),
        ("snapshot_interval", "300000000000y", True),
        ("export_interval", "300000000000y", True),
        ("history_interval", "300000000000y", True),
        ("snapshot_interval", "1ns", True),       # every snapshot rewrites the whole state
        ("export_interval", "1ns", False),        # held to 100ms by the export loop
        ("history_interval", "1ns", False),       # held to its shortest step
        ("wal_max_bytes", "1", False),            # a snapshot per request: the operator's choice
    ]:
        extra = f"  {key}: {value}\n"
        if key in ("snapshot_interval", "wal_max_bytes"):
            extra += f"  state_dir: {D}/state-{key}\n"
        serve(f"slo.{key}: {value}", extra, must_refuse=refuse)
    serve("lateness + future past Duration::MAX, a timeslice SLO",
          "  allowed_lateness: 300000000000y\n  max_future: 300000000000y\n", must_refuse=True,
          files=[D + "/slices.yaml"])
    serve("allowed_lateness: 600y, a timeslice SLO", "  allowed_lateness: 600y\n", must_refuse=True,
          files=[D + "/slices.yaml"])
    # 1ns and 1 byte are bounded by the writer's tick: a file per tick, removed at once.
    for key, value, refuse in [("rotate_every", "1ns", False), ("rotate_every", "300000000000y", True),
                               ("retention", "1ns", False), ("retention", "600y", True),
                               ("retention", "300000000000y", True), ("max_bytes", "1", False)]:
        serve(f"slo.capture.{key}: {value}",
              f"  capture: {{directory: {D}/cap-{key}-{len(value)}, {key}: {value}}}\n",
              must_refuse=refuse)
    # Counts that become permits or tasks.
    for label, top, refuse in [
        ("max_connections: 2^64-1", "receivers:\n  otlp:\n    limits: {max_connections: 18446744073709551615}\n", True),
        ("max_connections_per_peer: 2^64-1", "receivers:\n  otlp:\n    limits: {max_connections_per_peer: 18446744073709551615}\n", True),
        ("max_items_per_request etc.: 2^64-1", "receivers:\n  otlp:\n    limits: {max_items_per_request: 18446744073709551615, "
         "max_resources_per_request: 18446744073709551615, max_attributes_per_item: 18446744073709551615}\n", False),
        ("idle/body/first_byte_timeout: 300000000000y", "receivers:\n  otlp:\n    limits: {idle_timeout: 300000000000y, "
         "body_timeout: 300000000000y, first_byte_timeout: 300000000000y}\n", True),
    ]:
        serve(label, "", must_refuse=refuse, top=top)
    for label, exporter, refuse in [
        ("sending_queue.num_consumers: 10^8", "{endpoint: http://127.0.0.1:9, sending_queue: {num_consumers: 100000000}}", True),
        ("retry intervals 300000000000y", "{endpoint: http://127.0.0.1:9, retry_on_failure: {initial_interval: 300000000000y, max_interval: 300000000000y}}", True),
        ("exporter timeout 300000000000y", "{endpoint: http://127.0.0.1:9, timeout: 300000000000y}", True),
    ]:
        serve(label, "", must_refuse=refuse, exporter=exporter)

# ------------------------------------------------------------------- SLO files
def slo_file(name, text):
    path = os.path.join(D, name)
    open(path, "w").write(text)
    return path

OPENSLO = """apiVersion: openslo/v1
kind: SLO
metadata: {{name: slices}}
spec:
  service: catalog
  indicator:
    metadata: {{name: errors}}
    spec:
      ratioMetric:
        counter: true
        good: {{metricSource: {{type: slotel, spec: {{query: status.code != STATUS_CODE_ERROR}}}}}}
        total: {{metricSource: {{type: slotel, spec: {{query: kind == SPAN_KIND_SERVER}}}}}}
  timeWindow: [{{duration: 28d, isRolling: true}}]
  budgetingMethod: Timeslices
  objectives:
    - target: 0.99
      timeSliceTarget: 0.95
      timeSliceWindow: {slice}
"""
NATIVE = """service: shop
slos:
  - name: a
    objective: {objective}
    window: {window}
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        {sli}
{extra}"""

if "slos" in GROUPS:
    print("== slos: values in SLO files (check, rules, run)")
    cases = []
    for s in ["1ns", "999ms", "2h", "100d", "500y"]:
        # the native `timeslice.size` is held to 1s..1h
        cases.append(("openslo timeSliceWindow: " + s, slo_file(f"slice-{s}.yaml", OPENSLO.format(slice=s)), True))
    bad_sli = "bad: status.code == STATUS_CODE_ERROR"
    # Native time slices of 1m to 1h (the allowed range), read past the 5m window's reach.
    for size in ["1m", "6m", "30m", "1h"]:
        text = SLO.replace("    window: 30d\n", "    window: 30d\n    budgeting_method: timeslices\n"
                           f"    timeslice: {{size: {size}, target: 95}}\n")
        cases.append((f"native timeslice size {size}", slo_file(f"native-slice-{size}.yaml", text), False))
    for label, obj, win, sli, extra in [
        ("objective 1e-300", "1e-300", "30d", bad_sli, ""),
        ("objective 99.99999999999999", "99.99999999999999", "30d", bad_sli, ""),
        ("objective 99.999999999999999 (=100)", "99.999999999999999", "30d", bad_sli, ""),
        ("objective NaN", ".nan", "30d", bad_sli, ""),
        ("objective 1e309", "1e309", "30d", bad_sli, ""),
        ("window 1ns", "99", "1ns", bad_sli, ""),
        ("window 100y", "99", "100y", bad_sli, ""),
        ("window 18446744073709551615ns", "99", "18446744073709551615ns", bad_sli, ""),
        ("window 18446744073709551616ns", "99", "18446744073709551616ns", bad_sli, ""),
        ("latency_threshold 600y", "99", "30d", "latency_threshold: 600y", ""),
        ("latency_threshold 1ns", "99", "30d", "latency_threshold: 1ns", ""),
        ("latency_threshold 18446744073709551615ns", "99", "30d", "latency_threshold: 18446744073709551615ns", ""),
        ("exhaustion for: 500y", "99", "30d", bad_sli, "    alerting:\n      exhaustion: {within: 3d, for: 500y}\n"),
        ("exhaustion for: 1ns", "99", "30d", bad_sli, "    alerting:\n      exhaustion: {within: 3d, for: 1ns}\n"),
        ("percentiles 1e-300 and 99.9999999999", "99", "30d", "latency_threshold: 1s", "    percentiles: [1e-300, 99.9999999999]\n"),
    ]:
        cases.append((label, slo_file(f"n-{len(cases)}.yaml", NATIVE.format(objective=obj, window=win, sli=sli, extra=extra)), False))
    for label, path, refuse in cases:
        code = run("check: " + label, ["check", "--config", config(files=[path])[0]], must_refuse=refuse)
        if code == 0:
            out = os.path.join(D, "rules-" + str(abs(hash(label))))
            run("rules: " + label, ["rules", "--slos", path, "--out", out])
            serve(label, files=[path], seconds=2)

# ------------------------------------------------------------------- command lines
if "cli" in GROUPS:
    print("== cli: numbers on the command line")
    # A capture to replay: a server with slo.capture, one span, stopped.
    cap = D + "/capture"
    path, h, a = config(f"  capture: {{directory: {cap}}}\n")
    p = subprocess.Popen([BIN, "--config", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try: urllib.request.urlopen(f"http://127.0.0.1:{a}/healthz", timeout=1).read(); break
        except Exception: time.sleep(0.05)
    now = time.time_ns()
    body = json.dumps({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeSpans": [{"spans": [{"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef",
        "name": "GET", "kind": 2, "startTimeUnixNano": str(now - 10**6), "endTimeUnixNano": str(now)}]}]}]}).encode()
    print("capture span:", post(f"http://127.0.0.1:{h}/v1/traces", body, headers={"authorization": ""})[0])
    p.send_signal(signal.SIGTERM); p.wait(20)
    slos = ["--slos", D + "/slo.yaml"]
    # loadgen sends to a live server (its rate and duration are read once it connects).
    lpath, lh, la = config()
    live = subprocess.Popen([BIN, "--config", lpath], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try: urllib.request.urlopen(f"http://127.0.0.1:{la}/healthz", timeout=1).read(); break
        except Exception: time.sleep(0.05)
    lg = ["loadgen", "--protocol", "http", "--endpoint", f"http://127.0.0.1:{lh}"]
    for label, args, refuse in [
        ("replay --to 2500 --step 100y", ["replay", "--capture", cap] + slos + ["--to", "2500-01-01T00:00:00Z", "--step", "100y"], False),
        ("replay --to 2539 --step 300y", ["replay", "--capture", cap] + slos + ["--to", "2539-01-01T00:00:00Z", "--step", "300y"], False),
        ("replay --to 2539 --step 584y", ["replay", "--capture", cap] + slos + ["--to", "2539-01-01T00:00:00Z", "--step", "584y"], False),
        ("replay --step 1000y", ["replay", "--capture", cap] + slos + ["--step", "1000y"], False),
        ("replay --step 300000000000y", ["replay", "--capture", cap] + slos + ["--step", "300000000000y"], False),
        ("replay --from 2600 (after the last time)", ["replay", "--capture", cap] + slos + ["--from", "2600-01-01T00:00:00Z"], True),
        ("replay --to 9999-12-31", ["replay", "--capture", cap] + slos + ["--to", "9999-12-31T00:00:00Z"], True),
        ("replay --from 1e10 --to 1.8e10", ["replay", "--capture", cap] + slos + ["--from", "1e10", "--to", "1.8e10", "--step", "100y"], False),
        ("replay --from -0", ["replay", "--capture", cap] + slos + ["--from", "-0"], False),
        ("replay --from NaN", ["replay", "--capture", cap] + slos + ["--from", "NaN"], True),
        ("suggest --step 300000000000y", ["suggest", "--capture", cap, "--step", "300000000000y"], False),
        ("suggest --to 2539 --step 100y", ["suggest", "--capture", cap, "--to", "2539-01-01T00:00:00Z", "--step", "100y"], False),
        ("suggest --window 366d --from 1970", ["suggest", "--capture", cap, "--window", "366d", "--from", "0", "--step", "1h"], False),
        ("rules --interval 300000000000y", ["rules"] + slos + ["--out", D + "/r1", "--interval", "300000000000y"], False),
        ("rules --interval 100y", ["rules"] + slos + ["--out", D + "/r2", "--interval", "100y"], False),
        ("loadgen --items-per-request 10^12", lg + ["--items-per-request", "1000000000000", "--items", "1"], True),
        ("loadgen --concurrency 10^9", lg + ["--concurrency", "1000000000", "--duration", "5s"], True),
        ("loadgen --clusters 10^12", lg + ["--clusters", "1000000000000", "--items", "1"], True),
        ("loadgen --services 10^12", lg + ["--services", "1000000000000", "--items", "1"], True),
        ("loadgen --rate 1e300", lg + ["--rate", "1e300", "--duration", "3s"], False),
        ("loadgen --rate 1e-300", lg + ["--rate", "1e-300", "--items", "2000"], True),
        ("loadgen --duration 300000000000y", lg + ["--duration", "300000000000y", "--items", "1"], True),
        ("loadgen --latency-p50-ms 1e300", lg + ["--latency-p50-ms", "1e300", "--items", "1"], False),
    ]:
        run(label, args, must_refuse=refuse, timeout=60)
    live.send_signal(signal.SIGTERM); live.wait(20)

# ------------------------------------------------------------------- OTLP fields
if "net" in GROUPS:
    print("== net: OTLP fields past their range (one server, /healthz probed)")
    s = Slotel(BIN, [HERE + "/hostile-slos.yaml"], capture=True, state=True,
               exporters="  loki/l: {endpoint: http://127.0.0.1:9/loki/api/v1/push}\n",
               pipelines={"logs": ["loki/l"]})
    pr = Prober(s)
    url = f"http://127.0.0.1:{s.http}"
    now = time.time_ns()
    def logs(recs):
        return json.dumps({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "orders"}}]},
            "scopeLogs": [{"logRecords": recs}]}]}).encode()
    rec = lambda **kw: dict({"timeUnixNano": str(now), "body": {"stringValue": '{"msg":"request completed","http":{"status":200,"route":"/l"}}'}}, **kw)
    def metric(m):
        return json.dumps({"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
            "scopeMetrics": [{"metrics": [m]}]}]}).encode()
    def point(**kw): return dict({"timeUnixNano": str(now), "startTimeUnixNano": str(now - 10**9)}, **kw)
    for label, path, body in [
        ("log severityNumber 2^31-1, -2^31, 25", "/v1/logs", logs([rec(severityNumber=2**31 - 1), rec(severityNumber=-2**31), rec(severityNumber=25)])),
        ("log severityNumber 2^31", "/v1/logs", logs([rec(severityNumber=2**31)])),
        ("log flags 2^32-1, droppedAttributesCount 2^32-1", "/v1/logs", logs([rec(flags=2**32 - 1, droppedAttributesCount=2**32 - 1)])),
        ("summary NaN/Inf quantile values, count 2^64-1", "/v1/metrics", metric({"name": "s", "summary": {"dataPoints": [point(
            count=str(2**64 - 1), sum="NaN", quantileValues=[{"quantile": 0.5, "value": "NaN"}, {"quantile": 1, "value": "Infinity"}, {"quantile": 0, "value": "-Infinity"}])]}})),
        ("summary quantile NaN", "/v1/metrics", metric({"name": "s", "summary": {"dataPoints": [point(quantileValues=[{"quantile": "NaN", "value": 1}])]}})),
        ("gauge NaN, +Inf, -Inf, flags 2^32-1", "/v1/metrics", metric({"name": "g", "gauge": {"dataPoints": [
            point(asDouble="NaN"), point(asDouble="Infinity", flags=2**32 - 1), point(asDouble="-Infinity")]}})),
        ("sum int64 min/max, monotonic NaN", "/v1/metrics", metric({"name": "c", "sum": {"isMonotonic": True, "aggregationTemporality": 2, "dataPoints": [
            point(asInt=str(-2**63)), point(asInt=str(2**63 - 1)), point(asDouble="NaN")]}})),
        ("exp histogram offset ±2^31 at scale -10", "/v1/metrics", metric({"name": "http.server.request.duration", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
            point(count="2", scale=-10, positive={"offset": 2**31 - 1, "bucketCounts": ["1"]}, negative={"offset": -2**31, "bucketCounts": ["1"]})]}})),
        ("exp histogram scale 20, 16,384 buckets, zero threshold 1e308", "/v1/metrics", metric({"name": "http.server.request.duration", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
            point(count="16384", scale=20, zeroThreshold=1e308, positive={"offset": 0, "bucketCounts": ["1"] * 16384})]}})),
        ("histogram 16,383 bounds 1e-308 apart", "/v1/metrics", metric({"name": "http.server.request.duration", "unit": "s", "histogram": {"aggregationTemporality": 2, "dataPoints": [
            point(count="16384", bucketCounts=["1"] * 16384, explicitBounds=[i * 1e-308 for i in range(16383)],
                  attributes=[{"key": "http.route", "value": {"stringValue": "/cart"}}])]}})),
        ("histogram 16,383 bounds up to 1e-2, count 2^64-1", "/v1/metrics", metric({"name": "http.server.request.duration", "unit": "s", "histogram": {"aggregationTemporality": 2, "dataPoints": [
            point(count=str(2**64 - 1), bucketCounts=[str(2**64 - 1)] + ["0"] * 16383, explicitBounds=[10.0 ** (i / 55.0 - 300) for i in range(16383)],
                  attributes=[{"key": "http.route", "value": {"stringValue": "/cart"}}])]}})),
        ("span kind 2^31-1, status code -1, droppedEventsCount 2^32-1", "/v1/traces", json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "x", "kind": 2**31 - 1,
            "startTimeUnixNano": str(now - 1), "endTimeUnixNano": str(now), "status": {"code": -1}, "droppedEventsCount": 2**32 - 1}]}]}]}).encode()),
        ("trace flags 2^32-1, traceState 1 MiB", "/v1/traces", json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "x", "kind": 2, "flags": 2**32 - 1,
            "traceState": "ot=th:" + "0" * (1 << 20), "startTimeUnixNano": str(now - 1), "endTimeUnixNano": str(now)}]}]}]}).encode()),
        ("traceState th:1 (every span counts 1/0 ≈ inf)", "/v1/traces", json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "x", "kind": 2,
            "traceState": "ot=th:fffffffffffff", "startTimeUnixNano": str(now - 1), "endTimeUnixNano": str(now)}]}]}]}).encode()),
    ]:
        c, d, dt = post(url + path, body, headers={"authorization": "Bearer tok-u"})
        print("  %-62s %s %.2fs %s" % (label, c, dt, d[:200].decode("utf-8", "replace").replace("\n", " ")), flush=True)
        if c is None or not s.alive(): broken.append("net: " + label)
    # 1M empty resources and 1M empty attributes, protobuf, 16 MiB at most.
    empty_resources = b"\x0a\x00" * (1 << 20)
    attr = b"\x0a\x00"  # KeyValue{} as a resource attribute: Resource.attributes (1) of ResourceSpans.resource (1)
    res = b"\x0a" + bytes([0x00])
    inner = attr * (1 << 20)
    def varint(n):
        out = b""
        while True:
            b = n & 0x7f; n >>= 7
            if n: out += bytes([b | 0x80])
            else: return out + bytes([b])
    resource = b"\x0a" + varint(len(inner)) + inner
    one_rs = b"\x0a" + varint(len(resource)) + resource
    for label, body in [("1,048,576 empty resourceSpans (2 MiB)", empty_resources), ("1,048,576 empty resource attributes", one_rs)]:
        c, d, dt = post(url + "/v1/traces", body, headers={"authorization": "Bearer tok-u", "content-type": "application/x-protobuf"})
        print("  %-62s %s %.2fs %s" % (label, c, dt, d[:200].decode("utf-8", "replace")), flush=True)
        if c is None or not s.alive(): broken.append("net: " + label)
    c, d, _ = get(f"http://127.0.0.1:{s.admin}/api/v1/slos")
    print("  status API after:", c, len(d), "bytes")
    res = pr.done()
    print("  peak RSS %d MiB, probe %s" % (s.hwm() // 1024, res))
    s.stop()

print("BROKEN:" if broken else "nothing broke", "; ".join(broken))
sys.exit(1 if broken else 0)
