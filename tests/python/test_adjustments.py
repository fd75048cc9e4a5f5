"""Budget adjustments end to end, against the real binary: the REST API on the admin
listener (behind `service.admin.auth`) creates, lists and deletes adjustments, each with who
and why; they survive a restart (`slo.state_dir`) and are audited there; spans the real
Python SDK sends inside an adjusted range leave the SLO's budget and nothing else does; and
a real Prometheus receives `slotel_slo_adjustment_active` by remote write, 1 while the
adjustment exists and 0 once it is deleted. An adjustment of one cluster removes that
cluster's spans in its range only, and its gauge is 1 for that cluster only. With the rules
`slotel rules` generates loaded in that Prometheus, the recorded error ratios and budgets
leave out exactly the adjusted spans (they equal the API's), and only the clusters without
an adjustment page.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from prometheus_harness import Prometheus
from slotel_harness import Slotel, generate_rules, parse_metrics, sum_samples
from slo_files import ERRORS, slo_file, span_slo

TOKEN = "adjustments-admin-token-0123456789"

# The file's weekly window (02:00-04:00 Paris) falls three days after today, so that it
# never covers the spans a test sends now: a fixed weekday made these tests fail during
# that day's window.
RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKLY_INDEX = (datetime.now(timezone.utc).weekday() + 3) % 7
WEEKLY_DAY = RRULE_DAYS[WEEKLY_INDEX]
# Its first occurrence (2026-01-05 was a Monday).
WEEKLY_START = (datetime(2026, 1, 5) + timedelta(days=WEEKLY_INDEX)).strftime("%Y-%m-%dT02:00:00")

SLOS = slo_file(
    "checkout",
    span_slo("availability", 99, where="kind == SPAN_KIND_SERVER", bad=ERRORS),
    span_slo("latency", 99, where="kind == SPAN_KIND_SERVER", latency_threshold="250ms"),
) + f"""adjustments:
  - reason: weekly database maintenance
    rrule: FREQ=WEEKLY;BYDAY={WEEKLY_DAY};BYHOUR=2;BYMINUTE=0
    dtstart: {WEEKLY_START}
    time_zone: Europe/Paris
    duration: 2h
"""


def rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_slos(tmp_path: Path) -> Path:
    d = tmp_path / "slos"
    d.mkdir(exist_ok=True)
    (d / "checkout.yaml").write_text(SLOS)
    return d


def start(tmp_path: Path, prom: Prometheus, ports=None) -> Slotel:
    d = write_slos(tmp_path)
    return Slotel.start(
        tmp_path,
        slo_files=[str(d / "*.yaml")],
        slo_settings=[f"state_dir: {json.dumps(str(tmp_path / 'state'))}"],
        exporters=[
            "prometheusremotewrite/prom:",
            f"  endpoint: {prom.write_url}",
            "  retry_on_failure: {initial_interval: 200ms, max_interval: 2s}",
        ],
        admin_token=TOKEN,
        ports=ports,
    )


def send(server: Slotel, spans: list[tuple[int, bool]], cluster: str = "seoul-prod") -> None:
    """Server spans of `checkout` with the given end times (ns) and error flags, 10 ms long."""
    p = TracerProvider(
        resource=Resource.create({"service.name": "checkout", "k8s.cluster.name": cluster}),
        shutdown_on_exit=False,
    )
    p.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True)))
    tracer = p.get_tracer("slotel.pytest.adjustments")
    for end, error in spans:
        span = tracer.start_span("POST /pay", kind=SpanKind.SERVER, start_time=end - 10_000_000)
        if error:
            span.set_status(Status(StatusCode.ERROR, "failed"))
        span.end(end_time=end)
    p.shutdown()


def entry(server: Slotel, slo: str) -> dict:
    return next(s for s in server.slos() if s["name"] == slo and s["cluster"] == "all")


def wait(predicate, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_adjustments_through_the_api_leave_the_budget_persist_and_reach_prometheus(tmp_path, cleanup):
    prom = Prometheus.start(tmp_path)
    cleanup(prom)
    server = start(tmp_path, prom)
    cleanup(server)
    api = f"{server.admin_url}/api/v1/adjustments"
    now = datetime.now(timezone.utc)
    body = {
        "service": "checkout",
        "slos": ["availability"],
        "reason": "payment provider migration",
        "author": "alice",
        "start": rfc3339(now - timedelta(seconds=40)),
        "end": rfc3339(now + timedelta(minutes=30)),
    }

    # The admin token guards it like the rest of the SLO API.
    assert requests.post(api, json=body, timeout=5).status_code == 401
    # Who and why are required; what is invalid is said.
    for field, message in [("author", "author is required"), ("reason", "reason is required")]:
        r = server.http.post(api, json={k: v for k, v in body.items() if k != field}, timeout=5)
        assert r.status_code == 400 and message in r.json()["error"], r.text
    r = server.http.post(api, json={**body, "slos": ["availabilty"]}, timeout=5)
    assert r.status_code == 400 and "has no slo \"availabilty\"" in r.json()["error"], r.text
    bad_rule = {k: v for k, v in body.items() if k not in ("start", "end")}
    bad_rule.update(rrule="FREQ=YEARLY", dtstart="2026-01-04T02:00:00", duration="1h")
    r = server.http.post(api, json=bad_rule, timeout=5)
    assert r.status_code == 400 and "FREQ=YEARLY is not supported" in r.json()["error"], r.text
    r = server.http.post(api, data=b"x" * (17 * 1024), headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 413, r.text

    r = server.http.post(api, json=body, timeout=5)
    assert r.status_code == 201, r.text
    created = r.json()["adjustment"]
    assert r.json()["persisted"] is True
    assert created["id"].startswith("api-") and created["active"] is True
    assert created["author"] == "alice" and created["reason"] == "payment provider migration"
    ident = created["id"]

    listed = server.http.get(api, timeout=5).json()["adjustments"]
    by_source = {a["source"]: a for a in listed}
    assert set(by_source) == {"file", "api"}
    assert by_source["api"]["id"] == ident
    assert by_source["file"]["reason"] == "weekly database maintenance"
    assert by_source["file"]["next"]["start"].endswith(("T01:00:00Z", "T00:00:00Z"))  # 02:00 Paris

    # 150 spans inside the adjusted range (all errors) and 400 before it (2 errors).
    t_now = time.time_ns()
    inside = [(t_now - 30_000_000_000 + i * 100_000_000, True) for i in range(150)]
    before = [(t_now - 200_000_000_000 + i * 250_000_000, i % 200 == 0) for i in range(400)]
    send(server, inside + before)
    wait(lambda: entry(server, "latency")["total"] == 550, "all 550 spans in the latency slo")
    a = entry(server, "availability")
    assert (a["total"], a["good"]) == (400, 398)
    # 2 bad of 400 at 99%: half the budget left.
    assert abs(a["error_budget_remaining"] - 0.5) < 1e-9
    # The entry marks its active adjustment (and the file's, when it starts within 7 days).
    marks = {m["id"]: m for m in a["adjustments"]}
    assert marks[ident]["active"] is True and marks[ident]["reason"] == "payment provider migration"
    assert set(marks) <= {ident, by_source["file"]["id"]}
    assert all(m["id"] != ident for m in entry(server, "latency").get("adjustments", []))
    samples = parse_metrics(server.metrics_text())
    assert sum_samples(samples, "slotel_slo_adjusted_events_total", {"slo": "availability"}) == 150
    assert sum_samples(samples, "slotel_slo_adjustment_active", {"slo": "availability", "cluster": "all"}) == 1
    assert sum_samples(samples, "slotel_slo_adjustment_active", {"slo": "latency"}) == 0

    # Prometheus sees it by remote write, and the events without the adjusted ones.
    assert prom.wait_value('max(slotel_slo_adjustment_active{slo="availability"})', 1.0) == 1.0
    assert prom.wait_value('max(slotel_slo_adjustment_active{slo="latency"})', 0.0) == 0.0
    assert (
        prom.wait_value('sum(slotel_slo_events_total{slo="availability", cluster="all"})', 400.0)
        == 400.0
    )

    # A restart keeps it.
    ports = (server.grpc_port, server.http_port, server.admin_port)
    assert server.terminate() == 0
    server = start(tmp_path, prom, ports=ports)
    cleanup(server)
    listed = server.http.get(api, timeout=5).json()["adjustments"]
    assert [a["id"] for a in listed if a["source"] == "api"] == [ident]

    # Deleting asks who and why; a file's adjustment is changed in its file.
    file_id = by_source["file"]["id"]
    r = server.http.delete(f"{api}/{ident}", timeout=5)
    assert r.status_code == 400 and "author and reason" in r.json()["error"], r.text
    r = server.http.delete(f"{api}/{file_id}", params={"author": "bob", "reason": "x"}, timeout=5)
    assert r.status_code == 409, r.text
    r = server.http.delete(f"{api}/{ident}", params={"author": "bob", "reason": "migration done"}, timeout=5)
    assert r.status_code == 200 and r.json()["deleted"]["id"] == ident, r.text
    r = server.http.delete(f"{api}/{ident}", params={"author": "bob", "reason": "again"}, timeout=5)
    assert r.status_code == 404, r.text
    assert [a["source"] for a in server.http.get(api, timeout=5).json()["adjustments"]] == ["file"]
    assert prom.wait_value('max(slotel_slo_adjustment_active{slo="availability"})', 0.0) == 0.0

    # Still deleted after another restart; the audit log has both changes with who and why.
    assert server.terminate() == 0
    server = start(tmp_path, prom, ports=ports)
    cleanup(server)
    assert [a["source"] for a in server.http.get(api, timeout=5).json()["adjustments"]] == ["file"]
    audit = [json.loads(line) for line in (tmp_path / "state" / "adjustments-audit.jsonl").read_text().splitlines()]
    assert [(x["action"], x["id"], x["author"], x["reason"]) for x in audit] == [
        ("create", ident, "alice", "payment provider migration"),
        ("delete", ident, "bob", "migration done"),
    ]


def test_an_adjustment_of_one_cluster_leaves_the_others_counting(tmp_path, cleanup):
    prom = Prometheus.start(tmp_path)
    cleanup(prom)
    server = start(tmp_path, prom)
    cleanup(server)
    api = f"{server.admin_url}/api/v1/adjustments"
    now = datetime.now(timezone.utc)
    body = {
        "service": "checkout",
        "slos": ["availability"],
        "clusters": ["seoul-prod"],
        "reason": "seoul datacenter maintenance",
        "author": "alice",
        "start": rfc3339(now - timedelta(seconds=40)),
        "end": rfc3339(now + timedelta(minutes=30)),
    }
    r = server.http.post(api, json={**body, "clusters": ["all"]}, timeout=5)
    assert r.status_code == 400 and "roll-up" in r.json()["error"], r.text
    r = server.http.post(api, json=body, timeout=5)
    assert r.status_code == 201, r.text
    assert r.json()["adjustment"]["clusters"] == ["seoul-prod"]

    # The same spans in both clusters: 100 errors inside the range, 300 before it (3 bad).
    t_now = time.time_ns()
    inside = [(t_now - 30_000_000_000 + i * 100_000_000, True) for i in range(100)]
    before = [(t_now - 200_000_000_000 + i * 250_000_000, i % 100 == 0) for i in range(300)]
    for cluster in ("seoul-prod", "busan-prod"):
        send(server, inside + before, cluster)

    def by_cluster() -> dict:
        return {s["cluster"]: s for s in server.slos() if s["name"] == "availability" and not s.get("group")}

    wait(lambda: by_cluster().get("busan-prod", {}).get("total") == 400, "busan's 400 spans")
    wait(lambda: by_cluster()["all"]["total"] == 700, "the roll-up's 700 spans")
    got = by_cluster()
    assert (got["seoul-prod"]["total"], got["seoul-prod"]["good"]) == (300, 297), got["seoul-prod"]
    assert (got["busan-prod"]["total"], got["busan-prod"]["good"]) == (400, 297), got["busan-prod"]
    assert (got["all"]["total"], got["all"]["good"]) == (700, 594), got["all"]
    # Every entry of the SLO lists the adjustment with its clusters.
    marks = got["busan-prod"]["adjustments"]
    assert [(m["reason"], m["clusters"], m["active"]) for m in marks if m["id"].startswith("api-")] == [
        ("seoul datacenter maintenance", ["seoul-prod"], True)
    ]
    samples = parse_metrics(server.metrics_text())
    assert sum_samples(samples, "slotel_slo_adjusted_events_total", {"slo": "availability"}) == 100
    active = {
        c: sum_samples(samples, "slotel_slo_adjustment_active", {"slo": "availability", "cluster": c})
        for c in ("all", "seoul-prod", "busan-prod")
    }
    assert active == {"all": 0, "seoul-prod": 1, "busan-prod": 0}, active
    # Prometheus sees the same by remote write: the alerts of seoul-prod alone wait.
    assert prom.wait_value('max(slotel_slo_adjustment_active{slo="availability", cluster="seoul-prod"})', 1.0) == 1.0
    assert prom.wait_value('max(slotel_slo_adjustment_active{slo="availability", cluster="busan-prod"})', 0.0) == 0.0
    assert prom.wait_value('max(slotel_slo_adjustment_active{slo="availability", cluster="all"})', 0.0) == 0.0


def test_the_generated_rules_leave_out_exactly_the_adjusted_events(tmp_path, cleanup):
    # The rules of the SLO file, evaluated by the Prometheus slotel remote-writes to.
    d = write_slos(tmp_path)
    rule_file = generate_rules(d / "checkout.yaml", tmp_path / "rules")
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    prom = Prometheus.start(prom_dir, rule_files=[rule_file])
    cleanup(prom)
    server = start(tmp_path, prom)
    cleanup(server)
    now = datetime.now(timezone.utc)
    r = server.http.post(f"{server.admin_url}/api/v1/adjustments", json={
        "service": "checkout", "slos": ["availability"], "clusters": ["seoul-prod"],
        "reason": "seoul datacenter maintenance", "author": "alice",
        "start": rfc3339(now - timedelta(seconds=40)), "end": rfc3339(now + timedelta(minutes=30)),
    }, timeout=5)
    assert r.status_code == 201, r.text

    # The same spans in both clusters: 100 errors inside the range, 300 before it (3 bad).
    # Counted, seoul has 3 bad of 300 (1%, a burn rate of 1 at 99%), busan 103 of 400.
    t_now = time.time_ns()
    inside = [(t_now - 30_000_000_000 + i * 100_000_000, True) for i in range(100)]
    before = [(t_now - 200_000_000_000 + i * 250_000_000, i % 100 == 0) for i in range(300)]
    for cluster in ("seoul-prod", "busan-prod"):
        send(server, inside + before, cluster)
    want = {"seoul-prod": (300, 297), "busan-prod": (400, 297), "all": (700, 594)}

    def by_cluster() -> dict:
        return {s["cluster"]: s for s in server.slos() if s["name"] == "availability" and not s.get("group")}

    wait(lambda: by_cluster().get("busan-prod", {}).get("total") == 400, "busan's 400 spans")
    wait(lambda: by_cluster()["all"]["total"] == 700, "the roll-up's 700 spans")
    api = by_cluster()
    for cluster, (total, good) in want.items():
        assert (api[cluster]["total"], api[cluster]["good"]) == (total, good), api[cluster]

    def near(promql: str, value: float, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while True:
            got = prom.scalar(promql)
            if got is not None and got == pytest.approx(value, rel=1e-6, abs=1e-9) or time.monotonic() > deadline:
                return got
            time.sleep(0.5)

    # Prometheus, through the rules: the counters hold the counted events only, and the
    # recorded ratios and budgets are the API's.
    for cluster, (total, good) in want.items():
        sel = f'{{slo="availability", cluster="{cluster}"}}'
        assert prom.wait_value(f"sum(slotel_slo_events_total{sel})", float(total)) == total, cluster
        ratio = (total - good) / total
        for window in ("5m", "1h"):
            got = near(f"max(slo:sli_error:ratio_rate{window}{sel})", ratio)
            assert got == pytest.approx(ratio, rel=1e-9), (cluster, window, got, ratio)
        budget = api[cluster]["error_budget_remaining"]
        assert budget == pytest.approx(1 - ratio / 0.01, rel=1e-9)
        got = near(f"max(slo:period_error_budget_remaining:ratio{sel})", budget)
        assert got == pytest.approx(budget, rel=1e-6, abs=1e-9), (cluster, got, budget)

    # busan burns 25.75x its budget and the roll-up 15.1x (106 of 700): above every
    # factor (14.4, 6, 3, 1), so both page and open tickets on every pair of windows; seoul,
    # whose adjusted spans are left out (1x) and whose alerts wait during the adjustment,
    # raises none.
    def alerting() -> set:
        rows = prom.query('ALERTS{alertname="SLOErrorBudgetBurn", slo="availability", alertstate="firing"}')
        return {(x["metric"]["cluster"], x["metric"]["long_window"]) for x in rows}

    want_alerts = {(c, w) for c in ("busan-prod", "all") for w in ("1h", "6h", "1d", "3d")}
    deadline = time.monotonic() + 30
    while alerting() != want_alerts and time.monotonic() < deadline:
        time.sleep(0.5)
    assert alerting() == want_alerts, prom.query('ALERTS{slo="availability"}')
