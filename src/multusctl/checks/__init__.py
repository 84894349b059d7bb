"""Analyzers, one small function per finding id, registered in `registry.REGISTRY`.

Find a check by its id: `grep -rn '"kubeconfig-insecure"' src/multusctl/checks`.
"""

from __future__ import annotations

from multusctl.checks.registry import REGISTRY, Check, checks_for


def _load() -> None:
    # Importing a module registers its checks; listed explicitly so the set of checks is plain to see.
    from multusctl.checks import (  # noqa: F401
        backups,
        binaries,
        confdir,
        delcache,
        drift,
        installed,
        ipam,
        keys,
        kubeconfig,
        kubeconfig_auth,
        nesting,
        netrefs,
        readiness,
        thick_paths,
        thin_paths,
    )


def cluster_checks() -> list[Check]:
    """The checks of `multusctl doctor`: the live chain (cluster) and the NADs it read (nad)."""
    from multusctl.checks import cluster_access, cluster_api, cluster_multus, cluster_nads  # noqa: F401

    return checks_for("cluster") + [c for c in checks_for("nad") if c.id in ("nad-crd-missing", "nad-config-invalid")]


def nad_checks() -> list[Check]:
    """The checks of `multusctl nad validate|test`, over a gather.nads.NadSnapshot."""
    from multusctl.checks import cluster_nads, nad_node, nad_trial  # noqa: F401

    return checks_for("nad")


def manifest_checks() -> list[Check]:
    """The checks of `multusctl check --manifest`, over a ManifestSnapshot."""
    from multusctl.checks import manifest_paths, manifest_pod, manifest_rbac  # noqa: F401

    return checks_for("manifest")


def node_checks() -> list[Check]:
    _load()
    return checks_for("node")


__all__ = ["REGISTRY", "Check", "cluster_checks", "manifest_checks", "nad_checks", "node_checks"]
