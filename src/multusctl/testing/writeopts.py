"""Write options as the apiserver reads them: dryRun (create, update, patch, apply, delete) and DeleteOptions.

A server-side dry run goes through everything a write does (decoding, defaults, name validation, field
ownership, resourceVersion preconditions, AlreadyExists) and stops before storage: the answer is the object
that would have been stored. As the real registry's DryRunnableStorage: a dry-run create has the uid and
creationTimestamp BeforeCreate fills in but no resourceVersion (nothing was stored); a dry-run update keeps
the live resourceVersion and shows the generation the write would have bumped to.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from multusctl.testing.store import ApiError, Obj, _spec_part, bad_request, conflict, now_rfc3339, tracks_generation

PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")


def _unsupported_dry_run(kind: str, values: list[Any]) -> ApiError:
    # ValidateDryRun: field.NotSupported(path "dryRun", value, ["All"]), reported as <Kind>Options invalid.
    shown = json.dumps(values)
    return ApiError(422, "Invalid", f'{kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: {shown}: '
                    'supported values: "All"',
                    {"group": "meta.k8s.io", "kind": kind, "causes": [{
                        "reason": "FieldValueNotSupported", "field": "dryRun",
                        "message": f'Unsupported value: {shown}: supported values: "All"'}]})


def dry_run(query: dict[str, str], options_kind: str, body_values: Any = None) -> bool:
    """Whether the request is a dry run (`?dryRun=All`, or `dryRun: [All]` in a DeleteOptions body); any other
    value is refused with 422 as the real server does, rather than silently writing."""
    values: list[Any] = []
    if "dryRun" in query:
        values.append(query["dryRun"])
    if body_values is not None:
        if not isinstance(body_values, list):
            raise bad_request(f"json: cannot unmarshal {type(body_values).__name__} into Go struct field "
                              f"{options_kind}.dryRun of type []string")
        values.extend(body_values)
    if any(v != "All" for v in values):
        raise _unsupported_dry_run(options_kind, values)
    return bool(values)


@dataclass(frozen=True)
class DeleteOptions:
    dry_run: bool = False
    propagation_policy: str | None = None
    preconditions: dict[str, str] = field(default_factory=dict)
    grace_period_seconds: int | None = None


def _invalid_delete(field_name: str, message: str) -> ApiError:
    return ApiError(422, "Invalid", f'DeleteOptions.meta.k8s.io "" is invalid: {field_name}: {message}',
                    {"group": "meta.k8s.io", "kind": "DeleteOptions",
                     "causes": [{"reason": "FieldValueInvalid", "field": field_name, "message": message}]})


def delete_options(query: dict[str, str], body: bytes) -> DeleteOptions:
    """DeleteOptions from the body (kubectl sends them there) and the query (lightkube, client-go's
    DeleteOptions as parameters), validated as ValidateDeleteOptions does."""
    doc: Obj = {}
    if body.strip():
        try:
            doc = json.loads(body.decode())
        except ValueError as exc:
            raise bad_request(f"the body of the request could not be decoded: {exc}") from None
        if not isinstance(doc, dict):
            raise bad_request("the body of the request was not a JSON object")
    is_dry = dry_run(query, "DeleteOptions", doc.get("dryRun"))
    policy = doc.get("propagationPolicy") or query.get("propagationPolicy") or None
    orphan = doc.get("orphanDependents", query.get("orphanDependents"))
    if policy is not None and policy not in PROPAGATION_POLICIES:
        raise ApiError(422, "Invalid", f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported '
                       f'value: "{policy}": supported values: "Foreground", "Background", "Orphan", "nil"',
                       {"group": "meta.k8s.io", "kind": "DeleteOptions", "causes": [{
                           "reason": "FieldValueNotSupported", "field": "propagationPolicy",
                           "message": f'Unsupported value: "{policy}": supported values: "Foreground", '
                                      '"Background", "Orphan", "nil"'}]})
    if policy is not None and orphan is not None:
        raise _invalid_delete("propagationPolicy", f'Invalid value: "{policy}": orphanDependents and '
                              "deletionPropagation cannot be both set")
    grace = doc.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
    try:
        grace_s = int(grace) if grace is not None else None
    except (TypeError, ValueError):
        raise bad_request(f"invalid gracePeriodSeconds {grace!r}") from None
    pre = doc.get("preconditions") or {}
    if not isinstance(pre, dict):
        raise bad_request("preconditions must be an object")
    return DeleteOptions(is_dry, policy, {k: str(v) for k, v in pre.items() if v}, grace_s)


def check_preconditions(live: Obj, pre: dict[str, str], group: str, plural: str) -> None:
    """The delete preconditions (uid, resourceVersion): 409 Conflict when the live object is another one."""
    meta = live.get("metadata") or {}
    name = meta.get("name", "")
    for key, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        want = pre.get(key)
        if want and want != meta.get(key):
            raise conflict(group, plural, name, f"Precondition failed: {label} in precondition: {want}, "
                           f"{label} in object meta: {meta.get(key, '')}")


def created(obj: Obj, group: str) -> Obj:
    """What a dry-run create answers: the object as it would be stored, minus a resourceVersion."""
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    meta["uid"] = str(uuid.uuid4())
    meta.setdefault("creationTimestamp", now_rfc3339())
    meta.pop("resourceVersion", None)
    if tracks_generation(group):
        meta["generation"] = 1
    return out


def updated(obj: Obj, live: Obj, group: str, plural: str) -> Obj:
    """What a dry-run update, patch or apply answers; a stale resourceVersion conflicts as a real write would."""
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    live_meta = live["metadata"]
    sent = meta.get("resourceVersion")
    if sent and sent != live_meta.get("resourceVersion"):
        raise conflict(group, plural, meta.get("name", ""), "the object has been modified; please apply your "
                       "changes to the latest version and try again")
    for keep in ("uid", "creationTimestamp", "generation", "resourceVersion"):
        if keep in live_meta:
            meta[keep] = live_meta[keep]
    if tracks_generation(group) and _spec_part(live) != _spec_part(out):
        meta["generation"] = int(live_meta.get("generation", 1)) + 1
    return out
