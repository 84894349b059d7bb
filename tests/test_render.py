"""`multusctl render`: the objects, the CLI, and renders accepted by the real kubectl (client-side, and
server dry-run and apply against the test cluster)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from multusctl.render import LABELS, RenderError, RenderOptions, helm_values, render_objects, render_yaml
from multusctl.testing import TestCluster
from tests import distro_roots as R
from tests.kubectlkit import KUBECTL
from tests.manifestrun import configmap, container, ds, pod_spec
from tests.noderoot import make_root

REPO = Path(__file__).resolve().parent.parent
K3S_CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
K3S_KC = f"{K3S_CONF}/multus.d/multus.kubeconfig"
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "multusctl", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def opts(tmp: Path, **kw: Any) -> RenderOptions:
    return RenderOptions(root=str(tmp), **kw)


def test_objects_in_apply_order_all_labelled(tmp_path: Path) -> None:
    for mode, kinds in (("thin", ["CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                  "DaemonSet"]),
                        ("thick", ["CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                   "ConfigMap", "DaemonSet"])):
        objs = render_objects(opts(tmp_path, distro="k3s", mode=mode))
        assert [o["kind"] for o in objs] == kinds
        for o in objs:
            assert LABELS.items() <= o["metadata"]["labels"].items(), o["kind"]
        assert LABELS.items() <= ds(objs)["spec"]["template"]["metadata"]["labels"].items()


def test_thin_k3s_v4_3_paths_and_token_refresh(tmp_path: Path) -> None:
    objs = render_objects(opts(tmp_path, distro="k3s"))
    c = container(objs)
    assert c["image"] == "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.0" and c["command"] == ["/thin_entrypoint"]
    assert f"--multus-kubeconfig-file-host={K3S_KC}" in c["args"]
    assert "--cleanup-config-on-exit=true" in c["args"] and "--skip-config-watch" not in c["args"]
    vols = {v["name"]: v["hostPath"]["path"] for v in pod_spec(objs)["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert (vols["cni"], mounts["cni"]) == (K3S_CONF, "/host/etc/cni/net.d")
    assert (vols["cnibin"], mounts["cnibin"]) == ("/var/lib/rancher/k3s/data/cni", "/host/opt/cni/bin")


def test_thin_k3s_bin_dir_follows_the_k3s_version(tmp_path: Path) -> None:
    root = make_root(tmp_path / "old", R.k3s_server(legacy_bin=True))
    objs = render_objects(RenderOptions(root=str(root)))  # auto: detected as k3s from the root
    vols = {v["name"]: v["hostPath"]["path"] for v in pod_spec(objs)["volumes"]}
    assert vols["cnibin"] != "/var/lib/rancher/k3s/data/cni" and vols["cnibin"].startswith("/var/lib/rancher/k3s/data/")


def test_thin_v4_0_is_a_static_config_that_cannot_nest(tmp_path: Path) -> None:
    objs = render_objects(opts(tmp_path, distro="k3s", multus_version="v4.0.2"))
    args = container(objs)["args"]
    assert "--multus-conf-file=/tmp/multus-conf/00-multus.conf" in args
    assert not any(a.startswith("--multus-autoconfig-dir") for a in args)
    conf = json.loads(configmap(objs)["data"]["00-multus.conf"])
    assert conf["clusterNetwork"] == f"{K3S_CONF}/10-flannel.conflist" and conf["kubeconfig"] == K3S_KC
    assert "delegates" not in conf
    assert "multusctl kubeconfig create" in render_yaml(opts(tmp_path, distro="k3s", multus_version="v4.0.2"))


def test_thin_v4_0_names_the_primary_the_root_shows_or_refuses(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="primary CNI config"):
        render_objects(opts(tmp_path, distro="kubeadm", multus_version="v4.0.2"))
    calico = {"cniVersion": "0.3.1", "name": "k8s-pod-network", "plugins": [{"type": "calico"}]}
    root = make_root(tmp_path / "n", {**R.kubeadm_worker(), "/etc/cni/net.d/10-calico.conflist": calico})
    conf = json.loads(configmap(render_objects(RenderOptions(root=str(root), distro="kubeadm",
                                                             multus_version="v4.0.2")))["data"]["00-multus.conf"])
    assert conf["clusterNetwork"] == "/etc/cni/net.d/10-calico.conflist"


def test_thick_k3s_daemon_config_and_mounts(tmp_path: Path) -> None:
    objs = render_objects(opts(tmp_path, distro="k3s", mode="thick"))
    c = container(objs)
    assert c["image"].endswith(":v4.3.0-thick")
    dc = json.loads(configmap(objs)["data"]["daemon-config.json"])
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod_spec(objs)["volumes"]}
    for key in ("cniConfigDir", "multusAutoconfigDir", "socketDir", "chrootDir", "binDir"):
        assert any(dc[key].rstrip("/") == p or dc[key].startswith(p.rstrip("/") + "/") for p in mounts), key
    assert vols[mounts["/var/lib/rancher/k3s/data"]]["hostPath"]["path"] == "/var/lib/rancher/k3s/data"
    assert vols[mounts["/host/etc/cni/net.d"]]["hostPath"]["path"] == K3S_CONF
    hosts = {v["hostPath"]["path"] for v in vols.values() if "hostPath" in v}
    assert "/etc/cni/net.d" not in hosts and "/opt/cni/bin" not in hosts
    assert c["resources"]["limits"]["memory"] == "512Mi"


def test_rbac_least_privilege_per_mode(tmp_path: Path) -> None:
    def grants(mode: str, version: str = "v4.3.0") -> set[tuple[str, str, str]]:
        role = next(o for o in render_objects(opts(tmp_path, distro="k3s", mode=mode, multus_version=version))
                    if o["kind"] == "ClusterRole")
        return {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
                for v in rule["verbs"]}
    nad = "k8s.cni.cncf.io", "network-attachment-definitions"
    assert grants("thin") == {("", "pods", "get"), ("", "pods/status", "update"), (*nad, "get"),
                              ("", "events", "create")}
    assert grants("thick") == grants("thin") | {("", "pods", "list"), ("", "pods", "watch"), (*nad, "list"),
                                                (*nad, "watch")}
    assert grants("thick", "v4.0.2") == grants("thin")


def test_helm_values_for_k3s(tmp_path: Path) -> None:
    v = helm_values(opts(tmp_path, distro="k3s"))
    cc = v["config"]["cni_conf"]
    assert (cc["confDir"], cc["multusAutoconfigDir"], cc["kubeconfig"], cc["binDir"]) == (
        K3S_CONF, K3S_CONF, K3S_KC, "/var/lib/rancher/k3s/data/cni")
    assert cc["cleanupConfigOnExit"] is True and "skipConfigWatch" not in cc
    with pytest.raises(RenderError, match="hard-codes"):
        helm_values(opts(tmp_path, distro="k3s", mode="thick"))
    assert helm_values(opts(tmp_path, distro="kubeadm", mode="thick"))["thickPlugin"]["enabled"] is True


@pytest.mark.parametrize("args,words", [
    (["--mode", "thinn"], "--mode"), (["--distro", "k3z"], "--distro"), (["--multus-version", "4.3.0"], "v4.x.y"),
    (["--multus-version", "v3.9.3"], "v4"), (["--namespace", "Kube_System"], "--namespace"),
    (["--format", "chart"], "--format"), (["--root", "/nonexistent"], "--root"), (["--image", "a b"], "--image"),
])
def test_bad_values_are_one_line_exit_2(args: list[str], words: str, tmp_path: Path) -> None:
    r = cli("render", "--distro", "k3s", "--root", str(tmp_path), *args)
    assert r.returncode == 2 and r.stdout == "" and words in r.stderr, r
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_auto_without_a_node_is_one_line_exit_2(tmp_path: Path) -> None:
    r = cli("render", "--root", str(tmp_path))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--distro" in r.stderr


def test_render_pipes_into_check_manifest_clean_and_upstream_does_not(tmp_path: Path) -> None:
    r = cli("render", "--distro", "k3s", "--root", str(tmp_path), "--mode", "thick")
    assert r.returncode == 0, r.stderr
    c = cli("check", "--manifest", "-", "--distro", "k3s", "--root", str(tmp_path), "-o", "json", stdin=r.stdout)
    assert c.returncode == 0 and json.loads(c.stdout)["findings"] == [], c.stdout
    assert json.loads(c.stdout)["target"]["kind"] == "manifest"
    up = REPO / "tests/data/upstream/multus-daemonset-thick-v4.3.0.yml"
    c = cli("check", "--manifest", str(up), "--distro", "k3s", "--root", str(tmp_path), "-o", "json")
    assert c.returncode == 1 and "manifest-hostpath-mismatch" in {f["id"] for f in json.loads(c.stdout)["findings"]}


def test_check_manifest_reads_lists_and_several_files(tmp_path: Path) -> None:
    objs = render_objects(opts(tmp_path, distro="k3s"))
    (tmp_path / "list.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objs[:-1]}))
    d = ds(objs)
    d["spec"]["template"]["spec"]["automountServiceAccountToken"] = False
    (tmp_path / "ds.yaml").write_text("---\n" + yaml.safe_dump(d) + "---\n")
    c = cli("check", "--manifest", str(tmp_path / "list.yaml"), "--manifest", str(tmp_path / "ds.yaml"),
            "--distro", "k3s", "--root", str(tmp_path), "-o", "json")
    ids = [f["id"] for f in json.loads(c.stdout)["findings"]]
    assert ids == ["manifest-sa-token-not-mounted"], c.stdout


@pytest.mark.parametrize("text", ["a: [1, 2", "- 1\n- 2\n", "\x00\x01", "", "kind: List\nitems: [3]\n"])
def test_unparsable_manifest_is_one_line_exit_2(text: str, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    c = cli("check", "--manifest", str(tmp_path / "bad.yaml"), "--distro", "k3s", "--root", str(tmp_path))
    assert c.returncode == 2 and len(c.stderr.strip().splitlines()) == 1 and "Traceback" not in c.stderr, c
    c = cli("check", "--manifest", str(tmp_path / "missing.yaml"), "--distro", "k3s", "--root", str(tmp_path))
    assert c.returncode == 2 and "missing.yaml" in c.stderr


def test_check_manifest_needs_a_layout(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("kind: ConfigMap\n")
    c = cli("check", "--manifest", str(tmp_path / "m.yaml"), "--root", str(tmp_path))
    assert c.returncode == 2 and "--distro" in c.stderr


def _kubectl(home: Path, kubeconfig: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(kubeconfig or "/dev/null")}
    return subprocess.run([str(KUBECTL), "--request-timeout=10s", *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False)


@needs_kubectl
def test_kubectl_client_dry_run_validates_every_render(cluster: TestCluster, admin: Path, tmp_path: Path) -> None:
    # kubectl's client dry-run still asks a server for discovery and the OpenAPI schema it validates with:
    # the test cluster, which changes nothing.
    for distro in ("k3s", "kubeadm", "openshift"):
        for mode in ("thin", "thick"):
            f = tmp_path / f"{distro}-{mode}.yaml"
            f.write_text(render_yaml(opts(tmp_path, distro=distro, mode=mode)))
            r = _kubectl(tmp_path, admin, "apply", "--dry-run=client", "-f", str(f), "-o", "name")
            assert r.returncode == 0, r.stderr
            assert len(r.stdout.split()) == len(render_objects(opts(tmp_path, distro=distro, mode=mode)))
    assert _kubectl(tmp_path, admin, "get", "ds", "-A", "-o", "name").stdout == ""


@needs_kubectl
def test_kubectl_server_dry_run_and_apply_twice(cluster: TestCluster, admin: Path, tmp_path: Path) -> None:
    for mode in ("thin", "thick"):
        f = tmp_path / f"{mode}.yaml"
        f.write_text(render_yaml(opts(tmp_path, distro="k3s", mode=mode)))
        r = _kubectl(tmp_path, admin, "apply", "--dry-run=server", "-f", str(f))
        assert r.returncode == 0 and "(server dry run)" in r.stdout, r.stderr
        r = _kubectl(tmp_path, admin, "apply", "--server-side", "--field-manager=multusctl", "-f", str(f))
        assert r.returncode == 0, r.stderr
        r = _kubectl(tmp_path, admin, "apply", "--server-side", "--field-manager=multusctl", "-f", str(f))
        assert r.returncode == 0, r.stderr
    got = _kubectl(tmp_path, admin, "get", "ds", "-n", "kube-system", "-l", "app.kubernetes.io/managed-by=multusctl",
                   "-o", "json")
    assert got.returncode == 0, got.stderr
    (item,) = json.loads(got.stdout)["items"]
    assert item["spec"]["template"]["spec"]["containers"][0]["image"].endswith("-thick")
