"""Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for on `get`.

Columns follow the apiserver's printers for the types this server knows (pkg/printers/internalversion),
CRDs use their additionalPrinterColumns, anything else gets Name and Age.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from multusctl.testing.resources import ResourceType

Obj = dict[str, Any]
Column = tuple[str, str, Callable[[Obj], Any], int]  # name, type, cell, priority (1 = only with -o wide)


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m" if s % 60 == 0 else f"{m}m{s % 60}s"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h" if m % 60 == 0 else f"{h}h{m % 60}m"
    if h < 48:
        return f"{h}h"
    if h < 192:
        return f"{h // 24}d" if h % 24 == 0 else f"{h // 24}d{h % 24}h"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        return f"{h // 24 // 365}y{(h // 24) % 365}d"
    return f"{h // 24 // 365}y"


def age(obj: Obj) -> str:
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    created = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return human_duration((datetime.now(UTC) - created).total_seconds())


def _get(obj: Any, *path: str, default: Any = None) -> Any:
    for p in path:
        obj = obj.get(p) if isinstance(obj, dict) else None
    return default if obj is None else obj


def _pod_ready(pod: Obj) -> str:
    statuses = _get(pod, "status", "containerStatuses", default=[])
    total = len(_get(pod, "spec", "containers", default=[]))
    return f"{sum(1 for c in statuses if c.get('ready'))}/{total}"


def _pod_status(pod: Obj) -> str:
    if _get(pod, "metadata", "deletionTimestamp"):
        return "Terminating"
    for c in _get(pod, "status", "containerStatuses", default=[]):
        reason = _get(c, "state", "waiting", "reason") or _get(c, "state", "terminated", "reason")
        if reason:
            return str(reason)
    return str(_get(pod, "status", "reason") or _get(pod, "status", "phase", default="Pending"))


def _restarts(pod: Obj) -> int:
    return sum(int(c.get("restartCount", 0)) for c in _get(pod, "status", "containerStatuses", default=[]))


def _node_status(node: Obj) -> str:
    ready = next((c for c in _get(node, "status", "conditions", default=[]) if c.get("type") == "Ready"), None)
    status = "Ready" if ready and ready.get("status") == "True" else "NotReady" if ready else "Unknown"
    return status + (",SchedulingDisabled" if _get(node, "spec", "unschedulable") else "")


def _node_roles(node: Obj) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix):] for k in _get(node, "metadata", "labels", default={}) if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _ports(svc: Obj) -> str:
    out = []
    for p in _get(svc, "spec", "ports", default=[]):
        node_port = f":{p['nodePort']}" if p.get("nodePort") else ""
        out.append(f"{p.get('port')}{node_port}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _selector(ds: Obj) -> str:
    sel = _get(ds, "spec", "template", "spec", "nodeSelector", default={})
    return ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>"


def _st(*path: str) -> Callable[[Obj], Any]:
    return lambda o: _get(o, *path, default=0)


NAME: Column = ("Name", "string", lambda o: o["metadata"]["name"], 0)
AGE: Column = ("Age", "string", age, 0)

COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "namespaces"): [NAME, ("Status", "string", lambda o: _get(o, "status", "phase", default=""), 0), AGE],
    ("", "pods"): [NAME, ("Ready", "string", _pod_ready, 0), ("Status", "string", _pod_status, 0),
                   ("Restarts", "string", lambda o: str(_restarts(o)), 0), AGE,
                   ("IP", "string", lambda o: _get(o, "status", "podIP", default="<none>"), 1),
                   ("Node", "string", lambda o: _get(o, "spec", "nodeName", default="<none>"), 1),
                   ("Nominated Node", "string", lambda o: _get(o, "status", "nominatedNodeName", default="<none>"), 1),
                   ("Readiness Gates", "string", lambda o: "<none>", 1)],
    ("", "nodes"): [NAME, ("Status", "string", _node_status, 0), ("Roles", "string", _node_roles, 0), AGE,
                    ("Version", "string", lambda o: _get(o, "status", "nodeInfo", "kubeletVersion", default=""), 0)],
    ("", "services"): [NAME, ("Type", "string", lambda o: _get(o, "spec", "type", default="ClusterIP"), 0),
                       ("Cluster-IP", "string", lambda o: _get(o, "spec", "clusterIP", default="<none>"), 0),
                       ("External-IP", "string", lambda o: "<none>", 0), ("Port(s)", "string", _ports, 0), AGE],
    ("", "serviceaccounts"): [NAME, ("Secrets", "integer", lambda o: len(o.get("secrets") or []), 0), AGE],
    ("", "configmaps"): [NAME, ("Data", "integer",
                                lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {}), 0), AGE],
    ("", "secrets"): [NAME, ("Type", "string", lambda o: o.get("type", ""), 0),
                      ("Data", "integer", lambda o: len(o.get("data") or {}), 0), AGE],
    ("apps", "daemonsets"): [NAME, ("Desired", "integer", _st("status", "desiredNumberScheduled"), 0),
                             ("Current", "integer", _st("status", "currentNumberScheduled"), 0),
                             ("Ready", "integer", _st("status", "numberReady"), 0),
                             ("Up-to-date", "integer", _st("status", "updatedNumberScheduled"), 0),
                             ("Available", "integer", _st("status", "numberAvailable"), 0),
                             ("Node Selector", "string", _selector, 0), AGE],
    ("apiextensions.k8s.io", "customresourcedefinitions"): [
        NAME, ("Created At", "date", lambda o: _get(o, "metadata", "creationTimestamp", default=""), 0)],
}


def _json_path_cell(path: str) -> Callable[[Obj], Any]:
    parts = [p for p in path.strip().lstrip(".").split(".") if p]
    return lambda o: _get(o, *parts)


def columns_for(rt: ResourceType, crd: Obj | None) -> list[Column]:
    if crd is not None:
        for ver in _get(crd, "spec", "versions", default=[]):
            if ver.get("name") == rt.version and ver.get("additionalPrinterColumns"):
                cols: list[Column] = [NAME]
                for c in ver["additionalPrinterColumns"]:
                    cell = age if c.get("jsonPath") == ".metadata.creationTimestamp" else _json_path_cell(
                        c.get("jsonPath", ""))
                    cols.append((c["name"], c.get("type", "string"), cell, int(c.get("priority", 0))))
                return cols
    return COLUMNS.get((rt.group, rt.plural), [NAME, AGE])


def wants_table(accept: str | None) -> bool:
    return "as=Table" in (accept or "")


def table(rt: ResourceType, objects: list[Obj], resource_version: str, crd: Obj | None, include_object: str,
          with_columns: bool = True) -> Obj:
    cols = columns_for(rt, crd)
    rows = []
    for obj in objects:
        if include_object == "Object":
            embedded = obj
        elif include_object == "None":
            embedded = None
        else:
            embedded = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj.get("metadata") or {}}
        cells = []
        for _name, _typ, cell, _prio in cols:
            try:
                value = cell(obj)
            except (KeyError, TypeError, ValueError, AttributeError):
                value = None
            cells.append("<none>" if value is None else value)
        row: Obj = {"cells": cells}
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    out: Obj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
                "rows": rows}
    if with_columns:
        out["columnDefinitions"] = [
            {"name": name, "type": typ, "format": "name" if name == "Name" else "", "description": "",
             "priority": prio} for name, typ, _cell, prio in cols]
    return out
