"""Resource requests: URL parsing, CRUD and patch semantics, subresources and reviews."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

import yaml

from multusctl.testing import patch as patches
from multusctl.testing import writeopts
from multusctl.testing.auth import AuthError, RequestAttributes, UserInfo
from multusctl.testing.names import generate_name, name_causes
from multusctl.testing.resources import Registry, ResourceType
from multusctl.testing.store import ApiError, Obj, already_exists, bad_request, invalid, not_found
from multusctl.testing.table import table, wants_table

if TYPE_CHECKING:
    from multusctl.testing.server import TestCluster

API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
MIN_TOKEN_SECONDS = 600
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")


@dataclass(frozen=True)
class Target:
    """A parsed resource URL."""

    rt: ResourceType
    namespace: str  # "" for cluster-scoped or all-namespaces requests
    name: str
    subresource: str


def apply_defaults(rt: ResourceType, obj: Obj) -> None:
    """The few API defaults clients depend on (rollout status needs the DaemonSet update strategy)."""
    if (rt.group, rt.plural) == ("apps", "daemonsets"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        spec.setdefault("revisionHistoryLimit", 10)
    elif (rt.group, rt.plural) == ("", "namespaces"):
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj.setdefault("status", {"phase": "Active"})
    elif (rt.group, rt.plural) == ("", "secrets"):
        if not obj.get("type"):  # protobuf bodies carry an empty string rather than no field
            obj["type"] = "Opaque"
    elif (rt.group, rt.plural) == ("", "services"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")


def parse_target(reg: Registry, group: str, version: str, rest: list[str]) -> Target | None:
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    rt = reg.get(group, version, rest[0])
    if rt is None or (namespace and not rt.namespaced):
        return None
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if sub and sub not in rt.subresources:
        return None
    return Target(rt, namespace, name, sub)


def request_verb(method: str, target: Target, query: dict[str, str]) -> str:
    if method == "GET":
        if query.get("watch") in ("1", "true"):
            return "watch"
        return "get" if target.name else "list"
    if method == "DELETE":
        return "delete" if target.name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


class ResourceApi:
    """The resource operations of one request (everything under /api/v1 and /apis/GROUP/VERSION)."""

    def __init__(self, cluster: TestCluster, target: Target, query: dict[str, str], user: UserInfo,
                 accept: str = "") -> None:
        self.cluster = cluster
        self.table = wants_table(accept)
        self.store = cluster.store
        self.target = target
        self.rt = target.rt
        self.query = query
        self.user = user
        self.dry_run = False  # decided per verb in dispatch (the options kind names a bad value)
        self.delete_options = writeopts.DeleteOptions()

    def as_table(self, objects: list[Obj], rv: str, with_columns: bool = True) -> Obj:
        crd = None
        if self.rt.crd:
            crd = self.store.get("apiextensions.k8s.io", "customresourcedefinitions", None,
                                 f"{self.rt.plural}.{self.rt.group}")
        return table(self.rt, objects, rv, crd, self.query.get("includeObject", "Metadata"), with_columns)

    def present(self, obj: Obj) -> Obj:
        obj = dict(obj)
        obj["apiVersion"], obj["kind"] = self.rt.api_version, self.rt.kind
        return obj

    def _get_live(self, name: str | None = None) -> Obj:
        obj = self.store.get(self.rt.group, self.rt.plural, self.target.namespace or None, name or self.target.name)
        if obj is None:
            raise not_found(self.rt.group, self.rt.plural, name or self.target.name)
        return obj

    def _decode(self, body: bytes, ctype: str) -> Any:
        try:
            if ctype in ("application/yaml", "application/apply-patch+yaml"):
                return yaml.safe_load(body.decode())
            return json.loads(body.decode() or "null")
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"the body of the request could not be decoded: {exc}") from None

    def dispatch(self, verb: str, method: str, body: bytes, ctype: str) -> tuple[int, Any]:
        if self.rt.virtual:
            if verb != "create":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                               "resource", {})
            return 201, self.review(self._decode(body, ctype))
        if verb == "get":
            obj = self.present(self._get_live())
            return 200, self.as_table([obj], obj["metadata"]["resourceVersion"]) if self.table else obj
        if verb == "list":
            items, rv = self.store.select(self.rt.group, self.rt.plural, self.target.namespace or None,
                                          self.query.get("labelSelector"), self.query.get("fieldSelector"))
            if self.table:
                return 200, self.as_table([self.present(o) for o in items], str(rv))
            return 200, {"kind": self.rt.list_kind, "apiVersion": self.rt.api_version,
                         "metadata": {"resourceVersion": str(rv)}, "items": [self.present(o) for o in items]}
        if verb in ("create", "update", "patch"):
            kind = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}[verb]
            self.dry_run = writeopts.dry_run(self.query, kind)
        elif verb in ("delete", "deletecollection"):
            self.delete_options = writeopts.delete_options(self.query, body)
            self.dry_run = self.delete_options.dry_run
        if verb == "create" and self.target.subresource == "token":
            return 201, self.token_request(self._decode(body, ctype))
        if verb == "create":
            return 201, self.create(self._decode(body, ctype))
        if verb == "update":
            return 200, self.update(self._decode(body, ctype))
        if verb == "patch":
            return self.patch(self._decode(body, ctype), ctype)
        if verb == "delete":
            return 200, self.delete(self.target.name)
        if verb == "deletecollection":
            items, _ = self.store.select(self.rt.group, self.rt.plural, self.target.namespace or None,
                                         self.query.get("labelSelector"), self.query.get("fieldSelector"))
            deleted = [self.delete(o["metadata"]["name"], o["metadata"].get("namespace")) for o in items]
            return 200, {"kind": self.rt.list_kind, "apiVersion": self.rt.api_version, "metadata": {},
                         "items": deleted}
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    # -- writes --

    def _check_body(self, obj: Any) -> Obj:
        if not isinstance(obj, dict):
            raise bad_request("the body of the request was not a JSON object")
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if kind and kind != self.rt.kind:
            raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({self.rt.kind})")
        if api_version and api_version != self.rt.api_version:
            raise bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                              f"version ({self.rt.api_version})")
        obj["kind"], obj["apiVersion"] = self.rt.kind, self.rt.api_version
        meta = obj.setdefault("metadata", {})
        if self.rt.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and self.target.namespace and body_ns != self.target.namespace:
                raise bad_request("the namespace of the provided object does not match the namespace sent on "
                                  "the request")
            meta["namespace"] = self.target.namespace or body_ns or "default"
        else:
            meta.pop("namespace", None)
        return obj

    def _validate_new_name(self, obj: Obj) -> None:
        # Creation only: names are immutable afterwards. As BeforeCreate, the name is generated
        # first and then validated along with the generateName it came from.
        meta = obj["metadata"]
        if not meta.get("name") and isinstance(meta.get("generateName"), str) and meta["generateName"]:
            meta["name"] = generate_name(meta["generateName"])
        causes = name_causes(self.rt.group, self.rt.plural, meta)
        if causes:
            raise invalid(self.rt.kind, self.rt.group, meta.get("name") or "", causes)

    def _validate(self, obj: Obj) -> None:
        name = obj["metadata"].get("name", "")
        if (self.rt.group, self.rt.plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
            spec = obj.get("spec") or {}
            want = f"{(spec.get('names') or {}).get('plural', '')}.{spec.get('group', '')}"
            if name != want:
                raise invalid("CustomResourceDefinition", "apiextensions.k8s.io", name,
                              [("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+'
                                                 "spec.group")])
        if self.rt.namespaced and self.store.get("", "namespaces", None, obj["metadata"]["namespace"]) is None:
            raise not_found("", "namespaces", obj["metadata"]["namespace"])

    def _manager(self, default: str = "") -> str:
        return self.query.get("fieldManager") or default or "unknown"

    def create(self, obj: Any) -> Obj:
        obj = self._check_body(obj)
        for k in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "generation"):
            obj["metadata"].pop(k, None)
        self._validate_new_name(obj)
        self._validate(obj)
        apply_defaults(self.rt, obj)
        patches.record_update(obj, self._manager("kubectl-create"), self.rt.api_version)
        if self.dry_run:
            meta = obj["metadata"]
            if self.store.get(self.rt.group, self.rt.plural, meta.get("namespace"), meta["name"]) is not None:
                raise already_exists(self.rt.group, self.rt.plural, meta["name"])
            return self.present(writeopts.created(obj, self.rt.group))
        return self.present(self.store.create(self.rt.group, self.rt.plural, obj))

    def update(self, obj: Any) -> Obj:
        obj = self._check_body(obj)
        if obj["metadata"].get("name") != self.target.name:
            raise bad_request("the name of the object does not match the name on the URL")
        live = self._get_live()
        if self.target.subresource == "status":
            obj = self._status_write(live, obj)
        elif "status" in self.rt.subresources:
            obj["status"] = live.get("status")
        return self._write(obj, live)

    def _status_write(self, live: Obj, sent: Obj) -> Obj:
        """What a write to the status subresource (update, patch or apply) stores: `sent` as the status
        strategies of the apiserver keep it. The spec, ownerReferences, deletionTimestamp and the rest of the
        metadata stay the live object's and the status is the request's; built-in kinds (pods: podStatusStrategy)
        take the request's labels and annotations too (multus writes its network-status annotation through
        pods/status), while custom resources and CRDs keep the live ones (ResetObjectMetaForStatus)."""
        new = copy.deepcopy(live)
        new["status"] = sent.get("status")
        meta = sent.get("metadata") or {}
        if not self.rt.crd and (self.rt.group, self.rt.plural) != ("apiextensions.k8s.io",
                                                                      "customresourcedefinitions"):
            for key in ("labels", "annotations"):
                if key in meta:
                    new["metadata"][key] = meta[key]
                else:
                    new["metadata"].pop(key, None)
        # A resourceVersion in the request stays a precondition (409 when stale).
        new["metadata"]["resourceVersion"] = meta.get("resourceVersion")
        return new

    def _write(self, obj: Obj, live: Obj) -> Obj:
        # rest.BeforeUpdate: an update can never set, remove or change a deletionTimestamp.
        if live["metadata"].get("deletionTimestamp"):
            obj["metadata"]["deletionTimestamp"] = live["metadata"]["deletionTimestamp"]
        else:
            obj["metadata"].pop("deletionTimestamp", None)
        apply_defaults(self.rt, obj)
        if "managedFields" not in obj["metadata"] and "managedFields" in live["metadata"]:
            obj["metadata"]["managedFields"] = live["metadata"]["managedFields"]
        if self.query.get("fieldManager") or "managedFields" in obj["metadata"]:
            patches.record_update(obj, self._manager("kubectl-edit"), self.rt.api_version)
        self._validate(obj)
        if self.dry_run:
            return self.present(writeopts.updated(obj, live, self.rt.group, self.rt.plural))
        return self.present(self.store.update(self.rt.group, self.rt.plural, obj))

    def patch(self, patch: Any, ctype: str) -> tuple[int, Obj]:
        if ctype == "application/apply-patch+yaml":
            return self.apply(patch)
        live = self._get_live()
        if ctype == "application/merge-patch+json":
            new = patches.json_merge_patch(live, patch)
        elif ctype == "application/json-patch+json":
            new = patches.json_patch(live, patch)
        elif ctype == "application/strategic-merge-patch+json":
            if self.rt.crd:
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            new = patches.strategic_merge_patch(live, patch)
        else:
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                           f"accepted media types include: application/json-patch+json, "
                           f"application/merge-patch+json, application/apply-patch+yaml, "
                           f"application/strategic-merge-patch+json (got {ctype})")
        if not isinstance(new, dict):
            raise bad_request("the patch did not produce an object")
        # resourceVersion is a precondition only when the patch itself carries one.
        sent_rv = ((patch or {}).get("metadata") or {}).get("resourceVersion") if isinstance(patch, dict) else None
        new.setdefault("metadata", {})["resourceVersion"] = sent_rv or live["metadata"]["resourceVersion"]
        for k in ("name", "namespace", "uid", "creationTimestamp"):
            if k in live["metadata"]:
                new["metadata"][k] = live["metadata"][k]
        if self.target.subresource == "status":
            new = self._status_write(live, new)
        elif "status" in self.rt.subresources:
            new["status"] = live.get("status")
        new["kind"], new["apiVersion"] = self.rt.kind, self.rt.api_version
        return 200, self._write(new, live)

    def apply(self, applied: Any) -> tuple[int, Obj]:
        if not self.query.get("fieldManager"):
            raise invalid("PatchOptions", "meta.k8s.io", "", [("fieldManager", "Required value: is required for "
                                                                "apply patch")])
        applied = self._check_body(applied)
        if applied["metadata"].get("name") != self.target.name:
            raise bad_request("the name of the object does not match the name on the URL")
        live = self.store.get(self.rt.group, self.rt.plural, self.target.namespace or None, self.target.name)
        force = self.query.get("force") in ("true", "1")
        merged = patches.server_side_apply(live, applied, self.query["fieldManager"], force, self.rt.api_version)
        merged["kind"], merged["apiVersion"] = self.rt.kind, self.rt.api_version
        if live is None:
            self._validate_new_name(merged)
            self._validate(merged)
            apply_defaults(self.rt, merged)
            if self.dry_run:
                return 201, self.present(writeopts.created(merged, self.rt.group))
            return 201, self.present(self.store.create(self.rt.group, self.rt.plural, merged))
        for k in ("uid", "creationTimestamp", "resourceVersion"):
            merged["metadata"][k] = live["metadata"][k]
        if self.target.subresource == "status":
            merged = self._status_write(live, merged)
        apply_defaults(self.rt, merged)
        self._validate(merged)
        if self.dry_run:
            return 200, self.present(writeopts.updated(merged, live, self.rt.group, self.rt.plural))
        return 200, self.present(self.store.update(self.rt.group, self.rt.plural, merged))

    def delete(self, name: str, namespace: str | None = None) -> Obj:
        ns = namespace if namespace is not None else self.target.namespace
        if (self.rt.group, self.rt.plural) == ("", "namespaces") and name in PROTECTED_NAMESPACES:
            raise ApiError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                           {"name": name, "kind": "namespaces"})
        live = self.store.get(self.rt.group, self.rt.plural, ns or None, name)
        if live is None:
            raise not_found(self.rt.group, self.rt.plural, name)
        writeopts.check_preconditions(live, self.delete_options.preconditions, self.rt.group, self.rt.plural)
        if self.dry_run:
            return self.present(live)
        opts = self.delete_options
        return self.present(self.cluster.deleter.delete(self.rt.group, self.rt.plural, ns or None, name,
                                                        grace=opts.grace_period_seconds,
                                                        propagation=opts.propagation_policy))

    # -- subresources and reviews --

    def pod_log(self) -> str:
        pod = self._get_live()
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        container = self.query.get("container", "")
        if not container:
            if len(containers) > 1:
                raise bad_request(f"a container name must be specified for pod {self.target.name}, choose one "
                                  f"of: [{' '.join(containers)}]")
            container = containers[0] if containers else ""
        elif container not in containers:
            raise bad_request(f"container {container} is not valid for pod {self.target.name}")
        logs = self.cluster.logs
        key = (self.target.namespace, self.target.name)
        text = logs.get((*key, container), logs.get((*key, ""), ""))
        tail = self.query.get("tailLines")
        if tail is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail):]) if int(tail) > 0 else ""
        return text

    def token_request(self, req: Any) -> Obj:
        if not isinstance(req, dict):
            raise bad_request("the body of the request was not a JSON object")
        sa = self._get_live()
        spec = req.get("spec") or {}
        seconds = int(spec.get("expirationSeconds") or 3600)
        if seconds < MIN_TOKEN_SECONDS:
            raise invalid("TokenRequest", "authentication.k8s.io", "", [(
                "spec.expirationSeconds", f"Invalid value: {seconds}: may not specify a duration less than "
                "10 minutes")])
        if seconds > 1 << 32:
            raise invalid("TokenRequest", "authentication.k8s.io", "", [(
                "spec.expirationSeconds", f"Invalid value: {seconds}: may not specify a duration larger than "
                "2^32 seconds")])
        audiences = spec.get("audiences") or [API_AUDIENCE]
        bound = spec.get("boundObjectRef") or None
        pod = secret = None
        if bound:
            kind, bname = bound.get("kind"), bound.get("name", "")
            plural = {"Pod": "pods", "Secret": "secrets"}.get(kind or "")
            target = self.store.get("", plural, self.target.namespace, bname) if plural else None
            if target is None:
                raise not_found("", plural or str(kind).lower(), bname)
            ref = (bname, target["metadata"]["uid"])
            pod, secret = (ref, None) if kind == "Pod" else (None, ref)
        token, exp = self.cluster.token_issuer.issue(self.target.namespace, self.target.name, sa["metadata"]["uid"],
                                                     seconds, audiences, secret=secret, pod=pod)
        return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"name": self.target.name, "namespace": self.target.namespace,
                             "creationTimestamp": None},
                "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": bound},
                "status": {"token": token,
                           "expirationTimestamp": exp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}}

    def review(self, req: Any) -> Obj:
        if not isinstance(req, dict):
            raise bad_request("the body of the request was not a JSON object")
        req = self._check_body(req)
        req["metadata"].setdefault("creationTimestamp", None)
        spec = req.get("spec") or {}
        kind = self.rt.kind
        user = self.user
        if kind in ("SelfSubjectAccessReview", "SubjectAccessReview"):
            if kind == "SubjectAccessReview":
                user = UserInfo(username=spec.get("user", ""), uid=spec.get("uid", ""),
                                groups=list(spec.get("groups") or []), extra=dict(spec.get("extra") or {}))
            ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
            if ra is not None:
                attrs = RequestAttributes(verb=ra.get("verb", ""), api_group=ra.get("group", ""),
                                          resource=ra.get("resource", ""), subresource=ra.get("subresource", ""),
                                          namespace=ra.get("namespace", ""), name=ra.get("name", ""))
            elif nra is not None:
                attrs = RequestAttributes(verb=nra.get("verb", ""), api_group="", resource="",
                                          resource_request=False, path=nra.get("path", ""))
            else:
                raise invalid(kind, "authorization.k8s.io", "", [(
                    "spec.resourceAttributes", "Invalid value: \"null\": exactly one of nonResourceAttributes "
                    "or resourceAttributes must be specified")])
            allowed = self.cluster.authorizer.authorize(user, attrs)
            req["status"] = {"allowed": allowed}
            if allowed:
                req["status"]["reason"] = "RBAC: allowed"
            return req
        if kind == "SelfSubjectRulesReview":
            ns = spec.get("namespace", "")
            res_rules, non_res_rules = self.cluster.authorizer.rules_for(user, ns)
            req["status"] = {"resourceRules": res_rules, "nonResourceRules": non_res_rules, "incomplete": False}
            return req
        if kind == "SelfSubjectReview":
            req["status"] = {"userInfo": user.to_api()}
            return req
        if kind == "TokenReview":
            token = spec.get("token", "")
            result = self.cluster.authenticator.authenticate(None, f"Bearer {token}")
            if isinstance(result, UserInfo):
                req["status"] = {"authenticated": True, "user": result.to_api(),
                                 "audiences": spec.get("audiences") or [API_AUDIENCE]}
            else:
                reason = result.reason if isinstance(result, AuthError) else "no credentials"
                req["status"] = {"authenticated": False, "user": {}, "error": reason}
            return req
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
