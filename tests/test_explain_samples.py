"""A second, independently written set of samples for `multusctl explain` (tests/test_explain.py has the
catalog's own): each message in six pasted shapes (plain, kubelet event, multus log line, wrapped `kubectl
describe pod`, CNI JSON, JSON in JSON), healthy text matching nothing, ordering, the CLI, secrets. Two sets
written apart catch what one author's patterns overfit to."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from multusctl.cli.group import cli
from multusctl.explain import explain

PREFIX = "Multus: [default/web-7d4b9c/0f3c2a1e-55aa-4bbb-9ccc-1234567890ab]: "
URL = '"https://10.43.0.1:443/api/v1/namespaces/default/pods/web-7d4b9c?timeout=1m0s"'

# id -> a message as the real Multus (or client-go, kubelet, the entrypoint) prints it.
SAMPLES: dict[str, str] = {
    "unauthorized": PREFIX + "error getting pod: Unauthorized",
    "x509-unknown-authority": PREFIX + f"error waiting for pod: Get {URL}: tls: failed to verify certificate: x509: "
    'certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying '
    'to verify candidate authority certificate "k3s-server-ca@1700000000")',
    "x509-name-mismatch": PREFIX + f"error waiting for pod: Get {URL}: tls: failed to verify certificate: x509: "
    "certificate is valid for 10.43.0.1, 127.0.0.1, ::1, not 192.168.1.20",
    "kubeconfig-not-found": "GetK8sClient: failed to get context for the kubeconfig /etc/cni/net.d/multus.d/"
    "multus.kubeconfig: stat /etc/cni/net.d/multus.d/multus.kubeconfig: no such file or directory",
    "kubeconfig-empty-server": "error loading config file \"/etc/cni/net.d/multus.d/multus.kubeconfig\": yaml: line "
    "6: mapping values are not allowed in this context",
    "kubeconfig-empty": "GetK8sClient: failed to get context for the kubeconfig /etc/cni/net.d/multus.d/multus."
    "kubeconfig: invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER",
    "kubeconfig-invalid": "GetK8sClient: failed to get context for the kubeconfig /etc/cni/net.d/multus.d/multus."
    'kubeconfig: context was not found for specified context: "multus"',
    "rbac-forbidden": PREFIX + 'error getting pod: pods "web-7d4b9c" is forbidden: User '
    '"system:serviceaccount:kube-system:multus" cannot get resource "pods" in API group "" in the namespace "default"',
    "plugin-not-found": '[default/web-7d4b9c/0f3c:macvlan-conf]: error adding container to network "macvlan-conf": '
    'failed to find plugin "macvlan" in path [/opt/cni/bin]',
    "nad-crd-missing": PREFIX + "error loading k8s delegates k8s args: TryLoadPodDelegates: error in getting k8s "
    "network for pod: GetNetworkDelegates: failed getting the delegate: getKubernetesDelegate: cannot find a "
    "network-attachment-definition (macvlan-conf) in namespace (default): the server could not find the requested "
    "resource",
    "nad-not-found": PREFIX + "error loading k8s delegates k8s args: TryLoadPodDelegates: error in getting k8s "
    "network for pod: GetNetworkDelegates: failed getting the delegate: getKubernetesDelegate: cannot find a "
    'network-attachment-definition (macvlan-conf) in namespace (default): network-attachment-definitions.'
    'k8s.cni.cncf.io "macvlan-conf" not found',
    "nad-config-invalid": PREFIX + "error loading k8s delegates k8s args: TryLoadPodDelegates: error in getting k8s "
    "network for pod: GetNetworkDelegates: failed getting the delegate: GetCNIConfig: err in getCNIConfigFromSpec: "
    "failed to unmarshal Spec.Config: unexpected end of JSON input",
    "namespace-isolation": "GetNetworkDelegates: namespace isolation enabled, annotation violates permission, pod is "
    "in namespace team-a but refers to target namespace team-b",
    "annotation-invalid": PREFIX + "error loading k8s delegates k8s args: parsePodNetworkAnnotation: failed to parse "
    "pod Network Attachment Selection Annotation JSON format: unexpected end of JSON input",
    "readiness-indicator-timeout": "have you checked that your default network is ready? still waiting for "
    "readinessindicatorfile @ /run/flannel/subnet.env. pollimmediate error: timed out waiting for the condition",
    "daemon-socket-refused": "CmdAdd (shim): CNI request failed with status 400: 'Post \"http://dummy/cni\": dial "
    "unix /run/multus/multus.sock: connect: connection refused'",
    "in-cluster-config-missing": "GetK8sClient: failed to get context for in-cluster kube config: open "
    "/var/run/secrets/kubernetes.io/serviceaccount/token: no such file or directory",
    "api-unreachable": PREFIX + f"error waiting for pod: Get {URL}: context deadline exceeded",
    "api-connect-refused": PREFIX + 'error waiting for pod: Get "https://127.0.0.1:6443/api/v1/namespaces/default/'
    'pods/web": dial tcp 127.0.0.1:6443: connect: connection refused',
    "api-tls-handshake-timeout": PREFIX + f"error getting pod: Get {URL}: net/http: TLS handshake timeout",
    "api-dns-failed": PREFIX + 'error waiting for pod: Get "https://kubernetes.default.svc:443/api/v1/namespaces/'
    'default/pods/web": dial tcp: lookup kubernetes.default.svc on 10.0.0.2:53: no such host',
    "api-throttled": PREFIX + "error waiting for pod: client rate limiter Wait returned an error: rate: Wait(n=1) "
    "would exceed context deadline",
    "token-expired-or-missing-file": "error loading config file: open /var/run/multus/token: no such file or directory",
    "cni-version-mismatch": "failed to create the multus config: Multus cni version is \"1.0.0\" while master plugin "
    "cni version is \"0.3.1\"",
    "multus-conf-empty": "error loading CNI config file /etc/cni/net.d/00-multus.conf: error parsing configuration: "
    "unexpected end of JSON input",
    "cni-not-initialized": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized",
    "no-master-cni-config": "failed to find the cluster master CNI plugin: cannot find valid master CNI config in "
    '"/host/etc/cni/net.d"',
    "entrypoint-dir-missing": "cni-bin-dir is not found: stat /host/opt/cni/bin: no such file or directory",
    "interface-exists": PREFIX + "error adding container to network: validateIfName: interface name net1 already "
    "exists",
    "sa-ca-missing": "failed to read the ServiceAccount CA: file /var/run/secrets/kubernetes.io/serviceaccount/ca.crt "
    "not found",
    "only-primary-network": "my pod only gets eth0, no net1 although the annotation names macvlan-conf",
    "multus-nested": '{"cniVersion":"1.0.0","name":"multus-cni-network","type":"multus","delegates":[{"cniVersion":'
    '"1.0.0","name":"multus-cni-network","type":"multus","delegates":[{"name":"cbr0"}]}]}',
}

NOT_MULTUS = [
    "Successfully assigned default/web-7d4b9c to node1",
    "Pulling image \"nginx:1.27\"",
    'Add eth0 [10.42.0.15/24] from cbr0',
    "2026-12-01T22:40:01Z [verbose] multus-daemon started",
    "Started container web",
]


def _kubelet_event(message: str) -> str:
    quoted = json.dumps(message)[1:-1]  # the CNI error is %q-quoted by containerd, then by the kubelet
    return ("  Warning  FailedCreatePodSandBox  3m (x12 over 10m)  kubelet  Failed to create pod sandbox: rpc error: "
            'code = Unknown desc = failed to setup network for sandbox "1c2d3e4f5a6b": plugin type="multus" '
            f'name="multus-cni-network" failed (add): {quoted}')


def _log_line(message: str) -> str:
    return f"2026-12-01T22:41:07.123456789+00:00 [error] {message}\n2026-12-01T22:41:08Z [verbose] retrying"


def _describe_wrapped(message: str) -> str:
    # `kubectl describe pod` through a narrow terminal: the event is broken over indented lines.
    body = textwrap.wrap(_kubelet_event(message).strip(), 70, break_long_words=False, break_on_hyphens=False)
    return "Events:\n  Type     Reason  Age  From  Message\n" + "\n".join("           " + line for line in body)


def _cni_json(message: str) -> str:
    return json.dumps({"cniVersion": "1.0.0", "code": 999, "msg": message, "details": ""})


NOISE = {"plain": lambda m: m, "kubelet": _kubelet_event, "log": _log_line, "describe": _describe_wrapped,
         "cni-json": _cni_json, "json-in-json": lambda m: json.dumps({"error": _cni_json(m)})}


@pytest.mark.parametrize("shape", sorted(NOISE))
@pytest.mark.parametrize("entry", sorted(SAMPLES))
def test_each_message_is_explained_in_every_shape_it_is_pasted_in(entry: str, shape: str) -> None:
    text = NOISE[shape](SAMPLES[entry])
    got = [m.id for m in explain(text)]
    assert got and got[0] == entry, (got, text)


@pytest.mark.parametrize("text", NOT_MULTUS)
def test_healthy_text_matches_nothing(text: str) -> None:
    assert explain(text) == []


def test_the_crd_reading_comes_before_the_missing_nad_one() -> None:
    assert next(m.id for m in explain(SAMPLES["nad-crd-missing"])) == "nad-crd-missing"


def test_several_failures_come_most_specific_first() -> None:
    text = SAMPLES["api-unreachable"] + "\n" + SAMPLES["x509-unknown-authority"]
    assert [m.id for m in explain(text)][:2] == ["x509-unknown-authority", "api-unreachable"]


def test_the_excerpt_is_one_line_and_never_shows_a_token() -> None:
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl"
    (m,) = explain(f"Authorization: Bearer {token}\n{SAMPLES['unauthorized']} (token {token})")
    assert "\n" not in m.excerpt and token not in m.excerpt and "eyJ" not in m.excerpt


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, ["explain", *args], input=stdin)
    return res.exit_code, res.stdout, res.stderr


def test_cli_reads_stdin_and_prints_json() -> None:
    code, out, _ = run("-o", "json", "-", stdin=_describe_wrapped(SAMPLES["plugin-not-found"]))
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "multusctl.explain/v1" and doc["truncated"] is False
    assert doc["matches"][0]["id"] == "plugin-not-found"
    assert doc["matches"][0]["causes"][0]["check"] == "plugin-missing"


def test_cli_says_plainly_when_nothing_matches() -> None:
    code, out, _ = run("Started container web")
    assert code == 1 and out.startswith("No known Multus failure matches this text.")
    code, out, _ = run("-o", "json", "Started container web")
    assert code == 1 and json.loads(out)["matches"] == []


def test_cli_never_echoes_secrets() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.sig-nature_value"
    for fmt in ("text", "json"):
        code, out, err = run("-o", fmt, f"{SAMPLES['unauthorized']} Authorization: Bearer abc.def.{token}")
        assert code == 0 and token not in out + err and "abc.def" not in out + err
