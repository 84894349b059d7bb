"""delegate-drift: the primary config embedded in multus differs from the live file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from multusctl.checks.networks import network_field
from multusctl.checks.registry import Hit, check
from multusctl.gather.snapshot import ConfFile, NodeSnapshot

# Deeper than this we compare nothing structurally: Python's == and json.dumps recurse.
MAX_COMPARE_DEPTH = 200
MAX_DIFFS = 8


@check("delegate-drift")
def delegate_drift(snap: NodeSnapshot) -> Iterator[Hit]:
    m = snap.multus
    if m is None or m.multus is None or m.multus.mode != "thin" or m.multus.get("clusterNetwork"):
        return
    mc = m.multus
    delegates = mc.get("delegates")
    if not isinstance(delegates, list) or not delegates or not isinstance(delegates[0], dict):
        return
    embedded = delegates[0]
    if mc.nesting_depth > 0:
        return  # multus-duplicate reports the nesting; comparing a multus delegate says nothing more
    current = _matching_primary(snap, embedded)
    if current is None or current.cni is None:
        return
    diffs = structural_diff(embedded, current.cni.raw)
    if diffs is None or not diffs:
        return
    shown = "; ".join(_fmt_diff(d) for d in diffs[:MAX_DIFFS])
    more = f" (and {len(diffs) - MAX_DIFFS} more)" if len(diffs) > MAX_DIFFS else ""
    old_name, new_name = embedded.get("name"), current.cni.name
    if isinstance(old_name, str) and new_name and old_name != new_name:
        shown = (f"it embeds network {old_name!r}, but the primary network in {snap.layout.conf_dir} is now "
                 f"{new_name!r} (the primary CNI was replaced)")
        more = ""
    k3s = " k3s rewrites its flannel config on every start and upgrade, so the copy goes stale." \
        if snap.layout.distro == "k3s" else ""
    yield Hit(
        message=f"{m.name} embeds a copy of the primary network as delegates[0], taken when it was written; "
        f"{current.name} now differs: {shown}{more}. Multus runs the embedded copy, so pods do not get the "
        f"primary CNI's current settings.{k3s}",
        fix=f"Regenerate {m.name} (restart the Multus pod on this node), or stop embedding: replace "
        f'"delegates" with "clusterNetwork": "{current.path}" so Multus reads the live file.',
        path=m.path, field=network_field(mc, "delegates[0]"),
        evidence={"primary": current.path, "differences": [_fmt_diff(d) for d in diffs[:MAX_DIFFS]],
                  "count": len(diffs)},
    )


def _matching_primary(snap: NodeSnapshot, embedded: dict[str, Any]) -> ConfFile | None:
    """The non-multus config with the embedded delegate's network name, else the primary."""
    name = embedded.get("name")
    for c in snap.conf_files:
        if c.cni is not None and c.multus is None and isinstance(name, str) and c.cni.name == name:
            return c
    return snap.primary


def structural_diff(a: Any, b: Any) -> list[tuple[str, Any, Any]] | None:
    """(path, embedded value, file value) for each difference, comparing parsed JSON (key order and
    whitespace do not matter; 1 and 1.0 are equal, as in Go's map[string]interface{}). None when either
    side is too deep to compare safely. Iterative."""
    diffs: list[tuple[str, Any, Any]] = []
    stack: list[tuple[str, Any, Any, int]] = [("", a, b, 0)]
    while stack:
        path, x, y, depth = stack.pop()
        if depth > MAX_COMPARE_DEPTH:
            return None
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y), reverse=True):
                sub = f"{path}.{k}" if path else k
                if k not in x:
                    diffs.append((sub, _MISSING, y[k]))
                elif k not in y:
                    diffs.append((sub, x[k], _MISSING))
                else:
                    stack.append((sub, x[k], y[k], depth + 1))
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                diffs.append((path or ".", f"{len(x)} entries", f"{len(y)} entries"))
                continue
            for i in range(len(x) - 1, -1, -1):
                stack.append((f"{path}[{i}]", x[i], y[i], depth + 1))
        elif not _scalar_equal(x, y):
            diffs.append((path or ".", x, y))
    diffs.sort(key=lambda d: d[0])
    return diffs


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def _scalar_equal(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return float(x) == float(y)
    if isinstance(x, dict | list) or isinstance(y, dict | list):
        return False
    return bool(x == y)


def _fmt_diff(d: tuple[str, Any, Any]) -> str:
    path, x, y = d
    return f"{path}: {_short(x)} -> {_short(y)}"


def _short(v: Any) -> str:
    if v is _MISSING:
        return "(absent)"
    if isinstance(v, dict):
        return "{...}"
    if isinstance(v, list):
        return "[...]"
    text = repr(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."
