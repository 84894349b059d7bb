"""The test cluster's HTTPS front: the accept loop and connections (`Server`), and each request read, faulted,
authenticated, authorized and routed to the API, watch or log handlers (`Handler`)."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from multusctl.testing import proto
from multusctl.testing.api import ResourceApi, parse_target, request_verb
from multusctl.testing.auth import (
    ANONYMOUS,
    AuthError,
    Decision,
    RequestAttributes,
    UserInfo,
    forbidden_status,
)
from multusctl.testing.control import handle_control, is_control_path
from multusctl.testing.faults import Delay, Reset, Respond, reset_connection
from multusctl.testing.impersonate import ImpersonationError, impersonate
from multusctl.testing.podlogs import serve_pod_log
from multusctl.testing.store import (
    ApiError,
    status_body,
)
from multusctl.testing.watch import serve_watch

if TYPE_CHECKING:
    from multusctl.testing.server import TestCluster


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # stop() shuts every open connection down itself; joining the handler threads as well would wait
    # up to the handshake timeout for a client that never finished its TLS handshake.
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr: tuple[str, int], handler: type[Handler], ctx: ssl.SSLContext,
                 cluster: TestCluster) -> None:
        self.ssl_ctx = ctx
        self.cluster = cluster
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()
        self.streams = 0  # chunked responses not ended yet
        self.streams_ended = threading.Condition(self.conns_lock)
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self._stop = threading.Event()
        super().__init__(addr, handler)
        self._wake = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def serve(self) -> None:
        """`serve_forever`, but `stop_serving` ends it at once: serve_forever notices a shutdown only at its
        next poll (half its poll interval on average, at every one of the suite's hundreds of stops)."""
        with selectors.DefaultSelector() as sel:
            sel.register(self, selectors.EVENT_READ)
            sel.register(self._wake[0], selectors.EVENT_READ)
            while not self._stop.is_set():
                if any(key.fileobj is self for key, _ in sel.select()) and not self._stop.is_set():
                    self._handle_request_noblock()

    def wait_for_streams(self, timeout: float) -> None:
        """Until every chunked response has ended (its handler sent the last chunk), at most `timeout`."""
        with self.streams_ended:
            self.streams_ended.wait_for(lambda: self.streams == 0, timeout)

    def stop_serving(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake[1], b"\0")

    def server_close(self) -> None:
        super().server_close()
        for fd in self._wake:
            with contextlib.suppress(OSError):
                os.close(fd)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), a DNS lookup we neither need nor want.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the connection's own thread, so a slow or silent
        # client never blocks the accept loop.
        request.settimeout(10)
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the client's
        # delayed ACK adds ~40 ms to every response.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = self.ssl_ctx.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        with self.conns_lock:
            self.conns.add(conn)  # from here on stop() can cut the connection, handshake included
        try:
            conn.do_handshake()
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self.conns_lock:
                self.conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def close_connections(self) -> None:
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "multusctl-testcluster"
    sys_version = ""
    timeout = 30
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- response helpers --

    def _send(self, code: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if getattr(self, "_streaming", False):
                with self.server.streams_ended:
                    self.server.streams -= 1
                    self.server.streams_ended.notify_all()

    def _start_chunked(self, content_type: str) -> None:
        """A streamed 200 (watch, `logs -f`): chunked, one connection per stream."""
        with self.server.conns_lock:
            self.server.streams += 1
            self._streaming = True
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _json(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(code, json.dumps(obj).encode(), headers=headers)

    def _error(self, err: ApiError) -> None:
        self._json(err.code, err.status(), err.headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    # -- main flow --

    def _handle(self, method: str) -> None:
        cluster = self.server.cluster
        split = urlsplit(self.path)
        path = unquote(split.path).rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        control = is_control_path(path)
        fault = None if control else cluster.faults.before_request(method, path)
        if isinstance(fault, Delay):
            time.sleep(fault.seconds)
        elif isinstance(fault, Respond):
            self._read_body()
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
                      504: "Timeout"}.get(fault.code, "InternalError")
            msg = {429: "Too many requests, please try again later."}.get(
                fault.code, "an error on the server (\"injected fault\") has prevented the request from succeeding")
            self._json(fault.code, status_body(fault.code, reason, msg), headers)
            return
        elif isinstance(fault, Reset):
            self.close_connection = True
            reset_connection(self.connection)
            return
        body = self._read_body()
        try:
            user = impersonate(self._authenticate(), self.headers.items(), cluster.authorizer)
            cluster.requests.append((method, self.path, user.username))
            if control:
                self._json(*handle_control(cluster.faults, method, path, body, user))
                return
            self._route(method, path, query, body, user)
        except ApiError as err:
            self._error(err)
        except ImpersonationError as exc:  # responsewriters.InternalError: plain text
            self._send(500, f"Internal Server Error: {json.dumps(self.path)}: {exc}\n".encode(),
                       "text/plain; charset=utf-8")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as exc:  # a bug in the test server must still answer like a server
            self._json(500, status_body(500, "InternalError", f"an error on the server ({exc!r}) has "
                                        "prevented the request from succeeding"))

    def _authenticate(self) -> UserInfo:
        peer = self.connection.getpeercert(binary_form=True) if isinstance(self.connection, ssl.SSLSocket) else None
        result = self.server.cluster.authenticator.authenticate(peer, self.headers.get("Authorization"))
        if isinstance(result, AuthError):
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return result if result is not None else ANONYMOUS

    def _authorize(self, user: UserInfo, attrs: RequestAttributes) -> None:
        allowed, reason = self.server.cluster.authorizer.authorize_with_reason(user, attrs)
        resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource or attrs.path
        self.server.cluster.decisions.append(Decision(user.username, attrs.verb, attrs.api_group, resource,
                                                      attrs.namespace, allowed))
        if allowed:
            return
        status = forbidden_status(user, attrs, reason)
        raise ApiError(403, "Forbidden", status["message"], status.get("details"))

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes, user: UserInfo) -> None:
        cluster = self.server.cluster
        reg = cluster.registry
        parts = [p for p in path.split("/") if p]
        is_resource = (len(parts) >= 3 and parts[0] == "api") or (len(parts) >= 4 and parts[0] == "apis")
        if not is_resource:
            self._authorize(user, RequestAttributes(verb=method.lower(), api_group="", resource="",
                                                    resource_request=False, path=path))
            self._non_resource(path, parts)
            return
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            group, version, rest = parts[1], parts[2], parts[3:]
        target = parse_target(reg, group, version, rest)
        if target is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        verb = request_verb(method, target, query)
        self._authorize(user, RequestAttributes(
            verb=verb, api_group=group, resource=target.rt.plural, subresource=target.subresource,
            namespace=target.namespace, name=target.name, resource_request=True, path=path))
        api = ResourceApi(cluster, target, query, user, self.headers.get("Accept") or "")
        if verb == "watch":
            serve_watch(self, api)
            return
        if verb == "get" and target.subresource == "log":
            serve_pod_log(self, api)
            return
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if body and ctype == "application/vnd.kubernetes.protobuf":
            status_update = self.path.split("?", 1)[0].endswith("/status")
            body, ctype = json.dumps(proto.decode_body(body, status_update)).encode(), "application/json"
        code, obj = api.dispatch(verb, method, body, ctype)
        if isinstance(obj, dict) and obj.get("kind") == "Table":
            self._send(code, json.dumps(obj).encode(), "application/json;as=Table;v=v1;g=meta.k8s.io")
            return
        self._json(code, obj)

    def _non_resource(self, path: str, parts: list[str]) -> None:
        cluster = self.server.cluster
        reg = cluster.registry
        doc: Any = None
        if path in ("/healthz", "/readyz", "/livez"):
            self._send(200, b"ok", "text/plain; charset=utf-8")
            return
        if path == "/version":
            minor = cluster.git_version.lstrip("v").split(".")[1]
            doc = {"major": "1", "minor": minor, "gitVersion": cluster.git_version,
                   "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2024-12-12T00:00:00Z",
                   "goVersion": "go1.22.9", "compiler": "gc", "platform": "linux/amd64"}
        elif path == "/api":
            doc = reg.api_versions(f"{cluster.host}:{self.server.server_address[1]}")
        elif path == "/apis":
            doc = reg.api_group_list()
        elif len(parts) == 2 and parts[0] == "api":
            doc = reg.api_resource_list("", parts[1])
        elif len(parts) == 2 and parts[0] == "apis":
            doc = reg.api_group(parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            doc = reg.api_resource_list(parts[1], parts[2])
        elif path == "/openapi/v2":
            # kubectl < 1.28 reads the v2 document (protobuf only) before validating an apply. An empty
            # message is a valid, schema-less openapi_v2.Document: kubectl then has nothing to
            # validate against client-side and leaves validation to the server.
            self._send(200, b"", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            return
        elif path == "/openapi/v3":
            doc = reg.openapi_v3_index()
        elif path.startswith("/openapi/v3/"):
            rest = parts[2:]
            if rest[:1] == ["api"] and len(rest) == 2:
                doc = reg.openapi_v3_doc("", rest[1])
            elif rest[:1] == ["apis"] and len(rest) == 3:
                doc = reg.openapi_v3_doc(rest[1], rest[2])
        if doc is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self._json(200, doc)
