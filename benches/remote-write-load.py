"""Remote write under load: one SLO grouped into GROUPS groups, a real Prometheus
(`--web.enable-remote-write-receiver`) as the only exporter, spans for every group from a
thread (1,000 every 0.2 s, OTLP/HTTP JSON), and every 10 s: how far the newest
`slotel_slo_events_total` sample in Prometheus lags now, slotel's delivered and dropped
samples, its CPU (cores, since start) and RSS, and Prometheus's time per write request.
Ends with a SUMMARY line and the number of SLO series in Prometheus (points per export).

    SLOTEL_BIN=target/release/slotel [RW_EXTRA='    slo_series_backlog: 100000'] \
        .venv/bin/python benches/remote-write-load.py GROUPS INTERVAL SECONDS TMPDIR

RW_EXTRA: more keys of the `prometheusremotewrite/prom` exporter (indented by four spaces).
"""
import json, os, sys, time, random, threading
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))
from prometheus_harness import Prometheus
from slotel_harness import Slotel
import requests

groups = int(sys.argv[1]); interval = sys.argv[2]; secs = int(sys.argv[3]); tmp = Path(sys.argv[4])
tmp.mkdir(parents=True, exist_ok=True)
d = tmp / "slos"; d.mkdir(exist_ok=True)
(d / "s.yaml").write_text(f"""service: shop
slos:
  - name: avail
    objective: 99
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        bad: status.code == STATUS_CODE_ERROR
        latency_threshold: 250ms
    group_by:
      - attributes["tenant"]
    max_groups: {groups + 10}
""")
prom = Prometheus.start(tmp)
import atexit; atexit.register(prom.stop)
import subprocess
from slotel_harness import free_port, slotel_bin
gp, hp, ap = free_port(), free_port(), free_port()
extra = os.environ.get("RW_EXTRA", "")
cfg = f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{gp}}}
      http: {{endpoint: 127.0.0.1:{hp}}}
exporters:
  prometheusremotewrite/prom:
    endpoint: {prom.write_url}
    replica: r1
{extra}
slo:
  export_interval: {interval}
  files: ["{d}/*.yaml"]
service:
  admin: {{endpoint: 127.0.0.1:{ap}}}
  telemetry:
    logs: {{level: info, format: json}}
"""
(tmp / "slotel.yaml").write_text(cfg)
log = open(tmp / "slotel-0.log", "wb")
proc = subprocess.Popen([str(slotel_bin()), "run", "--config", str(tmp / "slotel.yaml")], stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
s = Slotel(proc, gp, hp, ap, tmp / "out.jsonl", tmp / "slotel-0.log")
s.http.trust_env = False
s._wait_ready()
atexit.register(s.kill)
sess = requests.Session(); sess.trust_env = False
def spans(start, n, now):
    out = []
    for i in range(n):
        g = (start + i) % groups
        t = now - random.randint(1, 400) * 1_000_000
        out.append({"traceId": "%032x" % random.getrandbits(128), "spanId": "%016x" % random.getrandbits(64),
            "name": "GET /", "kind": 2, "startTimeUnixNano": str(t - random.randint(1, 300) * 1_000_000), "endTimeUnixNano": str(t),
            "attributes": [{"key": "tenant", "value": {"stringValue": f"t{g}"}}],
            "status": {"code": 2 if random.random() < 0.01 else 0}})
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"spans": out}]}]}
stop = False
def traffic():
    i = 0
    while not stop:
        try:
            r = sess.post(s.http_endpoint("traces"), json=spans(i, 1000, time.time_ns()), timeout=30)
            if r.status_code != 200: print("traffic", r.status_code, r.text[:200], flush=True)
        except Exception as e:
            print("traffic error", e, flush=True); time.sleep(1)
        i += 1000
        time.sleep(0.2)
th = threading.Thread(target=traffic, daemon=True); th.start()
def metric(name, text):
    tot = 0.0
    for line in text.splitlines():
        if line.startswith(name) and 'exporter="prometheusremotewrite/prom"' in line:
            tot += float(line.split()[-1])
    return tot
def cpu(pid=None):
    st = open(f"/proc/{pid or s.proc.pid}/stat").read().split(")")[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
def rss():
    for l in open(f"/proc/{s.proc.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) // 1024
t0 = time.time(); c0 = cpu(); p0 = cpu(prom.proc.pid); rows = []
sel = 'slotel_slo_events_total{slo="avail",cluster="all",outcome="good"}'
while time.time() - t0 < secs:
    time.sleep(10)
    now = time.time()
    r = prom.query(f"timestamp({sel})")
    lag = now - float(r[0]["value"][1]) if r else None
    tm = time.time(); m = s.http.get(f"{s.admin_url}/metrics", timeout=60).text; tm = time.time() - tm
    row = dict(t=round(now - t0), metrics_s=round(tm, 2), lag=lag and round(lag, 1), queue=metric("slotel_exporter_queue_items", m),
        sent=metric("slotel_exporter_sent_items_total", m) or metric("slotel_exporter_delivered_items_total", m),
        req_ok=sum(float(l.split()[-1]) for l in m.splitlines() if l.startswith("slotel_exporter_requests_total") and "prom" in l and "success" in l),
        dropped=metric("slotel_exporter_dropped_items_total", m),
        cpu=round((cpu() - c0) / (now - t0), 2), prom_cpu=round((cpu(prom.proc.pid) - p0) / (now - t0), 2), rss=rss())
    pm = prom.http.get(f"{prom.url}/metrics", timeout=30).text
    def pv(prefix):
        return sum(float(l.split()[-1]) for l in pm.splitlines() if l.startswith(prefix) and 'handler="/api/v1/write"' in l)
    row["prom_write_reqs"] = pv("prometheus_http_request_duration_seconds_count")
    row["prom_write_s_per_req"] = round(pv("prometheus_http_request_duration_seconds_sum") / max(row["prom_write_reqs"], 1), 4)
    rows.append(row); print(json.dumps(row), flush=True)
stop = True
lags = [r["lag"] for r in rows if r["lag"] is not None]
tail = rows[len(rows)//2:]
print("SUMMARY", json.dumps(dict(groups=groups, interval=interval, lag_max=max(lags), lag_last=lags[-1],
    samples_per_s=round((rows[-1]["sent"] - rows[0]["sent"]) / max(rows[-1]["t"] - rows[0]["t"], 1)),
    cpu=rows[-1]["cpu"], rss_max=max(r["rss"] for r in rows), queue_max=max(r["queue"] for r in rows),
    superseded=rows[-1]["dropped"], s_per_req=rows[-1]["prom_write_s_per_req"])), flush=True)
r = prom.http.get(f"{prom.url}/api/v1/query", params={"query": 'count({__name__=~"slotel_slo_.+"})'}, timeout=120).json()
print("series in prometheus (points per export)", r["data"]["result"])
print("samples appended", prom.query('prometheus_tsdb_head_samples_appended_total'))
print("remote write log tail:", [l for l in s.log_text().splitlines() if "WARN" in l or "warn" in l][-5:])
s.terminate(); prom.stop()
