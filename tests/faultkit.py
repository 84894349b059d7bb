"""Real faults of a Multus thin kubeconfig against the test cluster, for the `doctor` and `explain` tests.

Each entry of `FAULTS` is a context-manager factory taking `(cluster, admin, tmp_path)` (the `cluster`,
`admin` and `tmp_path` fixtures of tests/conftest.py) and yielding a `Fault`: the kubeconfig Multus would
use, the pod to run, and what `multusctl doctor` and `multusctl explain` must say about it. Nothing is
simulated: a refused port is a bound socket that does not listen, a black hole is a network namespace whose
address drops every packet (iptables), a stalled handshake is a listener that never answers the ClientHello,
a wrong CA is a freshly made CA, a name mismatch is a second TestCluster whose certificate does not name
127.0.0.1, an expired token is a token signed by the cluster's issuer with an `exp` in the past, RBAC faults
are real ServiceAccounts and (missing) bindings. Every object, namespace, link and socket a fault makes is
removed on exit, also when the body raises.

tests/test_peers_faults.py proves each fault with the real Multus thin plugin (v4.0.2, v4.3.0) and records
what the plugin prints (`Fault.says`); a doctor test is then just::

    with FAULTS["refused"](cluster, admin, tmp_path) as fault:
        report = doctor("--multus-kubeconfig", fault.kubeconfig)
        assert ids(report) == {fault.doctor_id}

All traffic goes to loopback or to the black hole's own namespace (198.18.0.0/15).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from multusctl.testing import TestCluster
from multusctl.testing.api import API_AUDIENCE
from multusctl.testing.faults import Delay, netns_blackhole, refused_port, tls_handshake_blackhole
from multusctl.testing.pki import CertificateAuthority
from tests.peerkit import NETWORKS, seed_pod

Obj = dict[str, Any]

SA_NAMESPACE, SA_NAME = "kube-system", "multus"
NAD_NAME = "macvlan-conf"
SLOW_API_SECONDS = 0.4
CRD = next(d for d in yaml.safe_load_all(
    (Path(__file__).parent / "testing" / "data" / "multus-daemonset-thick.yml").read_text())
    if d and d.get("kind") == "CustomResourceDefinition")

# The ClusterRole of FACTS.md §3 (upstream deployments/multus-daemonset.yml), least privilege.
MULTUS_RULES: list[Obj] = [
    {"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["pods", "pods/status"], "verbs": ["get", "list", "update", "watch"]},
    {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
]


@dataclass(frozen=True)
class Fault:
    name: str  # e.g. 'refused'
    kubeconfig: Path  # the kubeconfig Multus would use (what `multusctl doctor --multus-kubeconfig` gets)
    server: str  # the URL in it
    doctor_id: str | None  # the cluster check id doctor must name (None: doctor finds nothing wrong)
    explain_id: str | None  # the explain entry id multus' own error message must map to (None: ADD works)
    # The pod the CNI ADD is for (`{name, namespace, uid}`), stored in `cluster` by the fault.
    pod: dict[str, str] = field(default_factory=dict)
    # That pod's annotations (the pod-level faults put their `k8s.v1.cni.cncf.io/networks` here).
    annotations: dict[str, str] = field(default_factory=dict)
    # Objects the fault stored besides the identity and the pod (the NAD CRD, a NAD), as stored.
    seed: tuple[Obj, ...] = ()
    # Text the real plugin's error message contains for this fault (every piece), () when ADD works.
    says: tuple[str, ...] = ()
    # Multus versions whose plugin says something else (explain_id and says for that version).
    differs: dict[str, Peer] = field(default_factory=dict)

    def explain_for(self, version: str) -> str | None:
        """The explain id of what `version` of the thin plugin prints (None: its ADD works)."""
        return self.differs[version].explain_id if version in self.differs else self.explain_id

    def says_for(self, version: str) -> tuple[str, ...]:
        return self.differs[version].says if version in self.differs else self.says


@dataclass(frozen=True)
class Peer:
    """What one Multus version does differently from `Fault.explain_id`/`Fault.says`."""

    explain_id: str | None
    says: tuple[str, ...] = ()


class _Objects:
    """Objects created in a cluster, deleted (newest first) on exit."""

    def __init__(self, cluster: TestCluster, stack: contextlib.ExitStack) -> None:
        self.cluster = cluster
        stack.callback(self._cleanup)
        self._made: list[tuple[str, str, str | None, str]] = []

    def add(self, obj: Obj) -> Obj:
        rt = self.cluster.registry.by_kind(obj["apiVersion"], obj["kind"])
        assert rt is not None, obj["kind"]
        ns = obj["metadata"].get("namespace", "default") if rt.namespaced else None
        if self.cluster.store.get(rt.group, rt.plural, ns, obj["metadata"]["name"]) is not None:
            raise RuntimeError(f"{obj['kind']} {obj['metadata']['name']} exists already: one fault per cluster")
        (stored,) = self.cluster.seed([obj])
        self._made.append((rt.group, rt.plural, ns, obj["metadata"]["name"]))
        return stored

    def pod(self, name: str, annotations: dict[str, str] | None = None) -> dict[str, str]:
        pod = seed_pod(self.cluster, name, annotations=annotations)
        self._made.append(("", "pods", pod["namespace"], name))
        return pod

    def _cleanup(self) -> None:
        for group, plural, ns, name in reversed(self._made):
            with contextlib.suppress(Exception):
                self.cluster.store.delete(group, plural, ns, name)
        self._made.clear()


def _identity(objs: _Objects, *, bound: bool = True, expired: bool = False) -> str:
    """kube-system/multus with the FACTS §3 ClusterRole (and binding unless `bound=False`); returns a token."""
    cluster = objs.cluster
    sa = objs.add({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": SA_NAME, "namespace": SA_NAMESPACE}})
    objs.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
              "metadata": {"name": SA_NAME}, "rules": copy.deepcopy(MULTUS_RULES)})
    if bound:
        objs.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                  "metadata": {"name": SA_NAME},
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": SA_NAME},
                  "subjects": [{"kind": "ServiceAccount", "name": SA_NAME, "namespace": SA_NAMESPACE}]})
    if not expired:
        return cluster.create_token(SA_NAMESPACE, SA_NAME)
    # Issued two hours ago for one hour: a well-formed, correctly signed token whose exp has passed.
    token, _exp = cluster.token_issuer.issue(SA_NAMESPACE, SA_NAME, sa["metadata"]["uid"], 3600, [API_AUDIENCE],
                                             now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    return token


def _crd(objs: _Objects) -> Obj:
    return objs.add(copy.deepcopy(CRD))


def _nad(objs: _Objects, config: str) -> Obj:
    return objs.add({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                     "metadata": {"name": NAD_NAME, "namespace": "default"}, "spec": {"config": config}})


@contextlib.contextmanager
def _base(cluster: TestCluster, tmp_path: Path, name: str) -> Iterator[tuple[contextlib.ExitStack, _Objects, Path]]:
    with contextlib.ExitStack() as stack:
        objs = _Objects(cluster, stack)
        kc = tmp_path / "faults" / name / "multus.kubeconfig"
        kc.parent.mkdir(parents=True, exist_ok=True)
        yield stack, objs, kc


# ---- credentials and the way to the API ---------------------------------------------------------------


@contextlib.contextmanager
def healthy(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """What `multusctl kubeconfig create` makes: the least-privilege multus ServiceAccount, CRD installed."""
    with _base(cluster, tmp_path, "healthy") as (_stack, objs, kc):
        cluster.kubeconfig_for_token(kc, _identity(objs))
        seeded = (_crd(objs),)
        yield Fault("healthy", kc, cluster.url, None, None, objs.pod("pod-healthy"), seed=seeded)


@contextlib.contextmanager
def refused(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """A valid token and CA, but the server's port is bound and not listening (6443 on a k3s agent)."""
    with _base(cluster, tmp_path, "refused") as (stack, objs, kc):
        port = stack.enter_context(refused_port())
        server = f"https://127.0.0.1:{port}"
        cluster.kubeconfig_for_token(kc, _identity(objs), server=server)
        yield Fault("refused", kc, server, "api-connect-refused", "api-connect-refused", objs.pod("pod-refused"),
                    seed=(_crd(objs),), says=("connect: connection refused",))


@contextlib.contextmanager
def blackhole(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """The server address drops every packet (a firewall, a ClusterIP not programmed on the host).

    Needs root and iptables: check `netns_blackhole.unavailable_reason()` first."""
    with _base(cluster, tmp_path, "blackhole") as (stack, objs, kc):
        address = stack.enter_context(netns_blackhole())
        server = f"https://{address}:443"
        cluster.kubeconfig_for_token(kc, _identity(objs), server=server)
        yield Fault("blackhole", kc, server, "api-connect-timeout", "api-unreachable", objs.pod("pod-blackhole"),
                    seed=(_crd(objs),), says=(f"dial tcp {address}:443: i/o timeout",),
                    # v4.0.2 waits for Go's 30 s dial timeout; v4.3.0 gives up on its own deadline (~0.5 s).
                    differs={"v4.3.0": Peer("api-unreachable", (f"{address}:443", "context deadline exceeded"))})


@contextlib.contextmanager
def stalled_tls(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """TCP connects, the TLS handshake never completes (a wedged apiserver or proxy)."""
    with _base(cluster, tmp_path, "stalled-tls") as (stack, objs, kc):
        host, port = stack.enter_context(tls_handshake_blackhole())
        server = f"https://{host}:{port}"
        cluster.kubeconfig_for_token(kc, _identity(objs), server=server)
        yield Fault("stalled-tls", kc, server, "api-tls-handshake-timeout", "api-tls-handshake-timeout",
                    objs.pod("pod-stalled-tls"), seed=(_crd(objs),), says=("net/http: TLS handshake timeout",),
                    # v4.0.2 waits for client-go's 10 s handshake timeout; v4.3.0's own ~0.5 s deadline comes
                    # first, and its message cannot tell a stalled handshake from a black hole (doctor can).
                    differs={"v4.3.0": Peer("api-unreachable", ("context deadline exceeded",))})


@contextlib.contextmanager
def wrong_ca(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """The kubeconfig's CA is another one (the cluster was rebuilt or its CA rotated)."""
    with _base(cluster, tmp_path, "wrong-ca") as (_stack, objs, kc):
        other = CertificateAuthority.create()
        cluster.kubeconfig_for_token(kc, _identity(objs), ca=other.cert_pem)
        yield Fault("wrong-ca", kc, cluster.url, "api-tls-untrusted", "x509-unknown-authority",
                    objs.pod("pod-wrong-ca"), seed=(_crd(objs),),
                    says=("x509: certificate signed by unknown authority",))


SAN_MISMATCH_SANS = ("kubernetes", "kubernetes.default", "kubernetes.default.svc", "10.43.0.1")


@contextlib.contextmanager
def san_mismatch(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """A second cluster (healthy identity, CRD, pod) whose certificate names 10.43.0.1 but not the
    127.0.0.1 it is reached at (k3s without `--tls-san` for that address). `cluster` is left alone."""
    with _base(cluster, tmp_path, "san-mismatch") as (stack, _objs, kc):
        other = stack.enter_context(TestCluster(sans=SAN_MISMATCH_SANS))
        mine = _Objects(other, stack)
        other.kubeconfig_for_token(kc, _identity(mine))
        yield Fault("san-mismatch", kc, other.url, "api-tls-name-mismatch", "x509-name-mismatch",
                    mine.pod("pod-san-mismatch"), seed=(_crd(mine),),
                    says=("x509: certificate is valid for 10.43.0.1, not 127.0.0.1",))


@contextlib.contextmanager
def expired_token(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """A bound token of the multus ServiceAccount, correctly signed, whose exp is an hour ago."""
    with _base(cluster, tmp_path, "expired-token") as (_stack, objs, kc):
        cluster.kubeconfig_for_token(kc, _identity(objs, expired=True))
        yield Fault("expired-token", kc, cluster.url, "api-auth-rejected", "unauthorized",
                    objs.pod("pod-expired-token"), seed=(_crd(objs),), says=("Unauthorized",))


@contextlib.contextmanager
def deleted_sa(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """The founding case: the token was made, then its ServiceAccount deleted (the binding stays)."""
    with _base(cluster, tmp_path, "deleted-sa") as (_stack, objs, kc):
        cluster.kubeconfig_for_token(kc, _identity(objs))
        cluster.store.delete("", "serviceaccounts", SA_NAMESPACE, SA_NAME)
        yield Fault("deleted-sa", kc, cluster.url, "api-auth-rejected", "unauthorized",
                    objs.pod("pod-deleted-sa"), seed=(_crd(objs),), says=("Unauthorized",))


@contextlib.contextmanager
def missing_rbac(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """The multus ServiceAccount and its ClusterRole exist, the binding does not."""
    with _base(cluster, tmp_path, "missing-rbac") as (_stack, objs, kc):
        cluster.kubeconfig_for_token(kc, _identity(objs, bound=False))
        yield Fault("missing-rbac", kc, cluster.url, "rbac-missing", "rbac-forbidden",
                    objs.pod("pod-missing-rbac"), seed=(_crd(objs),),
                    says=('pods "pod-missing-rbac" is forbidden',
                          'User "system:serviceaccount:kube-system:multus" cannot get resource "pods"'))


@contextlib.contextmanager
def admin_identity(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """The admin's client-certificate kubeconfig used as Multus's: everything works, as the wrong user."""
    with _base(cluster, tmp_path, "admin-identity") as (_stack, objs, kc):
        kc.write_bytes(admin.read_bytes())
        kc.chmod(0o600)
        yield Fault("admin-identity", kc, cluster.url, "api-identity-unexpected", None,
                    objs.pod("pod-admin-identity"), seed=(_crd(objs),))


@contextlib.contextmanager
def slow_api(cluster: TestCluster, admin: Path, tmp_path: Path) -> Iterator[Fault]:
    """The healthy identity, every API request delayed by SLOW_API_SECONDS (above Multus's 250 ms).

    Measured with the real plugins: v4.3.0 fails ADD with `context deadline exceeded` once a request takes
    more than ~250 ms (0.24 s works, 0.26 s fails, after ~0.5 s); v4.0.2 completes ADD (5 requests, ~1.7 s)."""
    with _base(cluster, tmp_path, "slow-api") as (stack, objs, kc):
        cluster.kubeconfig_for_token(kc, _identity(objs))
        seeded = (_crd(objs),)
        pod = objs.pod("pod-slow-api")
        delay = Delay(SLOW_API_SECONDS)
        cluster.faults.latency(delay.seconds, "/api")
        stack.callback(cluster.faults.disarm, delay, "/api")
        # v4.3.0 gives each GET of the pod ~250 ms and fails at once; v4.0.2 waits and ADD works (slowly).
        yield Fault("slow-api", kc, cluster.url, "api-slow", "api-unreachable", pod, seed=seeded,
                    says=("error waiting for pod", "context deadline exceeded"), differs={"v4.0.2": Peer(None)})


# ---- pod-level faults (a healthy kubeconfig, a pod asking for a network) ------------------------------


@contextlib.contextmanager
def _pod_fault(cluster: TestCluster, tmp_path: Path, name: str, networks: str, *, crd: bool,
               nad_config: str | None, doctor_id: str | None, explain_id: str | None,
               says: tuple[str, ...]) -> Iterator[Fault]:
    with _base(cluster, tmp_path, name) as (_stack, objs, kc):
        cluster.kubeconfig_for_token(kc, _identity(objs))
        seeded = [_crd(objs)] if crd else []
        if nad_config is not None:
            seeded.append(_nad(objs, nad_config))
        annotations = {NETWORKS: networks}
        yield Fault(name, kc, cluster.url, doctor_id, explain_id, objs.pod(f"pod-{name}", annotations),
                    annotations=annotations, seed=tuple(seeded), says=says)


def missing_crd(cluster: TestCluster, admin: Path, tmp_path: Path) -> ContextManager[Fault]:
    """The pod asks for a NAD; the NetworkAttachmentDefinition CRD is not installed."""
    return _pod_fault(cluster, tmp_path, "missing-crd", NAD_NAME, crd=False, nad_config=None,
                      doctor_id="nad-crd-missing", explain_id="nad-crd-missing",
                      says=(f"cannot find a network-attachment-definition ({NAD_NAME}) in namespace (default)",
                            "the server could not find the requested resource"))


def missing_nad(cluster: TestCluster, admin: Path, tmp_path: Path) -> ContextManager[Fault]:
    """The CRD is installed, the NAD the pod asks for is not there."""
    return _pod_fault(cluster, tmp_path, "missing-nad", NAD_NAME, crd=True, nad_config=None,
                      doctor_id=None, explain_id="nad-not-found",
                      says=(f"cannot find a network-attachment-definition ({NAD_NAME}) in namespace (default)",
                            f'network-attachment-definitions.k8s.cni.cncf.io "{NAD_NAME}" not found'))


def invalid_nad(cluster: TestCluster, admin: Path, tmp_path: Path) -> ContextManager[Fault]:
    """The NAD exists; its spec.config is not JSON."""
    return _pod_fault(cluster, tmp_path, "invalid-nad", NAD_NAME, crd=True,
                      nad_config='{"cniVersion": "0.3.1", "type": "macvlan", ',
                      doctor_id="nad-config-invalid", explain_id="nad-config-invalid",
                      says=("failed to unmarshal Spec.Config",))


def bad_annotation(cluster: TestCluster, admin: Path, tmp_path: Path) -> ContextManager[Fault]:
    """The pod's networks annotation is malformed JSON."""
    return _pod_fault(cluster, tmp_path, "bad-annotation", f'[{{"name": "{NAD_NAME}"', crd=True, nad_config=None,
                      doctor_id=None, explain_id="annotation-invalid",
                      says=("parsePodNetworkAnnotation: failed to parse pod Network Attachment Selection "
                            "Annotation JSON format",))


FAULTS: dict[str, Callable[..., ContextManager[Fault]]] = {
    "healthy": healthy,
    "refused": refused,
    "blackhole": blackhole,
    "stalled-tls": stalled_tls,
    "wrong-ca": wrong_ca,
    "san-mismatch": san_mismatch,
    "expired-token": expired_token,
    "deleted-sa": deleted_sa,
    "missing-rbac": missing_rbac,
    "admin-identity": admin_identity,
    "slow-api": slow_api,
    "missing-crd": missing_crd,
    "missing-nad": missing_nad,
    "invalid-nad": invalid_nad,
    "bad-annotation": bad_annotation,
}
