"""The status page in a real browser: headless Chromium (Debian's `chromium`, driven over the
DevTools protocol on a pipe, see cdp.py) loads the page a real slotel serves after the real
Python SDK sent it spans from three clusters.

- The list shows every SLO entry and cluster with exactly the API's numbers (each cell keeps
  the API value in `data-value`; its text is that value formatted), status in words, worst
  first; the filters and the search box narrow it; it refreshes itself.
- The detail page draws its charts (SVG paths with several points, the alert thresholds, a
  text alternative each), the breakdown, every window and the definition; its screenshot is
  not blank.
- On a phone-sized screen the page does not overflow sideways.
- No request leaves the admin origin, and there is no console error, exception, failed
  load or policy violation.
- With `service.admin.auth`, the API answers 401 without the token and the page asks for
  it, then shows the SLOs; probes and `/metrics` stay open.

With SLOTEL_SCREENSHOT_DIR set, the screenshots are written there too (docs/ holds the
committed ones: `SLOTEL_SCREENSHOT_DIR=docs .venv/bin/python -m pytest
tests/python/test_status_page.py`).
"""

from __future__ import annotations

import time

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from cdp import Browser, assert_not_blank, save
from slotel_harness import Slotel
from slo_files import ERRORS, server_spans, slo_file, span_slo

SHOP_SLOS = slo_file(
    "shop",
    span_slo(
        "availability", 99, where=server_spans("shop"), bad=ERRORS, group_by=['attributes["http.route"]'],
        description="Shop requests that do not fail.",
        runbook_url="https://runbooks.example.com/shop/availability",
    ),
    span_slo("latency", 95, window="7d", where=server_spans("shop"), latency_threshold="200ms", percentiles=[50, 99]),
)

SEARCH_SLOS = slo_file(
    "search",
    span_slo("availability", 99.9, window="28d", where='resource.attributes["service.name"] == "search"', bad=ERRORS),
)

# cluster → per round (error every n-th span or 0, slow every n-th span or 0): the rates
# change from round to round, so the charts have something to show.
CLUSTERS = {
    "seoul-prod": [(0, 0)] * 4,
    "busan-prod": [(20, 4), (10, 3), (5, 2), (8, 3)],
    "tokyo-prod": [(0, 40), (150, 40), (50, 20), (150, 40)],
}
ROUTES = ["/cart", "/pay"]
ROUNDS = 4
SPANS_PER_ROUND = 60
BURN = ["5m", "1h", "6h", "1d", "3d"]
RANK = {"breaching": 0, "warning": 1, "insufficient_data": 2, "no_data": 3, "ok": 4}


def send_round(providers: dict, now_ns: int, round_: int) -> None:
    for cluster, rounds in CLUSTERS.items():
        err_every, slow_every = rounds[round_]
        tracer = providers[cluster].get_tracer("status-page-test")
        for i in range(SPANS_PER_ROUND):
            slow = slow_every and i % slow_every == 0
            end = now_ns - 1_000_000 * (i % 50)
            start = end - (350_000_000 if slow else 20_000_000)
            span = tracer.start_span(
                "GET",
                kind=SpanKind.SERVER,
                start_time=start,
                attributes={"http.route": ROUTES[i % len(ROUTES)]},
            )
            if err_every and i % err_every == 0:
                span.set_status(Status(StatusCode.ERROR))
            span.end(end_time=end)
        providers[cluster].force_flush()


ADMIN_TOKEN = "status-page-admin-token-0123"


@pytest.fixture(params=[None])
def served(request, tmp_path):
    d = tmp_path / "slos"
    d.mkdir()
    (d / "shop.yaml").write_text(SHOP_SLOS)
    (d / "search.yaml").write_text(SEARCH_SLOS)
    server = Slotel.start(
        tmp_path,
        slo_files=[str(d / "*.yaml")],
        slo_settings=["history_interval: 1s"],
        admin_token=request.param,
    )
    providers = {}
    try:
        for cluster in CLUSTERS:
            p = TracerProvider(
                resource=Resource.create(
                    {"service.name": "shop", "k8s.cluster.name": cluster}
                )
            )
            p.add_span_processor(
                BatchSpanProcessor(
                    OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)
                )
            )
            providers[cluster] = p
        # Rounds a few history steps apart, so the charts have several points with data.
        for round_ in range(ROUNDS):
            send_round(providers, time.time_ns(), round_)
            time.sleep(1.2)
        expected = ROUNDS * SPANS_PER_ROUND * len(CLUSTERS)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            all_avail = [
                s for s in server.slos()
                if s["service"] == "shop" and s["name"] == "availability" and s["cluster"] == "all"
            ]
            if all_avail and all_avail[0]["total"] == expected:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"slotel did not count {expected} spans: {server.slos()}")
        time.sleep(1.5)  # one more history step with every span counted
        yield server
    finally:
        for p in providers.values():
            p.shutdown()
        server.kill()


@pytest.fixture
def browser(tmp_path):
    b = Browser.start(tmp_path)
    yield b
    b.close()


def entry_key(s: dict) -> tuple:
    group = ", ".join(f"{k}={v}" for k, v in (s.get("group") or {}).items())
    return (s["service"], s["name"], s["cluster"], group)


ROWS_JS = """
[...document.querySelectorAll('#slos tbody tr')].map(tr => ({
  key: [tr.dataset.service, tr.dataset.slo, tr.dataset.cluster, tr.dataset.group || ''],
  cells: Object.fromEntries([...tr.querySelectorAll('[data-field]')].map(
    td => [td.dataset.field, [td.dataset.value, td.textContent]])),
}))
"""


def number(text: str) -> float:
    return float(text.replace("%", "").replace("×", "").replace(",", "").strip())


def check_row(api: dict, cells: dict) -> None:
    """Every cell holds the API's value exactly and shows it (formatted)."""
    where = entry_key(api)

    def exact(field: str, value) -> None:
        raw, text = cells[field]
        if value is None:
            assert raw == "null" and text.strip() == "—", (where, field, raw, text)
        else:
            assert float(raw) == value, (where, field, raw, value)
            return text

    status_raw, status_text = cells["status"]
    assert status_raw == api["status"], (where, status_raw, api["status"])
    # Not by colour alone: the status is written out.
    assert api["status"].replace("_", " ") in status_text, (where, status_text)
    text = exact("objective", api["objective"])
    assert abs(number(text.split("%")[0]) - api["objective"] * 100) < 1e-6, (where, text)
    sli = None if api["error_ratio"] is None else 1 - api["error_ratio"]
    text = exact("sli", sli)
    if sli is not None:
        assert abs(number(text) - sli * 100) <= 0.0005, (where, text, sli)
    text = exact("error_budget_remaining", api["error_budget_remaining"])
    if text is not None:
        assert abs(number(text) - api["error_budget_remaining"] * 100) <= 0.05, (where, text)
    for w in BURN:
        value = api["burn_rate"].get(w)
        text = exact(f"burn_rate.{w}", value)
        if text is not None:
            assert abs(number(text) - value) <= 0.05 + 0.005 * value, (where, w, text, value)
    text = exact("total", api["total"])
    assert number(text) == api["total"], (where, text)


def check_clean(tab, server: Slotel) -> None:
    origin = server.admin_url
    outside = [u for u in tab.requests() if not (u.startswith(origin + "/") or u.startswith("data:"))]
    assert not outside, f"requests outside the admin origin: {outside}"
    assert not tab.problems(), f"console errors or failed loads: {tab.problems()}"


def test_list_shows_every_slo_and_cluster_with_the_apis_numbers(served, browser, tmp_path):
    server = served
    tab = browser.page(1280, 900)
    tab.goto(f"{server.admin_url}/?refresh=1")
    before = server.slos()
    tab.wait_for(f"document.querySelectorAll('#slos tbody tr').length === {len(before)}")
    rows = tab.eval(ROWS_JS)
    after = server.slos()
    assert before == after, "the API's numbers moved while the page was read"
    api = {entry_key(s): s for s in after}
    shown = {tuple(r["key"]): r["cells"] for r in rows}
    assert set(shown) == set(api), f"missing {set(api) - set(shown)}, extra {set(shown) - set(api)}"
    for key, s in api.items():
        check_row(s, shown[key])
    # Every cluster and service is listed (and offered as a filter).
    clusters = {s["cluster"] for s in after}
    assert clusters == set(CLUSTERS) | {"all"}
    assert {r["key"][2] for r in rows} == clusters
    offered = tab.eval("[...document.querySelectorAll('#f-cluster option')].map(o => o.value)")
    assert set(offered) == clusters | {""}
    # The statuses the traffic makes, and worst first.
    statuses = {(s["service"], s["name"], s["cluster"]): s["status"] for s in after if not s.get("group")}
    assert statuses[("shop", "availability", "busan-prod")] == "breaching"
    assert statuses[("shop", "availability", "seoul-prod")] == "ok"
    assert statuses[("search", "availability", "all")] == "no_data"
    ranks = [RANK[r["cells"]["status"][0]] for r in rows]
    assert ranks == sorted(ranks), f"not worst first: {ranks}"
    summary = tab.eval("document.getElementById('summary').textContent")
    assert "1 no data" in summary, summary
    # Without slo.status_source the page says it shows this replica's share.
    source = tab.eval("document.getElementById('source').textContent")
    assert "this slotel replica" in source and "share of the traffic" in source, source
    assert tab.eval("document.querySelector('#slos th[scope=row]') !== null"), "row headers"

    png = tab.screenshot()
    assert_not_blank(png, "list")
    save(tmp_path, "status-page.png", png)

    # Filters: one cluster, then a search.
    tab.eval(
        "(() => { const s = document.getElementById('f-cluster'); s.value = 'busan-prod';"
        " s.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )
    keys = [tuple(r["key"]) for r in tab.eval(ROWS_JS)]
    assert keys and all(k[2] == "busan-prod" for k in keys), keys
    assert len(keys) == sum(1 for s in after if s["cluster"] == "busan-prod")
    assert "cluster=busan-prod" in tab.eval("location.search")
    tab.eval(
        "(() => { const q = document.getElementById('f-q'); q.value = 'LATENCY';"
        " q.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )
    keys = [tuple(r["key"]) for r in tab.eval(ROWS_JS)]
    assert keys == [("shop", "latency", "busan-prod", "")], keys

    # It refreshes itself from the API.
    fetches = lambda: sum(1 for u in tab.requests() if u == f"{server.admin_url}/api/v1/slos")  # noqa: E731
    seen = fetches()
    deadline = time.monotonic() + 10
    while fetches() < seen + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert fetches() >= seen + 2, "the page did not refresh"
    check_clean(tab, server)


def test_detail_page_draws_its_charts(served, browser, tmp_path):
    server = served
    tab = browser.page(1280, 900)
    tab.goto(f"{server.admin_url}/slo/shop/latency")
    tab.wait_for("document.querySelectorAll('figure svg path.s').length >= 4")
    charts = tab.eval(
        """[...document.querySelectorAll('figure')].map(f => ({
          caption: f.querySelector('figcaption').textContent,
          title: f.querySelector('svg title').textContent,
          desc: f.querySelector('svg desc').textContent,
          role: f.querySelector('svg').getAttribute('role'),
          paths: [...f.querySelectorAll('path.s')].map(p => (p.getAttribute('d').match(/[ML]/g) || []).length),
          thresholds: f.querySelectorAll('line.thr').length,
        }))"""
    )
    captions = [c["caption"] for c in charts]
    assert captions[:3] == [
        "SLI against the objective",
        "Error budget remaining",
        "Burn rates and alert thresholds",
    ], captions
    assert captions[3].startswith("Latency percentiles"), captions
    for c in charts:
        assert c["role"] == "img" and c["title"] and "Latest:" in c["desc"], c
        assert c["paths"] and all(n >= 3 for n in c["paths"]), f"{c['caption']}: {c['paths']}"
    hist = server.http.get(f"{server.admin_url}/api/v1/slos/shop/latency/history", timeout=5).json()
    factors = {a["factor"] for a in hist["alerts"]}
    assert factors, hist["alerts"]
    assert charts[2]["thresholds"] == len(factors), (charts[2], factors)
    assert charts[0]["thresholds"] == 1 and charts[1]["thresholds"] == 1
    # The latency chart draws one line per percentile of the SLO.
    assert len(charts[3]["paths"]) == 2
    # History points are the API's numbers at the time they were taken.
    last = {s["cluster"]: s for s in hist["series"]}["all"]
    now = [s for s in server.slos() if s["name"] == "latency" and s["cluster"] == "all"][0]
    assert last["error_budget_remaining"][-1] == now["error_budget_remaining"]

    detail = server.http.get(f"{server.admin_url}/api/v1/slos/shop/latency", timeout=5).json()
    rows = tab.eval(ROWS_JS)
    assert len(rows) == len(detail["slos"])
    for s, r in zip(sorted(detail["slos"], key=entry_key), sorted(rows, key=lambda r: tuple(r["key"]))):
        check_row(s, r["cells"])
    cards = tab.eval(
        "Object.fromEntries([...document.querySelectorAll('.card')].map(c => [c.dataset.field, c.dataset.value]))"
    )
    overall = [s for s in detail["slos"] if s["cluster"] == "all"][0]
    for field in ("objective", "error_budget_remaining", "time_to_exhaustion_seconds", "total"):
        want = overall[field]
        assert cards[field] == "null" if want is None else float(cards[field]) == want, (field, cards, want)
    windows = tab.eval("[...document.querySelectorAll('#windows tbody th')].map(t => t.textContent)")
    assert windows == [w["window"] for w in detail["slos"][0]["windows"]]
    yaml = tab.eval("document.getElementById('definition').textContent")
    assert "name: latency" in yaml and "latency_threshold: 200ms" in yaml, yaml

    png = tab.screenshot()
    assert_not_blank(png, "detail page")
    save(tmp_path, "status-page-detail.png", png)
    check_clean(tab, server)

    # A grouped SLO: its runbook link, and a chart per cluster on request.
    tab.goto(f"{server.admin_url}/slo/shop/availability")
    tab.wait_for("document.querySelectorAll('figure svg path.s').length >= 3")
    assert tab.eval("document.querySelector('a[href=\"https://runbooks.example.com/shop/availability\"]') !== null")
    tab.eval(
        "(() => { const s = document.getElementById('f-chart-cluster'); s.value = 'busan-prod';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    desc = tab.eval("document.querySelectorAll('figure svg desc')[1].textContent")
    assert "budget left -" in desc, f"busan-prod's budget is spent: {desc}"
    check_clean(tab, server)


# What sticks out of the screen, outside the containers that scroll sideways.
WIDE_JS = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 390 && !(e.parentElement && e.parentElement.closest('.scroll')))
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def test_page_fits_a_phone(served, browser, tmp_path):
    server = served
    tab = browser.page(390, 844, mobile=True)
    tab.goto(f"{server.admin_url}/")
    tab.wait_for("document.querySelectorAll('#slos tbody tr').length > 0")
    width = tab.eval("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen: {tab.eval(WIDE_JS)}"
    png = tab.screenshot()
    assert_not_blank(png, "phone")
    save(tmp_path, "status-page-phone.png", png)
    tab.goto(f"{server.admin_url}/slo/shop/availability")
    tab.wait_for("document.querySelectorAll('figure svg path.s').length >= 3")
    width = tab.eval("document.documentElement.scrollWidth")
    assert width <= 390, f"the detail page is {width}px wide on a 390px screen: {tab.eval(WIDE_JS)}"
    check_clean(tab, server)


def test_unknown_slo_says_so(served, browser):
    server = served
    tab = browser.page()
    tab.goto(f"{server.admin_url}/slo/shop/nope")
    text = tab.wait_for(
        "document.getElementById('main').textContent.includes('Could not load')"
        " && document.getElementById('main').textContent"
    )
    assert "no slo" in text, text
    # The 404 is the API's answer, not a failure of the page: it is the only problem seen.
    problems = tab.problems()
    assert all("404" in p for p in problems), problems


@pytest.mark.parametrize("served", [ADMIN_TOKEN], indirect=True)
def test_admin_token_guards_the_api_and_the_page_asks_for_it(served, browser):
    import requests

    server = served
    bare = requests.Session()
    bare.trust_env = False
    for path in ("/api/v1/slos", "/api/v1/slos/shop/latency", "/api/v1/slos/shop/latency/history"):
        r = bare.get(server.admin_url + path, timeout=5)
        assert r.status_code == 401, (path, r.status_code)
        assert r.headers["www-authenticate"].startswith("Bearer")
        r = bare.get(server.admin_url + path, headers={"Authorization": "Bearer wrong-token-of-length"}, timeout=5)
        assert r.status_code == 401, (path, r.status_code)
    for path in ("/healthz", "/readyz", "/metrics", "/"):
        assert bare.get(server.admin_url + path, timeout=5).status_code == 200, path
    assert len(server.slos()) > 0, "the harness sends the token"

    tab = browser.page()
    tab.goto(f"{server.admin_url}/")
    tab.wait_for("document.getElementById('token') !== null")
    assert "asks for a token" in tab.eval("document.getElementById('main').textContent")
    tab.eval(
        f"(() => {{ document.getElementById('token').value = {ADMIN_TOKEN!r};"
        " document.getElementById('login').requestSubmit(); })()"
    )
    time.sleep(0.5)
    tab.wait_for(f"document.querySelectorAll('#slos tbody tr').length === {len(server.slos())}")
    tab.goto(f"{server.admin_url}/slo/shop/latency")
    tab.wait_for("document.querySelectorAll('figure svg path.s').length >= 4")
    origin = server.admin_url
    assert all(u.startswith(origin + "/") for u in tab.requests()), tab.requests()
    # The first, refused, API request is the only problem.
    problems = tab.problems()
    assert problems and all("401" in p for p in problems), problems
