"""The multus DaemonSets (thin and thick) and their ConfigMaps, with volumes from render/volumes.py."""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from multusctl.layout.model import Layout
from multusctl.layout.pathmap import PathMap
from multusctl.render import volumes as V
from multusctl.render.objects import NAME, meta
from multusctl.render.options import RenderError, Version

DS_NAME = "kube-multus-ds"
POD_LABELS = {"app": "multus", "name": "multus", "tier": "node"}
THIN_ENTRYPOINT = "/thin_entrypoint"
DAEMON = "/usr/src/multus-cni/bin/multus-daemon"
INSTALL = "/usr/src/multus-cni/bin/install_multus"
STATIC_CONF_DIR = "/tmp/multus-conf"  # where the static thin config's ConfigMap is mounted in the pod
STATIC_CONF_NAME = "00-multus.conf"
THIN_CONFIGMAP = "multus-cni-config"
DAEMON_CONFIGMAP = "multus-daemon-config"
# Names of the volumes upstream's manifests use, by pod path; other mounts get a name from their path.
_VOLUME_NAMES = {
    V.CONF_POD: "cni", V.BIN_POD_THIN: "cnibin", "/host/run": "host-run", "/hostroot": "hostroot",
    "/var/lib/cni/multus": "host-var-lib-cni-multus", "/var/lib/kubelet": "host-var-lib-kubelet",
    "/run/k8s.cni.cncf.io": "host-run-k8s-cni-cncf-io", "/run/netns": "host-run-netns",
    "/etc/cni/multus/net.d": "multus-conf-dir",
}
# Mounts whose host side gains mounts later (pod network namespaces, kubelet volumes): see them appear.
_HOST_TO_CONTAINER = ("/var/lib/kubelet", "/run/netns", "/hostroot")
# MC#1346: upstream's 50Mi limit OOM-kills the thick daemon under load; 100Mi is the floor the manifest
# check holds a limit to, this leaves room above it.
THICK_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}
THIN_RESOURCES = {"requests": {"cpu": "10m", "memory": "50Mi"}, "limits": {"cpu": "100m", "memory": "100Mi"}}
# k3s's flannel conflist chains portmap and bandwidth: multus passes their runtime config on only when its
# own config declares the capabilities.
_CAPABILITIES = {"portMappings": True, "bandwidth": True}
# The primary config a static (v4.0.x) thin config names when the node was not read.
_DEFAULT_PRIMARY = {"k3s": "10-flannel.conflist", "rke2": "10-canal.conflist"}


def volume_name(pod: str) -> str:
    pod = posixpath.normpath(pod)
    return _VOLUME_NAMES.get(pod) or ("host" + re.sub(r"[^a-z0-9]+", "-", pod.lower())).rstrip("-")[:63]


def _volumes(pm: PathMap) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    vols, mounts = [], []
    for m in pm.mounts:
        name = volume_name(m.pod)
        vols.append({"name": name, "hostPath": {"path": m.host}})
        mount: dict[str, Any] = {"name": name, "mountPath": m.pod}
        if posixpath.normpath(m.pod) in _HOST_TO_CONTAINER:
            mount["mountPropagation"] = "HostToContainer"
        mounts.append(mount)
    return vols, mounts


def _pod_spec(namespace: str, containers: list[dict[str, Any]], volumes: list[dict[str, Any]],
              *, host_pid: bool, init: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "hostNetwork": True,
        "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}, {"operator": "Exists", "effect": "NoExecute"}],
        "serviceAccountName": NAME,
        # Multus reads its ServiceAccount token (thin: the entrypoint writes it into the kubeconfig; thick:
        # the daemon's in-cluster client): without it every ADD fails (FACTS.md §7 #18).
        "automountServiceAccountToken": True,
        "terminationGracePeriodSeconds": 10,
        "containers": containers,
        "volumes": volumes,
    }
    if host_pid:
        spec["hostPID"] = True
    if init:
        spec["initContainers"] = init
    if namespace == "kube-system":  # the system-* priority classes are meant for kube-system
        spec["priorityClassName"] = "system-node-critical"
    return spec


def _daemonset(namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(DS_NAME, namespace, POD_LABELS),
        "spec": {"selector": {"matchLabels": {"name": "multus"}}, "updateStrategy": {"type": "RollingUpdate"},
                 "template": {"metadata": {"labels": {**meta(DS_NAME)["labels"], **POD_LABELS}}, "spec": spec}},
    }


def _container(name: str, image: str, command: list[str], args: list[str], mounts: list[dict[str, Any]],
               resources: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image, "command": command}
    if args:
        c["args"] = args
    c.update({"resources": resources, "securityContext": {"privileged": True},
              "terminationMessagePolicy": "FallbackToLogsOnError", "volumeMounts": mounts})
    return c


# --- thin ------------------------------------------------------------------------------------------


def static_primary(layout: Layout, primary: str | None) -> str:
    if primary:
        return primary
    name = _DEFAULT_PRIMARY.get(layout.distro)
    if name is None:
        raise RenderError(f"--multus-version v4.0.x on {layout.distro}: the static thin config must name the "
                          "primary CNI config, and none is known for this distribution; point --root at a node "
                          "whose conf dir holds it, or use --multus-version v4.1.0 or later")
    return f"{layout.conf_dir.rstrip('/')}/{name}"


def static_thin_conf(layout: Layout, primary: str | None) -> dict[str, Any]:
    """The thin config v4.0.x gets copied (FACTS.md §7 #20): every path a host path, the primary by path so
    that nothing is taken from the conf dir's first file."""
    return {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
            "capabilities": dict(_CAPABILITIES), "kubeconfig": layout.multus_kubeconfig,
            "binDir": V.bin_dir(layout), "clusterNetwork": static_primary(layout, primary)}


def thin_args(layout: Layout, version: Version) -> list[str]:
    """thin_entrypoint flags (each exists in that release's cmd/thin_entrypoint/main.go).

    v4.1+: generated config, kubeconfig written at the layout's host path and re-written when the token
    rotates (the watch loop runs only with --cleanup-config-on-exit=true). v4.0.x takes the conf dir's first
    file as its primary, its own 00-multus.conf included, and --multus-master-cni-file-name is ignored
    there: only a static config cannot nest (FACTS.md §7 #20)."""
    common = [f"--cni-conf-dir={V.CONF_POD}", f"--cni-bin-dir={V.BIN_POD_THIN}"]
    if not version.at_least(1):
        return [f"--multus-conf-file={STATIC_CONF_DIR}/{STATIC_CONF_NAME}", *common]
    return ["--multus-conf-file=auto", f"--multus-autoconfig-dir={V.CONF_POD}", *common,
            f"--multus-kubeconfig-file-host={layout.multus_kubeconfig}", "--cleanup-config-on-exit=true"]


def thin(layout: Layout, primary: str | None, version: Version, image: str, namespace: str) -> list[dict[str, Any]]:
    vols, mounts = _volumes(V.thin_paths(layout))
    out: list[dict[str, Any]] = []
    if not version.at_least(1):
        conf = json.dumps(static_thin_conf(layout, primary), indent=2) + "\n"
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(THIN_CONFIGMAP, namespace),
                    "data": {STATIC_CONF_NAME: conf}})
        vols.append({"name": "multus-cfg", "configMap": {"name": THIN_CONFIGMAP}})
        mounts.append({"name": "multus-cfg", "mountPath": STATIC_CONF_DIR, "readOnly": True})
    c = _container("kube-multus", image, [THIN_ENTRYPOINT], thin_args(layout, version), mounts, THIN_RESOURCES)
    out.append(_daemonset(namespace, _pod_spec(namespace, [c], vols, host_pid=False)))
    return out


# --- thick -----------------------------------------------------------------------------------------


def daemon_config(layout: Layout) -> dict[str, Any]:
    """daemon-config.json: every path an in-pod path that a volume of thick_paths provides (keys of
    pkg/server/types.go ControllerNetConf and pkg/server/config MultusConf, v4.0.2 and v4.3.0)."""
    return {"chrootDir": "/hostroot", "cniVersion": "0.3.1", "logLevel": "verbose", "logToStderr": True,
            "cniConfigDir": V.CONF_POD, "multusAutoconfigDir": V.CONF_POD, "multusConfigFile": "auto",
            "socketDir": V.SOCKET_POD, "binDir": V.bin_dir(layout)}


def thick(layout: Layout, image: str, namespace: str) -> list[dict[str, Any]]:
    pm = V.thick_paths(layout)
    vols, mounts = _volumes(pm)
    vols.append({"name": "multus-daemon-config", "configMap": {
        "name": DAEMON_CONFIGMAP, "items": [{"key": "daemon-config.json", "path": "daemon-config.json"}]}})
    mounts.append({"name": "multus-daemon-config", "mountPath": V.DAEMON_CONFIG_DIR, "readOnly": True})
    bin_name = volume_name(V.BIN_POD_INIT)
    if not any(v["name"] == bin_name for v in vols):
        vols.append({"name": bin_name, "hostPath": {"path": V.bin_dir(layout)}})
    daemon = _container("kube-multus", image, [DAEMON], [], mounts, THICK_RESOURCES)
    daemon["env"] = [{"name": "MULTUS_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    install = _container("install-multus-binary", image, [INSTALL, "-d", V.BIN_POD_INIT, "-t", "thick"], [],
                         [{"name": bin_name, "mountPath": V.BIN_POD_INIT}],
                         {"requests": {"cpu": "10m", "memory": "15Mi"}})
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(DAEMON_CONFIGMAP, namespace, POD_LABELS),
          "data": {"daemon-config.json": json.dumps(daemon_config(layout), indent=4) + "\n"}}
    return [cm, _daemonset(namespace, _pod_spec(namespace, [daemon], vols, host_pid=True, init=[install]))]
