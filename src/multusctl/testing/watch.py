"""Watch responses: the initial state, the initial-events-end bookmark, then store events as chunked JSON."""

from __future__ import annotations

import json
import select
import socket
import ssl
import time
from typing import Any

from multusctl.testing.api import ResourceApi
from multusctl.testing.store import ApiError, Obj, bad_request, matches, parse_field_selector, parse_label_selector


def serve_watch(self: Any, api: ResourceApi) -> None:
    """A watch request on `self`, the server's request handler: chunked JSON events until the timeout."""
    cluster = self.server.cluster
    q = api.query
    labels = parse_label_selector(q.get("labelSelector"))
    fields = parse_field_selector(q.get("fieldSelector"))
    if api.target.name:
        fields.append(("metadata.name", True, api.target.name))
    if q.get("sendInitialEvents") == "true" and not cluster.watch_list:
        # Before the response starts, as the apiserver's ListOptions validation; client-go's reflector then
        # falls back to LIST and WATCH (so a client needs both verbs where the gate is off).
        cause = ("Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is "
                 "enabled")
        raise ApiError(422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: {cause}',
                       {"group": "meta.k8s.io", "kind": "ListOptions",
                        "causes": [{"reason": "FieldValueForbidden", "message": cause, "field": "sendInitialEvents"}]})
    rv_param = q.get("resourceVersion", "")
    timeout = float(q.get("timeoutSeconds") or 1800)
    deadline = time.monotonic() + timeout
    rt = api.target.rt
    ns = api.target.namespace
    initial: list[Obj] = []
    if rv_param in ("", "0") or q.get("sendInitialEvents") == "true":
        items, rv = cluster.store.select(rt.group, rt.plural, ns or None, q.get("labelSelector"),
                                         q.get("fieldSelector"))
        initial = [o for o in items if matches(o, [], fields)]
    else:
        try:
            rv = int(rv_param)
        except ValueError:
            raise bad_request(f"invalid resource version {rv_param!r}") from None
    events = cluster.store.events_since(rv, deadline, cluster._stopping.is_set, cluster.watch_poll)
    self._start_chunked("application/json")

    first = [True]

    def emit(etype: str, obj: Obj) -> None:
        if api.table and etype in ("ADDED", "MODIFIED", "DELETED"):
            # As the apiserver: one single-row Table per event, columns only in the first.
            obj = api.as_table([obj], obj["metadata"].get("resourceVersion", ""), first[0])
            first[0] = False
        self._chunk(json.dumps({"type": etype, "object": obj}).encode() + b"\n")

    try:
        for obj in initial:
            emit("ADDED", api.present(obj))
        if q.get("sendInitialEvents") == "true":
            emit("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": {
                "resourceVersion": str(rv), "annotations": {"k8s.io/initial-events-end": "true"}}})
        for ev in events:
            if ev is None:
                if _peer_gone(self.connection):
                    return
                continue
            if ev.group != rt.group or ev.plural != rt.plural or (ns and ev.namespace != ns):
                continue
            if not matches(ev.obj, labels, fields):
                continue
            emit(ev.type, api.present(ev.obj))
        self.wfile.write(b"0\r\n\r\n")
    except ApiError as err:
        emit("ERROR", err.status())
    except (OSError, ValueError):
        return


def _peer_gone(conn: socket.socket) -> bool:
    """Whether a watching client hung up (it sends nothing while watching, so readable means EOF)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        previous = conn.gettimeout()
        conn.settimeout(0)
        try:
            return conn.recv(1) == b""
        finally:
            conn.settimeout(previous)
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except (OSError, ValueError):
        return True


