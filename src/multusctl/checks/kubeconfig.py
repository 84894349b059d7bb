"""The credentials Multus uses to reach the API: present, valid, least-privilege, not expired."""

from __future__ import annotations

from collections.abc import Iterator

from multusctl.checks.registry import Hit, check
from multusctl.gather.snapshot import NodeSnapshot


@check("kubeconfig-insecure", "warning", "The kubeconfig skips TLS verification")
def kubeconfig_insecure(snap: NodeSnapshot) -> Iterator[Hit]:
    kf = snap.kubeconfig
    if kf is None or kf.config is None:
        return
    if kf.config.cluster.get("insecure-skip-tls-verify") is True:
        yield Hit(
            message="insecure-skip-tls-verify: true lets anyone on the path impersonate the API server "
            "and read the credentials Multus sends.",
            fix="Remove insecure-skip-tls-verify and set certificate-authority-data to the cluster CA "
            "(multusctl kubeconfig create does both).",
            path=kf.path,
            field=f"{kf.config.cluster_field}.insecure-skip-tls-verify",
        )
