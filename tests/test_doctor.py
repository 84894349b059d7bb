"""`multusctl doctor` against the test cluster: what an operator sees for a healthy cluster, for the cluster-side
faults (DaemonSet, logs, NADs, CRD, thick identity, daemon socket) and for bad usage. The network and credential
faults, made for real, are in tests/test_doctor_faults.py."""

from __future__ import annotations

import json
import os
import pty
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from multusctl.cli.group import cli
from multusctl.testing import TestCluster

MULTUS_ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "multus"},
    "rules": [{"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
              {"apiGroups": [""], "resources": ["pods", "pods/status"], "verbs": ["get", "list", "update", "watch"]},
              {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]}]}


def binding(name: str = "multus", namespace: str = "kube-system") -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "multus"},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]}


def account(name: str = "multus", namespace: str = "kube-system") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}


NAD_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "network-attachment-definitions.k8s.cni.cncf.io"},
    "spec": {"group": "k8s.cni.cncf.io", "scope": "Namespaced",
             "names": {"plural": "network-attachment-definitions", "singular": "network-attachment-definition",
                       "kind": "NetworkAttachmentDefinition", "shortNames": ["net-attach-def", "nad"]},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]}}


def nad(name: str, config: str, namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"config": config}}


def daemonset(command: list[str] | None = None, account_name: str = "multus") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "kube-multus-ds", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app": "multus"}},
                     "template": {"metadata": {"labels": {"app": "multus"}},
                                  "spec": {"serviceAccountName": account_name, "containers": [
                                      {"name": "kube-multus", "image": "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.0",
                                       "command": command or ["/thin_entrypoint"]}]}}}}


def node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}}


def pod(name: str, node_name: str, *, ready: bool = True, waiting: str | None = None,
        oom: bool = False) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "kube-multus", "ready": ready, "restartCount": 7 if oom else 0,
                                 "state": {"waiting": {"reason": waiting}} if waiting else {"running": {}}}
    status: dict[str, Any] = {"phase": "Running", "containerStatuses": [container],
                              "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if oom:
        status["containerStatuses"][0]["lastState"] = {"terminated": {"reason": "OOMKilled", "exitCode": 137}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "kube-system", "labels": {"app": "multus"}},
            "spec": {"nodeName": node_name, "containers": [{"name": "kube-multus", "image": "multus"}]},
            "status": status}


@pytest.fixture
def multus_kc(cluster: TestCluster, tmp_path: Path) -> Path:
    """A least-privilege multus ServiceAccount kubeconfig (the upstream ClusterRole, FACTS.md §3)."""
    cluster.seed([account(), MULTUS_ROLE, binding()])
    return cluster.kubeconfig_for_token(tmp_path / "multus.kubeconfig", cluster.create_token("kube-system", "multus"))


@pytest.fixture
def empty_root(tmp_path: Path) -> Path:
    root = tmp_path / "noroot"
    root.mkdir()
    return root


def doctor(*args: str) -> tuple[int, dict[str, Any] | str, str]:
    res = CliRunner().invoke(cli, ["doctor", *args], catch_exceptions=False)
    out: dict[str, Any] | str = res.stdout
    if "-o" in args and args[args.index("-o") + 1] == "json" and res.exit_code != 2:
        out = json.loads(res.stdout)
    return res.exit_code, out, res.stderr


def ids(doc: Any) -> list[str]:
    return [f["id"] for f in doc["findings"]]


def steps(doc: Any) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["steps"]}


def healthy(cluster: TestCluster) -> None:
    cluster.seed([NAD_CRD, node("node1"), node("node2"), daemonset(), pod("multus-a", "node1"),
                  pod("multus-b", "node2")])
    cluster.seed([nad("macvlan-conf", json.dumps({"cniVersion": "0.3.1", "type": "macvlan", "master": "eth0",
                                                  "ipam": {"type": "host-local", "subnet": "10.10.0.0/16"}}))])


def test_a_healthy_cluster_passes_every_link_and_says_how_long_each_took(
        cluster: TestCluster, admin: Path, multus_kc: Path, empty_root: Path) -> None:
    healthy(cluster)
    code, doc, err = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc),
                            "--kubeconfig", str(admin), "-o", "json")
    assert code == 0, (doc, err)
    assert ids(doc) == []
    got = steps(doc)
    for name in ("kubeconfig", "dns", "tcp", "tls", "auth", "rbac", "latency", "nad-crd", "admin", "nads",
                 "daemonset", "logs"):
        assert got[name]["status"] == "ok", got[name]
        assert got[name]["duration_ms"] >= 0
    assert "system:serviceaccount:kube-system:multus" in got["auth"]["detail"]
    assert got["nads"]["detail"].startswith("1 NetworkAttachmentDefinition")
    assert got["daemon-socket"]["status"] == "skipped"


def test_text_report_lists_each_step_then_the_verdict(cluster: TestCluster, admin: Path, multus_kc: Path,
                                                      empty_root: Path) -> None:
    healthy(cluster)
    code, out, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin))
    assert code == 0
    lines = str(out).splitlines()
    assert lines[0].startswith("multusctl doctor:")
    assert any(line.strip().startswith("[ ok ] TLS") and "certificate verified" in line for line in lines)
    assert "no problems found" in str(out)


def test_without_admin_the_cluster_wide_reads_say_what_they_skipped(cluster: TestCluster, multus_kc: Path,
                                                                     empty_root: Path) -> None:
    cluster.seed([NAD_CRD])
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "-o", "json")
    assert code == 0, doc
    got = steps(doc)
    for name in ("daemonset", "logs", "daemon-identity"):
        assert got[name]["status"] == "skipped" and "--kubeconfig ADMIN" in got[name]["detail"]
    # multus's own identity may list NADs (the upstream role grants k8s.cni.cncf.io *): read with it.
    assert got["nads"]["status"] == "ok"


def test_a_missing_nad_crd_is_named(cluster: TestCluster, admin: Path, multus_kc: Path, empty_root: Path) -> None:
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                          "-o", "json")
    assert code == 1
    assert "nad-crd-missing" in ids(doc)
    assert steps(doc)["nads"]["status"] == "skipped"


@pytest.mark.parametrize(("config", "field", "words"), [
    ("{not json", "spec.config", "not valid JSON"),
    ('{"cniVersion": "0.3.1", "name": "x"}', "spec.config.type", "no plugin `type`"),
    ('{"cniVersion": "0.3.1", "plugins": []}', "spec.config.plugins", "non-empty list"),
    ('{"cniVersion": "9.9.9", "type": "bridge"}', "spec.config.cniVersion", "not one libcni knows"),
    ('{"cniVersion": "1.0.0", "plugins": [{"type": "bridge", "ipam": {"subnet": "10.1.0.0/16"}}]}',
     "spec.config.plugins[0].ipam.type", "no `type`"),
    ('["bridge"]', "spec.config", "not an object"),
])
def test_an_invalid_nad_config_is_named_with_its_json_path(
        cluster: TestCluster, admin: Path, multus_kc: Path, empty_root: Path, config: str, field: str,
        words: str) -> None:
    healthy(cluster)
    cluster.seed([nad("broken", config, namespace="team-a"), nad("from-file", "")])
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                          "-o", "json")
    assert code == 1
    bad = [f for f in doc["findings"] if f["id"] == "nad-config-invalid"]
    assert [(f["path"], f["field"]) for f in bad] == [("team-a/broken", field)], bad
    assert words in bad[0]["message"]


def test_an_unhealthy_daemonset_names_the_crashing_and_oomkilled_pods(
        cluster: TestCluster, admin: Path, multus_kc: Path, empty_root: Path) -> None:
    cluster.seed([NAD_CRD, node("node1"), node("node2"), node("node3"), daemonset(), pod("multus-a", "node1"),
                  pod("multus-b", "node2", ready=False, waiting="CrashLoopBackOff", oom=True),
                  pod("multus-c", "node3", ready=False, waiting="ImagePullBackOff")])
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                          "-o", "json")
    assert code == 1
    (f,) = [f for f in doc["findings"] if f["id"] == "daemonset-unhealthy"]
    assert f["path"] == "kube-system/kube-multus-ds"
    assert "1 of 3 pods ready" in f["message"]
    assert "multus-b" in f["message"] and "OOMKilled" in f["message"]
    assert "multus-c" in f["message"] and "ImagePullBackOff" in f["message"]
    assert "100Mi" in f["fix"]
    assert f["evidence"]["ready"] == 1 and f["evidence"]["desired"] == 3


def test_no_multus_daemonset_on_a_cluster_without_multus(cluster: TestCluster, admin: Path, multus_kc: Path,
                                                         empty_root: Path) -> None:
    cluster.seed([NAD_CRD])
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                          "-o", "json")
    assert code == 1 and "daemonset-unhealthy" in ids(doc)
    assert steps(doc)["logs"]["detail"] == "skipped: no multus pods"


def test_known_failures_in_multus_pod_logs_are_named_with_their_explain_entry(
        cluster: TestCluster, admin: Path, multus_kc: Path, empty_root: Path) -> None:
    healthy(cluster)
    cluster.set_pod_log("kube-system", "multus-b", "2026-12-01T22:40:01Z [verbose] multus-daemon started\n"
                        "2026-12-01T22:41:07Z [error] GetK8sClient: failed to get context for the kubeconfig "
                        "/etc/cni/net.d/multus.d/multus.kubeconfig: error loading config file: open "
                        "/etc/cni/net.d/multus.d/multus.kubeconfig: no such file or directory\n")
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                          "-o", "json")
    logged = [f for f in doc["findings"] if f["id"] == "multus-log-error"]
    assert [f["path"] for f in logged] == ["kube-system/multus-b"], doc["findings"]
    assert logged[0]["evidence"]["explain"] == "kubeconfig-not-found"
    assert code == (1 if logged[0]["severity"] == "error" else 0)


def test_thick_daemon_identity_is_its_service_account_and_its_rbac(
        cluster: TestCluster, admin: Path, multus_kc: Path, empty_root: Path) -> None:
    cluster.seed([NAD_CRD, node("node1"), daemonset(["/usr/src/multus-cni/bin/multus-daemon"],
                                                    account_name="multus-thick"),
                  pod("multus-a", "node1"), account("multus-thick")])
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                          "-o", "json")
    assert code == 1
    denied = [f for f in doc["findings"] if f["id"] == "rbac-missing"]
    assert {f["evidence"]["identity"] for f in denied} == {"system:serviceaccount:kube-system:multus-thick"}
    assert {(f["evidence"]["verb"], f["evidence"]["resource"]) for f in denied} >= {
        ("get", "pods"), ("list", "pods"), ("watch", "pods"), ("update", "pods"),
        ("list", "network-attachment-definitions")}
    assert steps(doc)["daemon-identity"]["status"] == "ok"
    # With its binding, the same daemon is fine.
    cluster.seed([binding("multus-thick")])
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                          "-o", "json")
    assert "rbac-missing" not in ids(doc), doc["findings"]


def test_a_thick_daemon_service_account_that_is_gone(cluster: TestCluster, admin: Path, multus_kc: Path,
                                                      empty_root: Path) -> None:
    cluster.seed([NAD_CRD, node("node1"), daemonset(["multus-daemon"], account_name="gone"), pod("multus-a", "node1")])
    _, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                       "-o", "json")
    (f,) = [f for f in doc["findings"] if f["id"] == "rbac-missing"]
    assert "kube-system/gone does not exist" in f["message"]


def test_the_multus_token_never_reaches_the_output(cluster: TestCluster, admin: Path, multus_kc: Path,
                                                   empty_root: Path) -> None:
    token = cluster.create_token("kube-system", "multus")
    kc = cluster.kubeconfig_for_token(multus_kc.parent / "t.kubeconfig", token)
    cluster.seed([NAD_CRD, nad("leaky", "{" + token)])  # a broken NAD that quotes the token
    for fmt in ("text", "json", "sarif", "junit"):
        res = CliRunner().invoke(cli, ["doctor", "--root", str(empty_root), "--multus-kubeconfig", str(kc),
                                       "--kubeconfig", str(admin), "-o", fmt, "-v"])
        assert token not in res.stdout + res.stderr
        assert token[:40] not in res.stdout + res.stderr


@pytest.mark.parametrize(("args", "words"), [
    ([], "nothing else to test"),
    (["--multus-kubeconfig", "/nonexistent/kc"], "--multus-kubeconfig: /nonexistent/kc: no such file"),
    (["--multus-kubeconfig", "KC", "--timeout", "soon"], "not a duration"),
    (["--multus-kubeconfig", "KC", "--timeout", "0s"], "outside"),
    (["--multus-kubeconfig", "KC", "--from-netns", "mctl-does-not-exist"], "no network namespace mctl-does-not-exist"),
])
def test_bad_usage_is_one_line_and_exit_2(multus_kc: Path, empty_root: Path, args: list[str], words: str) -> None:
    args = [str(multus_kc) if a == "KC" else a for a in args]
    code, out, err = doctor("--root", str(empty_root), *args)
    assert code == 2, (out, err)
    assert words in err
    assert "Traceback" not in err and out == ""


def test_the_node_names_the_kubeconfig_multus_uses(cluster: TestCluster, root: Path, tmp_path: Path) -> None:
    """Without --multus-kubeconfig, the chain runs with the file the node's multus config names (the example k3s
    agent's copied k3s.yaml, server https://127.0.0.1:6443), and the offline node findings come along."""
    code, doc, _ = doctor("--root", str(root), "--timeout", "1s", "-o", "json")
    assert code == 1
    got = steps(doc)
    assert got["kubeconfig"]["status"] == "ok"
    assert "/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig" in got["kubeconfig"]["detail"]
    assert "kubeconfig-admin-credentials" in ids(doc)  # a node check, from the same run
    assert got["tcp"]["status"] in ("ok", "failed")


netns_reason = None if os.geteuid() == 0 and shutil.which("ip") else "needs root and ip for a network namespace"


@pytest.fixture
def lonely_netns() -> Iterator[str]:
    """A network namespace with only its loopback up: 127.0.0.1 there is not the host's."""
    name = f"mctl-dr-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.mark.skipif(netns_reason is not None, reason=netns_reason or "")
def test_from_netns_runs_the_network_steps_inside_the_namespace(
        cluster: TestCluster, admin: Path, multus_kc: Path, empty_root: Path, lonely_netns: str) -> None:
    healthy(cluster)
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--kubeconfig", str(admin),
                          "--from-netns", lonely_netns, "-o", "json")
    assert code == 1
    assert ids(doc) == ["api-connect-refused"]  # the namespace's own 127.0.0.1 has no API server
    got = steps(doc)
    assert got["tls"]["status"] == "skipped" and "TCP connect failed" in got["tls"]["detail"]
    assert got["daemonset"]["status"] == "ok"  # the admin reads stay in the host's namespace


def test_a_thick_node_whose_daemon_socket_refuses(cluster: TestCluster, multus_kc: Path, tmp_path: Path) -> None:
    root = tmp_path / "thick"
    net_d = root / "etc/cni/net.d"
    net_d.mkdir(parents=True)
    (root / "opt/cni/bin").mkdir(parents=True)
    (net_d / "00-multus.conf").write_text(json.dumps(
        {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus-shim", "logLevel": "verbose"}))
    (net_d / "10-flannel.conflist").write_text(json.dumps(
        {"cniVersion": "0.3.1", "name": "cbr0", "plugins": [{"type": "flannel"}]}))
    sock_dir = root / "run/multus"
    sock_dir.mkdir(parents=True)
    dir_fd = os.open(sock_dir, os.O_PATH)  # tmp_path can be longer than a unix socket address allows
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(f"/proc/self/fd/{dir_fd}/multus.sock")
    os.close(dir_fd)
    listener.listen(1)
    code, doc, _ = doctor("--root", str(root), "--multus-kubeconfig", str(multus_kc), "-o", "json")
    assert steps(doc)["daemon-socket"]["status"] == "ok", steps(doc)["daemon-socket"]
    assert "daemon-socket-unreachable" not in ids(doc)
    listener.close()  # the file stays, nobody listens: what a dead daemon leaves
    code, doc, _ = doctor("--root", str(root), "--multus-kubeconfig", str(multus_kc), "-o", "json")
    assert code == 1
    (f,) = [f for f in doc["findings"] if f["id"] == "daemon-socket-unreachable"]
    assert f["path"] == "/run/multus/multus.sock" and "connection refused" in f["message"]


def test_on_a_terminal_each_step_prints_a_progress_line_and_json_stays_clean(
        cluster: TestCluster, multus_kc: Path, empty_root: Path) -> None:
    cluster.seed([NAD_CRD])
    for fmt, expect_progress in (("text", True), ("json", False)):
        master, slave = pty.openpty()
        proc = subprocess.run([sys.executable, "-m", "multusctl", "doctor", "--root", str(empty_root),
                               "--multus-kubeconfig", str(multus_kc), "-o", fmt],
                              stdout=subprocess.PIPE, stderr=slave, timeout=60, check=False)
        os.close(slave)
        progress = b""
        try:
            while chunk := os.read(master, 65536):
                progress += chunk
        except OSError:
            pass
        os.close(master)
        text = progress.decode()
        assert ("[ ok ] TCP connect" in text) is expect_progress, text
        if fmt == "json":
            assert json.loads(proc.stdout)["steps"]


def test_a_server_without_selfsubjectreview_still_tells_whether_the_credentials_authenticate(
        cluster: TestCluster, multus_kc: Path, empty_root: Path) -> None:
    """Before Kubernetes 1.27/1.28 there is no SelfSubjectReview: doctor falls back on an access review."""
    cluster.seed([NAD_CRD])
    cluster.faults.burst(404, 2, path_prefix="/apis/authentication.k8s.io/")
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "-o", "json")
    assert code == 0, doc
    assert "identity not known" in steps(doc)["auth"]["detail"]
    assert "api-identity-unexpected" not in ids(doc)


def test_an_api_server_that_stops_answering_after_the_handshake(cluster: TestCluster, multus_kc: Path,
                                                                 empty_root: Path) -> None:
    cluster.seed([NAD_CRD])
    cluster.faults.latency(3.0, "/apis/authorization.k8s.io/", count=5)
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "--timeout", "500ms",
                          "-o", "json")
    assert code == 1
    (f,) = [f for f in doc["findings"] if f["id"] == "api-request-failed"]
    assert "no answer within 0.5 s" in f["message"]
    got = steps(doc)
    assert got["rbac"]["status"] == "failed" and got["nad-crd"]["status"] == "skipped"


def test_an_api_server_error_is_a_failed_request_not_a_crash(cluster: TestCluster, multus_kc: Path,
                                                             empty_root: Path) -> None:
    cluster.faults.burst(503, 10, path_prefix="/apis/authorization.k8s.io/")
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(multus_kc), "-o", "json")
    assert code == 1
    assert "api-request-failed" in ids(doc)
    assert "503" in steps(doc)["rbac"]["detail"]


def test_a_refused_127_0_0_1_6443_is_the_k3s_agent_case_and_kubeconfig_create_fixes_it() -> None:
    """Pure check over a probe (a live 6443 on this machine would make the real run flaky)."""
    from multusctl.checks.cluster_api import api_connect_refused
    from multusctl.doctor.endpoint import Endpoint
    from multusctl.doctor.probe import ClusterProbe, Step

    def probe(host: str, port: int) -> ClusterProbe:
        p = ClusterProbe(mode="thin", endpoint=Endpoint("kc", f"https://{host}:{port}", host, port, True, host, None,
                                                        False))
        p.steps["tcp"] = Step("tcp", "failed", 0.2, f"{host}:{port} refused the connection", {"kind": "refused"})
        return p

    (hit,) = api_connect_refused(probe("127.0.0.1", 6443))
    assert "127.0.0.1:6444" in hit.message and hit.evidence["fixed_by"] == "multusctl kubeconfig create"
    (hit,) = api_connect_refused(probe("192.0.2.10", 8443))
    assert "6444" not in hit.message and "fixed_by" not in hit.evidence


@pytest.mark.skipif(netns_reason is not None, reason=netns_reason or "")
def test_a_name_that_does_not_resolve_and_an_address_without_a_route(
        cluster: TestCluster, multus_kc: Path, empty_root: Path, lonely_netns: str, tmp_path: Path) -> None:
    """Inside a namespace with only a loopback, the resolver's server and any other address have no route: real
    failures, and no packet leaves the machine."""
    token = cluster.create_token("kube-system", "multus")
    named = cluster.kubeconfig_for_token(tmp_path / "named.kc", token, server="https://api.example.invalid:6443")
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(named), "--from-netns", lonely_netns,
                          "--timeout", "1s", "-o", "json")
    assert code == 1 and ids(doc) == ["api-dns-failed"], doc["findings"]
    assert steps(doc)["tcp"]["detail"] == "skipped: DNS failed"
    routeless = cluster.kubeconfig_for_token(tmp_path / "ip.kc", token, server="https://203.0.113.7:6443")
    code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(routeless), "--from-netns",
                          lonely_netns, "-o", "json")
    assert code == 1 and ids(doc) == ["api-no-route"], doc["findings"]
    assert "network is unreachable" in steps(doc)["tcp"]["detail"]


def test_a_port_that_does_not_speak_tls(cluster: TestCluster, empty_root: Path, tmp_path: Path) -> None:
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kc = cluster.kubeconfig_for_token(tmp_path / "plain.kc", "x", server=f"https://127.0.0.1:{server.server_port}")
        code, doc, _ = doctor("--root", str(empty_root), "--multus-kubeconfig", str(kc), "-o", "json")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1 and ids(doc) == ["api-tls-failed"], doc["findings"]
