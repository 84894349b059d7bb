"""cluster-network-unresolved: a clusterNetwork or defaultNetworks entry names nothing Multus can load.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from multusctl.checks.mounts import _exists, _layout_thick, _thin, network_settings
from multusctl.checks.registry import Hit, check
from multusctl.checks.thick_paths import thick_unmounted
from multusctl.checks.thin_paths import thin_pod_paths
from multusctl.config import multus as multus_mod
from multusctl.gather.snapshot import NodeSnapshot, conf_files_in, read_conf_file
from multusctl.records import dataclass

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# ---------------------------------------------------------------------------------------------------
# clusterNetwork / defaultNetworks


@dataclass(frozen=True)
class NetRef:
    """A clusterNetwork or defaultNetworks entry, and where it is written."""

    source: str
    field: str
    value: str
    thick: bool


def _network_refs(snap: NodeSnapshot) -> tuple[list[NetRef], str | None, str]:
    """The effective clusterNetwork/defaultNetworks, the host path of the confDir used for names, and
    the confDir as written."""
    eff = snap.effective
    if eff is None:
        return [], None, ""
    thick = eff.mode == "thick"
    refs = [NetRef(source, fld, v, thick) for fld, _key, source, v in network_settings(eff)
            if isinstance(v, str) and v]
    conf_dir = eff.text("confDir") or multus_mod.DEFAULT_CONF_DIR
    return refs, snap.thick_paths.to_host(conf_dir) if thick else conf_dir, conf_dir


def _multus_namespace(snap: NodeSnapshot) -> str:
    """multusNamespace as Multus sees it (in thick mode, daemon-config.json's wins)."""
    eff = snap.effective
    return (eff.text("multusNamespace") if eff else None) or "kube-system"


def _named_in_conf_dir(snap: NodeSnapshot, conf_dir: str, name: str) -> str | None:
    """The first .conf/.json/.conflist in conf_dir whose `name` is `name` (GetCNIConfigFromFile)."""
    for p in conf_files_in(snap.fs, conf_dir):
        cf = read_conf_file(snap.fs, p)
        if cf.cni is not None and cf.cni.name == name:
            return p
    return None


def _first_conf_in(snap: NodeSnapshot, d: str) -> bool:
    return any(p.endswith((".conf", ".conflist")) for p in conf_files_in(snap.fs, d))


@check("cluster-network-unresolved")
def cluster_network_unresolved(snap: NodeSnapshot) -> Iterator[Hit]:
    refs, conf_dir_host, conf_dir_written = _network_refs(snap)
    if not refs:
        return
    t = _thin(snap)
    if t is not None and not t[1].kubeconfig:
        return  # without an API client multus never resolves them (GetDefaultNetworks); kubeconfig-unset
    pod_flagged = {pp.value for pp in thin_pod_paths(snap)}
    unmounted = {u.tp.value for u in thick_unmounted(snap)}
    for ref in refs:
        if "/" in ref.value:
            yield from _unresolved_path(snap, ref, pod_flagged, unmounted)
        else:
            yield from _unresolved_name(snap, ref, conf_dir_host, conf_dir_written)


def _unresolved_path(snap: NodeSnapshot, ref: NetRef, pod_flagged: set[str],
                     unmounted: set[str]) -> Iterator[Hit]:
    if not ref.thick and ref.value in pod_flagged:
        return  # a pod path: reported by the check this one defers_to (data/checks.toml)
    if ref.thick and ref.value in unmounted:
        return  # a host path the pod cannot see: reported by the check this one defers_to
    host = snap.thick_paths.to_host(ref.value) if ref.thick else ref.value
    if host is None:
        host = ref.value
    key = ref.field.split("[")[0].split(".")[-1]
    seen_as = f" (the daemon pod's {ref.value} is the host's {host})" if host != ref.value else ""
    if _exists(snap, host):
        if snap.fs.is_dir(host) and not _first_conf_in(snap, host):
            yield Hit(
                message=f'"{ref.field}": "{ref.value}" in {ref.source} is a directory{seen_as} with no '
                f".conf/.conflist file, so multus finds no network there and every pod ADD fails.",
                fix=f"Point {key} at the primary CNI's config file, e.g. {_suggest_primary(snap, ref)}.",
                path=ref.source, field=ref.field, evidence={"value": ref.value, "host_path": host},
            )
        return
    suggestion = _suggest_primary(snap, ref)
    effect = ("the cluster network, and every pod ADD fails" if key == "clusterNetwork"
              else "that default network, and every ADD outside kube-system fails")
    yield Hit(
        message=f'"{ref.field}": "{ref.value}" in {ref.source}: {host} does not exist{seen_as}, so multus '
        f"cannot load {effect} (`GetDefaultNetworks: failed to get clusterNetwork`).",
        fix=f'Set "{ref.field}": "{suggestion}" in {ref.source} (the primary CNI config in '
        f"{snap.layout.conf_dir}).",
        path=ref.source, field=ref.field,
        evidence={"value": ref.value, "host_path": host, "suggested": suggestion},
    )


def _suggest_primary(snap: NodeSnapshot, ref: NetRef) -> str:
    """The primary conf, named as the reader of this config sees it."""
    p = snap.primary
    if p is None:
        return f"{snap.layout.conf_dir}/<primary>.conflist"
    if not ref.thick:
        return p.path
    pod = _layout_thick(snap).to_pod(p.path)
    return pod or p.path


def _unresolved_name(snap: NodeSnapshot, ref: NetRef, conf_dir_host: str | None,
                     conf_dir_written: str) -> Iterator[Hit]:
    if conf_dir_host is not None and _named_in_conf_dir(snap, conf_dir_host, ref.value):
        return
    may_be_nad = len(ref.value) <= 253 and bool(DNS1123_SUBDOMAIN.match(ref.value))
    ns = _multus_namespace(snap)
    primary = snap.primary
    hint = ""
    if primary is not None and primary.cni is not None and primary.cni.name == ref.value:
        hint = (f" The primary config {primary.path} has that name, but multus looks names up in confDir "
                f"({conf_dir_written}), not in the runtime's conf dir.")
    where = f"{conf_dir_written}" + (f" (the host's {conf_dir_host})" if conf_dir_host and
                                     conf_dir_host != conf_dir_written else "")
    if may_be_nad:
        yield Hit(
            message=f'"{ref.field}": "{ref.value}" in {ref.source} is a name: multus first looks for a '
            f"NetworkAttachmentDefinition {ref.value} in its multusNamespace ({ns}), "
            f"then for a config named {ref.value} in confDir {where}, and no file there has that name.{hint} "
            "Offline this cannot tell whether the NAD exists.",
            fix=f"Run `multusctl doctor` to check the NAD {ns}/{ref.value} exists; or name the "
            f"primary config by path instead: \"{ref.field}\": \"{_suggest_primary(snap, ref)}\".",
            path=ref.source, field=ref.field,
            evidence={"value": ref.value, "conf_dir": conf_dir_written, "conf_dir_host": conf_dir_host},
            severity="info",
        )
        return
    yield Hit(
        message=f'"{ref.field}": "{ref.value}" in {ref.source} is not a valid NetworkAttachmentDefinition '
        f"name, and no config in confDir {where} is named {ref.value}, so multus cannot load it and every "
        f"pod ADD fails.{hint}",
        fix=f'Set "{ref.field}": "{_suggest_primary(snap, ref)}" in {ref.source}.',
        path=ref.source, field=ref.field,
        evidence={"value": ref.value, "conf_dir": conf_dir_written, "conf_dir_host": conf_dir_host},
    )
