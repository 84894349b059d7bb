"""The Kubernetes objects Multus needs (FACTS.md §3, §6), built as plain API dicts, and how to tell
whether an object already in the cluster is right."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

SA_TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
RBAC = "rbac.authorization.k8s.io/v1"

# Upstream multus's ClusterRole (deployments/multus-daemonset*.yml), nothing more: least privilege.
MULTUS_RULES: tuple[Obj, ...] = (
    {"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["pods", "pods/status"], "verbs": ["get", "list", "update", "watch"]},
    {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
)
# multus-cni master after v4.3.0 adds these for DRA (commits 51d97b9c2, fb5099758; no release up to v4.3.0
# has them, so we never add them); a role that has them is still "right", so we never strip them.
DRA_RULES: tuple[Obj, ...] = (
    {"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims", "resourceclaims/status", "resourceslices"],
     "verbs": ["get", "list"]},
)


@dataclass(frozen=True)
class Names:
    """The objects `kubeconfig create` makes for one ServiceAccount."""

    namespace: str = "kube-system"
    service_account: str = "multus"
    cluster_role: str = "multus"
    binding: str = "multus"
    secret: str = "multus-token"

    @classmethod
    def for_account(cls, namespace: str = "kube-system", service_account: str = "multus") -> Names:
        """The ClusterRole and its binding are named after the ServiceAccount, its token Secret `<name>-token`,
        so a second account never takes over the first one's binding."""
        return cls(namespace, service_account, service_account, service_account, f"{service_account}-token")


def service_account(n: Names) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": n.service_account, "namespace": n.namespace}}


def cluster_role(n: Names) -> Obj:
    return {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": n.cluster_role},
            "rules": [dict(r) for r in MULTUS_RULES]}


def cluster_role_binding(n: Names) -> Obj:
    return {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": n.binding},
            "roleRef": role_ref(n), "subjects": subjects(n)}


def role_ref(n: Names) -> Obj:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": n.cluster_role}


def subjects(n: Names) -> list[Obj]:
    return [{"kind": "ServiceAccount", "name": n.service_account, "namespace": n.namespace}]


def token_secret(n: Names) -> Obj:
    # Since 1.24 nothing creates these by itself; the token controller fills data.token / ca.crt / namespace.
    return {"apiVersion": "v1", "kind": "Secret", "type": SA_TOKEN_TYPE,
            "metadata": {"name": n.secret, "namespace": n.namespace,
                         "annotations": {SA_NAME_ANNOTATION: n.service_account}}}


# ---- is what is there right? -------------------------------------------------------------------------

Triple = tuple[str, str, str]


def rule_triples(rules: Any) -> frozenset[Triple]:
    """(apiGroup, resource, verb) for every combination a rule list grants, so grouping and order do not matter."""
    out: set[Triple] = set()
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict) or rule.get("resourceNames") or rule.get("nonResourceURLs"):
            # Narrowed or non-resource rules are never what multus's role holds: keep them visible as a difference.
            out.add(("?", repr(sorted(rule.items())) if isinstance(rule, dict) else repr(rule), "?"))
            continue
        for g in rule.get("apiGroups") or []:
            for r in rule.get("resources") or []:
                for v in rule.get("verbs") or []:
                    out.add((str(g), str(r), str(v)))
    return frozenset(out)


REQUIRED = rule_triples(list(MULTUS_RULES))
REQUIRED_WITH_DRA = REQUIRED | rule_triples(list(DRA_RULES))


def role_is_right(existing: Obj) -> bool:
    return rule_triples(existing.get("rules")) in (REQUIRED, REQUIRED_WITH_DRA)


def role_differences(existing: Obj) -> str:
    """One line: what the role lacks and what it has too much of (for the step output)."""
    have = rule_triples(existing.get("rules"))
    missing = sorted(REQUIRED - have)
    extra = sorted(have - REQUIRED_WITH_DRA)
    parts = []
    if missing:
        parts.append("lacks " + ", ".join(_triple(t) for t in missing[:4]) + (" ..." if len(missing) > 4 else ""))
    if extra:
        parts.append("also grants " + ", ".join(_triple(t) for t in extra[:4]) + (" ..." if len(extra) > 4 else ""))
    return "; ".join(parts) or "rules differ"


def _triple(t: Triple) -> str:
    g, r, v = t
    return f"{v} {r}" + (f".{g}" if g else "")


def binding_is_right(existing: Obj, n: Names) -> tuple[bool, bool]:
    """(roleRef right, subjects right). roleRef is immutable: a wrong one means delete and re-create."""
    ref = existing.get("roleRef") or {}
    ref_ok = ref.get("kind") == "ClusterRole" and ref.get("name") == n.cluster_role
    subs = [{k: s.get(k) for k in ("kind", "name", "namespace")} for s in existing.get("subjects") or []
            if isinstance(s, dict)]
    return ref_ok, subs == subjects(n)


def secret_problem(existing: Obj, n: Names) -> str | None:
    """Why an existing Secret of our name cannot be the SA's token Secret (we never delete a user's Secret)."""
    if existing.get("type") != SA_TOKEN_TYPE:
        return f"is of type {existing.get('type') or 'Opaque'}, not {SA_TOKEN_TYPE}"
    sa = ((existing.get("metadata") or {}).get("annotations") or {}).get(SA_NAME_ANNOTATION)
    if sa != n.service_account:
        return f"belongs to ServiceAccount {sa!r}, not {n.service_account!r}"
    return None
