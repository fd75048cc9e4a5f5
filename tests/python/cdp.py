"""A headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
commands on fd 3, answers and events on fd 4, each message JSON ended by a NUL byte), so the
status-page tests need no websocket client and no browser-automation package.

- `Browser.start(tmp_path)` launches Debian's `chromium` (fails, never skips, when absent).
- `browser.page()` opens a tab with the Network, Runtime, Log and Page domains on; a `Tab`
  records every request it makes, console messages, exceptions and log entries.
- `tab.goto(url)`, `tab.eval(js)`, `tab.wait_for(js)`, `tab.screenshot()` (PNG bytes).
- `png_pixels(data)` decodes an 8-bit, non-interlaced PNG (as Chromium writes them) into
  rows of pixel tuples; `assert_not_blank(png, what)` checks that a screenshot is not blank.
- `save(tmp_path, name, png)` keeps a screenshot in `tmp_path`, and with
  SLOTEL_SCREENSHOT_DIR set there too (docs/ holds the committed ones).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import struct
import subprocess
import threading
import time
import zlib
from pathlib import Path

TIMEOUT_S = 30.0


def chromium_path() -> str:
    for name in (os.environ.get("SLOTEL_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise RuntimeError(
        "headless Chromium is missing: the status page tests need Debian's `chromium` package "
        "(`bash scripts/test.sh` installs it; or `apt-get install chromium`), or set "
        "SLOTEL_CHROMIUM to a Chromium binary"
    )


def _above_ten(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Browser:
    def __init__(self, proc, to_browser: int, from_browser: int, log_path: Path):
        self.proc = proc
        self._out = os.fdopen(to_browser, "wb", buffering=0)
        self._in = os.fdopen(from_browser, "rb", buffering=0)
        self.log_path = log_path
        self._next = 0
        self._lock = threading.Lock()
        self._answers: dict[int, dict] = {}
        self._cond = threading.Condition()
        self._events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, tmp_path: Path) -> "Browser":
        binary = chromium_path()
        profile = tmp_path / "chromium-profile"
        profile.mkdir(exist_ok=True)
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # The browser's ends move to fds of 10 and up, so that mapping them onto 3 and 4
        # cannot close one of them.
        to_r, from_w = _above_ten(to_r), _above_ten(from_w)
        args = [
            binary,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-gpu",
            "--mute-audio",
            "--hide-scrollbars",
            "--font-render-hinting=none",
            "--window-size=1280,900",
            "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        log_path = tmp_path / "chromium.log"
        log = open(log_path, "wb")
        # fds 3 and 4 of the browser are the pipe ends; bash maps them (dash takes one-digit fds only).
        proc = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{to_r} 4>&{from_w} {to_r}<&- {from_w}>&-', "bash", *args],
            pass_fds=(to_r, from_w),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        os.close(to_r)
        os.close(from_w)
        return cls(proc, to_w, from_r, log_path)

    def _read(self) -> None:
        buf = b""
        while True:
            chunk = self._in.read(65536)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                with self._cond:
                    if "id" in msg:
                        self._answers[msg["id"]] = msg
                    else:
                        self._events.append(msg)
                    self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        with self._lock:
            self._next += 1
            ident = self._next
        msg = {"id": ident, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._out.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        with self._cond:
            while ident not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"no answer to {method}: {self.log_text()}")
                self._cond.wait(min(left, 0.5))
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def events(self, session: str | None = None) -> list[dict]:
        with self._cond:
            return [e for e in self._events if session is None or e.get("sessionId") == session]

    def wait_event(self, method: str, session: str, since: int) -> dict:
        deadline = time.monotonic() + TIMEOUT_S
        with self._cond:
            while True:
                for e in self._events[since:]:
                    if e.get("method") == method and e.get("sessionId") == session:
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no {method} within {TIMEOUT_S}s")
                self._cond.wait(min(left, 0.5))

    def event_count(self) -> int:
        with self._cond:
            return len(self._events)

    def page(self, width: int = 1280, height: int = 900, mobile: bool = False) -> "Tab":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
            session=session,
        )
        return Tab(self, session)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in (self._out, self._in):
            try:
                f.close()
            except OSError:
                pass


class Tab:
    def __init__(self, browser: Browser, session: str):
        self.browser = browser
        self.session = session

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def goto(self, url: str) -> None:
        since = self.browser.event_count()
        self.send("Page.navigate", {"url": url})
        self.browser.wait_event("Page.loadEventFired", self.session, since)

    def eval(self, expression: str):
        r = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.eval(expression)
            except RuntimeError:
                value = None  # a navigation under way
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout}s: {expression}")
            time.sleep(0.1)

    def screenshot(self) -> bytes:
        r = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        return base64.b64decode(r["data"])

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.browser.events(self.session)
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and error or warning log
        entries (failed loads, policy violations)."""
        out = []
        for e in self.browser.events(self.session):
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif m == "Runtime.exceptionThrown":
                out.append(f"exception: {p.get('exceptionDetails')}")
            elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                out.append(f"log {p['entry'].get('source')}: {p['entry'].get('text')}")
        return out


def png_pixels(data: bytes) -> list[list[tuple]]:
    """Rows of pixels of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unsupported PNG {header}"
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[x * bpp : x * bpp + 3]) for x in range(width)])
        prev = line
    return rows


def shots_dir(tmp_path: Path) -> list[Path]:
    dirs = [tmp_path]
    if os.environ.get("SLOTEL_SCREENSHOT_DIR"):
        d = Path(os.environ["SLOTEL_SCREENSHOT_DIR"])
        d.mkdir(parents=True, exist_ok=True)
        dirs.append(d)
    return dirs


def save(tmp_path: Path, name: str, png: bytes) -> None:
    for d in shots_dir(tmp_path):
        (d / name).write_bytes(png)


def assert_not_blank(png: bytes, what: str) -> None:
    rows = png_pixels(png)
    pixels = [p for row in rows[::4] for p in row[::4]]
    background = max(set(pixels), key=pixels.count)
    other = sum(1 for p in pixels if p != background) / len(pixels)
    colours = len(set(pixels))
    assert other > 0.03 and colours > 20, f"{what} looks blank: {other:.1%} non-background, {colours} colours"
