"""DNS, TCP, TLS and HTTP, one link at a time, each within a deadline, each failure named by its kind.

Plain `socket`/`ssl`/`http.client`: every phase is a separate call with its own timeout, which is what
tells a black hole (TCP) from a stalled handshake (TLS) from a slow server (HTTP). An HTTP library would
fold them into one "timed out" (as client-go does: `context deadline exceeded`).
"""

from __future__ import annotations

import errno
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from multusctl.doctor.endpoint import Endpoint

MAX_BODY = 8 << 20  # a list of every NAD in a big cluster fits; a log tail is capped by the request

# OpenSSL verify codes (x509_vfy.h) that say "valid, but not for this name".
_NAME_CODES = {62: "host name", 64: "IP address"}
_EXPIRED_CODES = {9: "not yet valid", 10: "expired"}


class WireError(Exception):
    """A link that broke. `kind`: dns | connect-timeout | refused | unreachable | connect-error |
    tls-timeout | tls-untrusted | tls-name | tls-expired | tls-error | http-timeout | http-error."""

    def __init__(self, kind: str, message: str, **facts: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.facts = facts


def ms_since(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 1)


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order (an IP literal is its own answer)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            box["error"] = exc

    # getaddrinfo has no timeout of its own; a daemon thread that may outlive us is the portable bound.
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise WireError("dns", f"resolving {host} did not finish within {timeout:g} s", timed_out=True)
    if "error" in box:
        exc = box["error"]
        reason = exc.strerror if isinstance(exc, socket.gaierror) and exc.strerror else str(exc)
        raise WireError("dns", f"{host} does not resolve ({reason})", timed_out=False)
    return list(dict.fromkeys(str(info[4][0]) for info in box["infos"]))


def connect(address: str, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # http.client writes a POST's headers and body separately; without NODELAY each small request waits for
    # the peer's delayed ACK (40 ms on Linux), which would read as a slow API server.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
    except TimeoutError:
        sock.close()
        raise WireError("connect-timeout", f"no answer from {address}:{port} within {timeout:g} s") from None
    except OSError as exc:
        sock.close()
        code = exc.errno or 0
        name = errno.errorcode.get(code, str(code))
        if code == errno.ECONNREFUSED:
            raise WireError("refused", f"{address}:{port} refused the connection", errno=name) from None
        if code in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
            raise WireError("unreachable", f"no route to {address}:{port} ({(exc.strerror or name).lower()})",
                            errno=name) from None
        raise WireError("connect-error", f"connecting to {address}:{port}: {(exc.strerror or name).lower()}",
                        errno=name) from None
    return sock


def peer_names(ep: Endpoint, address: str, timeout: float) -> list[str]:
    """The DNS names and IPs the server's certificate covers (a second, unverified handshake)."""
    from cryptography import x509

    try:
        sock = connect(address, ep.port, timeout)
        with ep.ssl_context(verify=False).wrap_socket(sock, server_hostname=ep.server_name) as tls:
            der = tls.getpeercert(binary_form=True)
    except (WireError, OSError, ssl.SSLError):
        return []
    if not der:
        return []
    try:
        san = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, x509.ExtensionNotFound):
        return []
    return [*san.value.get_values_for_type(x509.DNSName),
            *(str(ip) for ip in san.value.get_values_for_type(x509.IPAddress))]


def handshake(sock: socket.socket, ep: Endpoint, address: str, timeout: float) -> ssl.SSLSocket:
    ctx = ep.ssl_context()
    sock.settimeout(timeout)
    try:
        return ctx.wrap_socket(sock, server_hostname=ep.server_name)
    except TimeoutError:
        sock.close()
        raise WireError("tls-timeout", f"the TLS handshake with {address}:{ep.port} did not complete within "
                        f"{timeout:g} s") from None
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        code = exc.verify_code
        why = exc.verify_message or "certificate verify failed"
        if code in _NAME_CODES:
            covers = peer_names(ep, address, timeout)
            raise WireError("tls-name", f"the certificate does not cover {_NAME_CODES[code]} {ep.server_name}",
                            verify_code=code, covers=covers) from None
        if code in _EXPIRED_CODES:
            raise WireError("tls-expired", f"the server certificate is {_EXPIRED_CODES[code]}",
                            verify_code=code) from None
        raise WireError("tls-untrusted", f"the server certificate does not verify against the CA ({why})",
                        verify_code=code) from None
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise WireError("tls-error", f"TLS with {address}:{ep.port} failed ({str(reason).lower()})") from None


@dataclass
class Response:
    status: int
    body: Any  # parsed JSON, or None
    text: str
    ms: float


@dataclass
class Session:
    """One kept-alive connection to the API as the endpoint's identity; every request timed."""

    ep: Endpoint
    address: str
    timeout: float
    conn: http.client.HTTPConnection | None = None
    latencies: list[float] = field(default_factory=list)

    def attach(self, sock: socket.socket) -> None:
        self.conn = http.client.HTTPConnection(self.ep.host, self.ep.port, timeout=self.timeout)
        self.conn.sock = sock  # already connected (and TLS-wrapped): http.client must not dial again

    def _reopen(self) -> None:
        self.close()
        sock = connect(self.address, self.ep.port, self.timeout)
        self.attach(handshake(sock, self.ep, self.address, self.timeout) if self.ep.tls else sock)

    def request(self, method: str, path: str, body: Any = None) -> Response:
        headers = {"Accept": "application/json", "User-Agent": "multusctl-doctor"}
        if self.ep.token:
            headers["Authorization"] = f"Bearer {self.ep.token}"
        payload = json.dumps(body).encode() if body is not None else None
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            start = time.monotonic()
            try:
                if self.conn is None:
                    self._reopen()
                assert self.conn is not None
                if self.conn.sock is not None:
                    self.conn.sock.settimeout(self.timeout)
                self.conn.request(method, path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read(MAX_BODY)
            except TimeoutError:
                self.close()
                raise WireError("http-timeout", f"{method} {path.split('?')[0]}: no answer within "
                                f"{self.timeout:g} s") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if attempt == 0:
                    continue  # the server closed a kept-alive connection: once more on a fresh one
                raise WireError("http-error", f"{method} {path.split('?')[0]}: {type(exc).__name__}") from None
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                raise WireError("http-error", f"{method} {path.split('?')[0]}: {type(exc).__name__}") from None
            ms = ms_since(start)
            self.latencies.append(ms)
            text = raw.decode("utf-8", "replace")
            try:
                parsed = json.loads(text) if text[:1] in ("{", "[") else None
            except ValueError:
                parsed = None
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return Response(resp.status, parsed, text, ms)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
