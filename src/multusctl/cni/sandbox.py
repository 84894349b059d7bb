"""A throwaway network namespace standing in for a pod, removed on every way out: normal return, an
exception, a plugin killed at its deadline, Ctrl-C or SIGTERM (turned into KeyboardInterrupt while the
sandbox is open, so the `finally` runs). Host links the attachment created (a bridge plugin's bridge, which
its DEL never removes) are removed too, but only the ones named to us that did not exist before."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

NETNS_DIR = "/var/run/netns"


class SandboxError(Exception):
    """The sandbox could not be made (not root, no `ip`): one line, exit 2."""


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"{' '.join(cmd)}: {exc}") from None
    if check and proc.returncode:
        raise SandboxError(f"{' '.join(cmd)}: {proc.stderr.strip() or f'exit {proc.returncode}'}")
    return proc


def host_links() -> set[str]:
    try:
        return set(os.listdir("/sys/class/net"))
    except OSError:
        return set()


def links_in(netns: str) -> list[dict[str, Any]]:
    """The links of a namespace as `ip -d -j link` shows them: name, kind, MAC, MTU, state."""
    proc = _ip("-d", "-j", "link", "show", netns=netns, check=False)
    try:
        doc = json.loads(proc.stdout or "[]")
    except ValueError:
        return []
    out = []
    for link in doc if isinstance(doc, list) else []:
        info = link.get("linkinfo") or {}
        out.append({"name": link.get("ifname"), "kind": info.get("info_kind") or link.get("link_type"),
                    "mac": link.get("address"), "mtu": link.get("mtu"), "state": link.get("operstate")})
    return out


def addresses_in(netns: str) -> dict[str, list[str]]:
    proc = _ip("-j", "addr", "show", netns=netns, check=False)
    try:
        doc = json.loads(proc.stdout or "[]")
    except ValueError:
        return {}
    return {str(link.get("ifname")): [f"{a.get('local')}/{a.get('prefixlen')}" for a in link.get("addr_info") or []
                                      if a.get("scope") != "link"] for link in doc if isinstance(link, dict)}


@dataclass
class Sandbox:
    name: str
    path: str
    data_dir: str
    keep: bool = False
    host_before: set[str] = field(default_factory=set)
    # Host links the attachment may create and its DEL leaves (a bridge); removed if new.
    owned_host_links: set[str] = field(default_factory=set)
    cleanup_errors: list[str] = field(default_factory=list)

    def remove_command(self) -> str:
        extra = "".join(f" && ip link del {n}" for n in sorted(self.owned_host_links - self.host_before))
        return f"ip netns del {self.name} && rm -rf {self.data_dir}{extra}"


class Interrupted(KeyboardInterrupt):
    """SIGTERM while a sandbox is open, raised where the program is so every `finally` runs; `signum` gives the
    exit status (128 + signum, as a shell reports a process killed by it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


def _to_interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def sandbox(keep: bool = False, prefix: str = "mctl-nad") -> Iterator[Sandbox]:
    if os.geteuid() != 0:
        raise SandboxError("a network namespace needs root (run as root on the node)")
    if shutil.which("ip") is None:
        raise SandboxError("no `ip` (iproute2) to make a network namespace")
    name = f"{prefix}-{os.urandom(4).hex()}"  # not uuid: importing it costs ~10 ms (it imports platform)
    previous = signal.getsignal(signal.SIGTERM)
    in_main = True
    try:
        signal.signal(signal.SIGTERM, _to_interrupt)
    except ValueError:  # not the main thread: no handler, the finally still runs on exceptions
        in_main = False
    box = Sandbox(name, os.path.join(NETNS_DIR, name), tempfile.mkdtemp(prefix="multusctl-ipam-"), keep,
                  host_links())
    try:
        _ip("netns", "add", name)
        _ip("link", "set", "lo", "up", netns=name)
        yield box
    finally:
        # Ignore a second Ctrl-C/SIGTERM while cleaning up: leaving half a sandbox is what we promise not to.
        old_int = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if not box.keep:
                _cleanup(box)
        finally:
            if in_main:
                signal.signal(signal.SIGINT, old_int if old_int is not None else signal.default_int_handler)
                signal.signal(signal.SIGTERM, previous)


def _cleanup(box: Sandbox) -> None:
    if os.path.exists(box.path):
        proc = _ip("netns", "del", box.name, check=False)
        if proc.returncode:
            box.cleanup_errors.append(f"ip netns del {box.name}: {proc.stderr.strip()}")
    now = host_links()
    for link in sorted((box.owned_host_links & now) - box.host_before):
        proc = _ip("link", "del", link, check=False)
        if proc.returncode:
            box.cleanup_errors.append(f"ip link del {link}: {proc.stderr.strip()}")
    shutil.rmtree(box.data_dir, ignore_errors=True)
