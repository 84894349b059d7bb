"""The node part of the bundle: `check` and `detect` of one node root, or (--all-nodes) the fleet document
of `check --all-nodes`. Nothing here needs the cluster except the fleet call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from multusctl.bundle.model import Section

if TYPE_CHECKING:
    from multusctl.gather.snapshot import NodeSnapshot
    from multusctl.provision.api import Api

def fleet_document(api: Api, namespace: str, timeout: float = 60.0) -> dict[str, Any]:
    """The JSON document of `check --all-nodes`, the same run as that command's. A run interrupted by Ctrl-C
    or SIGTERM has removed what it made; the interrupt goes on to the bundle, which then writes nothing."""
    from multusctl.fleet.api import all_nodes_document

    return all_nodes_document(api, selector=None, namespace=namespace, image=None, timeout=timeout)


def node_section(root: str, snap: NodeSnapshot | None, *, all_nodes: bool = False, api: Api | None = None,
                 api_error: str | None = None, namespace: str = "kube-system") -> Section:
    """The node reports: `node/check.json` and `node/detect.json` of `root` (`snap` is its snapshot), or with
    `all_nodes` the fleet document as `nodes/all-nodes.json` (which needs the admin connection `api`)."""
    if all_nodes:
        return _fleet_section(api, api_error, namespace)
    section = Section("node", f"node reports of {root} (check, detect)")
    from multusctl.analyze import analyze_snapshot
    from multusctl.report.detect import detect_document

    if snap is None:
        from multusctl.analyze import node_snapshot

        snap = node_snapshot(root)
    section.add("node/detect.json", detect_document(snap, root))
    if not snap.layout.node_found:
        from multusctl.cli.run import not_a_node

        section.errors.append(f"check: {not_a_node(root, snap.layout)}")
        return section
    report = analyze_snapshot(snap, root=root)
    section.add("node/check.json", report.to_dict())
    if snap.fs.denied:
        section.notes.append(f"check: {len(snap.fs.denied)} node files could not be read (first: "
                             f"{snap.fs.denied[0]}); run as root")
    if report.crashed:
        section.errors.append(f"check: internal error in {', '.join(report.crashed)} (please report this)")
    return section


def _fleet_section(api: Api | None, api_error: str | None, namespace: str) -> Section:
    section = Section("nodes", "node reports of every node (check --all-nodes)")
    if api is None:
        section.errors.append(f"check --all-nodes needs the cluster: {api_error or 'no admin connection'}")
        return section
    from multusctl.fleet.engine import FleetError
    from multusctl.provision.api import ApiFailure

    try:
        section.add("nodes/all-nodes.json", fleet_document(api, namespace))
    except (ApiFailure, FleetError) as exc:
        section.errors.append(f"check --all-nodes: {exc}")
    return section
