"""The objects of a run: one owner ConfigMap (the zipapp), and a Pod per node or one DaemonSet.

Everything a run creates carries `RUN_LABEL` and an ownerReference to the ConfigMap, so deleting that one
object lets the garbage collector remove the rest (`engine.sweep` deletes the owners of runs that were
killed, once their deadline has passed). The pod: `nodeName` set (no scheduler), every taint tolerated, no
service account token, no host network, root without any capability (uid 0 owns the 0600 kubeconfigs it
must read), a read-only root file system, and read-only hostPath mounts under /host (nodes.py says which).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from multusctl.fleet.nodes import BASE_MOUNTS, mounts_for

Obj = dict[str, Any]

APP = "multusctl-check"  # also how doctor/admin.py is_check_run tells a run's objects from Multus's
RUN_LABEL = "multusctl.io/check-run"
EXPIRES = "multusctl.io/expires-at"
ARCHIVE = "multusctl-node.pyz"
APP_DIR = "/opt/multusctl"
CONTAINER = "check"
DEFAULT_IMAGE = "docker.io/library/python:3.12-alpine"
TOLERATE_ALL = [{"operator": "Exists"}]


def _labels(run: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP, "app.kubernetes.io/managed-by": "multusctl", RUN_LABEL: run}


def owner_configmap(run: str, namespace: str, archive: bytes, expires_at: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"{APP}-{run}", "namespace": namespace, "labels": _labels(run),
                         "annotations": {EXPIRES: expires_at}},
            "binaryData": {ARCHIVE: base64.b64encode(archive).decode()}}


def owner_ref(owner: Obj) -> Obj:
    meta = owner["metadata"]
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": meta["name"], "uid": meta["uid"]}


def _volume_name(path: str) -> str:
    return "host" + re.sub(r"[^a-z0-9]+", "-", path.lower()).rstrip("-")


def _check_container(image: str, mounts: tuple[str, ...]) -> Obj:
    return {
        "name": CONTAINER, "image": image, "imagePullPolicy": "IfNotPresent",
        # -I -S: nothing of the image's site-packages (only the stdlib and the archive) can change what runs
        # after the root, the trees mounted under it: a finding about a path outside them is unverified
        "command": ["python3", "-I", "-S", f"{APP_DIR}/{ARCHIVE}", "/host", *mounts],
        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
        "securityContext": {"runAsUser": 0, "runAsNonRoot": False, "privileged": False,
                            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
        "volumeMounts": [{"name": "app", "mountPath": APP_DIR, "readOnly": True},
                         *({"name": _volume_name(p), "mountPath": f"/host{p}", "readOnly": True} for p in mounts)],
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def _pod_spec(owner: Obj, image: str, mounts: tuple[str, ...]) -> Obj:
    return {
        "tolerations": TOLERATE_ALL, "automountServiceAccountToken": False, "enableServiceLinks": False,
        "hostNetwork": False, "terminationGracePeriodSeconds": 1,
        "volumes": [{"name": "app", "configMap": {"name": owner["metadata"]["name"], "defaultMode": 0o444}},
                    *({"name": _volume_name(p), "hostPath": {"path": p, "type": "Directory"}} for p in mounts)],
    }


def node_pod(owner: Obj, run: str, index: int, node: str, distro: str, image: str, deadline: int) -> Obj:
    """The pod that checks `node`, bound to it by nodeName; `deadline` bounds it on the node's side too."""
    meta = owner["metadata"]
    spec = _pod_spec(owner, image, mounts_for(distro))
    spec.update(nodeName=node, restartPolicy="Never", activeDeadlineSeconds=max(1, deadline),
                containers=[_check_container(image, mounts_for(distro))])
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{APP}-{run}-{index}", "namespace": meta["namespace"], "labels": _labels(run),
                         "ownerReferences": [owner_ref(owner)]},
            "spec": spec}


def daemonset(owner: Obj, run: str, image: str, node_terms: list[Obj]) -> Obj:
    """One DaemonSet for many nodes: the check runs as an init container (a DaemonSet pod cannot end), and
    a container that only waits keeps the pod until the run deletes it."""
    meta = owner["metadata"]
    spec = _pod_spec(owner, image, BASE_MOUNTS)
    hold = {"name": "hold", "image": image, "imagePullPolicy": "IfNotPresent",
            "command": ["python3", "-I", "-S", "-c", "import time\nwhile True: time.sleep(3600)"],
            "securityContext": _check_container(image, ())["securityContext"],
            "resources": {"requests": {"cpu": "1m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}}}
    spec.update(initContainers=[_check_container(image, BASE_MOUNTS)], containers=[hold])
    if node_terms:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": node_terms}}}
    labels = _labels(run)
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": f"{APP}-{run}", "namespace": meta["namespace"], "labels": labels,
                         "ownerReferences": [owner_ref(owner)]},
            "spec": {"selector": {"matchLabels": {RUN_LABEL: run}},
                     "updateStrategy": {"type": "OnDelete"},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}
