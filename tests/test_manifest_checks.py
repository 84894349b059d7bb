"""The manifest checks: one row per id that fires on a deliberately broken manifest (renders, bent one way,
and the upstream manifests checked against k3s), and the renders of every distro x mode that pass clean."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from multusctl import catalog
from multusctl.render.options import RENDER_DISTROS
from tests.manifestrun import configmap, container, ds, findings, pod_spec, rendered, upstream

Objs = list[dict[str, Any]]


def _set_arg(objs: Objs, prefix: str, value: str | None) -> Objs:
    c = container(objs)
    c["args"] = [a for a in c["args"] if not a.startswith(prefix)] + ([value] if value else [])
    return objs


def _volume(objs: Objs, name: str, path: str) -> Objs:
    for v in pod_spec(objs)["volumes"]:
        if v["name"] == name:
            v["hostPath"]["path"] = path
    return objs


def _daemon_config(objs: Objs, **changes: Any) -> Objs:
    cm = configmap(objs)
    dc = json.loads(cm["data"]["daemon-config.json"])
    dc.update(changes)
    cm["data"]["daemon-config.json"] = json.dumps(dc)
    return objs


def _drop_volume(objs: Objs, name: str) -> Objs:
    spec = pod_spec(objs)
    spec["volumes"] = [v for v in spec["volumes"] if v["name"] != name]
    c = container(objs)
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] != name]
    return objs


def _role_rules(objs: Objs, rules: list[dict[str, Any]]) -> Objs:
    next(o for o in objs if o["kind"] == "ClusterRole")["rules"] = rules
    return objs


def _static_kubeconfig(objs: Objs, path: str) -> Objs:
    cm = configmap(objs)
    conf = json.loads(cm["data"]["00-multus.conf"])
    conf["kubeconfig"] = path
    cm["data"]["00-multus.conf"] = json.dumps(conf)
    return objs


def _memory(objs: Objs, limit: str) -> Objs:
    container(objs)["resources"]["limits"]["memory"] = limit
    return objs


def _no_token(objs: Objs) -> Objs:
    pod_spec(objs)["automountServiceAccountToken"] = False
    return objs


def _admin_binding(objs: Objs) -> Objs:
    next(o for o in objs if o["kind"] == "ClusterRoleBinding")["roleRef"]["name"] = "cluster-admin"
    return objs


@dataclass(frozen=True)
class Row:
    name: str
    objs: Callable[[Path], Objs]
    distro: str
    present: tuple[str, ...]
    absent: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # in the message or fix of the first finding of present[0]


K3S_THICK_LAYOUT = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
ROWS = [
    Row("upstream thick on k3s", lambda r: upstream("multus-daemonset-thick-v4.3.0.yml", "v4.3.0"), "k3s",
        ("manifest-hostpath-mismatch", "manifest-thick-path-unmounted", "manifest-memory-limit-low",
         "manifest-rbac-excessive"), ("manifest-rbac-missing",), (K3S_THICK_LAYOUT,)),
    Row("upstream thick on kubeadm: paths fine", lambda r: upstream("multus-daemonset-thick-v4.3.0.yml"), "kubeadm",
        ("manifest-memory-limit-low", "manifest-rbac-excessive"),
        ("manifest-hostpath-mismatch", "manifest-thick-path-unmounted")),
    Row("upstream thin on k3s", lambda r: upstream("multus-daemonset-v4.3.0.yml", "v4.3.0"), "k3s",
        ("manifest-hostpath-mismatch", "manifest-kubeconfig-host-path", "manifest-token-refresh-off",
         "manifest-rbac-excessive"), ("manifest-thin-self-nesting",)),
    Row("upstream v4.0.2 thin nests itself", lambda r: upstream("multus-daemonset-v4.0.2.yml", "v4.0.2"), "kubeadm",
        ("manifest-thin-self-nesting", "manifest-token-refresh-off"), ("manifest-hostpath-mismatch",),
        ("00-multus.conf",)),
    Row("render thin k3s, conf dir /etc/cni/net.d",
        lambda r: _volume(rendered(r, distro="k3s"), "cni", "/etc/cni/net.d"), "k3s",
        ("manifest-hostpath-mismatch",), (), ("/etc/cni/net.d",)),
    Row("render thin k3s, bin dir /opt/cni/bin", lambda r: _volume(rendered(r, distro="k3s"), "cnibin", "/opt/cni/bin"),
        "k3s", ("manifest-hostpath-mismatch",), (), ("/var/lib/rancher/k3s/data/cni",)),
    Row("render thick k3s, conf dir /etc/cni/net.d",
        lambda r: _volume(rendered(r, distro="k3s", mode="thick"), "cni", "/etc/cni/net.d"), "k3s",
        ("manifest-hostpath-mismatch",), ("manifest-thick-path-unmounted",)),
    Row("render thin k3s, kubeconfig at /etc/cni/net.d",
        lambda r: _set_arg(rendered(r, distro="k3s"), "--multus-kubeconfig-file-host",
                           "--multus-kubeconfig-file-host=/etc/cni/net.d/multus.d/multus.kubeconfig"),
        "k3s", ("manifest-kubeconfig-host-path",), (), ("MC#564",)),
    Row("render thin v4.0.2 k3s, static conf names the wrong kubeconfig",
        lambda r: _static_kubeconfig(rendered(r, distro="k3s", multus_version="v4.0.2"), "/etc/cni/net.d/x.kubeconfig"),
        "k3s", ("manifest-kubeconfig-host-path",), ("manifest-token-refresh-off", "manifest-thin-self-nesting")),
    Row("render thin, no cleanup-config-on-exit",
        lambda r: _set_arg(rendered(r, distro="k3s"), "--cleanup-config-on-exit", None), "k3s",
        ("manifest-token-refresh-off",), (), ("Unauthorized",)),
    Row("render thin, --skip-config-watch",
        lambda r: _set_arg(rendered(r, distro="k3s"), "--skip-config-watch", "--skip-config-watch"), "k3s",
        ("manifest-token-refresh-off",), (), ("--skip-config-watch",)),
    Row("render thin v4.0.2 switched to auto mode",
        lambda r: _set_arg(_set_arg(rendered(r, distro="k3s", multus_version="v4.0.2"), "--multus-conf-file",
                                    "--multus-conf-file=auto"), "--cleanup", "--cleanup-config-on-exit=true"),
        "k3s", ("manifest-thin-self-nesting",), ("manifest-token-refresh-off",), ("FACTS.md §7 #20",)),
    Row("render thick, 50Mi limit", lambda r: _memory(rendered(r, distro="k3s", mode="thick"), "50Mi"), "k3s",
        ("manifest-memory-limit-low",), (), ("MC#1346",)),
    Row("render thin, no SA token", lambda r: _no_token(rendered(r, distro="k3s")), "k3s",
        ("manifest-sa-token-not-mounted",), (), ("ca.crt",)),
    Row("render thick, ClusterRole without list/watch",
        lambda r: _role_rules(rendered(r, distro="k3s", mode="thick"),
                              [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]), "k3s",
        ("manifest-rbac-missing",), ("manifest-rbac-excessive",), ("list pods", "FACTS.md §3")),
    Row("render thin, cluster-admin binding", lambda r: _admin_binding(rendered(r, distro="k3s")), "k3s",
        ("manifest-rbac-excessive",), ("manifest-rbac-missing",), ("cluster-admin",)),
    Row("render thin, * on core", lambda r: _role_rules(rendered(r, distro="k3s"),
                                                        [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        "k3s", ("manifest-rbac-excessive",), ("manifest-rbac-missing",)),
    Row("render thick k3s, without the data dir mount",
        lambda r: _daemon_config(_drop_volume(rendered(r, distro="k3s", mode="thick"), "host-var-lib-rancher-k3s-data"),
                                 binDir="/var/lib/rancher/k3s/data/cni"), "k3s",
        ("manifest-thick-path-unmounted",), (), ("PR #1161",)),
    Row("render thick, socketDir under no mount",
        lambda r: _daemon_config(rendered(r, distro="kubeadm", mode="thick"), socketDir="/run/multus/"), "kubeadm",
        ("manifest-thick-path-unmounted",), (), ("/run/multus",)),
    Row("render thick, socketDir not the shim's",
        lambda r: _daemon_config(rendered(r, distro="kubeadm", mode="thick"), socketDir="/host/run/other/"), "kubeadm",
        ("manifest-thick-path-unmounted",), (), ("MC#1165",)),
    Row("render thick, no daemon-config mount",
        lambda r: _drop_volume(rendered(r, distro="kubeadm", mode="thick"), "multus-daemon-config"), "kubeadm",
        ("manifest-thick-path-unmounted",), (), ("daemon-config.json",)),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_grid(row: Row, tmp_path: Path) -> None:
    got = findings(row.objs(tmp_path), row.distro, tmp_path)
    ids = {f.id for f in got}
    for i in row.present:
        assert i in ids, f"{i} missing; got {sorted(ids)}"
    for i in row.absent:
        assert i not in ids, [f.message for f in got if f.id == i]
    first = next(f for f in got if f.id == row.present[0])
    for w in row.words:
        assert w in first.message + first.fix, (w, first.message, first.fix)
    for f in got:
        assert f.path == "m.yaml" and f.field, f


def test_every_manifest_id_fires_in_some_row() -> None:
    ids = {e.id for e in catalog.entries("manifest")}
    assert all(e.implemented for e in catalog.entries("manifest"))
    fired = {i for r in ROWS for i in r.present}
    assert ids == fired, ids ^ fired


@pytest.mark.parametrize("mode", ["thin", "thick"])
@pytest.mark.parametrize("distro", [d for d in RENDER_DISTROS if d != "auto"])
def test_every_render_passes_clean(distro: str, mode: str, tmp_path: Path) -> None:
    got = findings(rendered(tmp_path, distro=distro, mode=mode), distro, tmp_path)
    assert [(f.id, f.severity, f.message) for f in got] == []


@pytest.mark.parametrize("version", ["v4.0.2", "v4.1.0", "v4.2.4", "v4.3.0"])
def test_every_release_renders_clean_on_k3s(version: str, tmp_path: Path) -> None:
    for mode in ("thin", "thick"):
        objs = rendered(tmp_path, distro="k3s", mode=mode, multus_version=version)
        assert findings(objs, "k3s", tmp_path) == [], (version, mode)


def test_a_render_for_k3s_is_wrong_for_kubeadm_and_says_so(tmp_path: Path) -> None:
    got = {f.id for f in findings(rendered(tmp_path, distro="k3s"), "kubeadm", tmp_path)}
    assert {"manifest-hostpath-mismatch", "manifest-kubeconfig-host-path"} <= got
    assert ds(rendered(tmp_path, distro="k3s"))["metadata"]["namespace"] == "kube-system"
