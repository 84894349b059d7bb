"""The kubelet's volume mounts for a rendered DaemonSet's container, as shell lines for a private mount namespace:
what tests/test_render_peers.py (thin entrypoint) and tests/thickkit.py (thick daemon) both run the real Multus in."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any


def kubelet_mounts(spec: dict[str, Any], ctr: dict[str, Any], objs: list[dict[str, Any]], node: Path, pod: Path,
                   tmp: Path) -> list[str]:
    """Shell lines doing what the kubelet and containerd do for each volumeMount of container `ctr` of pod `spec`
    (hostPath: an rbind of the simulated node's dir; configMap: its items as files), the pod's root at `pod`."""
    vols = {v["name"]: v for v in spec["volumes"]}
    cms = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ConfigMap"}
    lines = []
    for m in ctr["volumeMounts"]:
        vol = vols[m["name"]]
        target = pod / m["mountPath"].lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        if "hostPath" in vol:
            src = node / vol["hostPath"]["path"].lstrip("/")
            src.mkdir(parents=True, exist_ok=True)  # hostPath type "": these dirs exist on a real node
        else:
            src = tmp / "configmaps" / m["name"]
            src.mkdir(parents=True)
            data = cms[vol["configMap"]["name"]]["data"]
            for item in vol["configMap"].get("items") or [{"key": k, "path": k} for k in data]:
                (src / item["path"]).write_text(data[item["key"]])
        lines.append(f"mount --rbind {shlex.quote(str(src))} {shlex.quote(str(target))}")
        if m.get("readOnly"):
            lines.append(f"mount -o remount,bind,ro {shlex.quote(str(target))}")
    return lines
