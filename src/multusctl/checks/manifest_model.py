"""The multus DaemonSet of a manifest set, read as Multus reads it: its mode, release, entrypoint flags,
host <-> pod mounts (a PathMap, the model the node checks and render use) and the files its ConfigMaps
put in the pod (daemon-config.json, a static thin config)."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from multusctl.gather.manifests import ManifestSnapshot, Obj
from multusctl.layout.pathmap import Mount, PathMap
from multusctl.render.options import Version
from multusctl.render.volumes import CONF_POD, DAEMON_CONFIG

# thin_entrypoint's pflag booleans (cmd/thin_entrypoint/main.go v4.0.2, v4.3.0): `--flag` alone is true.
BOOL_FLAGS = frozenset({
    "skip-multus-binary-copy", "namespace-isolation", "multus-log-to-stderr", "override-network-name",
    "cleanup-config-on-exit", "skip-config-watch", "rename-conf-file", "skip-tls-verify", "force-cni-version",
})
# thin_entrypoint defaults, where the flags are not given (same in every v4 release).
THIN_DEFAULTS = {
    "cni-conf-dir": CONF_POD, "cni-bin-dir": "/host/opt/cni/bin", "multus-conf-file": "auto",
    "multus-autoconfig-dir": CONF_POD, "multus-kubeconfig-file-host": "/etc/cni/net.d/multus.d/multus.kubeconfig",
}
_TAG_VERSION = re.compile(r"^v?4\.(\d+)\.(\d+)")


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _strs(v: Any) -> list[str]:
    return [x for x in _l(v) if isinstance(x, str)]


def image_version(image: str) -> Version | None:
    """The multus release an image tag names (`v4.3.0`, `v4.3.0-thick`, rancher's `v4.3.0-build...`);
    None for `snapshot`, `latest`, a digest: judged by the newest release's rules."""
    tag = image.rsplit("/", 1)[-1].partition("@")[0].partition(":")[2]
    m = _TAG_VERSION.match(tag)
    return Version(int(m.group(1)), int(m.group(2))) if m else None


def parse_flags(argv: list[str]) -> dict[str, str]:
    """pflag's reading of `--name=value`, `--name value` and boolean `--name`."""
    out: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if not a.startswith("-"):
            continue
        name, eq, value = a.lstrip("-").partition("=")
        if not eq:
            if name in BOOL_FLAGS:
                value = "true"
            elif i < len(argv):
                value = argv[i]
                i += 1
        out[name] = value
    return out


@dataclass
class ContainerView:
    index: int
    init: bool
    spec: dict[str, Any]
    paths: PathMap
    # pod path of each mount -> index of its volume in spec.template.spec.volumes
    volume_at: dict[str, int] = field(default_factory=dict)

    @property
    def argv(self) -> list[str]:
        return _strs(self.spec.get("command")) + _strs(self.spec.get("args"))

    def field(self, rest: str) -> str:
        kind = "initContainers" if self.init else "containers"
        return f"spec.template.spec.{kind}[{self.index}]{rest}"


@dataclass
class MultusDaemonSet:
    obj: Obj
    mode: str  # thin | thick
    main: ContainerView
    init: list[ContainerView]
    version: Version | None
    flags: dict[str, str]
    pod_spec: dict[str, Any]
    configmap_files: dict[str, tuple[str, str | None]]  # pod file path -> (configmap name, its text or None)

    def flag(self, name: str) -> str:
        return self.flags.get(name, THIN_DEFAULTS.get(name, ""))

    def volume_field(self, pod_path: str, c: ContainerView | None = None) -> str:
        c = c or self.main
        best = max((p for p in c.volume_at if _covers(p, pod_path)), key=len, default=None)
        if best is None:
            return c.field(".volumeMounts")
        return f"spec.template.spec.volumes[{c.volume_at[best]}].hostPath.path"

    def file_text(self, pod_path: str) -> tuple[str, str | None] | None:
        return self.configmap_files.get(posixpath.normpath(pod_path))

    def json_file(self, pod_path: str) -> dict[str, Any] | None:
        got = self.file_text(pod_path)
        if got is None or got[1] is None:
            return None
        try:
            v = json.loads(got[1])
        except ValueError:
            return None
        return v if isinstance(v, dict) else None

    @property
    def daemon_config_path(self) -> str:
        return parse_flags(self.main.argv[1:]).get("config", DAEMON_CONFIG)

    def daemon_config(self) -> dict[str, Any] | None:
        return self.json_file(self.daemon_config_path)

    @property
    def static_conf_path(self) -> str | None:
        v = self.flag("multus-conf-file")
        return None if v == "auto" else v


def _covers(prefix: str, path: str) -> bool:
    prefix, path = posixpath.normpath(prefix), posixpath.normpath(path)
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def _container_view(index: int, init: bool, c: dict[str, Any], volumes: list[Any]) -> ContainerView:
    by_name = {_d(v).get("name"): (i, _d(v)) for i, v in enumerate(volumes)}
    mounts: list[Mount] = []
    view = ContainerView(index, init, c, PathMap([], "the manifest's volumes"))
    for vm in _l(c.get("volumeMounts")):
        vm = _d(vm)
        pod = vm.get("mountPath")
        found = by_name.get(vm.get("name"))
        if not isinstance(pod, str) or found is None:
            continue
        i, vol = found
        host = _d(vol.get("hostPath")).get("path")
        if isinstance(host, str):
            sub = vm.get("subPath")
            mounts.append(Mount(posixpath.join(host, sub) if isinstance(sub, str) and sub else host, pod))
            view.volume_at[posixpath.normpath(pod)] = i
    view.paths = PathMap(mounts, "the manifest's volumes")
    return view


def _files(c: dict[str, Any], volumes: list[Any], snap: ManifestSnapshot,
           namespace: str | None) -> dict[str, tuple[str, str | None]]:
    """Files that configMap volumes put at pod paths, with their text when the ConfigMap is in the set."""
    cms = {o.name: o for o in snap.of_kind("ConfigMap") if namespace is None or o.namespace in (None, namespace)}
    by_name = {_d(v).get("name"): _d(v) for v in volumes}
    out: dict[str, tuple[str, str | None]] = {}
    for vm in _l(c.get("volumeMounts")):
        vm = _d(vm)
        vol = by_name.get(vm.get("name"), {})
        ref = _d(vol.get("configMap"))
        cm_name, pod = ref.get("name"), vm.get("mountPath")
        if not isinstance(cm_name, str) or not isinstance(pod, str):
            continue
        cm = cms.get(cm_name)
        data = _d(cm.doc.get("data")) if cm else {}
        items = [(_d(it).get("key"), _d(it).get("path")) for it in _l(ref.get("items"))]
        if not items:
            items = [(k, k) for k in data]
        for key, rel in items:
            if isinstance(key, str) and isinstance(rel, str):
                text = data.get(key)
                sub = vm.get("subPath")
                path = pod if isinstance(sub, str) and sub == rel else posixpath.join(pod, rel)
                out[posixpath.normpath(path)] = (cm_name, text if isinstance(text, str) else None)
    return out


def _mode(c: dict[str, Any]) -> str | None:
    argv = _strs(c.get("command")) + _strs(c.get("args"))
    first = posixpath.basename(argv[0]) if argv else ""
    if first == "thin_entrypoint":
        return "thin"
    if first == "multus-daemon":
        return "thick"
    raw = c.get("image")
    image = raw if isinstance(raw, str) else ""
    if "multus-cni" in image or "multus-thick" in image:  # the images' own ENTRYPOINT (images/Dockerfile*)
        return "thick" if "thick" in image else "thin"
    return None


def multus_daemonsets(snap: ManifestSnapshot) -> Iterator[MultusDaemonSet]:
    for o in snap.of_kind("DaemonSet"):
        spec = _d(_d(_d(o.doc.get("spec")).get("template")).get("spec"))
        volumes = _l(spec.get("volumes"))
        containers = [_d(c) for c in _l(spec.get("containers"))]
        for i, c in enumerate(containers):
            mode = _mode(c)
            if mode is None:
                continue
            main = _container_view(i, False, c, volumes)
            inits = [_container_view(j, True, _d(ic), volumes) for j, ic in enumerate(_l(spec.get("initContainers")))]
            raw = c.get("image")
            image = raw if isinstance(raw, str) else ""
            flags = parse_flags(main.argv[1:]) if mode == "thin" else {}
            yield MultusDaemonSet(o, mode, main, inits, image_version(image), flags, spec,
                                  _files(c, volumes, snap, o.namespace))
            break
