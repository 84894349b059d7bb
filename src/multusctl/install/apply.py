"""Server-side apply of the rendered objects: preflight, a backup of what changes, one Change per object."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from multusctl.install.backup import Backup
from multusctl.install.objects import OUR_LABELS, Ref
from multusctl.install.preflight import Refused, install_checks
from multusctl.provision.api import ApiFailure

Obj = dict[str, Any]

# Server-written metadata: not part of what we apply, so never a reason to call an object changed.
_SERVER_META = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")


@dataclass
class Change:
    ref: Ref
    action: str  # created | configured | unchanged (with dry_run: what would happen)
    fields: list[str] = field(default_factory=list)  # what differs, for configured (secret values hidden)
    backup: str | None = None

    def line(self, dry_run: bool) -> str:
        suffix = " (server dry run)" if dry_run else ""
        verb = {"created": "would be created", "configured": "would be configured",
                "unchanged": "unchanged"}[self.action] if dry_run else self.action
        return f"{self.ref} {verb}{suffix}"


class ApplyConflict(Exception):
    """Another field manager owns fields we set; one line naming it."""


def _conflict(ref: Ref, exc: ApiFailure) -> ApplyConflict:
    text = str(exc)
    found = re.findall(r'conflict with "([^"]+)"(?: using [^:]+)?: (\S+)', text)
    who = sorted({m for m, _ in found}) or ["another field manager"]
    fields = [f for _, f in found]
    shown = ", ".join(fields[:3]) + (f" and {len(fields) - 3} more" if len(fields) > 3 else "")
    return ApplyConflict(f"{ref}: {len(fields) or 'some'} field(s) are owned by {', '.join(who)}"
                         f"{f' ({shown})' if shown else ''}; nothing more was applied (--force-conflicts takes "
                         "them over)")


def _normal(obj: Obj | None) -> Obj:
    out = copy.deepcopy(obj or {})
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for k in _SERVER_META:
        meta.pop(k, None)
    return out


def diff_fields(before: Any, after: Any, path: str = "", secret: bool = False, limit: int = 20) -> list[str]:
    """Paths whose value differs, `path: old -> new` (with `secret`, a Secret: no value is shown)."""
    out: list[str] = []
    if isinstance(before, dict) and isinstance(after, dict):
        for k in sorted(set(before) | set(after), key=str):
            out += diff_fields(before.get(k), after.get(k), f"{path}.{k}" if path else str(k), secret, limit)
            if len(out) >= limit:
                break
        return out[:limit]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out += diff_fields(b, a, f"{path}[{i}]", secret, limit)
        return out[:limit]
    if before != after:
        if secret:
            return [f"{path}: (changed; value not shown)"]

        def show(v: Any) -> str:
            text = "(none)" if v is None else repr(v) if not isinstance(v, dict | list) else f"<{type(v).__name__}>"
            return text if len(text) <= 60 else text[:57] + "..."

        return [f"{path}: {show(before)} -> {show(after)}"]
    return []


def unlabelled(objects: list[Obj]) -> list[str]:
    """Objects without our labels: uninstall would never find them, so install refuses them."""
    bad = []
    for obj in objects:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if any(labels.get(k) != v for k, v in OUR_LABELS.items()):
            bad.append(f"{Ref.of(obj)} lacks the labels " + ", ".join(f"{k}={v}" for k, v in OUR_LABELS.items()))
    return bad


def apply(api: Any, objects: list[Obj], dry_run: bool, *, force: bool = False,
          backup: Backup | None = None) -> list[Change]:
    """Apply every object in order (field manager multusctl). Checks every precondition first (raises
    preflight.Refused), saves each live object it is about to change into `backup`, and stops at the first
    conflict (ApplyConflict) or API failure (ApiFailure)."""
    if problems := unlabelled(objects):
        raise Refused("install", problems)
    live = install_checks(api, objects, force)
    changes: list[Change] = []
    for obj in objects:
        ref = Ref.of(obj)
        before = live.get(ref)
        try:
            would = api.apply_object(obj, force=force, dry_run=True)
            if dry_run:
                after = would
            else:
                changed = before is not None and _normal(before) != _normal(would)
                saved = backup.save(before) if changed and backup is not None and before is not None else None
                after = api.apply_object(obj, force=force)
        except ApiFailure as exc:
            if exc.code == 409 and exc.reason == "Conflict":
                raise _conflict(ref, exc) from None
            raise
        if before is None:
            changes.append(Change(ref, "created"))
            continue
        if dry_run:
            differs = _normal(before) != _normal(after)
            saved = None
        else:
            # The server's word: a no-op apply keeps the resourceVersion.
            differs = (before.get("metadata") or {}).get("resourceVersion") != \
                (after.get("metadata") or {}).get("resourceVersion")
        fields = diff_fields(_normal(before), _normal(after), secret=ref.kind == "Secret") if differs else []
        changes.append(Change(ref, "configured" if differs else "unchanged", fields, saved))
    return changes
