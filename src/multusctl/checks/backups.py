"""kubeconfig-backup-admin-credentials: a copy of an admin kubeconfig left beside Multus's kubeconfig.

The founding case (a copied k3s.yaml as multus.kubeconfig) leaves cluster-admin credentials in
`multus.d` even after the fix: `kubeconfig create` keeps the file it replaces as `.bak-<time>` (0600), and
people keep their own `multus.kubeconfig.orig` copies. Any readable file there that is a kubeconfig whose
client certificate is cluster-admin is one more place an admin credential sits on every node.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from multusctl.checks.registry import Hit, check
from multusctl.config.credentials import kubeconfig_admin_reason
from multusctl.gather.snapshot import NodeSnapshot

MAX_FILES = 200  # multus.d holds a handful of files; a directory of thousands is not worth reading through


def _dirs(snap: NodeSnapshot) -> list[str]:
    dirs = [posixpath.dirname(snap.layout.multus_kubeconfig)]
    kf = snap.kubeconfig
    if kf is not None and posixpath.dirname(kf.path) not in dirs:
        dirs.append(posixpath.dirname(kf.path))
    return dirs


@check("kubeconfig-backup-admin-credentials")
def kubeconfig_backup_admin_credentials(snap: NodeSnapshot) -> Iterator[Hit]:
    in_use = snap.kubeconfig.path if snap.kubeconfig else None
    for d in _dirs(snap):
        for name in snap.fs.names(d)[:MAX_FILES]:
            path = posixpath.join(d, name)
            if path == in_use or not snap.fs.is_file(path):
                continue
            data = snap.fs.read_or_none(path)
            why = kubeconfig_admin_reason(data) if data is not None and b"client-certificate" in data else None
            if why is None:
                continue
            ours = ".bak-" in name
            yield Hit(
                message=f"{name} in {d} is a kubeconfig with cluster-admin credentials ({why})"
                + (", the backup `multusctl kubeconfig create` kept of the file it replaced" if ours else "")
                + ". Multus does not read it, but it is one more copy of an admin credential on this node, "
                "readable by whoever can read this directory.",
                fix=f"Once pods start with the new kubeconfig, remove it: rm {path}",
                path=path,
                evidence={"admin": why, "backup_of_create": ours},
            )
