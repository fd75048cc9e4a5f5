"""OTLP/HTTP from a web page in a real browser: headless Chromium (see cdp.py) loads a page
from one origin and `fetch`es an OTLP/JSON span, with a bearer token, to slotel's OTLP/HTTP
listener (another origin: another port). The JSON content type and the `Authorization`
header make the browser send a CORS preflight first, and enforce its answer.

- From an origin listed in `receivers.otlp.protocols.http.cors.allowed_origins`: the
  preflight passes, the POST is accepted (200, readable by the page) and the span exported.
- From an origin that is not listed (`localhost` instead of `127.0.0.1`): the browser
  refuses the request, and nothing reaches the exporter.
- A refusal (no token) from a listed origin is readable by the page: 401.
"""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest

from cdp import Browser
from slotel_harness import Slotel, free_port, read_export_file

TOKEN = "browser-token-0123"
SPAN = {
    "resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174",
            "name": "documentLoad",
            "kind": 1,
            "startTimeUnixNano": str(time.time_ns() - 10_000_000),
            "endTimeUnixNano": str(time.time_ns()),
        }]}],
    }]
}


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>shop</title><p>shop</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def page_port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def browser(tmp_path):
    b = Browser.start(tmp_path)
    yield b
    b.close()


def send_from_page(tab, url: str, token: str | None) -> str:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return tab.eval(
        f"fetch({json.dumps(url)}, {{method: 'POST', headers: {json.dumps(headers)}, "
        f"body: {json.dumps(json.dumps(SPAN))}}})"
        ".then(r => r.text().then(t => r.status + ' ' + t))"
        ".catch(e => 'blocked: ' + e)"
    )


def test_a_listed_origin_sends_and_others_are_blocked(tmp_path, page_port, browser):
    origin = f"http://127.0.0.1:{page_port}"
    server = Slotel.start(
        tmp_path,
        auth_tokens=[{"token": TOKEN, "tenant": "web"}],
        http_settings=f'cors: {{allowed_origins: ["{origin}"], allowed_headers: [Authorization]}}',
    )
    try:
        url = server.http_endpoint("traces")
        tab = browser.page()

        tab.goto(f"http://localhost:{page_port}/")
        assert send_from_page(tab, url, TOKEN).startswith("blocked: TypeError")
        time.sleep(0.5)
        assert list(read_export_file(server.out_path).spans()) == []

        tab.goto(f"{origin}/")
        assert send_from_page(tab, url, TOKEN) == "200 {}"
        assert send_from_page(tab, url, None).startswith("401 ")
        deadline = time.monotonic() + 10
        while not list(read_export_file(server.out_path).spans()):
            assert time.monotonic() < deadline, "the span was not exported"
            time.sleep(0.1)
        [(resource, _, span)] = list(read_export_file(server.out_path).spans())
        assert resource["service.name"] == "web"
        assert span["name"] == "documentLoad"
    finally:
        server.kill()
