"""Which CNI config the container runtime loads from its conf dir, and how it treats a bad one.

containerd (libcni) takes the first file by name and fails on an invalid one; CRI-O (ocicni) skips
invalid files and files whose plugin binary is missing. Shared by the conf-dir and install checks.
"""

from __future__ import annotations

import posixpath
import re

from multusctl.config import cni as cni_mod
from multusctl.gather.snapshot import ConfFile, NodeSnapshot

_LINE = re.compile(r"at line (\d+) column (\d+)")


# ---------------------------------------------------------------------------------------------------
# helpers shared with keys.py and binaries.py


def runtime_kind(snap: NodeSnapshot) -> str:
    """'crio' when the layout says CRI-O decides the CNI dirs, else 'containerd'."""
    if snap.layout.distro == "openshift":
        return "crio"
    for key in ("runtime", "conf_dir"):
        for line in snap.layout.evidence.get(key, []):
            if line.startswith("CRI-O") or "crio.conf" in line:
                return "crio"
    return "containerd"


def multus_pods(snap: NodeSnapshot) -> tuple[str, str]:
    """(namespace, label selector) of the multus DaemonSet's pods, for the kubectl commands of a fix.

    Upstream manifests and the microk8s addon label them app=multus in kube-system; the rke2-multus chart
    (RKE2's own, and k3s's documented install) labels them app=rke2-multus; OpenShift's CNO runs them in
    openshift-multus."""
    if snap.layout.distro == "openshift":
        return "openshift-multus", "app=multus"
    if snap.layout.distro in ("k3s", "rke2"):
        return "kube-system", "app in (multus,rke2-multus)"
    return "kube-system", "app=multus"


def restart_multus_pod(snap: NodeSnapshot) -> str:
    ns, sel = multus_pods(snap)
    return f"kubectl -n {ns} delete pod -l '{sel}' --field-selector spec.nodeName=<this node>"


def load_error(cf: ConfFile) -> str | None:
    """Why the runtime cannot load this file (parse error or libcni's extension rules), or None."""
    if cf.error is not None:
        return cf.error
    if cf.cni is None:
        return "not read"
    return cni_mod.runtime_load_error(cf.cni.raw, cf.name)


def crio_skip_reason(snap: NodeSnapshot, cf: ConfFile) -> str | None:
    """Why CRI-O (ocicni loadNetworks) skips this file: it cannot load it, or ValidateNetworkList finds a
    plugin of the chain missing from its plugin dirs. None when CRI-O would use it."""
    err = load_error(cf)
    if err is not None:
        return err
    assert cf.cni is not None
    for t in cf.cni.types:
        if "/" in t or not any(_is_file(snap, posixpath.join(d, t)) for d in snap.layout.bin_dirs):
            return f"its plugin {t!r} is not in {', '.join(snap.layout.bin_dirs)}"
    return None


def _is_file(snap: NodeSnapshot, path: str) -> bool:
    return snap.fs.is_file(path)


def runtime_choice(snap: NodeSnapshot) -> ConfFile | None:
    """The conf file the runtime uses for pods: the first one (containerd) or the first one it can load
    and validate (CRI-O). None when there is none, or when containerd would fail on the first file."""
    files = snap.conf_files
    if not files:
        return None
    if runtime_kind(snap) == "crio":
        return next((c for c in files if crio_skip_reason(snap, c) is None), None)
    return files[0] if load_error(files[0]) is None else None


def _line_of(error: str) -> int | None:
    m = _LINE.search(error)
    return int(m.group(1)) if m else None


def _primary_candidate(snap: NodeSnapshot) -> ConfFile | None:
    """The file multus's auto-config would take as the primary: first .conf/.conflist not 00-multus*."""
    for c in snap.conf_files:
        if c.name.endswith((".conf", ".conflist")) and not c.name.startswith("00-multus"):
            return c
    return None
