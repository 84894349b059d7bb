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
        "multus_kubeconfig_exists": snap.fs.is_file(layout.multus_kubeconfig),
        "admin_kubeconfig": layout.admin_kubeconfig,
        "mode": snap.mode,
        "multus_config": m.path if m else None,
        "primary_config": snap.primary_path,
        "api_endpoints": list(layout.api_endpoints),
        "local_api_ports": list(layout.local_api_ports),
        "cluster_cidr": layout.cluster_cidr,
        "service_cidr": layout.service_cidr,
        "runtime": layout.runtime,
        "node_found": layout.node_found,
        "evidence": evidence,
    }


def render_detect_text(doc: dict[str, Any]) -> str:
    rows = [
        *([("node", "NOT FOUND: nothing under the root looks like a Kubernetes node (see why: node)")]
          if not doc["node_found"] else []),
        ("distro", f"{doc['distro']} ({doc['role']})" + (f" {doc['version']}" if doc["version"] else "")),
        ("runtime", doc["runtime"] or "-"),
        ("CNI conf dir", doc["conf_dir"]),
        ("CNI bin dirs", ", ".join(doc["bin_dirs"]) or "-"),
        ("multus mode", doc["mode"]),
        ("multus config", doc["multus_config"] or "-"),
        ("primary config", doc["primary_config"] or "-"),
        ("multus kubeconfig", doc["multus_kubeconfig"] + ("" if doc["multus_kubeconfig_exists"] else " (missing)")),
        ("admin kubeconfig", doc["admin_kubeconfig"] or "-"),
        ("API endpoints", ", ".join(doc["api_endpoints"]) or "-"),
        ("local API ports", ", ".join(str(p) for p in doc["local_api_ports"]) or "-"),
        ("cluster CIDR", doc["cluster_cidr"] or "-"),
        ("service CIDR", doc["service_cidr"] or "-"),
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
