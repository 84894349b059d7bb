"""Proof of faithfulness: the real kubectl (default, 1.27, 1.33) against the test cluster."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest

from multusctl.testing import TestCluster
from multusctl.testing.pki import CertificateAuthority
from tests.kubectlkit import default_kubectl, dispatcher

from .conftest import DATA, Kubectl

pytestmark = pytest.mark.kubectl

MANIFEST = DATA / "multus-daemonset-thick.yml"
NAD = DATA / "nad-macvlan.yml"


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def sa_kubeconfig(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path, ns: str, sa: str) -> Path:
    token = kubectl.run("create", "token", sa, "-n", ns, "--duration=15m").stdout.strip()
    return cluster.kubeconfig_for_token(tmp_path / f"{sa}.kubeconfig", token)


def write_edited_manifest(path: Path) -> Path:
    """The Multus manifest with a new image, log level and env var, and one volume (and mount) less."""
    edited = (MANIFEST.read_text().replace("multus-cni:snapshot-thick", "multus-cni:v4.1.0-thick")
              .replace('"logLevel": "verbose"', '"logLevel": "debug"')
              .replace("                  fieldPath: spec.nodeName\n",
                       "                  fieldPath: spec.nodeName\n"
                       "            - name: MULTUS_LOG_LEVEL\n              value: debug\n")
              .replace("            - name: host-run-netns\n              mountPath: /run/netns\n"
                       "              mountPropagation: HostToContainer\n", "")
              .replace("        - name: host-run-netns\n          hostPath:\n            path: /run/netns/\n", ""))
    assert "host-run-netns" not in edited
    path.write_text(edited)
    return path


def assert_edited_state(cluster: TestCluster) -> None:
    ds = cluster.store.get("apps", "daemonsets", "kube-system", "kube-multus-ds")
    assert ds is not None
    pod = ds["spec"]["template"]["spec"]
    main = pod["containers"][0]
    assert main["image"].endswith(":v4.1.0-thick")
    assert pod["initContainers"][0]["image"].endswith(":v4.1.0-thick")
    assert [e["name"] for e in main["env"]] == ["MULTUS_NODE_NAME", "MULTUS_LOG_LEVEL"]
    assert main["env"][0]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert "host-run-netns" not in [v["name"] for v in pod["volumes"]]
    assert "/run/netns" not in [m["mountPath"] for m in main["volumeMounts"]]
    assert len(pod["volumes"]) == 9
    assert ds["metadata"]["generation"] == 2
    cm = cluster.store.get("", "configmaps", "kube-system", "multus-daemon-config")
    assert cm is not None and '"logLevel": "debug"' in cm["data"]["daemon-config.json"]


def test_the_kubectl_users_run_is_the_client_the_tests_run(admin_kubeconfig: Path, tmp_path: Path) -> None:
    """The tests run the client the dispatcher on PATH would exec (tests/kubectlkit.py): both say one client
    version to the test cluster, so every "kubectl-default" result is what `kubectl` itself gives."""
    on_path, client = dispatcher(), default_kubectl()
    if on_path is None or client is None:
        pytest.skip("kubectl not installed")
    versions = []
    for binary in (on_path, client):
        home = tmp_path / f"home-{len(versions)}"
        home.mkdir()
        doc = json.loads(Kubectl(binary, home, admin_kubeconfig).run("version", "-o", "json").stdout)
        versions.append((doc["clientVersion"]["gitVersion"], doc["serverVersion"]["gitVersion"]))
    assert versions[0] == versions[1]
    assert versions[0][1] == "v1.31.4+k3s1"


def test_get_namespaces(kubectl: Kubectl) -> None:
    names = kubectl.run("get", "ns", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system", "namespace/kube-public"} <= set(names)
    # Server-side Table printing, columns as the real apiserver's.
    lines = kubectl.run("get", "ns").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "AGE"]
    assert any(line.split()[:2] == ["kube-system", "Active"] for line in lines[1:])


def test_apply_multus_thick_then_reapply_edited(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    out = kubectl.run("apply", "-f", str(MANIFEST)).stdout
    assert out.count(" created") == 6, out
    out = kubectl.run("apply", "-f", str(MANIFEST)).stdout
    assert out.count(" unchanged") == 6, out

    edited = write_edited_manifest(tmp_path / "edited.yml")
    out = kubectl.run("apply", "-f", str(edited)).stdout
    assert "daemonset.apps/kube-multus-ds configured" in out
    assert "configmap/multus-daemon-config configured" in out
    assert "clusterrole.rbac.authorization.k8s.io/multus unchanged" in out

    assert_edited_state(cluster)
    # Applying the edited file once more changes nothing.
    out = kubectl.run("apply", "-f", str(edited)).stdout
    assert out.count(" unchanged") == 6, out


def test_nad_by_every_name(kubectl: Kubectl, cluster: TestCluster) -> None:
    kubectl.run("apply", "-f", str(MANIFEST))
    assert "created" in kubectl.run("apply", "-f", str(NAD)).stdout
    for name in ("net-attach-def", "nad", "network-attachment-definitions", "network-attachment-definition",
                 "network-attachment-definitions.k8s.cni.cncf.io"):
        out = kubectl.run("get", name, "-A").stdout
        assert "default" in out and "macvlan-conf" in out, (name, out)
    config = kubectl.run("get", "net-attach-def", "macvlan-conf", "-o", "jsonpath={.spec.config}").stdout
    assert json.loads(config)["type"] == "macvlan"


def test_create_token_and_minimum_duration(kubectl: Kubectl, cluster: TestCluster) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "multus",
                                                                             "namespace": "kube-system"}}])
    token = kubectl.run("create", "token", "multus", "-n", "kube-system", "--duration=15m").stdout.strip()
    claims = jwt_claims(token)
    assert claims["exp"] - claims["iat"] == 900
    assert claims["sub"] == "system:serviceaccount:kube-system:multus"
    refused = kubectl.run("create", "token", "multus", "-n", "kube-system", "--duration=5m", check=False)
    assert refused.returncode != 0
    # Word for word what a real apiserver makes kubectl print (ValidateTokenRequest, MinTokenAgeSec).
    assert ('error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: '
            "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes"
            ) in refused.stderr


def test_auth_can_i_answered_by_rbac(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    kubectl.run("apply", "-f", str(MANIFEST))
    kc = sa_kubeconfig(kubectl, cluster, tmp_path, "kube-system", "multus")

    def can_i(*args: str) -> str:
        proc = kubectl.run("auth", "can-i", *args, kubeconfig=kc, check=False)
        assert proc.returncode == (0 if proc.stdout.strip() == "yes" else 1), proc
        return proc.stdout.strip()

    assert can_i("list", "pods", "-A") == "yes"
    assert can_i("watch", "pods", "-n", "default") == "yes"
    assert can_i("create", "network-attachment-definitions.k8s.cni.cncf.io") == "yes"
    assert can_i("update", "pods/status") == "yes"
    assert can_i("update", "pods", "--subresource=status") == "yes"
    assert can_i("create", "pods/status") == "no"
    assert can_i("delete", "pods") == "no"
    assert can_i("list", "nodes") == "no"
    assert can_i("get", "secrets", "-n", "kube-system") == "no"


def test_auth_whoami(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    kubectl.run("apply", "-f", str(MANIFEST))
    kc = sa_kubeconfig(kubectl, cluster, tmp_path, "kube-system", "multus")
    out = kubectl.run("auth", "whoami", "-o", "json", kubeconfig=kc).stdout
    info = json.loads(out)["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:kube-system:multus"
    assert {"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"} <= set(
        info["groups"])
    admin = json.loads(kubectl.run("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert admin["username"] == "multusctl-admin" and "system:masters" in admin["groups"]


def test_logs_of_seeded_pod(kubectl: Kubectl, cluster: TestCluster) -> None:
    cluster.seed_yaml(DATA / "multus-pods.yml")
    out = kubectl.run("logs", "-n", "kube-system", "kube-multus-ds-x7k2p").stdout
    assert "multus-daemon started" in out and "failed to load kubeconfig" in out
    wide = kubectl.run("get", "pods", "-A", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:6] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert wide[1].split()[:5] == ["kube-system", "kube-multus-ds-x7k2p", "1/1", "Running", "0"]
    assert wide[1].split()[6:] == ["10.42.0.12", "node-1", "<none>", "<none>"]
    tail = kubectl.run("logs", "-n", "kube-system", "kube-multus-ds-x7k2p", "--tail=1").stdout
    assert tail.startswith("2024-05-01T10:00:01Z [error]")
    missing = kubectl.run("logs", "-n", "kube-system", "nope", check=False)
    assert missing.returncode == 1
    assert 'pods "nope" not found' in missing.stderr


def test_unauthorized_messages(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "gone", "namespace": "default"}}])
    sa = cluster.store.get("", "serviceaccounts", "default", "gone")
    assert sa is not None
    expired, _ = cluster.token_issuer.issue("default", "gone", sa["metadata"]["uid"], 600,
                                            now=__import__("datetime").datetime(2020, 1, 1, tzinfo=__import__(
                                                "datetime").UTC))
    deleted = cluster.create_token("default", "gone")
    cluster.store.delete("", "serviceaccounts", "default", "gone")
    for token in ("not-a-token", expired, deleted):
        kc = cluster.kubeconfig_for_token(tmp_path / "bad.kubeconfig", token)
        proc = kubectl.run("get", "pods", kubeconfig=kc, check=False)
        assert proc.returncode == 1
        # kubectl words a 401 met during discovery differently from one on the request itself.
        assert ("error: You must be logged in to the server (Unauthorized)" in proc.stderr
                or "error: You must be logged in to the server (the server has asked for the client to provide "
                   "credentials)" in proc.stderr), proc.stderr


def test_forbidden_message(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    kc = sa_kubeconfig(kubectl, cluster, tmp_path, "default", "default")
    proc = kubectl.run("get", "nodes", kubeconfig=kc, check=False)
    assert proc.returncode == 1
    assert ('Error from server (Forbidden): nodes is forbidden: User "system:serviceaccount:default:default" '
            'cannot list resource "nodes" in API group "" at the cluster scope') in proc.stderr
    proc = kubectl.run("get", "secret", "x", "-n", "kube-system", kubeconfig=kc, check=False)
    assert ('secrets "x" is forbidden: User "system:serviceaccount:default:default" cannot get resource '
            '"secrets" in API group "" in the namespace "kube-system"') in proc.stderr


def test_wrong_ca(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    other = CertificateAuthority.create("someone-else")
    kc = cluster.kubeconfig_for_token(tmp_path / "wrongca.kubeconfig", "x", ca=other.cert_pem)
    proc = kubectl.run("get", "ns", kubeconfig=kc, check=False)
    assert proc.returncode == 1
    assert "x509: certificate signed by unknown authority" in proc.stderr


def test_serving_name_mismatch(kubectl: Kubectl, tmp_path: Path) -> None:
    with TestCluster(sans=["localhost", "127.0.0.2"]) as other:
        kc = other.admin_kubeconfig(tmp_path / "mismatch.kubeconfig")
        proc = kubectl.run("get", "ns", kubeconfig=kc, check=False)
    assert proc.returncode == 1
    assert "x509: certificate is valid for 127.0.0.2, not 127.0.0.1" in proc.stderr


def test_get_watch_sees_new_objects(kubectl: Kubectl, cluster: TestCluster) -> None:
    # The events are single-row Tables, as the apiserver sends them to `kubectl get -w`; --request-timeout
    # only bounds a watch that would otherwise never end.
    proc = subprocess.Popen([kubectl.binary, "--kubeconfig", str(kubectl.kubeconfig), "get", "cm", "-n", "default",
                             "-w", "--request-timeout=20s"], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={"HOME": str(kubectl.home)})
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]  # the header and the listed object
        cluster.seed([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late", "namespace": "default"}}])
        lines.append(proc.stdout.readline())  # the watch event
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert lines[0].split() == ["NAME", "DATA", "AGE"]
    assert [line.split()[:2] for line in lines[1:]] == [["kube-root-ca.crt", "1"], ["late", "0"]]


def test_rollout_status_waits_for_ready_pods(kubectl: Kubectl, cluster: TestCluster) -> None:
    kubectl.run("apply", "-f", str(MANIFEST))
    seeded = cluster.seed_yaml(DATA / "multus-pods.yml")
    pod = next(o for o in seeded if o["kind"] == "Pod")
    pod["status"]["conditions"][0]["status"] = "False"
    cluster.seed([pod])
    ds = ["rollout", "status", "ds/kube-multus-ds", "-n", "kube-system", "--timeout=15s"]
    proc = subprocess.Popen([kubectl.binary, "--kubeconfig", str(kubectl.kubeconfig), *ds], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"HOME": str(kubectl.home)})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # it waits, and says so
        assert first.startswith('Waiting for daemon set "kube-multus-ds" rollout to finish'), first
        assert proc.poll() is None, proc.communicate()
        pod["status"]["conditions"][0]["status"] = "True"
        cluster.seed([pod])
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert 'daemon set "kube-multus-ds" successfully rolled out' in out


def test_server_side_apply(kubectl: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    out = kubectl.run("apply", "--server-side", "-f", str(MANIFEST)).stdout
    assert out.count("serverside-applied") == 6, out
    kubectl.run("apply", "--server-side", "-f", str(write_edited_manifest(tmp_path / "edited.yml")))
    assert_edited_state(cluster)
    cm = tmp_path / "cm.yml"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: default\n"
                  "data:\n  a: '1'\n  b: '2'\n")
    assert "serverside-applied" in kubectl.run("apply", "--server-side", "-f", str(cm)).stdout
    cm.write_text(cm.read_text().replace("  b: '2'\n", ""))
    kubectl.run("apply", "--server-side", "-f", str(cm))
    stored = cluster.store.get("", "configmaps", "default", "ssa")
    assert stored is not None and stored["data"] == {"a": "1"}
    other = tmp_path / "other.yml"
    other.write_text(cm.read_text().replace("a: '1'", "a: 'x'"))
    proc = kubectl.run("apply", "--server-side", "--field-manager=other", "-f", str(other), check=False)
    assert proc.returncode == 1
    assert 'conflict with "kubectl"' in proc.stderr and ".data.a" in proc.stderr
    kubectl.run("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", str(other))
    stored = cluster.store.get("", "configmaps", "default", "ssa")
    assert stored is not None and stored["data"] == {"a": "x"}


def test_create_builtin_objects(kubectl: Kubectl, cluster: TestCluster) -> None:
    """kubectl >= 1.32 POSTs these as protobuf: the decoded objects must match what JSON would give."""
    kubectl.run("create", "namespace", "team")
    kubectl.run("create", "serviceaccount", "bot", "-n", "team")
    kubectl.run("create", "secret", "generic", "creds", "-n", "team", "--from-literal=user=admin",
                "--from-literal=empty=")
    kubectl.run("create", "configmap", "conf", "-n", "team", "--from-literal=a=1", "--from-literal=b=two")
    kubectl.run("label", "namespace", "team", "tier=test")
    ns = cluster.store.get("", "namespaces", None, "team")
    assert ns is not None and ns["metadata"]["labels"]["tier"] == "test"
    assert cluster.store.get("", "serviceaccounts", "team", "bot") is not None
    assert cluster.store.get("", "configmaps", "team", "kube-root-ca.crt") is not None
    secret = cluster.store.get("", "secrets", "team", "creds")
    assert secret is not None and secret["type"] == "Opaque"
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {"user": "admin", "empty": ""}
    conf = cluster.store.get("", "configmaps", "team", "conf")
    assert conf is not None and conf["data"] == {"a": "1", "b": "two"}
    refused = kubectl.run("delete", "namespace", "kube-system", check=False)
    assert 'namespaces "kube-system" is forbidden: this namespace may not be deleted' in refused.stderr
    assert "namespace \"team\" deleted" in kubectl.run("delete", "namespace", "team", "--wait=false").stdout
    assert cluster.store.get("", "secrets", "team", "creds") is None


def test_kubectl_under_injected_faults(kubectl_default: Kubectl, cluster: TestCluster) -> None:
    kubectl = kubectl_default
    faults = cluster.faults
    faults.burst(429, 2, retry_after=1, path_prefix="/api/v1/namespaces")
    start = time.monotonic()
    assert "kube-system" in kubectl.run("get", "ns").stdout  # client-go honours Retry-After and retries
    assert time.monotonic() - start >= 1.5
    faults.burst(500, 1, path_prefix="/api/v1/namespaces")
    proc = kubectl.run("get", "ns", check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("Error from server (InternalError): ")
    faults.reset(1, path_prefix="/api/v1/namespaces")
    assert "kube-system" in kubectl.run("get", "ns").stdout  # a reset GET is retried
    faults.latency(2, path_prefix="/api/v1/namespaces", count=1)
    proc = kubectl.run("get", "ns", check=False, request_timeout="1s")
    # Which of the two timers fires first (http.Client's or the request context's) is a race in kubectl.
    assert proc.returncode == 1 and proc.stderr.startswith("Unable to connect to the server: ")
    assert "Client.Timeout exceeded" in proc.stderr or "context deadline exceeded" in proc.stderr
