"""The cluster-scoped and identity objects of a Multus install: NAD CRD, ServiceAccount, ClusterRole, binding.

Every object carries LABELS: install and uninstall find what they manage by them.
"""

from __future__ import annotations

from typing import Any

from multusctl.render import rbac
from multusctl.render.options import Version

NAME = "multus"
LABELS = {"app.kubernetes.io/managed-by": "multusctl", "app.kubernetes.io/part-of": "multus"}


def meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "labels": {**LABELS, **(labels or {})}}
    if namespace is not None:
        m["namespace"] = namespace
    return m


def nad_crd() -> dict[str, Any]:
    """The CRD as upstream ships it (deployments/multus-daemonset*.yml v4.3.0): spec.config is a string."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": meta("network-attachment-definitions.k8s.cni.cncf.io"),
        "spec": {
            "group": rbac.NAD_GROUP,
            "scope": "Namespaced",
            "names": {"plural": rbac.NAD_RESOURCE, "singular": "network-attachment-definition",
                      "kind": "NetworkAttachmentDefinition", "shortNames": ["nad", "net-attach-def"]},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {
                    "description": "NetworkAttachmentDefinition is a CRD schema specified by the Network Plumbing "
                                   "Working Group to express the intent for attaching pods to one or more "
                                   "logical or physical networks. More information available at: "
                                   "https://github.com/k8snetworkplumbingwg/multi-net-spec",
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": {
                            "description": "NetworkAttachmentDefinition spec defines the desired state of a "
                                           "network attachment",
                            "type": "object",
                            "properties": {"config": {
                                "description": "NetworkAttachmentDefinition config is a JSON-formatted CNI "
                                               "configuration",
                                "type": "string"}},
                        },
                    },
                }},
            }],
        },
    }


def service_account(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(NAME, namespace)}


def cluster_role(mode: str, version: Version) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(NAME),
            "rules": rbac.rules(mode, version)}


def cluster_role_binding(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta(NAME),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}],
    }
