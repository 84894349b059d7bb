"""A `-l` label selector (kubectl's syntax) as node affinity matchExpressions, for the DaemonSet mode: the
API server filters the Node list by the same selector, and the DaemonSet must land on the same nodes."""

from __future__ import annotations

import re
from typing import Any

Obj = dict[str, Any]

_SET = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")


class SelectorError(ValueError):
    pass


def _split(selector: str) -> list[str]:
    """Split at commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    if len(parts) > 1 and any(not p.strip() for p in parts):
        raise SelectorError(f"an empty term in {selector!r} (two commas, or one at an end)")
    return [p for p in parts if p.strip()]


def match_expressions(selector: str) -> list[Obj]:
    """`app=x,tier!=y,zone in (a,b),gpu,!spot` -> NodeSelectorRequirements; SelectorError on bad syntax."""
    out: list[Obj] = []
    for part in _split(selector):
        if m := _EQ.match(part):
            key, op, value = m.groups()
            out.append({"key": key, "operator": "NotIn" if op == "!=" else "In", "values": [value]})
            continue
        m = _SET.match(part)
        if not m or (m.group(1) and m.group(3)):
            raise SelectorError(f"not a label selector term: {part.strip()!r}")
        neg, key, op, values = m.groups()
        if op:
            vals = [v.strip() for v in values.split(",") if v.strip()]
            out.append({"key": key, "operator": "In" if op == "in" else "NotIn", "values": vals})
        else:
            out.append({"key": key, "operator": "DoesNotExist" if neg else "Exists"})
    return out
