"""Who a request is and what it may do, for the test cluster: the users, the Status errors of 401/403, the
attributes of a request, and the constants kube-apiserver's authenticators and RBAC share.

The test cluster mirrors kube-apiserver closely enough that kubectl and client libraries see the same outcomes
they would against a real cluster: `authn` (x509, static tokens, ServiceAccount JWTs), `tokens` (the JWTs and
their signing keys), `rbac` (bindings, rules, the bootstrap roles); impersonation is in `impersonate`.

Limits: no intermediate CAs for client certificates, no OIDC/webhook authenticators, no RBAC escalation checks
on role writes; node claims in bound tokens are carried into ``extra`` but not validated; a legacy Secret with
no ``data.token`` yet does not veto its token (upstream rejects it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

RBAC_GROUP = "rbac.authorization.k8s.io"
DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
LEGACY_ISSUER = "kubernetes/serviceaccount"
# go-jose's jwt.DefaultLeeway, which kube-apiserver's validator relies on.
DEFAULT_LEEWAY_SECONDS = 60.0
DEFAULT_TOKEN_SECONDS = 3600

ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
SYSTEM_MASTERS = "system:masters"
SA_PREFIX = "system:serviceaccount:"
SA_GROUPS_PREFIX = "system:serviceaccounts"

EXTRA_CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name"
EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid"
EXTRA_NODE_NAME = "authentication.kubernetes.io/node-name"
EXTRA_NODE_UID = "authentication.kubernetes.io/node-uid"


# --------------------------------------------------------------------------- users


@dataclass
class UserInfo:
    username: str
    uid: str = ""
    groups: list[str] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The ``UserInfo`` shape of TokenReview/SelfSubjectReview status (empty fields omitted)."""
        out: dict[str, Any] = {"username": self.username}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


ANONYMOUS = UserInfo("system:anonymous", groups=[ALL_UNAUTHENTICATED])


def service_account_username(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


def with_authenticated(groups: Iterable[str]) -> list[str]:
    # The real AuthenticatedGroupAdder appends system:authenticated unless present.
    out = list(groups)
    if ALL_AUTHENTICATED not in out:
        out.append(ALL_AUTHENTICATED)
    return out


class Lookup(Protocol):
    """Read access to stored objects (plain Kubernetes JSON dicts)."""

    def get(self, group: str, resource: str, namespace: str | None, name: str) -> dict | None: ...

    def list(self, group: str, resource: str, namespace: str | None = None) -> list[dict]: ...


# --------------------------------------------------------------------------- errors / Status


class AuthError(Exception):
    """Credentials were presented and rejected: the request gets a 401.

    ``reason`` is the server-side explanation (kube-apiserver logs it); the
    response body is always the generic ``Unauthorized`` Status, as upstream,
    so clients learn nothing about why.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def status(self) -> dict[str, Any]:
        return unauthorized_status()


def status_object(code: int, reason: str, message: str, details: dict | None = None) -> dict[str, Any]:
    """A ``v1 Status`` failure body as kube-apiserver writes it."""
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details:
        out["details"] = details
    out["code"] = code
    return out


def unauthorized_status() -> dict[str, Any]:
    return status_object(401, "Unauthorized", "Unauthorized")


def forbidden_message(user: UserInfo | None, attrs: RequestAttributes) -> str:
    """The text of ``responsewriters.forbiddenMessage`` (what kubectl prints after "Error from server")."""
    username = (user or ANONYMOUS).username
    if not attrs.resource_request:
        return f'User "{username}" cannot {attrs.verb} path "{attrs.path}"'
    resource = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
    if attrs.namespace:
        return (
            f'User "{username}" cannot {attrs.verb} resource "{resource}" in API group '
            f'"{attrs.api_group}" in the namespace "{attrs.namespace}"'
        )
    return (
        f'User "{username}" cannot {attrs.verb} resource "{resource}" in API group '
        f'"{attrs.api_group}" at the cluster scope'
    )


def forbidden_status(user: UserInfo | None, attrs: RequestAttributes, reason: str = "") -> dict[str, Any]:
    """The 403 Status (``apierrors.NewForbidden``) for a denied request."""
    msg = forbidden_message(user, attrs)
    if reason:
        msg = f"{msg}: {reason}"
    if not attrs.resource_request:
        return status_object(403, "Forbidden", f"forbidden: {msg}", {})
    qualified = attrs.resource + (f".{attrs.api_group}" if attrs.api_group else "")
    message = f'{qualified} "{attrs.name}" is forbidden: {msg}' if attrs.name else f"{qualified} is forbidden: {msg}"
    details: dict[str, Any] = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.api_group:
        details["group"] = attrs.api_group
    details["kind"] = attrs.resource
    return status_object(403, "Forbidden", message, details)


# --------------------------------------------------------------------------- requests


@dataclass
class RequestAttributes:
    verb: str
    api_group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    resource_request: bool = True
    path: str = ""


@dataclass(frozen=True)
class Decision:
    """One authorization decision, as an audit log at level Metadata records it."""

    user: str
    verb: str
    group: str
    resource: str  # with its subresource ("pods/status"), or the path of a non-resource request
    namespace: str
    allowed: bool


