"""IPAM plugins that read a config file of their own: is it where the plugin will look.

whereabouts (k8snetworkplumbingwg/whereabouts pkg/config/config.go GetFlatIPAM) merges a "flat file" into its
ipam block, trying `ipam.configuration_path` first and then three fixed paths; it does not look in the conf dir
the runtime uses. Without the flat file and without `ipam.kubernetes.kubeconfig` in the block, LoadIPAMConfig
returns its storage error and every ADD on that network fails. The plugin runs on the host (thin multus, or the
thick daemon's chrooted exec), so these are host paths. On k3s the whereabouts DaemonSet, pointed at k3s's conf
dir, writes its file to `<k3s conf dir>/whereabouts.d/whereabouts.conf`, where the plugin never looks (k3s#10545).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from multusctl.checks.networks import network_field, network_paths, read_network
from multusctl.checks.registry import Hit, check
from multusctl.gather.snapshot import NodeSnapshot

WHEREABOUTS_FLAT_FILES = (
    "/etc/kubernetes/cni/net.d/whereabouts.d/whereabouts.conf",
    "/etc/cni/net.d/whereabouts.d/whereabouts.conf",
    "/host/etc/cni/net.d/whereabouts.d/whereabouts.conf",
)


def _networks(snap: NodeSnapshot) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(file, field prefix, conf or conflist object) of every network config on the node multus or the runtime
    may run: the multus config's delegates and path-valued networks, and the conf dir's other configs."""
    m = snap.multus
    if m is not None and m.multus is not None:
        mc = m.multus
        for _fld, _value, host in network_paths(snap, m):
            got = read_network(snap, host)
            if got is not None:
                yield got[0], "", got[1]
        delegates = mc.get("delegates")
        if not mc.get("clusterNetwork") and isinstance(delegates, list):
            for i, d in enumerate(delegates):
                if isinstance(d, dict):
                    yield m.path, network_field(mc, f"delegates[{i}]") + ".", d
    for c in snap.conf_files:
        if c.cni is not None and c.multus is None:
            yield c.path, "", c.cni.raw


def _whereabouts_blocks(obj: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    plugins = obj.get("plugins")
    items = ([(f"{prefix}plugins[{i}].", p) for i, p in enumerate(plugins)] if isinstance(plugins, list)
             else [(prefix, obj)])
    for fld, p in items:
        ipam = p.get("ipam") if isinstance(p, dict) else None
        if isinstance(ipam, dict) and ipam.get("type") == "whereabouts":
            yield f"{fld}ipam", ipam


def _is_file(snap: NodeSnapshot, path: str) -> bool:
    return snap.fs.is_file(path)


@check("ipam-config-missing")
def ipam_config_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    seen: set[tuple[str, str]] = set()
    for path, prefix, obj in _networks(snap):
        for fld, ipam in _whereabouts_blocks(obj, prefix):
            if (path, fld) in seen:
                continue
            seen.add((path, fld))
            kube = ipam.get("kubernetes")
            if isinstance(kube, dict) and isinstance(kube.get("kubeconfig"), str) and kube["kubeconfig"].strip():
                continue  # the block names its kubeconfig itself: the flat file only adds defaults
            own = ipam.get("configuration_path")
            looked = ([own] if isinstance(own, str) and own else []) + list(WHEREABOUTS_FLAT_FILES)
            if any(_is_file(snap, p) for p in looked):
                continue
            beside = posixpath.join(snap.layout.conf_dir, "whereabouts.d", "whereabouts.conf")
            there = beside not in looked and _is_file(snap, beside)
            hint = (f" A whereabouts.conf is at {beside} (its DaemonSet wrote it into this node's conf dir), but "
                    "whereabouts does not look there (k3s#10545)." if there else "")
            fix = (f'Add "configuration_path": "{beside}" to the {fld} block of {path}, or link the file where '
                   f"whereabouts looks: `mkdir -p /etc/cni/net.d/whereabouts.d && ln -s {beside} "
                   f"{WHEREABOUTS_FLAT_FILES[1]}`." if there else
                   f'Set "kubernetes": {{"kubeconfig": "<host path of whereabouts\' kubeconfig>"}} in the {fld} '
                   f"block of {path}, or make the whereabouts DaemonSet write its whereabouts.conf to "
                   f"{WHEREABOUTS_FLAT_FILES[1]} (hostPath /etc/cni/net.d) and name that file by "
                   '"configuration_path" if it lives elsewhere.')
            yield Hit(
                message=f"{path} uses whereabouts IPAM ({fld}) without \"kubernetes\": {{\"kubeconfig\"}} in the "
                "block, so whereabouts needs its flat config file, which it looks for only at "
                f"{', '.join(looked)} (whereabouts pkg/config GetFlatIPAM; not in the runtime's conf dir "
                f"{snap.layout.conf_dir}); none exists, so every ADD on this network fails with `you have not "
                "configured the storage engine (looks like you're using an invalid `kubernetes.kubeconfig` "
                f"parameter in your config)` and its pods do not start.{hint}",
                fix=fix, path=path, field=fld,
                evidence={"plugin": "whereabouts", "looked_at": looked, "found_beside_conf_dir": beside if there
                          else None},
            )
