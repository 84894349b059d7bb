"""Kubeconfig files as client-go reads them: current context -> cluster + user.

Structural problems (no current-context, a context naming a missing cluster, an empty server URL) are
collected in `problems` instead of raised, so the other checks can still look at what is there. What
counts as a problem follows client-go (`tools/clientcmd`), which is what Multus loads the file with
(`clientcmd.BuildConfigFromFlags("", path)` in multus `pkg/k8sclient`):

- an empty `current-context` selects *no* context (client-go never falls back to the only one), so the
  cluster is empty and loading fails with "invalid configuration: no configuration has been provided";
- a current-context naming no context fails ("context was not found for specified context");
- a context naming a missing cluster leaves the cluster empty (same "no configuration" failure);
- a context naming a missing user leaves the user empty: client-go then calls the API anonymously;
- duplicate names in `clusters`/`contexts`/`users` fail the whole load ("duplicate name ... in list");
- `*-data` fields are base64 decoded while loading; bad base64 fails the whole load.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import posixpath
from typing import Any
from urllib.parse import urlsplit

from multusctl.config import yamlload
from multusctl.config.errors import ParseError, config_text
from multusctl.config.secrets import redact_url, remember, url_password, user_secrets
from multusctl.records import dataclass, field

# Fields that name a file, with the section they live in. client-go resolves relative paths against the
# directory of the kubeconfig itself (clientcmd.ResolveLocalPaths), not against the working directory.
FILE_REF_KEYS: tuple[tuple[str, str], ...] = (
    ("cluster", "certificate-authority"),
    ("user", "client-certificate"),
    ("user", "client-key"),
    ("user", "tokenFile"),
)
DATA_KEYS: tuple[tuple[str, str], ...] = (
    ("cluster", "certificate-authority-data"),
    ("user", "client-certificate-data"),
    ("user", "client-key-data"),
)
# User fields holding a credential; their values never leave multusctl.
SECRET_KEYS = ("token", "client-key-data", "password")


@dataclass(frozen=True)
class FileRef:
    """A file path a kubeconfig names (CA, client certificate or key, token file)."""

    section: str  # "cluster" | "user"
    key: str  # e.g. "client-key"
    value: str  # as written in the kubeconfig
    field: str  # e.g. "users[multus].user.client-key"


@dataclass
class Kubeconfig:
    """A kubeconfig as client-go loads it: the selected cluster and user, and what is wrong."""

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
    def server_shown(self) -> str:
        """The server URL fit to print (no user info)."""
        return redact_url(self.server) if self.server else "(none)"

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
        """Base64-decoded `*-data` field, None when absent or not base64 (as client-go decodes it)."""
        return decoded_field(where, key)

    def section(self, name: str) -> dict[str, Any]:
        return self.cluster if name == "cluster" else self.user

    def section_field(self, name: str) -> str:
        return self.cluster_field if name == "cluster" else self.user_field

    def file_refs(self) -> list[FileRef]:
        """The file paths the selected cluster and user name, as written."""
        out = []
        for section, key in FILE_REF_KEYS:
            v = self.section(section).get(key)
            if isinstance(v, str) and v.strip():
                out.append(FileRef(section, key, v.strip(), f"{self.section_field(section)}.{key}"))
        return out

    @property
    def user_field(self) -> str:
        return f"users[{self.user_name}].user" if self.user_name else "users"

    @property
    def cluster_field(self) -> str:
        return f"clusters[{self.cluster_name}].cluster" if self.cluster_name else "clusters"


def b64decode_strict(value: str) -> bytes | None:
    # Go's base64.StdEncoding (used by encoding/json for []byte) skips only CR and LF.
    cleaned = value.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        return None


def decoded_field(where: dict[str, Any], key: str) -> bytes | None:
    """`where[key]` base64-decoded (a kubeconfig `*-data` field, a Secret's `data`); None when absent,
    empty or not base64."""
    v = where.get(key)
    if not isinstance(v, str) or not v:
        return None
    return b64decode_strict(v)


def resolve_ref(kubeconfig_path: str, value: str) -> str:
    """The path client-go opens for a file reference: relative to the kubeconfig's own directory."""
    if value.startswith("/"):
        return posixpath.normpath(value)
    return posixpath.normpath(posixpath.join(posixpath.dirname(kubeconfig_path) or "/", value))


def _entries(raw: dict[str, Any], list_key: str, item_key: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """name -> body of a named list (`clusters`, `contexts`, `users`), plus the names given twice."""
    items = raw.get(list_key)
    found: dict[str, dict[str, Any]] = {}
    dupes: list[str] = []
    if not isinstance(items, list):
        return found, dupes
    for item in items:
        if not isinstance(item, dict):
            continue
        name, body = item.get("name"), item.get(item_key)
        if not isinstance(name, str):
            continue
        if name in found:
            dupes.append(name)
            continue
        found[name] = body if isinstance(body, dict) else {}
    return found, dupes


def _host_port(server: str) -> tuple[str, int | None, str]:
    """(host, port, scheme) of a server URL; ValueError when it cannot be split."""
    # client-go (rest.DefaultServerURL) accepts a bare "host:port" and adds https:// when TLS is configured.
    url = server.strip()
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port
    if port is None:
        port = {"https": 443, "http": 80}.get(parts.scheme)
    return host, port, parts.scheme


def server_address(server: str | None) -> tuple[str, int] | None:
    """(host, port) a client connects to, or None when the URL is unusable."""
    if server is None or server_problem(server):
        return None
    try:
        host, port, _ = _host_port(server)
    except ValueError:
        return None
    return (host, port) if port is not None else None


def is_loopback_host(host: str) -> bool:
    h = host.strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def server_problem(server: str | None) -> str | None:
    """Why client-go cannot use this server URL, or None when it can."""
    if server is None or not server.strip():
        return "server URL is empty"
    shown = redact_url(server)  # a password in the URL is a secret too
    try:
        host, port, scheme = _host_port(server)
    except ValueError as exc:
        return f"server URL {shown!r} is malformed ({exc})"
    if scheme not in ("https", "http"):
        return f"server URL {shown!r} has scheme {scheme!r}, not https://"
    if not host:
        return f"server URL {shown!r} has no host (was KUBERNETES_SERVICE_HOST empty when it was written?)"
    if any(c.isspace() for c in server.strip()) or any(c in host for c in "<>{}|\\^`\"%"):
        return f"server URL {shown!r} contains characters not allowed in a host name"
    netloc = urlsplit(server if "://" in server else "https://" + server).netloc
    if netloc.rsplit("]", 1)[-1].endswith(":"):
        return f"server URL {shown!r} has an empty port (was KUBERNETES_SERVICE_PORT empty when it was written?)"
    if port is None:
        return f"server URL {shown!r} has no port"
    return None


def _collect_secrets(kc: Kubeconfig) -> None:
    """Every credential of every user (not only the selected one), and passwords in server URLs."""
    for item in _list(kc.raw.get("users")):
        user = item.get("user") if isinstance(item, dict) else None
        if not isinstance(user, dict):
            continue
        kc.secrets |= user_secrets(user)
        key_data = user.get("client-key-data")
        data = b64decode_strict(key_data) if isinstance(key_data, str) else None
        if data:
            pem = data.decode("utf-8", "replace").strip()
            kc.secrets.add(pem)
            # The key's base64 body lines, should a report ever show a fragment of the PEM.
            kc.secrets.update(line for line in pem.splitlines() if len(line) >= 16 and "-----" not in line)
    for item in _list(kc.raw.get("clusters")):
        cluster = item.get("cluster") if isinstance(item, dict) else None
        server = cluster.get("server") if isinstance(cluster, dict) else None
        password = url_password(server) if isinstance(server, str) else None
        if password:
            kc.secrets.add(password)
    remember(kc.secrets)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse(text: str | bytes) -> Kubeconfig:
    text = config_text(text)
    raw = yamlload.load(text)
    if not isinstance(raw, dict):
        raise ParseError(f"not a kubeconfig: top level is {type(raw).__name__}, not a mapping")
    kc = Kubeconfig(raw=raw)
    _collect_secrets(kc)
    clusters, cluster_dupes = _entries(raw, "clusters", "cluster")
    contexts, context_dupes = _entries(raw, "contexts", "context")
    users, user_dupes = _entries(raw, "users", "user")
    for list_key, dupes in (("clusters", cluster_dupes), ("contexts", context_dupes), ("users", user_dupes)):
        for name in dict.fromkeys(dupes):
            kc.problems.append((list_key, f"{list_key} lists {name!r} twice; client-go refuses to load the file"))

    ctx_name = raw.get("current-context")
    if not isinstance(ctx_name, str) or not ctx_name:
        names = ", ".join(repr(n) for n in contexts) or "none"
        kc.problems.append(
            ("current-context", f"current-context is not set (contexts: {names}); client-go does not pick one "
             "itself and fails with 'no configuration has been provided'")
        )
        return kc
    kc.current_context = ctx_name
    ctx = contexts.get(ctx_name)
    if ctx is None:
        kc.problems.append(("current-context", f"current-context {ctx_name!r} names no context in contexts"))
        return kc

    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if isinstance(cluster_name, str) and cluster_name:
        kc.cluster_name = cluster_name
        cluster = clusters.get(cluster_name)
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
        user = users.get(user_name)
        if user is None:
            kc.problems.append(
                ("users", f"context {ctx_name!r} names user {user_name!r}, which is missing: "
                 "client-go would call the API anonymously")
            )
        else:
            kc.user = user
    else:
        kc.problems.append(
            (f"contexts[{ctx_name}].context.user",
             "the context names no user: client-go would call the API anonymously")
        )

    for section, key in DATA_KEYS:
        v = kc.section(section).get(key)
        if v is None:
            continue
        if not isinstance(v, str) or b64decode_strict(v) is None:
            kc.problems.append(
                (f"{kc.section_field(section)}.{key}", f"{key} is not valid base64; client-go refuses to load the file")
            )
    return kc
