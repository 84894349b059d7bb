"""Kubeconfig files as client-go reads them: current context -> cluster + user.

Structural problems (no current-context, a context naming a missing cluster, an empty server URL) are
collected in `problems` instead of raised, so the other checks can still look at what is there.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from multusctl.config.errors import ParseError


@dataclass
class Kubeconfig:
    raw: dict[str, Any]
    current_context: str | None = None
    cluster_name: str | None = None
    cluster: dict[str, Any] = field(default_factory=dict)
    user_name: str | None = None
    user: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, one-line reason)
    secrets: set[str] = field(default_factory=set)  # values that must never be printed

    @property
    def server(self) -> str | None:
        v = self.cluster.get("server")
        return v if isinstance(v, str) else None

    @property
    def token(self) -> str | None:
        v = self.user.get("token")
        return v.strip() if isinstance(v, str) and v.strip() else None

    def user_str(self, key: str) -> str | None:
        v = self.user.get(key)
        return v if isinstance(v, str) and v else None

    def cluster_str(self, key: str) -> str | None:
        v = self.cluster.get(key)
        return v if isinstance(v, str) and v else None

    def decoded(self, where: dict[str, Any], key: str) -> bytes | None:
        """Base64-decoded `*-data` field, None when absent or not base64."""
        v = where.get(key)
        if not isinstance(v, str) or not v:
            return None
        try:
            return base64.b64decode(v, validate=False)
        except (binascii.Error, ValueError):
            return None

    @property
    def user_field(self) -> str:
        return f"users[{self.user_name}].user" if self.user_name else "users"

    @property
    def cluster_field(self) -> str:
        return f"clusters[{self.cluster_name}].cluster" if self.cluster_name else "clusters"


def _load_yaml(text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParseError(f"invalid YAML{where}: {problem}") from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise ParseError(f"invalid YAML: {type(exc).__name__}") from None


def _named(items: Any, name: str, key: str) -> dict[str, Any] | None:
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get(key), dict):
            return item[key]
    return None


def server_problem(server: str | None) -> str | None:
    """Why client-go cannot use this server URL, or None when it can."""
    if not server or not server.strip():
        return "server URL is empty"
    try:
        parts = urlsplit(server)
        port = parts.port
    except ValueError as exc:
        return f"server URL {server!r} is malformed ({exc})"
    if parts.scheme not in ("https", "http"):
        return f"server URL {server!r} has no https:// scheme"
    if not parts.hostname:
        return f"server URL {server!r} has no host (was KUBERNETES_SERVICE_HOST empty when it was written?)"
    if server.rstrip("/").endswith(":") or (port is None and ":" in (parts.netloc.rsplit("]", 1)[-1])):
        return f"server URL {server!r} has an empty port"
    return None


def parse(text: str | bytes) -> Kubeconfig:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("not UTF-8 text") from None
    if not text.strip():
        raise ParseError("file is empty")
    raw = _load_yaml(text)
    if not isinstance(raw, dict):
        raise ParseError(f"not a kubeconfig: top level is {type(raw).__name__}, not a mapping")
    kc = Kubeconfig(raw=raw)
    for u in raw.get("users") or [] if isinstance(raw.get("users"), list) else []:
        user = u.get("user") if isinstance(u, dict) else None
        if isinstance(user, dict):
            for key in ("token", "client-key-data", "password"):
                v = user.get(key)
                if isinstance(v, str) and v:
                    kc.secrets.add(v.strip())
                    if key == "client-key-data":
                        try:
                            kc.secrets.add(base64.b64decode(v).decode("utf-8", "replace").strip())
                        except (binascii.Error, ValueError):
                            pass
    ctx_name = raw.get("current-context")
    if not isinstance(ctx_name, str) or not ctx_name:
        contexts = raw.get("contexts")
        if isinstance(contexts, list) and len(contexts) == 1 and isinstance(contexts[0], dict):
            kc.problems.append(("current-context", "current-context is not set"))
        else:
            kc.problems.append(("current-context", "current-context is not set"))
        return kc
    kc.current_context = ctx_name
    ctx = _named(raw.get("contexts"), ctx_name, "context")
    if ctx is None:
        kc.problems.append(("contexts", f"current-context {ctx_name!r} names no context"))
        return kc
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if isinstance(cluster_name, str) and cluster_name:
        kc.cluster_name = cluster_name
        cluster = _named(raw.get("clusters"), cluster_name, "cluster")
        if cluster is None:
            kc.problems.append(("clusters", f"context {ctx_name!r} names cluster {cluster_name!r}, which is missing"))
        else:
            kc.cluster = cluster
            problem = server_problem(kc.server)
            if problem:
                kc.problems.append((f"{kc.cluster_field}.server", problem))
    else:
        kc.problems.append((f"contexts[{ctx_name}].context.cluster", "the context names no cluster"))
    if isinstance(user_name, str) and user_name:
        kc.user_name = user_name
        user = _named(raw.get("users"), user_name, "user")
        if user is None:
            kc.problems.append(("users", f"context {ctx_name!r} names user {user_name!r}, which is missing"))
        else:
            kc.user = user
    return kc
