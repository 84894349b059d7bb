"""Default paths of each Kubernetes distribution, as its nodes see them (FACTS.md §5).

These are only the fallbacks: detection prefers what the runtime's own config says. Sources:
- k3s: pkg/agent/templates (containerd config), docs; `data/cni` since v1.28.15/v1.29.10/v1.30.6/v1.31.2,
  `data/<hash>/bin` (with `data/current` and `data/previous` symlinks) before; agents reach the API through
  the client load balancer on 127.0.0.1:6444 (`--lb-server-port`), servers serve 6443.
- RKE2 shares k3s's agent code (same 6444 load balancer, same 10.42/10.43 CIDRs) but uses the standard
  /etc/cni/net.d and /opt/cni/bin.
- k0s: its CRI config is containerd's DefaultConfig() (k0s pkg/component/worker/containerd/criconfig.go),
  i.e. /etc/cni/net.d and /opt/cni/bin; drop-ins in /etc/k0s/containerd.d/*.toml.
- microk8s: its containerd template names `${SNAP_DATA}/args/cni-network` and `${SNAP_DATA}/opt/cni/bin`;
  the apiserver listens on 16443; worker-only nodes carry `var/lock/clustered.lock`.
- CRI-O packages (Fedora/RHEL) put plugins in /usr/libexec/cni; OpenShift's CRI-O reads
  /etc/kubernetes/cni/net.d and /var/lib/cni/bin.
"""

from __future__ import annotations

from multusctl.records import dataclass

CRIO_BIN_DIR = "/usr/libexec/cni"
STANDARD_CONF_DIR = "/etc/cni/net.d"
STANDARD_BIN_DIR = "/opt/cni/bin"

K3S_DATA_DIR = "/var/lib/rancher/k3s"
K3S_CONFIG = "/etc/rancher/k3s/config.yaml"
K3S_CONFIG_DROPINS = "/etc/rancher/k3s/config.yaml.d"
RKE2_DATA_DIR = "/var/lib/rancher/rke2"
RKE2_CONFIG = "/etc/rancher/rke2/config.yaml"
RKE2_CONFIG_DROPINS = "/etc/rancher/rke2/config.yaml.d"
MICROK8S_SNAP_DATA = "/var/snap/microk8s/current"
MICROK8S_SNAP = "/snap/microk8s/current"
MICROK8S_SNAP_COMMON = "/var/snap/microk8s/common"
K0S_DATA_DIR = "/var/lib/k0s"


@dataclass(frozen=True)
class DistroPaths:
    """Where a distribution keeps its CNI, kubeconfig and API files by default."""

    name: str
    conf_dir: str
    bin_dirs: tuple[str, ...]
    admin_kubeconfig: str | None  # on servers / control-plane nodes
    server_endpoints: tuple[str, ...]  # API URLs usable from a server's host network
    agent_endpoints: tuple[str, ...]  # API URLs usable from an agent's host network (may be empty: unknown)
    server_api_ports: tuple[int, ...]  # ports an apiserver listens on locally on a server
    cluster_cidr: str | None
    service_cidr: str | None
    # Runtime configs this distribution's containerd/CRI-O reads, in the order detection tries them.
    containerd_configs: tuple[str, ...] = ("/etc/containerd/config.toml",)
    # Cheap existence signals, cheapest and most specific first.
    markers: tuple[str, ...] = ()


def k3s_paths(data_dir: str = K3S_DATA_DIR) -> DistroPaths:
    """k3s defaults for a given `--data-dir` (flannel enabled, post-October-2024 bin dir)."""
    return DistroPaths(
        name="k3s",
        conf_dir=f"{data_dir}/agent/etc/cni/net.d",
        bin_dirs=(f"{data_dir}/data/cni",),
        admin_kubeconfig="/etc/rancher/k3s/k3s.yaml",
        server_endpoints=("https://127.0.0.1:6443",),
        agent_endpoints=("https://127.0.0.1:6444",),
        server_api_ports=(6443,),
        cluster_cidr="10.42.0.0/16",
        service_cidr="10.43.0.0/16",
        containerd_configs=(f"{data_dir}/agent/etc/containerd/config.toml",),
        markers=(data_dir, "/etc/rancher/k3s"),
    )


K3S = k3s_paths()

RKE2 = DistroPaths(
    name="rke2",
    conf_dir=STANDARD_CONF_DIR,
    bin_dirs=(STANDARD_BIN_DIR,),
    admin_kubeconfig="/etc/rancher/rke2/rke2.yaml",
    server_endpoints=("https://127.0.0.1:6443",),
    agent_endpoints=("https://127.0.0.1:6444",),
    server_api_ports=(6443,),
    cluster_cidr="10.42.0.0/16",
    service_cidr="10.43.0.0/16",
    containerd_configs=(f"{RKE2_DATA_DIR}/agent/etc/containerd/config.toml",),
    markers=(RKE2_DATA_DIR, "/etc/rancher/rke2"),
)

KUBEADM = DistroPaths(
    name="kubeadm",
    conf_dir=STANDARD_CONF_DIR,
    bin_dirs=(STANDARD_BIN_DIR,),
    admin_kubeconfig="/etc/kubernetes/admin.conf",
    server_endpoints=("https://127.0.0.1:6443",),
    agent_endpoints=(),
    server_api_ports=(6443,),
    cluster_cidr=None,  # kubeadm has no default pod CIDR; it comes from --pod-network-cidr
    service_cidr="10.96.0.0/12",
    markers=("/etc/kubernetes/manifests/kube-apiserver.yaml", "/etc/kubernetes/kubelet.conf"),
)

MICROK8S = DistroPaths(
    name="microk8s",
    conf_dir=f"{MICROK8S_SNAP_DATA}/args/cni-network",
    bin_dirs=(f"{MICROK8S_SNAP_DATA}/opt/cni/bin",),
    admin_kubeconfig=f"{MICROK8S_SNAP_DATA}/credentials/client.config",
    server_endpoints=("https://127.0.0.1:16443",),
    # Worker-only nodes run an apiserver proxy on the same port.
    agent_endpoints=("https://127.0.0.1:16443",),
    server_api_ports=(16443,),
    cluster_cidr="10.1.0.0/16",
    service_cidr="10.152.183.0/24",
    containerd_configs=(
        f"{MICROK8S_SNAP_DATA}/args/containerd-template.toml",
        f"{MICROK8S_SNAP_DATA}/args/containerd.toml",
    ),
    markers=("/var/snap/microk8s", "/snap/microk8s"),
)

K0S = DistroPaths(
    name="k0s",
    conf_dir=STANDARD_CONF_DIR,
    bin_dirs=(STANDARD_BIN_DIR,),
    admin_kubeconfig=f"{K0S_DATA_DIR}/pki/admin.conf",
    server_endpoints=("https://127.0.0.1:6443",),
    agent_endpoints=(),
    server_api_ports=(6443,),
    cluster_cidr="10.244.0.0/16",
    service_cidr="10.96.0.0/12",
    containerd_configs=("/etc/k0s/containerd.toml", "/run/k0s/containerd-cri.toml"),
    markers=(K0S_DATA_DIR, "/etc/k0s"),
)

OPENSHIFT = DistroPaths(
    name="openshift",
    conf_dir="/etc/kubernetes/cni/net.d",
    bin_dirs=("/var/lib/cni/bin",),
    admin_kubeconfig=(
        "/etc/kubernetes/static-pod-resources/kube-apiserver-certs/secrets/node-kubeconfigs/localhost.kubeconfig"
    ),
    server_endpoints=("https://localhost:6443",),
    agent_endpoints=(),
    server_api_ports=(6443,),
    cluster_cidr="10.128.0.0/14",
    service_cidr="172.30.0.0/16",
    containerd_configs=(),
    markers=("/etc/machine-config-daemon", "/etc/kubernetes/cni/net.d"),
)

KIND = DistroPaths(
    name="kind",
    conf_dir=STANDARD_CONF_DIR,
    bin_dirs=(STANDARD_BIN_DIR,),
    admin_kubeconfig="/etc/kubernetes/admin.conf",
    server_endpoints=("https://127.0.0.1:6443",),
    agent_endpoints=(),
    server_api_ports=(6443,),
    cluster_cidr="10.244.0.0/16",
    service_cidr="10.96.0.0/16",
    markers=("/kind",),
)

UNKNOWN = DistroPaths(
    name="unknown",
    conf_dir=STANDARD_CONF_DIR,
    bin_dirs=(STANDARD_BIN_DIR,),
    admin_kubeconfig=None,
    server_endpoints=(),
    agent_endpoints=(),
    server_api_ports=(),
    cluster_cidr=None,
    service_cidr=None,
)

TABLE: dict[str, DistroPaths] = {
    d.name: d for d in (K3S, RKE2, KUBEADM, MICROK8S, K0S, OPENSHIFT, KIND, UNKNOWN)
}


def paths_for(distro: str) -> DistroPaths:
    return TABLE.get(distro, UNKNOWN)
