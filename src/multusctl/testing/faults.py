"""Fault injection for the test cluster.

Two kinds:

* per-request faults that the HTTP server consults before serving each request
  (``FaultPlan``): added latency, bursts of 500/429 answers, connection resets;
* real network faults that need no server at all, each a context manager that
  always cleans up: a TLS listener that never answers the ClientHello
  (``tls_handshake_blackhole``), a port with nothing listening
  (``refused_port``) and, for root, a network namespace whose address drops
  every packet (``netns_blackhole``), which is the only honest way to make a
  TCP connect time out rather than be refused.

All traffic stays on loopback or inside a veth pair into a namespace created
here, with addresses from 198.18.0.0/15 (RFC 2544 benchmarking space, never
routed), so nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import selectors
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "Delay",
    "Fault",
    "FaultPlan",
    "NetnsBlackhole",
    "Reset",
    "Respond",
    "cleanup_stale_blackholes",
    "netns_blackhole",
    "refused_port",
    "reset_connection",
    "tls_handshake_blackhole",
]


# --------------------------------------------------------------------------- per-request faults


@dataclass(frozen=True)
class Delay:
    """Sleep this long, then serve the request normally."""

    seconds: float


@dataclass(frozen=True)
class Respond:
    """Answer with this status code (a real ``Status`` body) instead of serving the request."""

    code: int
    retry_after: int | None = None


@dataclass(frozen=True)
class Reset:
    """Drop the connection with a TCP RST before answering."""


Fault = Delay | Respond | Reset


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None  # None: until cleared
    path_prefix: str | None
    methods: frozenset[str] | None

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


class FaultPlan:
    """Faults armed by a test and consumed by the server, one decision per request.

    Faults fire in the order they were armed; a fault with a count fires that
    many times and then disarms. Thread-safe: the server handles each
    connection on its own thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self.fired: list[tuple[str, str, Fault]] = []

    def _arm(
        self, fault: Fault, count: int | None, path_prefix: str | None, methods: tuple[str, ...] | None
    ) -> FaultPlan:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        wanted = frozenset(m.upper() for m in methods) if methods else None
        with self._lock:
            self._armed.append(_Armed(fault, count, path_prefix, wanted))
        return self

    def latency(
        self,
        seconds: float,
        path_prefix: str | None = None,
        *,
        count: int | None = None,
        methods: tuple[str, ...] | None = None,
    ) -> FaultPlan:
        """Delay matching requests by ``seconds`` (every one until cleared, or ``count`` of them)."""
        if seconds < 0:
            raise ValueError("latency must not be negative")
        return self._arm(Delay(float(seconds)), count, path_prefix, methods)

    def burst(
        self,
        code: int,
        count: int,
        retry_after: int | None = None,
        path_prefix: str | None = None,
        *,
        methods: tuple[str, ...] | None = None,
    ) -> FaultPlan:
        """Answer the next ``count`` matching requests with ``code`` (e.g. 500, 429 + Retry-After)."""
        if not 400 <= code <= 599:
            raise ValueError("burst code must be an HTTP error status")
        return self._arm(Respond(code, retry_after), count, path_prefix, methods)

    def reset(
        self, count: int, path_prefix: str | None = None, *, methods: tuple[str, ...] | None = None
    ) -> FaultPlan:
        """Reset the connection of the next ``count`` matching requests."""
        return self._arm(Reset(), count, path_prefix, methods)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def disarm(self, fault: Fault, path_prefix: str | None = None) -> bool:
        """Remove the most recently armed ``fault`` (equal fault and prefix), leaving the others armed.

        For a fixture that armed one fault on a shared cluster and must take only that one back."""
        with self._lock:
            for i in range(len(self._armed) - 1, -1, -1):
                if self._armed[i].fault == fault and self._armed[i].path_prefix == path_prefix:
                    del self._armed[i]
                    return True
        return False

    @property
    def armed(self) -> int:
        with self._lock:
            return len(self._armed)

    def before_request(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if any; consumes one use of it."""
        with self._lock:
            for i, armed in enumerate(self._armed):
                if not armed.matches(method, path):
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining <= 0:
                        del self._armed[i]
                self.fired.append((method, path, armed.fault))
                return armed.fault
        return None


def reset_connection(sock: socket.socket) -> None:
    """Close ``sock`` so the peer sees ECONNRESET, not an orderly FIN.

    SO_LINGER with a zero timeout makes close() discard unsent data and send RST.
    """
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


# --------------------------------------------------------------------------- loopback faults


@contextlib.contextmanager
def tls_handshake_blackhole(host: str = "127.0.0.1") -> Iterator[tuple[str, int]]:
    """A listener that accepts TCP and then never answers the TLS ClientHello.

    Clients see a connect that succeeds and a handshake that hangs until their
    own timeout, which is what a wedged apiserver or a broken proxy looks like.
    Yields ``(host, port)``.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(64)
    listener.setblocking(False)
    stop_r, stop_w = socket.socketpair()
    held: list[socket.socket] = []
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(stop_r, selectors.EVENT_READ, "stop")

    def serve() -> None:
        while True:
            for key, _ in sel.select():
                if key.data == "stop":
                    return
                if key.data == "accept":
                    try:
                        conn, _addr = listener.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    held.append(conn)
                    sel.register(conn, selectors.EVENT_READ, "conn")
                else:
                    conn = key.fileobj  # type: ignore[assignment]
                    # Read and discard so the client never blocks on a full buffer;
                    # its ClientHello just goes unanswered.
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        sel.unregister(conn)
                        conn.close()
                        held.remove(conn)

    thread = threading.Thread(target=serve, name="mctl-tls-blackhole", daemon=True)
    thread.start()
    try:
        yield host, listener.getsockname()[1]
    finally:
        stop_w.send(b"x")
        thread.join(timeout=5)
        for conn in held:
            with contextlib.suppress(OSError):
                conn.close()
        sel.close()
        for s in (listener, stop_r, stop_w):
            with contextlib.suppress(OSError):
                s.close()


@contextlib.contextmanager
def refused_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A loopback port on which connections are refused.

    The port stays bound (but never listening) for the duration, so no other
    process can grab it and turn "refused" into "connected somewhere else";
    a SYN to a bound, non-listening socket is answered with RST.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


# --------------------------------------------------------------------------- netns black hole

_BENCH_NET = ipaddress.IPv4Network("198.18.0.0/15")


def _run(*args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


def _check(*args: str) -> None:
    proc = _run(*args)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")


def _addresses_in_use() -> set[ipaddress.IPv4Address]:
    proc = _run("ip", "-o", "-4", "addr", "show")
    used: set[ipaddress.IPv4Address] = set()
    for line in proc.stdout.splitlines():
        fields = line.split()
        if "inet" in fields:
            with contextlib.suppress(ValueError, IndexError):
                used.add(ipaddress.IPv4Interface(fields[fields.index("inet") + 1]).ip)
    return used


def _pick_subnet() -> ipaddress.IPv4Network:
    used = _addresses_in_use()
    count = _BENCH_NET.num_addresses // 4
    for _ in range(64):
        # Random rather than first-free, so parallel test runs rarely race for one /30.
        base = _BENCH_NET.network_address + 4 * secrets.randbelow(count)
        net = ipaddress.IPv4Network(f"{base}/30")
        if not any(ip in net for ip in used):
            return net
    raise RuntimeError("no free /30 in 198.18.0.0/15")


def _disable_ipv6(path: str) -> None:
    # Keeps the veth quiet (no router solicitations / DAD); best effort.
    with contextlib.suppress(OSError), open(path, "w") as fh:
        fh.write("1")


class NetnsBlackhole:
    """``with netns_blackhole() as addr:`` — an IPv4 address where every packet is dropped.

    Creates namespace ``mctl-bh-<random>``, a veth pair (host end ``mbh<hex>h``,
    namespace end ``mbh<hex>n``), a random /30 from 198.18.0.0/15 with the host
    end on ``.1`` and the namespace end on ``.2``, and ``iptables -A INPUT -j
    DROP`` inside the namespace. A TCP connect from the host to the yielded
    address therefore times out. Everything is removed on exit, also on errors.
    Needs root, ``ip`` (iproute2) and ``iptables``.
    """

    _probe: ClassVar[str | None] = None
    _probed: ClassVar[bool] = False
    _probe_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        tag = secrets.token_hex(4)
        self.namespace = f"mctl-bh-{tag}"
        self.host_if = f"mbh{tag}h"  # 12 chars: under IFNAMSIZ (15)
        self.ns_if = f"mbh{tag}n"
        self.address: str | None = None
        self.host_address: str | None = None
        self._created_ns = False
        self._created_link = False

    # -- availability

    @staticmethod
    def _static_reason() -> str | None:
        if os.geteuid() != 0:
            return "netns black hole needs root (network namespaces, iptables)"
        if shutil.which("ip") is None:
            return "netns black hole needs the ip command (Debian package iproute2)"
        if shutil.which("iptables") is None:
            return "netns black hole needs iptables (Debian package iptables)"
        return None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when usable, else why not (suitable for ``pytest.skip``)."""
        reason = cls._static_reason()
        if reason is not None:
            return reason
        with cls._probe_lock:
            if not cls._probed:
                cls._probe = cls._probe_once()
                cls._probed = True
            return cls._probe

    @classmethod
    def is_available(cls) -> bool:
        return cls.unavailable_reason() is None

    @classmethod
    def _probe_once(cls) -> str | None:
        # Containers may be root without CAP_SYS_ADMIN/CAP_NET_ADMIN; only trying tells.
        probe = cls()
        try:
            with probe:
                pass
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            return f"netns black hole unavailable here: {exc}"
        return None

    # -- lifecycle

    def __enter__(self) -> str:
        reason = self._static_reason()
        if reason is not None:
            raise RuntimeError(reason)
        try:
            self._setup()
        except BaseException:
            self._teardown()
            raise
        assert self.address is not None
        return self.address

    def __exit__(self, *exc: object) -> None:
        self._teardown()

    def _setup(self) -> None:
        net = _pick_subnet()
        host_ip, ns_ip = list(net.hosts())[:2]
        prefix = net.prefixlen
        ns = self.namespace
        _check("ip", "netns", "add", ns)
        self._created_ns = True
        _check("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if, "netns", ns)
        self._created_link = True
        _disable_ipv6(f"/proc/sys/net/ipv6/conf/{self.host_if}/disable_ipv6")
        _check("ip", "netns", "exec", ns, "sh", "-c",
               f"echo 1 > /proc/sys/net/ipv6/conf/{self.ns_if}/disable_ipv6 2>/dev/null || true")
        _check("ip", "addr", "add", f"{host_ip}/{prefix}", "dev", self.host_if)
        _check("ip", "link", "set", self.host_if, "up")
        _check("ip", "-n", ns, "addr", "add", f"{ns_ip}/{prefix}", "dev", self.ns_if)
        _check("ip", "-n", ns, "link", "set", self.ns_if, "up")
        _check("ip", "-n", ns, "link", "set", "lo", "up")
        _check("ip", "netns", "exec", ns, "iptables", "-w", "5", "-A", "INPUT", "-j", "DROP")
        self.host_address = str(host_ip)
        self.address = str(ns_ip)

    def _teardown(self) -> None:
        if self._created_ns:
            # Deleting the namespace destroys its veth end, which takes the peer with it.
            _run("ip", "netns", "del", self.namespace)
            self._created_ns = False
        if self._created_link:
            proc = _run("ip", "link", "show", self.host_if)
            if proc.returncode == 0:
                _run("ip", "link", "del", self.host_if)
            self._created_link = False


def cleanup_stale_blackholes() -> list[str]:
    """Delete ``mctl-bh-*`` namespaces left by a run that was killed mid-test.

    Context managers cannot clean up after SIGKILL; CI can call this before a
    run. Not safe while another run on the same machine uses black holes.
    Returns the names removed.
    """
    if NetnsBlackhole._static_reason() is not None:
        return []
    removed = []
    for line in _run("ip", "netns", "list").stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith("mctl-bh-") and _run("ip", "netns", "del", name).returncode == 0:
            removed.append(name)
    # The kernel tears a namespace down asynchronously, so its veth peers can linger.
    for line in _run("ip", "-o", "link", "show", "type", "veth").stdout.splitlines():
        fields = line.split(":")
        ifname = fields[1].strip().split("@")[0] if len(fields) > 1 else ""
        if re.fullmatch(r"mbh[0-9a-f]{8}h", ifname):
            _run("ip", "link", "del", ifname)
    return removed


# Called like a function (``with netns_blackhole() as addr``) and queried through the
# class (``netns_blackhole.is_available()``), so one name serves both uses.
netns_blackhole = NetnsBlackhole
