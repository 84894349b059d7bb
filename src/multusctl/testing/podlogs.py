"""Pod logs: the ``pods/log`` subresource for seeded logs and for the containers the kubelet runs.

A container's stdout and stderr go to one file per run (restart); :class:`LogBook` maps
(namespace, pod, container) to those runs. ``GET .../pods/NAME/log`` serves the current run
(``previous=true``: the one before), with ``tailLines`` and ``limitBytes``; ``follow=true`` streams
the file as it grows until the container exits (or the pod goes away, or the server stops). A
container that never started answers 400 ``container "c" in pod "p" is waiting to start: REASON``,
as the real kubelet does. Not supported: ``timestamps`` (lines carry no capture time), ``sinceSeconds``
and ``sinceTime`` (ignored).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multusctl.testing.store import ApiError, bad_request

FOLLOW_POLL = 0.1


@dataclass
class Run:
    path: Path
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class ContainerLog:
    runs: list[Run] = field(default_factory=list)
    waiting: str = "ContainerCreating"  # why no run exists yet (reported while runs is empty)


class LogBook:
    """Thread-safe: the kubelet writes, request handlers read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[tuple[str, str, str], ContainerLog] = {}

    def ensure(self, ns: str, pod: str, container: str) -> ContainerLog:
        with self._lock:
            return self._logs.setdefault((ns, pod, container), ContainerLog())

    def set_waiting(self, ns: str, pod: str, container: str, reason: str) -> None:
        self.ensure(ns, pod, container).waiting = reason

    def add_run(self, ns: str, pod: str, container: str, path: Path) -> Run:
        run = Run(path)
        log = self.ensure(ns, pod, container)
        with self._lock:
            log.runs.append(run)
        return run

    def get(self, ns: str, pod: str, container: str) -> ContainerLog | None:
        with self._lock:
            return self._logs.get((ns, pod, container))

    def has_pod(self, ns: str, pod: str) -> bool:
        with self._lock:
            return any(k[:2] == (ns, pod) for k in self._logs)

    def forget(self, ns: str, pod: str) -> list[Run]:
        with self._lock:
            keys = [k for k in self._logs if k[:2] == (ns, pod)]
            runs = [r for k in keys for r in self._logs.pop(k).runs]
        for r in runs:
            r.done.set()
        return runs


def pick_container(pod_name: str, containers: list[str], init: list[str], wanted: str) -> str:
    if not wanted:
        if len(containers) > 1:
            raise bad_request(f"a container name must be specified for pod {pod_name}, choose one of: "
                              f"[{' '.join(containers)}]"
                              + (f" or one of the init containers: [{' '.join(init)}]" if init else ""))
        return containers[0] if containers else ""
    if wanted not in containers and wanted not in init:
        raise bad_request(f"container {wanted} is not valid for pod {pod_name}")
    return wanted


def _tail(data: bytes, lines: int) -> bytes:
    if lines <= 0:
        return b""
    parts = data.splitlines(keepends=True)
    return b"".join(parts[-lines:])


def select_run(log: ContainerLog, pod: str, container: str, previous: bool) -> Run:
    if previous:
        if len(log.runs) < 2:
            raise bad_request(f'previous terminated container "{container}" in pod "{pod}" not found')
        return log.runs[-2]
    if not log.runs:
        raise bad_request(f'container "{container}" in pod "{pod}" is waiting to start: {log.waiting}')
    return log.runs[-1]


def read_log(run: Run, query: dict[str, str]) -> bytes:
    try:
        data = run.path.read_bytes()
    except FileNotFoundError:
        data = b""
    if query.get("tailLines") is not None:
        data = _tail(data, int(query["tailLines"]))
    if query.get("limitBytes"):
        data = data[:int(query["limitBytes"])]
    return data


def stream_log(run: Run, query: dict[str, str], write: Callable[[bytes], None], stopping: Callable[[], bool],
               gone: Callable[[], bool]) -> None:
    """follow=true: what is there (tailLines applied), then new bytes until the run ends."""
    limit = int(query["limitBytes"]) if query.get("limitBytes") else None
    sent = 0
    try:
        fh = run.path.open("rb")
    except FileNotFoundError:
        return
    with fh:
        first = fh.read()
        if query.get("tailLines") is not None:
            first = _tail(first, int(query["tailLines"]))
        chunk = first
        while True:
            if chunk:
                if limit is not None:
                    chunk = chunk[:max(limit - sent, 0)]
                if chunk:
                    write(chunk)
                    sent += len(chunk)
                if limit is not None and sent >= limit:
                    return
            finished = run.done.is_set()
            if finished:
                rest = fh.read()
                if rest:
                    chunk = rest
                    continue
                return
            if stopping() or gone():
                return
            run.done.wait(FOLLOW_POLL)
            chunk = fh.read()


def check_follow_query(query: dict[str, str]) -> None:
    for key in ("tailLines", "limitBytes"):
        if query.get(key) is not None:
            try:
                int(query[key])
            except ValueError:
                raise ApiError(400, "BadRequest", f"invalid {key} {query[key]!r}") from None


def serve_pod_log(handler: Any, api: Any) -> None:
    """Answer ``GET .../pods/NAME/log`` on `handler` (the server's request handler) for `api`'s target."""
    cluster, query = api.cluster, api.query
    ns, name = api.target.namespace, api.target.name
    pod = api._get_live()
    spec = pod.get("spec") or {}
    if spec.get("nodeName") not in cluster.simulated_nodes:
        handler._send(200, api.pod_log().encode(), "text/plain")
        return
    check_follow_query(query)
    container = pick_container(name, [c["name"] for c in spec.get("containers") or []],
                               [c["name"] for c in spec.get("initContainers") or []], query.get("container", ""))
    log = cluster.kubelet.logbook.get(ns, name, container) or ContainerLog()
    run = select_run(log, name, container, query.get("previous") in ("true", "1"))
    if query.get("follow") not in ("true", "1"):
        handler._send(200, read_log(run, query), "text/plain")
        return
    handler._start_chunked("text/plain")

    def gone() -> bool:
        return cluster.kubelet.logbook.get(ns, name, container) is not log
    try:
        stream_log(run, query, handler._chunk, cluster._stopping.is_set, gone)
        handler.wfile.write(b"0\r\n\r\n")
    except (OSError, ValueError):
        return
