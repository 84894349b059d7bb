"""rbac-missing: each permission Multus needs (FACTS.md §3) that its identity is denied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from multusctl.checks.registry import Hit, check
from multusctl.doctor.probe import ClusterProbe
from multusctl.report.finding import Severity

ROLE_FIX = ("multusctl kubeconfig create (it creates the ServiceAccount, a ClusterRole with exactly these "
            "permissions and its binding)")


@check("rbac-missing")
def rbac_missing(probe: ClusterProbe) -> Iterator[Hit]:
    if probe.daemon_account_missing:
        step = probe.steps.get("daemon-identity")
        yield Hit(message=f"The thick daemon's ServiceAccount {probe.daemon_account} does not exist: the "
                  "DaemonSet cannot create its pods, and no permission applies to it.",
                  fix=f"Create the ServiceAccount {probe.daemon_account} and its ClusterRoleBinding (reinstall "
                  "Multus, or apply the upstream manifest's ServiceAccount)",
                  evidence={"identity": probe.daemon_account, "duration_ms": step.duration_ms if step else 0.0})
    for access in probe.access:
        if access.allowed:
            continue
        need = access.need
        step = probe.steps.get("daemon-identity" if access.who.startswith("system:serviceaccount:")
                               and probe.daemon_account and access.who.endswith(probe.daemon_account.replace("/", ":"))
                               else "rbac")
        yield Hit(message=f"{access.who} may not {need.text}: {need.why}. Multus then fails with `... is "
                  f"forbidden: User \"{access.who}\" cannot {need.verb} resource \"{need.resource}\"`.",
                  fix=f"Grant it in the ClusterRole bound to {access.who} (verbs [{need.verb}] on "
                  f"{need.resource + ('/' + need.subresource if need.subresource else '')} in group "
                  f"\"{need.group}\"), or: {ROLE_FIX}",
                  severity=cast(Severity, need.severity),
                  evidence={"identity": access.who, "verb": need.verb, "resource": need.resource,
                            "subresource": need.subresource, "group": need.group,
                            "duration_ms": step.duration_ms if step else 0.0})
