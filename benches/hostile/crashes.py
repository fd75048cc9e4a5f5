#!/usr/bin/env python3
"""Crashes, restarts and disks: is every promise of README's two tables (the disk queue's
"What the disk queue promises when its disk misbehaves" and "SLO state across crashes") true
for the released binary, under load, at the worst moment? Counted from the client's side: a
request is acknowledged when it got 200 with no rejected items.

slotel runs with tokens on (`tok-a` bound to cluster `a`), `slo.state_dir`, traces and logs
forwarded by `otlphttp` to a local OTLP server that keeps every item, metrics remote-written
to a real Prometheus, both exporters on disk queues. Clients send traces (`checkout` server
spans, one name per span), logs (`orders` access-log records, one id each) and metrics (a
`crash_probe` gauge with one `id` label per point, plus a delta histogram the `cart` SLO
reads), each item unique, so the backends' copies can be counted.

Groups (default: all):
- `kill`: kill -9 at seeded random instants (`KILLS_`, 30) while 6 clients send; after each
  restart the SLO totals (`checkout/availability`, `orders/availability`,
  `cart/request-latency`, cluster `a`) must be at least what was acknowledged before the kill
  and at most what was sent; at the end every acknowledged item must be at a backend,
  duplicates are counted, and `/metrics` and Prometheus' `slotel_slo_events_total` must agree
  with the API.
- `moments`: kill -9 right after a snapshot is taken (1 s snapshots: every kill lands near
  one), right after a SIGHUP reload that changes, removes and re-adds an SLO, during a
  SIGTERM drain (a second signal: SIGKILL) with the backend down, within 300 ms of a start
  (restore and replay), and on state files backdated a day and postdated a year.
- `compact`: a disk queue of ~20 MiB drained with kill -9 at random instants, so kills land
  in the compactions each start makes.
- `twoproc`: a second slotel started on the same `state_dir` while the first runs.
- `diskfull`: `state_dir` and the queues on a small tmpfs that another file fills while
  clients send: retry-later answers, `/readyz` 503 with the reason, recovery without a
  restart once space is freed, nothing acknowledged lost.
- `readonly`: the same tmpfs remounted read-only, then read-write.
- `removed`: the state directory deleted under load (snapshots every 30 s), then kill -9:
  what was acknowledged after the deletion must survive, with no restart needed meanwhile.
- `sigterm`: SIGTERM (and a second one a second later) under load with the backend down:
  drain time, exit code, and what the disk queue and the memory queue kept of what they
  acknowledged (a memory queue drops what it holds at the deadline: reported, not a failure).

Usage: crashes.py BIN [GROUP...]   (SEED_ env var: the seed; exits 1 when a promise broke)
"""
import atexit, json, os, random, re, shutil, signal, subprocess, sys, tempfile, threading, time
import harness
from harness import HERE, Prometheus, Sink, Slotel, check, failures, note, get, now_ns, post

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest, ExportMetricsServiceResponse)
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest, ExportLogsServiceResponse)

BIN = os.path.abspath(sys.argv[1])
GROUPS = sys.argv[2:] or ["kill", "moments", "compact", "twoproc", "diskfull", "readonly", "removed", "sigterm"]
SEED = int(os.environ.get("SEED_", random.randrange(1 << 32)))
KILLS = int(os.environ.get("KILLS_", 30))
print(f"seed {SEED}", flush=True)
SLOS = [("checkout", "availability", "traces"), ("orders", "availability", "logs"),
        ("cart", "request-latency", "metrics")]


def kv(attrs, key, value):
    a = attrs.add(); a.key = key
    if isinstance(value, int):
        a.value.int_value = value
    else:
        a.value.string_value = value


# ---------------------------------------------------------------- requests (one id per item)

PAD = {"n": 0}  # bytes of padding per span (the `compact` group fills a queue with it)


def traces(ids, t):
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add(); kv(rs.resource.attributes, "service.name", "checkout")
    ss = rs.scope_spans.add()
    for k, i in enumerate(ids):
        sp = ss.spans.add()
        sp.trace_id = os.urandom(16); sp.span_id = os.urandom(8)
        sp.name = i; sp.kind = 2
        sp.start_time_unix_nano = t - 2_000_000; sp.end_time_unix_nano = t
        sp.status.code = 2 if k == 0 else 1
        kv(sp.attributes, "http.route", "/api/pay")
        if PAD["n"]:
            kv(sp.attributes, "pad", "x" * PAD["n"])
    return req


def logs(ids, t):
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add(); kv(rl.resource.attributes, "service.name", "orders")
    sl = rl.scope_logs.add()
    for i in ids:
        r = sl.log_records.add(); r.time_unix_nano = t; r.observed_time_unix_nano = t
        r.severity_number = 9
        r.body.string_value = json.dumps({"msg": "request completed", "latency_ms": 12.5,
                                          "http": {"method": "GET", "route": "/orders/{id}", "status": 200}})
        kv(r.attributes, "crash.id", i)
    return req


def metrics(ids, t):
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add(); kv(rm.resource.attributes, "service.name", "cart")
    sm = rm.scope_metrics.add()
    g = sm.metrics.add(); g.name = "crash_probe"
    for i in ids:
        p = g.gauge.data_points.add(); p.time_unix_nano = t; p.as_int = 1; kv(p.attributes, "id", i)
    h = sm.metrics.add(); h.name = "http.server.request.duration"; h.unit = "s"
    h.histogram.aggregation_temporality = 1
    p = h.histogram.data_points.add(); p.start_time_unix_nano = t - 10**9; p.time_unix_nano = t
    p.count = len(ids); p.sum = 0.1 * len(ids)
    p.explicit_bounds.extend([0.1, 0.25, 1.0]); p.bucket_counts.extend([len(ids), 0, 0, 0])
    return req


KINDS = {"traces": (traces, ExportTraceServiceResponse, "rejected_spans"),
         "logs": (logs, ExportLogsServiceResponse, "rejected_log_records"),
         "metrics": (metrics, ExportMetricsServiceResponse, "rejected_data_points")}


class Books:
    """What the clients sent and what was acknowledged, per signal (item ids)."""
    runs = 0
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = {k: [] for k in KINDS}; self.acked = {k: [] for k in KINDS}
        self.refused = {k: [] for k in KINDS}  # answered 503 (retry-later)
        self.codes = {}
        Books.runs += 1
        self.run = f"r{Books.runs}-"  # ids unique across the groups of one run

    def counts(self):
        with self.lock:
            return ({k: len(v) for k, v in self.sent.items()}, {k: len(v) for k, v in self.acked.items()})


def client(s, kind, cid, books, stop, per=5):
    build, Resp, field = KINDS[kind]
    seq = 0
    while not stop.is_set():
        ids = [f"{books.run}{kind[0]}{cid}-{seq}-{j}" for j in range(per)]; seq += 1
        body = build(ids, now_ns()).SerializeToString()
        with books.lock:
            books.sent[kind].extend(ids)
        c, d, _ = post(f"http://127.0.0.1:{s.http}/v1/{kind}", body,
                       {"content-type": "application/x-protobuf", "authorization": "Bearer tok-a"}, timeout=20)
        ok = False
        if c == 200:
            r = Resp(); r.ParseFromString(d)
            ok = getattr(r.partial_success, field) == 0
        with books.lock:
            books.codes[c] = books.codes.get(c, 0) + 1
            if ok:
                books.acked[kind].extend(ids)
            elif c == 503:
                books.refused[kind].extend(ids)
        if not ok:
            time.sleep(0.05)


def start_clients(s, books, n=2, kinds=KINDS):
    stop = threading.Event()
    ts = [threading.Thread(target=client, args=(s, k, c, books, stop), daemon=True)
          for k in kinds for c in range(n)]
    for t in ts:
        t.start()
    return stop, ts


def stop_clients(stop, ts):
    stop.set()
    for t in ts:
        t.join(30)


# ---------------------------------------------------------------- what the backends and slotel hold

def sink_items(sink):
    """{signal: {id: copies}} from the OTLP server."""
    out = {"traces": {}, "logs": {}}
    for p, _, b in list(sink.requests):
        if p.endswith("/v1/traces"):
            r = ExportTraceServiceRequest(); r.ParseFromString(b)
            for rs in r.resource_spans:
                for ss in rs.scope_spans:
                    for sp in ss.spans:
                        out["traces"][sp.name] = out["traces"].get(sp.name, 0) + 1
        elif p.endswith("/v1/logs"):
            r = ExportLogsServiceRequest(); r.ParseFromString(b)
            for rl in r.resource_logs:
                for sl in rl.scope_logs:
                    for lr in sl.log_records:
                        for a in lr.attributes:
                            if a.key == "crash.id":
                                out["logs"][a.value.string_value] = out["logs"].get(a.value.string_value, 0) + 1
    return out


def prom_ids(prom):
    res = prom.query('group by (id) (last_over_time(crash_probe[2h]))') or []
    return {r["metric"].get("id") for r in res}


def slo_totals(s):
    """{(service, name): total} of cluster `a`'s roll-up entries, or None."""
    c, d, _ = get(f"http://127.0.0.1:{s.admin}/api/v1/slos?cluster=a", timeout=30)
    if c != 200:
        return None
    out = {}
    for e in json.loads(d)["slos"]:
        if "group" not in e and e["cluster"] == "a":
            out[(e["service"], e["name"])] = e.get("raw_total", e["total"]) if e["service"] == "checkout" else e["total"]
    return out


def events_metric(text, service, name):
    tot = 0.0
    for l in text.splitlines():
        if l.startswith("slotel_slo_events_total{") and f'service="{service}"' in l and f'slo="{name}"' in l \
                and 'cluster="a"' in l and ('http_route="' not in l or 'http_route=""' in l):
            tot += float(l.rsplit(" ", 1)[1])
    return tot


def bounds(s, books_sent, books_acked, when):
    """SLO totals between what was acknowledged before and what was sent by the time the API
    answered (`books_sent`: a Books, read after the answer, or the final counts)."""
    tot = slo_totals(s)
    if isinstance(books_sent, Books):
        books_sent = books_sent.counts()[0]
    if tot is None:
        check(f"{when}: /api/v1/slos answers", False, "no answer"); return None
    for svc, name, kind in SLOS:
        v = tot.get((svc, name), 0)
        lo, hi = books_acked[kind], books_sent[kind]
        check(f"{when}: {svc}/{name} {v} within [acked {lo}, sent {hi}]", lo <= v <= hi, (v, lo, hi))
    return tot


def delivered(sink, prom, books, when, wait=90, expect=True):
    """Waits until every acknowledged item is at a backend; (missing, duplicates) per signal."""
    t0 = time.monotonic()
    while True:
        have = sink_items(sink)
        have["metrics"] = {i: 1 for i in prom_ids(prom)}
        with books.lock:
            acked = {k: set(v) for k, v in books.acked.items()}
        missing = {k: len(acked[k] - set(have[k])) for k in KINDS}
        if not any(missing.values()) or time.monotonic() - t0 > wait:
            break
        time.sleep(2)
    dup = {k: sum(c - 1 for c in have[k].values()) for k in KINDS}
    for k in KINDS:
        what = f"{when}: every acknowledged {k} item delivered ({len(acked[k])} acked, {len(have[k])} distinct delivered)"
        if expect:
            check(what, missing[k] == 0, f"{missing[k]} missing")
        else:
            note(what, f"{missing[k]} missing")
    note(f"{when}: duplicates", dup)
    with books.lock:
        refused = {k: set(v) for k, v in books.refused.items()}
    if any(refused.values()):
        note(f"{when}: items of requests answered 503 that reached a backend anyway (a retry duplicates them)",
             {k: f"{len(refused[k] & set(have[k]))} of {len(refused[k])}" for k in KINDS})
    return missing, dup


def setup(tmp, queue_dir, state_dir=True, queue="disk", slo_extra=None, slo_files=()):
    sink, prom = Sink(), Prometheus(tempfile.mkdtemp(dir=tmp, prefix="prom-"))
    qd = f"\n    sending_queue: {{storage: disk, directory: {queue_dir}}}" if queue == "disk" else ""
    exporters = (f"  otlphttp/t:\n    endpoint: http://127.0.0.1:{sink.port}\n    compression: none"
                 f"\n    retry_on_failure: {{initial_interval: 100ms, max_interval: 1s}}{qd}\n"
                 f"  prometheusremotewrite/m:\n    endpoint: http://127.0.0.1:{prom.port}/api/v1/write"
                 f"\n    retry_on_failure: {{initial_interval: 100ms, max_interval: 1s}}{qd}\n")
    pipes = {"traces": ["otlphttp/t"], "metrics": ["prometheusremotewrite/m"], "logs": ["otlphttp/t"]}
    extra = {"export_interval": "2s"}
    extra.update(slo_extra or {})
    LIVE.append(prom)
    s = Slotel(BIN, exporters=exporters, pipelines=pipes, state=state_dir, slo_extra=extra,
               extra_slo_files=slo_files, log_level="info")
    LIVE.append(s)
    return s, sink, prom


LIVE = []  # servers started, killed at exit if a group stopped half-way


@atexit.register
def _kill_live():
    for x in LIVE:
        if x.p.poll() is None:
            x.p.kill()


def restart(s, kill=True):
    harness.restart(s, BIN, kill=kill)


def readyz(s):
    c, d, _ = get(f"http://127.0.0.1:{s.admin}/readyz", timeout=5)
    return c, d.decode("utf-8", "replace")[:300]


def one_truth(s, prom, when):
    """`/metrics`, Prometheus' remote-written series and the API agree (after an export)."""
    time.sleep(7)
    tot = slo_totals(s) or {}
    _, m, _ = get(f"http://127.0.0.1:{s.admin}/metrics")
    m = m.decode()
    for svc, name, _ in SLOS:
        api = tot.get((svc, name), 0)
        met = events_metric(m, svc, name)
        r = prom.query(f'sum(slotel_slo_events_total{{service="{svc}",slo="{name}",cluster="a",http_route=""}})') or []
        pv = float(r[0]["value"][1]) if r else 0.0
        check(f"{when}: {svc}/{name} one truth: API {api}, /metrics {met:.0f}, Prometheus {pv:.0f}",
              api == met == pv, (api, met, pv))


def counts_line(books, tot=None, dup=None):
    sent, acked = books.counts()
    return f"sent {sent} acked {acked}" + (f" slo {tot}" if tot else "") + (f" dup {dup}" if dup else "")


# ---------------------------------------------------------------- groups

def g_kill(tmp):
    rng = random.Random(SEED)
    s, sink, prom = setup(tmp, tmp + "/q", slo_extra={"snapshot_interval": "3s"})
    books = Books()
    stop, ts = start_clients(s, books)
    for k in range(KILLS):
        time.sleep(rng.uniform(0.2, 3.0))
        sent_before, acked_before = books.counts()
        at = time.time()
        restart(s, kill=True)
        note(f"kill {k + 1}", f"at {at:.3f}, acked before {acked_before}")
        time.sleep(0.3)
        bounds(s, books, acked_before, f"after kill {k + 1}")
    time.sleep(2)
    stop_clients(stop, ts)
    sent, acked = books.counts()
    tot = bounds(s, sent, acked, "end")
    _, dup = delivered(sink, prom, books, "end")
    one_truth(s, prom, "end")
    restart(s, kill=True)
    one_truth(s, prom, "end, after one more kill -9")
    note("kill: codes", books.codes)
    note("kill: counts", counts_line(books, tot, dup))
    s.stop(); prom.stop()


def g_moments(tmp):
    rng = random.Random(SEED + 1)
    extra = os.path.join(tmp, "moment-slos.yaml")
    a = ("service: moment\nslos:\n  - name: avail\n    objective: 99\n    window: 1d\n    sli:\n      spans:\n"
         "        where: resource.attributes[\"service.name\"] == \"checkout\"\n"
         "        bad: status.code == STATUS_CODE_ERROR\n")
    open(extra, "w").write(a)
    s, sink, prom = setup(tmp, tmp + "/qm", slo_extra={"snapshot_interval": "1s"}, slo_files=[extra])
    books = Books()
    stop, ts = start_clients(s, books)
    for k in range(6):  # near snapshots (every second) and WAL rotations (one per snapshot)
        time.sleep(rng.uniform(0.8, 1.2))
        _, acked_before = books.counts()
        restart(s, kill=True)
        bounds(s, books, acked_before, f"kill -9 near a snapshot {k + 1}")
    for what, text in [("changed", a.replace("objective: 99", "objective: 98")),
                       ("removed", a.replace("name: avail", "name: other")), ("re-added", a)]:
        open(extra + ".tmp", "w").write(text); os.rename(extra + ".tmp", extra)
        time.sleep(0.5)
        s.p.send_signal(signal.SIGHUP)
        time.sleep(rng.uniform(0.0, 0.3))
        _, acked_before = books.counts()
        restart(s, kill=True)
        bounds(s, books, acked_before, f"kill -9 just after a SIGHUP ({what} SLO)")
    # kill -9 while the last start is still restoring and replaying (0-300 ms after exec)
    _, acked_before = books.counts()
    for k in range(5):
        s.p.kill(); s.p.wait()
        s.p = subprocess.Popen([BIN, "--config", s.cfg], stdout=s.log, stderr=subprocess.STDOUT)
        time.sleep(rng.uniform(0.0, 0.3))
    restart(s, kill=True)
    bounds(s, books, acked_before, "5 kill -9 during start-up (restore and replay)")
    # SIGTERM drain with the backend down, then SIGKILL as the second signal
    sink.down = True
    time.sleep(1)
    s.p.send_signal(signal.SIGTERM)
    time.sleep(rng.uniform(0.05, 0.5))
    _, acked_before = books.counts()
    s.p.kill(); s.p.wait()
    sink.down = False
    restart(s, kill=False)  # already dead: starts again
    bounds(s, books, acked_before, "SIGKILL during a SIGTERM drain (backend down)")
    # clock: a restart with the snapshot and WAL segments' mtimes a day in the past and future
    st = s.dir + "/state"
    for delta, label in [(-86400, "backdated"), (86400 * 365, "postdated")]:
        _, acked_before = books.counts()
        s.p.kill(); s.p.wait()
        for root, _, files in os.walk(st):
            for f in files:
                p = os.path.join(root, f); t = time.time() + delta
                os.utime(p, (t, t))
        restart(s, kill=False)
        bounds(s, books, acked_before, f"restart on state files {label} a {'day' if delta < 0 else 'year'}")
    stop_clients(stop, ts)
    sent, acked = books.counts()
    tot = bounds(s, sent, acked, "moments end")
    _, dup = delivered(sink, prom, books, "moments end")
    one_truth(s, prom, "moments end")
    note("moments: counts", counts_line(books, tot, dup))
    s.stop(); prom.stop()


def g_compact(tmp):
    """A disk queue filled to ~20 MiB with the backend down, then drained with kill -9 at
    random instants: each start compacts the file once it holds less than a quarter of it,
    so kills land before, in and after compactions."""
    rng = random.Random(SEED + 2)
    PAD["n"] = 2048
    s, sink, prom = setup(tmp, tmp + "/qc", slo_extra={"snapshot_interval": "5s"})
    sink.down = True
    books = Books()
    stop, ts = start_clients(s, books, n=4, kinds=["traces"])
    qf = tmp + "/qc/otlphttp_t.redb"
    wait_until(lambda: os.path.exists(qf) and os.path.getsize(qf) > 20 << 20, 120)
    stop_clients(stop, ts)
    PAD["n"] = 0
    note("compact: queue file before the drain", f"{os.path.getsize(qf) >> 10} KiB, {books.counts()[1]['traces']} spans acked")
    sink.down = False
    sizes = []
    for k in range(12):
        time.sleep(rng.uniform(0.2, 2.5))
        sizes.append(os.path.getsize(qf) >> 10)
        restart(s, kill=True)
    note("compact: queue file (KiB) at each kill", sizes)
    delivered(sink, prom, books, "compact: kill -9 during the drain and its compactions", wait=120)
    note("compact: queue file at the end", f"{os.path.getsize(qf) >> 10} KiB")
    salv = [l for l in open(s.dir + "/log") if "salvage" in l or "damaged" in l]
    check("compact: no queue file set aside as damaged", not salv, salv[:2])
    s.stop(); prom.stop()


def g_twoproc(tmp):
    """A (snapshots every 30 s) takes traffic; B starts on the same state_dir (snapshots every
    second); A acknowledges more and is killed; B snapshots and is killed; A starts again."""
    s, sink, prom = setup(tmp, tmp + "/q2", slo_extra={"snapshot_interval": "30s"})
    books = Books()
    stop, ts = start_clients(s, books)
    time.sleep(3)
    cfg2 = open(s.cfg).read().replace('"snapshot_interval": "30s"', '"snapshot_interval": "1s"')
    for old in (s.grpc, s.http, s.admin):
        cfg2 = cfg2.replace(f"127.0.0.1:{old}", f"127.0.0.1:{harness.free_port()}")
    cfg2 = cfg2.replace(tmp + "/q2", tmp + "/q2b")
    open(s.dir + "/second.yaml", "w").write(cfg2)
    err = open(s.dir + "/second.log", "w")
    p2 = subprocess.Popen([BIN, "--config", s.dir + "/second.yaml"], stdout=err, stderr=subprocess.STDOUT)
    time.sleep(4)
    second_running = p2.poll() is None
    stop_clients(stop, ts)
    s.p.kill(); s.p.wait()
    time.sleep(3)
    log2 = open(s.dir + "/second.log").read()
    note("second process on the same state_dir", f"running after 4 s: {second_running}; log: {log2[-300:]}")
    check("a second slotel on one state_dir is refused at start and says why",
          not second_running and "state" in log2 and "lock" in log2, log2[-300:])
    if p2.poll() is None:
        p2.kill(); p2.wait()
    sent, acked = books.counts()
    restart(s, kill=False)
    bounds(s, sent, acked, "the first process restarted after the second ran")
    note("twoproc: counts", counts_line(books))
    s.stop(); prom.stop()


class Tmpfs:
    def __init__(self, path, size):
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], check=True)
        self.path = path

    def fill(self):
        """Eats every free byte; returns the file."""
        f = os.path.join(self.path, "eater")
        with open(f, "wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536); out.flush()
            except OSError:
                pass
        return f

    def umount(self):
        subprocess.run(["umount", "-l", self.path])


def wait_until(f, timeout):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        v = f()
        if v:
            return time.monotonic() - t
        time.sleep(0.2)
    return None


def serve_on(fs, tmp):
    """slotel with its SLO state and queue on the tmpfs `fs`, clients sending for 3 s."""
    st, q = fs.path + "/state", fs.path + "/q"
    os.makedirs(q)
    s, sink, prom = setup(tmp, q, state_dir=st, slo_extra={"snapshot_interval": "2s"})
    books = Books()
    stop, ts = start_clients(s, books)
    time.sleep(3)
    return st, q, s, sink, prom, books, stop, ts


def disk_case(tmp, name, spoil, mend):
    fs = Tmpfs(tmp + "/" + name, "24m")
    try:
        st, q, s, sink, prom, books, stop, ts = serve_on(fs, tmp)
        ctx = spoil(fs)
        codes0 = dict(books.codes)
        samples = []
        for _ in range(20):
            time.sleep(0.2)
            samples.append(readyz(s))
        refused = {c: n - codes0.get(c, 0) for c, n in books.codes.items() if n != codes0.get(c, 0)}
        n503 = sum(1 for c, _ in samples if c == 503)
        note(f"{name}: answers while spoiled", refused)
        note(f"{name}: /readyz sampled every 200 ms for 4 s", f"{n503} of {len(samples)} answered 503; "
             f"first reason: {next((b.strip() for c, b in samples if c == 503), None)}")
        check(f"{name}: /readyz is 503 with a reason while spoiled (most samples)", n503 * 2 > len(samples), samples[:3])
        check(f"{name}: clients get retry-later (503), never 500", 500 not in refused and refused.get(503, 0) > 0, refused)
        mend(fs, ctx)
        _, a0 = books.counts()
        back = wait_until(lambda: books.counts()[1]["traces"] > a0["traces"] + 20 and readyz(s)[0] == 200, 30)
        check(f"{name}: accepts again without a restart once mended", back is not None, readyz(s))
        note(f"{name}: recovered after", f"{back}s")
        time.sleep(2)
        _, acked_before = books.counts()
        restart(s, kill=True)
        bounds(s, books, acked_before, f"{name}: kill -9 after recovery")
        stop_clients(stop, ts)
        _, dup = delivered(sink, prom, books, f"{name}")
        note(f"{name}: counts", counts_line(books, None, dup))
        s.stop(); prom.stop()
    finally:
        fs.umount()


def g_diskfull(tmp):
    disk_case(tmp, "diskfull", lambda fs: fs.fill(), lambda fs, f: os.unlink(f))


def g_readonly(tmp):
    """Linux refuses to remount a filesystem read-only while a process holds a file open for
    writing (EBUSY), so a running slotel cannot see it; the read-only disk is met at start."""
    fs = Tmpfs(tmp + "/readonly", "24m")
    try:
        st, q, s, sink, prom, books, stop, ts = serve_on(fs, tmp)
        r = subprocess.run(["mount", "-o", "remount,ro", fs.path], capture_output=True, text=True)
        note("remount read-only while slotel runs", f"exit {r.returncode}: {r.stderr.strip()[:120]}")
        if r.returncode == 0:
            subprocess.run(["mount", "-o", "remount,rw", fs.path], check=True)
        stop_clients(stop, ts)
        sent, acked = books.counts()
        s.p.kill(); s.p.wait()
        subprocess.run(["mount", "-o", "remount,ro", fs.path], check=True)
        s.log = open(s.dir + "/log", "a")
        log0 = os.path.getsize(s.dir + "/log")
        s.p = subprocess.Popen([BIN, "--config", s.cfg], stdout=s.log, stderr=subprocess.STDOUT)
        try:
            rc = s.p.wait(20)
        except subprocess.TimeoutExpired:
            rc = None
        err = open(s.dir + "/log").read()[log0:]
        last = [l for l in err.splitlines() if "ERROR" in l or "error" in l][-1:] or err.splitlines()[-1:]
        note("start on a read-only state_dir and queue directory", f"exit {rc}: {last}")
        check("start on a read-only disk fails at once, naming a file", rc not in (0, None) and fs.path in err, (rc, last))
        if rc is None:
            s.p.kill(); s.p.wait()
        subprocess.run(["mount", "-o", "remount,rw", fs.path], check=True)
        restart(s, kill=False)
        bounds(s, sent, acked, "readonly: restart once writable again")
        delivered(sink, prom, books, "readonly")
        s.stop(); prom.stop()
    finally:
        fs.umount()


def g_removed(tmp):
    """The state directory deleted under load (snapshots every 30 s): what is acknowledged
    afterwards must survive a kill -9, and slotel must take requests again without a
    restart."""
    s, sink, prom = setup(tmp, tmp + "/qr", slo_extra={"snapshot_interval": "30s"})
    books = Books()
    stop, ts = start_clients(s, books)
    time.sleep(3)
    st = s.dir + "/state"
    shutil.rmtree(st)
    codes0 = dict(books.codes)
    _, a0 = books.counts()
    time.sleep(4)
    refused = {c: n - codes0.get(c, 0) for c, n in books.codes.items() if n != codes0.get(c, 0)}
    _, a1 = books.counts()
    note("state_dir removed: answers in the next 4 s", refused)
    note("state_dir removed: /readyz after 4 s", readyz(s))
    note("state_dir removed: it holds after 4 s", sorted(os.listdir(st)) if os.path.isdir(st) else "nothing")
    check("state_dir removed: requests acknowledged again without a restart",
          a1["traces"] > a0["traces"] + 20 and readyz(s)[0] == 200, (a0, a1, readyz(s)))
    _, acked_before = books.counts()
    restart(s, kill=True)
    bounds(s, books, acked_before, "state_dir removed, then kill -9")
    stop_clients(stop, ts)
    note("removed: counts", counts_line(books))
    s.stop(); prom.stop()


def g_sigterm(tmp):
    for queue in ("disk", "memory"):
        s, sink, prom = setup(tmp, tmp + "/qs-" + queue, queue=queue)
        books = Books()
        stop, ts = start_clients(s, books)
        time.sleep(2)
        sink.down = True
        time.sleep(3)
        t = time.monotonic()
        s.p.send_signal(signal.SIGTERM)
        time.sleep(1)
        s.p.send_signal(signal.SIGTERM)  # a second one, as an impatient operator sends
        try:
            rc = s.p.wait(60)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t
        stop_clients(stop, ts)
        check(f"sigterm ({queue} queue, backend down): exits 0 within 60 s", rc == 0, (rc, took))
        note(f"sigterm ({queue} queue): drain took", f"{took:.1f}s, exit {rc}")
        sink.down = False
        restart(s, kill=False)
        missing, dup = delivered(sink, prom, books, f"sigterm ({queue} queue), after a restart with the backend up",
                                 wait=30 if queue == "disk" else 10, expect=queue == "disk")
        if queue == "memory":
            note("memory queue: acknowledged, then dropped by a clean stop with the backend down (README: "
                 "what a memory queue still holds at the deadline is dropped)", missing)
        s.stop(); prom.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="crashes-")
    for g in GROUPS:
        print(f"== {g}", flush=True)
        globals()["g_" + g](tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"seed {SEED}; broke:", failures if failures else "nothing")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
