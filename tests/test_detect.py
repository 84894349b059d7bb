"""Layout detection per distribution and role, runtime-config parsing, overrides, and fuzzing."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multusctl.gather.nodefs import NodeFS
from multusctl.layout.containerd import (
    parse_containerd_toml,
    parse_crio_conf,
    parse_flags,
    parse_kubelet_flags,
    read_containerd_config,
    read_crio_config,
)
from multusctl.layout.detect import Overrides, detect_layout
from multusctl.layout.model import Layout
from tests import distro_roots as R
from tests.fuzzkit import examples
from tests.noderoot import Dir, File, Link, make_root


def detect(tmp_path: Path, files: dict[str, Any], overrides: Overrides | None = None) -> Layout:
    return detect_layout(NodeFS(str(make_root(tmp_path / "root", files))), overrides)


def evidence(layout: Layout, key: str) -> str:
    return " | ".join(layout.evidence.get(key, []))


# --- every realistic root: distro, role, dirs that exist ----------------------------------------------

EXPECTED = {
    # name: (distro, role, conf_dir, bin_dirs, admin_kubeconfig, local_api_ports)
    "k3s_server": ("k3s", "server", R.K3S_CONF_DIR, [R.K3S_BIN_DIR], "/etc/rancher/k3s/k3s.yaml", [6443]),
    "k3s_agent": ("k3s", "agent", R.K3S_CONF_DIR, [R.K3S_BIN_DIR], None, []),
    "rke2_server": ("rke2", "server", "/etc/cni/net.d", ["/opt/cni/bin"], "/etc/rancher/rke2/rke2.yaml", [6443]),
    "rke2_agent": ("rke2", "agent", "/etc/cni/net.d", ["/opt/cni/bin"], None, []),
    "kubeadm_control_plane": ("kubeadm", "server", "/etc/cni/net.d", ["/opt/cni/bin"],
                              "/etc/kubernetes/admin.conf", [6443]),
    "kubeadm_worker": ("kubeadm", "agent", "/etc/cni/net.d", ["/opt/cni/bin"], None, []),
    "kubeadm_crio_worker": ("kubeadm", "agent", "/etc/cni/net.d", ["/opt/cni/bin", "/usr/libexec/cni"], None, []),
    "kind_control_plane": ("kind", "server", "/etc/cni/net.d", ["/opt/cni/bin"], "/etc/kubernetes/admin.conf",
                           [6443]),
    "microk8s_server": ("microk8s", "server", f"{R.MICROK8S}/args/cni-network", [f"{R.MICROK8S}/opt/cni/bin"],
                        f"{R.MICROK8S}/credentials/client.config", [16443]),
    "microk8s_worker": ("microk8s", "agent", f"{R.MICROK8S}/args/cni-network", [f"{R.MICROK8S}/opt/cni/bin"],
                        None, []),
    "k0s_controller": ("k0s", "server", "/etc/cni/net.d", ["/opt/cni/bin"], "/var/lib/k0s/pki/admin.conf", [6443]),
    "k0s_worker": ("k0s", "agent", "/etc/cni/net.d", ["/opt/cni/bin"], None, []),
    "openshift_master": ("openshift", "server", "/etc/kubernetes/cni/net.d", ["/var/lib/cni/bin", "/usr/libexec/cni"],
                         "/etc/kubernetes/static-pod-resources/kube-apiserver-certs/secrets/node-kubeconfigs/"
                         "localhost.kubeconfig", [6443]),
    "openshift_worker": ("openshift", "agent", "/etc/kubernetes/cni/net.d", ["/var/lib/cni/bin", "/usr/libexec/cni"],
                         None, []),
    "plain_containerd_node": ("unknown", "unknown", "/etc/cni/net.d", ["/opt/cni/bin"], None, []),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_realistic_roots(tmp_path: Path, name: str) -> None:
    distro, role, conf, bins, admin, ports = EXPECTED[name]
    layout = detect(tmp_path, R.ALL[name]())
    assert (layout.distro, layout.role) == (distro, role), layout.evidence
    assert layout.conf_dir == conf, layout.evidence
    assert layout.bin_dirs == bins, layout.evidence
    assert layout.admin_kubeconfig == admin
    assert layout.local_api_ports == ports
    for key in ("distro", "role", "conf_dir", "bin_dirs", "version", "admin_kubeconfig", "api_endpoints"):
        assert layout.evidence.get(key), f"no evidence for {key}"
    # Paths are node paths, never prefixed with the root.
    for p in [layout.conf_dir, *layout.bin_dirs, layout.admin_kubeconfig or "/"]:
        assert "root" not in p and p.startswith("/")


def test_roots_have_their_dirs(tmp_path: Path) -> None:
    """The shared roots are usable by check tests: the detected conf/bin dirs exist in them."""
    for name, factory in R.ALL.items():
        fs = NodeFS(str(make_root(tmp_path / name, factory())))
        layout = detect_layout(fs)
        assert fs.is_dir(layout.conf_dir), name
        assert all(fs.is_dir(b) for b in layout.bin_dirs), name


# --- k3s ---------------------------------------------------------------------------------------------


def test_k3s_server_details(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.k3s_server())
    assert layout.api_endpoints == ["https://127.0.0.1:6443"]
    assert (layout.cluster_cidr, layout.service_cidr) == ("10.42.0.0/16", "10.43.0.0/16")
    assert layout.version is None
    assert layout.multus_kubeconfig == f"{R.K3S_CONF_DIR}/multus.d/multus.kubeconfig"
    assert f'{R.K3S_CONTAINERD}: plugins."io.containerd.grpc.v1.cri".cni conf_dir' in evidence(layout, "conf_dir")
    assert "bin_dir" in evidence(layout, "bin_dirs")
    assert "server" in evidence(layout, "role")


def test_k3s_agent_uses_load_balancer(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.k3s_agent())
    assert layout.api_endpoints == ["https://127.0.0.1:6444"]
    assert layout.local_api_ports == []
    assert "6444" in evidence(layout, "api_endpoints")


def test_k3s_agent_with_copied_k3s_yaml_stays_agent(tmp_path: Path) -> None:
    # The seed case: k3s.yaml copied onto an agent must not turn it into a server.
    files = {**R.k3s_agent(), "/etc/rancher/k3s/k3s.yaml": File(R.kubeconfig("https://127.0.0.1:6443"))}
    layout = detect(tmp_path, files)
    assert layout.role == "agent"
    assert layout.local_api_ports == []
    assert "copy" in evidence(layout, "role")
    assert layout.admin_kubeconfig == "/etc/rancher/k3s/k3s.yaml"


@pytest.mark.parametrize("factory", [R.k3s_server, R.k3s_agent])
def test_k3s_containerd_v3(tmp_path: Path, factory: Any) -> None:
    layout = detect(tmp_path, factory(containerd_version=3))
    assert layout.conf_dir == R.K3S_CONF_DIR
    assert layout.bin_dirs == [R.K3S_BIN_DIR]
    assert "io.containerd.cri.v1.runtime" in evidence(layout, "bin_dirs")
    assert "bin_dirs" in evidence(layout, "bin_dirs")
    assert "version 3" in evidence(layout, "runtime")


@pytest.mark.parametrize("version", [2, 3])
def test_k3s_legacy_hash_bin_dir_from_config(tmp_path: Path, version: int) -> None:
    layout = detect(tmp_path, R.k3s_agent(containerd_version=version, legacy_bin=True))
    assert layout.bin_dirs == [f"{R.K3S}/data/{R.K3S_HASH}/bin"]


def test_k3s_without_containerd_config_prefers_data_cni(tmp_path: Path) -> None:
    files = R.k3s_server()
    del files[R.K3S_CONTAINERD]
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == [R.K3S_BIN_DIR]
    assert layout.conf_dir == R.K3S_CONF_DIR
    assert "data/cni exists" in evidence(layout, "bin_dirs")
    assert "no container runtime config" in evidence(layout, "runtime")


def test_k3s_without_containerd_config_old_layout_uses_current(tmp_path: Path) -> None:
    files = R.k3s_server(legacy_bin=True)
    del files[R.K3S_CONTAINERD]
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == [f"{R.K3S}/data/current/bin"]
    assert "pre-October-2024" in evidence(layout, "bin_dirs")


def test_k3s_without_containerd_config_old_layout_hash_only(tmp_path: Path) -> None:
    files = R.k3s_server(legacy_bin=True)
    del files[R.K3S_CONTAINERD]
    del files[f"{R.K3S}/data/current"]
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == [f"{R.K3S}/data/{R.K3S_HASH}/bin"]


def test_k3s_old_layout_skips_previous_hash(tmp_path: Path) -> None:
    files = R.k3s_server(legacy_bin=True)
    del files[R.K3S_CONTAINERD]
    del files[f"{R.K3S}/data/current"]
    old = f"{R.K3S}/data/{R.K3S_OLD_HASH}"
    # The old hash sorts before the new one here; put "previous" on the one that sorts last instead.
    files[f"{old}/bin/cni"] = File("#!/bin/sh\n", mode=0o755)
    files[f"{R.K3S}/data/previous"] = Link(f"{R.K3S}/data/{R.K3S_HASH}")
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == [f"{old}/bin"]


@pytest.mark.parametrize("factory", [R.k3s_server, R.k3s_agent])
@pytest.mark.parametrize("version", [2, 3])
def test_k3s_flannel_backend_none(tmp_path: Path, factory: Any, version: int) -> None:
    layout = detect(tmp_path, factory(containerd_version=version, flannel_backend="none"))
    assert layout.conf_dir == "/etc/cni/net.d"
    assert layout.bin_dirs == ["/opt/cni/bin"]
    assert "sets no CNI conf dir" in evidence(layout, "conf_dir")
    assert "flannel-backend: none (config.yaml)" in evidence(layout, "conf_dir")


def test_k3s_no_cni_section_without_flannel_none_says_so(tmp_path: Path) -> None:
    files = {**R.k3s_agent(), R.K3S_CONTAINERD: R.k3s_containerd_v2(cni=False)}
    layout = detect(tmp_path, files)
    assert (layout.conf_dir, layout.bin_dirs) == ("/etc/cni/net.d", ["/opt/cni/bin"])
    assert "do not say so" in evidence(layout, "conf_dir")


def test_k3s_flannel_none_from_config_yaml_without_containerd_config(tmp_path: Path) -> None:
    files = R.k3s_agent(flannel_backend="none")
    del files[R.K3S_CONTAINERD]
    layout = detect(tmp_path, files)
    assert (layout.conf_dir, layout.bin_dirs) == ("/etc/cni/net.d", ["/opt/cni/bin"])
    assert "flannel-backend: none" in evidence(layout, "conf_dir")


def test_k3s_flannel_none_from_unit_flag(tmp_path: Path) -> None:
    files = R.k3s_server()
    del files[R.K3S_CONTAINERD]
    files["/etc/systemd/system/k3s.service"] = R.K3S_SERVER_UNIT.replace(
        "    server \\\n", "    server \\\n    '--flannel-backend=none' \\\n    '--cluster-cidr=10.50.0.0/16' \\\n")
    layout = detect(tmp_path, files)
    assert layout.conf_dir == "/etc/cni/net.d"
    assert layout.cluster_cidr == "10.50.0.0/16"
    assert "systemd unit flag" in evidence(layout, "cluster_cidr")


def test_k3s_config_yaml_cidrs_and_dropins(tmp_path: Path) -> None:
    files = {**R.k3s_server(),
             "/etc/rancher/k3s/config.yaml": "cluster-cidr: 10.60.0.0/16\nservice-cidr: 10.61.0.0/16\n",
             "/etc/rancher/k3s/config.yaml.d/50-svc.yaml": "service-cidr: 10.62.0.0/16\n"}
    layout = detect(tmp_path, files)
    assert layout.cluster_cidr == "10.60.0.0/16"
    assert layout.service_cidr == "10.62.0.0/16"


def test_k3s_custom_data_dir(tmp_path: Path) -> None:
    data = "/srv/k3s"
    files: dict[str, Any] = {
        "/etc/rancher/k3s/config.yaml": f"data-dir: {data}\n",
        f"{data}/agent/etc/cni/net.d/10-flannel.conflist": R.flannel_conflist(),
        f"{data}/data/cni/flannel": File("#!/bin/sh\n", mode=0o755),
        f"{data}/server/token": "x\n",
    }
    layout = detect(tmp_path, files)
    assert layout.distro == "k3s"
    assert layout.role == "server"
    assert layout.conf_dir == f"{data}/agent/etc/cni/net.d"
    assert layout.bin_dirs == [f"{data}/data/cni"]


def test_k3s_broken_toml_falls_back_with_evidence(tmp_path: Path) -> None:
    files = {**R.k3s_agent(), R.K3S_CONTAINERD: '[plugins."io.containerd.grpc.v1.cri".cni\nbin_dir = '}
    layout = detect(tmp_path, files)
    assert layout.conf_dir == R.K3S_CONF_DIR
    assert layout.bin_dirs == [R.K3S_BIN_DIR]
    assert "not valid TOML" in evidence(layout, "runtime")
    assert "unreadable" in evidence(layout, "conf_dir")


def test_k3s_binary_containerd_config(tmp_path: Path) -> None:
    files = {**R.k3s_agent(), R.K3S_CONTAINERD: File(b"\xff\xfe\x00garbage\x00")}
    layout = detect(tmp_path, files)
    assert layout.distro == "k3s"
    assert "not UTF-8" in evidence(layout, "runtime")


def test_k3s_template_when_config_missing(tmp_path: Path) -> None:
    files = R.k3s_agent()
    del files[R.K3S_CONTAINERD]
    files[f"{R.K3S}/agent/etc/containerd/config-v3.toml.tmpl"] = (
        '{{ template "base" . }}\n'
        "[plugins.'io.containerd.cri.v1.runtime'.cni]\n"
        '  bin_dirs = ["/opt/custom/cni"]\n'
        '  conf_dir = "{{ .NodeConfig.AgentConfig.CNIConfDir }}"\n'
    )
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == ["/opt/custom/cni"]
    # conf_dir is a placeholder: containerd's default would be wrong, k3s fills its own in.
    assert layout.conf_dir == R.K3S_CONF_DIR
    assert "placeholder" in evidence(layout, "conf_dir")
    assert "base template" in evidence(layout, "runtime")


def test_k3s_template_only_placeholders(tmp_path: Path) -> None:
    files = R.k3s_agent()
    del files[R.K3S_CONTAINERD]
    files[f"{R.K3S}/agent/etc/containerd/config.toml.tmpl"] = (
        "version = 2\n"
        '[plugins."io.containerd.grpc.v1.cri".cni]\n'
        '  bin_dir = "{{ .NodeConfig.AgentConfig.CNIBinDir }}"\n'
        '  conf_dir = "{{ .NodeConfig.AgentConfig.CNIConfDir }}"\n'
    )
    layout = detect(tmp_path, files)
    assert (layout.conf_dir, layout.bin_dirs) == (R.K3S_CONF_DIR, [R.K3S_BIN_DIR])
    assert "placeholders" in evidence(layout, "runtime")


def test_k3s_template_v3_flannel_none_empty_cni_table(tmp_path: Path) -> None:
    # The v3 template always writes the cni table but only fills keys when k3s manages CNI.
    files = R.k3s_agent(flannel_backend="none")
    del files[R.K3S_CONTAINERD]
    files[f"{R.K3S}/agent/etc/containerd/config-v3.toml.tmpl"] = (
        "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.cni]\n"
        "  {{ with .NodeConfig.AgentConfig.CNIBinDir }}bin_dirs = [{{ printf \"%q\" . }}]{{ end }}\n"
        "  {{ with .NodeConfig.AgentConfig.CNIConfDir }}conf_dir = {{ printf \"%q\" . }}{{ end }}\n"
    )
    layout = detect(tmp_path, files)
    assert (layout.conf_dir, layout.bin_dirs) == ("/etc/cni/net.d", ["/opt/cni/bin"])


def test_k3s_role_from_units_only(tmp_path: Path) -> None:
    layout = detect(tmp_path, {"/etc/systemd/system/k3s-agent.service": R.K3S_AGENT_UNIT})
    assert (layout.distro, layout.role) == ("k3s", "agent")
    layout = detect(tmp_path / "b", {"/etc/systemd/system/k3s.service": R.K3S_SERVER_UNIT})
    assert (layout.distro, layout.role) == ("k3s", "server")


def test_k3s_unknown_role(tmp_path: Path) -> None:
    layout = detect(tmp_path, {"/etc/rancher/k3s/registries.yaml": "mirrors: {}\n"})
    assert (layout.distro, layout.role) == ("k3s", "unknown")
    assert layout.api_endpoints == []


# --- others ------------------------------------------------------------------------------------------


def test_rke2_details(tmp_path: Path) -> None:
    server = detect(tmp_path, R.rke2_server())
    assert server.version == "v1.30.4+rke2r1"
    assert server.service_cidr == "10.43.0.0/16"
    assert "cni: multus,canal" in evidence(server, "runtime")
    agent = detect(tmp_path / "a", R.rke2_agent())
    assert agent.api_endpoints == ["https://127.0.0.1:6444"]


def test_kubeadm_control_plane_details(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.kubeadm_control_plane())
    assert layout.version == R.KUBE_VERSION
    assert layout.service_cidr == "10.96.0.0/12"
    assert layout.cluster_cidr == "10.244.0.0/16"
    assert layout.api_endpoints == ["https://127.0.0.1:6443", "https://10.0.0.10:6443"]
    assert "--service-cluster-ip-range" in evidence(layout, "service_cidr")


def test_kubeadm_custom_port_and_range(tmp_path: Path) -> None:
    files = {**R.kubeadm_control_plane(),
             "/etc/kubernetes/manifests/kube-apiserver.yaml": R.kube_apiserver_manifest(
                 port=8443, service_range="172.20.0.0/16")}
    layout = detect(tmp_path, files)
    assert layout.local_api_ports == [8443]
    assert layout.service_cidr == "172.20.0.0/16"


def test_kubeadm_default_service_range(tmp_path: Path) -> None:
    files = {**R.kubeadm_control_plane(),
             "/etc/kubernetes/manifests/kube-apiserver.yaml": R.kube_apiserver_manifest(service_range=None)}
    layout = detect(tmp_path, files)
    assert layout.service_cidr == "10.96.0.0/12"
    assert "kubeadm default" in evidence(layout, "service_cidr")


def test_kubeadm_worker_endpoint_from_kubelet_conf(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.kubeadm_worker())
    assert layout.api_endpoints == ["https://10.0.0.10:6443"]
    assert layout.admin_kubeconfig is None


@pytest.mark.parametrize("bins", [("/opt/cni/bin",), ("/opt/cni/bin", "/usr/lib/cni")])
def test_containerd_v3_bin_dirs_list(tmp_path: Path, bins: tuple[str, ...]) -> None:
    files = {**R.kubeadm_worker(), "/etc/containerd/config.toml": R.containerd_stock_v3(bins, "/etc/cni/alt.d")}
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == list(bins)
    assert layout.conf_dir == "/etc/cni/alt.d"


def test_containerd_v2_custom_dirs_win_over_defaults(tmp_path: Path) -> None:
    files = {**R.kubeadm_worker(), "/etc/containerd/config.toml": R.containerd_stock_v2("/usr/lib/cni", "/etc/x")}
    layout = detect(tmp_path, files)
    assert (layout.conf_dir, layout.bin_dirs) == ("/etc/x", ["/usr/lib/cni"])
    assert "containerd config /etc/containerd/config.toml" in evidence(layout, "conf_dir")


def test_kind_version(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.kind_control_plane())
    assert layout.version == R.KUBE_VERSION
    assert layout.service_cidr == "10.96.0.0/16"
    assert "kubeadm" not in evidence(layout, "distro")  # kubeadm markers are expected on kind


def test_microk8s_substitutes_snap_data(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.microk8s_node())
    assert layout.version == "v1.31.2"
    assert layout.service_cidr == "10.152.183.0/24"
    assert layout.cluster_cidr == "10.1.0.0/16"
    assert "containerd-template.toml" in evidence(layout, "conf_dir")


def test_k0s_imports(tmp_path: Path) -> None:
    files = {**R.k0s_worker(),
             "/run/k0s/containerd-cri.toml": R.containerd_stock_v2("/var/lib/k0s/cni/bin", "/etc/cni/net.d")}
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == ["/var/lib/k0s/cni/bin"]
    assert "imported by /etc/k0s/containerd.toml" in evidence(layout, "bin_dirs")
    assert layout.api_endpoints == ["https://10.0.0.20:6443"]


def test_openshift_crio_dropins(tmp_path: Path) -> None:
    dropin = ('[crio.network]\nplugin_dirs = ["/run/cni/bin", "/usr/libexec/cni"]\n'
              'cni_default_network = "multus-cni-network"\n')
    files = {**R.openshift_worker(), "/etc/crio/crio.conf.d/99-multus.conf": dropin}
    layout = detect(tmp_path, files)
    assert layout.conf_dir == "/etc/kubernetes/cni/net.d"
    assert layout.bin_dirs == ["/run/cni/bin", "/usr/libexec/cni"]
    assert "99-multus.conf" in evidence(layout, "bin_dirs")
    assert "cni_default_network" in evidence(layout, "runtime")



def test_crio_dropin_without_extension(tmp_path: Path) -> None:
    """OpenShift's MCO writes /etc/crio/crio.conf.d/00-default (no .conf); CRI-O reads every file there."""
    files = {k: v for k, v in R.kubeadm_crio_worker().items() if k != "/etc/crio/crio.conf"}
    files["/etc/crio/crio.conf.d/00-default"] = R.crio_conf("/etc/kubernetes/cni/net.d/", ("/var/lib/cni/bin",))
    layout = detect(tmp_path, files)
    assert (layout.conf_dir, layout.bin_dirs) == ("/etc/kubernetes/cni/net.d", ["/var/lib/cni/bin"])
    assert "crio.conf.d/00-default: [crio.network] network_dir" in evidence(layout, "conf_dir")

def test_openshift_by_dirs_only(tmp_path: Path) -> None:
    layout = detect(tmp_path, {"/etc/kubernetes/cni/net.d": Dir(), "/var/lib/cni/bin": Dir()})
    assert layout.distro == "openshift"
    assert (layout.conf_dir, layout.bin_dirs) == ("/etc/kubernetes/cni/net.d", ["/var/lib/cni/bin"])


def test_crio_preferred_when_kubelet_uses_it(tmp_path: Path) -> None:
    files = {**R.kubeadm_crio_worker(), "/etc/containerd/config.toml": R.containerd_stock_v2("/nope", "/nope")}
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == ["/opt/cni/bin", "/usr/libexec/cni"]
    assert "CRI-O config" in evidence(layout, "bin_dirs")


# --- unknown, conflicts, overrides ----------------------------------------------------------------------


def test_empty_root_is_unknown_with_evidence(tmp_path: Path) -> None:
    layout = detect(tmp_path, {"/etc/hostname": "node\n"})
    assert (layout.distro, layout.role) == ("unknown", "unknown")
    assert (layout.conf_dir, layout.bin_dirs) == ("/etc/cni/net.d", ["/opt/cni/bin"])
    assert "looked for" in evidence(layout, "distro")
    assert "/var/lib/rancher/k3s" in evidence(layout, "distro")
    assert layout.evidence["conf_dir"] and layout.evidence["bin_dirs"]


def test_unknown_with_crio_bin_dir_hint(tmp_path: Path) -> None:
    files = {"/etc/crio/crio.conf": R.crio_conf(plugin_dirs=("/opt/cni/bin/",)), **R.plugins("/usr/libexec/cni")}
    layout = detect(tmp_path, files)
    assert layout.bin_dirs == ["/opt/cni/bin"]
    assert "/usr/libexec/cni exists" in evidence(layout, "bin_dirs")


def test_unknown_old_kubelet_flags(tmp_path: Path) -> None:
    files = {"/var/lib/kubelet/kubeadm-flags.env":
             'KUBELET_KUBEADM_ARGS="--network-plugin=cni --cni-conf-dir=/etc/cni/old.d --cni-bin-dir=/usr/cni/bin"\n'}
    layout = detect(tmp_path, files)
    assert (layout.conf_dir, layout.bin_dirs) == ("/etc/cni/old.d", ["/usr/cni/bin"])
    assert "dockershim" in evidence(layout, "runtime")


def test_two_distros_noted(tmp_path: Path) -> None:
    files = {**R.k3s_server(), "/var/lib/rancher/rke2": Dir()}
    layout = detect(tmp_path, files)
    assert layout.distro == "k3s"
    assert "rke2" in evidence(layout, "distro")


def test_overrides_win_and_are_noted(tmp_path: Path) -> None:
    ov = Overrides(conf_dir="/etc/cni/net.d/", bin_dirs=["/opt/cni/bin", "/usr/libexec/cni"])
    layout = detect(tmp_path, R.k3s_agent(), ov)
    assert layout.conf_dir == "/etc/cni/net.d"
    assert layout.bin_dirs == ["/opt/cni/bin", "/usr/libexec/cni"]
    assert evidence(layout, "conf_dir").startswith("--conf-dir flag")
    assert R.K3S_CONF_DIR in evidence(layout, "conf_dir")  # what was detected stays visible
    assert evidence(layout, "bin_dirs").startswith("--bin-dir flag")


def test_distro_and_role_overrides(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.k3s_agent(), Overrides(distro="rke2", role="server"))
    assert (layout.distro, layout.role) == ("rke2", "server")
    assert evidence(layout, "distro").startswith("--distro flag")
    assert evidence(layout, "role").startswith("--role flag")
    assert layout.local_api_ports == [6443]


def test_role_override_changes_ports(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.k3s_server(), Overrides(role="agent"))
    assert layout.role == "agent"
    assert layout.local_api_ports == []
    assert layout.api_endpoints == ["https://127.0.0.1:6444"]


def test_unknown_distro_override_value(tmp_path: Path) -> None:
    layout = detect(tmp_path, R.k3s_server(), Overrides(distro="nomad"))
    assert layout.distro == "unknown"


def test_symlinked_conf_dir_and_loop(tmp_path: Path) -> None:
    files = {**R.kubeadm_worker(), "/etc/containerd/config.toml": Link("/etc/containerd/config.toml")}
    layout = detect(tmp_path, files)  # a symlink loop: evidence, not an exception
    assert layout.distro == "kubeadm"


# --- parsers -----------------------------------------------------------------------------------------


def test_parse_v3_both_bin_keys_is_a_problem() -> None:
    text = "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.cni]\nbin_dir = '/a'\nbin_dirs = ['/b']\n"
    res = parse_containerd_toml(text, "/c.toml")
    assert res.bin_dirs == ["/b", "/a"]
    assert any("both bin_dir and bin_dirs" in p for p in res.problems)


def test_parse_v3_ignores_v2_table() -> None:
    text = ("version = 3\n[plugins.'io.containerd.grpc.v1.cri'.cni]\nbin_dir = '/old'\n"
            "[plugins.'io.containerd.cri.v1.runtime'.cni]\nconf_dir = '/new'\n")
    res = parse_containerd_toml(text, "/c.toml")
    assert res.conf_dir == "/new"
    assert res.bin_dirs == []
    assert any("ignored in a version 3" in n for n in res.notes)


def test_parse_v1_plugins_cri() -> None:
    res = parse_containerd_toml("[plugins.cri.cni]\nbin_dir = '/x/bin/'\nconf_dir = '/x/conf'\n", "/c.toml")
    assert (res.conf_dir, res.bin_dirs, res.version) == ("/x/conf", ["/x/bin"], None)


def test_parse_no_cni_section() -> None:
    res = parse_containerd_toml("version = 2\n[grpc]\naddress = '/run/containerd/containerd.sock'\n", "/c.toml")
    assert res.parsed and not res.sets_dirs


def test_parse_wrong_types() -> None:
    text = "version = 'three'\n[plugins.'io.containerd.cri.v1.runtime'.cni]\nbin_dirs = '/x'\nconf_dir = 5\n"
    res = parse_containerd_toml(text, "/c.toml")
    assert not res.sets_dirs


def test_parse_crio() -> None:
    res = parse_crio_conf(R.crio_conf(), "/etc/crio/crio.conf")
    assert res.conf_dir == "/etc/cni/net.d"
    assert res.bin_dirs == ["/opt/cni/bin", "/usr/libexec/cni"]
    res = parse_crio_conf('[crio.network]\nplugin_dir = "/usr/libexec/cni"\n', "/x")
    assert res.bin_dirs == ["/usr/libexec/cni"]


def test_read_crio_dropin_overrides_single_key(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"/etc/crio/crio.conf": R.crio_conf(),
                                "/etc/crio/crio.conf.d/10-net.conf": '[crio.network]\nnetwork_dir = "/etc/x"\n',
                                "/etc/crio/crio.conf.d/20-bad.conf": "[crio.network\n"})
    res = read_crio_config(NodeFS(str(root)))
    assert res is not None
    assert res.conf_dir == "/etc/x"
    assert res.bin_dirs == ["/opt/cni/bin", "/usr/libexec/cni"]
    assert any("20-bad.conf" in p for p in res.problems)


def test_read_containerd_missing(tmp_path: Path) -> None:
    assert read_containerd_config(NodeFS(str(make_root(tmp_path, {}))), "/etc/containerd/config.toml") is None


def test_parse_kubelet_flags_forms() -> None:
    res = parse_kubelet_flags('KUBELET_KUBEADM_ARGS="--cni-bin-dir=/a,/b --cni-conf-dir /c"\n', "/f")
    assert (res.conf_dir, res.bin_dirs) == ("/c", ["/a", "/b"])
    flags = parse_flags("    - --secure-port=6443\n    - --advertise-address=10.0.0.1\n--flag\n'--x=1' \\\n")
    assert flags["secure-port"] == "6443"
    assert flags["advertise-address"] == "10.0.0.1"
    assert flags["flag"] == "true"
    assert flags["x"] == "1"


# --- fuzzing: arbitrary input never raises --------------------------------------------------------------

TOMLISH = st.text(alphabet=st.sampled_from(list("[]'\"=.,#\n abcdefgio_/{}-0123456789")), max_size=300)
FUZZ = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _one_line(res: Any) -> None:
    for msg in [*res.problems, *res.notes]:
        assert isinstance(msg, str) and "\n" not in msg and msg


@FUZZ
@given(st.one_of(st.text(max_size=500), TOMLISH), st.booleans())
def test_fuzz_containerd_parser(text: str, template: bool) -> None:
    res = parse_containerd_toml(text, "/fuzz.toml", template=template)
    # What it reports is what the text says: every dir it names is written in the text, normalised.
    for d in [*res.bin_dirs, *([res.conf_dir] if res.conf_dir else [])]:
        assert d and d == posixpath.normpath(d) and d.split("/")[-1] in text
    assert len(res.bin_dirs) == len(set(res.bin_dirs))
    assert (res.conf_dir is None) == (res.conf_dir_from is None)
    assert bool(res.bin_dirs) == (res.bin_dirs_from is not None)
    _one_line(res)


_FLAG_NAME = st.text(alphabet=st.sampled_from(list("abcdefghij-")), min_size=1, max_size=8).filter(
    lambda n: not n.startswith("-") and not n.endswith("-"))
_FLAG_VALUE = st.text(alphabet=st.sampled_from(list("abc/._0123")), min_size=1, max_size=8)


@FUZZ
@given(st.lists(st.tuples(_FLAG_NAME, _FLAG_VALUE, st.sampled_from(["=", " "])), max_size=6),
       st.sampled_from(["", "KUBELET_KUBEADM_ARGS=\"", "ExecStart=/usr/bin/k3s server "]), st.text(max_size=60))
def test_fuzz_flags_are_read_as_go_flag_parsers_read_them(pairs: list[tuple[str, str, str]], prefix: str,
                                                          noise: str) -> None:
    line = prefix + " ".join(f"--{n}{sep}{v}" for n, v, sep in pairs) + ('"' if prefix.endswith('"') else "")
    flags = parse_flags(f"{line}\n# {noise}\n")  # a comment line never sets anything
    expected: dict[str, str] = {}
    for n, v, _sep in pairs:
        expected[n] = v  # later occurrences win
    for n, v in expected.items():
        assert flags.get(n) == v, (line, flags)
    # The kubelet/CRI-O readers built on it: conf and bin dirs only from their own flags and keys.
    res = parse_kubelet_flags(line, "/fuzz.env")
    assert res.conf_dir == (posixpath.normpath(expected["cni-conf-dir"]) if "cni-conf-dir" in expected else None)
    _one_line(res)


@FUZZ
@given(st.one_of(st.text(max_size=500), TOMLISH))
def test_fuzz_crio_and_flags_never_raise_and_speak_in_one_line(text: str) -> None:
    res = parse_crio_conf(text, "/fuzz.conf")
    _one_line(res)
    for d in [*res.bin_dirs, *([res.conf_dir] if res.conf_dir else [])]:
        assert d == posixpath.normpath(d)
    _one_line(parse_kubelet_flags(text, "/fuzz.env"))
    flags = parse_flags(text)
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in flags.items())
    assert all(k in text for k in flags)


# TOML basic strings cannot hold raw control characters (and `lit` escapes only quotes and backslashes).
_TOML_CHARS = st.characters(blacklist_categories=("Cc", "Cs"))


@FUZZ
@given(cni=st.dictionaries(st.sampled_from(["bin_dir", "bin_dirs", "conf_dir", "x"]),
                           st.one_of(st.text(_TOML_CHARS, max_size=20),
                                     st.lists(st.text(_TOML_CHARS, max_size=10), max_size=3),
                                     st.integers(), st.booleans()), max_size=4),
       plugin=st.sampled_from(["io.containerd.cri.v1.runtime", "io.containerd.grpc.v1.cri", "cri"]),
       version=st.sampled_from([None, 1, 2, 3, "3"]))
def test_fuzz_containerd_structure(cni: dict[str, Any], plugin: str, version: Any) -> None:
    def lit(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(lit(x) for x in v) + "]"
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    head = "" if version is None else f"version = {lit(version)}\n"
    body = "".join(f"{k} = {lit(v)}\n" for k, v in cni.items())
    res = parse_containerd_toml(f"{head}[plugins.'{plugin}'.cni]\n{body}", "/f.toml")
    # The oracle: which table containerd reads for this version (v1 "cri", v2 grpc.v1.cri, v3 cri.v1.runtime;
    # an unknown version reads them all), then empty strings count as unset.
    int_version = version if isinstance(version, int) else None
    read = {3: ["io.containerd.cri.v1.runtime"], 2: ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"]}
    readable = read.get(int_version or 0, ["cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"])

    def clean(v: Any) -> str | None:
        return posixpath.normpath(v.strip()) if isinstance(v, str) and v.strip() else None

    if plugin not in readable:
        assert res.conf_dir is None and res.bin_dirs == []
        return
    assert res.conf_dir == clean(cni.get("conf_dir"))
    listed = list(dict.fromkeys(d for d in map(clean, cni.get("bin_dirs") or []) if d)) \
        if isinstance(cni.get("bin_dirs"), list) else []
    one = clean(cni.get("bin_dir"))
    expected = listed + ([one] if one and listed and one not in listed else []) if listed else ([one] if one else [])
    assert res.bin_dirs == expected
    assert bool(res.problems) == bool(listed and one)  # containerd refuses bin_dir together with bin_dirs


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_bytes_through_nodefs(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    base = tmp_path_factory.mktemp("fuzz")
    files = {"/etc/containerd/config.toml": File(data), "/etc/crio/crio.conf": File(data),
             "/var/lib/kubelet/kubeadm-flags.env": File(data), "/etc/rancher/k3s/config.yaml": File(data),
             "/var/lib/rancher/k3s/agent/etc/containerd/config.toml": File(data)}
    layout = detect_layout(NodeFS(str(make_root(base, files))))
    assert layout.distro == "k3s"
    assert layout.conf_dir.startswith("/")
