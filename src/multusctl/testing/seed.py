"""What a fresh cluster holds: system namespaces, the `kubernetes` Service and the bootstrap RBAC
roles the apiserver creates (discovery, basic-user, public-info-viewer, cluster-admin)."""

from __future__ import annotations

import copy
from typing import Any

from multusctl.testing.rbac import BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES

Obj = dict[str, Any]

def default_objects() -> list[Obj]:
    objects: list[Obj] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease")
    ]
    objects.append({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": "10.43.0.1", "clusterIPs": ["10.43.0.1"], "type": "ClusterIP",
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        "status": {"loadBalancer": {}},
    })
    # The bootstrap RBAC the apiserver reconciles at start, stored as real objects so that
    # `kubectl get clusterroles` shows them and users can read (or delete) them.
    objects += [copy.deepcopy(r) for r in BOOTSTRAP_CLUSTER_ROLES.values()]
    objects += [copy.deepcopy(b) for b in BOOTSTRAP_CLUSTER_ROLE_BINDINGS.values()]
    return objects
