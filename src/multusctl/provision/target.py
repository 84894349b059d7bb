"""Where `kubeconfig create` writes and which admin kubeconfig it talks to the API with."""

from __future__ import annotations

import ipaddress
import os
import posixpath
import re
from collections.abc import Callable

from multusctl.config.secrets import redact_url
from multusctl.gather.nodefs import NodeFS, NodeFSError
from multusctl.layout.model import Layout
from multusctl.provision.files import LocalError

_SERVER = re.compile(r"^https://(?P<userinfo>[^@/]*@)?(?P<host>\[[^\]]*\]|[^:/\[\]@]+(?::[^/\[\]@]*?)??)"
                     r":(?P<port>\d{1,5})/?$")


def node_target(fs: NodeFS, layout: Layout, path: str | None) -> tuple[str, Callable[[str], str], str | None]:
    """(local path, how to show a local path, the one directory create may make: the layout's multus.d)
    for --path or the layout's multus kubeconfig under --root.

    Never resolves the file itself (a link there is refused when it is read), and refuses a multus.d that
    leads out of the CNI config directory: the parents are resolved inside the root, as the node sees them.
    Raises files.LocalError.
    """
    if path:
        local = os.path.abspath(path)
        try:
            layout_dir = fs.host(posixpath.dirname(layout.multus_kubeconfig))
        except NodeFSError:
            layout_dir = None
        return local, lambda p: p, layout_dir if os.path.dirname(local) == layout_dir else None
    node_dir = posixpath.dirname(layout.multus_kubeconfig)
    try:
        conf = fs.resolve(layout.conf_dir)
        resolved = fs.resolve(node_dir)
    except NodeFSError as exc:
        raise LocalError(str(exc)) from None
    if resolved != posixpath.join(conf, "multus.d"):
        link = os.path.join(fs.host(layout.conf_dir), "multus.d")
        how = (f"is a symbolic link to {os.readlink(link)}" if os.path.islink(link)
               else f"resolves to {resolved}")
        inside = (resolved + "/").startswith(conf.rstrip("/") + "/")
        where = (f"inside the CNI config directory {layout.conf_dir} but not its multus.d" if inside
                 else f"outside the CNI config directory {layout.conf_dir}")
        raise LocalError(f"{node_dir} {how} ({resolved}), {where}; "
                         "multusctl does not write through a link there: remove the link")
    local_dir = fs.host(node_dir)
    root_abs = fs.root.rstrip("/")
    real_root = os.path.realpath(fs.root)
    real_dir = os.path.realpath(local_dir)
    if real_dir != real_root and not real_dir.startswith(real_root.rstrip("/") + "/"):
        raise LocalError(f"{node_dir} leads to {real_dir} on this machine, outside --root {fs.root}")

    def shown(p: str) -> str:
        # Paths as the node sees them, like `multusctl check` reports them.
        if root_abs and p.startswith(root_abs + "/"):
            return p[len(root_abs):]
        return p

    return os.path.join(local_dir, posixpath.basename(layout.multus_kubeconfig)), shown, local_dir


def find_admin_kubeconfig(explicit: str | None, env: str | None, node_admin: str | None,
                          home: str) -> tuple[str, str] | None:
    """(path, where it came from): --kubeconfig, then $KUBECONFIG, the node's admin kubeconfig, ~/.kube/config."""
    if explicit:
        return explicit, "--kubeconfig"
    # client-go merges a $KUBECONFIG list; we take its first existing file, which holds the usual admin context.
    for part in (env or "").split(os.pathsep):
        if part and os.path.isfile(part):
            return part, "$KUBECONFIG"
    if node_admin and os.path.isfile(node_admin):
        return node_admin, "the node's admin kubeconfig"
    default = os.path.join(home, ".kube", "config")
    if os.path.isfile(default):
        return default, "~/.kube/config"
    return None


def server_url_problem(url: str) -> str | None:
    """Why `--server` is not a URL to write into Multus's kubeconfig, or None.

    Stricter than what client-go tolerates: https:// (the thin plugin always uses TLS), a host and an
    explicit port, brackets exactly around an IPv6 literal (a bracketed IPv4 is refused by Go >= 1.24.8)."""
    m = _SERVER.match(url)
    if m is None:
        return (f"{redact_url(url)!r} is not https://HOST:PORT (e.g. https://10.43.0.1:443, "
                "https://[fd00::1]:6443, https://api.example.com:6443)")
    if m.group("userinfo"):
        return "the URL holds user info (user:password@); a ServiceAccount kubeconfig authenticates with its token"
    host, port = m.group("host"), int(m.group("port"))
    if not 0 < port < 65536:
        return f"port {port} is out of range"
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"{host} is in brackets but is not an IPv6 address (only IPv6 literals go in brackets)"
        return None
    if ":" in host:
        return f"the IPv6 address {host} must be in brackets: https://[{host}]:{port}"
    return None
