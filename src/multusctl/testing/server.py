"""`TestCluster`: the cluster's state, start and stop, seeding, credentials and controllers (its HTTPS front is
`httpd`)."""

from __future__ import annotations

import base64
import copy
import os
import ssl
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from multusctl.testing.api import API_AUDIENCE, apply_defaults
from multusctl.testing.auth import (
    Decision,
    UserInfo,
)
from multusctl.testing.authn import Authenticator
from multusctl.testing.daemonsets import DaemonSetController
from multusctl.testing.faults import FaultPlan
from multusctl.testing.gc import Deleter
from multusctl.testing.httpd import Handler, Server
from multusctl.testing.kubelet import Kubelet
from multusctl.testing.nodes import SimNode, parse_node_spec, sim_node_from_object
from multusctl.testing.pki import CertificateAuthority
from multusctl.testing.rbac import Authorizer
from multusctl.testing.resources import Registry
from multusctl.testing.seed import default_objects
from multusctl.testing.store import (
    Obj,
    Store,
    WatchEvent,
    not_found,
)
from multusctl.testing.tokens import TokenIssuer

DEFAULT_SANS = ("127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local")
GIT_VERSION = "v1.31.4+k3s1"  # what /version answers by default: the k3s release the fixtures describe
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"


class TestCluster:
    """An in-process Kubernetes API server over TLS. Use as a context manager or start()/stop().

    `sans` are the serving certificate's names (IP literals become IP SANs: leave 127.0.0.1 out to
    get a name mismatch); `static_tokens` maps bearer tokens to users; `git_version` is what
    /version reports (kubectl's version dispatcher picks its client from it). Objects can be seeded
    before start(); the cluster holds the system namespaces, the `kubernetes` Service and the
    bootstrap RBAC from the start.

    Simulated nodes (see the package docstring): `nodes` is a count (nodes node-1..node-N, sharing
    `node_root` when given, else each with its own empty root directory) or a list of `SimNode`s or
    ``NAME=ROOT[:FLAG,...]`` strings; their pods run on this machine once the cluster is started.
    `unpullable_images` fail to pull on every node; `restart_backoff` is the first CrashLoopBackOff delay
    (the kubelet's 10 s) and `pull_backoff` how long ErrImagePull shows before ImagePullBackOff.
    `watch_list=False` refuses a watch with sendInitialEvents (422), as an apiserver whose WatchList feature
    gate is off (v1.33's default) does."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, *, sans: Sequence[str] = DEFAULT_SANS, static_tokens: dict[str, UserInfo] | None = None,
                 git_version: str = GIT_VERSION, host: str = "127.0.0.1", port: int = 0,
                 watch_poll: float = 0.5, nodes: int | Sequence[SimNode | str] | None = None,
                 node_root: str | Path | None = None, unpullable_images: Iterable[str] = (),
                 restart_backoff: float = 10.0, pull_backoff: float = 1.0, watch_list: bool = True) -> None:
        self.sans = list(sans)
        self.git_version = git_version
        self.host, self.port = host, port
        self.watch_poll = watch_poll
        # The WatchList feature (watch with sendInitialEvents): on in v1.31's apiserver, off by default in
        # v1.33's, where client-go informers fall back to LIST and WATCH.
        self.watch_list = watch_list
        self.ca = CertificateAuthority.create()
        self.store = Store()
        self.registry = Registry()
        self.faults = FaultPlan()
        self.token_issuer = TokenIssuer()
        self.authenticator = Authenticator(self.store, self.token_issuer, self.ca.cert, static_tokens)
        self.authorizer = Authorizer(self.store)
        self.logs: dict[tuple[str, str, str], str] = {}
        # (method, path, username) of recent requests, for assertions in tests.
        self.requests: deque[tuple[str, str, str]] = deque(maxlen=10000)
        # Every authorization decision: what a client's ServiceAccount used, and what it lacks even when
        # the client shrugs a 403 off and goes on.
        self.decisions: deque[Decision] = deque(maxlen=10000)
        self._httpd: Server | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._stopping = threading.Event()
        self.simulated_nodes: dict[str, SimNode] = {}
        self.unpullable_images = set(unpullable_images)
        self.restart_backoff, self.pull_backoff = restart_backoff, pull_backoff
        self.deleter = Deleter(self)
        self.daemonsets = DaemonSetController(self)
        self.kubelet = Kubelet(self)
        self._node_roots: tempfile.TemporaryDirectory[str] | None = None
        self.store.observers += [self._controllers, self.deleter.observe, self.daemonsets.observe,
                                 self.kubelet.observe]
        for obj in default_objects():
            self._create_obj(obj)
        for sim in self._initial_nodes(nodes, node_root):
            self.add_node(sim)

    # ---- lifecycle ----

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("TestCluster is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self._httpd.server_address[1]}"

    def start(self) -> TestCluster:
        if self._httpd is not None:
            return self
        self.token_issuer.hold()
        self._tmp = tempfile.TemporaryDirectory(prefix="multusctl-testcluster-")
        tmp = Path(self._tmp.name)
        cert, key = self.ca.issue_server_cert(self.sans)
        (tmp / "tls.crt").write_bytes(cert)
        (tmp / "tls.key").write_bytes(key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(tmp / "tls.crt", tmp / "tls.key")
        # Like the apiserver: a client certificate is verified when given, never required.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(cadata=self.ca.cert_pem.decode())
        ctx.set_alpn_protocols(["http/1.1"])
        self._httpd = Server((self.host, self.port), Handler, ctx, self)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._httpd.serve, name="testcluster", daemon=True)
        self._thread.start()
        self._seed_endpoints()
        self.kubelet.start(tmp / "kubelet")
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        self.kubelet.stop()
        self.store.wake_all()
        httpd.wait_for_streams(2.0)  # woken, watches and `logs -f` end their streams cleanly
        httpd.stop_serving()
        if self._thread is not None:
            self._thread.join(timeout=5)
        httpd.close_connections()
        httpd.server_close()
        self.token_issuer.release()
        self.store.closed = False
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        if self._node_roots is not None:
            self._node_roots.cleanup()
            self._node_roots = None

    def __enter__(self) -> TestCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_port(self) -> int:
        return self._httpd.server_address[1] if self._httpd is not None else self.port

    # ---- simulated nodes ----

    def _initial_nodes(self, nodes: int | Sequence[SimNode | str] | None,
                       node_root: str | Path | None) -> list[SimNode]:
        if nodes is None:
            return []
        if isinstance(nodes, int):
            if node_root is None:
                self._node_roots = tempfile.TemporaryDirectory(prefix="multusctl-noderoots-")
                roots = [Path(self._node_roots.name) / f"node-{i}" for i in range(1, nodes + 1)]
                for r in roots:
                    r.mkdir()
            else:
                roots = [Path(node_root)] * nodes
            return [SimNode(f"node-{i}", roots[i - 1]) for i in range(1, nodes + 1)]
        return [parse_node_spec(n) if isinstance(n, str) else n for n in nodes]

    def add_node(self, node: SimNode | str) -> Obj:
        """Add a simulated node (a `SimNode` or ``NAME=ROOT[:FLAG,...]``) and its Node object."""
        sim = parse_node_spec(node) if isinstance(node, str) else node
        self.simulated_nodes[sim.name] = sim
        return self.seed([sim.node_object(len(self.simulated_nodes), self.git_version)])[0]

    def _register_seeded_node(self, ev: WatchEvent) -> None:
        name = ev.obj["metadata"]["name"]
        if ev.type == "DELETED":
            self.simulated_nodes.pop(name, None)
            return
        sim = sim_node_from_object(ev.obj)
        if sim is not None:
            known = self.simulated_nodes.get(name)
            if known is None or (known.root, known.flags) != (sim.root, sim.flags):
                self.simulated_nodes[name] = sim

    # ---- seeding ----

    def seed(self, objects: Iterable[Obj]) -> list[Obj]:
        """Store objects as given (status included), creating or replacing them. Returns the stored copies."""
        out = []
        for obj in objects:
            if not obj:
                continue
            if obj.get("kind") == "PodLog" and obj.get("apiVersion") == "multusctl.testing/v1":
                self.set_pod_log(obj["namespace"], obj["pod"], obj.get("log", ""), obj.get("container"))
                continue
            if obj.get("kind", "").endswith("List") and "items" in obj:
                out.extend(self.seed(obj["items"]))
                continue
            out.append(self._create_obj(copy.deepcopy(obj), replace=True))
        return out

    def seed_yaml(self, path_or_text: str | Path) -> list[Obj]:
        text = str(path_or_text)
        if isinstance(path_or_text, Path) or ("\n" not in text and Path(text).is_file()):
            text = Path(text).read_text()
        return self.seed([d for d in yaml.safe_load_all(text) if d])

    def set_pod_log(self, namespace: str, pod: str, text: str, container: str | None = None) -> None:
        """Log text `kubectl logs` returns; without a container it serves every container of the pod."""
        self.logs[(namespace, pod, container or "")] = text

    def _create_obj(self, obj: Obj, replace: bool = False) -> Obj:
        rt = self.registry.by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        if rt is None:
            raise ValueError(f"unknown kind {obj.get('apiVersion')}/{obj.get('kind')} (create its CRD first)")
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            meta.setdefault("namespace", "default")
            self._ensure_namespace(meta["namespace"])
        else:
            meta.pop("namespace", None)
        apply_defaults(rt, obj)
        existing = self.store.get(rt.group, rt.plural, meta.get("namespace"), meta["name"])
        if existing is not None and replace:
            meta["resourceVersion"] = existing["metadata"]["resourceVersion"]
            return self.store.update(rt.group, rt.plural, obj)
        return self.store.create(rt.group, rt.plural, obj)

    def _ensure_namespace(self, name: str) -> None:
        if self.store.get("", "namespaces", None, name) is None:
            self.store.create("", "namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": name}, "spec": {"finalizers": ["kubernetes"]},
                                                 "status": {"phase": "Active"}})

    def _seed_endpoints(self) -> None:
        assert self._httpd is not None
        port = self._httpd.server_address[1]
        self.seed([{"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": "kubernetes", "namespace": "default"},
                    "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                                 "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}])

    # ---- credentials ----

    def admin_kubeconfig(self, path: str | Path, *, server: str | None = None) -> Path:
        cert, key = self.ca.issue_client_cert("multusctl-admin", ["system:masters"])
        user = {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}
        return _write_kubeconfig(Path(path), server or self.url, self.ca_pem, "admin", user)

    def kubeconfig_for_token(self, path: str | Path, token: str, server: str | None = None,
                             ca: bytes | None = None) -> Path:
        return _write_kubeconfig(Path(path), server or self.url, ca if ca is not None else self.ca_pem,
                                 "token-user", {"token": token})

    def create_token(self, namespace: str, service_account: str, expiration_seconds: int = 3600,
                     audiences: list[str] | None = None) -> str:
        """A bound ServiceAccount token, as `kubectl create token` would get."""
        sa = self.store.get("", "serviceaccounts", namespace, service_account)
        if sa is None:
            raise not_found("", "serviceaccounts", service_account)
        token, _exp = self.token_issuer.issue(namespace, service_account, sa["metadata"]["uid"],
                                              expiration_seconds, audiences or [API_AUDIENCE])
        return token

    # ---- controllers (run synchronously after each write) ----

    def _controllers(self, ev: WatchEvent) -> None:
        kind = (ev.group, ev.plural)
        if kind == ("", "namespaces") and ev.type == "ADDED":
            ns = ev.obj["metadata"]["name"]
            if self.store.get("", "serviceaccounts", ns, "default") is None:
                self.store.create("", "serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                          "metadata": {"name": "default", "namespace": ns}})
            if self.store.get("", "configmaps", ns, "kube-root-ca.crt") is None:
                self.store.create("", "configmaps", {
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "kube-root-ca.crt", "namespace": ns,
                                 "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be "
                                                 "used to verify the kube-apiserver when using internal "
                                                 "endpoints such as the internal service IP or "
                                                 "kubernetes.default.svc. No other usage is guaranteed "
                                                 "across distributions of Kubernetes clusters."}},
                    "data": {"ca.crt": self.ca_pem.decode()}})
        elif kind == ("", "namespaces") and ev.type == "DELETED":
            self.store.delete_namespace_contents(ev.obj["metadata"]["name"])
        elif kind == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self._crd_controller(ev)
        elif kind == ("", "secrets") and ev.type == "ADDED":
            self._fill_token_secret(ev.obj)
        elif kind == ("", "serviceaccounts") and ev.type == "ADDED":
            for secret in self.store.list("", "secrets", ev.namespace):
                self._fill_token_secret(secret)
        if kind == ("", "nodes"):
            self._register_seeded_node(ev)

    def _crd_controller(self, ev: WatchEvent) -> None:
        name = ev.obj["metadata"]["name"]
        if ev.type == "DELETED":
            for rt in self.registry.remove_crd(name)[:1]:
                self.store.delete_all(rt.group, rt.plural)
            return
        types = self.registry.add_crd(ev.obj)
        crd = self.store.get("apiextensions.k8s.io", "customresourcedefinitions", None, name)
        if crd is None:
            return
        spec = crd.get("spec") or {}
        status = {
            "acceptedNames": spec.get("names") or {},
            "conditions": [
                {"type": t, "status": "True", "reason": r, "message": m,
                 "lastTransitionTime": crd["metadata"].get("creationTimestamp")}
                for t, r, m in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                                ("Established", "InitialNamesAccepted", "the initial names have been accepted"))],
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
            or [t.version for t in types[:1]],
        }
        if crd.get("status") != status:
            crd["status"] = status
            self.store.update("apiextensions.k8s.io", "customresourcedefinitions", crd, check_rv=False)

    def _fill_token_secret(self, secret: Obj) -> None:
        meta = secret.get("metadata") or {}
        if secret.get("type") != SA_TOKEN_TYPE or (secret.get("data") or {}).get("token"):
            return
        sa_name = (meta.get("annotations") or {}).get("kubernetes.io/service-account.name")
        ns = meta.get("namespace", "")
        sa = self.store.get("", "serviceaccounts", ns, sa_name) if sa_name else None
        current = self.store.get("", "secrets", ns, meta["name"])
        if sa is None or current is None:
            return
        sa_uid = sa["metadata"]["uid"]
        token = self.token_issuer.issue_legacy_secret_token(ns, sa_name, sa_uid, meta["name"])
        current.setdefault("metadata", {}).setdefault("annotations", {})["kubernetes.io/service-account.uid"] = sa_uid
        current["data"] = {**(current.get("data") or {}), "token": _b64(token.encode()),
                           "ca.crt": _b64(self.ca_pem), "namespace": _b64(ns.encode())}
        self.store.update("", "secrets", current, check_rv=False)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _write_kubeconfig(path: Path, server: str, ca_pem: bytes, user_name: str, user: dict[str, str]) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "test", "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": user_name}}],
        "current-context": "test",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file holds a credential: create it private before any byte is written.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(config, out, sort_keys=False)
    return path


# ---- HTTP plumbing -----------------------------------------------------------------------------------
