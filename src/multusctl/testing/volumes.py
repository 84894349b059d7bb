"""The kubelet's volume plugins: where each volume of a pod comes from on this machine.

hostPath is a path inside the node's root (``podspec.host_path_source``); emptyDir a per-pod directory;
configMap, secret, downwardAPI and projected (configMap, secret, downwardAPI and serviceAccountToken sources;
the token is a real bound ServiceAccount token of the test cluster) are files written into the pod's staging
directory and mounted read-only. Anything else is a FailedMount (:class:`podspec.VolumeError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from multusctl.testing import podspec
from multusctl.testing.store import ApiError, Obj

if TYPE_CHECKING:
    from multusctl.testing.server import TestCluster


def pod_volume(cluster: TestCluster, key: tuple[str, str], spec: Obj, root: Path, staging: Path, host_ip: str,
               vol: Obj) -> tuple[Path, str]:
    """(host source, volume kind) of one volume of the pod `key` = (namespace, name)."""
    ns, name = key
    kind = next((k for k in vol if k != "name"), "")
    dest = staging / "volumes" / vol["name"]
    src = vol.get(kind) or {}
    store = cluster.store
    if kind == "hostPath":
        return podspec.host_path_source(root, src), kind
    if kind == "emptyDir":
        dest.mkdir(parents=True, exist_ok=True)
        return dest, kind
    mode = int(src.get("defaultMode") or 0o644)
    if kind in ("configMap", "secret"):
        ref = src.get("name" if kind == "configMap" else "secretName", "")
        obj = store.get("", "configmaps" if kind == "configMap" else "secrets", ns, ref)
        files = podspec.keyed_files(src, obj, kind.lower(), ref, kind == "secret")
    elif kind == "projected":
        files = {}
        for source in src.get("sources") or []:
            files.update(_projected(cluster, ns, name, spec, host_ip, source))
    elif kind == "downwardAPI":
        files = _downward(store.get("", "pods", ns, name) or {}, src, host_ip)
    else:
        raise podspec.VolumeError(f"volume type {kind or '<none>'} is not supported by the test kubelet")
    podspec.write_files(dest, files, mode)
    return dest, kind


def _downward(pod: Obj, src: Obj, host_ip: str) -> dict[str, bytes]:
    return {i.get("path", ""): podspec.field_value(pod, (i.get("fieldRef") or {}).get("fieldPath", ""),
                                                   host_ip).encode() for i in src.get("items") or []}


def _projected(cluster: TestCluster, ns: str, name: str, spec: Obj, host_ip: str, source: Obj) -> dict[str, bytes]:
    if "configMap" in source or "secret" in source:
        kind = "configMap" if "configMap" in source else "secret"
        src = source[kind] or {}
        obj = cluster.store.get("", "configmaps" if kind == "configMap" else "secrets", ns, src.get("name", ""))
        return podspec.keyed_files(src, obj, kind.lower(), src.get("name", ""), kind == "secret")
    if "serviceAccountToken" in source:
        sat = source["serviceAccountToken"] or {}
        sa = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
        try:
            token = cluster.create_token(ns, sa, int(sat.get("expirationSeconds") or 3607),
                                         [sat["audience"]] if sat.get("audience") else None)
        except ApiError as exc:
            raise podspec.VolumeError(str(exc)) from None
        return {sat.get("path") or "token": token.encode()}
    if "downwardAPI" in source:
        return _downward(cluster.store.get("", "pods", ns, name) or {}, source["downwardAPI"] or {}, host_ip)
    return {}
