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

REPORT_PREFIX = "multusctl-node-report/v1 "
ERROR_PREFIX = "multusctl-node-error/v1 "
DEFAULT_ROOT = "/host"
# Checks that need a host tree the pod does not mount. /run holds the container runtime's socket, which a
# read-only mount would still let the pod connect to, so the thick daemon's socket (/run/multus) stays unseen.
UNSEEN = {"thick-socket-missing": "the pod does not mount /run (it holds the container runtime's socket); "
                                  "`multusctl doctor` on the node connects to the daemon socket"}
# A finding about a file under these trees would only say that the pod cannot see it.
UNMOUNTED = ("/run/", "/var/run/")
# The checks that judge a file's existence under /run (the ones with mounts._live_caveat for copied roots).
RUN_FILE_CHECKS = ("readiness-file-missing",)


def unseen_finding(f: dict[str, object]) -> bool:
    evidence = f.get("evidence")
    where = str(evidence.get("host_path") or "") if isinstance(evidence, dict) else ""
    return f.get("id") in RUN_FILE_CHECKS and where.startswith(UNMOUNTED)


def report_line(root: str, node: str) -> str:
    from multusctl.analyze import analyze_snapshot, node_snapshot
    from multusctl.report.formats import redact_report

    snap = node_snapshot(root)
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
    unseen = [f for f in doc["findings"] if unseen_finding(f)]
    if unseen:  # e.g. flannel's /run/flannel/subnet.env: there on the node, not in the pod
        doc["findings"] = [f for f in doc["findings"] if not unseen_finding(f)]
        doc["summary"] = {sev: sum(1 for f in doc["findings"] if f["severity"] == sev) for sev in doc["summary"]}
        doc["unverified"] = [{"id": f["id"], "path": f["evidence"]["host_path"],
                              "why": "under /run, which the pod does not mount"} for f in unseen]
    if report.crashed:
        doc["crashed"] = [c.split(":", 1)[0] for c in report.crashed]  # ids only: the text may quote files
    return REPORT_PREFIX + json.dumps(doc, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = args[0] if args else DEFAULT_ROOT
    node = os.environ.get("NODE_NAME", "")
    try:
        line = report_line(root, node)
    except Exception as exc:  # a bug of ours: say which, not what the files held
        missing = f" {exc.name}" if isinstance(exc, ImportError) and exc.name else ""
        sys.stderr.write(f"multusctl node checker failed: {type(exc).__name__}{missing}\n")
        return 3
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0
