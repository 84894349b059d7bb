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
from dataclasses import field
from types import FrameType
from typing import Any

from multusctl.records import dataclass

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


def inspect(netns: str) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """(links, addresses) of a namespace from one `ip -d -j addr` (it carries `ip -d link`'s fields too): name,
    kind, MAC, MTU, state of each link, and its addresses other than link-local ones."""
    proc = _ip("-d", "-j", "addr", "show", netns=netns, check=False)
    try:
        doc = json.loads(proc.stdout or "[]")
    except ValueError:
        return [], {}
    links: list[dict[str, Any]] = []
    addresses: dict[str, list[str]] = {}
    for link in doc if isinstance(doc, list) else []:
        if not isinstance(link, dict):
            continue
        info = link.get("linkinfo") or {}
        links.append({"name": link.get("ifname"), "kind": info.get("info_kind") or link.get("link_type"),
                      "mac": link.get("address"), "mtu": link.get("mtu"), "state": link.get("operstate")})
        addresses[str(link.get("ifname"))] = [f"{a.get('local')}/{a.get('prefixlen')}"
                                              for a in link.get("addr_info") or [] if a.get("scope") != "link"]
    return links, addresses


def links_in(netns: str) -> list[dict[str, Any]]:
    return inspect(netns)[0]


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
    # One `ip -batch` for the links and the namespace (each `ip` costs ~10-15 ms; nad test's budget is a hand
    # run's 1.5x), then what is still there is what failed: `-force` runs every line, whatever the others did.
    # Links first: the kernel tears a deleted namespace's veths down asynchronously, and a bridge losing its
    # port at that moment was seen to survive its `link del` under load; whatever survives is tried once more.
    links = sorted((box.owned_host_links & host_links()) - box.host_before)
    why = _batch([f"link del {n}" for n in links] + ([f"netns del {box.name}"] if os.path.exists(box.path) else []))
    left = [n for n in links if n in host_links()]
    if left:
        why = _batch([f"link del {n}" for n in left]) or why
    if os.path.exists(box.path):
        box.cleanup_errors.append(f"ip netns del {box.name}: {why}")
    now = host_links()
    box.cleanup_errors.extend(f"ip link del {n}: {why}" for n in left if n in now)
    shutil.rmtree(box.data_dir, ignore_errors=True)


def _batch(lines: list[str]) -> str:
    """Run `ip` commands in one process; "" when all succeeded, else its error output on one line."""
    if not lines:
        return ""
    try:
        proc = subprocess.run(["ip", "-force", "-batch", "-"], input="\n".join(lines) + "\n", capture_output=True,
                              text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if proc.returncode == 0 else " ".join(proc.stderr.split())[:300] or f"exit {proc.returncode}"
