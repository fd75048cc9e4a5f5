"""Remote write keeps up: SLO series of many groups reach a real Prometheus on time.

- 120 groups of one SLO make over 5,000 SLO series points every export at
  `slo.export_interval: 1s`. For a sustained minute under traffic, the newest sample of
  every `slotel_slo_events_total` series in Prometheus must lag now by at most a few
  intervals (10 s: a debug build on a busy 2-core machine; `slo_series_backlog` of about
  three snapshots) and not grow, and once traffic stops the counts must equal
  `/api/v1/slos`.
- A backend slower than the series arrive (every request takes 400 ms) makes slotel drop
  the oldest unsent snapshots: `slotel_exporter_dropped_items_total{reason="superseded"}`
  rises, slotel says so at WARN with the samples still waiting (never more than the
  backlog), its memory stays flat, and it keeps delivering.

A missing `prometheus` binary fails the test (prometheus_harness.prometheus_bin).
"""

from __future__ import annotations

import http.server
import json
import random
import threading
import time
from pathlib import Path

import requests

from prometheus_harness import Prometheus
from slotel_harness import Slotel, entry_labels, parse_metrics, sum_samples
from slo_files import ERRORS, server_spans, slo_file, span_slo

GROUPS = 120
EXPORTER = "prometheusremotewrite/prom"


def write_slos(tmp_path: Path) -> list[str]:
    d = tmp_path / "slos"
    d.mkdir(exist_ok=True)
    (d / "slos.yaml").write_text(
        slo_file(
            "shop",
            span_slo(
                "avail",
                99,
                where=server_spans("shop"),
                bad=ERRORS,
                latency_threshold="250ms",
                group_by=['attributes["tenant"]'],
                max_groups=GROUPS + 10,
            ),
        )
    )
    return [str(d / "*.yaml")]


def spans(rng: random.Random, start: int, n: int) -> dict:
    """`n` server spans of tenants `start`, `start + 1`, … (mod GROUPS), ended just now."""
    now = time.time_ns()
    out = []
    for i in range(n):
        end = now - rng.randint(1, 200) * 1_000_000
        out.append(
            {
                "traceId": f"{rng.getrandbits(128):032x}",
                "spanId": f"{rng.getrandbits(64):016x}",
                "name": "GET /",
                "kind": 2,
                "startTimeUnixNano": str(end - rng.randint(1, 400) * 1_000_000),
                "endTimeUnixNano": str(end),
                "attributes": [{"key": "tenant", "value": {"stringValue": f"t{(start + i) % GROUPS}"}}],
                "status": {"code": 2 if rng.random() < 0.02 else 0},
            }
        )
    resource = [
        {"key": "service.name", "value": {"stringValue": "shop"}},
        {"key": "k8s.cluster.name", "value": {"stringValue": "seoul"}},
    ]
    return {"resourceSpans": [{"resource": {"attributes": resource}, "scopeSpans": [{"spans": out}]}]}


class Traffic:
    """Spans for every group, 600 every 0.25 s, until stopped."""

    def __init__(self, server: Slotel):
        self.server = server
        self.stop = threading.Event()
        self.sent = 0
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        rng = random.Random(25)
        http = requests.Session()
        http.trust_env = False
        while not self.stop.is_set():
            r = http.post(self.server.http_endpoint("traces"), json=spans(rng, self.sent, 600), timeout=30)
            if r.status_code != 200:
                self.errors.append(f"{r.status_code} {r.text[:200]}")
            else:
                self.sent += 600
            time.sleep(0.25)

    def __enter__(self) -> "Traffic":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def exporter_counter(server: Slotel, name: str, **labels: str) -> float:
    return sum_samples(parse_metrics(server.metrics_text()), name, {"exporter": EXPORTER, **labels})


def test_slo_series_of_many_groups_reach_prometheus_within_a_few_intervals(tmp_path, cleanup):
    prom = Prometheus.start(tmp_path)
    cleanup(prom)
    server = Slotel.start(
        tmp_path,
        slo_files=write_slos(tmp_path),
        exporters=[
            f"{EXPORTER}:",
            f"  endpoint: {prom.write_url}",
            "  replica: r1",
            # About three snapshots may wait: what bounds the lag when sending is slower
            # than the series arrive (a debug build on a busy machine).
            "  slo_series_backlog: 20000",
        ],
    )
    cleanup(server)
    lags: list[float] = []
    with Traffic(server) as traffic:
        time.sleep(15)
        deadline = time.time() + 60
        while time.time() < deadline:
            time.sleep(5)
            # The oldest of the newest samples over every group's events counter: every
            # shard must be on time, not only one.
            r = prom.query('time() - min(timestamp(slotel_slo_events_total{slo="avail"}))')
            assert r, "no slotel_slo_events_total in Prometheus"
            lags.append(float(r[0]["value"][1]))
        assert not traffic.errors, traffic.errors[:3]
    points = float(prom.query('count({__name__=~"slotel_slo_.+", slo="avail"})')[0]["value"][1])
    assert points >= 5000, f"only {points} SLO series points per export"
    # A few intervals: the export interval, the engine's collection of the snapshot (the
    # most of it in a debug build on a busy 2-core machine) and the sending; a lag that
    # grows over the minute would pass this bound within seconds.
    assert max(lags) <= 10.0, f"remote write lagged: {lags}"
    assert lags[-1] <= 10.0 and max(lags[len(lags) // 2 :]) <= max(lags[: len(lags) // 2]) + 2, lags
    # Nothing refused or given up; only superseded snapshots may have been dropped.
    dropped = exporter_counter(server, "slotel_exporter_dropped_items_total")
    assert dropped == exporter_counter(
        server, "slotel_exporter_dropped_items_total", reason="superseded"
    ), dropped
    assert exporter_counter(server, "slotel_exporter_delivered_items_total") >= 60 * 5000
    # With traffic stopped, Prometheus converges on the API's counts, group by group.
    time.sleep(3)
    entries = [e for e in server.slos() if e["name"] == "avail" and e.get("group")]
    assert len(entries) == GROUPS, len(entries)

    def prom_counts() -> dict[tuple[str, str], tuple[float, float]]:
        out: dict[tuple[str, str], list[float]] = {}
        for outcome in ("good", "bad"):
            q = f'slotel_slo_events_total{{slo="avail",outcome="{outcome}"}}'
            for row in prom.query(q):
                m = row["metric"]
                if "tenant" in m:
                    key = (m["cluster"], m["tenant"])
                    out.setdefault(key, [0.0, 0.0])[outcome == "bad"] = float(row["value"][1])
        return {k: (v[0], v[1]) for k, v in out.items()}

    want = {}
    for e in entries:
        labels = entry_labels(e)
        want[(labels["cluster"], labels["tenant"])] = (float(e["good"]), float(e["total"] - e["good"]))
    assert len(want) == GROUPS
    deadline = time.monotonic() + 30
    got = prom_counts()
    while got != want and time.monotonic() < deadline:
        time.sleep(1)
        got = prom_counts()
    assert got == want, {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}


class SlowBackend:
    """Answers every remote-write request with 204 after `delay` seconds, one at a time
    per connection; remembers the newest sample timestamp it saw."""

    def __init__(self, delay: float):
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("content-length", "0"))
                self.rfile.read(n)
                time.sleep(delay)
                backend.requests += 1
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.requests = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/write"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_slow_backend_makes_slotel_drop_the_oldest_snapshots_in_bounded_memory(tmp_path, cleanup):
    backend = SlowBackend(0.4)
    cleanup(backend)
    server = Slotel.start(
        tmp_path,
        slo_files=write_slos(tmp_path),
        exporters=[
            f"{EXPORTER}:",
            f"  endpoint: {backend.url}",
            "  replica: r1",
            "  max_samples_per_request: 500",
            "  slo_series_shards: 2",
            "  slo_series_backlog: 20000",
        ],
    )
    cleanup(server)
    rss: list[float] = []
    superseded: list[float] = []
    with Traffic(server) as traffic:
        for _ in range(8):
            time.sleep(5)
            rss.append(rss_mb(server.proc.pid))
            superseded.append(
                exporter_counter(server, "slotel_exporter_dropped_items_total", reason="superseded")
            )
        assert not traffic.errors, traffic.errors[:3]
    # Over 5,000 points a second against 2 × 500 samples per 0.4 s: the lane drops.
    assert superseded[-1] > superseded[1] > 0, superseded
    # Each WARN says how many samples still wait: never more than the backlog.
    warns = [
        json.loads(line)
        for line in server.log_text().splitlines()
        if "older snapshots dropped" in line
    ]
    assert warns, server.log_text()[-2000:]
    assert all(0 < w["waiting"] <= 20000 for w in warns), warns
    # Memory: no growth after the first seconds, beyond the allocator's swings.
    assert max(rss[4:]) <= max(rss[:4]) + 32, rss
    assert exporter_counter(server, "slotel_exporter_delivered_items_total") > 0
    assert backend.requests > 0
