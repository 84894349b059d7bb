"""In-memory object storage with resourceVersions, selectors and a watch log.

Objects are kept per (group, plural, namespace, name), independent of the version they were
written with. The store also implements the ``Lookup`` protocol of :mod:`multusctl.testing.auth`.
"""

from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Key = tuple[str, str, str, str]  # group, plural, namespace ("" when cluster-scoped), name
Obj = dict[str, Any]

# How many changes a watch can resume from; older resourceVersions get 410 Gone, like etcd compaction.
WATCH_WINDOW = 20000


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Obj:
    body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                 "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    """An error the server answers with a ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> Obj:
        return status_body(self.code, self.reason, self.message, self.details)


def qualified(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(group, plural)} "{name}" not found',
                    {"name": name, "group": group, "kind": plural} if group else {"name": name, "kind": plural})


def already_exists(group: str, plural: str, name: str) -> ApiError:
    details = {"name": name, "kind": plural} | ({"group": group} if group else {})
    return ApiError(409, "AlreadyExists", f'{qualified(group, plural)} "{name}" already exists', details)


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    details = {"name": name, "kind": plural} | ({"group": group} if group else {})
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {qualified(group, plural)} "{name}": {why}',
                    details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422 Invalid, worded like field.ErrorList: `Kind.group "name" is invalid: field: message`."""
    qual = f"{kind}.{group}" if group else kind
    msg = ", ".join(f"{f}: {m}" for f, m in causes)
    if len(causes) > 1:
        msg = "[" + msg + "]"
    # metav1.StatusDetails: empty name and group are omitted (omitempty).
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes]
    return ApiError(422, "Invalid", f'{qual} "{name}" is invalid: {msg}', details)


# ---- selectors -------------------------------------------------------------------------------------

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\)|(==|=|!=)\s*([^,]*))?\s*$")


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses (`a in (x,y),b=c`)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values  # "!=", "notin"


def parse_label_selector(text: str | None) -> list[Requirement]:
    reqs: list[Requirement] = []
    for part in _split_top(text or ""):
        m = _SET_RE.match(part)
        if not m:
            raise bad_request(f"unable to parse requirement: {part!r}")
        neg, key, setop, setvals, op, val = m.groups()
        if setop:
            reqs.append(Requirement(key, setop, tuple(v.strip() for v in setvals.split(",") if v.strip())))
        elif op:
            reqs.append(Requirement(key, "!=" if op == "!=" else "=", (val.strip(),)))
        else:
            reqs.append(Requirement(key, "!exists" if neg else "exists"))
    return reqs


def label_selector_from_dict(selector: dict[str, Any] | None) -> list[Requirement] | None:
    """A LabelSelector object (matchLabels/matchExpressions); None when it selects nothing."""
    if selector is None:
        return None
    reqs = [Requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in selector.get("matchExpressions") or []:
        reqs.append(Requirement(expr["key"], ops[expr["operator"]], tuple(expr.get("values") or ())))
    return reqs


def parse_field_selector(text: str | None) -> list[tuple[str, bool, str]]:
    """`a=b,c!=d` -> [(path, equal, value)]; any dotted path is accepted (the real server limits them
    per resource; metadata.name, metadata.namespace and spec.nodeName are the common ones)."""
    out = []
    for part in _split_top(text or ""):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        out.append((m.group(1), m.group(2) != "!=", m.group(3)))
    return out


def _field_value(obj: Obj, path: str) -> str:
    cur: Any = obj
    for piece in path.split("."):
        cur = cur.get(piece) if isinstance(cur, dict) else None
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def matches(obj: Obj, labels: list[Requirement], fields: list[tuple[str, bool, str]]) -> bool:
    obj_labels = (obj.get("metadata") or {}).get("labels") or {}
    if not all(r.matches(obj_labels) for r in labels):
        return False
    return all((_field_value(obj, p) == v) == eq for p, eq, v in fields)


# ---- the store --------------------------------------------------------------------------------------


@dataclass
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    group: str
    plural: str
    namespace: str
    obj: Obj


Observer = Callable[[WatchEvent], None]


@dataclass
class Store:
    """Thread-safe object storage. Every write gets a new, cluster-wide increasing resourceVersion."""

    _objects: dict[Key, Obj] = field(default_factory=dict)
    _rv: int = 1000
    _log: deque[WatchEvent] = field(default_factory=lambda: deque(maxlen=WATCH_WINDOW))
    _cond: threading.Condition = field(default_factory=lambda: threading.Condition(threading.RLock()))
    observers: list[Observer] = field(default_factory=list)
    closed: bool = False

    # -- Lookup protocol (read-only copies) --

    def get(self, group: str, resource: str, namespace: str | None, name: str) -> Obj | None:
        with self._cond:
            obj = self._objects.get((group, resource, namespace or "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, group: str, resource: str, namespace: str | None = None) -> list[Obj]:
        with self._cond:
            return [copy.deepcopy(o) for (g, p, ns, _n), o in sorted(self._objects.items())
                    if g == group and p == resource and (namespace is None or ns == namespace)]

    def peek_list(self, group: str, resource: str, namespace: str | None = None) -> list[Obj]:
        """The live objects themselves (no copies), for controllers that only read them: never mutate."""
        with self._cond:
            return [o for (g, p, ns, _n), o in self._objects.items()
                    if g == group and p == resource and (namespace is None or ns == namespace)]

    def peek_all(self) -> list[tuple[Key, Obj]]:
        """Every live object with its key (no copies, never mutate): for the garbage collector."""
        with self._cond:
            return list(self._objects.items())

    # -- reads for the API --

    @property
    def resource_version(self) -> int:
        with self._cond:
            return self._rv

    def select(self, group: str, plural: str, namespace: str | None, label_selector: str | None = None,
               field_selector: str | None = None) -> tuple[list[Obj], int]:
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector)
        with self._cond:
            items = [o for o in self.list(group, plural, namespace) if matches(o, labels, fields)]
            return items, self._rv

    # -- writes --

    def _commit(self, etype: str, group: str, plural: str, ns: str, obj: Obj) -> WatchEvent:
        ev = WatchEvent(self._rv, etype, group, plural, ns, copy.deepcopy(obj))
        self._log.append(ev)
        self._cond.notify_all()
        return ev

    def _notify(self, ev: WatchEvent) -> None:
        for obs in list(self.observers):
            obs(ev)

    def create(self, group: str, plural: str, obj: Obj) -> Obj:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["generateName"] + uuid.uuid4().hex[:5]
            meta["name"] = name
        if not name:
            raise invalid(obj.get("kind", plural), group, "", [("metadata.name", "Required value: name or "
                                                                "generateName is required")])
        ns = meta.get("namespace") or ""
        key = (group, plural, ns, name)
        with self._cond:
            if key in self._objects:
                raise already_exists(group, plural, name)
            self._rv += 1
            meta["uid"] = str(uuid.uuid4())
            meta["resourceVersion"] = str(self._rv)
            meta.setdefault("creationTimestamp", now_rfc3339())
            if tracks_generation(group):
                meta["generation"] = 1
            meta.pop("deletionTimestamp", None)
            self._objects[key] = copy.deepcopy(obj)
            ev = self._commit("ADDED", group, plural, ns, obj)
        self._notify(ev)
        return copy.deepcopy(obj)

    def update(self, group: str, plural: str, obj: Obj, *, check_rv: bool = True) -> Obj:
        """Replace an object. A resourceVersion in `obj` must match the stored one (409 Conflict)."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        name, ns = meta.get("name", ""), meta.get("namespace") or ""
        key = (group, plural, ns, name)
        with self._cond:
            old = self._objects.get(key)
            if old is None:
                raise not_found(group, plural, name)
            sent_rv = meta.get("resourceVersion")
            if check_rv and sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise conflict(group, plural, name,
                               "the object has been modified; please apply your changes to the latest "
                               "version and try again")
            old_meta = old["metadata"]
            for keep in ("uid", "creationTimestamp", "generation"):
                if keep in old_meta:
                    meta[keep] = old_meta[keep]
            if tracks_generation(group) and _spec_part(old) != _spec_part(obj):
                meta["generation"] = int(old_meta.get("generation", 1)) + 1
            new_cmp, old_cmp = copy.deepcopy(obj), copy.deepcopy(old)
            for o in (new_cmp, old_cmp):
                o["metadata"].pop("resourceVersion", None)
                o["metadata"].pop("managedFields", None)
            if new_cmp == old_cmp:
                # A no-op write keeps the resourceVersion and sends no watch event, like the real server.
                meta["resourceVersion"] = old_meta["resourceVersion"]
                self._objects[key] = copy.deepcopy(obj)
                return copy.deepcopy(obj)
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            self._objects[key] = copy.deepcopy(obj)
            ev = self._commit("MODIFIED", group, plural, ns, obj)
        self._notify(ev)
        return copy.deepcopy(obj)

    def delete(self, group: str, plural: str, namespace: str | None, name: str) -> Obj:
        key = (group, plural, namespace or "", name)
        with self._cond:
            obj = self._objects.pop(key, None)
            if obj is None:
                raise not_found(group, plural, name)
            self._rv += 1
            obj["metadata"]["resourceVersion"] = str(self._rv)
            ev = self._commit("DELETED", group, plural, namespace or "", obj)
        self._notify(ev)
        return copy.deepcopy(obj)

    def delete_all(self, group: str, plural: str, namespace: str | None = None) -> list[Obj]:
        with self._cond:
            keys = [k for k in self._objects if k[0] == group and k[1] == plural
                    and (namespace is None or k[2] == namespace)]
        out = []
        for k in keys:
            try:
                out.append(self.delete(k[0], k[1], k[2], k[3]))
            except ApiError:
                continue
        return out

    def delete_namespace_contents(self, namespace: str) -> None:
        with self._cond:
            keys = [k for k in self._objects if k[2] == namespace]
        for g, p, ns, n in keys:
            try:
                self.delete(g, p, ns, n)
            except ApiError:
                continue

    # -- watch --

    def events_since(self, rv: int, deadline: float, stop: Callable[[], bool],
                     poll: float = 0.5) -> Iterator[WatchEvent | None]:
        """Yield events with resourceVersion > rv as they happen, or None on each idle poll
        (so the caller can notice a closed connection), until `deadline` or `stop()`."""
        with self._cond:
            if self._log and rv < self._log[0].rv - 1 and len(self._log) == self._log.maxlen:
                raise ApiError(410, "Expired", f"too old resource version: {rv} ({self._log[0].rv - 1})")
        last = rv
        while not stop() and not self.closed:
            with self._cond:
                pending = [e for e in self._log if e.rv > last]
                if not pending:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    self._cond.wait(min(poll, remaining))
                    pending = [e for e in self._log if e.rv > last]
            if pending:
                last = pending[-1].rv
                yield from pending
            else:
                if time.monotonic() >= deadline:
                    return
                yield None

    def wake_all(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def tracks_generation(group: str) -> bool:
    """Core, RBAC and events objects have no metadata.generation in the real server (1.31)."""
    return group not in ("", "rbac.authorization.k8s.io", "events.k8s.io")


def _spec_part(obj: Obj) -> Obj:
    """What counts for metadata.generation: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}
