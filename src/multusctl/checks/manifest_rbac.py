"""Manifest checks on RBAC: the ClusterRole bound to the multus ServiceAccount against what the chosen
mode and release call (render/rbac.py, the same table `render` writes its ClusterRole from)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from multusctl.checks.manifest_model import MultusDaemonSet, multus_daemonsets
from multusctl.checks.registry import Hit, check
from multusctl.gather.manifests import ManifestSnapshot, Obj
from multusctl.render import rbac

BROAD_ROLES = ("cluster-admin", "admin", "edit")


@dataclass
class Bound:
    ds: MultusDaemonSet
    sa: str
    namespace: str | None
    roles: list[Obj]  # bound ClusterRoles that are in the manifests
    broad: list[tuple[Obj, str]]  # bindings to cluster-admin & co
    judged: bool  # False when the set holds no RBAC objects for this SA to judge


def _subject_is(subject: Any, sa: str, namespace: str | None) -> bool:
    return (isinstance(subject, dict) and subject.get("kind") == "ServiceAccount" and subject.get("name") == sa
            and (namespace is None or subject.get("namespace") in (None, namespace)))


def _bound(snap: ManifestSnapshot) -> Iterator[Bound]:
    roles = {o.name: o for o in snap.of_kind("ClusterRole")}
    bindings = snap.of_kind("ClusterRoleBinding")
    for ds in multus_daemonsets(snap):
        sa = ds.pod_spec.get("serviceAccountName") or ds.pod_spec.get("serviceAccount") or "default"
        mine = [b for b in bindings if any(_subject_is(s, sa, ds.obj.namespace)
                                           for s in (b.doc.get("subjects") or []))]
        got: list[Obj] = []
        broad: list[tuple[Obj, str]] = []
        for b in mine:
            ref = b.doc.get("roleRef")
            name = ref.get("name") if isinstance(ref, dict) else None
            if name in BROAD_ROLES:
                broad.append((b, str(name)))
            elif isinstance(name, str) and name in roles:
                got.append(roles[name])
        yield Bound(ds, str(sa), ds.obj.namespace, got, broad, bool(roles or bindings))


def _rules(o: Obj) -> list[dict[str, Any]]:
    r = o.doc.get("rules")
    return [x for x in r if isinstance(x, dict)] if isinstance(r, list) else []


@check("manifest-rbac-missing")
def rbac_missing(snap: ManifestSnapshot) -> Iterator[Hit]:
    for b in _bound(snap):
        if not b.judged or b.broad:
            continue
        rules = [r for o in b.roles for r in _rules(o)]
        where = b.roles[0] if b.roles else b.ds.obj
        for grant in rbac.needed(b.ds.mode, b.ds.version):
            if rbac.allows(rules, grant):
                continue
            group, resource, verb = grant
            roles = ", ".join(o.name for o in b.roles) or "no ClusterRole in the manifests"
            yield Hit(message=(f"ServiceAccount {b.namespace or ''}/{b.sa} of the {b.ds.mode} multus DaemonSet may "
                               f"not {verb} {resource} ({group or 'core'} group) through {roles}: multus "
                               f"{b.ds.version.text if b.ds.version else '(newest)'} calls it (FACTS.md §3; "
                               f"`{resource} ... is forbidden`, MC#667)"),
                      fix=f"add to the ClusterRole: apiGroups [\"{group}\"], resources [\"{resource}\"], verbs "
                          f"[\"{verb}\"] (or `multusctl render` for the whole least-privilege role)",
                      path=where.source, field=where.where("rules"),
                      evidence={"group": group, "resource": resource, "verb": verb, "service_account": b.sa})


@check("manifest-rbac-excessive")
def rbac_excessive(snap: ManifestSnapshot) -> Iterator[Hit]:
    for b in _bound(snap):
        for binding, name in b.broad:
            yield Hit(message=f"ClusterRoleBinding {binding.name} gives the multus ServiceAccount {b.sa} the "
                              f"`{name}` role: every node's multus credentials could then change the whole cluster",
                      fix="bind a least-privilege ClusterRole instead (`multusctl render` writes one)",
                      path=binding.source, field=binding.where("roleRef"), evidence={"role": name})
        for role in b.roles:
            extra = rbac.excess(_rules(role), b.ds.mode, b.ds.version)
            if not extra:
                continue
            yield Hit(message=(f"ClusterRole {role.name} grants the {b.ds.mode} multus more than it calls: "
                               f"{'; '.join(extra)}"),
                      fix="keep only: " + "; ".join(f"{g or 'core'}/{r}: {v}" for g, r, v in
                                                     rbac.needed(b.ds.mode, b.ds.version)),
                      path=role.source, field=role.where("rules"), evidence={"excess": extra})
