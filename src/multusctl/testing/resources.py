"""The resource table of the test cluster and the discovery documents built from it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

CRUD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)


@dataclass(frozen=True)
class ResourceType:
    """One served resource (one group/version/plural), as discovery describes it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = CRUD_VERBS
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    # Virtual resources (reviews) are never stored: a POST computes an answer.
    virtual: bool = False
    crd: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def discovery_entries(self) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        for sub in self.subresources:
            sub_entry: dict[str, Any] = {
                "name": f"{self.plural}/{sub}",
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": ["get", "patch", "update"],
            }
            if sub == "token":
                sub_entry.update(group="authentication.k8s.io", version="v1", kind="TokenRequest",
                                 verbs=["create"])
            elif sub == "log":
                sub_entry.update(kind="Pod", verbs=["get"])
            entries.append(sub_entry)
        return entries


def _r(group: str, version: str, plural: str, kind: str, namespaced: bool, short: tuple[str, ...] = (),
       **kw: Any) -> ResourceType:
    return ResourceType(group, version, plural, kind, namespaced, singular=kind.lower(), short_names=short, **kw)


BUILTIN: tuple[ResourceType, ...] = (
    _r("", "v1", "namespaces", "Namespace", False, ("ns",), subresources=("status",)),
    _r("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",), subresources=("token",)),
    _r("", "v1", "secrets", "Secret", True),
    _r("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    _r("", "v1", "services", "Service", True, ("svc",), subresources=("status",), categories=("all",)),
    _r("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    _r("", "v1", "nodes", "Node", False, ("no",), subresources=("status",)),
    _r("", "v1", "pods", "Pod", True, ("po",), subresources=("log", "status"), categories=("all",)),
    _r("", "v1", "events", "Event", True, ("ev",)),
    _r("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), subresources=("status",), categories=("all",)),
    _r("events.k8s.io", "v1", "events", "Event", True, ("ev",)),
    # Stored only (no controller runs jobs): `kubeconfig refresh --print-cronjob` is applied to the test cluster.
    _r("batch", "v1", "cronjobs", "CronJob", True, ("cj",), subresources=("status",), categories=("all",)),
    _r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False,
       ("crd", "crds"), subresources=("status",), categories=("api-extensions",)),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    _r("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
       verbs=CREATE_ONLY, virtual=True),
    _r("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False,
       verbs=CREATE_ONLY, virtual=True),
    _r("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False,
       verbs=CREATE_ONLY, virtual=True),
    _r("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False,
       verbs=CREATE_ONLY, virtual=True),
    # kubectl < 1.28 asks for the beta SelfSubjectReview, still served by 1.31.
    _r("authentication.k8s.io", "v1beta1", "selfsubjectreviews", "SelfSubjectReview", False,
       verbs=CREATE_ONLY, virtual=True),
    _r("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", False, verbs=CREATE_ONLY, virtual=True),
)

# Groups served even when they hold only virtual resources, in the order the real server lists them.
GROUP_ORDER = ("", "apps", "batch", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
               "rbac.authorization.k8s.io", "apiextensions.k8s.io")


def types_from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    out = []
    for ver in spec.get("versions") or []:
        if not ver.get("served", True):
            continue
        subs = tuple(s for s in ("status", "scale") if s in (ver.get("subresources") or {}))
        out.append(ResourceType(
            group=spec.get("group", ""), version=ver["name"], plural=names.get("plural", ""),
            kind=names.get("kind", ""), namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            singular=names.get("singular") or names.get("kind", "").lower(),
            short_names=tuple(names.get("shortNames") or ()), subresources=subs,
            categories=tuple(names.get("categories") or ()), crd=True,
        ))
    return out


@dataclass
class Registry:
    """Built-in types plus those of established CRDs; thread-safe."""

    _types: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _crd_types: dict[str, list[ResourceType]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for rt in BUILTIN:
            self._types[(rt.group, rt.version, rt.plural)] = rt

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._types.get((group, version, plural))

    def by_group_resource(self, group: str, plural: str) -> ResourceType | None:
        """The first (preferred) version serving group/plural."""
        with self._lock:
            for (g, _v, p), rt in self._types.items():
                if g == group and p == plural:
                    return rt
        return None

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        with self._lock:
            for rt in self._types.values():
                if rt.api_version == api_version and rt.kind == kind:
                    return rt
        return None

    def add_crd(self, crd: dict[str, Any]) -> list[ResourceType]:
        name = crd["metadata"]["name"]
        types = types_from_crd(crd)
        with self._lock:
            for old in self._crd_types.pop(name, []):
                self._types.pop((old.group, old.version, old.plural), None)
            for rt in types:
                self._types[(rt.group, rt.version, rt.plural)] = rt
            self._crd_types[name] = types
        return types

    def remove_crd(self, name: str) -> list[ResourceType]:
        with self._lock:
            types = self._crd_types.pop(name, [])
            for old in types:
                self._types.pop((old.group, old.version, old.plural), None)
        return types

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def group_versions(self) -> dict[str, list[str]]:
        """group -> served versions (preferred first), core group under ""."""
        groups: dict[str, list[str]] = {}
        for rt in self.all():
            versions = groups.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        ordered = {g: groups[g] for g in GROUP_ORDER if g in groups}
        ordered.update({g: v for g, v in groups.items() if g not in ordered})
        return ordered

    # Discovery documents (the legacy, unaggregated format; clients asking for the aggregated
    # format accept it and fall back, exactly as against an apiserver older than 1.26).

    def api_versions(self, server_address: str) -> dict[str, Any]:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}

    def api_group_list(self) -> dict[str, Any]:
        groups = []
        for group, versions in self.group_versions().items():
            if not group:
                continue
            gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
            groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def api_group(self, group: str) -> dict[str, Any] | None:
        versions = self.group_versions().get(group)
        if not versions or not group:
            return None
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs,
                "preferredVersion": gvs[0]}

    def api_resource_list(self, group: str, version: str) -> dict[str, Any] | None:
        types = [rt for rt in self.all() if rt.group == group and rt.version == version]
        if not types:
            return None
        resources: list[dict[str, Any]] = []
        for rt in sorted(types, key=lambda t: t.plural):
            resources.extend(rt.discovery_entries())
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

    def openapi_v3_index(self) -> dict[str, Any]:
        paths = {}
        for group, versions in self.group_versions().items():
            for v in versions:
                key = f"apis/{group}/{v}" if group else f"api/{v}"
                paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash=0"}
        return {"paths": paths}

    def openapi_v3_doc(self, group: str, version: str) -> dict[str, Any] | None:
        """A skeleton OpenAPI v3 document: no schemas, only the PATCH operations with their
        `fieldValidation` parameter, which is what kubectl reads to decide that the server
        validates fields itself (so it need not download /openapi/v2 to validate client-side)."""
        types = [rt for rt in self.all() if rt.group == group and rt.version == version and not rt.virtual]
        if not types and not self.group_versions().get(group):
            return None
        paths: dict[str, Any] = {}
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        for rt in types:
            scope = f"{prefix}/namespaces/{{namespace}}" if rt.namespaced else prefix
            gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
            params = [{"name": n, "in": "query", "schema": {"type": "string"}}
                      for n in ("dryRun", "fieldManager", "fieldValidation", "force")]
            paths[f"{scope}/{rt.plural}/{{name}}"] = {
                "patch": {"operationId": f"patch{rt.kind}", "x-kubernetes-action": "patch",
                          "x-kubernetes-group-version-kind": gvk, "parameters": params,
                          "responses": {"200": {"description": "OK"}}},
            }
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.31.4+k3s1"},
                "paths": paths, "components": {"schemas": {}}}
