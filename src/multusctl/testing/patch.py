"""Patch flavours: JSON patch, JSON merge patch, strategic merge patch and server-side apply.

Strategic merge patch knows the merge keys of the built-in list fields kubectl's re-apply
touches (containers, volumes, env, ports, volumeMounts, ...) from a small table instead of the
Go struct tags; lists it does not know are replaced, as for custom resources.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from multusctl.testing.store import ApiError, bad_request, now_rfc3339

Obj = dict[str, Any]
Path = tuple[str, ...]

# field name -> merge key, for lists of objects merged by key (patchStrategy=merge in the Go types).
MERGE_KEYS: dict[str, str] = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
    "env": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "secrets": "name", "ownerReferences": "uid", "conditions": "type", "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey", "resourceClaims": "name", "subsets": "",
}
# Lists of scalars whose patchStrategy is merge (a set, union on patch).
MERGE_SCALAR_LISTS = {"finalizers"}


def merge_key_for(path: Path, name: str) -> str | None:
    if name == "ports":
        # Container ports merge on containerPort, Service ports on port.
        return "containerPort" if any(p in ("containers", "initContainers") for p in path) else "port"
    key = MERGE_KEYS.get(name)
    return key or None


# ---- RFC 7386 JSON merge patch ---------------------------------------------------------------------


def json_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = json_merge_patch(result.get(k), v)
    return result


# ---- RFC 6902 JSON patch ------------------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        if kind == "test":
            if _resolve(doc, parts) != op.get("value"):
                raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our "
                               f"request: test operation failed at {op.get('path')}")
            continue
        if kind in ("move", "copy"):
            value = copy.deepcopy(_resolve(doc, _pointer(op["from"])))
            if kind == "move":
                doc = _apply_one(doc, _pointer(op["from"]), "remove", None)
            doc = _apply_one(doc, parts, "add", value)
            continue
        if kind not in ("add", "remove", "replace"):
            raise bad_request(f"unexpected json patch operation {kind!r}")
        doc = _apply_one(doc, parts, kind, op.get("value"))
    return doc


def _resolve(doc: Any, parts: list[str]) -> Any:
    for p in parts:
        try:
            doc = doc[int(p)] if isinstance(doc, list) else doc[p]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "Invalid", f"the server rejected our request: path /{'/'.join(parts)} "
                           "not found") from None
    return doc


def _apply_one(doc: Any, parts: list[str], kind: str, value: Any) -> Any:
    if not parts:
        return copy.deepcopy(value)
    parent, last = _resolve(doc, parts[:-1]), parts[-1]
    if isinstance(parent, list):
        idx = len(parent) if last == "-" else int(last)
        if kind == "add":
            parent.insert(idx, copy.deepcopy(value))
        elif kind == "remove":
            parent.pop(idx)
        else:
            parent[idx] = copy.deepcopy(value)
    elif isinstance(parent, dict):
        if kind in ("remove", "replace") and last not in parent:
            raise ApiError(422, "Invalid", f"the server rejected our request: unable to {kind} nonexistent "
                           f"key: {last}")
        if kind == "remove":
            del parent[last]
        else:
            parent[last] = copy.deepcopy(value)
    else:
        raise bad_request("json patch path does not point into an object or array")
    return doc


# ---- strategic merge patch ----------------------------------------------------------------------------


def strategic_merge_patch(target: Any, patch: Any, path: Path = ()) -> Any:
    """Apply a strategic merge patch (as produced by kubectl's three-way diff)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result: Obj = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    orders: dict[str, list[Any]] = {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            result[name] = [x for x in result.get(name) or [] if x not in v]
            continue
        if k.startswith("$"):
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            merged = strategic_merge_patch(result.get(k), v, (*path, k))
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        elif isinstance(v, list):
            result[k] = _merge_list(result.get(k), v, (*path, k))
        else:
            result[k] = v
    for name, order in orders.items():
        if isinstance(result.get(name), list):
            result[name] = _apply_order(result[name], order, merge_key_for(path, name))
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current: Any, patch: list[Any], path: Path) -> list[Any]:
    name = path[-1]
    current = current if isinstance(current, list) else []
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    if name in MERGE_SCALAR_LISTS:
        out = list(current)
        out.extend(x for x in patch if x not in out)
        return out
    key = merge_key_for(path[:-1], name)
    if not key or not all(isinstance(x, dict) for x in patch):
        return copy.deepcopy(patch)
    out = copy.deepcopy(current)
    for item in patch:
        kv = item.get(key)
        idx = next((i for i, c in enumerate(out) if isinstance(c, dict) and c.get(key) == kv), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge_patch({}, item, path))
        else:
            out[idx] = strategic_merge_patch(out[idx], item, path)
    return out


def _apply_order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(x: Any) -> Any:
        return json.dumps(x.get(key) if key and isinstance(x, dict) else x, sort_keys=True)

    rank = {ident(o): i for i, o in enumerate(order)}
    return sorted(items, key=lambda x: rank.get(ident(x), len(rank)))


# ---- server-side apply (simplified field ownership) ----------------------------------------------------

FieldPath = tuple[str, ...]


def field_paths(obj: Any, path: Path = ()) -> set[FieldPath]:
    """Leaf fields and keyed list elements of an applied configuration, in fieldsV1 spelling
    (`f:name`, `k:{"name":"x"}`). Maps are not owned themselves, only their members."""
    out: set[FieldPath] = set()
    if isinstance(obj, dict):
        if not obj and path and path != ("f:metadata",):
            out.add(path)
        for k, v in obj.items():
            if k in ("apiVersion", "kind") and not path:
                continue
            if not path and k == "metadata":
                for mk in ("name", "namespace", "resourceVersion", "uid", "managedFields",
                           "creationTimestamp", "generation"):
                    v = {kk: vv for kk, vv in v.items() if kk != mk}
            sub = (*path, f"f:{k}")
            if isinstance(v, list):
                key = merge_key_for(tuple(p[2:] for p in path), k)
                if key and all(isinstance(x, dict) and key in x for x in v):
                    for item in v:
                        elem = (*sub, "k:" + json.dumps({key: item[key]}, separators=(",", ":")))
                        out.add(elem)
                        out |= field_paths(item, elem)
                else:
                    out.add(sub)
            elif isinstance(v, dict):
                out |= field_paths(v, sub)
            else:
                out.add(sub)
    return out


def fields_v1(paths: set[FieldPath]) -> Obj:
    tree: Obj = {}
    for p in sorted(paths):
        node = tree
        for i, part in enumerate(p):
            node = node.setdefault(part, {})
            if i == len(p) - 1 and part.startswith("k:"):
                node.setdefault(".", {})
    return tree


def paths_from_fields_v1(tree: Obj, path: Path = ()) -> set[FieldPath]:
    out: set[FieldPath] = set()
    for k, v in tree.items():
        if k == ".":
            out.add(path)
            continue
        sub = (*path, k)
        if v:
            out |= paths_from_fields_v1(v, sub)
        else:
            out.add(sub)
    return out


def _lookup(obj: Any, path: FieldPath) -> tuple[bool, Any]:
    cur = obj
    for part in path:
        if part.startswith("f:") and isinstance(cur, dict):
            if part[2:] not in cur:
                return False, None
            cur = cur[part[2:]]
        elif part.startswith("k:") and isinstance(cur, list):
            want = json.loads(part[2:])
            cur = next((x for x in cur if isinstance(x, dict) and all(x.get(a) == b for a, b in want.items())),
                       None)
            if cur is None:
                return False, None
        else:
            return False, None
    return True, cur


def _remove(obj: Any, path: FieldPath) -> None:
    parent_found, parent = _lookup(obj, path[:-1])
    if not parent_found:
        return
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        want = json.loads(last[2:])
        parent[:] = [x for x in parent if not (isinstance(x, dict) and all(x.get(a) == b for a, b in want.items()))]


def server_side_apply(live: Obj | None, applied: Obj, manager: str, force: bool,
                      api_version: str) -> Obj:
    """Merge `applied` into `live` owning its fields for `manager`.

    Conflicts are raised only against other *Apply* managers whose field holds a different value
    (updates by other clients do not take ownership here: a documented simplification)."""
    base = copy.deepcopy(live) if live else {}
    managed = list((base.get("metadata") or {}).get("managedFields") or [])
    new_paths = field_paths(applied)
    mine = next((m for m in managed if m.get("manager") == manager and m.get("operation") == "Apply"), None)
    old_paths = paths_from_fields_v1(mine.get("fieldsV1", {})) if mine else set()
    others = [m for m in managed if m is not mine]
    conflicts: list[tuple[str, FieldPath]] = []
    for m in others:
        if m.get("operation") != "Apply":
            continue
        theirs = paths_from_fields_v1(m.get("fieldsV1", {}))
        for p in sorted(new_paths & theirs):
            found, cur = _lookup(base, p)
            _, want = _lookup(applied, p)
            if found and cur != want and not p[-1].startswith("k:"):
                conflicts.append((m["manager"], p))
    if conflicts and not force:
        lines = [f'conflict with "{mgr}": .{".".join(x[2:] if x.startswith("f:") else "[" + x[2:] + "]" for x in p)}'
                 for mgr, p in conflicts]
        msg = f"Apply failed with {len(conflicts)} conflict{'s' if len(conflicts) > 1 else ''}: " + "\n".join(lines)
        name = (applied.get("metadata") or {}).get("name", "")
        raise ApiError(409, "Conflict", msg, {"name": name, "causes": [
            {"reason": "FieldManagerConflict", "message": f'conflict with "{mgr}"', "field": ".".join(p)}
            for mgr, p in conflicts]})
    if force:
        for m in others:
            theirs = paths_from_fields_v1(m.get("fieldsV1", {})) - new_paths
            m["fieldsV1"] = fields_v1(theirs)
    still_owned: set[FieldPath] = set()
    for m in others:
        still_owned |= paths_from_fields_v1(m.get("fieldsV1", {}))
    # Shortest first: a dropped list element goes whole, its own fields then no longer resolve.
    for p in sorted(old_paths - new_paths - still_owned, key=len):
        _remove(base, p)
    merged = strategic_merge_patch(base, applied)
    entry = {"manager": manager, "operation": "Apply", "apiVersion": api_version, "time": now_rfc3339(),
             "fieldsType": "FieldsV1", "fieldsV1": fields_v1(new_paths)}
    others = [m for m in others if m.get("fieldsV1") or m.get("operation") != "Apply"]
    merged.setdefault("metadata", {})["managedFields"] = [*others, entry]
    return merged


def record_update(obj: Obj, manager: str, api_version: str) -> None:
    """Note an Update operation in managedFields (without taking field ownership)."""
    managed = [m for m in (obj.get("metadata") or {}).get("managedFields") or []
               if not (m.get("manager") == manager and m.get("operation") == "Update")]
    managed.append({"manager": manager, "operation": "Update", "apiVersion": api_version,
                    "time": now_rfc3339(), "fieldsType": "FieldsV1", "fieldsV1": {}})
    obj.setdefault("metadata", {})["managedFields"] = managed
