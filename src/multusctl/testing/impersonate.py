"""User impersonation (``kubectl --as/--as-group/--as-uid``), as ``endpoints/filters/impersonation.go``.

Runs after authentication and before authorization. Each thing asked for is an ``impersonate``
check of the requester against RBAC: ``users``, ``groups`` and (namespaced) ``serviceaccounts``
in the core group with the name as resourceName, ``userextras/<key>`` and ``uids`` in
``authentication.k8s.io``. The first denial is the request's 403; when all are allowed the
request runs as the impersonated user: the given groups (a ServiceAccount without
``Impersonate-Group`` gets its ``system:serviceaccounts`` groups) plus ``system:authenticated``
(``system:unauthenticated`` for ``system:anonymous``) unless already present.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from multusctl.testing.auth import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    ANONYMOUS,
    SA_GROUPS_PREFIX,
    SA_PREFIX,
    RequestAttributes,
    UserInfo,
    forbidden_status,
    service_account_username,
)
from multusctl.testing.names import dns1123_label, dns1123_subdomain
from multusctl.testing.rbac import Authorizer
from multusctl.testing.store import ApiError

__all__ = ["ImpersonationError", "impersonate"]

USER_HEADER = "impersonate-user"
GROUP_HEADER = "impersonate-group"
UID_HEADER = "impersonate-uid"
EXTRA_PREFIX = "impersonate-extra-"
AUTHN_GROUP = "authentication.k8s.io"


class ImpersonationError(Exception):
    """Impersonation headers without a user: upstream answers a plain-text 500."""


@dataclass(frozen=True)
class _Ask:
    kind: str  # ServiceAccount, User, Group, UserExtra, UID
    name: str
    namespace: str = ""
    field_path: str = ""  # the extra key

    def go(self) -> str:
        # Go's %v of the v1.ObjectReference upstream builds: {Kind Namespace Name UID APIVersion RV FieldPath}
        api_version = "authentication.k8s.io/v1" if self.kind in ("UserExtra", "UID") else ""
        return "{" + " ".join((self.kind, self.namespace, self.name, "", api_version, "", self.field_path)) + "}"


def split_service_account(username: str) -> tuple[str, str] | None:
    """``serviceaccount.SplitUsername``: ``(namespace, name)`` or None when not a valid SA username."""
    if not username.startswith(SA_PREFIX):
        return None
    parts = username[len(SA_PREFIX):].split(":")
    if len(parts) != 2 or dns1123_label(parts[0]) or dns1123_subdomain(parts[1]):
        return None
    return parts[0], parts[1]


def _asks(headers: Iterable[tuple[str, str]]) -> list[_Ask]:
    """``buildImpersonationRequests``: user, groups, extras, uid, in that order."""
    items = [(k.lower(), v) for k, v in headers]
    users = [v for k, v in items if k == USER_HEADER]
    asks: list[_Ask] = []
    if users and users[0]:
        sa = split_service_account(users[0])
        asks.append(_Ask("ServiceAccount", sa[1], sa[0]) if sa else _Ask("User", users[0]))
    groups = [_Ask("Group", v) for k, v in items if k == GROUP_HEADER]
    extras = [_Ask("UserExtra", v, field_path=unquote(k[len(EXTRA_PREFIX):]))
              for k, v in items if k.startswith(EXTRA_PREFIX)]
    uids = [v for k, v in items if k == UID_HEADER]
    asks += groups + extras
    if uids and uids[0]:
        asks.append(_Ask("UID", uids[0]))
    if (groups or extras or (uids and uids[0])) and not (users and users[0]):
        raise ImpersonationError(f"requested [{' '.join(a.go() for a in asks)}] without impersonating a user")
    return asks


def _attributes(ask: _Ask) -> RequestAttributes:
    if ask.kind == "ServiceAccount":
        return RequestAttributes("impersonate", "", "serviceaccounts", namespace=ask.namespace, name=ask.name)
    if ask.kind == "User":
        return RequestAttributes("impersonate", "", "users", name=ask.name)
    if ask.kind == "Group":
        return RequestAttributes("impersonate", "", "groups", name=ask.name)
    if ask.kind == "UserExtra":
        return RequestAttributes("impersonate", AUTHN_GROUP, "userextras", subresource=ask.field_path, name=ask.name)
    return RequestAttributes("impersonate", AUTHN_GROUP, "uids", name=ask.name)


def impersonate(requester: UserInfo, headers: Iterable[tuple[str, str]], authorizer: Authorizer) -> UserInfo:
    """The user a request runs as: ``requester`` itself without impersonation headers, else the
    impersonated user. Raises ``ApiError`` (403) on a denial and ``ImpersonationError`` on headers
    that ask for groups, extras or a uid but no user."""
    headers = list(headers)
    asks = _asks(headers)
    if not asks:
        return requester
    groups_given = any(a.kind == "Group" for a in asks)
    username, uid = "", ""
    groups: list[str] = []
    extra: dict[str, list[str]] = {}
    for ask in asks:
        attrs = _attributes(ask)
        if ask.kind == "ServiceAccount":
            username = service_account_username(ask.namespace, ask.name)
            if not groups_given:
                groups = [SA_GROUPS_PREFIX, f"{SA_GROUPS_PREFIX}:{ask.namespace}"]
        elif ask.kind == "User":
            username = ask.name
        elif ask.kind == "Group":
            groups.append(ask.name)
        elif ask.kind == "UserExtra":
            extra.setdefault(ask.field_path, []).append(ask.name)
        else:
            uid = ask.name
        allowed, reason = authorizer.authorize_with_reason(requester, attrs)
        if not allowed:
            status = forbidden_status(requester, attrs, reason)
            raise ApiError(403, "Forbidden", status["message"], status.get("details"))
    if username != ANONYMOUS.username:
        if ALL_AUTHENTICATED not in groups and ALL_UNAUTHENTICATED not in groups:
            groups.append(ALL_AUTHENTICATED)
    elif ALL_UNAUTHENTICATED not in groups:
        groups.append(ALL_UNAUTHENTICATED)
    return UserInfo(username=username, uid=uid, groups=groups, extra=extra)
