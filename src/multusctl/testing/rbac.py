"""RBAC authorization of the test cluster, after ``pkg/registry/rbac/validation`` and
``plugin/pkg/auth/authorizer/rbac``: ClusterRoleBindings, then RoleBindings of the request namespace; rule
matching incl. ``*/subresource`` and ``nonResourceURLs`` ending in ``*``; ``aggregationRule`` resolved on the
fly; ``system:masters`` bypasses RBAC. The bootstrap roles every cluster has (cluster-admin,
system:basic-user, system:discovery, system:public-info-viewer) are built in and used unless the store holds an
object of the same name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from multusctl.testing.auth import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    ANONYMOUS,
    RBAC_GROUP,
    SYSTEM_MASTERS,
    Lookup,
    RequestAttributes,
    UserInfo,
    service_account_username,
)


def _rule(verbs: list[str], groups: list[str] | None = None, resources: list[str] | None = None,
          urls: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": verbs}
    if groups is not None:
        out["apiGroups"] = groups
    if resources is not None:
        out["resources"] = resources
    if urls is not None:
        out["nonResourceURLs"] = urls
    return out


def _bootstrap(kind: str, name: str) -> dict[str, Any]:
    """The head of a bootstrap RBAC object, labelled and annotated as kube-apiserver's are."""
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
    }


def _bootstrap_role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_bootstrap("ClusterRole", name), "rules": rules}


def _bootstrap_binding(name: str, role: str, groups: list[str]) -> dict[str, Any]:
    return {
        **_bootstrap("ClusterRoleBinding", name),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups],
    }


# The subset of plugin/pkg/auth/authorizer/rbac/bootstrappolicy that matters to
# clients: exported so a store can seed them as real objects.
BOOTSTRAP_CLUSTER_ROLES: dict[str, dict[str, Any]] = {
    "cluster-admin": _bootstrap_role(
        "cluster-admin", [_rule(["*"], ["*"], ["*"]), _rule(["*"], urls=["*"])]
    ),
    "system:basic-user": _bootstrap_role(
        "system:basic-user",
        [
            _rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
        ],
    ),
    "system:discovery": _bootstrap_role(
        "system:discovery",
        [
            _rule(
                ["get"],
                urls=["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                      "/readyz", "/version", "/version/"],
            )
        ],
    ),
    "system:public-info-viewer": _bootstrap_role(
        "system:public-info-viewer",
        [_rule(["get"], urls=["/healthz", "/livez", "/readyz", "/version", "/version/"])],
    ),
}

BOOTSTRAP_CLUSTER_ROLE_BINDINGS: dict[str, dict[str, Any]] = {
    "cluster-admin": _bootstrap_binding("cluster-admin", "cluster-admin", [SYSTEM_MASTERS]),
    "system:basic-user": _bootstrap_binding("system:basic-user", "system:basic-user", [ALL_AUTHENTICATED]),
    "system:discovery": _bootstrap_binding("system:discovery", "system:discovery", [ALL_AUTHENTICATED]),
    "system:public-info-viewer": _bootstrap_binding(
        "system:public-info-viewer", "system:public-info-viewer", [ALL_AUTHENTICATED, ALL_UNAUTHENTICATED]
    ),
}


def _strs(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def verb_matches(rule: Mapping[str, Any], verb: str) -> bool:
    verbs = _strs(rule.get("verbs"))
    return "*" in verbs or verb in verbs


def api_group_matches(rule: Mapping[str, Any], group: str) -> bool:
    groups = _strs(rule.get("apiGroups"))
    return "*" in groups or group in groups


def resource_matches(rule: Mapping[str, Any], combined: str, subresource: str) -> bool:
    for rr in _strs(rule.get("resources")):
        if rr in ("*", combined):
            return True
        # "*/scale" grants the scale subresource of every resource, and only that.
        if subresource and rr.startswith("*/") and rr[2:] == subresource:
            return True
    return False


def resource_name_matches(rule: Mapping[str, Any], name: str) -> bool:
    names = _strs(rule.get("resourceNames"))
    return not names or name in names


def non_resource_url_matches(rule: Mapping[str, Any], path: str) -> bool:
    for url in _strs(rule.get("nonResourceURLs")):
        if url in ("*", path):
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(rule: Mapping[str, Any], attrs: RequestAttributes) -> bool:
    """``rbac.RuleAllows``."""
    if attrs.resource_request:
        combined = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
        return (
            verb_matches(rule, attrs.verb)
            and api_group_matches(rule, attrs.api_group)
            and resource_matches(rule, combined, attrs.subresource)
            and resource_name_matches(rule, attrs.name)
        )
    return verb_matches(rule, attrs.verb) and non_resource_url_matches(rule, attrs.path)


def subject_applies(subject: Mapping[str, Any], user: UserInfo, binding_namespace: str) -> bool:
    """``appliesToUser``: SA subjects without a namespace take the binding's."""
    kind, name = subject.get("kind"), subject.get("name")
    if not isinstance(name, str):
        return False
    if kind == "User":
        return user.username == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_namespace
        if not isinstance(ns, str) or not ns:
            return False
        return user.username == service_account_username(ns, name)
    return False


def _label_selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    match_labels = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not match_labels and not exprs:
        # An empty selector in an aggregationRule matches nothing (upstream guards against it).
        return False
    for key, value in match_labels.items():
        if labels.get(key) != value:
            return False
    for expr in exprs:
        key, op, values = expr.get("key"), expr.get("operator"), _strs(expr.get("values"))
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _go_quote(text: Any) -> str:
    # Go's %q for the plain names RBAC objects have.
    return json.dumps(str(text))


def _describe_subject(subject: Mapping[str, Any], binding_namespace: str) -> str:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_namespace
        return f"{kind} {_go_quote(f'{name}/{ns}')}"
    return f"{kind} {_go_quote(name)}"


class Authorizer:
    """RBAC over whatever the ``Lookup`` returns, plus the bootstrap defaults."""

    def __init__(self, lookup: Lookup, *, include_bootstrap: bool = True) -> None:
        self.lookup = lookup
        self.include_bootstrap = include_bootstrap

    # -- object access

    def _cluster_role_bindings(self) -> list[dict[str, Any]]:
        stored = self.lookup.list(RBAC_GROUP, "clusterrolebindings", None)
        if not self.include_bootstrap:
            return stored
        names = {(b.get("metadata") or {}).get("name") for b in stored}
        return stored + [b for n, b in BOOTSTRAP_CLUSTER_ROLE_BINDINGS.items() if n not in names]

    def _cluster_role(self, name: str) -> dict[str, Any] | None:
        role = self.lookup.get(RBAC_GROUP, "clusterroles", None, name)
        if role is None and self.include_bootstrap:
            role = BOOTSTRAP_CLUSTER_ROLES.get(name)
        return role

    def _all_cluster_roles(self) -> list[dict[str, Any]]:
        stored = self.lookup.list(RBAC_GROUP, "clusterroles", None)
        if not self.include_bootstrap:
            return stored
        names = {(r.get("metadata") or {}).get("name") for r in stored}
        return stored + [r for n, r in BOOTSTRAP_CLUSTER_ROLES.items() if n not in names]

    def cluster_role_rules(self, role: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Rules of a ClusterRole, resolving ``aggregationRule`` like the aggregation controller."""
        agg = role.get("aggregationRule")
        if not isinstance(agg, Mapping):
            return [r for r in role.get("rules") or [] if isinstance(r, dict)]
        selectors = [s for s in agg.get("clusterRoleSelectors") or [] if isinstance(s, Mapping)]
        own_name = (role.get("metadata") or {}).get("name")
        rules: list[dict[str, Any]] = []
        for other in sorted(self._all_cluster_roles(), key=lambda r: (r.get("metadata") or {}).get("name", "")):
            meta = other.get("metadata") or {}
            if meta.get("name") == own_name:
                continue
            labels = meta.get("labels") or {}
            if any(_label_selector_matches(s, labels) for s in selectors):
                # One level only: the controller also only copies the stored rules.
                for r in other.get("rules") or []:
                    if isinstance(r, dict) and r not in rules:
                        rules.append(r)
        return rules

    def _role_rules(self, ref: Mapping[str, Any], binding_namespace: str) -> tuple[list[dict[str, Any]], str]:
        kind, name = ref.get("kind"), ref.get("name")
        if not isinstance(name, str):
            return [], "invalid roleRef"
        if kind == "ClusterRole":
            role = self._cluster_role(name)
            if role is None:
                return [], f'clusterrole.{RBAC_GROUP} "{name}" not found'
            return self.cluster_role_rules(role), ""
        if kind == "Role" and binding_namespace:
            role = self.lookup.get(RBAC_GROUP, "roles", binding_namespace, name)
            if role is None:
                return [], f'role.{RBAC_GROUP} "{name}" not found'
            return [r for r in role.get("rules") or [] if isinstance(r, dict)], ""
        return [], f"unsupported roleRef kind {kind!r}"

    def _visit_rules(
        self, user: UserInfo, namespace: str
    ) -> tuple[list[tuple[dict[str, Any], str]], list[str]]:
        """Rules that apply to ``user`` in ``namespace`` (cluster-wide ones included),
        each with the upstream description of the binding that grants it, plus errors."""
        rules: list[tuple[dict[str, Any], str]] = []
        errors: list[str] = []
        # ClusterRoleBindings, then the RoleBindings of the request's namespace. A RoleBinding's non-resource
        # rules come along but never match: non-resource requests carry no namespace.
        bindings = [("ClusterRoleBinding", b, "") for b in self._cluster_role_bindings()]
        if namespace:
            bindings += [("RoleBinding", b, namespace) for b in self.lookup.list(RBAC_GROUP, "rolebindings", namespace)]
        for kind, binding, ns in bindings:
            subject = next((s for s in binding.get("subjects") or [] if subject_applies(s, user, ns)), None)
            if subject is None:
                continue
            ref = binding.get("roleRef") or {}
            got, err = self._role_rules(ref, ns)
            name = (binding.get("metadata") or {}).get("name", "") + (f"/{ns}" if ns else "")
            rules.extend((r, f"{kind} {_go_quote(name)} of {ref.get('kind')} {_go_quote(ref.get('name', ''))} to "
                          f"{_describe_subject(subject, ns)}") for r in got)
            if err:
                errors.append(err)
        return rules, errors

    # -- decisions

    def authorize_with_reason(self, user: UserInfo | None, attrs: RequestAttributes) -> tuple[bool, str]:
        """``(allowed, reason)`` with upstream's reasons.

        Allowed: ``RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to User "u"``
        (empty for system:masters, which never reaches RBAC). Denied: empty, or
        ``RBAC: ...`` naming roles that bindings refer to but do not exist,
        which upstream appends to the 403 message.
        """
        who = user if user is not None else ANONYMOUS
        if SYSTEM_MASTERS in who.groups:
            return True, ""
        namespace = attrs.namespace if attrs.resource_request else ""
        rules, errors = self._visit_rules(who, namespace)
        for rule, source in rules:
            if rule_allows(rule, attrs):
                return True, f"RBAC: allowed by {source}"
        if not errors:
            return False, ""
        # utilerrors.Aggregate prints one error bare and several in brackets.
        joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        return False, f"RBAC: {joined}"

    def authorize(self, user: UserInfo | None, attrs: RequestAttributes) -> bool:
        return self.authorize_with_reason(user, attrs)[0]

    def rules_for(self, user: UserInfo | None, namespace: str) -> tuple[list[dict], list[dict]]:
        """``(resourceRules, nonResourceRules)`` as in a SelfSubjectRulesReview status.

        Like ``RBACAuthorizer.RulesFor``: every rule reachable from the user's
        bindings, split by whether it names resources and/or non-resource URLs
        (so non-resource rules from a RoleBinding are listed even though they
        never authorize anything).
        """
        who = user if user is not None else ANONYMOUS
        rules = [rule for rule, _ in self._visit_rules(who, namespace)[0]]
        if SYSTEM_MASTERS in who.groups:
            # Upstream shows cluster-admin via its binding to system:masters; keep that
            # true even when the binding was removed or bootstrap objects are disabled.
            admin = self.cluster_role_rules(BOOTSTRAP_CLUSTER_ROLES["cluster-admin"])
            rules = [r for r in admin if r not in rules] + rules
        resource_rules: list[dict] = []
        non_resource_rules: list[dict] = []
        for r in rules:
            verbs = _strs(r.get("verbs"))
            if _strs(r.get("resources")):
                item: dict[str, Any] = {"verbs": verbs}
                for key in ("apiGroups", "resources", "resourceNames"):
                    if _strs(r.get(key)):
                        item[key] = _strs(r.get(key))
                if item not in resource_rules:
                    resource_rules.append(item)
            urls = _strs(r.get("nonResourceURLs"))
            if urls:
                nr = {"verbs": verbs, "nonResourceURLs": urls}
                if nr not in non_resource_rules:
                    non_resource_rules.append(nr)
        return resource_rules, non_resource_rules

