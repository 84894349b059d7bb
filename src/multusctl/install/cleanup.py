"""Cleaning the nodes after uninstall: a leftover 00-multus.conf with no multus binary breaks every new pod.

Either a short-lived DaemonSet whose init container removes the files through hostPath mounts of exactly
the layout's conf dir and its multus.d (a pause-like main container then keeps the pod Ready, which is how
we know every node ran it), or the same commands printed for the operator to run on each node.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import Any

from multusctl.install.objects import OUR_LABELS

Obj = dict[str, Any]

CLEANUP_NAME = "multusctl-node-cleanup"
DEFAULT_IMAGE = "busybox:1.36"
CONF_MOUNT = "/host/cni-conf"
MULTUS_D_MOUNT = "/host/multus.d"
MULTUS_CONF_GLOB = "00-multus.conf*"  # 00-multus.conf and 00-multus.conflist (thin and thick write either)
KUBECONFIG_NAME = "multus.kubeconfig"


def node_paths(conf_dir: str, multus_kubeconfig: str) -> tuple[str, str]:
    """(the CNI conf dir, the multus.d dir) as the node sees them."""
    return conf_dir.rstrip("/") or "/", posixpath.dirname(multus_kubeconfig)


def node_commands(conf_dir: str, multus_kubeconfig: str) -> list[str]:
    """Shell commands for one node (as root); the glob stays outside the quotes so the shell expands it."""
    conf, multus_d = node_paths(conf_dir, multus_kubeconfig)
    return [f"rm -f -- {shlex.quote(conf)}/{MULTUS_CONF_GLOB}",
            f"rm -f -- {shlex.quote(posixpath.join(multus_d, KUBECONFIG_NAME))}"]


def _script() -> str:
    # Says what it removed (never what a file held: the kubeconfig carries a token).
    return (f"set -u; for f in {CONF_MOUNT}/{MULTUS_CONF_GLOB} {MULTUS_D_MOUNT}/{KUBECONFIG_NAME}; do "
            'if [ -e "$f" ] || [ -L "$f" ]; then rm -f -- "$f" && echo "removed $f"; fi; done')


def cleanup_daemonset(namespace: str, conf_dir: str, multus_kubeconfig: str, image: str = DEFAULT_IMAGE) -> Obj:
    conf, multus_d = node_paths(conf_dir, multus_kubeconfig)
    labels = {**OUR_LABELS, "app.kubernetes.io/component": "node-cleanup"}
    select = {"app.kubernetes.io/name": CLEANUP_NAME}
    mounts = [{"name": "cni-conf", "mountPath": CONF_MOUNT}, {"name": "multus-d", "mountPath": MULTUS_D_MOUNT}]
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": CLEANUP_NAME, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": select},
            "template": {
                "metadata": {"labels": {**labels, **select}},
                "spec": {
                    # Every node Multus ran on, whatever its taints (control planes, NoExecute, not-ready).
                    "tolerations": [{"operator": "Exists"}],
                    "priorityClassName": "system-node-critical",
                    "terminationGracePeriodSeconds": 0,
                    "automountServiceAccountToken": False,
                    "initContainers": [{
                        "name": "remove-multus-files", "image": image, "command": ["sh", "-c", _script()],
                        "volumeMounts": mounts,
                        "securityContext": {"privileged": False, "runAsUser": 0},
                    }],
                    "containers": [{
                        "name": "done", "image": image, "command": ["sh", "-c", "exec sleep 3600"],
                        "resources": {"requests": {"cpu": "1m", "memory": "8Mi"}, "limits": {"memory": "16Mi"}},
                    }],
                    # Type unset (no check), as upstream Multus mounts its CNI dirs: a node without a multus.d
                    # must not leave the pod stuck in ContainerCreating (at worst the runtime makes it empty).
                    "volumes": [{"name": "cni-conf", "hostPath": {"path": conf}},
                                {"name": "multus-d", "hostPath": {"path": multus_d}}],
                },
            },
        },
    }
