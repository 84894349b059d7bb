"""Helpers for the simulated-node tests: node roots, pods, waiting for a pod's state."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from multusctl.testing import TestCluster

needs_unshare = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                   reason="the test kubelet needs root and unshare")


def make_root(path: Path, distro: str = "testos") -> Path:
    (path / "etc").mkdir(parents=True, exist_ok=True)
    (path / "etc" / "os-release").write_text(f"ID={distro}\nNAME=\"Test {distro}\"\n")
    return path


def pod(name: str, node: str, script: str, *, restart: str = "Never", ns: str = "default",
        **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": "docker.io/library/busybox:1.36", "command": ["/bin/sh", "-c", script]}
    container.update(spec.pop("container", {}))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"nodeName": node, "restartPolicy": restart, "containers": [container], **spec}}


def wait_for(check: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def get_pod(cluster: TestCluster, name: str, ns: str = "default") -> dict[str, Any] | None:
    return cluster.store.get("", "pods", ns, name)


def wait_phase(cluster: TestCluster, name: str, *phases: str, ns: str = "default",
               timeout: float = 15) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        p = get_pod(cluster, name, ns)
        return p if p and (p.get("status") or {}).get("phase") in phases else None
    return wait_for(check, timeout, f"pod {name} in {phases}")


def log_of(cluster: TestCluster, name: str, container: str = "main", ns: str = "default") -> str:
    book = cluster.kubelet.logbook.get(ns, name, container)
    assert book is not None and book.runs, f"no log for {name}/{container}"
    return book.runs[-1].path.read_text()


def waiting_reason(pod_obj: dict[str, Any], index: int = 0) -> str | None:
    statuses = (pod_obj.get("status") or {}).get("containerStatuses") or []
    if len(statuses) <= index:
        return None
    return ((statuses[index].get("state") or {}).get("waiting") or {}).get("reason")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return {p for p in out if pid_alive(p)}
