"""The runtime's CNI conf dir: is it there, is every file valid, is multus the one the runtime uses."""

from __future__ import annotations

from collections.abc import Iterator

from multusctl.checks.registry import Hit, check
from multusctl.gather.snapshot import NodeSnapshot


@check("conf-dir-missing", "error", "The runtime's CNI conf dir is missing or unreadable")
def conf_dir_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    if snap.conf_dir_error is None:
        return
    src = "; ".join(snap.layout.evidence.get("conf_dir", [])) or "the distribution's default"
    yield Hit(
        message=f"The container runtime reads CNI configs from {snap.layout.conf_dir} ({src}), but "
        f"{snap.conf_dir_error}. Without it no pod on this node gets a network.",
        fix=f"Start the primary CNI (it creates the dir), or check the runtime's conf_dir; "
        f"override detection with --conf-dir if {snap.layout.conf_dir} is wrong.",
        path=snap.layout.conf_dir,
        evidence={"source": snap.layout.evidence.get("conf_dir", [])},
    )
