"""The `multusctl.detect/v1` document (CHECKS.md) and its text form."""

from __future__ import annotations

from typing import Any

from multusctl.gather.snapshot import NodeSnapshot
from multusctl.report.escape import safe_text


def detect_document(snap: NodeSnapshot, root: str) -> dict[str, Any]:
    layout = snap.layout
    m = snap.multus
    evidence = {k: list(v) for k, v in layout.evidence.items()}
    if snap.thick_paths.notes:
        evidence["pod_paths"] = list(snap.thick_paths.notes)
    return {
        "schema": "multusctl.detect/v1",
        "root": root,
        "distro": layout.distro,
        "role": layout.role,
        "version": layout.version,
        "conf_dir": layout.conf_dir,
        "bin_dirs": list(layout.bin_dirs),
        "multus_kubeconfig": layout.multus_kubeconfig,
        "admin_kubeconfig": layout.admin_kubeconfig,
        "mode": snap.mode,
        "multus_config": m.path if m else None,
        "primary_config": snap.primary_path,
        "api_endpoints": list(layout.api_endpoints),
        "evidence": evidence,
    }


def render_detect_text(doc: dict[str, Any]) -> str:
    rows = [
        ("distro", f"{doc['distro']} ({doc['role']})" + (f" {doc['version']}" if doc["version"] else "")),
        ("CNI conf dir", doc["conf_dir"]),
        ("CNI bin dirs", ", ".join(doc["bin_dirs"]) or "-"),
        ("multus mode", doc["mode"]),
        ("multus config", doc["multus_config"] or "-"),
        ("primary config", doc["primary_config"] or "-"),
        ("multus kubeconfig", doc["multus_kubeconfig"]),
        ("admin kubeconfig", doc["admin_kubeconfig"] or "-"),
        ("API endpoints", ", ".join(doc["api_endpoints"]) or "-"),
    ]
    width = max(len(k) for k, _ in rows)
    out = [f"{k.ljust(width)}  {safe_text(str(v))}" for k, v in rows]
    if doc["evidence"]:
        out.append("")
        out.append("why:")
        for key, reasons in doc["evidence"].items():
            for r in reasons:
                out.append(f"  {key}: {safe_text(r)}")
    return "\n".join(out) + "\n"
