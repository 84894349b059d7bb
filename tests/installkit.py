"""Helpers for the install/status/uninstall tests: the real render (recording its options), nodes, pods and a
fake kubelet."""

from __future__ import annotations

import copy
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from multusctl.cli.main import cli
from multusctl.testing import TestCluster
from multusctl.testing.store import WatchEvent

Obj = dict[str, Any]
NS = "kube-system"
LABELS = {"app.kubernetes.io/managed-by": "multusctl", "app.kubernetes.io/part-of": "multus"}
IMAGE = "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.0-thick"  # the tests install thick: it has all six objects
K3S_CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
TOKEN = "s3cr3t-admin-token-do-not-print"


def _meta(name: str, namespace: str | None = NS, **extra: str) -> Obj:
    meta: Obj = {"name": name, "labels": dict(LABELS, **extra)}
    if namespace:
        meta["namespace"] = namespace
    return meta


def rendered(image: str = IMAGE, conf_dir: str = K3S_CONF) -> list[Obj]:
    """What render would produce for thin Multus on k3s: CRD first, the DaemonSet last."""
    multus_d = f"{conf_dir}/multus.d"
    return [
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": _meta("network-attachment-definitions.k8s.cni.cncf.io", None),
         "spec": {"group": "k8s.cni.cncf.io", "scope": "Namespaced",
                  "names": {"plural": "network-attachment-definitions", "singular": "network-attachment-definition",
                            "kind": "NetworkAttachmentDefinition", "shortNames": ["net-attach-def"]},
                  "versions": [{"name": "v1", "served": True, "storage": True,
                                "schema": {"openAPIV3Schema": {"type": "object",
                                                               "x-kubernetes-preserve-unknown-fields": True}}}]}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("multus")},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": _meta("multus", None),
         "rules": [{"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
                   {"apiGroups": [""], "resources": ["pods", "pods/status"], "verbs": ["get", "update"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": _meta("multus", None),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "multus"},
         "subjects": [{"kind": "ServiceAccount", "name": "multus", "namespace": NS}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("multus-daemon-config"),
         "data": {"daemon-config.json": '{"cniVersion": "0.3.1", "logLevel": "verbose"}'}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta("kube-multus-ds", app="multus"),
         "spec": {"selector": {"matchLabels": {"name": "multus"}},
                  "updateStrategy": {"type": "RollingUpdate"},
                  "template": {"metadata": {"labels": dict(LABELS, name="multus")}, "spec": {
                      "hostNetwork": True, "serviceAccountName": "multus",
                      "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                      "containers": [{"name": "kube-multus", "image": image,
                                      "command": ["/thin_entrypoint"],
                                      "args": ["--multus-conf-file=auto", "--cleanup-config-on-exit=true",
                                               f"--multus-kubeconfig-file-host={multus_d}/multus.kubeconfig"],
                                      "resources": {"requests": {"cpu": "100m", "memory": "50Mi"},
                                                    "limits": {"cpu": "100m", "memory": "50Mi"}},
                                      "volumeMounts": [{"name": "cni", "mountPath": "/host/etc/cni/net.d"}]}],
                      "volumes": [{"name": "cni", "hostPath": {"path": conf_dir}}]}}}},
    ]


class FakeRender:
    """The real `multusctl.render`, recording the options install was called with: `--distro auto` on this
    machine (no node) is read as k3s, the layout the tests' paths (K3S_CONF) are those of."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import dataclasses

        import multusctl.render as real

        self.calls: list[Any] = []
        self.objects = real.render_objects(real.RenderOptions(distro="k3s", mode="thick"))
        mod = types.ModuleType("multusctl.render")
        mod.RenderOptions = real.RenderOptions  # type: ignore[attr-defined]
        mod.RenderError = real.RenderError  # type: ignore[attr-defined]

        def render(opts: Any) -> list[Obj]:
            self.calls.append(opts)
            if opts.distro == "auto":
                opts = dataclasses.replace(opts, distro="k3s")
            return real.render_objects(opts)

        mod.render_objects = render  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "multusctl.render", mod)


def node(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/os": "linux"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def pod(cluster: TestCluster, ds_name: str, node_name: str, *, ready: bool = True,
        container: Obj | None = None, namespace: str = NS) -> Obj:
    """A pod of DaemonSet ds_name on node_name, as the kubelet would report it."""
    ds = cluster.store.get("apps", "daemonsets", namespace, ds_name)
    assert ds is not None
    labels = ds["spec"]["template"]["metadata"]["labels"]
    status = container or {"name": "c", "ready": ready, "restartCount": 0,
                           "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{ds_name}-{node_name}", "namespace": namespace, "labels": labels,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds_name,
                                              "uid": ds["metadata"]["uid"], "controller": True}]},
            "spec": {"nodeName": node_name, "containers": ds["spec"]["template"]["spec"]["containers"]},
            "status": {"phase": "Running", "containerStatuses": [status],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


class FakeKubelet:
    """Runs the pods of a DaemonSet named `name` on every node as soon as it is created, and remembers the
    DaemonSet as it was created (the cleanup DaemonSet is deleted before the test can look)."""

    def __init__(self, cluster: TestCluster, name: str, nodes: list[str]) -> None:
        self.cluster, self.name, self.nodes = cluster, name, nodes
        self.created: list[Obj] = []
        cluster.store.observers.append(self._on_event)

    def _on_event(self, ev: WatchEvent) -> None:
        if (ev.group, ev.plural) == ("apps", "daemonsets") and ev.type == "ADDED" and \
                ev.obj["metadata"]["name"] == self.name:
            self.created.append(copy.deepcopy(ev.obj))
            self.cluster.seed([pod(self.cluster, self.name, n) for n in self.nodes])


def run(home: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    """One multusctl command in-process, HOME, KUBECONFIG and the backup dir isolated."""
    res = CliRunner().invoke(cli, list(args), env={"HOME": str(home), "KUBECONFIG": "",
                                                   "XDG_STATE_HOME": str(home / "state")},
                             catch_exceptions=False, input=input)
    return res.exit_code, res.stdout, res.stderr


def snapshot(cluster: TestCluster) -> dict[tuple[str, ...], str]:
    """Every stored object's resourceVersion: equal snapshots mean nothing was written."""
    with cluster.store._cond:
        return {k: v["metadata"]["resourceVersion"] for k, v in cluster.store._objects.items()}
