"""Sloth's dashboards and a Pyrra SLO over what slotel writes, on a real Prometheus.

A real slotel loads tests/fixtures/sloth/slos/ (checkout fails 2% of its requests at a 99.9%
objective; catalog never fails) and remote-writes its series to a Prometheus that loads the
rules of `slotel rules --labels sloth`. Then

- every PromQL expression of Sloth's published dashboards (Grafana 14348 and 14643, listed
  in tests/fixtures/sloth/dashboard-queries.yaml) returns a non-empty result, with the value
  slotel's API gives where the query shows one (objective, SLI per window, burn rate, budget
  left, alert state, SLO and service counts);
- the Pyrra SLO of config/pyrra/checkout-availability.yaml uses only fields of Pyrra's CRD,
  and the burn-rate expression Pyrra generates from its ratio indicator gives slotel's error
  ratio.

The test Prometheus runs with a one-hour lookback so that 14348's month panels, whose
`[32d:1h]` subqueries read the rules at whole hours only, can be evaluated at the next whole
hour on the minutes of data the test has.
"""

from __future__ import annotations

import calendar
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from prometheus_harness import Prometheus
from slotel_harness import Slotel, generate_rules

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "sloth"
# Requests per service and how many fail.
TRAFFIC = {"checkout": (1000, 20), "catalog": (500, 0)}
WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]


def span_exporter(server: Slotel):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("sloth")
    slo_glob = str(FIXTURES / "slos" / "*.yaml")
    rule_file = generate_rules(slo_glob, tmp_path / "rules", labels="sloth")
    prom = Prometheus.start(tmp_path, rule_files=[rule_file], extra_args=["--query.lookback-delta=1h"])
    server = None
    try:
        server = Slotel.start(
            tmp_path,
            slo_files=[slo_glob],
            exporters=[
                "prometheusremotewrite/prom:",
                f"  endpoint: {prom.write_url}",
                "  retry_on_failure: {initial_interval: 200ms, max_interval: 2s}",
            ],
        )
        send_traffic(server)
        rows = settled_rows(server)
        # Rules evaluate every 5 s: wait for the alerts the 20x burn raises.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if prom.query('ALERTS{sloth_severity="page"}') and prom.query('ALERTS{sloth_severity="ticket"}') \
                    and len(prom.query("slo:period_error_budget_remaining:ratio")) == 2:
                break
            time.sleep(1)
        yield prom, server, rows
    finally:
        if server is not None:
            server.kill()
        prom.stop()


def send_traffic(server: Slotel) -> None:
    providers = []
    now = time.time_ns()
    for service, (n, failing) in TRAFFIC.items():
        p = TracerProvider(
            resource=Resource.create({"service.name": service, "k8s.cluster.name": "seoul"}),
            shutdown_on_exit=False,
        )
        p.add_span_processor(BatchSpanProcessor(span_exporter(server), schedule_delay_millis=200))
        tracer = p.get_tracer("slotel.pytest.sloth")
        for i in range(n):
            end = now - i * 1_000_000
            span = tracer.start_span("GET /", kind=SpanKind.SERVER, start_time=end - 5_000_000)
            if i < failing:
                span.set_status(Status(StatusCode.ERROR, "failed"))
            span.end(end_time=end)
        providers.append(p)
    for p in providers:
        assert p.force_flush()
        p.shutdown()


def settled_rows(server: Slotel) -> dict[tuple[str, str], dict]:
    """The API's `cluster="all"` entries once every request is counted."""
    deadline = time.monotonic() + 30
    while True:
        rows = {(e["service"], e["name"]): e for e in server.slos() if e["cluster"] == "all"}
        totals = {s: rows.get((s, n), {}).get("total") for s, n in (("checkout", "availability"), ("catalog", "search"))}
        if totals == {s: n for s, (n, _) in TRAFFIC.items()}:
            return rows
        assert time.monotonic() < deadline, f"the API never counted every request: {totals}"
        time.sleep(0.5)


def load_queries() -> list[dict]:
    return yaml.safe_load((FIXTURES / "dashboard-queries.yaml").read_text())["queries"]


def test_every_sloth_dashboard_query_reads_slotels_numbers(stack):
    prom, server, rows = stack
    checkout = rows[("checkout", "availability")]
    objective = checkout["objective"]
    budget = 1 - objective

    def burn(e: dict, window: str) -> float:
        value = (e.get("burn_rate") or {}).get(window)
        assert value is not None, (window, e)
        return value

    now = time.time()
    next_hour = (int(now) // 3600 + 1) * 3600
    month = datetime.fromtimestamp(next_hour, timezone.utc).month

    def checked(q: dict) -> None:
        check = q["check"]
        if check == "labels":
            r = prom.http.get(f"{prom.url}/api/v1/label/{q['label']}/values", params={"match[]": q["match"]}, timeout=10)
            assert r.status_code == 200, r.text
            assert sorted(r.json()["data"]) == sorted(q["values"]), q
            return
        expr = q["expr"].replace("${__to:date:M}", str(month))
        at = next_hour if check in ("month_budget", "ideal_month") else None
        result = prom.query(expr, at=at)
        assert result, f"empty: {q['dashboard']} panel {q['panel']}: {expr}"
        values = [float(s["value"][1]) for s in result]
        approx = lambda x: pytest.approx(x, rel=1e-6, abs=1e-9)  # noqa: E731
        if check == "objective":
            assert values == [approx(objective)]
        elif check == "one":
            assert values == [1.0]
        elif check == "burn_5m":
            assert values == [approx(burn(checkout, "5m"))]
        elif check.startswith("sli_"):
            window = check[len("sli_"):]
            assert values == [approx(1 - burn(checkout, window) * budget)]
        elif check == "budget_remaining":
            assert values == [approx(checkout["error_budget_remaining"])]
        elif check == "slo_count":
            assert values == [len(rows)]
        elif check == "service_count":
            assert values == [len({s for s, _ in rows})]
        elif check == "mean_burn_5m":
            assert values == [approx(sum(burn(e, "5m") for e in rows.values()) / len(rows))]
        elif check == "burning_only":
            got = {(s["metric"]["sloth_service"], s["metric"]["sloth_slo"]) for s in result}
            assert got == {k for k, e in rows.items() if burn(e, "5m") > 1}
        elif check == "every_slo":
            assert sorted(s["metric"]["sloth_id"] for s in result) == sorted(f"{s}-{n}" for s, n in rows)
        elif check == "month_budget":
            # One step per whole hour of this month the 1h ratio was recorded at (the next
            # hour, and the one before when the data reaches back that far).
            sel = '{sloth_service="checkout",sloth_slo="availability"}'
            steps = [prom.query(f"slo:sli_error:ratio_rate1h{sel}", at=t) for t in (next_hour, next_hour - 3600)]
            ratio_sum = sum(float(r[0]["value"][1]) for r in steps if r)
            days = calendar.monthrange(datetime.fromtimestamp(next_hour, timezone.utc).year, month)[1]
            assert values == [approx(1 - ratio_sum / (budget * 24 * days))]
        elif check == "ideal_month":
            t = datetime.fromtimestamp(next_hour, timezone.utc)
            start = datetime(t.year, t.month, 1, tzinfo=timezone.utc).timestamp()
            steps = (next_hour - start) // 3600 + 1
            days = calendar.monthrange(t.year, t.month)[1]
            assert values == [approx(1 - steps / (24 * days))]
        else:
            assert check == "nonempty", check

    failures = []
    queries = load_queries()
    for q in queries:
        try:
            checked(q)
        except AssertionError as e:
            failures.append(f"{q.get('dashboard')} {q.get('panel', q.get('variable'))} {q.get('title', '')}: {e}")
    assert not failures, "\n".join(failures)
    # Both dashboards, every panel with a query.
    assert {q["dashboard"] for q in queries} == {14348, 14643}
    assert len(queries) == 32


# The fields of Pyrra's ServiceLevelObjective CRD (pyrra.dev/v1alpha1,
# config/crd/bases/pyrra.dev_servicelevelobjectives.yaml) a ratio SLO may use.
PYRRA_FIELDS = {
    "apiVersion", "kind", "metadata", "metadata.name", "metadata.namespace", "metadata.labels",
    "spec", "spec.description", "spec.target", "spec.window", "spec.indicator",
    "spec.indicator.ratio", "spec.indicator.ratio.errors", "spec.indicator.ratio.errors.metric",
    "spec.indicator.ratio.total", "spec.indicator.ratio.total.metric", "spec.indicator.ratio.grouping",
    "spec.alerting", "spec.alerting.disabled", "spec.alerting.burnrates", "spec.alerting.absent",
    "spec.alerting.name", "spec.alerting.absentName",
}


def field_paths(doc, prefix: str = "") -> set[str]:
    out = set()
    for k, v in doc.items():
        path = f"{prefix}{k}"
        out.add(path)
        if isinstance(v, dict) and path != "metadata.labels":
            out |= field_paths(v, path + ".")
    return out


def test_pyrra_ratio_slo_over_slotel_events_gives_slotels_error_ratio(stack):
    prom, server, rows = stack
    doc = yaml.safe_load((ROOT / "config" / "pyrra" / "checkout-availability.yaml").read_text())
    assert doc["apiVersion"] == "pyrra.dev/v1alpha1" and doc["kind"] == "ServiceLevelObjective"
    assert field_paths(doc) <= PYRRA_FIELDS, field_paths(doc) - PYRRA_FIELDS
    spec = doc["spec"]
    # Pyrra's target is a string percentage and its window a Prometheus duration.
    assert isinstance(spec["target"], str) and isinstance(spec["window"], str)
    checkout = rows[("checkout", "availability")]
    assert float(spec["target"]) / 100 == pytest.approx(checkout["objective"])
    assert spec["window"] == "30d"
    errors = spec["indicator"]["ratio"]["errors"]["metric"]
    total = spec["indicator"]["ratio"]["total"]["metric"]
    grouping = spec["indicator"]["ratio"].get("grouping") or []
    by = f" by ({', '.join(sorted(grouping))})" if grouping else ""
    for window in ("5m", "30m", "1h"):
        # Pyrra's burn-rate recording of a ratio indicator (slo/rules.go, Objective.Burnrate):
        # sum by (grouping) (rate(errors[w])) / sum by (grouping) (rate(total[w])).
        expr = f"sum{by} (rate({errors}[{window}])) / sum{by} (rate({total}[{window}]))"
        result = prom.query(expr)
        assert len(result) == 1, (expr, result)
        want = checkout["burn_rate"][window] * (1 - checkout["objective"])
        assert float(result[0]["value"][1]) == pytest.approx(want, rel=1e-6), (window, expr)
        # The same as the recording `slotel rules` writes for that window.
        recorded = prom.query(f'slo:sli_error:ratio_rate{window}{{sloth_service="checkout",sloth_slo="availability"}}')
        assert float(recorded[0]["value"][1]) == pytest.approx(want, rel=1e-6)
