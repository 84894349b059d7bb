"""The test cluster at the HTTP level: discovery, CRUD semantics, watch, subresources, faults, protobuf."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from multusctl.testing import TestCluster, UserInfo

from .conftest import DATA, Http, admin_http

NS_PATH = "/api/v1/namespaces"


def cm(name: str, ns: str = "default", **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "data": {"k": "v"}}


def test_version_health_and_anonymous_access(anon_http: Http) -> None:
    code, body = anon_http.request("GET", "/version")
    assert code == 200 and body["gitVersion"].startswith("v1.") and body["major"] == "1"
    for path in ("/healthz", "/readyz", "/livez"):
        assert anon_http.request("GET", path) == (200, "ok")
    code, body = anon_http.request("GET", "/api/v1/pods")
    assert code == 403 and body["kind"] == "Status" and body["reason"] == "Forbidden"
    assert body["message"] == ('pods is forbidden: User "system:anonymous" cannot list resource "pods" in API '
                               'group "" at the cluster scope')


def test_discovery(http: Http) -> None:
    code, api = http.request("GET", "/api")
    assert code == 200 and api["versions"] == ["v1"]
    code, groups = http.request("GET", "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
    assert code == 200 and groups["kind"] == "APIGroupList"
    names = [g["name"] for g in groups["groups"]]
    assert {"apps", "rbac.authorization.k8s.io", "apiextensions.k8s.io", "authorization.k8s.io",
            "authentication.k8s.io", "events.k8s.io"} <= set(names)
    code, core = http.request("GET", "/api/v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["namespaced"]
    assert by_name["serviceaccounts/token"]["kind"] == "TokenRequest"
    assert by_name["pods/log"]["verbs"] == ["get"]
    assert not by_name["nodes"]["namespaced"]
    code, apps = http.request("GET", "/apis/apps/v1")
    assert code == 200 and "daemonsets" in {r["name"] for r in apps["resources"]}
    assert http.request("GET", "/apis/nope/v1")[0] == 404


def test_crud_status_bodies_and_metadata(http: Http) -> None:
    path = f"{NS_PATH}/default/configmaps"
    code, created = http.request("POST", path, cm("a"))
    assert code == 201
    meta = created["metadata"]
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"]
    assert "generation" not in meta  # core objects have none
    code, body = http.request("POST", path, cm("a"))
    assert code == 409 and body["reason"] == "AlreadyExists"
    assert body["message"] == 'configmaps "a" already exists'
    code, body = http.request("GET", f"{path}/missing")
    assert code == 404 and body["reason"] == "NotFound" and body["details"] == {"name": "missing",
                                                                                 "kind": "configmaps"}
    stale = dict(created, data={"k": "new"})
    assert http.request("PUT", f"{path}/a", stale)[0] == 200
    code, body = http.request("PUT", f"{path}/a", stale)  # same (now old) resourceVersion
    assert code == 409 and body["reason"] == "Conflict" and "the object has been modified" in body["message"]
    code, body = http.request("POST", f"{NS_PATH}/nowhere/configmaps", cm("a", "nowhere"))
    assert code == 404 and body["message"] == 'namespaces "nowhere" not found'
    code, _ = http.request("DELETE", f"{path}/a")
    assert code == 200 and http.request("GET", f"{path}/a")[0] == 404


def test_generation_counts_spec_changes(cluster: TestCluster, http: Http) -> None:
    cluster.seed_yaml(DATA / "multus-daemonset-thick.yml")
    path = "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-multus-ds"
    code, ds = http.request("GET", path)
    assert ds["metadata"]["generation"] == 1
    assert ds["spec"]["updateStrategy"]["type"] == "RollingUpdate"  # defaulted
    code, ds = http.request("PATCH", path, {"metadata": {"labels": {"x": "y"}}},
                            "application/merge-patch+json")
    assert code == 200 and ds["metadata"]["generation"] == 1
    code, ds = http.request("PATCH", path, {"spec": {"template": {"spec": {"hostPID": False}}}},
                            "application/merge-patch+json")
    assert ds["metadata"]["generation"] == 2


def test_list_selectors_kind_and_all_namespaces(cluster: TestCluster, http: Http) -> None:
    cluster.seed([cm("a", app="x"), cm("b", app="y"), cm("c", "kube-system", app="x")])
    code, body = http.request("GET", "/api/v1/configmaps?labelSelector=app%3Dx")
    assert code == 200 and body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1"
    assert sorted(i["metadata"]["name"] for i in body["items"]) == ["a", "c"]
    assert int(body["metadata"]["resourceVersion"]) > 0
    _, body = http.request("GET", "/api/v1/configmaps?labelSelector=app+in+(x,y),app!%3Dy")
    assert sorted(i["metadata"]["name"] for i in body["items"]) == ["a", "c"]
    _, body = http.request("GET", "/api/v1/configmaps?fieldSelector=metadata.namespace%3Dkube-system,"
                                  "metadata.name!%3Dkube-root-ca.crt")
    assert [i["metadata"]["name"] for i in body["items"]] == ["c"]
    cluster.seed_yaml(DATA / "multus-pods.yml")
    _, body = http.request("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1")
    assert [i["metadata"]["name"] for i in body["items"]] == ["kube-multus-ds-x7k2p"]
    _, body = http.request("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-2")
    assert body["items"] == []


def test_every_namespace_gets_defaults_and_deletion_cascades(http: Http) -> None:
    assert http.request("POST", NS_PATH, {"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": "team"}})[0] == 201
    code, root = http.request("GET", f"{NS_PATH}/team/configmaps/kube-root-ca.crt")
    assert code == 200 and "BEGIN CERTIFICATE" in root["data"]["ca.crt"]
    assert http.request("GET", f"{NS_PATH}/team/serviceaccounts/default")[0] == 200
    assert http.request("DELETE", f"{NS_PATH}/team")[0] == 200
    assert http.request("GET", f"{NS_PATH}/team/configmaps/kube-root-ca.crt")[0] == 404


def test_kubernetes_service_and_endpoints(cluster: TestCluster, http: Http) -> None:
    _, svc = http.request("GET", f"{NS_PATH}/default/services/kubernetes")
    assert svc["spec"]["clusterIP"] == "10.43.0.1"
    _, ep = http.request("GET", f"{NS_PATH}/default/endpoints/kubernetes")
    assert ep["subsets"][0]["ports"][0]["port"] == int(cluster.url.rsplit(":", 1)[1])


def test_token_request_subresource(cluster: TestCluster, http: Http, anon_http: Http) -> None:
    path = f"{NS_PATH}/default/serviceaccounts/default/token"
    code, tr = http.request("POST", path, {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                           "spec": {"expirationSeconds": 1200}})
    assert code == 201 and tr["kind"] == "TokenRequest" and tr["spec"]["expirationSeconds"] == 1200
    assert tr["status"]["expirationTimestamp"].endswith("Z")
    code, body = http.request("POST", path, {"spec": {"expirationSeconds": 599}})
    assert code == 422 and body["reason"] == "Invalid"
    assert body["message"] == ('TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: '
                               'Invalid value: 599: may not specify a duration less than 10 minutes')
    code, body = http.request("POST", f"{NS_PATH}/default/serviceaccounts/nobody/token", {"spec": {}})
    assert code == 404 and body["message"] == 'serviceaccounts "nobody" not found'
    # The token works, and TokenReview says who it is.
    token_http = Http(cluster.url, anon_http.ctx, tr["status"]["token"])
    code, review = http.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": tr["status"]["token"]}})
    assert code == 201 and review["status"]["authenticated"]
    assert review["status"]["user"]["username"] == "system:serviceaccount:default:default"
    code, ssr = token_http.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert code == 201 and ssr["status"]["userInfo"]["username"] == "system:serviceaccount:default:default"


def test_token_controller_fills_service_account_secrets(cluster: TestCluster, http: Http,
                                                       anon_http: Http) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                   "metadata": {"name": "multus-token", "namespace": "default",
                                "annotations": {"kubernetes.io/service-account.name": "multus"}}}])
    _, secret = http.request("GET", f"{NS_PATH}/default/secrets/multus-token")
    assert "data" not in secret  # waits for its ServiceAccount, like the real controller
    cluster.seed([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "multus",
                                                                             "namespace": "default"}}])
    _, secret = http.request("GET", f"{NS_PATH}/default/secrets/multus-token")
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["namespace"] == "default" and data["ca.crt"] == cluster.ca_pem.decode()
    token_http = Http(cluster.url, anon_http.ctx, data["token"])
    assert token_http.request("GET", "/api")[0] == 200
    # Deleting the Secret revokes its token.
    http.request("DELETE", f"{NS_PATH}/default/secrets/multus-token")
    assert token_http.request("GET", "/api")[0] == 401


def test_static_tokens_and_401_body(tmp_path: Path) -> None:
    users = {"s3cret": UserInfo(username="ops", groups=["system:masters"])}
    with TestCluster(static_tokens=users) as c:
        ctx = ssl.create_default_context(cadata=c.ca_pem.decode())
        assert Http(c.url, ctx, "s3cret").request("GET", "/api/v1/nodes")[0] == 200
        code, body = Http(c.url, ctx, "wrong").request("GET", "/api/v1/nodes")
    assert code == 401 and body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                     "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_crd_serves_its_resources(http: Http) -> None:
    crd = next(d for d in yaml.safe_load_all((DATA / "multus-daemonset-thick.yml").read_text())
               if d and d["kind"] == "CustomResourceDefinition")
    assert http.request("GET", "/apis/k8s.cni.cncf.io/v1")[0] == 404
    assert http.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
    _, stored = http.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                                    f"{crd['metadata']['name']}")
    assert {c["type"]: c["status"] for c in stored["status"]["conditions"]} == {"NamesAccepted": "True",
                                                                                "Established": "True"}
    _, res = http.request("GET", "/apis/k8s.cni.cncf.io/v1")
    nad = res["resources"][0]
    assert (nad["name"], nad["singularName"], nad["shortNames"]) == (
        "network-attachment-definitions", "network-attachment-definition", ["nad", "net-attach-def"])
    path = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
    obj = yaml.safe_load((DATA / "nad-macvlan.yml").read_text())
    code, created = http.request("POST", path, obj)
    assert code == 201 and created["metadata"]["generation"] == 1
    code, body = http.request("PATCH", f"{path}/macvlan-conf", {"spec": {"config": "{}"}},
                              "application/strategic-merge-patch+json")
    assert code == 415  # as for any custom resource
    bad = dict(crd, metadata={"name": "wrong"})
    code, body = http.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", bad)
    assert code == 422 and body["reason"] == "Invalid"
    http.request("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}")
    assert http.request("GET", path)[0] == 404


def test_daemonset_status_from_nodes_and_pods(cluster: TestCluster, http: Http) -> None:
    cluster.seed_yaml(DATA / "multus-daemonset-thick.yml")
    path = "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-multus-ds"
    _, ds = http.request("GET", path)
    assert ds["status"]["desiredNumberScheduled"] == 0
    cluster.seed_yaml(DATA / "multus-pods.yml")
    cluster.seed([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-2"}}])
    _, ds = http.request("GET", path)
    st = ds["status"]
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberReady"],
            st["numberUnavailable"]) == (2, 1, 1, 1)
    assert st["observedGeneration"] == ds["metadata"]["generation"]


def test_pod_log_and_status_subresources(cluster: TestCluster, http: Http) -> None:
    cluster.seed_yaml(DATA / "multus-pods.yml")
    base = f"{NS_PATH}/kube-system/pods/kube-multus-ds-x7k2p"
    code, text = http.request("GET", f"{base}/log?tailLines=1")
    assert code == 200 and text.startswith("2024-05-01T10:00:01Z [error]")
    code, pod = http.request("PATCH", f"{base}/status", {"status": {"phase": "Failed"}, "spec": {"nodeName": "x"}},
                             "application/merge-patch+json")
    assert code == 200 and pod["status"]["phase"] == "Failed" and pod["spec"]["nodeName"] == "node-1"
    code, pod = http.request("PATCH", base, {"status": {"phase": "Running"}}, "application/merge-patch+json")
    assert pod["status"]["phase"] == "Failed"  # the main resource ignores status changes


def test_watch_streams_from_resource_version(cluster: TestCluster, http: Http) -> None:
    _, listed = http.request("GET", f"{NS_PATH}/default/configmaps")
    rv = listed["metadata"]["resourceVersion"]
    cluster.seed([cm("w1")])
    cluster.store.delete("", "configmaps", "default", "w1")
    cluster.seed([cm("other", "kube-system")])
    code, text = http.request("GET", f"{NS_PATH}/default/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=1")
    assert code == 200
    events = [json.loads(line) for line in text.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w1"), ("DELETED", "w1")]
    assert events[0]["object"]["kind"] == "ConfigMap"
    # sendInitialEvents: current state first, then a bookmark marking its end.
    code, text = http.request("GET", f"{NS_PATH}/default/configmaps?watch=true&sendInitialEvents=true"
                                     "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1")
    events = [json.loads(line) for line in text.splitlines()]
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_a_server_without_watch_list_refuses_send_initial_events_as_v1_33_does(tmp_path: Path) -> None:
    """422 before the stream starts, with the apiserver's Status; a plain watch is served as before (the real
    thick daemon's fallback to LIST and WATCH on this answer: tests/test_thick_rbac_peers.py)."""
    with TestCluster(watch_list=False) as cluster:
        http = admin_http(cluster, tmp_path)
        code, status = http.request("GET", f"{NS_PATH}/default/configmaps?watch=true&sendInitialEvents=true"
                                           "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")
        assert code == 422 and status["reason"] == "Invalid", status
        assert status["message"] == ('ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: '
                                     "sendInitialEvents is forbidden for watch unless the WatchList feature gate "
                                     "is enabled")
        assert status["details"]["causes"][0]["field"] == "sendInitialEvents"
        code, _ = http.request("GET", f"{NS_PATH}/default/configmaps?watch=true&timeoutSeconds=1")
        assert code == 200


def test_patch_flavours(cluster: TestCluster, http: Http) -> None:
    cluster.seed([cm("p")])
    path = f"{NS_PATH}/default/configmaps/p"
    _, obj = http.request("PATCH", path, [{"op": "add", "path": "/data/j", "value": "1"}],
                          "application/json-patch+json")
    assert obj["data"] == {"k": "v", "j": "1"}
    _, obj = http.request("PATCH", path, {"data": {"k": None}}, "application/merge-patch+json")
    assert obj["data"] == {"j": "1"}
    code, body = http.request("PATCH", path + "?fieldManager=me", b"data:\n  z: '2'\n", "application/apply-patch+yaml")
    assert code == 400 or code == 422  # apply needs apiVersion/kind/name
    applied = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p\ndata:\n  z: '2'\n"
    code, body = http.request("PATCH", path, applied, "application/apply-patch+yaml")
    assert code == 422 and "fieldManager" in body["message"]
    code, obj = http.request("PATCH", path + "?fieldManager=me", applied, "application/apply-patch+yaml")
    assert code == 200 and obj["data"] == {"j": "1", "z": "2"}
    assert [m["manager"] for m in obj["metadata"]["managedFields"] if m["operation"] == "Apply"] == ["me"]
    code, obj = http.request("PATCH", f"{NS_PATH}/default/configmaps/fresh?fieldManager=me",
                             applied.replace(b"name: p", b"name: fresh"), "application/apply-patch+yaml")
    assert code == 201 and obj["metadata"]["name"] == "fresh"


def test_self_subject_reviews_follow_rbac(cluster: TestCluster, anon_http: Http) -> None:
    cluster.seed_yaml(DATA / "multus-daemonset-thick.yml")
    token = cluster.create_token("kube-system", "multus")
    sa = Http(cluster.url, anon_http.ctx, token)

    def ssar(**attrs: str) -> bool:
        code, body = sa.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs}})
        assert code == 201, body
        return body["status"]["allowed"]

    assert ssar(verb="update", resource="pods", subresource="status")
    assert not ssar(verb="create", resource="pods", subresource="status")
    assert ssar(verb="patch", group="events.k8s.io", resource="events", namespace="x")
    assert not ssar(verb="list", resource="secrets")
    code, rules = sa.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": "default"}})
    assert code == 201 and any("pods/status" in r.get("resources", []) for r in rules["status"]["resourceRules"])


def _pb_field(num: int, payload: bytes) -> bytes:
    return bytes([(num << 3) | 2, len(payload)]) + payload


def test_protobuf_review_bodies_are_decoded(cluster: TestCluster, http: Http) -> None:
    attrs = _pb_field(2, b"list") + _pb_field(5, b"pods") + _pb_field(1, b"default")
    raw = _pb_field(2, _pb_field(1, attrs))
    type_meta = _pb_field(1, b"authorization.k8s.io/v1") + _pb_field(2, b"SelfSubjectAccessReview")
    body = b"k8s\x00" + _pb_field(1, type_meta) + _pb_field(2, raw)
    code, review = http.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body,
                                "application/vnd.kubernetes.protobuf")
    assert code == 201 and review["status"]["allowed"] is True
    assert review["spec"]["resourceAttributes"] == {"verb": "list", "resource": "pods", "namespace": "default"}
    # map<string,string> entries are messages of key (1) and value (2).
    meta = _pb_field(1, b"pb") + _pb_field(11, _pb_field(1, b"app") + _pb_field(2, b"x"))
    raw = _pb_field(1, meta) + _pb_field(2, _pb_field(1, b"k") + _pb_field(2, b"v"))
    type_meta = _pb_field(1, b"v1") + _pb_field(2, b"ConfigMap")
    code, obj = http.request("POST", f"{NS_PATH}/default/configmaps",
                             b"k8s\x00" + _pb_field(1, type_meta) + _pb_field(2, raw),
                             "application/vnd.kubernetes.protobuf")
    assert code == 201 and obj["data"] == {"k": "v"} and obj["metadata"]["labels"] == {"app": "x"}
    type_meta = _pb_field(1, b"v1") + _pb_field(2, b"Pod")
    code, body = http.request("POST", f"{NS_PATH}/default/pods", b"k8s\x00" + _pb_field(1, type_meta),
                              "application/vnd.kubernetes.protobuf")
    assert code == 415 and body["reason"] == "UnsupportedMediaType"


def test_faults_delay_burst_and_reset(cluster: TestCluster, http: Http) -> None:
    cluster.faults.burst(429, 2, retry_after=1, path_prefix="/version")
    assert http.request("GET", "/version")[0] == 429
    assert http.request("GET", "/version")[0] == 429
    assert http.request("GET", "/version")[0] == 200
    cluster.faults.burst(500, 1)
    code, body = http.request("GET", "/api")
    assert code == 500 and body["kind"] == "Status" and body["reason"] == "InternalError"
    cluster.faults.latency(0.3, "/healthz", count=1)
    start = time.monotonic()
    assert http.request("GET", "/healthz")[0] == 200
    assert time.monotonic() - start >= 0.3
    cluster.faults.reset(1, "/api")
    with pytest.raises((ConnectionResetError, ssl.SSLError, OSError)):
        http.request("GET", "/api")
    assert http.request("GET", "/api")[0] == 200


def test_silent_client_neither_blocks_others_nor_stop(tmp_path: Path) -> None:
    cluster = TestCluster().start()
    try:
        http = admin_http(cluster, tmp_path)
        host, port = cluster.url.removeprefix("https://").rsplit(":", 1)
        silent = socket.create_connection((host, int(port)), timeout=5)
        # This connection never sends a ClientHello; the next request must still be served.
        assert http.request("GET", "/version")[0] == 200
        start = time.monotonic()
        cluster.stop()
        assert time.monotonic() - start < 2
        silent.settimeout(2)
        assert silent.recv(10) == b""  # stop() cut the pending handshake
        silent.close()
    finally:
        cluster.stop()


def test_cli_serve_writes_kubeconfig_and_ca(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "multusctl.testing", "serve", "--dir", str(tmp_path),
                             "--seed", str(DATA / "multus-pods.yml")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:")
        config = yaml.safe_load((tmp_path / "admin.kubeconfig").read_text())
        assert config["clusters"][0]["cluster"]["server"] == url
        assert (tmp_path / "admin.kubeconfig").stat().st_mode & 0o777 == 0o600
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        user = config["users"][0]["user"]
        (tmp_path / "c.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
        (tmp_path / "c.key").write_bytes(base64.b64decode(user["client-key-data"]))
        ctx.load_cert_chain(tmp_path / "c.crt", tmp_path / "c.key")
        code, pods = Http(url, ctx).request("GET", "/api/v1/namespaces/kube-system/pods")
        assert code == 200 and [p["metadata"]["name"] for p in pods["items"]] == ["kube-multus-ds-x7k2p"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_stop_ends_watches_and_frees_the_port(tmp_path: Path) -> None:
    cluster = TestCluster().start()
    http = admin_http(cluster, tmp_path)
    results: list[object] = []

    def watch() -> None:
        try:
            results.append(http.request("GET", f"{NS_PATH}/default/configmaps?watch=1&resourceVersion=1"))
        except OSError as exc:
            results.append(exc)

    t = threading.Thread(target=watch)
    t.start()
    time.sleep(0.3)
    start = time.monotonic()
    cluster.stop()
    t.join(timeout=5)
    assert not t.is_alive() and time.monotonic() - start < 3
    # The watch ended as a stream does, with its last chunk, not cut mid-stream by the stop.
    assert [r[0] if isinstance(r, tuple) else r for r in results] == [200]
    host, port = http.url.removeprefix("https://").rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2)
    cluster.stop()  # idempotent


def test_watch_ends_when_the_client_hangs_up(cluster: TestCluster, http: Http) -> None:
    host, port = cluster.url.removeprefix("https://").rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=5)
    conn = http.ctx.wrap_socket(raw, server_hostname=host)
    conn.sendall(f"GET {NS_PATH}/default/configmaps?watch=1&resourceVersion=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert conn.recv(1024).startswith(b"HTTP/1.1 200")
    time.sleep(0.2)
    before = threading.active_count()
    conn.close()
    deadline = time.monotonic() + 3
    while threading.active_count() >= before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert threading.active_count() < before


def test_seeding_from_python_and_yaml_text(cluster: TestCluster) -> None:
    stored = cluster.seed_yaml("apiVersion: v1\nkind: ConfigMapList\nitems:\n"
                               "- {apiVersion: v1, kind: ConfigMap, metadata: {name: one, namespace: fresh}}\n")
    assert stored[0]["metadata"]["uid"] and cluster.store.get("", "namespaces", None, "fresh") is not None
    again = cluster.seed([dict(cm("one", "fresh"), data={"k": "2"})])  # seeding replaces
    assert again[0]["data"] == {"k": "2"} and again[0]["metadata"]["uid"] == stored[0]["metadata"]["uid"]
    with pytest.raises(ValueError, match="unknown kind"):
        cluster.seed([{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}])
