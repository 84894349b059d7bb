"""`multusctl explain`: the catalog (data/explain.toml), the matching under noise, and the verb.

A row per message: adding a message is an entry in data/explain.toml and a row in SAMPLES (the text as the
upstream source prints it; where it is printed is said in the comment). Every row is also tried under the
noise users paste around it (NOISES: a kubelet event, multus log lines, a wrapped `kubectl describe pod`
excerpt, a CNI error object escaped twice).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from multusctl import catalog as checks
from multusctl.explain import MAX_INPUT, CatalogError, Cause, Match, explain, load
from multusctl.explain import catalog as ecat
from multusctl.explain.markdown import update
from multusctl.explain.normalize import variants

REPO = Path(__file__).resolve().parents[1]
UID = "6f1c2a3b-9d8e-4f70-a1b2-c3d4e5f60718"
SA = "system:serviceaccount:kube-system:multus"
POD = f"[default/web-7d9f8b6c5-x2x9z/{UID}"
JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IkJ4c1MifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVt"
       "OnNlcnZpY2VhY2NvdW50Omt1YmUtc3lzdGVtOm11bHR1cyJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1ub3QtYS1yZWFsLW9uZQ")


@dataclass(frozen=True)
class Sample:
    """One message as users meet it -> the entry id that must match; `first`: it must be the best match."""

    id: str
    text: str
    first: bool = True


SAMPLES: tuple[Sample, ...] = (
    # pkg/multus/multus.go GetPod (v3.9+: "error waiting for pod", v3.7: "error getting pod")
    Sample("unauthorized", f"{POD}]: error waiting for pod: Unauthorized"),
    Sample("unauthorized", f"{POD}]: error getting pod: Unauthorized"),
    Sample("unauthorized", "error: You must be logged in to the server (Unauthorized)"),
    # client-go tokenFile; kube-apiserver authentication log
    Sample("token-expired-or-missing-file", 'error getting k8s client: failed to read token file '
           '"/var/run/secrets/kubernetes.io/serviceaccount/token": open /var/run/secrets/kubernetes.io/'
           'serviceaccount/token: no such file or directory'),
    Sample("token-expired-or-missing-file", 'E1201 22:40:01.123456 1 authentication.go:73] "Unable to authenticate '
           'the request" err="[invalid bearer token, service account token has expired]"'),
    # Go crypto/x509 through client-go
    Sample("x509-unknown-authority", f'{POD}]: error waiting for pod: Get "https://10.43.0.1:443/api/v1/namespaces/'
           'default/pods/web": tls: failed to verify certificate: x509: certificate signed by unknown authority'),
    Sample("x509-name-mismatch", 'Get "https://192.168.1.10:6443/api/v1/namespaces/default/pods/web": tls: failed '
           'to verify certificate: x509: certificate is valid for 10.43.0.1, 127.0.0.1, 192.168.1.5, ::1, not '
           '192.168.1.10'),
    Sample("x509-name-mismatch", "x509: cannot validate certificate for 10.0.0.5 because it doesn't contain any "
           "IP SANs"),
    Sample("x509-expired", 'Get "https://10.43.0.1:443/version": tls: failed to verify certificate: x509: '
           'certificate has expired or is not yet valid: current time 2026-12-01T22:40:01Z is after '
           '2026-11-30T10:00:00Z'),
    # pkg/k8sclient/kubeconfig.go GetK8sClient + clientcmd's explicit path
    Sample("kubeconfig-not-found", "Multus: error getting k8s client: GetK8sClient: failed to get context for the "
           "kubeconfig /etc/cni/net.d/multus.d/multus.kubeconfig: stat /etc/cni/net.d/multus.d/multus.kubeconfig: "
           "no such file or directory"),
    Sample("kubeconfig-empty-server", "error getting k8s client: GetK8sClient: failed to get context for the "
           "kubeconfig /etc/cni/net.d/multus.d/multus.kubeconfig: error loading config file \"/etc/cni/net.d/"
           "multus.d/multus.kubeconfig\": yaml: line 6: mapping values are not allowed in this context"),
    Sample("kubeconfig-empty-server", "error getting k8s client: host must be a URL or a host:port pair: "
           '"https://[10.43.0.1]:443"'),
    Sample("kubeconfig-empty", "error getting k8s client: GetK8sClient: failed to get context for the kubeconfig "
           "/etc/cni/net.d/multus.d/multus.kubeconfig: invalid configuration: no configuration has been provided"),
    # pkg/k8sclient GetDefaultNetworks / TryLoadPodDelegates
    Sample("kubeconfig-unset", f"{POD}]: failed to get clusterNetwork/defaultNetworks: GetDefaultNetworks: must "
           "have either Kubernetes config or delegates"),
    # apiserver 403 through client-go
    Sample("rbac-forbidden", f'{POD}]: error waiting for pod: pods "web" is forbidden: User "{SA}" cannot get '
           'resource "pods" in API group "" in the namespace "default"'),
    Sample("rbac-forbidden", 'SetNetworkStatus: failed to update the pod web in out of cluster comm: pods "web" is '
           f'forbidden: User "{SA}" cannot update resource "pods/status" in API group "" in the namespace "default"'),
    # libcni invoke/find.go through pkg/multus cmdPluginErr
    Sample("plugin-not-found", f'{POD}:macvlan-conf]: error adding container to network "macvlan-conf": failed to '
           'find plugin "macvlan" in path [/opt/cni/bin]'),
    # pkg/k8sclient getKubernetesDelegate (also the NoNetworkFound event)
    Sample("nad-not-found", "GetNetworkDelegates: failed getting the delegate: getKubernetesDelegate: cannot find a "
           "network-attachment-definition (macvlan-conf) in namespace (default): network-attachment-definitions."
           'k8s.cni.cncf.io "macvlan-conf" not found'),
    Sample("nad-crd-missing", "getKubernetesDelegate: cannot find a network-attachment-definition (macvlan-conf) in "
           "namespace (default): the server could not find the requested resource (get "
           "network-attachment-definitions.k8s.cni.cncf.io macvlan-conf)"),
    Sample("nad-crd-missing", 'error: resource mapping not found for name: "macvlan-conf" namespace: "" from '
           '"nad.yaml": no matches for kind "NetworkAttachmentDefinition" in version "k8s.cni.cncf.io/v1"'),
    Sample("namespace-isolation", f"{POD}]: error loading k8s delegates k8s args: GetNetworkDelegates: namespace "
           "isolation enabled, annotation violates permission, pod is in namespace default but refers to target "
           "namespace kube-system"),
    Sample("annotation-invalid", f"{POD}]: error loading k8s delegates k8s args: TryLoadPodDelegates: error in "
           "getting k8s network for pod: GetNetworkDelegates: failed getting the delegate: parsePodNetworkAnnotation: "
           "failed to parse pod Network Attachment Selection Annotation JSON format: invalid character 'm' looking "
           "for beginning of value"),
    Sample("annotation-invalid", "parsePodNetworkObjectName: Failed to parse: one or more items did not match "
           "comma-delimited format (must consist of lower case alphanumeric characters). Must start and end with an "
           "alphanumeric character), mismatch @ 'Macvlan_Conf'"),
    # pkg/multus CmdAdd, cmd/multus-daemon main.go; v3.7's older text
    Sample("readiness-indicator-timeout", f"{POD}]: have you checked that your default network is ready? still "
           "waiting for readinessindicatorfile @ /run/flannel/subnet.env. pollimmediate error: timed out waiting "
           "for the condition"),
    Sample("readiness-indicator-timeout", f"{POD}]: PollImmediate error waiting for ReadinessIndicatorFile: timed "
           "out waiting for the condition"),
    # pkg/server/api shim.go + api.go
    Sample("daemon-socket-refused", 'CmdAdd (shim): failed to send CNI request: Post "http://dummy/cni": dial unix '
           "/run/multus/multus.sock: connect: connection refused"),
    Sample("daemon-socket-refused", 'CmdAdd (shim): failed to send CNI request: Post "http://dummy/cni": dial unix '
           "/run/multus/multus.sock: connect: no such file or directory"),
    Sample("daemon-oom-killed", "Containers:\n  kube-multus:\n    Container ID:  containerd://0c1d2e3f\n    Image: "
           "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.0-thick\n    State:  Running\n    Last State:  Terminated\n"
           "      Reason:  OOMKilled\n      Exit Code:  137"),
    Sample("daemon-oom-killed", "Warning  BackOff  2m (x40 over 12m)  kubelet  Back-off restarting failed container "
           "kube-multus in pod kube-multus-ds-4xk2p_kube-system(0c1d2e3f)"),
    Sample("in-cluster-config-missing", "error getting k8s client: GetK8sClient: failed to get context for in-cluster "
           "kube config: open /var/run/secrets/kubernetes.io/serviceaccount/token: no such file or directory"),
    Sample("in-cluster-config-missing", "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
           "KUBERNETES_SERVICE_PORT must be defined"),
    # cmd/thin_entrypoint getFileAndHash at start-up
    Sample("sa-ca-missing", "failed to create multus kubeconfig: file /var/run/secrets/kubernetes.io/serviceaccount/"
           "ca.crt not found: stat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt: no such file or directory"),
    Sample("api-unreachable", f'{POD}]: error waiting for pod: Get "https://10.43.0.1:443/api/v1/namespaces/default/'
           'pods/web?timeout=1m0s": dial tcp 10.43.0.1:443: i/o timeout'),
    Sample("api-unreachable", f"{POD}]: error waiting for pod: context deadline exceeded"),
    Sample("api-unreachable", 'Get "https://[fd00:10:43::1]:443/api/v1/namespaces/default/pods/web": dial tcp '
           "[fd00:10:43::1]:443: connect: no route to host"),
    Sample("api-connect-refused", 'Get "https://127.0.0.1:6443/api/v1/namespaces/default/pods/web": dial tcp '
           "127.0.0.1:6443: connect: connection refused"),
    Sample("api-tls-handshake-timeout", 'Get "https://10.43.0.1:443/api/v1/namespaces/default/pods/web": '
           "net/http: TLS handshake timeout"),
    Sample("api-dns-failed", 'Get "https://kubernetes.default.svc:443/api/v1/namespaces/default/pods/web": dial '
           "tcp: lookup kubernetes.default.svc on 10.43.0.10:53: no such host"),
    Sample("api-dns-failed", 'Get "https://api.example.internal:6443/version": dial tcp: lookup api.example.internal '
           "on 127.0.0.53:53: read udp 127.0.0.1:40222->127.0.0.53:53: i/o timeout"),
    Sample("api-throttled", f'{POD}]: error waiting for pod: Get "https://10.43.0.1:443/api/v1/namespaces/default/'
           'pods/web": client rate limiter Wait returned an error: context deadline exceeded'),
    Sample("api-slow", 'Get "https://10.43.0.1:443/api/v1/namespaces/default/pods/web": net/http: request canceled '
           "while waiting for connection (Client.Timeout exceeded while awaiting headers)"),
    # client-go rest/request.go throttling, as the client-go vendored in multus v4.3.0 logs it (structured)
    Sample("api-throttled", 'I1201 22:40:01.123456 1 request.go:700] "Waited before sending request" delay="1.19s" '
           'reason="client-side throttling, not priority and fairness" verb="GET" URL="https://10.43.0.1:443/api"'),
    # pkg/server/config manager.go (thick daemon start-up), cmd/thin_entrypoint, libcni
    Sample("cni-version-mismatch", "failed to create the configuration manager for the primary CNI plugin: failed to "
           "load the primary CNI configuration as a multus delegate with error 'delegate cni version is 0.3.1 while "
           "top level cni version is 1.0.0'"),
    Sample("cni-version-mismatch", 'failed to create multus config: Multus cni version is "0.3.1" while master '
           'plugin cni version is "1.0.0"'),
    Sample("cni-version-mismatch", 'plugin type="multus" name="multus-cni-network" failed (add): unsupported CNI '
           'result version "1.0.0"'),
    Sample("multus-conf-empty", "2026-12-01T22:40:01Z [error] failed to read the primary CNI plugin config from "
           "/host/etc/cni/net.d/10-flannel.conflist"),
    Sample("multus-conf-empty", "2026-12-01T22:40:01Z [verbose] Generated MultusCNI config: \n"
           "2026-12-01T22:40:01Z [verbose] started to watch file /host/etc/cni/net.d/10-flannel.conflist"),
    Sample("cni-not-initialized", "Warning  NetworkNotReady  2m  kubelet  network is not ready: container runtime "
           "network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: "
           "cni plugin not initialized"),
    Sample("no-master-cni-config", 'failed to create multus config: cannot find valid master CNI config in '
           '"/host/etc/cni/net.d"'),
    Sample("no-master-cni-config", "failed to find the primary CNI plugin: failed to find the cluster master CNI "
           "plugin: could not find a plugin configuration in /host/etc/cni/net.d"),
    Sample("interface-exists", f"{POD}:macvlan-conf]: error adding container to network \"macvlan-conf\": "
           "DelegateAdd: cannot set \"macvlan\" interface name to \"net1\": validateIfName: interface name net1 "
           "already exists"),
    Sample("only-primary-network", "2026-12-01T22:40:01Z [verbose] ConfigWatcher done\n2026-12-01T22:40:01Z "
           "[verbose] Delete old config @ /host/etc/cni/net.d/00-multus.conf"),
    Sample("only-primary-network", 'kubectl exec web -- ip addr show net1\nDevice "net1" does not exist.'),
    Sample("multus-nested", '{"cniVersion": "1.0.0", "name": "multus-cni-network", "plugins": [{"type": "multus", '
           '"kubeconfig": "/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig", "delegates": [{'
           '"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "kubeconfig": "/var/lib/'
           'rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig", "delegates": [{"cniVersion": "1.0.0"}]}]}]}'),
    Sample("multus-nested", "failed to create the configuration manager for the primary CNI plugin: cannot specify "
           "/host/etc/cni/net.d/00-multus.conf to prevent recursive config load"),
    Sample("cluster-network-not-found", f"{POD}]: failed to get clusterNetwork/defaultNetworks: GetDefaultNetworks: "
           "failed to get clusterNetwork cbr0 in namespace kube-system"),
    Sample("ipam-storage-not-configured", f'{POD}:whereabouts-conf]: error adding container to network '
           '"whereabouts-conf": error at storage engine: you have not configured the storage engine (looks like '
           "you're using an invalid `kubernetes.kubeconfig` parameter in your config)"),
    # cmd/thin_entrypoint and cmd/multus-daemon at start-up
    Sample("entrypoint-dir-missing", "cni-conf-dir is not found: stat /host/etc/cni/net.d: no such file or directory"),
    Sample("daemon-start-failed", "2026-12-01T22:40:01Z [panic] failed start the multus thick-plugin listener: failed "
           "to prepare the cni-socket for communicating with the shim: failed to create pod info socket directory "
           "/host/run/multus/: mkdir /host/run/multus/: read-only file system"),
    Sample("daemon-start-failed", "2026-12-01T22:40:01Z [error] the CNI version is a mandatory parameter when the "
           "'-multus-config-file=auto' option is used"),
    Sample("log-level-invalid", 'failed to create multus config: Log levels should be one of: debug/verbose/error/'
           'panic, did not understand: "info"'),
    Sample("pod-uid-mismatch", f'{POD}]: expected pod UID "{UID}" but got "0a1b2c3d-0000-4000-8000-000000000000" '
           "from Kube API"),
    # containernetworking/plugins host-local (Debian's 1.x, as run here): ADD with every address taken; DEL of
    # multus v4.3.0's lossy cached conflist (the real thin plugin's text, tests/test_peers_lossy_del.py)
    Sample("ipam-range-exhausted", f'{POD}:cbr0]: error adding container to network "cbr0": failed to allocate '
           "for range 0: no IP addresses available in range set: 10.42.0.1-10.42.0.254"),
    Sample("ipam-del-config-lost", 'DelegateDel: error invoking ConflistDel - "lossy": conflistDel: error in '
           'getting result from DelNetworkList: plugin type="bridge" failed (delete): no IP ranges specified'),
    Sample("ipam-del-config-lost", "CmdDel (shim): CNI request failed with status 400: '... plugin type=\"ptp\" "
           "failed (delete): no IP ranges specified'"),
    Sample("master-interface-missing", f'{POD}:macvlan-conf]: error adding container to network "macvlan-conf": '
           'failed to lookup master "eth1": Link not found'),
    # The real plugin (tests/test_peers_faults.py), a NAD whose spec.config is not JSON
    Sample("nad-config-invalid", f"{POD}]: error loading k8s delegates k8s args: TryLoadPodDelegates: error in "
           "getting k8s network for pod: GetNetworkDelegates: failed getting the delegate: GetCNIConfig: err in "
           "getCNIConfigFromSpec: failed to unmarshal Spec.Config: unexpected end of JSON input"),
    # client-go clientcmd, a current-context naming no context
    Sample("kubeconfig-invalid", 'GetK8sClient: failed to get context for the kubeconfig /etc/cni/net.d/multus.d/'
           'multus.kubeconfig: context was not found for specified context: "multus"'),
)

NEGATIVES: tuple[str, ...] = (
    "Successfully assigned default/web to node1",
    "Normal  Scheduled  3m  default-scheduler  Successfully assigned default/web-7d9f8b6c5-x2x9z to node1",
    "Normal  AddedInterface  3m  multus  Add eth0 [10.42.0.5/24] from cbr0",
    "Normal  AddedInterface  3m  multus  Add net1 [192.168.1.200/24] from default/macvlan-conf",
    "Normal  Pulled  3m  kubelet  Container image \"nginx:1.27\" already present on machine",
    "Normal  Started  3m  kubelet  Started container web",
    "2026-12-01T22:40:01+00:00 [verbose] multus-daemon started\n2026-12-01T22:40:01+00:00 [verbose] Readiness "
    "Indicator file check\n2026-12-01T22:40:01+00:00 [verbose] Readiness Indicator file check done!",
    '2026-12-01T22:40:01Z [verbose] Generated MultusCNI config: {"cniVersion":"1.0.0","clusterNetwork":'
    '"/host/etc/cni/net.d/10-flannel.conflist","name":"multus-cni-network","type":"multus-shim"}\n'
    "2026-12-01T22:40:01Z [verbose] API readiness check done!",
    "kubeconfig is created in /host/etc/cni/net.d/multus.d/multus.kubeconfig\nmultus config file is created.\n"
    "Entering watch loop...",
    "2026-12-01T22:40:01Z [verbose] ADD finished CNI request ContainerID:\"abc\" Netns:\"/var/run/netns/cni-1\" "
    "IfName:\"eth0\" Args:\"K8S_POD_NAMESPACE=default;K8S_POD_NAME=web\", result: \"{...}\", err: <nil>",
    '{"cniVersion": "1.0.0", "name": "multus-cni-network", "plugins": [{"type": "multus", "delegates": [{'
    '"cniVersion": "1.0.0", "name": "cbr0", "plugins": [{"type": "flannel"}, {"type": "portmap"}]}]}]}',
    "NAME                        READY   STATUS    RESTARTS   AGE\nkube-multus-ds-4xk2p        1/1     Running   0"
    "          3d",
    "Containers:\n  web:\n    Last State:  Terminated\n      Reason:  OOMKilled\n      Exit Code:  137",
    "Warning  Failed  3m  kubelet  Failed to pull image \"nginx:1.27\": rpc error: code = NotFound",
    ('Warning  FailedCreatePodSandBox  3m  kubelet  Failed to create pod sandbox: rpc error: '
     'code = Unknown desc = failed to setup network for sandbox "9f2c4b1a7e3d": plugin '
     'type="multus" name="multus-cni-network" failed (add): '),
    "",
    "   \n\t  ",
)


# --------------------------------------------------------------- the noise users paste around a message

def kubelet_event(msg: str) -> str:
    return ('Warning  FailedCreatePodSandBox  3m (x12 over 10m)  kubelet  Failed to create pod sandbox: rpc error: '
            'code = Unknown desc = failed to setup network for sandbox "9f2c4b1a7e3d": plugin type="multus-shim" '
            f'name="multus-cni-network" failed (add): {msg}')


def multus_log(msg: str) -> str:
    return ("2026-12-01T22:40:00Z [verbose] ADD starting CNI request ContainerID:\"9f2c4b1a7e3d\"\n"
            f"2026-12-01T22:40:01Z [error] {msg}\n"
            "2026-12-01T22:40:01+00:00 [verbose] ADD finished CNI request ContainerID:\"9f2c4b1a7e3d\", err: <nil>")


def describe_pod(msg: str) -> str:
    """A `kubectl describe pod` excerpt whose event message is wrapped between words and indented."""
    lines = textwrap.wrap(kubelet_event(msg), width=72, break_long_words=False, break_on_hyphens=False)
    body = "\n".join([lines[0], *("                    " + line for line in lines[1:])])
    return ("Name:         web-7d9f8b6c5-x2x9z\nNamespace:    default\nStatus:       Pending\nEvents:\n"
            "  Type     Reason                  Age                From     Message\n"
            "  ----     ------                  ----               ----     -------\n"
            "  Normal   Scheduled               3m                 default-scheduler  Successfully assigned "
            "default/web-7d9f8b6c5-x2x9z to node1\n  " + body + "\n")


def folded(msg: str) -> str:
    """The message cut every 50 characters, inside words too (`fold -w 50`: a space at a cut stays at the end)."""
    return "\n".join(msg[i:i + 50] for i in range(0, len(msg), 50))


def cni_error_escaped(msg: str) -> str:
    """The CNI error object, inside the shim's error, inside a JSON log record: two levels of escaping."""
    inner = json.dumps({"cniVersion": "1.0.0", "code": 999, "msg": msg, "details": ""})
    shim = f"CmdAdd (shim): CNI request failed with status 400: '{inner}'"
    return json.dumps({"level": "error", "ts": "2026-12-01T22:40:01Z", "msg": json.dumps(shim)})


NOISES: dict[str, Callable[[str], str]] = {
    "kubelet-event": kubelet_event, "multus-log": multus_log, "describe-pod": describe_pod, "folded": folded,
    "cni-json-escaped": cni_error_escaped,
}


def ids(text: str) -> list[str]:
    return [m.id for m in explain(text)]


# --------------------------------------------------------------- the catalog

def test_the_catalog_loads_and_every_check_id_exists() -> None:
    entries = load()
    assert len(entries) >= 26
    assert ecat.check_ids_problems() == []
    for e in entries.values():
        assert ecat.ID.match(e.id) and e.severity in ecat.SEVERITIES
        assert e.title.strip() and not e.title.endswith(".") and "\n" not in e.title
        assert e.causes and all(c.text.strip() and c.fix.strip() for c in e.causes)
        assert all(r.startswith("https://") and " " not in r for r in e.references)
        assert len(e.compiled) == len(e.patterns) == len(e.needles)


REQUIRED = (
    "unauthorized", "x509-unknown-authority", "kubeconfig-not-found", "kubeconfig-empty-server", "rbac-forbidden",
    "plugin-not-found", "nad-not-found", "namespace-isolation", "annotation-invalid", "readiness-indicator-timeout",
    "daemon-socket-refused", "in-cluster-config-missing", "api-unreachable", "cni-version-mismatch",
    "multus-conf-empty", "no-master-cni-config", "interface-exists", "sa-ca-missing", "only-primary-network",
    "multus-nested", "api-connect-refused", "x509-name-mismatch", "api-tls-handshake-timeout", "api-dns-failed",
    "token-expired-or-missing-file", "api-slow", "api-throttled",
)


def test_the_ids_other_code_links_to_exist() -> None:
    assert set(REQUIRED) <= set(load())


def test_every_fact_of_section_7_has_an_entry() -> None:
    facts = (REPO / "docs" / "FACTS.md").read_text(encoding="utf-8")
    section = facts.split("## 7.", 1)[1].split("\n## ", 1)[0]
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", section, re.M)]
    assert numbers == list(range(1, 21))
    covered = {int(m.group(1)) for e in load().values() for f in e.facts
               for m in [re.fullmatch(r"FACTS\.md §7 #(\d+)", f)] if m}
    assert covered >= set(numbers), sorted(set(numbers) - covered)


@pytest.mark.parametrize("pattern", [p for e in load().values() for p in e.patterns])
def test_patterns_have_only_bounded_repeats(pattern: str) -> None:
    """No `*`, `+` or `{n,}`: every repeat is bounded, so no pattern can backtrack without bound."""
    unescaped = re.sub(r"\\.", "", re.sub(r"\[(?:\\.|[^\]\\])*\]", "", pattern))
    assert not re.search(r"[*+]|\{\d*,\}", unescaped), pattern


@pytest.mark.parametrize(("bad", "why"), [
    ("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = ['x']\n", "lacks 'causes'"),
    ("[a-b]\ntitle = 't'\nseverity = 'info'\npatterns = ['x']\ncauses = [{text='t', check='', fix='f'}]\n",
     "severity must be"),
    ("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = ['(x']\ncauses = [{text='t', check='', fix='f'}]\n",
     "does not compile"),
    ("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = ['{nope}']\ncauses = [{text='t', check='', fix='f'}]\n",
     "unknown macro"),
    ("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = []\ncauses = [{text='t', check='', fix='f'}]\n",
     "must not be empty"),
    ("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = ['x']\ncauses = [{text='t', fix='f'}]\n", "lacks check"),
    ("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = ['x']\ncauses = [{text='t', check='', fix='f', x=1}]\n",
     "unknown key"),
    ("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = ['x']\ncauses = []\n", "causes must be"),
    ("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = ['x']\ncauses = [{text='t', check='', fix='f'}]\nhint=1\n",
     "unknown key"),
    ("[A_B]\ntitle = 't'\nseverity = 'error'\npatterns = ['x']\ncauses = [{text='t', check='', fix='f'}]\n",
     "kebab case"),
    ("[a-b\n", "explain.toml"),
])
def test_a_malformed_catalog_is_one_line_error(bad: str, why: str) -> None:
    with pytest.raises(CatalogError) as err:
        ecat.parse(bad)
    assert why in str(err.value) and "\n" not in str(err.value)


def test_a_cause_naming_an_unknown_check_is_reported() -> None:
    entries = ecat.parse("[a-b]\ntitle = 't'\nseverity = 'error'\npatterns = ['x']\n"
                         "causes = [{text='t', check='no-such-check', fix='f'}, {text='t', check='rbac-missing', "
                         "fix='f'}]\n")
    assert ecat.check_ids_problems(entries) == ["a-b: no-such-check"]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("failed to find plugin {q}[\\w.-]{1,64}{q} in path", "failed to find plugin"),
    ("dial unix {path}multus\\.sock: connect: (?:a|b)", "multus.sock: connect:"),
    ("a|b", ""),
    ("interface name {q}?[\\w.-]{1,15}{q}? already exists", "interface name"),
    ("x509: certificate has expired(?:: y)?", "x509: certificate has expired"),
    ("waited for [\\d.]{1,12}m?s due to", "waited for"),
    ("cannot find a network-attachment-definition \\({name}\\)", "cannot find a network-attachment-definition ("),
])
def test_needle(pattern: str, expected: str) -> None:
    assert ecat.needle(pattern) == expected


# --------------------------------------------------------------- matching

@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_the_sample_matches_its_entry(sample: Sample) -> None:
    found = ids(sample.text)
    assert sample.id in found, found
    if sample.first:
        assert found[0] == sample.id, found


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_the_sample_matches_under_noise(sample: Sample, noise: str) -> None:
    found = ids(NOISES[noise](sample.text))
    assert sample.id in found, found


def test_every_entry_has_a_sample() -> None:
    assert {s.id for s in SAMPLES} == set(load())


@pytest.mark.parametrize("text", NEGATIVES)
def test_healthy_text_matches_nothing(text: str) -> None:
    assert explain(text) == []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_needles_never_hide_a_match(sample: Sample) -> None:
    """The prefilter is sound on every sample: where a pattern matches, its needle is in the text."""
    for text in variants(NOISES["cni-json-escaped"](sample.text)) + variants(sample.text):
        for e in load().values():
            for pattern, needle in zip(e.compiled, e.needles, strict=True):
                if pattern.search(text):
                    assert needle in text.lower(), (e.id, pattern.pattern)


def test_the_match_shape() -> None:
    [m, *_] = explain(SAMPLES[0].text)
    assert isinstance(m, Match) and m.id == "unauthorized" and m.severity == "error"
    assert all(isinstance(c, Cause) for c in m.causes) and m.causes[0].check == "kubeconfig-token-expired"
    assert "error waiting for pod: Unauthorized" in m.excerpt and "\n" not in m.excerpt
    assert m.references[0] == "https://github.com/k8snetworkplumbingwg/multus-cni/issues/852"


def test_the_more_specific_entry_comes_first() -> None:
    text = ('Get "https://10.43.0.1:443/api/v1/pods": client rate limiter Wait returned an error: context deadline '
            "exceeded")
    assert ids(text)[:2] == ["api-throttled", "api-unreachable"]
    forbidden = ("cannot find a network-attachment-definition (macvlan-conf) in namespace (default): "
                 'network-attachment-definitions.k8s.cni.cncf.io "macvlan-conf" is forbidden: User '
                 f'"{SA}" cannot get resource "network-attachment-definitions" in API group "k8s.cni.cncf.io" in the '
                 'namespace "default"')
    assert ids(forbidden)[:2] == ["rbac-forbidden", "nad-not-found"]
    dns = ("dial tcp: lookup kubernetes.default.svc on 10.43.0.10:53: read udp 10.42.0.5:40222->10.43.0.10:53: "
           "i/o timeout")
    assert ids(dns)[0] == "api-dns-failed"


def test_a_log_with_two_failures_names_both() -> None:
    log = (multus_log("have you checked that your default network is ready? still waiting for readinessindicatorfile "
                      "@ /run/flannel/subnet.env. pollimmediate error: timed out waiting for the condition") + "\n"
           + multus_log(f"{POD}]: error waiting for pod: Unauthorized"))
    assert set(ids(log)) == {"readiness-indicator-timeout", "unauthorized"}


def test_escaped_quotes_at_every_depth() -> None:
    msg = 'failed to find plugin "macvlan" in path [/opt/cni/bin]'
    once = json.dumps(msg)
    twice = json.dumps(once)
    thrice = json.dumps(twice)
    for text in (once, twice, thrice, msg.replace('"', '\\\\\\"')):
        [m, *_] = explain(text)
        assert m.id == "plugin-not-found"
        assert 'failed to find plugin "macvlan"' in m.excerpt, m.excerpt


def test_the_cni_error_object_is_unwrapped_in_the_excerpt() -> None:
    text = json.dumps({"code": 999, "msg": f"{POD}]: error waiting for pod: Unauthorized"})
    [m] = explain(text)
    assert '"code"' not in m.excerpt and m.excerpt.endswith("Unauthorized\"}")


def test_the_excerpt_never_shows_a_token() -> None:
    text = (f"{POD}]: error waiting for pod: Unauthorized (Authorization: Bearer xyz; token={JWT}; "
            f'"token": "{JWT[:40]}")')
    for m in explain(text):
        assert "xyz" not in m.excerpt and JWT[:20] not in m.excerpt, m.excerpt
        assert "<redacted" in m.excerpt


def test_the_excerpt_is_escaped_and_bounded() -> None:
    text = "\x1b]0;pwned\x07\x1b[31m" + "x" * 5000 + " failed to find plugin \"mac\x00vlan\" " + "y " * 5000
    [m] = explain(text)
    assert "\x1b" not in m.excerpt and "\x00" not in m.excerpt and len(m.excerpt) < 600


def test_input_beyond_the_cap_is_ignored() -> None:
    text = "a" * MAX_INPUT + " error waiting for pod: Unauthorized"
    assert explain(text) == []
    assert ids(text[-MAX_INPUT:]) == ["unauthorized"]


# --------------------------------------------------------------- docs

def test_checks_md_explain_table_is_generated() -> None:
    text = (REPO / "docs" / "CHECKS.md").read_text(encoding="utf-8")
    assert update(text) == text, "regenerate: python -m multusctl.explain --write-markdown"


def test_readme_shows_explain() -> None:
    assert "multusctl explain" in (REPO / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------- the verb, end to end

def run(*args: str, stdin: str | bytes | None = None) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    out = subprocess.run([sys.executable, "-m", "multusctl", "explain", *args], input=data, capture_output=True,
                         timeout=60, env={**os.environ, "NO_COLOR": "1"})
    res = subprocess.CompletedProcess(out.args, out.returncode, out.stdout.decode("utf-8", "replace"),
                                      out.stderr.decode("utf-8", "replace"))
    assert "Traceback" not in res.stdout + res.stderr, res.stderr
    return res


def test_cli_exit_0_with_causes_and_confirming_commands() -> None:
    out = run(kubelet_event(f"{POD}]: error waiting for pod: Unauthorized"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("unauthorized (error): ")
    assert "confirm with: multusctl check   (finding kubeconfig-token-expired)" in out.stdout
    assert "confirm with: multusctl doctor   (finding api-auth-rejected)" in out.stdout
    assert "fix: " in out.stdout and out.stdout.index("1. ") < out.stdout.index("2. ")


def test_cli_several_words_are_one_text() -> None:
    out = run("error", "waiting", "for", "pod:", "Unauthorized")
    assert out.returncode == 0 and out.stdout.startswith("unauthorized")


def test_cli_exit_1_when_nothing_matches() -> None:
    out = run("Successfully assigned default/web to node1")
    assert out.returncode == 1
    assert "No known Multus failure matches this text" in out.stdout
    assert "multusctl check" in out.stdout and "multusctl doctor" in out.stdout and "kubelet event" in out.stdout


@pytest.mark.parametrize(("args", "stdin"), [((), None), (("",), None), (("-",), ""), (("-",), " \n\t\n")])
def test_cli_exit_2_without_text(args: tuple[str, ...], stdin: str | None) -> None:
    out = run(*args, stdin=stdin)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "error" in out.stderr


def test_cli_exit_2_on_a_bad_option() -> None:
    assert run("-o", "yaml", "x").returncode == 2


def test_cli_reads_stdin() -> None:
    out = run("-", stdin=describe_pod('failed to find plugin "macvlan" in path [/opt/cni/bin]'))
    assert out.returncode == 0 and out.stdout.startswith("plugin-not-found")


def test_cli_reads_binary_stdin_without_failing() -> None:
    out = run("-", stdin=b"\xff\xfe\x00 error waiting for pod: Unauthorized \x89PNG")
    assert out.returncode == 0 and "\x00" not in out.stdout


def test_cli_json_document() -> None:
    out = run("-o", "json", 'dial tcp 10.43.0.1:443: i/o timeout')
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc["schema"] == "multusctl.explain/v1" and doc["truncated"] is False
    assert set(doc) == {"schema", "tool", "truncated", "matches"}
    [m] = doc["matches"]
    assert set(m) == {"id", "title", "severity", "excerpt", "causes", "references"}
    assert m["id"] == "api-unreachable"
    assert m["causes"][0] == {"text": m["causes"][0]["text"], "check": "api-connect-timeout",
                              "confirm_with": "multusctl doctor", "fix": m["causes"][0]["fix"]}


def test_cli_json_without_a_match() -> None:
    out = run("-o", "json", "all good")
    assert out.returncode == 1 and json.loads(out.stdout)["matches"] == []


def test_cli_never_echoes_secrets() -> None:
    text = (f"{POD}]: error waiting for pod: Unauthorized\nAuthorization: Bearer xyz\n"
            f"token: {JWT}\nx509: certificate signed by unknown authority {JWT}")
    for args in (("-",), ("-o", "json", "-")):
        out = run(*args, stdin=text)
        assert out.returncode == 0
        both = out.stdout + out.stderr
        assert "xyz" not in both and JWT[:24] not in both and JWT[-24:] not in both


def test_cli_notes_truncated_input() -> None:
    out = run("-o", "json", "-", stdin="x" * (MAX_INPUT + 10) + " error waiting for pod: Unauthorized")
    assert out.returncode == 1
    assert json.loads(out.stdout)["truncated"] is True
    assert "1 MiB" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_cli_list() -> None:
    out = run("--list")
    assert out.returncode == 0
    for eid in load():
        assert re.search(rf"^{re.escape(eid)} ", out.stdout, re.M), eid
    doc = json.loads(run("--list", "-o", "json").stdout)
    assert [e["id"] for e in doc] == list(load())


def test_cli_help_and_group_help_name_explain() -> None:
    assert "explain" in subprocess.run([sys.executable, "-m", "multusctl", "--help"], capture_output=True,
                                       text=True, timeout=60).stdout
    out = run("--help")
    assert out.returncode == 0 and "--list" in out.stdout and "Exit status" in out.stdout


def test_every_confirming_check_maps_to_a_verb() -> None:
    from multusctl.cli.explain import confirm_with

    for e in load().values():
        for c in e.causes:
            if c.check:
                entry = checks.get(c.check)
                assert entry is not None
                expected = "multusctl doctor" if entry.area in ("cluster", "nad") else "multusctl check"
                assert (confirm_with(c.check) or "").startswith(expected), c.check
