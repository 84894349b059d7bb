"""`check --all-nodes`: the finding for a node whose checks could not run there."""

from __future__ import annotations

from collections.abc import Iterator

from multusctl.checks.registry import Hit, check
from multusctl.fleet.model import NodeResult

_FIXES = {
    "notready": "Bring the node back (`kubectl describe node {node}`: its kubelet's last conditions), or leave it "
                "out with -l",
    "image": "Pass --image with a Python 3.11+ image the nodes can pull (a mirror in an air-gapped cluster), or "
             "pre-pull it",
    "mount": "`kubectl get events -n {ns} --field-selector involvedObject.name={pod}` names the hostPath that "
             "did not mount; the node lacks that directory",
    "evicted": "The node is under resource pressure (`kubectl describe node {node}`); run again when it recovers",
    "rejected": "`kubectl describe node {node}` says why its kubelet refused the pod",
    "deleted": "Something deleted the check pod while it ran; run again",
    "checker": "A bug of multusctl's node checker: run `multusctl check` on that node by hand and report it",
    "timeout": "Raise --timeout if the node is just slow, or look at the pod during a run: `kubectl describe pod "
               "-n {ns} {pod}`",
    "api": "The API refused or lost a request for this node (see the message); run again",
    "interrupted": "The run was interrupted before this node answered; run again",
}


@check("node-gather-failed")
def node_gather_failed(result: NodeResult) -> Iterator[Hit]:
    if result.report is not None or not result.failure:
        return
    ns = result.pod.partition("/")[0] or "kube-system"
    pod = result.pod.partition("/")[2] or "<pod>"
    fix = _FIXES.get(result.failure_kind, _FIXES["api"]).format(node=result.node, ns=ns, pod=pod)
    yield Hit(message=f"node {result.node}: {result.failure}; its Multus setup was not checked",
              fix=fix, evidence={"node": result.node, "reason": result.failure_kind, "pod": result.pod,
                                 "duration_ms": result.duration_ms})
