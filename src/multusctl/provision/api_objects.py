"""Generic object operations of `provision.api.Api`: get, list, server-side apply, delete and watch of any
kind `install` renders (the NAD CRD and its objects, DaemonSets, RBAC, ...), as plain API dicts.

These go through lightkube's own HTTP client (its base URL, TLS and credentials) rather than its typed
resources: lightkube models drop fields they do not know and cannot carry DeleteOptions preconditions, and
its watch reconnects forever, where `install --wait` needs a stream that ends at a deadline. Every call still
goes through `Api._call`, so retries and one-line failures are the same as for the typed calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

FIELD_MANAGER = "multusctl"


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.api_version}" if "/" in self.api_version else f"/api/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


# What install renders and status/uninstall read; a table rather than discovery, so a dry run or a status
# costs no extra round trips (an unknown kind is a one-line error, never a guessed plural).
KINDS: dict[tuple[str, str], Kind] = {(k.api_version, k.kind): k for k in (
    Kind("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    Kind("v1", "Namespace", "namespaces", False),
    Kind("v1", "ServiceAccount", "serviceaccounts", True),
    Kind("v1", "ConfigMap", "configmaps", True),
    Kind("v1", "Secret", "secrets", True),
    Kind("v1", "Service", "services", True),
    Kind("v1", "Pod", "pods", True),
    Kind("v1", "Node", "nodes", False),
    Kind("v1", "Event", "events", True),
    Kind("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    Kind("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    Kind("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    Kind("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    Kind("apps/v1", "DaemonSet", "daemonsets", True),
    Kind("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition", "network-attachment-definitions", True),
)}


class UnknownKind(ValueError):
    pass


def kind_of(api_version: str, kind: str) -> Kind:
    try:
        return KINDS[(api_version, kind)]
    except KeyError:
        raise UnknownKind(f"multusctl does not know the API resource of {api_version} {kind}") from None


def kind_for(obj: Obj) -> Kind:
    return kind_of(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))


class ObjectsMixin:
    """Mixed into `Api` (which provides `client` and `_call`)."""

    client: Any

    def _call(self, fn: Any, *args: Any, none_on_404: bool = False, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _http(self) -> Any:
        # lightkube's httpx client: base URL, TLS and authentication already configured.
        return self.client._client._client

    def _request(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None,
                 content_type: str = "application/json", none_on_404: bool = False) -> Obj | None:
        from lightkube.core.generic_client import GenericClient

        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type, "Accept": "application/json"} if content else {
            "Accept": "application/json"}

        def send() -> Obj:
            resp = self._http().request(method, path, params=params or None, content=content, headers=headers)
            GenericClient.raise_for_status(resp)  # lightkube's ApiError: what Api._call names and retries
            out: Obj = resp.json()
            return out

        out: Obj | None = self._call(send, none_on_404=none_on_404)
        return out

    def get_text(self, path: str, params: dict[str, str] | None = None) -> str | None:
        """The body of GET `path` as text (a pod log, /version), None for 404 Not Found."""
        from lightkube.core.generic_client import GenericClient

        def send() -> str:
            resp = self._http().request("GET", path, params=params or None, headers={"Accept": "*/*"})
            GenericClient.raise_for_status(resp)
            return str(resp.text)

        out: str | None = self._call(send, none_on_404=True)
        return out

    def get_object(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        return self._request("GET", kind_of(api_version, kind).path(namespace, name), none_on_404=True)

    def list_objects(self, api_version: str, kind: str, namespace: str | None = None, *,
                     labels: str | None = None, fields: str | None = None) -> tuple[list[Obj], str]:
        """(items, the list's resourceVersion); `namespace` None lists across all namespaces. A 404 (say, the
        CRD is not installed) is an ApiFailure with code 404."""
        params = {k: v for k, v in (("labelSelector", labels), ("fieldSelector", fields)) if v}
        out = self._request("GET", kind_of(api_version, kind).path(namespace), params=params) or {}
        return list(out.get("items") or []), str((out.get("metadata") or {}).get("resourceVersion") or "")

    def apply_object(self, obj: Obj, *, force: bool = False, dry_run: bool = False) -> Obj:
        """Server-side apply of `obj` with field manager multusctl (201 created or 200 applied)."""
        k = kind_for(obj)
        meta = obj.get("metadata") or {}
        params = {"fieldManager": FIELD_MANAGER, "force": "true" if force else "false"}
        if dry_run:
            params["dryRun"] = "All"
        out = self._request("PATCH", k.path(meta.get("namespace"), meta["name"]), params=params, body=obj,
                            content_type="application/apply-patch+yaml")
        return out or {}

    def create_object(self, obj: Obj, *, dry_run: bool = False) -> Obj:
        k = kind_for(obj)
        params = {"fieldManager": FIELD_MANAGER} | ({"dryRun": "All"} if dry_run else {})
        return self._request("POST", k.path((obj.get("metadata") or {}).get("namespace")), params=params,
                             body=obj) or {}

    def delete_object(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
                      dry_run: bool = False, uid: str | None = None, resource_version: str | None = None,
                      propagation: str = "Background") -> Obj | None:
        """Delete one object, only if it still is the one we checked (uid / resourceVersion preconditions);
        None when it is already gone."""
        opts: Obj = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        pre = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v}
        if pre:
            opts["preconditions"] = pre
        if dry_run:
            opts["dryRun"] = ["All"]
        return self._request("DELETE", kind_of(api_version, kind).path(namespace, name), body=opts,
                             none_on_404=True)

    def pod_log(self, namespace: str, name: str, container: str, *, limit_bytes: int = 4 << 20) -> str:
        """A container's log as text ('' when the pod or its log is gone)."""
        from urllib.parse import quote

        params = {"container": container, "limitBytes": str(limit_bytes)}
        return self.get_text(f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(name)}/log", params) or ""

    def watch_objects(self, api_version: str, kind: str, namespace: str | None, *, timeout: float,
                      fields: str | None = None, labels: str | None = None,
                      resource_version: str | None = None) -> Iterator[tuple[str, Obj]]:
        """One watch stream of (event type, object), which the server ends after `timeout` seconds (the
        caller re-watches from the last resourceVersion while its own deadline allows). BOOKMARKs are
        skipped; an ERROR event (410 Gone: too old a resourceVersion) is raised as ApiFailure."""
        import httpx2

        from multusctl.provision.api import CONNECT_TIMEOUT, ApiFailure

        seconds = max(1, int(timeout))
        params = {"watch": "true", "timeoutSeconds": str(seconds), "allowWatchBookmarks": "true"}
        params |= {k: v for k, v in (("fieldSelector", fields), ("labelSelector", labels),
                                     ("resourceVersion", resource_version)) if v}
        path = kind_of(api_version, kind).path(namespace)
        http = self._http()

        def open_stream() -> Any:
            from lightkube.core.generic_client import GenericClient

            req = http.build_request("GET", path, params=params,
                                     timeout=httpx2.Timeout(seconds + 10.0, connect=CONNECT_TIMEOUT))
            resp = http.send(req, stream=True)
            if resp.status_code >= 400:
                resp.read()
                resp.close()
                GenericClient.raise_for_status(resp)
            return resp

        resp = self._call(open_stream)
        try:
            for line in resp.iter_lines():
                if not line.strip():
                    continue
                event = json.loads(line)
                etype, obj = event.get("type", ""), event.get("object") or {}
                if etype == "BOOKMARK":
                    continue
                if etype == "ERROR":
                    raise ApiFailure("http", f"watch of {kind} failed: {obj.get('code', '')} "
                                     f"{obj.get('reason', '')}: {obj.get('message', '')}".strip(),
                                     obj.get("code"), obj.get("reason"))
                yield etype, obj
        except (httpx2.HTTPError, OSError, ValueError) as exc:
            from multusctl.provision.api import describe

            named = describe(exc, getattr(self, "server", "the API server"), getattr(self, "who", ""),
                             getattr(self, "secrets", set()))
            raise named from None
        finally:
            resp.close()
