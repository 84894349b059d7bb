"""What the zipapp runs in each node's pod: the node checks over the host paths mounted at /host.

One line leaves the node on stdout: `REPORT_PREFIX` and the report (multusctl.report/v1, compact JSON,
secrets redacted as `check -o json` does), or `ERROR_PREFIX` and a one-line reason when the mounts show no
node. It always exits 0 once it has said either, so that a DaemonSet's init container is not restarted and
the pod's log is the whole answer; a crash exits 3 with one line on stderr (never the files' contents).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multusctl.gather.nodefs import NodeFS

REPORT_PREFIX = "multusctl-node-report/v1 "
ERROR_PREFIX = "multusctl-node-error/v1 "
DEFAULT_ROOT = "/host"
# Checks that need a host tree the pod does not mount. /run holds the container runtime's socket, which a
# read-only mount would still let the pod connect to, so the thick daemon's socket (/run/multus) stays unseen.
UNSEEN = {"thick-socket-missing": "the pod does not mount /run (it holds the container runtime's socket); "
                                  "`multusctl doctor` on the node connects to the daemon socket"}


def split_unseen(findings: list[dict[str, Any]], fs: NodeFS) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The findings that stand, and the ones about a path the pod's mounts do not show (flannel's
    /run/flannel/subnet.env, a config linked into /run): there on the node perhaps, so not reported, but
    listed as unverified."""
    kept: list[dict[str, Any]] = []
    unseen: list[dict[str, str]] = []
    mounted = ", ".join(fs.trees or ("/",))
    for f in findings:
        evidence = f.get("evidence")
        paths = [f.get("path"), evidence.get("host_path") if isinstance(evidence, dict) else None]
        hidden = next((p for p in paths if isinstance(p, str) and p and not fs.sees(p)), None)
        if hidden is None:
            kept.append(f)
            continue
        where = fs.resolve_or_none(hidden) or hidden
        why = f"outside the host paths the pod mounts ({mounted})"
        unseen.append({"id": str(f.get("id")), "path": hidden,
                       "why": why if where == hidden else f"it leads to {where}, {why}"})
    return kept, unseen


def report_line(root: str, node: str, trees: Sequence[str] | None = None) -> str:
    """`trees`: the host paths mounted under `root` (all of the node when None)."""
    from multusctl.analyze import analyze_snapshot, node_snapshot
    from multusctl.report.formats import redact_report

    snap = node_snapshot(root, trees=trees)
    if not snap.layout.node_found:
        return ERROR_PREFIX + json.dumps({"node": node, "error": "the host paths mounted into the pod show no "
                                          "Kubernetes node (no distribution marker, runtime config or CNI dir)"})
    if snap.fs.denied:
        return ERROR_PREFIX + json.dumps({"node": node, "error": f"cannot read {snap.fs.denied[0]} in the pod: "
                                          "permission denied (the pod must run as root, uid 0)"})
    report = redact_report(analyze_snapshot(snap, root="/", skip=tuple(UNSEEN)), snap.secrets)
    doc = report.to_dict()
    doc["node"] = node
    doc["not_run"] = dict(UNSEEN)
    kept, unseen = split_unseen(doc["findings"], snap.fs)
    if unseen:
        doc["findings"] = kept
        doc["summary"] = {sev: sum(1 for f in kept if f["severity"] == sev) for sev in doc["summary"]}
        doc["unverified"] = unseen
    if report.crashed:
        doc["crashed"] = [c.split(":", 1)[0] for c in report.crashed]  # ids only: the text may quote files
    return REPORT_PREFIX + json.dumps(doc, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    """`node_main [ROOT [TREE...]]`: the node mounted at ROOT, of which the pod mounts the TREEs."""
    args = sys.argv[1:] if argv is None else argv
    root = args[0] if args else DEFAULT_ROOT
    node = os.environ.get("NODE_NAME", "")
    try:
        line = report_line(root, node, args[1:] or None)
    except Exception as exc:  # a bug of ours: say which, not what the files held
        missing = f" {exc.name}" if isinstance(exc, ImportError) and exc.name else ""
        sys.stderr.write(f"multusctl node checker failed: {type(exc).__name__}{missing}\n")
        return 3
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0
