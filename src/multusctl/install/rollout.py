"""A bounded wait for a DaemonSet's rollout, driven by a watch (no polling), with progress lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Progress:
    desired: int
    updated: int
    ready: int
    available: int
    observed: bool  # the controller has seen the current generation

    @classmethod
    def of(cls, ds: Obj) -> Progress:
        st = ds.get("status") or {}
        gen = (ds.get("metadata") or {}).get("generation") or 0
        return cls(int(st.get("desiredNumberScheduled") or 0), int(st.get("updatedNumberScheduled") or 0),
                   int(st.get("numberReady") or 0), int(st.get("numberAvailable") or 0),
                   int(st.get("observedGeneration") or 0) >= int(gen))

    @property
    def done(self) -> bool:
        # As `kubectl rollout status` for a DaemonSet: the current generation observed, every desired pod
        # updated and available.
        return self.observed and self.updated >= self.desired and self.available >= self.desired

    def line(self) -> str:
        if not self.observed:
            return "waiting for the DaemonSet controller to see the new spec"
        return f"{self.updated}/{self.desired} updated, {self.ready}/{self.desired} ready"


class RolloutTimeout(Exception):
    def __init__(self, message: str, last: Progress | None) -> None:
        super().__init__(message)
        self.last = last


class RolloutGone(Exception):
    """The DaemonSet was deleted while we waited."""


def wait_rollout(api: Any, namespace: str, name: str, timeout: float,
                 on_progress: Callable[[Progress], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> Progress:
    """Wait until DaemonSet namespace/name has rolled out, at most `timeout` seconds. Reads it once, then
    watches it from that resourceVersion; `on_progress` gets every distinct state. Raises RolloutTimeout
    (with the last state), RolloutGone, or ApiFailure. Ctrl-C propagates as KeyboardInterrupt."""
    deadline = clock() + timeout
    ds = api.get_object("apps/v1", "DaemonSet", name, namespace)
    if ds is None:
        raise RolloutGone(f"DaemonSet {namespace}/{name} does not exist")
    last = Progress.of(ds)
    if on_progress:
        on_progress(last)
    if last.done:
        return last
    rv = (ds.get("metadata") or {}).get("resourceVersion")
    while True:
        left = deadline - clock()
        if left <= 0:
            raise RolloutTimeout(f"DaemonSet {namespace}/{name} did not roll out within {timeout:g} s: "
                                 f"{last.line()}", last)
        for etype, obj in api.watch_objects("apps/v1", "DaemonSet", namespace, timeout=left,
                                            fields=f"metadata.name={name}", resource_version=rv):
            rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
            if etype == "DELETED":
                raise RolloutGone(f"DaemonSet {namespace}/{name} was deleted while waiting for its rollout")
            now = Progress.of(obj)
            if now != last and on_progress:
                on_progress(now)
            last = now
            if now.done:
                return now
            if clock() >= deadline:
                break


def wait_gone(api: Any, api_version: str, kind: str, namespace: str | None, name: str, timeout: float,
              clock: Callable[[], float] = time.monotonic) -> bool:
    """Whether the object is gone within `timeout` (a foreground deletion waits for its dependents)."""
    deadline = clock() + timeout
    while True:
        obj = api.get_object(api_version, kind, name, namespace)
        if obj is None:
            return True
        left = deadline - clock()
        if left <= 0:
            return False
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        for etype, _ in api.watch_objects(api_version, kind, namespace, timeout=left,
                                          fields=f"metadata.name={name}", resource_version=rv):
            if etype == "DELETED":
                return True
