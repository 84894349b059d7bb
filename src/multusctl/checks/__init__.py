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


def node_checks() -> list[Check]:
    _load()
    return checks_for("node")


__all__ = ["REGISTRY", "Check", "node_checks"]
