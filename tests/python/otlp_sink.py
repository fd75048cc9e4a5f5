"""Independent backends for slotel's exporters, built only from the `opentelemetry-proto`
package's generated messages and stubs, grpcio, the standard library's `http.server`, the
`protobuf` runtime and `cramjam` (snappy): nothing here shares code with slotel.

- `GrpcSink`: an OTLP/gRPC server (trace, metrics and logs services) that records every
  request: signal, item count, tenant header, the span ids it carried. It can answer a
  number of calls with an error code first, or answer with a partial success.
- `ByteCounter`: a TCP proxy that counts the bytes the client sent, to see compression on
  the wire (grpcio does not show a call's `grpc-encoding` to the servicer).
- `HttpSink`: an OTLP/HTTP server (`/v1/traces|metrics|logs`, protobuf, gzip/zstd bodies)
  with the same recording and failure script, that also takes Loki pushes
  (`/loki/api/v1/push`, protobuf + snappy), decoded with a descriptor written here from
  the field numbers of Loki's push.proto.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cramjam
import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

TENANT_HEADER = "x-scope-orgid"


@dataclass
class Received:
    """One export request as the sink saw it."""

    signal: str  # traces | metrics | logs | loki
    items: int
    tenant: str | None
    encoding: str | None  # content/grpc encoding the request arrived with
    content_type: str | None = None
    path: str | None = None
    span_ids: list[bytes] = field(default_factory=list)
    message: object = None  # the decoded request


def count_items(signal: str, req) -> int:
    if signal == "traces":
        return sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
    if signal == "logs":
        return sum(len(sl.log_records) for rl in req.resource_logs for sl in rl.scope_logs)
    n = 0
    for rm in req.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                if kind:
                    n += len(getattr(m, kind).data_points)
    return n


def span_ids(req) -> list[bytes]:
    return [s.span_id for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]


class _Recorder:
    """What both sinks share: the list of requests and the failure script."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.failures_left = 0
        self.failing = False  # answer every call with a retryable error while set
        self.failed_calls = 0
        self.rejected_per_request = 0  # partial success: items rejected in each answer

    def fail_next(self, n: int) -> None:
        with self.lock:
            self.failures_left = n

    def _should_fail(self) -> bool:
        with self.lock:
            if self.failing:
                self.failed_calls += 1
                return True
            if self.failures_left > 0:
                self.failures_left -= 1
                self.failed_calls += 1
                return True
            return False

    def _record(self, r: Received) -> None:
        with self.lock:
            self.requests.append(r)

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    def items(self, signal: str, tenant: str | None = ...) -> int:
        return sum(
            r.items
            for r in self.snapshot()
            if r.signal == signal and (tenant is ... or r.tenant == tenant)
        )

    def wait_items(self, signal: str, expected: int, timeout: float = 20.0, **kw) -> int:
        deadline = time.monotonic() + timeout
        n = self.items(signal, **kw)
        while n < expected and time.monotonic() < deadline:
            time.sleep(0.05)
            n = self.items(signal, **kw)
        return n

    def all_span_ids(self) -> list[bytes]:
        return [i for r in self.snapshot() for i in r.span_ids]


# -- gRPC ----------------------------------------------------------------------------------


class GrpcSink(_Recorder):
    """An OTLP/gRPC server on 127.0.0.1."""

    def __init__(
        self,
        port: int = 0,
        fail_code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE,
        tls: tuple[bytes, bytes] | None = None,
    ) -> None:
        """`tls`: (private key PEM, certificate chain PEM) to serve TLS instead of plaintext."""
        super().__init__()
        self.fail_code = fail_code
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        sink = self

        def handler(signal, response_cls, partial_cls, rejected_field):
            def export(request, context):
                if sink._should_fail():
                    context.abort(sink.fail_code, "sink told to fail")
                md = dict(context.invocation_metadata())
                sink._record(
                    Received(
                        signal=signal,
                        items=count_items(signal, request),
                        tenant=md.get(TENANT_HEADER),
                        encoding=md.get("grpc-encoding"),
                        span_ids=span_ids(request) if signal == "traces" else [],
                        message=request,
                    )
                )
                if sink.rejected_per_request:
                    partial = partial_cls(error_message="sink rejects some")
                    setattr(partial, rejected_field, sink.rejected_per_request)
                    return response_cls(partial_success=partial)
                return response_cls()

            return export

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            Export = staticmethod(
                handler(
                    "traces",
                    trace_service_pb2.ExportTraceServiceResponse,
                    trace_service_pb2.ExportTracePartialSuccess,
                    "rejected_spans",
                )
            )

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            Export = staticmethod(
                handler(
                    "metrics",
                    metrics_service_pb2.ExportMetricsServiceResponse,
                    metrics_service_pb2.ExportMetricsPartialSuccess,
                    "rejected_data_points",
                )
            )

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            Export = staticmethod(
                handler(
                    "logs",
                    logs_service_pb2.ExportLogsServiceResponse,
                    logs_service_pb2.ExportLogsPartialSuccess,
                    "rejected_log_records",
                )
            )

        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self.server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self.server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), self.server)
        if tls:
            creds = grpc.ssl_server_credentials([tls])
            self.port = self.server.add_secure_port(f"127.0.0.1:{port}", creds)
        else:
            self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.server.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop(grace=None)


class ByteCounter:
    """Forwards 127.0.0.1:<port> to `target` and counts the bytes sent upstream."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.upstream_bytes = 0
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while data := src.recv(65536):
                if count:
                    with self.lock:
                        self.upstream_bytes += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self.closed = True
        self.listener.close()


# -- HTTP (OTLP and Loki) ------------------------------------------------------------------


def _loki_classes():
    """PushRequest from a descriptor written from Loki's push.proto field numbers."""
    f = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name="slotel_test_loki_push.proto", package="slotel_test_logproto", syntax="proto3"
    )

    def message(name, fields):
        m = fdp.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            fd = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                fd.type_name = f".slotel_test_logproto.{type_name}"

    opt, rep = f.LABEL_OPTIONAL, f.LABEL_REPEATED
    message("PushRequest", [("streams", 1, f.TYPE_MESSAGE, rep, "Stream")])
    message(
        "Stream",
        [
            ("labels", 1, f.TYPE_STRING, opt, None),
            ("entries", 2, f.TYPE_MESSAGE, rep, "Entry"),
            ("hash", 3, f.TYPE_UINT64, opt, None),
        ],
    )
    message(
        "Entry",
        [
            ("timestamp", 1, f.TYPE_MESSAGE, opt, "Timestamp"),
            ("line", 2, f.TYPE_STRING, opt, None),
            ("structured_metadata", 3, f.TYPE_MESSAGE, rep, "LabelPair"),
        ],
    )
    message("LabelPair", [("name", 1, f.TYPE_STRING, opt, None), ("value", 2, f.TYPE_STRING, opt, None)])
    message("Timestamp", [("seconds", 1, f.TYPE_INT64, opt, None), ("nanos", 2, f.TYPE_INT32, opt, None)])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("slotel_test_logproto.PushRequest"))


PushRequest = _loki_classes()


def decode_loki(body: bytes):
    """A Loki push body (snappy block format, then protobuf) as a PushRequest."""
    msg = PushRequest()
    msg.ParseFromString(bytes(cramjam.snappy.decompress_raw(body)))
    return msg


_OTLP = {
    "/v1/traces": ("traces", trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse, trace_service_pb2.ExportTracePartialSuccess, "rejected_spans"),
    "/v1/metrics": ("metrics", metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse, metrics_service_pb2.ExportMetricsPartialSuccess, "rejected_data_points"),
    "/v1/logs": ("logs", logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse, logs_service_pb2.ExportLogsPartialSuccess, "rejected_log_records"),
}


class HttpSink(_Recorder):
    """OTLP/HTTP (protobuf) and the Loki push API on 127.0.0.1; a path prefix before
    `/v1/...` is allowed (as Mimir's `/otlp/v1/metrics`)."""

    def __init__(self, fail_status: int = 503) -> None:
        super().__init__()
        self.fail_status = fail_status
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: bytes = b"", ctype: str = "application/x-protobuf"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if sink._should_fail():
                    return self._answer(sink.fail_status, b"sink told to fail", "text/plain")
                encoding = self.headers.get("Content-Encoding")
                tenant = self.headers.get(TENANT_HEADER)
                ctype = self.headers.get("Content-Type")
                if self.path.endswith("/loki/api/v1/push"):
                    try:
                        msg = decode_loki(raw)
                    except Exception as e:  # the test reads the status
                        return self._answer(400, str(e).encode(), "text/plain")
                    n = sum(len(s.entries) for s in msg.streams)
                    sink._record(Received("loki", n, tenant, encoding, ctype, self.path, message=msg))
                    return self._answer(204)
                route = next((v for k, v in _OTLP.items() if self.path.endswith(k)), None)
                if route is None:
                    return self._answer(404, b"no such path", "text/plain")
                signal, req_cls, resp_cls, partial_cls, rejected_field = route
                body = raw
                if encoding == "gzip":
                    body = gzip.decompress(raw)
                elif encoding == "zstd":
                    body = bytes(cramjam.zstd.decompress(raw))
                req = req_cls()
                try:
                    req.ParseFromString(body)
                except Exception as e:
                    return self._answer(400, str(e).encode(), "text/plain")
                sink._record(
                    Received(
                        signal,
                        count_items(signal, req),
                        tenant,
                        encoding,
                        ctype,
                        self.path,
                        span_ids(req) if signal == "traces" else [],
                        req,
                    )
                )
                resp = resp_cls()
                if sink.rejected_per_request:
                    partial = partial_cls(error_message="sink rejects some")
                    setattr(partial, rejected_field, sink.rejected_per_request)
                    resp.partial_success.CopyFrom(partial)
                self._answer(200, resp.SerializeToString())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
