#!/usr/bin/env python3
"""Shared by the attack scripts: starts slotel (tokens on, the example SLOs, the orders log SLOs
and hostile-slos.yaml), reads its VmHWM/VmRSS and probes /healthz every 50 ms."""
import gzip, http.server, os, sys, time, json, socket, subprocess, threading, tempfile, urllib.parse, urllib.request, statistics
HERE = os.path.dirname(os.path.abspath(__file__))

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

class Slotel:
    def __init__(self, binary, extra_slo_files=(), capture=False, state=False, redaction=False, extra_cfg="",
                 exporters="", pipelines=None, service="", log_level="warn", env=None, slo_extra=None):
        """`exporters`: YAML lines added under `exporters:`; `pipelines`: signal -> exporter
        names (default `nop` for each); `service`: YAML lines added under `service:`; `state`:
        True for `<dir>/state` or a path; `slo_extra`: more `slo:` keys."""
        pipes = {"traces": ["nop"], "metrics": ["nop"], "logs": ["nop"]}
        pipes.update(pipelines or {})
        self.dir = tempfile.mkdtemp(prefix="h24-")
        self.grpc, self.http, self.admin = free_port(), free_port(), free_port()
        files = ["embedded:examples", os.path.join(HERE, "../../config/examples/logs/app.yaml")] + list(extra_slo_files)
        slo = {"files": files}
        if capture: slo["capture"] = {"directory": self.dir + "/capture"}
        if state: slo["state_dir"] = state if isinstance(state, str) else self.dir + "/state"
        slo.update(slo_extra or {})
        cfg = f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{self.grpc}}}
      http: {{endpoint: 127.0.0.1:{self.http}}}
    auth: {{tokens: [{{token: tok-a, tenant: t, cluster: a}}, {{token: tok-u, tenant: u}}]}}
exporters:
  nop:
{exporters}slo: {json.dumps(slo)}
{extra_cfg}service:
  admin: {{endpoint: 127.0.0.1:{self.admin}}}
  telemetry: {{logs: {{level: {json.dumps(log_level)}}}}}
{service}  pipelines:
""" + "".join(f"    {k}: {{exporters: {json.dumps(v)}}}\n" for k, v in pipes.items())
        self.cfg = self.dir + "/slotel.yaml"
        open(self.cfg, "w").write(cfg)
        self.log = open(self.dir + "/log", "w")
        self.p = subprocess.Popen([binary, "--config", self.cfg], stdout=self.log, stderr=subprocess.STDOUT,
                                  env=dict(os.environ, **(env or {})))
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/healthz", timeout=1).read(); break
            except Exception:
                if self.p.poll() is not None:
                    raise SystemExit("slotel exited: " + open(self.dir + "/log").read())
                time.sleep(0.05)
    def status(self, f):
        for l in open(f"/proc/{self.p.pid}/status"):
            if l.startswith(f): return int(l.split()[1])
    def hwm(self): return self.status("VmHWM:")
    def rss(self): return self.status("VmRSS:")
    def alive(self): return self.p.poll() is None
    def stop(self):
        self.p.terminate()
        try: self.p.wait(10)
        except Exception: self.p.kill()

def post(url, body, headers=None, timeout=60, method="POST"):
    h = {"content-type": "application/json", "authorization": "Bearer tok-u"}
    if headers: h.update(headers)
    return fetch(urllib.request.Request(url, data=body, headers=h, method=method), timeout)

def get(url, timeout=120, headers=None):
    return fetch(urllib.request.Request(url, headers=headers or {}), timeout)

def fetch(req, timeout):
    """(status or None, body or the error, seconds taken)."""
    t = time.monotonic()
    try:
        r = urllib.request.urlopen(req, timeout=timeout); data = r.read(); code = r.status
    except urllib.error.HTTPError as e:
        data = e.read(); code = e.code
    except Exception as e:
        return None, str(e).encode(), time.monotonic() - t
    return code, data, time.monotonic() - t

class Prober:
    def __init__(self, s):
        self.s, self.stop_ = s, False; self.lat = []; self.fail = 0
        self.t = threading.Thread(target=self.run, daemon=True); self.t.start()
    def run(self):
        self.peak = 0
        while not self.stop_:
            try:
                r = self.s.rss(); self.peak = max(self.peak, r)
                if r > 6 * 1024 * 1024:
                    print("WATCHDOG: RSS", r, "KiB > 6 GiB, killing", flush=True); self.s.p.kill(); self.killed = True
            except Exception:
                pass
            t = time.monotonic()
            try:
                c = socket.create_connection(("127.0.0.1", self.s.admin), timeout=10)
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                c.recv(100); c.close()
                self.lat.append(time.monotonic() - t)
            except Exception:
                self.fail += 1
            time.sleep(0.05)
    def done(self):
        self.stop_ = True; self.t.join()
        l = sorted(self.lat)
        p95 = l[int(len(l) * 0.95) - 1] if l else float("nan")
        return {"peak_rss_seen": self.peak, "probes": len(l), "fail": self.fail, "p95_ms": round(p95 * 1000, 1), "max_ms": round(l[-1]*1000, 1) if l else None}

def now_ns(): return time.time_ns()


# What the attack scripts found broken (`check`) and observed (`note`), printed as they go.
failures = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "BROKE ") + name + ("" if ok else ": " + str(detail)[:700]), flush=True)
    if not ok:
        failures.append(name)


def note(name, detail):
    print("note  " + name + ": " + str(detail)[:900], flush=True)


def limit_as():
    """A child's address space capped at 6 GiB: past it an allocation fails (and is seen)."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


def watch(args, timeout, stdin=None):
    """Runs ARGS with 6 GiB of address space for at most `timeout` seconds (then killed),
    reading its peak RSS (VmHWM) every 20 ms. Returns (exit code, timed out, seconds, peak
    KiB, stderr lines but the pipelines warning)."""
    t = time.monotonic()
    err = tempfile.TemporaryFile()
    p = subprocess.Popen(args, stdin=stdin or subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=err, preexec_fn=limit_as)
    peak, timed_out = 0, False
    while p.poll() is None:
        try:
            for l in open(f"/proc/{p.pid}/status"):
                if l.startswith("VmHWM:"): peak = max(peak, int(l.split()[1]))
        except Exception: pass
        if time.monotonic() - t > timeout:
            timed_out = True; p.kill(); p.wait(); break
        time.sleep(0.02)
    dt = time.monotonic() - t
    err.seek(0)
    lines = [l for l in err.read().decode("utf-8", "replace").splitlines()
             if l.strip() and "warning: service.pipelines" not in l]
    return p.returncode, timed_out, dt, peak, lines


# ---------------------------------------------------------------- backends

class Sink:
    """An OTLP/HTTP (and Loki) backend that keeps (path, headers, body) of every request;
    while `down`, it answers 503 and keeps nothing."""
    def __init__(self):
        self.requests = []
        self.down = False
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n)
                if sink.down:
                    self.send_response(503); self.send_header("content-length", "0"); self.end_headers()
                    return
                enc = (self.headers.get("content-encoding") or "").lower()
                if enc == "gzip":
                    body = gzip.decompress(body)
                elif enc == "zstd":
                    import zstandard
                    body = zstandard.ZstdDecompressor().decompress(body, max_output_size=1 << 28)
                sink.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200); self.send_header("content-length", "0"); self.end_headers()

            def log_message(self, *a):
                pass
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def bodies(self, path):
        return [(h, b) for p, h, b in self.requests if p.endswith(path)]


class Prometheus:
    def __init__(self, tmp):
        self.port = free_port()
        os.makedirs(tmp, exist_ok=True)
        cfg = os.path.join(tmp, "prom.yml")
        open(cfg, "w").write("global: {scrape_interval: 1h}\n")
        self.p = subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/prom",
                                   f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver",
                                   "--enable-feature=native-histograms"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if get(f"http://127.0.0.1:{self.port}/-/ready", timeout=2)[0] == 200:
                break
            time.sleep(0.2)

    def query(self, q):
        c, d, _ = get(f"http://127.0.0.1:{self.port}/api/v1/query?query=" + urllib.parse.quote(q))
        return json.loads(d)["data"]["result"] if c == 200 else None

    def stop(self):
        self.p.terminate(); self.p.wait()


def restart(s, binary, kill=False):
    """Stops `s` (SIGTERM, or SIGKILL with `kill`) and starts `binary` again on its config,
    appending to its log."""
    if kill:
        s.p.kill(); s.p.wait()
    else:
        s.stop()
    s.log = open(s.dir + "/log", "a")
    s.p = subprocess.Popen([binary, "--config", s.cfg], stdout=s.log, stderr=subprocess.STDOUT)
    for _ in range(400):
        if get(f"http://127.0.0.1:{s.admin}/healthz", timeout=1)[0] == 200:
            return
        time.sleep(0.05)
    raise SystemExit("slotel did not come back: " + open(s.dir + "/log").read()[-2000:])
