"""doctor's result for the bundle: its gather and judge, in this process, with the bundle's root and admin
kubeconfig. A doctor that cannot run (bad kubeconfig) is recorded, never the end of the bundle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from multusctl.bundle.model import Section

if TYPE_CHECKING:
    from multusctl.gather.snapshot import NodeSnapshot

TIMEOUT = 2.0  # doctor's own default per network step


def doctor_section(root: str, snap: NodeSnapshot | None, admin_path: str | None, secrets: set[str], *,
                   context: str | None = None, timeout: float = TIMEOUT) -> Section:
    """`doctor/doctor.json` (the report of `multusctl doctor -o json`); the steps that could not run (no
    multus kubeconfig, no API) are named in the section's notes, and the secrets doctor met go to `secrets`."""
    from multusctl.doctor.run import DoctorProblem, Options, gather, judge

    section = Section("doctor", "multusctl doctor (node checks, live chain as multus, admin reads)")
    node = snap if snap is not None and snap.layout.node_found else None
    if node is None and admin_path is None:
        section.skipped = f"no Kubernetes node under {root} and no admin kubeconfig: nothing for doctor to test"
        return section
    if node is not None:
        secrets |= node.secrets
    if admin_path is None:
        section.notes.append("no admin kubeconfig: doctor's cluster-wide reads (DaemonSet, logs, identity) skipped")
    if context and admin_path:
        section.notes.append(f"doctor's admin reads use the current context of {admin_path}, not --context")
    try:
        probe = gather(Options(root=root, admin_kubeconfig=admin_path, timeout=timeout), node, lambda step: None)
    except DoctorProblem as exc:
        section.errors.append(f"doctor: {exc}")
        return section
    secrets |= probe.secrets
    report = judge(probe, node, root)
    section.add("doctor/doctor.json", report.to_dict())
    for step in report.steps:
        if step.get("name") in ("kubeconfig", "admin") and step.get("status") != "ok":
            section.notes.append(f"doctor step {step['name']}: {step.get('status')}: {step.get('detail')}")
    if report.crashed:
        section.errors.append(f"doctor: internal error in {', '.join(report.crashed)} (please report this)")
    return section
