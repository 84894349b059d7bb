"""Fault injection: the per-request plan and the real network faults."""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
import socket
import ssl
import subprocess
import threading
import time

import pytest

from multusctl.testing import faults
from multusctl.testing.faults import (
    Delay,
    FaultPlan,
    NetnsBlackhole,
    Reset,
    Respond,
    cleanup_stale_blackholes,
    netns_blackhole,
    refused_port,
    reset_connection,
    tls_handshake_blackhole,
)

DEADLINE = 0.5
SLACK = 1.5  # scheduling noise on a loaded 2-core CI machine


# --------------------------------------------------------------------------- FaultPlan


def test_empty_plan_serves_everything() -> None:
    plan = FaultPlan()
    assert plan.before_request("GET", "/api/v1/pods") is None
    assert plan.armed == 0 and plan.fired == []


def test_burst_fires_count_times_then_disarms() -> None:
    plan = FaultPlan().burst(429, 2, retry_after=3)
    assert plan.before_request("GET", "/api") == Respond(429, 3)
    assert plan.before_request("POST", "/apis/apps/v1") == Respond(429, 3)
    assert plan.before_request("GET", "/api") is None
    assert plan.armed == 0
    assert [f for _, _, f in plan.fired] == [Respond(429, 3), Respond(429, 3)]


def test_latency_persists_until_cleared_and_respects_prefix() -> None:
    plan = FaultPlan().latency(0.25, path_prefix="/api/v1/namespaces/kube-system")
    for _ in range(5):
        assert plan.before_request("GET", "/api/v1/namespaces/kube-system/pods") == Delay(0.25)
    assert plan.before_request("GET", "/api/v1/namespaces/default/pods") is None
    plan.clear()
    assert plan.before_request("GET", "/api/v1/namespaces/kube-system/pods") is None


def test_faults_fire_in_arming_order_and_filter_methods() -> None:
    plan = FaultPlan()
    plan.reset(1, path_prefix="/apis")
    plan.burst(500, 1)
    plan.latency(1.0, count=1, methods=("post",))
    assert plan.before_request("GET", "/apis/apps/v1") == Reset()
    assert plan.before_request("GET", "/apis/apps/v1") == Respond(500)
    assert plan.before_request("GET", "/apis/apps/v1") is None
    assert plan.before_request("POST", "/api/v1/namespaces") == Delay(1.0)
    assert plan.before_request("POST", "/api/v1/namespaces") is None


def test_plan_rejects_nonsense() -> None:
    plan = FaultPlan()
    with pytest.raises(ValueError):
        plan.burst(200, 1)
    with pytest.raises(ValueError):
        plan.burst(500, 0)
    with pytest.raises(ValueError):
        plan.latency(-1)
    with pytest.raises(ValueError):
        plan.reset(0)


def test_faults_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Delay(1).seconds = 2  # type: ignore[misc]
    assert {Respond(500), Respond(500), Reset(), Reset()} == {Respond(500), Reset()}


def test_plan_is_thread_safe() -> None:
    plan = FaultPlan().burst(503, 500)
    hits: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = sum(1 for _ in range(200) if plan.before_request("GET", "/api") is not None)
        with lock:
            hits.append(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sum(hits) == 500 and len(plan.fired) == 500 and plan.armed == 0


# --------------------------------------------------------------------------- loopback faults


def test_reset_connection_makes_the_peer_see_a_reset() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)
        client = socket.create_connection(listener.getsockname(), timeout=5)
        conn, _ = listener.accept()
        reset_connection(conn)
        with client, pytest.raises(ConnectionResetError):
            client.recv(1)


def test_refused_port_refuses_and_stays_reserved() -> None:
    with refused_port() as port:
        assert 1024 <= port <= 65535
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        # Nobody else can take the port while the test relies on it.
        squatter = socket.socket()
        with squatter, pytest.raises(OSError) as info:
            squatter.bind(("127.0.0.1", port))
        assert info.value.errno == errno.EADDRINUSE


def test_tls_handshake_blackhole_times_out_within_the_deadline() -> None:
    ctx = ssl.create_default_context()
    with tls_handshake_blackhole() as (host, port):
        assert host == "127.0.0.1"
        for _ in range(2):  # several clients at once must not block each other
            start = time.monotonic()
            raw = socket.create_connection((host, port), timeout=DEADLINE)  # TCP itself succeeds
            with raw, pytest.raises(TimeoutError):
                ctx.wrap_socket(raw, server_hostname="localhost")
            elapsed = time.monotonic() - start
            assert DEADLINE * 0.9 <= elapsed < DEADLINE + SLACK
    # Cleaned up: the port no longer accepts.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=DEADLINE)


def test_tls_blackhole_cleans_up_on_error() -> None:
    before = threading.active_count()
    with pytest.raises(RuntimeError), tls_handshake_blackhole() as (host, port):
        socket.create_connection((host, port), timeout=DEADLINE).close()
        raise RuntimeError("boom")
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= before


# --------------------------------------------------------------------------- netns black hole


def test_unavailable_reason_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults.os, "geteuid", lambda: 1000)
    assert "root" in (NetnsBlackhole.unavailable_reason() or "")
    assert netns_blackhole.is_available() is False
    with pytest.raises(RuntimeError, match="root"), netns_blackhole():
        pass


def test_unavailable_reason_without_iptables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults.os, "geteuid", lambda: 0)
    monkeypatch.setattr(faults.shutil, "which", lambda name: None if name == "iptables" else f"/usr/sbin/{name}")
    assert "iptables" in (NetnsBlackhole.unavailable_reason() or "")


def _skip_unless_netns() -> None:
    reason = NetnsBlackhole.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


def _netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True, timeout=10).returncode == 0


@pytest.mark.root
def test_netns_blackhole_connect_times_out() -> None:
    _skip_unless_netns()
    hole = netns_blackhole()
    with hole as addr:
        bench = ipaddress.ip_network("198.18.0.0/15")
        assert ipaddress.ip_address(addr) in bench
        assert hole.host_address is not None and ipaddress.ip_address(hole.host_address) in bench
        assert hole.namespace.startswith("mctl-bh-") and hole.namespace in _netns_names()
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            socket.create_connection((addr, 6443), timeout=DEADLINE)
        elapsed = time.monotonic() - start
        assert DEADLINE * 0.9 <= elapsed < DEADLINE + SLACK
    assert hole.namespace not in _netns_names()
    assert not _link_exists(hole.host_if)


@pytest.mark.root
def test_netns_blackhole_cleans_up_on_error() -> None:
    _skip_unless_netns()
    hole = netns_blackhole()
    with pytest.raises(RuntimeError, match="boom"), hole:
        raise RuntimeError("boom")
    assert hole.namespace not in _netns_names()
    assert not _link_exists(hole.host_if)


@pytest.mark.root
def test_two_blackholes_coexist() -> None:
    _skip_unless_netns()
    with netns_blackhole() as a, netns_blackhole() as b:
        assert a != b
        for addr in (a, b):
            with pytest.raises(TimeoutError):
                socket.create_connection((addr, 443), timeout=0.2)


@pytest.mark.root
def test_cleanup_stale_blackholes_removes_leftovers() -> None:
    _skip_unless_netns()
    stale = NetnsBlackhole()
    stale.__enter__()  # deliberately never exited, as after a SIGKILL
    try:
        assert stale.namespace in _netns_names()
        assert stale.namespace in cleanup_stale_blackholes()
        assert stale.namespace not in _netns_names()
        assert not _link_exists(stale.host_if)  # the veth pair went with the namespace
    finally:
        stale.__exit__(None, None, None)
